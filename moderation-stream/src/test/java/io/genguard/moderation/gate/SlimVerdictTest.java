package io.genguard.moderation.gate;

import static io.genguard.moderation.fixtures.Events.output;
import static io.genguard.moderation.fixtures.Events.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import java.time.Instant;
import java.util.ArrayList;
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

  @Test
  void shouldEncodeTheSlimVerdictAsTheDeepCopyingBuilderDid() {
    List<ModerationVerdict> verdicts = new ArrayList<>();
    for (Decision decision : Decision.values()) {
      verdicts.add(verdict(output("plain-" + decision, "Some text."), decision));
    }
    ModerationVerdict rich =
        ModerationVerdict.newBuilder(verdict(output("rich", "Ünïcode — 文字"), Decision.BLOCK))
            .setReasons(
                List.of(
                    Reason.newBuilder()
                        .setCode("toxicity.block")
                        .setDecision(Decision.BLOCK)
                        .setMessage("toxicity 0.97 ≥ 0.9")
                        .build(),
                    Reason.newBuilder()
                        .setCode("provenance")
                        .setDecision(Decision.RELEASE)
                        .setMessage("")
                        .build()))
            .setCategoryScores(Map.of("hate", 0.97, "violence", 0.2))
            .setGroups(List.of("gender:women", "religion:muslim"))
            .setProvenance(
                ProvenanceFindings.newBuilder()
                    .setWatermark(WatermarkStatus.DETECTED)
                    .setZScore(5.1)
                    .setPValue(1e-7)
                    .setTokensScored(96)
                    .setManifest(ManifestStatus.VALID)
                    .build())
            .setTextTruncated(true)
            .setPolicySha256("ab".repeat(32))
            .setScorerVersions(Map.of("toxicity", "2", "bias", "1"))
            .setModel(
                ModelRef.newBuilder().setName("tiny-gpt").setVersion("3").setBackend("djl").build())
            .setAttributes(Map.of("run", "r1", "tenant.note", "ü"))
            .setDecidedAt(Instant.parse("2026-12-07T10:15:30.123Z"))
            .build();
    verdicts.add(rich);
    verdicts.add(ModerationVerdict.newBuilder(rich).setReasons(List.of()).build());
    verdicts.add(
        ModerationVerdict.newBuilder(rich)
            .setEventId("")
            .setTenantId("")
            .setUnsafeScore(0)
            .build());
    // As the gate gets them: decoded from their record.
    verdicts.replaceAll(verdict -> VERDICTS.decode(VERDICTS.encode(verdict)));

    for (ModerationVerdict verdict : verdicts) {
      assertThat(VERDICTS.encode(ReleaseGateProcessor.slim(verdict)))
          .as("slim %s", verdict.getRequestId())
          .isEqualTo(VERDICTS.encode(slimByDeepCopy(verdict)));
      assertThat(ReleaseGateProcessor.slim(verdict)).isEqualTo(slimByDeepCopy(verdict));
    }
  }

  /**
   * The forty-ninth session's report: the slim verdict shared its reasons list (and the reasons in
   * it) with the decoded verdict, so a change to either after the slim one was made (Avro records
   * and their arrays can be changed) would change the verdict the gate decides on. Its reasons are
   * its own now.
   */
  @Test
  void shouldKeepTheSlimVerdictsReasonsWhenTheDecodedVerdictsAreChanged() {
    ModerationVerdict decoded =
        VERDICTS.decode(
            VERDICTS.encode(
                ModerationVerdict.newBuilder(verdict(output("r2", "Some text."), Decision.BLOCK))
                    .setReasons(
                        List.of(
                            Reason.newBuilder()
                                .setCode("toxicity.block")
                                .setDecision(Decision.BLOCK)
                                .setCategory("toxicity")
                                .setScore(0.97)
                                .setThreshold(0.9)
                                .setMessage("toxicity 0.97 ≥ 0.9")
                                .build()))
                    .build()));
    ModerationVerdict slim = ReleaseGateProcessor.slim(decoded);
    byte[] before = VERDICTS.encode(slim);

    decoded.getReasons().get(0).setDecision(Decision.RELEASE);
    decoded.getReasons().get(0).setMessage("changed");
    decoded
        .getReasons()
        .add(
            Reason.newBuilder()
                .setCode("other")
                .setDecision(Decision.RELEASE)
                .setMessage("")
                .build());

    assertThat(slim.getReasons()).hasSize(1);
    assertThat(slim.getReasons().get(0).getDecision()).isEqualTo(Decision.BLOCK);
    assertThat(slim.getReasons().get(0).getMessage()).isEqualTo("toxicity 0.97 ≥ 0.9");
    assertThat(VERDICTS.encode(slim)).isEqualTo(before);
    decoded.getReasons().clear();
    assertThat(slim.getReasons()).hasSize(1);
    assertThat(VERDICTS.encode(slim)).isEqualTo(before);
  }

  /** The slim verdict as the gate made it until the forty-ninth session: the reference. */
  private static ModerationVerdict slimByDeepCopy(ModerationVerdict verdict) {
    return ModerationVerdict.newBuilder(verdict)
        .setCategoryScores(Map.of())
        .setGroups(List.of())
        .setProvenance(null)
        .setScorerVersions(Map.of())
        .setModel(null)
        .setAttributes(Map.of())
        .build();
  }
}
