package io.genguard.audit.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.Migrations;
import io.genguard.testsupport.IntegrationInfrastructure;
import org.junit.jupiter.api.Test;

/**
 * Migration V16 on a database whose flows were sent again before it: each flow's last send, all
 * that V15 kept, becomes its first row of {@code unfinished_flow_resend}; a flow never sent again
 * gets none.
 */
class ResendMigrationITCase {
  @Test
  void shouldKeepTheLastSendOfEachFlowRecordedBeforeTheTableExisted() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("resend_migration_it");
    Migrations.migrate(url, infra, "15");
    Migrations.execute(
        url,
        infra,
        "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
            + " source_partition, source_offset, payload, recorded_at, prev_hash, hash,"
            + " chain_version) values"
            + " (1, 'flow-1', 'FlowUnfinished', 'acme', 'r1', 'audit', 0, 1, '{}', now(),"
            + " '\\x00', '\\x00', 1),"
            + " (2, 'flow-2', 'FlowUnfinished', 'acme', 'r2', 'audit', 0, 2, '{}', now(),"
            + " '\\x00', '\\x00', 1)",
        "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
            + " recorded_at, found_at, resent_count, resent_at, resend_action) values"
            + " ('flow-1', 'NO_ANSWER', 'r1', 'acme', 1, now(), now(), 2,"
            + " '2026-12-05T10:00:00Z', 'act-last'),"
            + " ('flow-2', 'NO_ANSWER', 'r2', 'acme', 2, now(), now(), 0, null, null)");

    Migrations.migrate(url, infra, "latest");

    assertThat(
            Migrations.rows(
                url,
                infra,
                "select flow_event_id, action_id, resent_at at time zone 'UTC'"
                    + " from unfinished_flow_resend order by flow_event_id"))
        .containsExactly("flow-1 act-last 2026-12-05 10:00:00");
  }
}
