package io.genguard.audit.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The audit log's hash chain, with 32 zero bytes before the first record.
 *
 * <ul>
 *   <li>Version 2 (written now): {@code digest(n) = SHA-256(canonical(record n))} and {@code
 *       hash(n) = SHA-256(hash(n-1) || digest(n))}. The digest is stored, so retention can remove a
 *       record's content (a tombstone) and the chain still verifies through it.
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
  public static final int CURRENT_VERSION = 2;

  private AuditChain() {}

  /** One audit_log row, as hashed. */
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
      Instant recordedAt) {}

  /** The record's hash given its predecessor's, by the record's chain version. */
  public static byte[] hash(byte[] previousHash, Entry entry) {
    return switch (entry.chainVersion()) {
      case 1 -> sha256(previousHash, canonical(entry).getBytes(StandardCharsets.UTF_8));
      case 2 -> link(previousHash, digest(entry));
      default ->
          throw new IllegalArgumentException(
              "Unknown chain version "
                  + entry.chainVersion()
                  + " at seq "
                  + entry.seq()
                  + "; this build knows versions 1 and 2");
    };
  }

  /** SHA-256 of the canonical record (version 2 stores it next to the hash). */
  public static byte[] digest(Entry entry) {
    return sha256(canonical(entry).getBytes(StandardCharsets.UTF_8));
  }

  /** Version 2 link: SHA-256(previous hash || digest). */
  public static byte[] link(byte[] previousHash, byte[] digest) {
    return sha256(previousHash, digest);
  }

  public static String hex(byte[] bytes) {
    return bytes == null ? null : HexFormat.of().formatHex(bytes);
  }

  /** The canonical JSON the hash covers; the payload is embedded as its (canonical) text. */
  static String canonical(Entry entry) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    ObjectNode node = nodes.objectNode();
    node.put("chainVersion", entry.chainVersion());
    node.put("eventId", entry.eventId());
    node.put("eventType", entry.eventType());
    node.put("payload", entry.payload());
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
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (byte[] part : parts) {
        digest.update(part);
      }
      return digest.digest();
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
