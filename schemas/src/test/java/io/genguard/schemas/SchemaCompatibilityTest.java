package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.RandomData;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every schema change must stay backward compatible: the schema this build reads with must read
 * everything any released version wrote. Released versions live in {@code schema-history}; the
 * current schema must itself be recorded there, so a change cannot ship without a new snapshot.
 *
 * <p>The fingerprint and Avro's compatibility check both ignore logical types, so a field's logical
 * type is compared with every released version's here; released history files are pinned by their
 * SHA-256 ({@value #PINNED}); and bytes written with every released version are decoded.
 */
class SchemaCompatibilityTest {
  /**
   * The SHA-256 of every released history file (test resource), one {@code HASH Type/vN.avsc} a
   * line.
   */
  static final String PINNED = "schema-history.sha256";

  /** Random events written with each released version and decoded (a fixed seed each). */
  private static final int RANDOM_EVENTS = 25;

  static Stream<Topic<String, ?>> topics() {
    return Topics.all().stream().map(topic -> (Topic<String, ?>) topic);
  }

  /** Each event type once (several topics carry one type). */
  static Stream<Named<EventCodec<?>>> codecs() {
    Map<Class<?>, EventCodec<?>> codecs = new LinkedHashMap<>();
    Topics.all().forEach(topic -> codecs.putIfAbsent(topic.codec().type(), topic.codec()));
    return codecs.values().stream()
        .map(codec -> Named.<EventCodec<?>>of(codec.type().getSimpleName(), codec));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("topics")
  void currentSchemaReadsEveryReleasedVersion(Topic<String, ?> topic) {
    EventCodec<?> codec = topic.codec();
    List<Schema> history = codec.history();
    assertThat(history)
        .as("schema-history/%s/v1.avsc must exist", codec.type().getSimpleName())
        .isNotEmpty();
    for (int i = 0; i < history.size(); i++) {
      Schema writer = history.get(i);
      SchemaCompatibility.SchemaPairCompatibility result =
          SchemaCompatibility.checkReaderWriterCompatibility(codec.schema(), writer);
      assertThat(result.getType())
          .as(
              "%s cannot read version v%d: %s",
              codec.type().getSimpleName(), i + 1, result.getResult().getIncompatibilities())
          .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("topics")
  void currentSchemaIsRecordedInHistory(Topic<String, ?> topic) {
    EventCodec<?> codec = topic.codec();
    List<Long> released =
        codec.history().stream().map(SchemaNormalization::parsingFingerprint64).toList();
    assertThat(released)
        .as(
            "The schema of %s changed: add it as schema-history/%s/v%d.avsc once it is compatible",
            codec.type().getSimpleName(), codec.type().getSimpleName(), codec.history().size() + 1)
        .contains(codec.fingerprint());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("topics")
  void incompatibleChangeIsDetected(Topic<String, ?> topic) {
    // Guard against a check that cannot fail: a reader that adds a required field without a
    // default must be reported as unable to read the released schema.
    Schema current = topic.codec().schema();
    Schema.Parser parser = new Schema.Parser();
    String json = current.toString();
    String broken =
        json.replaceFirst(
            "\"fields\":\\[", "\"fields\":[{\"name\":\"mandatoryNewField\",\"type\":\"string\"},");
    Schema reader = parser.parse(broken);
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(reader, current).getType())
        .isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void logicalTypesAreThoseOfEveryReleasedVersion(EventCodec<?> codec) {
    List<Schema> history = codec.history();
    for (int i = 0; i < history.size(); i++) {
      assertThat(logicalTypeChanges(history.get(i), codec.schema()))
          .as(
              "%s changes the logical type of a field released in v%d (old -> new). The"
                  + " fingerprint and Avro's compatibility check ignore logical types, so events"
                  + " already written would be read under the new one (a time off by 1,000):"
                  + " add a new field instead",
              codec.type().getSimpleName(), i + 1)
          .isEmpty();
    }
  }

  @Test
  void logicalTypeChangeIsDetected() {
    // Guard against a check that cannot fail: millis to micros keeps the fingerprint and passes
    // Avro's check, and is refused here.
    Schema current = Topics.CONTENT_RETRACTIONS.codec().schema();
    Schema micros =
        new Schema.Parser()
            .parse(current.toString().replace("\"timestamp-millis\"", "\"timestamp-micros\""));
    assertThat(SchemaNormalization.parsingFingerprint64(micros))
        .isEqualTo(SchemaNormalization.parsingFingerprint64(current));
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(micros, current).getType())
        .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    assertThat(logicalTypeChanges(current, micros))
        .containsExactly(Map.entry("retractedAt|long", "timestamp-millis -> timestamp-micros"));
    // Made nullable: the same logical type is no change, another one is.
    String millis = "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}";
    assertThat(current.toString()).contains(millis);
    assertThat(logicalTypeChanges(current, parse(current, millis, "[\"null\"," + millis + "]")))
        .isEmpty();
    assertThat(
            logicalTypeChanges(
                current,
                parse(current, millis, "[\"null\"," + millis.replace("millis", "micros") + "]")))
        .containsOnlyKeys("retractedAt|long");
  }

  private static Schema parse(Schema schema, String from, String to) {
    return new Schema.Parser().parse(schema.toString().replace(from, to));
  }

  /**
   * Released history files never change: events written under a version are read by its
   * fingerprint, and an edited file (to make a change "compatible") leaves them unknown. A new
   * version is a new file, with its line added to {@value #PINNED}.
   */
  @Test
  void releasedHistoryFilesAreUnchanged() throws IOException {
    Map<String, String> pinned = new TreeMap<>();
    for (String line : resource("/" + PINNED).split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        String[] parts = line.trim().split("\\s+");
        pinned.put(parts[1], parts[0]);
      }
    }
    Map<String, String> found = new TreeMap<>();
    codecs()
        .map(Named::getPayload)
        .forEach(
            codec -> {
              for (int version = 1; version <= codec.history().size(); version++) {
                String file = codec.type().getSimpleName() + "/v" + version + ".avsc";
                found.put(file, sha256(resource("/schema-history/" + file)));
              }
            });
    List<String> problems = new ArrayList<>();
    found.forEach(
        (file, hash) -> {
          if (!pinned.containsKey(file)) {
            problems.add(
                file
                    + " is not pinned: once it is released, add the line \""
                    + hash
                    + "  "
                    + file
                    + "\" to schemas/src/test/resources/"
                    + PINNED);
          } else if (!pinned.get(file).equals(hash)) {
            problems.add(
                file
                    + " changed (SHA-256 "
                    + hash
                    + ", released as "
                    + pinned.get(file)
                    + "): a released version is never edited, not even its docs; put it back and"
                    + " add the change as a new version");
          }
        });
    pinned.keySet().stream()
        .filter(file -> !found.containsKey(file))
        .forEach(
            file ->
                problems.add(
                    file + " was released and is gone: events written with it would not decode"));
    assertThat(problems).isEmpty();
  }

  /** Bytes written with every released version (random events, seeded) decode with this build. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void eventsWrittenWithEveryReleasedVersionDecode(EventCodec<?> codec) {
    decodeRandomEvents(codec);
  }

  private static <T extends SpecificRecord> void decodeRandomEvents(EventCodec<T> codec) {
    List<Schema> history = codec.history();
    for (int i = 0; i < history.size(); i++) {
      Schema writer = history.get(i);
      String version = codec.type().getSimpleName() + " v" + (i + 1);
      BinaryMessageEncoder<Object> encoder = new BinaryMessageEncoder<>(GenericData.get(), writer);
      int n = 0;
      for (Object datum :
          new RandomData(GenericData.get(), writer, RANDOM_EVENTS, version.hashCode(), false)) {
        byte[] bytes = bytes(encoder, datum);
        T event;
        try {
          event = codec.decode(bytes);
        } catch (EventDecodingException e) {
          throw new AssertionError(version + ", random event " + n + ": " + e.getMessage(), e);
        }
        assertThat(codec.decode(codec.encode(event)))
            .as("%s, random event %d, written again by this build", version, n++)
            .isEqualTo(event);
      }
      assertThat(n).as(version).isEqualTo(RANDOM_EVENTS);
    }
  }

  private static byte[] bytes(BinaryMessageEncoder<Object> encoder, Object datum) {
    try {
      ByteBuffer buffer = encoder.encode(datum);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The values both schemas have, by path and Avro type ({@code a.b|long}; a union's branches each
   * by their type, so a field made nullable keeps its path; an array's items {@code a[]|...}, a
   * map's values <code>a{}|...</code>), whose logical type differs, with {@code old -> new}.
   */
  static Map<String, String> logicalTypeChanges(Schema old, Schema current) {
    Map<String, String> before = logicalTypes(old);
    Map<String, String> after = logicalTypes(current);
    Map<String, String> changes = new TreeMap<>();
    before.forEach(
        (path, type) -> {
          String now = after.get(path);
          if (now != null && !now.equals(type)) {
            changes.put(path, type + " -> " + now);
          }
        });
    return changes;
  }

  /** Every value's path and Avro type in the schema, with its logical type ("none" if none). */
  private static Map<String, String> logicalTypes(Schema schema) {
    Map<String, String> paths = new TreeMap<>();
    collect(schema, "", paths, new HashSet<>());
    return paths;
  }

  private static void collect(
      Schema schema, String path, Map<String, String> paths, Set<String> enclosing) {
    if (schema.getType() == Schema.Type.UNION) {
      for (Schema branch : schema.getTypes()) {
        collect(branch, path, paths, enclosing);
      }
      return;
    }
    Object logicalType = schema.getObjectProp("logicalType");
    String type = logicalType == null ? "none" : logicalType.toString();
    if (schema.getObjectProp("precision") != null || schema.getObjectProp("scale") != null) {
      type += "(" + schema.getObjectProp("precision") + ", " + schema.getObjectProp("scale") + ")";
    }
    if (!path.isEmpty()) {
      paths.put(path + "|" + schema.getFullName(), type);
    }
    switch (schema.getType()) {
      case RECORD:
        if (enclosing.add(schema.getFullName())) {
          for (Schema.Field field : schema.getFields()) {
            collect(
                field.schema(),
                path.isEmpty() ? field.name() : path + "." + field.name(),
                paths,
                enclosing);
          }
          enclosing.remove(schema.getFullName());
        }
        break;
      case ARRAY:
        collect(schema.getElementType(), path + "[]", paths, enclosing);
        break;
      case MAP:
        collect(schema.getValueType(), path + "{}", paths, enclosing);
        break;
      default:
        break;
    }
  }

  private static String resource(String path) {
    try (InputStream in = SchemaCompatibilityTest.class.getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SHA-256 of the file's text, line ends as LF (a Windows checkout does not change it). */
  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(text.replace("\r\n", "\n").getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
