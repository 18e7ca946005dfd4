package io.genguard.audit.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Appends records to the end of the hash chain inside the caller's transaction. Every appender
 * first takes one transaction-scoped advisory lock, so concurrent writers (the ingestor, API calls,
 * retention, several service instances) still build one unbroken chain; the lock is released when
 * the caller's transaction commits or rolls back.
 */
public final class ChainAppender {
  /** Advisory lock key: "genguard" in ASCII. */
  static final long CHAIN_LOCK = 0x67656e6775617264L;

  private ChainAppender() {}

  /** The last record of the chain: its seq (0 when empty) and hash (genesis when empty). */
  public record Tail(long seq, byte[] hash) {}

  /** Takes the chain lock for the rest of the transaction (re-entrant within it). */
  public static void lock(Connection connection) throws SQLException {
    try (PreparedStatement lock = connection.prepareStatement("select pg_advisory_xact_lock(?)")) {
      lock.setLong(1, CHAIN_LOCK);
      lock.execute();
    }
  }

  /** The chain's last record; call with the lock held. */
  public static Tail tail(Connection connection) throws SQLException {
    try (PreparedStatement tail =
            connection.prepareStatement(
                "select seq, hash from audit_log order by seq desc limit 1");
        ResultSet rs = tail.executeQuery()) {
      return rs.next() ? new Tail(rs.getLong(1), rs.getBytes(2)) : new Tail(0, AuditChain.GENESIS);
    }
  }

  /**
   * Locks the chain and appends the records in order, all with the same recorded time (truncated to
   * microseconds, what timestamptz keeps, so a verifier recomputes the same text).
   *
   * @return the seq of the last record appended
   */
  public static long append(Connection connection, List<ChainRecord> records, Instant now)
      throws SQLException {
    Instant recordedAt = now.truncatedTo(ChronoUnit.MICROS);
    OffsetDateTime recordedAtColumn = OffsetDateTime.ofInstant(recordedAt, ZoneOffset.UTC);
    // Everything but the seq is known now: prepare the digests before taking the lock, so that
    // other writers wait only for the seq to be hashed in.
    // One SHA-256 for all of this call's digests (this thread's alone; it resets before each).
    AuditChain.Hasher hasher = new AuditChain.Hasher();
    List<AuditChain.Entry> entries = new ArrayList<>(records.size());
    List<byte[]> payloadDigests = new ArrayList<>(records.size());
    List<AuditChain.PendingDigest> digests = new ArrayList<>(records.size());
    for (ChainRecord record : records) {
      byte[] payloadSha256 =
          AuditChain.CURRENT_VERSION >= 3 && record.payload() != null
              ? hasher.payloadSha256(record.payload())
              : null;
      AuditChain.Entry entry = entry(record, recordedAt, payloadSha256);
      entries.add(entry);
      payloadDigests.add(payloadSha256);
      digests.add(AuditChain.pendingDigest(entry));
    }
    lock(connection);
    Tail tail = tail(connection);
    if (records.isEmpty()) {
      return tail.seq();
    }
    long seq = tail.seq();
    byte[] previous = tail.hash();
    try (PreparedStatement insert =
        connection.prepareStatement(
            "insert into audit_log (seq, event_id, event_type, tenant_id, request_id, source_topic,"
                + " source_partition, source_offset, payload, recorded_at, chain_version, entry_digest,"
                + " prev_hash, hash, payload_sha256, judgement_sha256) values (?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (int i = 0; i < entries.size(); i++) {
        seq++;
        AuditChain.Entry entry = entries.get(i).withSeq(seq);
        byte[] digest = digests.get(i).digest(seq, hasher);
        byte[] hash = hasher.link(previous, digest);
        insert.setLong(1, seq);
        insert.setString(2, entry.eventId());
        insert.setString(3, entry.eventType());
        insert.setString(4, entry.tenantId());
        insert.setString(5, entry.requestId());
        insert.setString(6, entry.sourceTopic());
        insert.setInt(7, entry.sourcePartition());
        insert.setLong(8, entry.sourceOffset());
        insert.setString(9, entry.payload());
        insert.setObject(10, recordedAtColumn);
        insert.setInt(11, entry.chainVersion());
        insert.setBytes(12, digest);
        insert.setBytes(13, previous);
        insert.setBytes(14, hash);
        insert.setBytes(15, payloadDigests.get(i)); // the bytes entry.payloadSha256() is the hex of
        String judgement = records.get(i).judgementSha256();
        insert.setBytes(16, judgement == null ? null : HexFormat.of().parseHex(judgement));
        insert.addBatch();
        previous = hash;
      }
      insert.executeBatch();
    }
    return seq;
  }

  /**
   * The record as hashed, its seq still open (0), with its payload's SHA-256 (null without a
   * payload), as the entry's own constructor would compute it.
   */
  private static AuditChain.Entry entry(
      ChainRecord record, Instant recordedAt, byte[] payloadSha256) {
    return new AuditChain.Entry(
        AuditChain.CURRENT_VERSION,
        0,
        record.eventId(),
        record.eventType(),
        record.tenantId(),
        record.requestId(),
        record.sourceTopic(),
        record.sourcePartition(),
        record.sourceOffset(),
        record.payload(),
        recordedAt,
        AuditChain.hex(payloadSha256));
  }
}
