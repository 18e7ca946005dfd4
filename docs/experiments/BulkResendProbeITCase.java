// Experiment (thirtieth session): how long a bulk resend of unfinished flows takes on real Kafka
// and PostgreSQL: 10,000 requests without an answer (the most one call sends), found by the watch,
// a round with them all open, then POST /api/v1/audit/unfinished/resend's work
// (UnfinishedFlows.resendAll with the service's EventResender), again with includeResent, a repeat
// that skips them all, and the round that closes them once their answers are recorded; since the
// thirty-first session also every open flow listed a page of 100 at a time. To rerun,
// copy
// it into audit-service/src/test/java/io/genguard/audit/watch/ and run
// mvn -B -o verify -pl audit-service -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
// -Dit.test=BulkResendProbeITCase.
package io.genguard.audit.watch;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.submit.EventResender;
import io.genguard.events.v1.Decision;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.MovingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BulkResendProbeITCase {
  private static final int FLOWS = UnfinishedFlows.MAX_BULK_RESEND;

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(3, List.of(Topics.GENERATION_REQUESTS.name()));
    Instant start = Instant.now();
    MovingClock clock = new MovingClock(start);
    try (AuditDatabase database =
            AuditDatabase.connect(
                infra.createDatabase("bulk_resend_probe"),
                infra.jdbcUser(),
                infra.jdbcPassword(),
                4);
        EventResender resender = new EventResender(infra.kafkaClientProperties())) {
      AuditWriter writer = new AuditWriter(database.dataSource(), clock);
      for (int from = 0; from < FLOWS; from += 1_000) {
        List<IncomingEvent> batch = new ArrayList<>();
        for (int i = from; i < from + 1_000; i++) {
          Scenario s = Scenario.of("bulk-" + i, "acme", Decision.RELEASE, start);
          batch.add(
              AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(s)));
        }
        writer.write(batch);
      }
      UnfinishedFlows flows =
          new UnfinishedFlows(database.dataSource(), clock, UnfinishedFlows.Deadlines.DEFAULTS);
      clock.advance(Duration.ofMinutes(20));
      long found = System.nanoTime();
      int open = flows.check().found().size();
      System.out.printf(
          "PROBE found %d flows in %d ms%n", open, (System.nanoTime() - found) / 1_000_000);
      long idle = System.nanoTime();
      flows.check();
      System.out.printf(
          "PROBE a round with them all open: %d ms%n", (System.nanoTime() - idle) / 1_000_000);
      Caller admin = new Caller("probe", "probe", Role.ADMIN, null);
      for (int run = 0; run < 2; run++) {
        long sent = System.nanoTime();
        UnfinishedFlows.Resends resends =
            flows.resendAll(
                UnfinishedFlows.Kind.NO_ANSWER, null, clock.instant(), run == 1, admin, resender);
        System.out.printf(
            "PROBE %s: %s in %d ms%n",
            run == 0 ? "first" : "again, including those sent",
            resends,
            (System.nanoTime() - sent) / 1_000_000);
      }
      // Listed a page of 100 at a time, as the compliance UI does (thirty-first session).
      long paging = System.nanoTime();
      int pages = 0;
      int listed = 0;
      long slowest = 0;
      io.genguard.audit.query.Cursor cursor = null;
      while (true) {
        long page = System.nanoTime();
        var answer = flows.list(null, null, UnfinishedFlows.State.OPEN, cursor, 100);
        slowest = Math.max(slowest, System.nanoTime() - page);
        pages++;
        listed += answer.path("items").size();
        if (answer.path("nextCursor").isNull()) {
          break;
        }
        cursor = io.genguard.audit.query.Cursor.decode("cursor", answer.path("nextCursor").asText());
      }
      System.out.printf(
          "PROBE listed %d open flows in %d pages of 100: %d ms in all, slowest page %d ms%n",
          listed, pages, (System.nanoTime() - paging) / 1_000_000, slowest / 1_000_000);
      long skipped = System.nanoTime();
      UnfinishedFlows.Resends none =
          flows.resendAll(
              UnfinishedFlows.Kind.NO_ANSWER, null, clock.instant(), false, admin, resender);
      System.out.printf(
          "PROBE repeat, all skipped: %s in %d ms%n",
          none, (System.nanoTime() - skipped) / 1_000_000);
      // Their answers come: one round closes them all.
      for (int from = 0; from < FLOWS; from += 1_000) {
        List<IncomingEvent> batch = new ArrayList<>();
        for (int i = from; i < from + 1_000; i++) {
          Scenario s = Scenario.of("bulk-" + i, "acme", Decision.RELEASE, start);
          batch.add(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(s)));
        }
        writer.write(batch);
      }
      long closing = System.nanoTime();
      int answered = flows.check().answered();
      System.out.printf(
          "PROBE a round closing %d answered late: %d ms%n",
          answered, (System.nanoTime() - closing) / 1_000_000);
    }
  }
}
