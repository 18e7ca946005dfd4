package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.Migrations;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Migration V7 on a database that already holds verdicts: {@code policy_in_use} starts with every
 * policy file they name (when each decided its first and last verdict, how many), and the writer
 * adds to those rows from then on.
 */
class PolicyInUseMigrationITCase {
  private static final Instant T0 = Instant.parse("2026-12-04T09:00:00Z");
  private static final String A = "a".repeat(64);

  @Test
  void shouldCountTheVerdictsRecordedBeforeTheTableExistedAndAddLaterOnes() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("policy_in_use_migration_it");
    Migrations.migrate(url, infra, "6");
    try (Connection connection =
        DriverManager.getConnection(url, infra.jdbcUser(), infra.jdbcPassword())) {
      connection.setAutoCommit(false);
      verdictRow(connection, 1, A, T0.plusSeconds(30));
      verdictRow(connection, 2, A, T0);
      verdictRow(connection, 3, "", T0.plusSeconds(60)); // before ModerationVerdict v2: no file
      connection.commit();
    }

    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      assertThat(uses(database)).containsExactly(A + " 2 " + T0 + " " + T0.plusSeconds(30));

      ModerationVerdict later =
          ModerationVerdict.newBuilder(
                  AuditEvents.verdict(
                      Scenario.of("migrated-4", "acme", Decision.RELEASE, T0.plusSeconds(90))))
              .setPolicySha256(A)
              .build();
      new AuditWriter(database.dataSource(), Clock.systemUTC())
          .write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), later)));
      assertThat(uses(database))
          .containsExactly(A + " 3 " + T0 + " " + T0.plusSeconds(90).plusMillis(20));
    }
  }

  /** A verdict as the audit writer of V6 left it: its audit record and its projection row. */
  private static void verdictRow(Connection connection, int seq, String sha256, Instant decidedAt)
      throws SQLException {
    String eventId = "migrated-event-" + seq;
    try (PreparedStatement log =
        connection.prepareStatement(
            "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
                + " source_partition, source_offset, payload, recorded_at, prev_hash, hash, chain_version)"
                + " values (?, ?, 'ModerationVerdict', 'acme', ?, 'moderation.verdicts', 0, ?, '{}',"
                + " now(), '\\x00', '\\x00', 1)")) {
      log.setLong(1, seq);
      log.setString(2, eventId);
      log.setString(3, "migrated-" + seq);
      log.setLong(4, seq);
      log.executeUpdate();
    }
    try (PreparedStatement verdict =
        connection.prepareStatement(
            "insert into moderation_verdict (verdict_id, event_id, output_id, request_id, tenant_id,"
                + " output_sha256, decision, unsafe_score, category_scores, reasons, groups,"
                + " text_truncated, policy_id, policy_version, scorer_versions, attributes,"
                + " decided_at, policy_sha256) values (?, ?, ?, ?, 'acme', '00', 'RELEASE', 0.1,"
                + " '{}', '[]', '{}', false, 'default', 'migrated.1', '{}', '{}', ?, ?)")) {
      verdict.setString(1, "verdict-" + seq);
      verdict.setString(2, eventId);
      verdict.setString(3, "output-" + seq);
      verdict.setString(4, "migrated-" + seq);
      verdict.setObject(5, OffsetDateTime.ofInstant(decidedAt, ZoneOffset.UTC));
      verdict.setString(6, sha256);
      verdict.executeUpdate();
    }
  }

  private static List<String> uses(AuditDatabase database) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "select sha256, verdicts, first_decided_at, last_decided_at from policy_in_use")) {
      List<String> out = new java.util.ArrayList<>();
      while (rows.next()) {
        out.add(
            rows.getString(1)
                + " "
                + rows.getLong(2)
                + " "
                + rows.getObject(3, OffsetDateTime.class).toInstant()
                + " "
                + rows.getObject(4, OffsetDateTime.class).toInstant());
      }
      return out;
    }
  }
}
