package io.genguard.audit.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

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

  /**
   * Each generated event class's fields in key order, with the schema they were sorted for: sorted
   * once per class rather than through a TreeMap for every record (and every nested record). A
   * ClassValue is safe to read from any thread, and what it holds is never changed.
   */
  private static final ClassValue<SortedFields> SORTED_FIELDS =
      new ClassValue<>() {
        @Override
        protected SortedFields computeValue(Class<?> type) {
          if (!SpecificRecord.class.isAssignableFrom(type)) {
            return SortedFields.NONE;
          }
          try {
            Schema schema = SpecificData.get().getSchema(type);
            return new SortedFields(schema, sortedPositions(schema));
          } catch (RuntimeException e) {
            return SortedFields.NONE; // sorted for each record instead
          }
        }
      };

  /** A schema's field positions in the order of their names. */
  private record SortedFields(Schema schema, int[] positions) {
    static final SortedFields NONE = new SortedFields(null, null);
  }

  private static int[] sortedPositions(Schema schema) {
    List<Schema.Field> fields = new ArrayList<>(schema.getFields());
    fields.sort(Comparator.comparing(Schema.Field::name));
    int[] positions = new int[fields.size()];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = fields.get(i).pos();
    }
    return positions;
  }

  /** The event as a JSON tree (keys sorted). */
  public static ObjectNode toTree(IndexedRecord record) {
    Schema schema = record.getSchema();
    SortedFields known = SORTED_FIELDS.get(record.getClass());
    // The class's schema is the record's own for a generated class; anything else is sorted now.
    int[] positions = known.schema() == schema ? known.positions() : sortedPositions(schema);
    List<Schema.Field> fields = schema.getFields();
    ObjectNode node = NODES.objectNode();
    for (int position : positions) {
      node.set(fields.get(position).name(), value(record.get(position)));
    }
    return node;
  }

  /**
   * A copy of a record's tree ({@link #toTree}) with one field's value replaced: the tree {@link
   * #toTree} makes of the record with {@code value} in that field. The copy is shallow: it shares
   * the other fields' nodes with {@code tree}, so neither may be changed afterwards.
   */
  public static ObjectNode withField(ObjectNode tree, String field, Object value) {
    ObjectNode copy = NODES.objectNode();
    copy.setAll(tree);
    copy.set(field, value(value));
    return copy;
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

  /**
   * Canonical JSON text of an object tree ({@link #write}, the same text), with where each of its
   * top-level fields' values lies in it: one write gives a record's payload, the text of any of its
   * fields ({@link Written#field}, what {@link #write} of the field's node gives) and the text of
   * the record with one field's value replaced ({@link Written#withField}, what {@link #write} of
   * {@link #withField}'s tree gives). Every value is written in the same calls either way, and a
   * value's text does not depend on what precedes it (compact, no root separator before the first
   * value): tested on random trees.
   */
  public static Written writeFields(ObjectNode tree) {
    List<String> names = new ArrayList<>(tree.size());
    tree.fieldNames().forEachRemaining(names::add);
    if (!isSorted(names)) {
      Collections.sort(names);
    }
    int[] starts = new int[names.size()];
    int[] ends = new int[names.size()];
    StringWriter text = new StringWriter(256);
    try (JsonGenerator generator = CANONICAL.getFactory().createGenerator(text)) {
      generator.writeStartObject();
      for (int i = 0; i < starts.length; i++) {
        generator.writeFieldName(names.get(i));
        // The generator writes the name's ':' with the value: the value starts after it.
        starts[i] = position(text, generator) + 1;
        writeSorted(generator, tree.get(names.get(i)));
        ends[i] = position(text, generator);
      }
      generator.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException("Cannot write canonical JSON", e);
    }
    String written = text.toString();
    for (int start : starts) {
      if (written.charAt(start - 1) != ':') {
        throw new IllegalStateException("A field's value does not follow its ':'");
      }
    }
    return new Written(written, names, starts, ends);
  }

  /** Characters written so far: those in the writer and those the generator still buffers. */
  private static int position(StringWriter text, JsonGenerator generator) {
    return text.getBuffer().length() + generator.getOutputBuffered();
  }

  /** An object's canonical text and the place of each top-level field's value in it. */
  public static final class Written {
    private final String text;
    private final List<String> names;
    private final int[] starts;
    private final int[] ends;

    private Written(String text, List<String> names, int[] starts, int[] ends) {
      this.text = text;
      this.names = names;
      this.starts = starts;
      this.ends = ends;
    }

    /** The whole text, as {@link CanonicalJson#write} writes the tree. */
    public String text() {
      return text;
    }

    /**
     * The canonical text of a top-level field's value, as {@link CanonicalJson#write} writes the
     * field's node.
     *
     * @throws IllegalArgumentException when the object has no such field
     */
    public String field(String name) {
      int i = index(name);
      if (i < 0) {
        throw new IllegalArgumentException("No field '" + name + "' was written");
      }
      return text.substring(starts[i], ends[i]);
    }

    /**
     * The canonical text of the object with one top-level field's value replaced, as {@link
     * CanonicalJson#write} writes {@link CanonicalJson#withField}'s tree; a field the object lacks
     * is added there, so it is written again (rare: not the writer's case).
     *
     * @param tree the tree this text was written from
     */
    public String withField(ObjectNode tree, String name, Object value) {
      int i = index(name);
      if (i < 0) {
        return write(CanonicalJson.withField(tree, name, value));
      }
      String replacement = write(value(value));
      return new StringBuilder(text.length() - (ends[i] - starts[i]) + replacement.length())
          .append(text, 0, starts[i])
          .append(replacement)
          .append(text, ends[i], text.length())
          .toString();
    }

    private int index(String name) {
      // Sorted by String.compareTo, as writeFields wrote them.
      return Collections.binarySearch(names, name);
    }
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
      writeScalar(generator, node);
    }
  }

  /**
   * A leaf as the mapper writes it ({@code CANONICAL.writeTree}, which node.serialize does for
   * these kinds), straight to the generator: the mapper makes a serializer provider and flushes for
   * every value (about half of CanonicalJson's samples in a profile of the audit benchmark). Other
   * kinds (POJOs, binary, big numbers) still go through the mapper. The text is the same (tested).
   */
  private static void writeScalar(JsonGenerator generator, JsonNode node) throws IOException {
    if (node instanceof TextNode text) {
      generator.writeString(text.textValue());
    } else if (node instanceof IntNode number) {
      generator.writeNumber(number.intValue());
    } else if (node instanceof LongNode number) {
      generator.writeNumber(number.longValue());
    } else if (node instanceof DoubleNode number) {
      generator.writeNumber(number.doubleValue());
    } else if (node instanceof BooleanNode bool) {
      generator.writeBoolean(bool.booleanValue());
    } else if (node instanceof NullNode) {
      generator.writeNull();
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

  /**
   * Reads back a record that {@link #of} wrote: the inverse of the canonical encoding, guided by
   * the record's schema (null unions, ISO timestamps, base64 bytes, enums by name). How {@code
   * audit replay} gets the exact event a verdict was made on from the hash chain. The payloads are
   * stored as this canonical JSON of the class the writer had, with no schema beside them; a key
   * that JSON lacks (written by a writer whose schema had no such field yet) takes the field's
   * default, as Avro's schema resolution reads old bytes into the current class (since the fiftieth
   * session: before, a field that is not nullable, such as a verdict's {@code policySha256}, was
   * refused). A missing field without a default reads as a JSON null, as before: refused unless its
   * type takes one. Since the fifty-first session that holds for {@code int}, {@code long}, {@code
   * float}, {@code double} and {@code boolean} too, which read a missing key (or a null, or a value
   * of another kind) as 0 or false before: a payload written by a schema that lacked or dropped
   * such a field is not readable by this version, and no value is made up for it. A double the
   * writer wrote as {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"} (as the mapper writes
   * them) reads back as that double.
   *
   * @throws IllegalArgumentException when the JSON does not fit the schema
   */
  public static <T extends SpecificRecord> T toRecord(String json, Class<T> type) {
    return toRecord(json, type, UnknownKeys.IGNORE);
  }

  /**
   * {@link #toRecord}, refusing JSON with a key, at any level, that the schema lacks: one written
   * by a newer writer, whose schema has a field this class does not know yet. {@link #toRecord}
   * ignores such a key, so the record read back says less than the JSON; a caller that derives a
   * digest or compares with it must not take that record for what was written (since the fiftieth
   * session's review). Map keys are data, not fields, and are all read.
   *
   * @throws IllegalArgumentException when the JSON does not fit the schema or has a key it lacks
   */
  public static <T extends SpecificRecord> T toRecordOfKnownFields(String json, Class<T> type) {
    return toRecord(json, type, UnknownKeys.REFUSE);
  }

  /**
   * {@link #toRecordOfKnownFields}, but taking a key the schema lacks whose value is JSON null:
   * what a newer writer stores for a field its schema added as nullable with the default null when
   * it reads bytes written without that field, as an older producer writes them. Such a payload
   * says no more than the record read back; one whose unknown key has a value does (since the
   * fifty-first session: the writer of an older audit instance compares a verdict judged again with
   * it during a rolling upgrade, {@code AuditWriter}).
   *
   * @throws IllegalArgumentException when the JSON does not fit the schema or has a key it lacks
   *     with a value other than null
   */
  public static <T extends SpecificRecord> T toRecordOfKnownOrNullFields(
      String json, Class<T> type) {
    return toRecord(json, type, UnknownKeys.REFUSE_UNLESS_NULL);
  }

  /** What reading JSON back does with a key, at any level, that the record's schema lacks. */
  private enum UnknownKeys {
    IGNORE,
    REFUSE,
    REFUSE_UNLESS_NULL
  }

  private static <T extends SpecificRecord> T toRecord(
      String json, Class<T> type, UnknownKeys unknownKeys) {
    try {
      Schema schema = SpecificData.get().getSchema(type);
      Object generic = fromJson(CANONICAL.readTree(json), schema, schema.getName(), unknownKeys);
      // Through Avro's binary form, so that the specific reader applies the logical types.
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
      new GenericDatumWriter<Object>(schema).write(generic, encoder);
      encoder.flush();
      return new SpecificDatumReader<>(type)
          .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "Not a canonical " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  private static Object fromJson(
      JsonNode node, Schema schema, String path, UnknownKeys unknownKeys) {
    if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
      return Instant.parse(text(node, path)).toEpochMilli();
    }
    switch (schema.getType()) {
      case RECORD -> {
        if (!node.isObject()) {
          throw new IllegalArgumentException(path + " is not an object");
        }
        if (unknownKeys != UnknownKeys.IGNORE) {
          node.fieldNames()
              .forEachRemaining(
                  name -> {
                    if (schema.getField(name) == null
                        && !(unknownKeys == UnknownKeys.REFUSE_UNLESS_NULL
                            && node.get(name).isNull())) {
                      throw new IllegalArgumentException(
                          path
                              + " has key '"
                              + name
                              + "', which "
                              + schema.getName()
                              + " does not know (written by a newer writer)");
                    }
                  });
        }
        GenericData.Record record = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
          JsonNode value = node.get(field.name());
          if (value == null && field.hasDefaultValue()) {
            // A field the writer's schema lacked: its default, as Avro's schema resolution gives
            // a reader's field that the writer's schema does not have.
            record.put(field.pos(), GenericData.get().getDefaultValue(field));
            continue;
          }
          record.put(
              field.pos(),
              fromJson(
                  value == null ? NODES.nullNode() : value,
                  field.schema(),
                  path + "." + field.name(),
                  unknownKeys));
        }
        return record;
      }
      case UNION -> {
        if (node.isNull()) {
          return null;
        }
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL) {
            return fromJson(node, branch, path, unknownKeys);
          }
        }
        throw new IllegalArgumentException(path + " has no non-null branch");
      }
      case STRING -> {
        return text(node, path);
      }
      case ENUM -> {
        return new GenericData.EnumSymbol(schema, text(node, path));
      }
      // A missing key of a field without a default comes here as a null: refused, as a value of
      // another kind is, rather than read as 0 or false (Jackson's intValue() and booleanValue()).
      case BOOLEAN -> {
        if (!node.isBoolean()) {
          throw new IllegalArgumentException(path + " is not a boolean");
        }
        return node.booleanValue();
      }
      case INT -> {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
          throw new IllegalArgumentException(path + " is not an int");
        }
        return node.intValue();
      }
      case LONG -> {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
          throw new IllegalArgumentException(path + " is not a long");
        }
        return node.longValue();
      }
      case FLOAT -> {
        return (float) number(node, path);
      }
      case DOUBLE -> {
        return number(node, path);
      }
      case BYTES -> {
        return ByteBuffer.wrap(Base64.getDecoder().decode(text(node, path)));
      }
      case MAP -> {
        Map<String, Object> map = new LinkedHashMap<>();
        node.fields()
            .forEachRemaining(
                e ->
                    map.put(
                        e.getKey(),
                        fromJson(
                            e.getValue(),
                            schema.getValueType(),
                            path + "." + e.getKey(),
                            unknownKeys)));
        return map;
      }
      case ARRAY -> {
        List<Object> list = new ArrayList<>();
        for (JsonNode element : node) {
          list.add(fromJson(element, schema.getElementType(), path + "[]", unknownKeys));
        }
        return list;
      }
      case NULL -> {
        return null;
      }
      default -> throw new IllegalArgumentException(path + ": no canonical form for " + schema);
    }
  }

  /**
   * A float's or double's value: a JSON number, or one the mapper writes as a string ({@code NaN},
   * {@code Infinity}, {@code -Infinity}).
   */
  private static double number(JsonNode node, String path) {
    if (node.isNumber()) {
      return node.doubleValue();
    }
    if (node.isTextual()) {
      switch (node.textValue()) {
        case "NaN" -> {
          return Double.NaN;
        }
        case "Infinity" -> {
          return Double.POSITIVE_INFINITY;
        }
        case "-Infinity" -> {
          return Double.NEGATIVE_INFINITY;
        }
        default -> {
          // not a number: refused below
        }
      }
    }
    throw new IllegalArgumentException(path + " is not a number");
  }

  private static String text(JsonNode node, String path) {
    if (node == null || !node.isTextual()) {
      throw new IllegalArgumentException(path + " is not a string");
    }
    return node.textValue();
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
