package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The writer stores a verdict's judgement digest from the canonical tree it made for the payload;
 * the digest must be the one {@link AuditWriter#judgementSha256(ModerationVerdict)} gives, which
 * compares verdicts received again (and which {@code AuditWriterITCase} pins against PostgreSQL).
 */
class JudgementDigestTest {
  @Test
  void shouldGiveFromTheVerdictsTreeTheDigestOfTheVerdictWithoutItsTime() {
    Random random = new Random(48);
    List<ModerationVerdict> verdicts = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Decision decision = Decision.values()[random.nextInt(Decision.values().length)];
      Instant at = Instant.ofEpochMilli(random.nextLong(0, 4_000_000_000_000L));
      ModerationVerdict verdict =
          AuditEvents.verdict(
              Scenario.of("judged-" + i, i % 3 == 0 ? "acme" : "globex", decision, at));
      verdicts.add(
          i % 5 == 0
              ? ModerationVerdict.newBuilder(verdict).setDecidedAt(Instant.EPOCH).build()
              : verdict);
    }
    for (ModerationVerdict verdict : verdicts) {
      String fromTree = AuditWriter.judgementSha256(CanonicalJson.toTree(verdict));
      assertThat(fromTree).as(verdict.getEventId()).isEqualTo(AuditWriter.judgementSha256(verdict));
      var tree = CanonicalJson.toTree(verdict);
      assertThat(AuditWriter.judgementSha256(tree, CanonicalJson.writeFields(tree)))
          .as(verdict.getEventId())
          .isEqualTo(fromTree);
      // Only the time is left out: the digest of the payload itself differs unless it was the
      // epoch.
      boolean undated = verdict.getDecidedAt().equals(Instant.EPOCH);
      assertThat(fromTree.equals(AuditChain.payloadSha256(CanonicalJson.of(verdict))))
          .as(verdict.getEventId())
          .isEqualTo(undated);
    }
  }

  @Test
  void shouldLeaveTheTreeItWasGivenAsItWas() {
    ModerationVerdict verdict =
        AuditEvents.verdict(
            Scenario.of(
                "judged-tree", "acme", Decision.REVIEW, Instant.parse("2026-12-07T11:00:00Z")));
    var tree = CanonicalJson.toTree(verdict);
    String before = CanonicalJson.write(tree);

    AuditWriter.judgementSha256(tree);

    assertThat(CanonicalJson.write(tree)).isEqualTo(before).isEqualTo(CanonicalJson.of(verdict));
  }
}
