package io.genguard.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModerationJobSettingsTest {

  @Test
  void shouldLetProgramArgumentsOverrideTheEnvironment() {
    ModerationJobSettings settings =
        ModerationJobSettings.parse(
            Map.of(
                "GENGUARD_KAFKA_BOOTSTRAP_SERVERS",
                "kafka:9092",
                "GENGUARD_MODERATION_PARALLELISM",
                "2",
                "GENGUARD_MODERATION_SCORER",
                "keyword-baseline"),
            "GENGUARD_MODERATION_PARALLELISM=4",
            "GENGUARD_POLICY_FILE=/etc/genguard/policy.yaml");

    assertThat(settings.job().bootstrapServers()).isEqualTo("kafka:9092");
    assertThat(settings.job().parallelism()).isEqualTo(4);
    assertThat(settings.scorer()).isEqualTo("keyword-baseline");
    assertThat(settings.policyFile()).contains(Path.of("/etc/genguard/policy.yaml"));
  }

  @Test
  void shouldDefaultToTheBuiltInScorerAndPolicy() {
    ModerationJobSettings settings = ModerationJobSettings.parse(Map.of());

    assertThat(settings.scorer()).isEqualTo("default");
    assertThat(settings.policyFile()).isEmpty();
    assertThat(settings.job().consumerGroup()).isEqualTo("genguard-moderation");
  }

  @Test
  void shouldExplainAnArgumentThatIsNotAGenGuardSetting() {
    assertThatThrownBy(() -> ModerationJobSettings.parse(Map.of(), "--parallelism", "4"))
        .hasMessageContaining("Argument '--parallelism' is not KEY=VALUE with a GENGUARD_* key");
  }

  @Test
  void shouldRefuseAMisspeltKeyInAnArgumentOrTheEnvironment() {
    assertThatThrownBy(
            () -> ModerationJobSettings.parse(Map.of(), "GENGUARD_MODERATION_PARALELLISM=4"))
        .hasMessageContaining(
            "GENGUARD_MODERATION_PARALELLISM is not a GenGuard setting"
                + " (did you mean GENGUARD_MODERATION_PARALLELISM?)");
    assertThatThrownBy(
            () -> ModerationJobSettings.parse(Map.of("GENGUARD_POLICY_FIEL", "/etc/p.yaml")))
        .hasMessageContaining("did you mean GENGUARD_POLICY_FILE?");
    assertThat(
            ModerationJobSettings.parse(
                    Map.of(
                        "GENGUARD_POLICY_FIEL", "/etc/p.yaml", "GENGUARD_UNKNOWN_SETTINGS", "warn"))
                .policyFile())
        .isEmpty();
  }

  @Test
  void shouldRefuseTheBenchmarkScorer() {
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    Map.of(), ModerationJobSettings.SCORER + "=trivial-benchmark"))
        .hasMessageContaining("GENGUARD_MODERATION_SCORER is 'trivial-benchmark'")
        .hasMessageContaining("would release everything");
  }
}
