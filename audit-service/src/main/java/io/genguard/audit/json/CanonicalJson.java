package io.genguard.audit.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.IndexedRecord;

/**
 * Converts Avro events to plain JSON (no union wrappers) and writes canonical JSON: object keys
 * sorted, no insignificant whitespace, timestamps as ISO-8601 UTC strings, bytes as base64. The
 * audit hash chain covers exactly these bytes, so the encoding must never change for a stored
 * record: a change needs a new chain version.
 */
public final class CanonicalJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper CANONICAL =
      JsonMapper.builder().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();

  private CanonicalJson() {}

  /** The event as a JSON tree (keys sorted). */
  public static ObjectNode toTree(IndexedRecord record) {
    ObjectNode node = NODES.objectNode();
    Map<String, JsonNode> sorted = new TreeMap<>();
    for (Schema.Field field : record.getSchema().getFields()) {
      sorted.put(field.name(), value(record.get(field.pos())));
    }
    sorted.forEach(node::set);
    return node;
  }

  /** Canonical JSON text of a tree: sorted keys at every level, compact. */
  public static String write(JsonNode tree) {
    try {
      return CANONICAL.writeValueAsString(sortKeys(tree));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot write canonical JSON", e);
    }
  }

  public static String of(IndexedRecord record) {
    return write(toTree(record));
  }

  private static JsonNode sortKeys(JsonNode node) {
    if (node.isObject()) {
      ObjectNode sorted = NODES.objectNode();
      TreeMap<String, JsonNode> fields = new TreeMap<>();
      node.fields()
          .forEachRemaining(entry -> fields.put(entry.getKey(), sortKeys(entry.getValue())));
      fields.forEach(sorted::set);
      return sorted;
    }
    if (node.isArray()) {
      ArrayNode array = NODES.arrayNode();
      node.forEach(element -> array.add(sortKeys(element)));
      return array;
    }
    return node;
  }

  private static JsonNode value(Object value) {
    if (value == null) {
      return NODES.nullNode();
    }
    if (value instanceof IndexedRecord record) {
      return toTree(record);
    }
    if (value instanceof CharSequence text) {
      return NODES.textNode(text.toString());
    }
    if (value instanceof GenericEnumSymbol<?> || value instanceof Enum<?>) {
      return NODES.textNode(value.toString());
    }
    if (value instanceof Instant instant) {
      return NODES.textNode(instant.toString());
    }
    if (value instanceof Boolean bool) {
      return NODES.booleanNode(bool);
    }
    if (value instanceof Integer number) {
      return NODES.numberNode(number);
    }
    if (value instanceof Long number) {
      return NODES.numberNode(number);
    }
    if (value instanceof Float number) {
      return NODES.numberNode(number.doubleValue());
    }
    if (value instanceof Double number) {
      return NODES.numberNode(number);
    }
    if (value instanceof ByteBuffer bytes) {
      ByteBuffer copy = bytes.duplicate();
      byte[] raw = new byte[copy.remaining()];
      copy.get(raw);
      return NODES.textNode(Base64.getEncoder().encodeToString(raw));
    }
    if (value instanceof Map<?, ?> map) {
      ObjectNode node = NODES.objectNode();
      TreeMap<String, JsonNode> sorted = new TreeMap<>();
      map.forEach((key, element) -> sorted.put(key.toString(), value(element)));
      sorted.forEach(node::set);
      return node;
    }
    if (value instanceof List<?> list) {
      ArrayNode array = NODES.arrayNode();
      list.forEach(element -> array.add(value(element)));
      return array;
    }
    throw new IllegalArgumentException("No canonical JSON for " + value.getClass().getName());
  }
}
