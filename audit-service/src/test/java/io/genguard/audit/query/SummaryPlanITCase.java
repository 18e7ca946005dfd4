package io.genguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.PlanDatabase;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's totals (GET /api/v1/summary with a tenant-bound token, the lowest role included) read
 * that tenant's rows only: the plan PostgreSQL makes for the service's own statement, with the
 * tenant bound as the service binds it, reads audit_log and generation_failure through an index,
 * not every tenant's rows. Before migration V29 each of those counts was a sequential scan of the
 * whole table, so one tenant's summary cost what the whole store costs.
 */
class SummaryPlanITCase {
  private static final int OTHER_TENANT_ROWS = 200_000;
  private static PlanDatabase database;

  @BeforeAll
  static void seed() throws Exception {
    database = PlanDatabase.create("summary_plan_it");
    // Rows of a large tenant (globex) and a few of a small one (acme).
    database.seed(
        OTHER_TENANT_ROWS,
        "'plan-' || g",
        "'GenerationFailed'",
        "case when g % 20000 = 0 then 'acme' else 'globex' end",
        "'plan-r-' || g",
        "'gen.outputs'",
        "repeat('x', 300)",
        "insert into generation_failure (event_id, request_id, tenant_id, code, reason, backend,"
            + " attempts, failed_at) select event_id, request_id, tenant_id, 'TIMEOUT', 'probe',"
            + " 'echo', 1, now() from audit_log",
        "analyze audit_log",
        "analyze generation_failure");
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void aTenantsSummaryReadsItsOwnAuditRecordsAndFailuresThroughAnIndex() throws Exception {
    // The statement as the service runs it: its parameters bound (an unnamed statement, planned
    // for the values), not written into the text.
    String text =
        database.plan(
            AuditQueries.summarySql(),
            (connection, statement) -> {
              for (int parameter = 1; parameter <= AuditQueries.SUMMARY_PARAMETERS; parameter++) {
                statement.setString(parameter, "acme");
              }
            });
    assertThat(text)
        .as("plan of acme's summary")
        .doesNotContain("Seq Scan on audit_log")
        .doesNotContain("Seq Scan on generation_failure")
        .contains("using audit_log_tenant_idx")
        .contains("using generation_failure_tenant_idx");

    // And the counts are acme's own.
    Map<String, Long> acme = new AuditQueries(database.dataSource()).summary("acme");
    assertThat(acme).containsEntry("audit_records", 10L).containsEntry("failures", 10L);
    Map<String, Long> all = new AuditQueries(database.dataSource()).summary();
    assertThat(all)
        .containsEntry("audit_records", (long) OTHER_TENANT_ROWS)
        .containsEntry("failures", (long) OTHER_TENANT_ROWS);
  }
}
