// Experiment (twenty-fifth session): how long the what-if selections take to read their verdicts,
// the query before this session, and the other reads compliance and reviewers make (summary,
// story, completeness, review queue, output search), on a store of 1,000,000 verdicts (four audit records each, 20 tenants, one of them quiet, decided
// over 30 days). To rerun, copy it into audit-service/src/test/java/io/genguard/audit/explain/ and
// run mvn -B -o verify -pl audit-service -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
// -Dit.test=WhatIfSelectionProbeITCase. The fill takes a few minutes.
package io.genguard.audit.explain;

import io.genguard.audit.explain.RecordedVerdicts.Selection;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

class WhatIfSelectionProbeITCase {
  private static final long VERDICTS = 1_000_000;

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("what_if_selection_probe");
    try (AuditDatabase database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      long filled = System.nanoTime();
      fill(database);
      System.out.println("PROBE filled " + VERDICTS + " in " + (System.nanoTime() - filled) / 1_000_000 + " ms");
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      List<Object[]> cases =
          List.of(
              new Object[] {"newest 500", Selection.newest(500)},
              new Object[] {"tenant t07, newest 500", new Selection(List.of(), "t07", null, null, false, 500)},
              new Object[] {"quiet tenant, newest 500", new Selection(List.of(), "quiet", null, null, false, 500)},
              new Object[] {"last day, newest 500", new Selection(List.of(), null, now.minus(1, ChronoUnit.DAYS), null, false, 500)},
              new Object[] {"a week 3 weeks ago, newest 500", new Selection(List.of(), null, now.minus(21, ChronoUnit.DAYS), now.minus(14, ChronoUnit.DAYS), false, 500)},
              new Object[] {"spread 500 over all", new Selection(List.of(), null, null, null, true, 500)},
              new Object[] {"tenant t07, spread 500", new Selection(List.of(), "t07", null, null, true, 500)},
              new Object[] {"tenant t07, last week, spread 500", new Selection(List.of(), "t07", now.minus(7, ChronoUnit.DAYS), null, true, 500)},
              new Object[] {"spread 10000 over all", new Selection(List.of(), null, null, null, true, 10_000)});
      for (Object[] one : cases) {
        StringBuilder times = new StringBuilder();
        int rows = 0;
        for (int round = 0; round < 3; round++) {
          long t = System.nanoTime();
          rows = RecordedVerdicts.load(database.dataSource(), (Selection) one[1]).size();
          times.append(round == 0 ? "" : ", ").append((System.nanoTime() - t) / 1_000_000);
        }
        System.out.println("PROBE " + one[0] + ": " + rows + " rows in " + times + " ms");
      }
      // The query as it was before this session (9a29c2f), for comparison: the projections were
      // joined on columns they have no index on.
      String gateBefore =
          " left join lateral (select string_agg(g.outcome || ' ' || g.basis || coalesce(' '"
              + " || r.action || ' by ' || r.reviewer, ''), ', ' order by g.decided_at) as gate"
              + " from gate_outcome g left join review_decision r on r.review_id = g.review_id"
              + " where g.verdict_id = mv.verdict_id) gates on true";
      String replayBefore =
          "select v.payload as verdict, o.payload as output, gates.gate from audit_log v"
              + " left join moderation_verdict mv on mv.event_id = v.event_id"
              + " left join generation_output go on go.output_id = mv.output_id"
              + " left join audit_log o on o.event_id = go.event_id"
              + gateBefore
              + " where v.event_type = 'ModerationVerdict' and v.payload is not null"
              + " order by v.seq desc limit 100";
      for (String[] one :
          List.<String[]>of(
              new String[] {"before: audit replay/what-if, newest 100", replayBefore})) {
        try (Connection connection = database.dataSource().getConnection();
            Statement statement = connection.createStatement()) {
          statement.execute("set statement_timeout = '300s'");
          long t = System.nanoTime();
          int rows = 0;
          String outcome;
          try (var rs = statement.executeQuery(one[1])) {
            while (rs.next()) {
              rows++;
            }
            outcome = rows + " rows";
          } catch (java.sql.SQLException e) {
            outcome = "cancelled (" + e.getMessage() + ")";
          }
          System.out.println("PROBE " + one[0] + ": " + outcome + " in " + (System.nanoTime() - t) / 1_000_000 + " ms");
        }
      }
      // The other reads compliance and reviewers make, on the same store.
      io.genguard.audit.query.AuditQueries queries =
          new io.genguard.audit.query.AuditQueries(database.dataSource());
      io.genguard.audit.query.OutputSearch search =
          new io.genguard.audit.query.OutputSearch(database.dataSource());
      io.genguard.audit.review.ReviewQueue queue =
          new io.genguard.audit.review.ReviewQueue(
              database.dataSource(), null, java.time.Clock.systemUTC(), java.time.Duration.ofMinutes(15));
      List<String> hundred = new java.util.ArrayList<>();
      for (int i = 0; i < 100; i++) {
        hundred.add("probe-" + (i * 9_973));
      }
      List<Object[]> reads =
          List.of(
              new Object[] {"summary, whole store", (Read) () -> queries.summary().size()},
              new Object[] {"summary, tenant t07", (Read) () -> queries.summary("t07").size()},
              new Object[] {"a request's story", (Read) () -> queries.story("probe-500000").map(x -> 1).orElse(0)},
              new Object[] {"completeness of 100 requests", (Read) () -> (int) queries.completeness(hundred).audited()},
              new Object[] {"review queue, first page", (Read) () -> queue.list("PENDING", null, null, 100).items().size()},
              new Object[] {"review queue, tenant t07, first page", (Read) () -> queue.list("PENDING", "t07", null, 100).items().size()},
              new Object[] {"output search, first page", (Read) () -> search.search(io.genguard.audit.query.SearchFilter.none(), null, 200).items().size()},
              new Object[] {"output search, held for review, first page", (Read) () -> search.search(io.genguard.audit.query.SearchFilter.parse(null, null, "HELD_FOR_REVIEW", null, null, null, null, null), null, 200).items().size()},
              new Object[] {"output search, tenant t07 quarantined, first page", (Read) () -> search.search(io.genguard.audit.query.SearchFilter.parse("t07", null, "QUARANTINED", null, null, null, null, null), null, 200).items().size()},
              new Object[] {"output search, flagged hate (none), first page", (Read) () -> search.search(io.genguard.audit.query.SearchFilter.parse(null, null, null, "hate", null, null, null, null), null, 200).items().size()},
              new Object[] {"output search, group religion:muslim, first page", (Read) () -> search.search(io.genguard.audit.query.SearchFilter.parse(null, null, null, null, null, "religion:muslim", null, null), null, 200).items().size()});
      for (Object[] one : reads) {
        StringBuilder times = new StringBuilder();
        int rows = 0;
        for (int round = 0; round < 3; round++) {
          long t = System.nanoTime();
          rows = ((Read) one[1]).rows();
          times.append(round == 0 ? "" : ", ").append((System.nanoTime() - t) / 1_000_000);
        }
        System.out.println("PROBE " + one[0] + ": " + rows + " in " + times + " ms");
      }
    }
  }

  /** One read; the rows it returned. */
  interface Read {
    int rows() throws Exception;
  }

  /** Set-based, as the audit benchmark fills its store: request, output, verdict, gate outcome. */
  private static void fill(AuditDatabase database) throws Exception {
    for (long start = 0; start < VERDICTS; start += 100_000) {
      String series = "generate_series(" + start + ", " + (start + 99_999) + ") as n";
      // Tenant t00..t18 in turn; every 1,000th request the quiet tenant's. Decided over 30 days.
      String tenant = "(case when n % 1000 = 0 then 'quiet' else 't' || lpad((n % 19)::text, 2, '0') end)";
      String decided = "now() - ((" + VERDICTS + " - n) * 2.592 || ' seconds')::interval";
      try (Connection connection = database.dataSource().getConnection();
          Statement statement = connection.createStatement()) {
        connection.setAutoCommit(false);
        statement.execute(
            "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
                + " source_partition, source_offset, payload, recorded_at, chain_version, entry_digest, prev_hash, hash)"
                + " select 1 + n * 4 + k, 'probe-' || n || '-' || k,"
                + " (array['GenerationRequest','GenerationOutput','ModerationVerdict','ReleaseGateOutcome'])[k + 1],"
                + tenant + ", 'probe-' || n, 'probe', 0, n * 4 + k,"
                + " '{\"verdictId\":\"probe-verdict-' || n || '\",\"text\":\"' || repeat('word ', 100) || '\"}', now(), 2,"
                + " sha256(int8send(n * 4 + k)), sha256(int8send(n * 4 + k - 1)), sha256(int8send(n * 4 + k + 1))"
                + " from " + series + ", generate_series(0, 3) as k");
        statement.execute(
            "insert into generation_output (output_id, event_id, request_id, tenant_id, text, model_name,"
                + " model_version, backend, cost, attributes, generated_at) select 'probe-out-' || n,"
                + " 'probe-' || n || '-1', 'probe-' || n, " + tenant + ", repeat('word ', 100), 'probe', '1', 'builtin',"
                + " '{}', '{}', now() from " + series);
        statement.execute(
            "insert into moderation_verdict (verdict_id, event_id, output_id, request_id, tenant_id,"
                + " output_sha256, decision, unsafe_score, category_scores, reasons, groups, text_truncated, policy_id,"
                + " policy_version, scorer_versions, attributes, decided_at) select 'probe-verdict-' || n,"
                + " 'probe-' || n || '-2', 'probe-out-' || n, 'probe-' || n, " + tenant + ", 'x',"
                + " (array['RELEASE','REVIEW','BLOCK'])[1 + (n % 10 = 0)::int + (n % 50 = 0)::int], 0.02,"
                + " '{}', '[]', array['religion:muslim'], false, 'default', 'probe', '{}', '{}', " + decided
                + " from " + series);
        statement.execute(
            "insert into gate_outcome (event_id, request_id, output_id, tenant_id, outcome, basis, verdict_id,"
                + " decision, output_sha256, policy_version, reasons, decided_at) select 'probe-' || n || '-3',"
                + " 'probe-' || n, 'probe-out-' || n, " + tenant + ","
                + " (array['RELEASED','HELD_FOR_REVIEW','QUARANTINED'])[1 + (n % 10 = 0)::int + (n % 50 = 0)::int],"
                + " 'VERDICT', 'probe-verdict-' || n,"
                + " (array['RELEASE','REVIEW','BLOCK'])[1 + (n % 10 = 0)::int + (n % 50 = 0)::int], 'x', 'probe',"
                + " '[]', " + decided + " from " + series);
        // The outputs held for review wait in the queue.
        statement.execute(
            "insert into review_item (request_id, output_id, tenant_id, verdict_id, gate_event_id, held_at, state)"
                + " select 'probe-' || n, 'probe-out-' || n, " + tenant + ", 'probe-verdict-' || n,"
                + " 'probe-' || n || '-3', " + decided + ", 'PENDING' from " + series
                + " where n % 10 = 0 and n % 50 <> 0");
        connection.commit();
      }
    }
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("analyze");
    }
  }
}
