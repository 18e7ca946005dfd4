package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.Migrations;
import io.genguard.testsupport.IntegrationInfrastructure;
import org.junit.jupiter.api.Test;

/**
 * Migration V19 on a store that recorded the gate's restatements before {@code gate_restatement}
 * existed: each becomes a row, from its audit record's payload (v1: no outcome named); other
 * records do not.
 */
class RestatementMigrationITCase {
  @Test
  void shouldKeepTheRestatementsRecordedBeforeTheTableExisted() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("restatement_migration_it");
    Migrations.migrate(url, infra, "18");
    Migrations.execute(
        url,
        infra,
        "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
            + " source_partition, source_offset, payload, recorded_at, prev_hash, hash,"
            + " chain_version) values"
            + " (1, 'rs-1', 'GateDecisionRestated', 'acme', 'r1', 'gate.restatements', 0, 1,"
            + " '{\"decidedAt\":\"2026-12-05T09:00:00Z\",\"decision\":\"RELEASED\","
            + "\"eventId\":\"rs-1\",\"outputId\":\"out-1\",\"requestId\":\"r1\","
            + "\"restatedAt\":\"2026-12-05T10:00:00.123Z\",\"tenantId\":\"acme\"}',"
            + " now(), '\\x00', '\\x00', 1),"
            + " (2, 'other', 'GenerationRequest', 'acme', 'r1', 'gen.requests', 0, 1, '{}',"
            + " now(), '\\x00', '\\x00', 1)");

    Migrations.migrate(url, infra, "latest");

    assertThat(
            Migrations.rows(
                url,
                infra,
                "select event_id, request_id, tenant_id, output_id, decision,"
                    + " decided_at at time zone 'UTC', restated_at at time zone 'UTC',"
                    + " outcome_event_id, outcome_basis from gate_restatement"))
        .containsExactly(
            "rs-1 r1 acme out-1 RELEASED 2026-12-05 09:00:00 2026-12-05 10:00:00.123 null null");
  }
}
