package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.PlanDatabase;
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
  private static PlanDatabase database;

  @BeforeAll
  static void seed() throws Exception {
    database = PlanDatabase.create("open_flows_plan_it");
    // Records and a flow for each. Every tenth flow is answered, every tenth but one dismissed; the
    // rest are open.
    database.seed(
        FLOWS,
        "'flow-' || g",
        "'FlowUnfinished'",
        "'acme'",
        "'flow-r-' || g",
        "'gen.requests'",
        "'{}'",
        "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
            + " recorded_at, found_at, answered_seq, dismissed_at) select event_id, 'NO_ANSWER',"
            + " request_id, tenant_id, seq, now(), now(),"
            + " case when seq % 10 = 0 then seq + 1 end,"
            + " case when seq % 10 = 1 then now() end from audit_log",
        "analyze unfinished_flow");
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void retentionFindsTheOpenFlowsOfABatchsRecordsThroughAnIndex() throws Exception {
    // A batch's records, bound as retention binds them.
    Long[] batch = LongStream.rangeClosed(50_001, 50_500).boxed().toArray(Long[]::new);
    PlanDatabase.Parameters theBatch =
        (connection, statement) -> statement.setArray(1, connection.createArrayOf("bigint", batch));
    String plan = database.plan(Retention.OPEN_FLOWS, theBatch);
    List<String> requests = database.firstColumn(Retention.OPEN_FLOWS, theBatch);
    assertThat(plan)
        .as("plan of retention's open-flow look-up")
        .doesNotContain("Seq Scan on unfinished_flow")
        .contains("unfinished_flow_open_record_idx");
    // And it finds the open ones only, in the order of their records.
    assertThat(requests).hasSize(400).startsWith("flow-r-50002", "flow-r-50003");
    assertThat(requests).doesNotContain("flow-r-50010", "flow-r-50011");
  }
}
