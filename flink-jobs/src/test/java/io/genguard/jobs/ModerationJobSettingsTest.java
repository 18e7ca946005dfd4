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
    assertThat(settings.scorer().name()).isEqualTo("keyword-baseline");
    assertThat(settings.policyFile()).contains(Path.of("/etc/genguard/policy.yaml"));
  }

  @Test
  void shouldDefaultToTheBuiltInScorerAndPolicy() {
    ModerationJobSettings settings = ModerationJobSettings.parse(Map.of());

    assertThat(settings.scorer().name()).isEqualTo("minilm-ensemble");
    assertThat(settings.scorer().modelPath()).isNull();
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

  @Test
  void shouldReadAnImportedClassifiersFolderAndLabels() {
    ModerationJobSettings settings =
        ModerationJobSettings.parse(
            Map.of(
                "GENGUARD_MODERATION_SCORER",
                "onnx-classifier",
                "GENGUARD_MODERATION_CLASSIFIER_DIR",
                "/models/toxic-bert"),
            "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=harassment;neutral=none",
            "GENGUARD_MODERATION_CLASSIFIER_MAX_TOKENS=512");

    assertThat(settings.scorer().name()).isEqualTo("onnx-classifier");
    assertThat(settings.scorer().modelPath()).isEqualTo(Path.of("/models/toxic-bert"));
    assertThat(settings.scorer().labelMapSpec()).isEqualTo("neutral=none;toxic=harassment");
    assertThat(settings.scorer().maxTokens()).isEqualTo(512);
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    Map.of(
                        "GENGUARD_MODERATION_SCORER", "keyword-baseline",
                        "GENGUARD_MODERATION_CLASSIFIER_DIR", "/models/toxic-bert")))
        .hasMessageContaining(
            "GENGUARD_MODERATION_CLASSIFIER_DIR is set, but the scorer is 'keyword-baseline'");
  }
}
