package io.genguard.moderation.gate;

import static io.genguard.moderation.fixtures.Events.output;
import static io.genguard.moderation.fixtures.Events.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The gate decides on the slim verdict it just encoded for its store, not on that encoding decoded
 * again: the two must be equal, field by field, so that the outcome's bytes are the same.
 */
class SlimVerdictTest {
  private static final EventCodec<ModerationVerdict> VERDICTS = Topics.MODERATION_VERDICTS.codec();

  @Test
  void shouldDecodeTheStoredSlimVerdictEqualToTheOneTheGateDecidesOn() {
    ModerationVerdict full =
        ModerationVerdict.newBuilder(verdict(output("r1", "Ünïcode text."), Decision.REVIEW))
            .setReasons(
                List.of(
                    Reason.newBuilder()
                        .setCode("toxicity.review")
                        .setDecision(Decision.REVIEW)
                        .setMessage("toxicity 0.61 ≥ 0.5: a person decides")
                        .build(),
                    Reason.newBuilder()
                        .setCode("bias.groups")
                        .setDecision(Decision.RELEASE)
                        .setMessage("")
                        .build()))
            .setCategoryScores(Map.of("hate", 0.2, "violence", 0.61))
            .setScorerVersions(Map.of("trivial", "1"))
            .setAttributes(Map.of("run", "r1"))
            .build();

    ModerationVerdict slim = ReleaseGateProcessor.slim(full);
    ModerationVerdict stored = VERDICTS.decode(VERDICTS.encode(slim));

    assertThat(stored).isEqualTo(slim);
    assertThat(VERDICTS.encode(stored)).isEqualTo(VERDICTS.encode(slim));
    assertThat(stored.getReasons()).isEqualTo(full.getReasons());
    assertThat(stored.getCategoryScores()).isEmpty();
  }
}
