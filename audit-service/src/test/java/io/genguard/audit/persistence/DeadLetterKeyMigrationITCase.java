package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.Migrations;
import io.genguard.testsupport.IntegrationInfrastructure;
import org.junit.jupiter.api.Test;

/**
 * Migration V23 on a store that recorded dead letters before {@code dead_letter.source_key}
 * existed: each gets its key from its audit record's payload, where that key is text a request id
 * could be; one whose content is gone, or whose key is not such text, gets none (and the migration
 * does not fail on it).
 */
class DeadLetterKeyMigrationITCase {
  @Test
  void shouldKeyTheDeadLettersRecordedBeforeTheColumnExisted() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("dead_letter_key_migration_it");
    Migrations.migrate(url, infra, "21");
    StringBuilder records = new StringBuilder();
    StringBuilder rows = new StringBuilder();
    // event id, the key's base64 in the payload (null: no key), whether the content is still there
    String[][] letters = {
      {"dl-text", "\"cmVxLTE=\"", "yes"}, // "req-1"
      {"dl-nul", "\"cmVxAC0y\"", "yes"}, // "req", NUL, "-2": PostgreSQL text cannot hold it
      {"dl-binary", "\"/w==\"", "yes"}, // 0xff: not UTF-8
      {"dl-no-key", "null", "yes"},
      {"dl-removed", null, "no"}
    };
    for (int i = 0; i < letters.length; i++) {
      String[] letter = letters[i];
      String payload =
          letter[2].equals("no")
              ? "null"
              : "'{\"eventId\":\"" + letter[0] + "\",\"key\":" + letter[1] + "}'";
      records
          .append(i == 0 ? "" : ",")
          .append(" (")
          .append(i + 1)
          .append(", '")
          .append(letter[0])
          .append("', 'DeadLetter', null, null, 'gen.outputs.dlq', 0, ")
          .append(i + 1)
          .append(", ")
          .append(payload)
          .append(
              letter[2].equals("no")
                  ? ", now(), '\\x00', '\\x00', 2, '\\x00', now(), 9)"
                  : ", now(), '\\x00', '\\x00', 1, null, null, null)");
      rows.append(i == 0 ? "" : ",")
          .append(" ('")
          .append(letter[0])
          .append("', 'gen.outputs', 0, ")
          .append(i + 1)
          .append(
              ", 'moderation', 'scorer failed', 'java.lang.IllegalStateException', null, now())");
    }
    Migrations.execute(
        url,
        infra,
        "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
            + " source_partition, source_offset, payload, recorded_at, prev_hash, hash,"
            + " chain_version, entry_digest, tombstoned_at, tombstone_seq) values"
            + records,
        "insert into dead_letter (event_id, source_topic, source_partition, source_offset, stage,"
            + " reason, error_class, payload, failed_at) values"
            + rows);

    Migrations.migrate(url, infra, "latest");

    assertThat(
            Migrations.rows(url, infra, "select event_id, source_key from dead_letter order by 1"))
        .containsExactly(
            "dl-binary null", "dl-no-key null", "dl-nul null", "dl-removed null", "dl-text req-1");
  }
}
