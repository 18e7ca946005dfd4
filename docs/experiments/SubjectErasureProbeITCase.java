// Experiment (twenty-seventh session): how long erasing a data subject takes, by how many requests
// they have, on a store that holds others' requests too. Each request is erased in its own
// transaction (tombstones, erasure record, action, the notice to the gate), as
// POST /api/v1/erasures does; then the tenant's retention over everything left, in batches. The
// store is written by the real audit writer on the real PostgreSQL.
// To rerun, copy it into audit-service/src/test/java/io/genguard/audit/retention/ and run
// mvn -B -o verify -pl audit-service -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
// -Dit.test=SubjectErasureProbeITCase.
package io.genguard.audit.retention;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SubjectErasureProbeITCase {
  private static final int[] SUBJECT_REQUESTS = {10, 100, 1_000};
  private static final int OTHERS = 50_000;

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase("subject_erasure_probe"), infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
      long started = System.nanoTime();
      int n = 0;
      for (int subject = 0; subject < SUBJECT_REQUESTS.length; subject++) {
        n = fill(writer, n, SUBJECT_REQUESTS[subject], "u-" + subject);
      }
      n = fill(writer, n, OTHERS, null);
      System.out.println(
          "PROBE filled " + n + " requests (4 records each) in "
              + (System.nanoTime() - started) / 1_000_000 + " ms");
      // Statistics as a store that has run a while has them (autovacuum analyzes after a fill).
      try (java.sql.Connection connection = database.dataSource().getConnection();
          java.sql.Statement statement = connection.createStatement()) {
        statement.execute("analyze");
      }
      Retention retention = new Retention(database.dataSource(), Clock.systemUTC(), 0);
      Caller caller = Caller.system("probe");
      for (int subject = 0; subject < SUBJECT_REQUESTS.length; subject++) {
        long t = System.nanoTime();
        Retention.SubjectErased erased =
            retention.eraseSubject("acme", "userId", "u-" + subject, "probe DSR-" + subject, caller);
        long millis = (System.nanoTime() - t) / 1_000_000;
        System.out.println(
            "PROBE subject with "
                + erased.erased().size()
                + " requests: erased "
                + erased.tombstoned()
                + " records in "
                + millis
                + " ms ("
                + String.format("%.1f", (double) millis / erased.erased().size())
                + " ms a request)");
      }
      // Then the tenant's retention, a month later, over everything left: batches of 20,000.
      Retention later =
          new Retention(
              database.dataSource(),
              Clock.fixed(Instant.now().plus(java.time.Duration.ofDays(30)), java.time.ZoneOffset.UTC),
              0);
      later.set("acme", 1, caller);
      long r = System.nanoTime();
      List<Retention.Applied> applied = later.apply(caller);
      System.out.println(
          "PROBE retention: "
              + applied.stream().mapToLong(Retention.Applied::tombstoned).sum()
              + " records in "
              + applied.size()
              + " batches, "
              + (System.nanoTime() - r) / 1_000_000
              + " ms");
      long t = System.nanoTime();
      ChainVerifier.Verification chain = ChainVerifier.verify(database.dataSource());
      System.out.println(
          "PROBE chain " + (chain.valid() ? "valid" : chain.summary()) + ", verified in "
              + (System.nanoTime() - t) / 1_000_000 + " ms");
    }
  }

  /** {@code count} stories of tenant acme, submitted with {@code userId} when it is not null. */
  private static int fill(AuditWriter writer, int from, int count, String userId) throws Exception {
    List<IncomingEvent> batch = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      Scenario scenario = Scenario.of("probe-" + i, "acme", Decision.RELEASE, Instant.now());
      List<IncomingEvent> story = new ArrayList<>(AuditEvents.story(scenario));
      if (userId != null) {
        GenerationRequest request =
            GenerationRequest.newBuilder(AuditEvents.request(scenario))
                .setAttributes(Map.of("userId", userId))
                .build();
        story.set(0, AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), request));
      }
      batch.addAll(story);
      if (batch.size() >= 1_000) {
        writer.write(batch);
        batch.clear();
      }
    }
    writer.write(batch);
    return from + count;
  }
}
