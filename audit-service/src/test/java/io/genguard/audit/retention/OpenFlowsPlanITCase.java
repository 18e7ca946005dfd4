package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Retention's look-up, per batch, of the open unfinished flows among the records it is about to
 * tombstone ({@link Retention#OPEN_FLOWS}) reads unfinished_flow through an index on the flows'
 * records: the plan PostgreSQL makes for the statement as retention binds it. Before migration V31
 * nothing indexed unfinished_flow.record_seq, so each batch read every open flow.
 */
class OpenFlowsPlanITCase {
  private static final int FLOWS = 100_000;
  private static AuditDatabase database;

  @BeforeAll
  static void seed() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("open_flows_plan_it");
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      // Records and a flow for each, written directly: the plan depends on the table's size, not
      // on the records being a valid chain. Every tenth flow is answered, every tenth but one
      // dismissed; the rest are open.
      statement.execute("alter table audit_log disable trigger audit_log_version_not_lower");
      statement.execute(
          "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
              + " source_partition, source_offset, payload, recorded_at, prev_hash, hash,"
              + " chain_version) select g, 'flow-' || g, 'FlowUnfinished', 'acme', 'flow-r-' || g,"
              + " 'gen.requests', 0, g, '{}', now(), '\\x00'::bytea, '\\x00'::bytea, 1"
              + " from generate_series(1, "
              + FLOWS
              + ") g");
      statement.execute("alter table audit_log enable trigger audit_log_version_not_lower");
      statement.execute(
          "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
              + " recorded_at, found_at, answered_seq, dismissed_at) select event_id, 'NO_ANSWER',"
              + " request_id, tenant_id, seq, now(), now(),"
              + " case when seq % 10 = 0 then seq + 1 end,"
              + " case when seq % 10 = 1 then now() end from audit_log");
      statement.execute("analyze unfinished_flow");
    }
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void retentionFindsTheOpenFlowsOfABatchsRecordsThroughAnIndex() throws Exception {
    // A batch's records, bound as retention binds them.
    Long[] batch = LongStream.rangeClosed(50_001, 50_500).boxed().toArray(Long[]::new);
    List<String> plan = new ArrayList<>();
    List<String> requests = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection()) {
      try (PreparedStatement explain =
          connection.prepareStatement("explain " + Retention.OPEN_FLOWS)) {
        explain.setArray(1, connection.createArrayOf("bigint", batch));
        try (ResultSet rs = explain.executeQuery()) {
          while (rs.next()) {
            plan.add(rs.getString(1));
          }
        }
      }
      try (PreparedStatement query = connection.prepareStatement(Retention.OPEN_FLOWS)) {
        query.setArray(1, connection.createArrayOf("bigint", batch));
        try (ResultSet rs = query.executeQuery()) {
          while (rs.next()) {
            requests.add(rs.getString(1));
          }
        }
      }
    }
    assertThat(String.join("\n", plan))
        .as("plan of retention's open-flow look-up")
        .doesNotContain("Seq Scan on unfinished_flow")
        .contains("unfinished_flow_open_record_idx");
    // And it finds the open ones only, in the order of their records.
    assertThat(requests).hasSize(400).startsWith("flow-r-50002", "flow-r-50003");
    assertThat(requests).doesNotContain("flow-r-50010", "flow-r-50011");
  }
}
