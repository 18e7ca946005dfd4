package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.ChainVerifier.Problem;
import io.genguard.audit.persistence.ChainVerifier.Verification;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chain version 3 on real PostgreSQL: a tombstone's remaining columns stay bound by its digest (the
 * payload's SHA-256 stands in the canonical record), chains of versions 2 and 3 verify together,
 * and an erasure of version-3 records leaves a chain that verifies.
 */
class ChainVersionThreeITCase {
  private static final Instant LONG_AGO = Instant.parse("2026-01-10T09:00:00Z");
  private static final Instant RECENTLY = Instant.parse("2026-11-20T09:00:00Z");
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);

  private AuditDatabase database;

  @BeforeEach
  void freshDatabase(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("chain3_", test), infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  @AfterEach
  void close() {
    database.close();
  }

  private void stories() throws Exception {
    new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO)));
    new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
        .write(AuditEvents.story(Scenario.of("acme-new", "acme", Decision.RELEASE, RECENTLY)));
  }

  /** acme's own period (30 days) tombstones acme-old's four records (seqs 1-4). */
  private long tenantRetention() throws Exception {
    Retention retention = new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0);
    retention.set("acme", 30, ADMIN);
    long retentionSeq = retention.apply(ADMIN).get(0).retentionSeq();
    Verification verified = ChainVerifier.verify(database.dataSource());
    assertThat(verified.valid()).as(verified.summary()).isTrue();
    assertThat(verified.tombstones()).isEqualTo(4);
    return retentionSeq;
  }

  @Test
  void shouldWriteVersionThreeRecordsWhoseTombstonesKeepThePayloadHash() throws Exception {
    stories();
    tenantRetention();

    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery("select * from audit_log where seq <= 4 order by seq")) {
      while (rs.next()) {
        assertThat(rs.getInt("chain_version")).isEqualTo(3);
        assertThat(rs.getString("payload")).as("a tombstone").isNull();
        assertThat(rs.getBytes("payload_sha256")).hasSize(32);
        // Recomputed from what the tombstone still holds.
        assertThat(AuditChain.digest(AuditChain.Entry.read(rs)))
            .isEqualTo(rs.getBytes("entry_digest"));
      }
    }
  }

  @Test
  void shouldFailVerificationWhenATombstoneIsMovedToAnotherRequest() throws Exception {
    stories();
    tenantRetention();
    // The tenant's retention record takes in any acme record before its cutoff: only the digest
    // can tell that this tombstone was acme-old's.
    execute("update audit_log set request_id = 'acme-new' where seq = 2");

    Verification moved = ChainVerifier.verify(database.dataSource());

    assertThat(moved.valid()).isFalse();
    assertThat(moved.firstBreak().seq()).isEqualTo(2);
    assertThat(moved.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
    assertThat(moved.firstBreak().detail())
        .contains("the tombstone's columns no longer match its stored digest");
  }

  @Test
  void shouldFailVerificationWhenATombstoneTakesTheEventIdOfAnEventStillToCome() throws Exception {
    stories();
    tenantRetention();
    // The writer would drop the real event with this id as a duplicate.
    execute("update audit_log set event_id = 'event-still-to-come' where seq = 3");

    Verification renamed = ChainVerifier.verify(database.dataSource());

    assertThat(renamed.valid()).isFalse();
    assertThat(renamed.firstBreak().seq()).isEqualTo(3);
    assertThat(renamed.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
  }

  @Test
  void shouldFailVerificationWhenATombstonesTypeTimeOrPayloadHashIsEdited() throws Exception {
    stories();
    tenantRetention();
    for (String edit :
        new String[] {
          "event_type = 'ApiAction'",
          "recorded_at = recorded_at - interval '1 day'",
          "source_offset = source_offset + 1",
          "payload_sha256 = sha256('other')"
        }) {
      String before =
          text("select " + edit.split(" = ")[0] + "::text from audit_log where seq = 4");
      execute("update audit_log set " + edit + " where seq = 4");
      Verification edited = ChainVerifier.verify(database.dataSource());
      assertThat(edited.valid()).as(edit).isFalse();
      assertThat(edited.firstBreak().seq()).as(edit).isEqualTo(4);
      assertThat(edited.firstBreak().problem()).as(edit).isEqualTo(Problem.CONTENT_MODIFIED);
      execute(
          "update audit_log set "
              + edit.split(" = ")[0]
              + " = '"
              + before
              + "'::"
              + (edit.startsWith("payload_sha256") ? "bytea" : "text")
              + (edit.startsWith("recorded_at")
                  ? "::timestamptz"
                  : edit.startsWith("source_offset") ? "::bigint" : "")
              + " where seq = 4");
      assertThat(ChainVerifier.verify(database.dataSource()).valid()).as(edit).isTrue();
    }
  }

  @Test
  void shouldFailVerificationWhenATombstoneIsDowngradedToVersionTwo() throws Exception {
    stories();
    tenantRetention();
    // A version-2 tombstone binds none of its columns: made one by hand, then moved.
    execute(
        "update audit_log set chain_version = 2, payload_sha256 = null, request_id = 'acme-new'"
            + " where seq = 2");

    Verification downgraded = ChainVerifier.verify(database.dataSource());

    assertThat(downgraded.valid()).isFalse();
    assertThat(downgraded.firstBreak().seq()).isEqualTo(2);
    assertThat(downgraded.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
    assertThat(downgraded.firstBreak().detail()).contains("versions never go down");
  }

  @Test
  void shouldVerifyAChainOfVersionTwoRecordsContinuedWithVersionThree(@TempDir Path dir)
      throws Exception {
    // Records written before migration V28, by hand as that writer did: version 2.
    byte[] previous = AuditChain.GENESIS;
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement insert =
            connection.prepareStatement(
                "insert into audit_log (seq, event_id, event_type, tenant_id, request_id,"
                    + " source_topic, source_partition, source_offset, payload, recorded_at,"
                    + " chain_version, entry_digest, prev_hash, hash) values (?, ?,"
                    + " 'GenerationRequest', 'acme', ?, 'gen.requests', 0, ?, ?, ?, 2, ?, ?, ?)")) {
      for (int seq = 1; seq <= 3; seq++) {
        AuditChain.Entry entry =
            new AuditChain.Entry(
                2,
                seq,
                "v2-" + seq,
                "GenerationRequest",
                "acme",
                "acme-v2-" + seq,
                "gen.requests",
                0,
                seq,
                "{\"n\":" + seq + "}",
                LONG_AGO);
        byte[] digest = AuditChain.digest(entry);
        byte[] hash = AuditChain.link(previous, digest);
        insert.setLong(1, seq);
        insert.setString(2, entry.eventId());
        insert.setString(3, entry.requestId());
        insert.setLong(4, seq);
        insert.setString(5, entry.payload());
        insert.setObject(6, OffsetDateTime.ofInstant(LONG_AGO, ZoneOffset.UTC));
        insert.setBytes(7, digest);
        insert.setBytes(8, previous);
        insert.setBytes(9, hash);
        insert.executeUpdate();
        previous = hash;
      }
    }
    AnchorLog anchors = new AnchorLog(dir.resolve("anchors.jsonl"), Clock.systemUTC());
    anchors.publish(database.dataSource()); // the head of the version-2 records
    stories(); // seqs 4-11, version 3

    Verification mixed = ChainVerifier.verify(database.dataSource());
    assertThat(mixed.valid()).as(mixed.summary()).isTrue();
    assertThat(mixed.records()).isEqualTo(11);
    assertThat(text("select string_agg(chain_version::text, '' order by seq) from audit_log"))
        .isEqualTo("22233333333");

    // acme's period removes old content of both versions: the chain still verifies, from its
    // start and from the version-2 head, and every anchor holds.
    Retention retention = new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0);
    retention.set("acme", 30, ADMIN);
    assertThat(retention.apply(ADMIN)).hasSize(1);
    assertThat(text("select count(*) from audit_log where payload is null")).isEqualTo("7");
    anchors.publish(database.dataSource());
    Verification after =
        ChainVerifier.verify(database.dataSource(), AnchorLog.read(anchors.file()).anchors());
    assertThat(after.valid()).as(after.summary()).isTrue();
    assertThat(after.tombstones()).isEqualTo(7);
    assertThat(after.anchorsMatched()).isEqualTo(2);
    Verification fromHead =
        ChainVerifier.verifyFrom(
            database.dataSource(),
            AnchorLog.read(anchors.file()).anchors().get(0),
            AnchorLog.read(anchors.file()).anchors());
    assertThat(fromHead.valid()).as(fromHead.summary()).isTrue();
    assertThat(fromHead.fromSeq()).isEqualTo(3);

    // A version-2 record after version 3 is an old writer still running: refused, not appended.
    assertThatThrownBy(
            () ->
                execute(
                    "insert into audit_log (seq, event_id, event_type, tenant_id, request_id,"
                        + " source_topic, source_partition, source_offset, payload, recorded_at,"
                        + " chain_version, entry_digest, prev_hash, hash) select max(seq) + 1,"
                        + " 'late-v2', 'GenerationRequest', 'acme', 'r', 'gen.requests', 0, 99,"
                        + " '{}', now(), 2, sha256('x'), sha256('y'), sha256('z') from audit_log"))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("an audit service older than migration V28");
  }

  @Test
  void shouldKeepTheChainVerifiableWhenAVersionThreeRequestIsErased() throws Exception {
    stories();
    Retention.Erased erased =
        new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
            .erase("acme-new", "DSR-2026-400", ADMIN);
    assertThat(erased.tombstoned()).isEqualTo(4);
    assertThat(erased.keptVersionOne()).isZero();
    assertThat(
            text(
                "select count(*) from audit_log where request_id = 'acme-new' and payload is null"
                    + " and chain_version = 3 and payload_sha256 is not null"))
        .isEqualTo("4");

    Verification verified = ChainVerifier.verify(database.dataSource());
    assertThat(verified.valid()).as(verified.summary()).isTrue();
    assertThat(verified.tombstones()).isEqualTo(4);

    // An erased record given to the other request, which no erasure took in: its digest says so
    // before the erasure record is asked.
    execute("update audit_log set request_id = 'acme-old' where seq = 6");
    Verification moved = ChainVerifier.verify(database.dataSource());
    assertThat(moved.valid()).isFalse();
    assertThat(moved.firstBreak().seq()).isEqualTo(6);
    assertThat(moved.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
  }

  /**
   * The version trigger (migration V28) runs its function only for a record below version 3
   * (migration V36): a version-3 record, the highest version allowed, can never go down, and the
   * function's lookup of the record before was 14-34% of each append's insert. Counted in the
   * transaction's own function statistics: a version-2 record calls it, the writer's version-3
   * records do not.
   */
  @Test
  void shouldNotRunTheVersionTriggersFunctionForVersionThreeRecords() throws Exception {
    try (Connection connection = database.dataSource().getConnection()) {
      try (Statement statement = connection.createStatement()) {
        statement.execute("set track_functions = 'pl'");
      }
      connection.setAutoCommit(false);
      try {
        try (Statement statement = connection.createStatement()) {
          statement.execute(
              "insert into audit_log (seq, event_id, event_type, tenant_id, request_id,"
                  + " source_topic, source_partition, source_offset, payload, recorded_at,"
                  + " chain_version, entry_digest, prev_hash, hash) values (1, 'old-v2',"
                  + " 'GenerationRequest', 'acme', 'r', 'gen.requests', 0, 1, '{}', now(), 2,"
                  + " sha256('x'), sha256('y'), sha256('z'))");
        }
        assertThat(versionTriggerCalls(connection)).isEqualTo(1);

        List<ChainRecord> records = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          records.add(
              new ChainRecord(
                  "v3-" + i,
                  "GenerationRequest",
                  "acme",
                  "r",
                  "gen.requests",
                  0,
                  2 + i,
                  "{\"n\":" + i + "}",
                  null));
        }
        assertThat(ChainAppender.append(connection, records, NOW)).isEqualTo(4);
        try (Statement statement = connection.createStatement();
            ResultSet rs =
                statement.executeQuery("select count(*) from audit_log where chain_version = 3")) {
          rs.next();
          assertThat(rs.getLong(1)).isEqualTo(3);
        }
        assertThat(versionTriggerCalls(connection)).isEqualTo(1);
      } finally {
        connection.rollback();
      }
    }
  }

  /** Calls of the version trigger's function in the connection's transaction so far. */
  private static long versionTriggerCalls(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select coalesce(sum(calls), 0) from pg_stat_xact_user_functions"
                    + " where funcname = 'audit_log_version_not_lower'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void execute(String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private String text(String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
