package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.schemas.ContentRetention;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StackConfigTest {
  @Test
  void shouldTreatBlankPathAndScorerKeysAsUnset() {
    // GENGUARD_STATE_DIR= would otherwise be Path.of(""): the state written into the current
    // directory, and kept, instead of a temporary directory.
    StackConfig config =
        StackConfig.fromEnvironment(
            Map.of(
                StackConfig.DATA_DIR, "",
                StackConfig.POLICY_FILE, " ",
                StackConfig.MODERATION_SCORER, ""));

    assertThat(config.dataDir()).isEmpty();
    assertThat(config.policyFile()).isEmpty();
    assertThat(config.moderationScorer()).isEqualTo(StackConfig.defaults().moderationScorer());
  }

  @Test
  void shouldRefuseTheBenchmarkScorerFromTheEnvironment() {
    // It scores every text 0: a stack started with it would release everything.
    assertThatThrownBy(
            () ->
                StackConfig.fromEnvironment(
                    Map.of(StackConfig.MODERATION_SCORER, "trivial-benchmark")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_MODERATION_SCORER is 'trivial-benchmark'")
        .hasMessageContaining("would release everything");
  }

  @Test
  void shouldReadTheRequestDataRetentionAndKeepItThroughTheFlags() {
    assertThat(StackConfig.defaults().contentRetention()).isEqualTo(ContentRetention.hours(168));
    StackConfig config =
        StackConfig.fromEnvironment(Map.of(ContentRetention.KEY, "24"))
            .withPorts(1, 2, 3)
            .withDataDir(Path.of("d"))
            .withModerationScorer("keyword-baseline")
            .withMetricsPorts(4, 5);
    assertThat(config.contentRetention()).isEqualTo(ContentRetention.hours(24));
    assertThat(StackConfig.fromEnvironment(Map.of(ContentRetention.KEY, "unmanaged")))
        .extracting(StackConfig::contentRetention)
        .isEqualTo(ContentRetention.unmanaged());
    assertThatThrownBy(() -> StackConfig.fromEnvironment(Map.of(ContentRetention.KEY, "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(ContentRetention.KEY + "=0 must be between 1 and 87840 (hours)");
  }
}
