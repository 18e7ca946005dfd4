// Experiment (thirty-first session): how long a bulk takedown takes on real PostgreSQL: 20,000
// released outputs audited, 1,000 of them under a faulty policy file in one hour (the most one
// call takes down); then POST /api/v1/retractions' work (Retractions.retractAll) as a dry run, for
// real (each request its own transaction, chain record, outbox row), and repeated with nothing
// left. To rerun, copy it into audit-service/src/test/java/io/genguard/audit/release/ and run
// mvn -B -o verify -pl audit-service -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
// -Dit.test=BulkTakedownProbeITCase.
package io.genguard.audit.release;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BulkTakedownProbeITCase {
  private static final int RELEASED = 20_000;
  private static final int FAULTY = Retractions.MAX_BULK;

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    Instant now = Instant.now();
    Instant start = now.minusSeconds(2 * 86_400);
    Instant incident = now.minusSeconds(7_200);
    String faulty = "f".repeat(64);
    try (AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase("bulk_takedown_probe"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            4)) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
      long seeding = System.nanoTime();
      for (int from = 0; from < RELEASED; from += 500) {
        List<IncomingEvent> batch = new ArrayList<>();
        for (int i = from; i < from + 500; i++) {
          // Every 20th inside the incident's hour, under the faulty file; the rest spread over
          // two days under the shipped one.
          boolean bad = i % (RELEASED / FAULTY) == 0;
          Instant at =
              bad
                  ? incident.plusMillis(3_600_000L * i / RELEASED)
                  : start.plusMillis(172_800_000L * i / RELEASED);
          Scenario s = Scenario.of("take-" + i, "t" + (i % 10), Decision.RELEASE, at);
          List<IncomingEvent> story = new ArrayList<>(AuditEvents.story(s));
          if (bad) {
            story.set(
                2,
                AuditEvents.incoming(
                    Topics.MODERATION_VERDICTS.name(),
                    ModerationVerdict.newBuilder(AuditEvents.verdict(s))
                        .setPolicySha256(faulty)
                        .build()));
          }
          batch.addAll(story);
        }
        writer.write(batch);
      }
      System.out.printf(
          "PROBE %d released stories audited in %d ms%n",
          RELEASED, (System.nanoTime() - seeding) / 1_000_000);
      Retractions retractions = new Retractions(database.dataSource(), Clock.systemUTC());
      Caller admin = new Caller("probe", "probe", Role.ADMIN, null);
      Retractions.Selection window =
          new Retractions.Selection(null, incident, incident.plusSeconds(3_600), faulty, false);
      long listing = System.nanoTime();
      Retractions.Bulk dry = retractions.retractAll(window, null, true, admin);
      System.out.printf(
          "PROBE dry run: %d selected (more: %s) in %d ms%n",
          dry.requestIds().size(), dry.more(), (System.nanoTime() - listing) / 1_000_000);
      long taking = System.nanoTime();
      Retractions.Bulk done = retractions.retractAll(window, "probe incident", false, admin);
      long took = System.nanoTime() - taking;
      System.out.printf(
          "PROBE taken down: %d (skipped %d) in %d ms, %.2f ms each%n",
          done.retracted().size(),
          done.skipped().size(),
          took / 1_000_000,
          took / 1e6 / Math.max(1, done.retracted().size()));
      long again = System.nanoTime();
      Retractions.Bulk none = retractions.retractAll(window, "probe incident", false, admin);
      System.out.printf(
          "PROBE repeat: %d selected in %d ms%n",
          none.requestIds().size(), (System.nanoTime() - again) / 1_000_000);
    }
  }
}
