package io.genguard.audit.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HexFormat;

/**
 * The audit log's hash chain, with 32 zero bytes before the first record.
 *
 * <ul>
 *   <li>Version 3 (written now, since migration V28): as version 2, but the canonical record holds
 *       the SHA-256 of the payload ({@code payloadSha256}, stored in its own column) in place of
 *       the payload. A tombstone keeps that hash, so its digest can still be recomputed from its
 *       remaining columns, and every column stays bound after retention removed the payload.
 *   <li>Version 2 (rows written from migration V2 to V27): {@code digest(n) =
 *       SHA-256(canonical(record n))} and {@code hash(n) = SHA-256(hash(n-1) || digest(n))}. The
 *       digest is stored, so retention can remove a record's content (a tombstone) and the chain
 *       still verifies through it; a version-2 tombstone's other columns are bound by nothing.
 *   <li>Version 1 (rows written before migration V2): {@code hash(n) = SHA-256(hash(n-1) ||
 *       canonical(record n))}.
 * </ul>
 *
 * <p>The canonical record covers every column except the hashes, and names its chain version, so
 * editing any stored value, deleting a record or reordering records breaks the chain from that
 * record on.
 */
public final class AuditChain {
  /** The hash before the first record. */
  public static final byte[] GENESIS = new byte[32];

  /** The version new records are written with. */
  public static final int CURRENT_VERSION = 3;

  private AuditChain() {}

  /**
   * One audit_log row, as hashed.
   *
   * @param payload the content; null in a tombstone
   * @param payloadSha256 version 3: the SHA-256 of the payload's UTF-8 bytes, as lowercase hex
   *     (what the canonical record holds in its place); null for versions 1 and 2
   */
  public record Entry(
      int chainVersion,
      long seq,
      String eventId,
      String eventType,
      String tenantId,
      String requestId,
      String sourceTopic,
      int sourcePartition,
      long sourceOffset,
      String payload,
      Instant recordedAt,
      String payloadSha256) {

    /** A record with its content; version 3's payload hash is computed from it. */
    public Entry(
        int chainVersion,
        long seq,
        String eventId,
        String eventType,
        String tenantId,
        String requestId,
        String sourceTopic,
        int sourcePartition,
        long sourceOffset,
        String payload,
        Instant recordedAt) {
      this(
          chainVersion,
          seq,
          eventId,
          eventType,
          tenantId,
          requestId,
          sourceTopic,
          sourcePartition,
          sourceOffset,
          payload,
          recordedAt,
          chainVersion >= 3 && payload != null ? AuditChain.payloadSha256(payload) : null);
    }

    /**
     * The audit_log row the result set is at, as hashed: for versions 1 and 2 its content must be
     * there (not a tombstone); a version-3 row is read with its stored payload hash ({@code
     * payload_sha256} must be among the columns), tombstone or not.
     */
    public static Entry read(ResultSet rs) throws SQLException {
      int version = rs.getInt("chain_version");
      return new Entry(
          version,
          rs.getLong("seq"),
          rs.getString("event_id"),
          rs.getString("event_type"),
          rs.getString("tenant_id"),
          rs.getString("request_id"),
          rs.getString("source_topic"),
          rs.getInt("source_partition"),
          rs.getLong("source_offset"),
          rs.getString("payload"),
          rs.getObject("recorded_at", OffsetDateTime.class).toInstant(),
          version >= 3 ? hex(rs.getBytes("payload_sha256")) : null);
    }

    /** The same record at another place in the chain. */
    public Entry withSeq(long newSeq) {
      return new Entry(
          chainVersion,
          newSeq,
          eventId,
          eventType,
          tenantId,
          requestId,
          sourceTopic,
          sourcePartition,
          sourceOffset,
          payload,
          recordedAt,
          payloadSha256);
    }
  }

  /** Version 3: the SHA-256 of a payload's UTF-8 bytes, as lowercase hex. */
  public static String payloadSha256(String payload) {
    return hex(sha256(payload.getBytes(StandardCharsets.UTF_8)));
  }

  /** The record's hash given its predecessor's, by the record's chain version. */
  public static byte[] hash(byte[] previousHash, Entry entry) {
    return switch (entry.chainVersion()) {
      case 1 -> sha256(previousHash, canonical(entry).getBytes(StandardCharsets.UTF_8));
      case 2, 3 -> link(previousHash, digest(entry));
      default ->
          throw new IllegalArgumentException(
              "Unknown chain version "
                  + entry.chainVersion()
                  + " at seq "
                  + entry.seq()
                  + "; this build knows versions 1, 2 and 3");
    };
  }

  /** SHA-256 of the canonical record (versions 2 and 3 store it next to the hash). */
  public static byte[] digest(Entry entry) {
    return sha256(canonical(entry).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The version-2 or -3 digest of {@code entry} for any seq, prepared without knowing the seq: the
   * canonical text is written once with a marker seq and split around it. A writer prepares this
   * before it takes the chain lock (writing the canonical text, and the payload's hash of version
   * 3, is most of the work) and under the lock only hashes the two parts and the seq between them.
   * The result equals {@link #digest} of the entry with that seq (tested).
   */
  public static PendingDigest pendingDigest(Entry entry) {
    Entry marked = entry.withSeq(SEQ_MARK);
    String text = canonical(marked);
    String marker = "\"seq\":" + SEQ_MARK;
    // Inside a JSON string every quote is escaped, so the key can only match at the top level.
    int at = text.indexOf(marker);
    if (at < 0 || text.indexOf(marker, at + 1) >= 0) {
      return new PendingDigest(marked, null, null); // cannot happen; hash it whole later
    }
    byte[] prefix = text.substring(0, at + "\"seq\":".length()).getBytes(StandardCharsets.UTF_8);
    byte[] suffix = text.substring(at + marker.length()).getBytes(StandardCharsets.UTF_8);
    return new PendingDigest(marked, prefix, suffix);
  }

  /** See {@link #pendingDigest}. */
  public static final class PendingDigest {
    private final Entry entry;
    private final byte[] prefix;
    private final byte[] suffix;

    private PendingDigest(Entry entry, byte[] prefix, byte[] suffix) {
      this.entry = entry;
      this.prefix = prefix;
      this.suffix = suffix;
    }

    /** The entry's digest with this seq. */
    public byte[] digest(long seq) {
      return digest(seq, new Hasher());
    }

    /** The entry's digest with this seq, hashed with the caller's (this thread's) hasher. */
    public byte[] digest(long seq, Hasher hasher) {
      if (prefix == null) {
        return hasher.digest(entry.withSeq(seq));
      }
      return hasher.sha256(prefix, Long.toString(seq).getBytes(StandardCharsets.US_ASCII), suffix);
    }
  }

  /**
   * One SHA-256 that one thread reuses record after record (a chain append makes its own): {@code
   * MessageDigest.getInstance} for every digest of every record was a provider look-up and a new
   * object each time. Not thread-safe, so never shared between threads (there is no static one).
   * Each computation resets it first, so one that failed midway (an exception between two updates)
   * leaves nothing in the next; every result is the same bytes as a fresh digest's (tested).
   */
  public static final class Hasher {
    private final MessageDigest sha256 = newSha256();

    /** SHA-256 of the parts, one after another. */
    public byte[] sha256(byte[]... parts) {
      sha256.reset();
      for (byte[] part : parts) {
        sha256.update(part);
      }
      return sha256.digest();
    }

    /** As {@link AuditChain#payloadSha256}, as bytes (what the payload_sha256 column holds). */
    public byte[] payloadSha256(String payload) {
      return sha256(payload.getBytes(StandardCharsets.UTF_8));
    }

    /** As {@link AuditChain#digest}. */
    public byte[] digest(Entry entry) {
      return sha256(canonical(entry).getBytes(StandardCharsets.UTF_8));
    }

    /** As {@link AuditChain#link}. */
    public byte[] link(byte[] previousHash, byte[] digest) {
      return sha256(previousHash, digest);
    }
  }

  /** A seq no record has; marks where the seq goes in a pending digest's canonical text. */
  private static final long SEQ_MARK = Long.MIN_VALUE;

  /** Version 2 and 3 link: SHA-256(previous hash || digest). */
  public static byte[] link(byte[] previousHash, byte[] digest) {
    return sha256(previousHash, digest);
  }

  public static String hex(byte[] bytes) {
    return bytes == null ? null : HexFormat.of().formatHex(bytes);
  }

  /**
   * The canonical JSON the hash covers. Versions 1 and 2 embed the payload as its (canonical) text;
   * version 3 holds the payload's SHA-256 ({@code payloadSha256}, lowercase hex) in its place, so a
   * tombstone's text can still be written. The digest is the SHA-256 of this text's UTF-8 bytes, so
   * it is what an evidence bundle carries for a record whose place and columns it proves.
   */
  public static String canonical(Entry entry) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    ObjectNode node = nodes.objectNode();
    node.put("chainVersion", entry.chainVersion());
    node.put("eventId", entry.eventId());
    node.put("eventType", entry.eventType());
    if (entry.chainVersion() >= 3) {
      node.put("payloadSha256", entry.payloadSha256());
    } else {
      node.put("payload", entry.payload());
    }
    node.put("recordedAt", entry.recordedAt().toString());
    node.set("requestId", text(entry.requestId()));
    node.put("seq", entry.seq());
    node.put("sourceOffset", entry.sourceOffset());
    node.put("sourcePartition", entry.sourcePartition());
    node.put("sourceTopic", entry.sourceTopic());
    node.set("tenantId", text(entry.tenantId()));
    return CanonicalJson.write(node);
  }

  private static byte[] sha256(byte[]... parts) {
    MessageDigest digest = newSha256();
    for (byte[] part : parts) {
      digest.update(part);
    }
    return digest.digest();
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
  }

  private static JsonNode text(String value) {
    return value == null
        ? JsonNodeFactory.instance.nullNode()
        : JsonNodeFactory.instance.textNode(value);
  }
}
