package io.genguard.audit.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
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

  /**
   * Canonical JSON text of a tree: sorted keys at every level, compact. Streams the tree in key
   * order (no sorted copy of it; trees from {@link #toTree} are sorted already); the text is the
   * same as the mapper writing a key-sorted copy (tested), which is what the chain was built on.
   */
  public static String write(JsonNode tree) {
    StringWriter text = new StringWriter(256);
    try (JsonGenerator generator = CANONICAL.getFactory().createGenerator(text)) {
      writeSorted(generator, tree);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot write canonical JSON", e);
    }
    return text.toString();
  }

  private static void writeSorted(JsonGenerator generator, JsonNode node) throws IOException {
    if (node.isObject()) {
      List<String> names = new ArrayList<>(node.size());
      node.fieldNames().forEachRemaining(names::add);
      if (!isSorted(names)) {
        Collections.sort(names);
      }
      generator.writeStartObject();
      for (String name : names) {
        generator.writeFieldName(name);
        writeSorted(generator, node.get(name));
      }
      generator.writeEndObject();
    } else if (node.isArray()) {
      generator.writeStartArray();
      for (JsonNode element : node) {
        writeSorted(generator, element);
      }
      generator.writeEndArray();
    } else {
      CANONICAL.writeTree(generator, node);
    }
  }

  private static boolean isSorted(List<String> names) {
    for (int i = 1; i < names.size(); i++) {
      if (names.get(i - 1).compareTo(names.get(i)) > 0) {
        return false;
      }
    }
    return true;
  }

  public static String of(IndexedRecord record) {
    return write(toTree(record));
  }

  /** Canonical JSON text of one field of the record, as it appears in {@link #of}. */
  public static String ofField(IndexedRecord record, String field) {
    Schema.Field schemaField = record.getSchema().getField(field);
    if (schemaField == null) {
      throw new IllegalArgumentException(
          record.getSchema().getName() + " has no field '" + field + "'");
    }
    return write(value(record.get(schemaField.pos())));
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
