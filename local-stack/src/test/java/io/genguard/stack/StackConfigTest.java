package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;

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
}
