package io.genguard.moderation.policy;

import static io.genguard.moderation.policy.PolicyFixtures.scores;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.policy.ModerationFindings.ScorerFailure;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.TextScreening;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder names each finding, so none lands in a neighbouring field of the same type. */
class ModerationFindingsTest {
  @Test
  void shouldLeaveAbsentWhatTheBuilderWasNotGiven() {
    ModerationFindings findings = ModerationFindings.builder("t1").build();

    assertThat(findings)
        .isEqualTo(
            new ModerationFindings(
                "t1",
                null,
                null,
                null,
                null,
                List.of(),
                RuleFindings.NONE,
                null,
                null,
                false,
                null,
                null,
                false));
    assertThat(ModerationFindings.scored("t1", scores(0.2)))
        .isEqualTo(ModerationFindings.builder("t1").scores(scores(0.2)).build());
  }

  @Test
  void shouldPutEachNamedFindingInItsOwnField() {
    ContentScores scores = scores(0.3);
    ScorerFailure failure = new ScorerFailure(ScorerFailure.Kind.TIMEOUT, "no answer");
    BiasFindings bias = new BiasFindings(List.of("gender:women"), List.of(), 0.2);
    ProvenanceFindings provenance =
        ProvenanceFindings.newBuilder()
            .setWatermark(WatermarkStatus.TOO_SHORT)
            .setTokensScored(18)
            .setManifest(ManifestStatus.INVALID)
            .build();
    List<TextScreening.Finding> screening =
        TextScreening.defaults().screen("a k\u0456nd w\u200Bord").findings();
    RuleFindings rules = RuleFindings.of("I'll break both your legs.");

    ModerationFindings findings =
        ModerationFindings.builder("t1")
            .scores(scores)
            .scorerFailure(failure)
            .bias(bias)
            .provenance(provenance)
            .screening(screening)
            .rules(rules)
            .manifestReason("manifest reason")
            .watermarkReason("watermark reason")
            .manifestKeyUnknown(true)
            .watermarkClaimMismatch("claim mismatch")
            .backend("echo")
            .watermarkRepetitive(true)
            .build();

    assertThat(findings)
        .isEqualTo(
            new ModerationFindings(
                "t1",
                scores,
                failure,
                bias,
                provenance,
                screening,
                rules,
                "manifest reason",
                "watermark reason",
                true,
                "claim mismatch",
                "echo",
                true));
  }
}
