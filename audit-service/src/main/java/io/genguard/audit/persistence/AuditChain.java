package io.genguard.audit.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;

/**
 * The audit log's hash chain: {@code hash(n) = SHA-256(hash(n-1) || canonical(record n))}, with 32
 * zero bytes before the first record. The canonical record covers every column except the hashes,
 * so editing any stored value, deleting a record or reordering records breaks the chain from that
 * record on.
 */
public final class AuditChain {
  /** The hash before the first record. */
  public static final byte[] GENESIS = new byte[32];

  private AuditChain() {}

  /** One audit_log row, as hashed. */
  public record Entry(
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

  public static byte[] hash(byte[] previousHash, Entry entry) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(previousHash);
      digest.update(canonical(entry).getBytes(StandardCharsets.UTF_8));
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
  }

  /** The canonical JSON the hash covers; the payload is embedded as its (canonical) text. */
  static String canonical(Entry entry) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    ObjectNode node = nodes.objectNode();
    node.put("chainVersion", 1);
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

  private static JsonNode text(String value) {
    return value == null ? JsonNodeFactory.instance.nullNode() : JsonNodeFactory.instance.textNode(value);
  }
}
