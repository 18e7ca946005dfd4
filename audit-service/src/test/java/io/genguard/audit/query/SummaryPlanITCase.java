package io.genguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
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
  private static AuditDatabase database;

  @BeforeAll
  static void seed() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("summary_plan_it");
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      // Rows of a large tenant (globex) and a few of a small one (acme), written directly: the
      // plan depends on the table's size, not on the records being a valid chain.
      statement.execute("alter table audit_log disable trigger audit_log_version_not_lower");
      statement.execute(
          "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
              + " source_partition, source_offset, payload, recorded_at, prev_hash, hash,"
              + " chain_version) select g, 'plan-' || g, 'GenerationFailed',"
              + " case when g % 20000 = 0 then 'acme' else 'globex' end, 'plan-r-' || g,"
              + " 'gen.outputs', 0, g, repeat('x', 300), now(), '\\x00'::bytea, '\\x00'::bytea, 1"
              + " from generate_series(1, "
              + OTHER_TENANT_ROWS
              + ") g");
      statement.execute("alter table audit_log enable trigger audit_log_version_not_lower");
      statement.execute(
          "insert into generation_failure (event_id, request_id, tenant_id, code, reason, backend,"
              + " attempts, failed_at) select event_id, request_id, tenant_id, 'TIMEOUT', 'probe',"
              + " 'echo', 1, now() from audit_log");
      statement.execute("analyze audit_log");
      statement.execute("analyze generation_failure");
    }
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void aTenantsSummaryReadsItsOwnAuditRecordsAndFailuresThroughAnIndex() throws Exception {
    // The statement as the service runs it: its parameters bound (an unnamed statement, planned
    // for the values), not written into the text.
    List<String> plan = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement statement =
            connection.prepareStatement("explain " + AuditQueries.summarySql())) {
      for (int parameter = 1; parameter <= AuditQueries.SUMMARY_PARAMETERS; parameter++) {
        statement.setString(parameter, "acme");
      }
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          plan.add(rs.getString(1));
        }
      }
    }
    String text = String.join("\n", plan);
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
