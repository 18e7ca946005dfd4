package io.genguard.audit.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.events.v1.DeadLetter;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Recomputes the whole hash chain from the genesis and reports the first broken link: a gap in the
 * sequence (records deleted), a record whose previous-hash does not match its predecessor (records
 * deleted, inserted or reordered), a record whose content no longer matches its hash (a value
 * edited), or a tombstone no retention record accounts for. Reads one consistent snapshot through a
 * cursor, so it needs little memory and may run while the service writes.
 *
 * <p>What a chain alone cannot show: removal of the newest records, or a chain rebuilt from an
 * edited record on by someone who can write the database. Both show against heads kept elsewhere
 * ({@link #verify(DataSource, List)}, {@link AnchorLog}).
 */
public final class ChainVerifier {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The field of a {@code RetentionApplied} record that lists, by seq, the dead letters it emptied:
   * a dead letter names no request and no tenant of its own (its source key names the request), so
   * the record that removed its content names it instead, and the verifier accepts the removal of
   * exactly those.
   */
  public static final String DEAD_LETTER_SEQS = "deadLetterSeqs";

  /** Event type of dead letters in the chain. */
  public static final String DEAD_LETTER_TYPE = DeadLetter.getClassSchema().getName();

  private ChainVerifier() {}

  /** What kind of break was found. */
  public enum Problem {
    /** A seq is missing: the record(s) between were deleted. */
    SEQUENCE_GAP,
    /**
     * prev_hash differs from the previous record's hash: records deleted, inserted or reordered.
     */
    PREVIOUS_HASH_MISMATCH,
    /** The stored content no longer produces the stored hash: a value in this record was edited. */
    CONTENT_MODIFIED,
    /**
     * The record's content was removed, but no retention record accounts for the removal: a run of
     * its tenant's (or the default) period whose cutoff is after the record's time, or an erasure
     * of its request; for a dead letter, also a retention record that names it ({@link
     * #DEAD_LETTER_SEQS}).
     */
    UNJUSTIFIED_TOMBSTONE,
    /** A retention record says it removed n records, but a different number point to it. */
    TOMBSTONE_COUNT_MISMATCH,
    /** The record at the anchor's seq does not have the anchor's hash, or is gone. */
    ANCHOR_MISMATCH
  }

  /**
   * A head recorded earlier (e.g. printed by a previous verification and kept outside the
   * database): the record with this seq must still have this hash.
   */
  public record Anchor(long seq, String hashHex) {
    /**
     * A head given as two values, a seq and its hash, as a previous verification reported them (the
     * API's query parameters, the command line's options), or null when neither is given; {@code
     * seqName} and {@code hashName} name them in errors.
     *
     * @throws IllegalArgumentException when only one is given, the seq is not a record number or
     *     the hash is not 64 hexadecimal characters
     */
    public static Anchor given(String seqName, String seq, String hashName, String hash) {
      if (seq == null && hash == null) {
        return null;
      }
      if (seq == null || hash == null) {
        throw new IllegalArgumentException(
            seqName
                + " and "
                + hashName
                + " go together: give both, as a previous verification reported them (head seq"
                + " and hash)");
      }
      if (!hash.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(
            hashName + " '" + hash + "' is not 64 hexadecimal characters");
      }
      long number;
      try {
        number = Long.parseLong(seq);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(seqName + " '" + seq + "' is not a whole number");
      }
      if (number < 1) {
        throw new IllegalArgumentException(
            seqName + " is a record number, at least 1; got " + number);
      }
      return new Anchor(number, hash);
    }
  }

  /** The first broken link. */
  public record Break(long seq, String eventId, Problem problem, String detail) {}

  /**
   * The result.
   *
   * @param valid true when the whole chain verified
   * @param records records checked (up to the break, if any)
   * @param tombstones tombstoned records among them
   * @param headSeq seq of the last record checked
   * @param headHash hex hash of the last record checked
   * @param anchorsMatched anchors whose record was reached and had the anchor's hash
   * @param firstBreak the first broken link, or null
   * @param millis how long the check took
   * @param fromSeq the first record checked: 1 for the whole chain, else the seq of the head the
   *     check started from ({@link #verifyFrom})
   * @param neverAuditedRanges {@link UnreadRecords} records among those checked: ranges of Kafka
   *     records the broker deleted before the audit service read them (or a partition that ended
   *     before where it had read to)
   * @param neverAuditedRecords the Kafka records in those ranges that were deleted unread
   */
  public record Verification(
      boolean valid,
      long records,
      long tombstones,
      long headSeq,
      String headHash,
      long anchorsMatched,
      Break firstBreak,
      long millis,
      long fromSeq,
      long neverAuditedRanges,
      long neverAuditedRecords) {

    /** One line for people and logs. */
    public String summary() {
      if (valid) {
        return "Audit chain OK"
            + (fromSeq > 1 ? " from seq " + fromSeq : "")
            + ": "
            + records
            + " records ("
            + tombstones
            + " tombstoned by retention or erasure), head seq "
            + headSeq
            + " hash "
            + headHash
            + (anchorsMatched > 0 ? ", " + anchorsMatched + " anchor(s) matched" : "")
            + (neverAuditedRanges > 0
                ? "; the chain records "
                    + neverAuditedRanges
                    + " range(s) the audit service never read ("
                    + neverAuditedRecords
                    + " Kafka record(s) deleted unread: event type "
                    + UnreadRecords.EVENT_TYPE
                    + ")"
                : "");
      }
      return "Audit chain BROKEN at seq "
          + firstBreak.seq()
          + " (event "
          + firstBreak.eventId()
          + "): "
          + firstBreak.problem()
          + ": "
          + firstBreak.detail()
          + (firstBreak.seq() - 1 < fromSeq
              ? "."
              : ". Records " + fromSeq + ".." + (firstBreak.seq() - 1) + " verified.");
    }
  }

  public static Verification verify(DataSource dataSource) throws SQLException {
    return verify(dataSource, List.of());
  }

  public static Verification verify(DataSource dataSource, Anchor anchor) throws SQLException {
    return verify(dataSource, anchor == null ? List.of() : List.of(anchor));
  }

  /**
   * Verifies the chain and, for every anchor, that the record with the anchor's seq exists and has
   * the anchor's hash.
   */
  public static Verification verify(DataSource dataSource, List<Anchor> anchors)
      throws SQLException {
    return verify(dataSource, null, anchors);
  }

  /**
   * Verifies only the records from {@code from} on: a head an earlier verification reported (its
   * seq and hash, kept outside the database). The record at {@code from.seq()} must still hash,
   * from its own content and previous-hash, to {@code from.hashHex()}, and every record after it
   * must link on as in {@link #verify(DataSource, List)}; tombstones made since by retention
   * records after it are checked wherever they are. This proves that the records after the head
   * extend the chain the head committed to, in time proportional to them; it does not re-check the
   * records before the head, which only the whole walk does. Anchors before the head are not
   * checked.
   */
  public static Verification verifyFrom(DataSource dataSource, Anchor from, List<Anchor> anchors)
      throws SQLException {
    if (from == null || from.seq() < 1 || !from.hashHex().matches("[0-9a-fA-F]{64}")) {
      throw new IllegalArgumentException(
          "The head to start from needs a seq (a record number, at least 1) and a hash (64 hex"
              + " characters), as a previous verification reported them");
    }
    return verify(dataSource, from, anchors);
  }

  private static Verification verify(DataSource dataSource, Anchor from, List<Anchor> anchors)
      throws SQLException {
    for (Anchor anchor : anchors) {
      if (anchor.seq() < 1) {
        throw new IllegalArgumentException(
            "An anchor's seq is a record number, at least 1; got " + anchor.seq());
      }
    }
    // Anchors already in seq order (a file's, AnchorIndex.merged) are walked as they are: a copy
    // would hold every one of them at once.
    List<Anchor> pending = anchors;
    for (int i = 1; i < anchors.size() && pending == anchors; i++) {
      if (anchors.get(i).seq() < anchors.get(i - 1).seq()) {
        pending = new ArrayList<>(anchors);
        pending.sort(Comparator.comparingLong(Anchor::seq));
      }
    }
    if (from != null) {
      int first = 0;
      while (first < pending.size() && pending.get(first).seq() < from.seq()) {
        first++;
      }
      pending = pending.subList(first, pending.size());
    }
    long started = System.nanoTime();
    try (Connection connection = dataSource.getConnection()) {
      // One snapshot for the whole walk: records appended meanwhile are simply not seen.
      connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      connection.setAutoCommit(false);
      try {
        Verification result = walk(connection, from, pending, started);
        connection.commit();
        return result;
      } finally {
        connection.rollback();
        connection.setAutoCommit(true);
        connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
      }
    }
  }

  /**
   * A retention or erasure record ({@code RetentionApplied}) as the checks of a removal need it:
   * the verifier's, and an evidence bundle's check, which accepts a record whose content was
   * removed only when such a record of the bundle accounts for it.
   *
   * @param scope {@code TENANT} (one tenant's period), {@code DEFAULT} (every tenant without a
   *     period of its own, and records of no tenant) or {@code REQUEST} (an erasure)
   * @param tenantId the tenant of a {@code TENANT} retention or an erasure
   * @param requestId the request an erasure erased (null for retention)
   * @param excluded the tenants a {@code DEFAULT} retention left to their own periods
   * @param cutoff only records recorded before it lost their content
   * @param tombstoned how many records lost their content
   */
  public record RetentionRecord(
      String scope,
      String tenantId,
      String requestId,
      Set<String> excluded,
      Instant cutoff,
      long tombstoned,
      Set<Long> deadLetters) {

    /** The event type of retention and erasure records. */
    public static final String EVENT_TYPE = "RetentionApplied";

    /**
     * Reads one from a {@value #EVENT_TYPE} record's payload.
     *
     * @throws IllegalArgumentException when the payload names no scope or no cutoff instant
     */
    public static RetentionRecord read(JsonNode payload) {
      if (payload == null || !payload.path("scope").isTextual()) {
        throw new IllegalArgumentException("a retention record names its scope");
      }
      Instant cutoff;
      try {
        cutoff = Instant.parse(payload.path("cutoff").asText());
      } catch (java.time.DateTimeException e) {
        throw new IllegalArgumentException("a retention record names its cutoff", e);
      }
      Set<String> excluded = new HashSet<>();
      payload.path("excludedTenants").forEach(tenant -> excluded.add(tenant.asText()));
      Set<Long> deadLetters = new HashSet<>();
      payload.path(DEAD_LETTER_SEQS).forEach(seq -> deadLetters.add(seq.asLong()));
      return new RetentionRecord(
          payload.path("scope").asText(),
          payload.path("tenantId").isNull() ? null : payload.path("tenantId").asText(),
          payload.path("requestId").isTextual() ? payload.get("requestId").asText() : null,
          excluded,
          cutoff,
          payload.path("tombstoned").asLong(),
          deadLetters);
    }

    /**
     * Why this record, at {@code retentionSeq}, does not account for the removal of record {@code
     * seq}'s content (of {@code tenant} and {@code requestId}, recorded at {@code recordedAt}), or
     * null when it does: it must come after the record, its cutoff after the record's time, and its
     * scope must take the record in (an erasure: the record's request; a tenant's retention: the
     * record's tenant; the default: a tenant it did not leave to its own period, or none). A dead
     * letter, which names no request, is in scope when the record lists its seq ({@value
     * #DEAD_LETTER_SEQS}).
     */
    public String unjustified(
        long seq,
        String eventType,
        String tenant,
        String requestId,
        Instant recordedAt,
        long retentionSeq) {
      if (retentionSeq <= seq) {
        return "retention record " + retentionSeq + " is not after the record";
      }
      if (!recordedAt.isBefore(cutoff)) {
        return "recorded at " + recordedAt + ", not before the retention cutoff " + cutoff;
      }
      if (DEAD_LETTER_TYPE.equals(eventType) && deadLetters.contains(seq)) {
        // A dead letter of the erased request, or of a request of the tenant whose period passed:
        // named by the retention record, since the dead letter names neither.
        return null;
      }
      if (scope.equals("REQUEST")) {
        // An erasure: one request's records, whatever their tenant's period.
        if (this.requestId == null || !this.requestId.equals(requestId)) {
          return "a record of request "
              + requestId
              + ", but erasure record "
              + retentionSeq
              + " erased request "
              + this.requestId;
        }
        return null;
      }
      boolean inScope =
          scope.equals("TENANT")
              ? tenantId != null && tenantId.equals(tenant)
              : tenant == null || !excluded.contains(tenant);
      if (!inScope) {
        return "tenant " + tenant + " is outside the scope of retention record " + retentionSeq;
      }
      return null;
    }
  }

  /** How far a walk got: what a result reports, broken or not. */
  private static final class Walked {
    private final long fromSeq;
    private final long started;
    private byte[] previous = AuditChain.GENESIS;

    /** The chain version of the last record walked (a record's may not be lower). */
    private int version;

    private long lastSeq;
    private long records;
    private long tombstones;
    private int nextAnchor;
    private long neverAuditedRanges;
    private long neverAuditedRecords;

    Walked(long fromSeq, long started) {
      this.fromSeq = fromSeq;
      this.started = started;
      this.lastSeq = fromSeq - 1;
    }

    /** A {@link UnreadRecords} record: a range of Kafka records the audit store never read. */
    void neverAudited(String payload) {
      neverAuditedRanges++;
      try {
        neverAuditedRecords += Math.max(0, JSON.readTree(payload).path("records").asLong(0));
      } catch (IOException e) {
        // Its hash held, so the audit service wrote it so: counted as a range of unknown size.
      }
    }

    /** The result when {@code problem} is the first broken link after the records walked. */
    Verification broken(Break problem) {
      return result(false, problem);
    }

    /** The result when every record walked held. */
    Verification verified() {
      return result(true, null);
    }

    private Verification result(boolean valid, Break problem) {
      return new Verification(
          valid,
          records,
          tombstones,
          lastSeq,
          AuditChain.hex(previous),
          nextAnchor,
          problem,
          (System.nanoTime() - started) / 1_000_000,
          fromSeq,
          neverAuditedRanges,
          neverAuditedRecords);
    }
  }

  private static Verification walk(
      Connection connection, Anchor from, List<Anchor> anchors, long started) throws SQLException {
    long fromSeq = from == null ? 1 : from.seq();
    Map<Long, RetentionRecord> retention = retentionRecords(connection);
    Map<Long, Long> tombstonesPerRecord = new HashMap<>();
    Walked walked = new Walked(fromSeq, started);
    if (from != null) {
      // Records before the head that retention records after it emptied: not walked, but their
      // removal is checked and counted as the walk checks and counts the others.
      Break unjustified = tombstonesBefore(connection, fromSeq, retention, tombstonesPerRecord);
      if (unjustified != null) {
        return walked.broken(unjustified);
      }
    }
    try (PreparedStatement query =
        connection.prepareStatement(
            "select seq, event_id, event_type, tenant_id, request_id, source_topic, source_partition, source_offset,"
                + " payload, recorded_at, chain_version, entry_digest, prev_hash, hash, tombstone_seq,"
                + " payload_sha256"
                + " from audit_log where seq >= ? order by seq")) {
      query.setLong(1, fromSeq);
      query.setFetchSize(5_000);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong("seq");
          String eventId = rs.getString("event_id");
          if (from != null && walked.records == 0) {
            if (seq != fromSeq) {
              return walked.broken(headGone(from, eventId));
            }
            // The head's own link to the records before it; the head's hash binds it.
            walked.previous = rs.getBytes("prev_hash");
          }
          if (seq != walked.lastSeq + 1) {
            return walked.broken(
                new Break(
                    seq,
                    eventId,
                    Problem.SEQUENCE_GAP,
                    "expected seq "
                        + (walked.lastSeq + 1)
                        + " but found "
                        + seq
                        + ": "
                        + (seq - (walked.lastSeq + 1))
                        + " record(s) before it were deleted"));
          }
          byte[] prevHash = rs.getBytes("prev_hash");
          byte[] hash = rs.getBytes("hash");
          if (!Arrays.equals(prevHash, walked.previous)) {
            return walked.broken(
                new Break(
                    seq,
                    eventId,
                    Problem.PREVIOUS_HASH_MISMATCH,
                    "prev_hash "
                        + AuditChain.hex(prevHash)
                        + " does not equal the hash of record "
                        + (seq - 1)
                        + " ("
                        + AuditChain.hex(walked.previous)
                        + "): records were deleted, inserted or reordered, or prev_hash was edited"));
          }
          int version = rs.getInt("chain_version");
          String payload = rs.getString("payload");
          Instant recordedAt = rs.getObject("recorded_at", OffsetDateTime.class).toInstant();
          String tenant = rs.getString("tenant_id");
          AuditChain.Entry entry =
              new AuditChain.Entry(
                  version,
                  seq,
                  eventId,
                  rs.getString("event_type"),
                  tenant,
                  rs.getString("request_id"),
                  rs.getString("source_topic"),
                  rs.getInt("source_partition"),
                  rs.getLong("source_offset"),
                  payload,
                  recordedAt,
                  version == 3 ? AuditChain.hex(rs.getBytes("payload_sha256")) : null);
          if (version < walked.version) {
            return walked.broken(
                new Break(
                    seq,
                    eventId,
                    Problem.CONTENT_MODIFIED,
                    "chain_version "
                        + version
                        + " after a record of version "
                        + walked.version
                        + ": versions never go down along the chain, so this record's version was"
                        + " edited"));
          }
          walked.version = version;
          if (version == 3) {
            // Every column is bound, tombstone or not: the digest is recomputed over them and the
            // stored payload hash, which the payload (while there) must match.
            String modified = versionThreeModified(entry, rs.getBytes("entry_digest"));
            if (modified != null) {
              return walked.broken(new Break(seq, eventId, Problem.CONTENT_MODIFIED, modified));
            }
          }
          byte[] expected;
          if (payload == null) {
            byte[] digest = rs.getBytes("entry_digest");
            long retentionSeq = rs.getLong("tombstone_seq");
            RetentionRecord justification = rs.wasNull() ? null : retention.get(retentionSeq);
            String unjustified =
                unjustified(
                    version,
                    digest,
                    seq,
                    rs.getString("event_type"),
                    tenant,
                    rs.getString("request_id"),
                    recordedAt,
                    retentionSeq,
                    justification);
            if (unjustified != null) {
              return walked.broken(
                  new Break(seq, eventId, Problem.UNJUSTIFIED_TOMBSTONE, unjustified));
            }
            walked.tombstones++;
            tombstonesPerRecord.merge(retentionSeq, 1L, Long::sum);
            expected = AuditChain.link(walked.previous, digest);
          } else {
            if (version != 1 && version != 2 && version != 3) {
              return walked.broken(
                  new Break(
                      seq,
                      eventId,
                      Problem.CONTENT_MODIFIED,
                      "chain_version " + version + " is not a version this build knows"));
            }
            if (version == 2
                && !Arrays.equals(AuditChain.digest(entry), rs.getBytes("entry_digest"))) {
              return walked.broken(
                  new Break(
                      seq,
                      eventId,
                      Problem.CONTENT_MODIFIED,
                      "the record's content no longer matches its stored digest:"
                          + " a column of this record was edited"));
            }
            expected = AuditChain.hash(walked.previous, entry);
          }
          if (!Arrays.equals(expected, hash)) {
            return walked.broken(
                new Break(
                    seq,
                    eventId,
                    Problem.CONTENT_MODIFIED,
                    "recomputed hash "
                        + AuditChain.hex(expected)
                        + " differs from the"
                        + " stored hash "
                        + AuditChain.hex(hash)
                        + ": the record or its hash was edited"));
          }
          if (payload != null && UnreadRecords.EVENT_TYPE.equals(rs.getString("event_type"))) {
            walked.neverAudited(payload);
          }
          if (from != null
              && seq == fromSeq
              && !AuditChain.hex(hash).equalsIgnoreCase(from.hashHex())) {
            return walked.broken(
                new Break(
                    seq,
                    eventId,
                    Problem.ANCHOR_MISMATCH,
                    "the head to start from says seq "
                        + seq
                        + " has hash "
                        + from.hashHex()
                        + " but the chain has "
                        + AuditChain.hex(hash)
                        + ": the chain was rewritten from this record or earlier (or the head"
                        + " was altered)"));
          }
          while (walked.nextAnchor < anchors.size()
              && anchors.get(walked.nextAnchor).seq() == seq) {
            Anchor anchor = anchors.get(walked.nextAnchor);
            if (!AuditChain.hex(hash).equalsIgnoreCase(anchor.hashHex())) {
              return walked.broken(
                  new Break(
                      seq,
                      eventId,
                      Problem.ANCHOR_MISMATCH,
                      "the anchor says seq "
                          + seq
                          + " has hash "
                          + anchor.hashHex()
                          + " but the chain has "
                          + AuditChain.hex(hash)
                          + ": the chain was rewritten from this record or earlier (or the"
                          + " anchor was altered)"));
            }
            walked.nextAnchor++;
          }
          walked.previous = hash;
          walked.records++;
          walked.lastSeq++;
        }
      }
    }
    if (from != null && walked.records == 0) {
      return walked.broken(headGone(from, null));
    }
    if (walked.nextAnchor < anchors.size()) {
      Anchor anchor = anchors.get(walked.nextAnchor);
      return walked.broken(
          new Break(
              anchor.seq(),
              null,
              Problem.ANCHOR_MISMATCH,
              "the anchor names seq "
                  + anchor.seq()
                  + " but the chain ends at seq "
                  + walked.lastSeq
                  + ": the newest records were removed"));
    }
    for (Map.Entry<Long, RetentionRecord> entry : retention.entrySet()) {
      if (entry.getKey() < fromSeq) {
        continue; // all its tombstones are before the head, checked when the head was verified
      }
      long counted = tombstonesPerRecord.getOrDefault(entry.getKey(), 0L);
      if (counted != entry.getValue().tombstoned()) {
        return walked.broken(
            new Break(
                entry.getKey(),
                null,
                Problem.TOMBSTONE_COUNT_MISMATCH,
                "retention record "
                    + entry.getKey()
                    + " removed "
                    + entry.getValue().tombstoned()
                    + " record(s), but "
                    + counted
                    + " tombstone(s) point to it"));
      }
    }
    return walked.verified();
  }

  private static String unjustified(
      int version,
      byte[] digest,
      long seq,
      String eventType,
      String tenant,
      String requestId,
      Instant recordedAt,
      long retentionSeq,
      RetentionRecord justification) {
    if ((version != 2 && version != 3) || digest == null) {
      return "content removed from a version-" + version + " record, which retention never does";
    }
    if (justification == null) {
      return "content removed, but tombstone_seq " + retentionSeq + " is not a retention record";
    }
    return justification.unjustified(seq, eventType, tenant, requestId, recordedAt, retentionSeq);
  }

  /**
   * What is wrong with a version-3 row, or null: its payload (while there) must hash to its stored
   * payload hash, and its columns with that hash to its stored digest. A tombstone is checked the
   * same way, so moving it to another request or giving it another event id, type, tenant, source
   * or time shows.
   */
  private static String versionThreeModified(AuditChain.Entry entry, byte[] storedDigest) {
    if (entry.payloadSha256() == null) {
      return "a version-3 record without its payload hash (payload_sha256): the column was edited";
    }
    if (entry.payload() != null
        && !AuditChain.payloadSha256(entry.payload()).equals(entry.payloadSha256())) {
      return "the record's payload no longer matches its stored SHA-256 (payload_sha256): the"
          + " payload or its hash was edited";
    }
    if (!Arrays.equals(AuditChain.digest(entry), storedDigest)) {
      return entry.payload() == null
          ? "the tombstone's columns no longer match its stored digest: its event id, type,"
              + " tenant, request, source, recorded time or payload hash was edited"
          : "the record's content no longer matches its stored digest: a column of this record"
              + " was edited";
    }
    return null;
  }

  private static Break headGone(Anchor from, String eventId) {
    return new Break(
        from.seq(),
        eventId,
        Problem.ANCHOR_MISMATCH,
        "the head to start from names seq "
            + from.seq()
            + ", which the chain no longer holds: records were removed");
  }

  /**
   * Checks and counts the tombstones before {@code fromSeq} that retention records from it on made
   * (through the tombstone index, not a walk); returns the first one no retention record accounts
   * for, or null.
   */
  private static Break tombstonesBefore(
      Connection connection,
      long fromSeq,
      Map<Long, RetentionRecord> retention,
      Map<Long, Long> tombstonesPerRecord)
      throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "select seq, event_id, event_type, tenant_id, request_id, recorded_at, chain_version,"
                + " entry_digest, tombstone_seq from audit_log where tombstone_seq >= ? and seq < ? and payload is null"
                + " order by seq")) {
      query.setLong(1, fromSeq);
      query.setLong(2, fromSeq);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong("seq");
          long retentionSeq = rs.getLong("tombstone_seq");
          String unjustified =
              unjustified(
                  rs.getInt("chain_version"),
                  rs.getBytes("entry_digest"),
                  seq,
                  rs.getString("event_type"),
                  rs.getString("tenant_id"),
                  rs.getString("request_id"),
                  rs.getObject("recorded_at", OffsetDateTime.class).toInstant(),
                  retentionSeq,
                  retention.get(retentionSeq));
          if (unjustified != null) {
            return new Break(
                seq, rs.getString("event_id"), Problem.UNJUSTIFIED_TOMBSTONE, unjustified);
          }
          tombstonesPerRecord.merge(retentionSeq, 1L, Long::sum);
        }
      }
    }
    return null;
  }

  private static Map<Long, RetentionRecord> retentionRecords(Connection connection)
      throws SQLException {
    Map<Long, RetentionRecord> records = new HashMap<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select seq, payload from audit_log where event_type = '"
                + RetentionRecord.EVENT_TYPE
                + "' and payload is not null")) {
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          try {
            records.put(rs.getLong(1), RetentionRecord.read(JSON.readTree(rs.getString(2))));
          } catch (com.fasterxml.jackson.core.JsonProcessingException
              | IllegalArgumentException e) {
            // An edited retention record: the walk reports it as CONTENT_MODIFIED at its seq.
          }
        }
      }
    }
    return records;
  }
}
