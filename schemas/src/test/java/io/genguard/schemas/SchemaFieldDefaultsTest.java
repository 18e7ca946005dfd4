package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A field a version adds to an event type, at any level, is nullable with the default null: the
 * audit service stores events as canonical JSON, and an older instance reading a newer writer's
 * payload during a rolling upgrade takes a key it does not know only when its value is null ({@code
 * CanonicalJson.toRecordOfKnownOrNullFields}): what a newer writer stores for such a field of an
 * event an older producer wrote without it. A field with another default (or none) would be stored
 * with a value an older instance cannot read, and a verdict judged again would be recorded as a
 * conflict (since the fifty-second session; before, nothing checked it).
 */
class SchemaFieldDefaultsTest {
  /**
   * Fields added before the rule, by released versions whose older versions no running writer reads
   * any more; each is still found by the check ({@link #theExceptionsAreStillFound}).
   */
  static final Set<String> RELEASED_BEFORE_THE_RULE =
      Set.of("ModerationVerdict v2: io.genguard.events.v1.ModerationVerdict.policySha256");

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.genguard.schemas.SchemaCompatibilityTest#codecs")
  void everyFieldAVersionAddsIsNullableWithANullDefault(EventCodec<?> codec) {
    List<String> added = new ArrayList<>(addedNotNullable(codec));
    added.removeAll(RELEASED_BEFORE_THE_RULE);
    assertThat(added)
        .as(
            "fields added to %s that are not nullable with the default null (a union whose first"
                + " branch is \"null\", \"default\": null)",
            codec.type().getSimpleName())
        .isEmpty();
  }

  @Test
  void theExceptionsAreStillFound() {
    List<String> found = new ArrayList<>();
    SchemaCompatibilityTest.codecs()
        .forEach(codec -> found.addAll(addedNotNullable(codec.getPayload())));
    assertThat(found).containsAll(RELEASED_BEFORE_THE_RULE);
  }

  /** A deliberately bad version: each way of adding a field but the nullable one is reported. */
  @Test
  void shouldReportAFieldAddedWithoutANullDefault() {
    Schema current = Topics.MODERATION_VERDICTS.codec().schema();
    String json = current.toString();
    String fields = "\"fields\":[";
    assertThat(json).contains(fields);
    Map<String, Boolean> reported = new HashMap<>();
    for (String field :
        List.of(
            "{\"name\":\"added\",\"type\":\"string\",\"default\":\"\"}",
            "{\"name\":\"added\",\"type\":\"string\"}",
            "{\"name\":\"added\",\"type\":[\"string\",\"null\"],\"default\":\"\"}",
            "{\"name\":\"added\",\"type\":[\"null\",\"string\"]}",
            "{\"name\":\"added\",\"type\":[\"null\",\"string\"],\"default\":null}")) {
      Schema newer =
          new Schema.Parser().parse(json.replaceFirst("\"fields\":\\[", fields + field + ","));
      reported.put(field, !added(current, newer, "v9").isEmpty());
    }
    assertThat(reported)
        .containsEntry("{\"name\":\"added\",\"type\":\"string\",\"default\":\"\"}", true)
        .containsEntry("{\"name\":\"added\",\"type\":\"string\"}", true)
        .containsEntry("{\"name\":\"added\",\"type\":[\"string\",\"null\"],\"default\":\"\"}", true)
        .containsEntry("{\"name\":\"added\",\"type\":[\"null\",\"string\"]}", true)
        .containsEntry(
            "{\"name\":\"added\",\"type\":[\"null\",\"string\"],\"default\":null}", false);

    // In a record nested in the event (a reason of the verdict), too.
    Schema reason = current.getField("reasons").schema().getElementType();
    assertThat(reason.getType()).isEqualTo(Schema.Type.RECORD);
    String nested = "\"name\":\"" + reason.getName() + "\"";
    assertThat(json).contains(nested);
    int at = json.indexOf(fields, json.indexOf(nested));
    Schema deeper =
        new Schema.Parser()
            .parse(
                json.substring(0, at)
                    + fields
                    + "{\"name\":\"deeper\",\"type\":\"double\",\"default\":0.0},"
                    + json.substring(at + fields.length()));
    assertThat(added(current, deeper, "v9"))
        .containsExactly("ModerationVerdict v9: " + reason.getFullName() + ".deeper");
  }

  /** Of each version and the one before it, and of the current schema and the last version. */
  static List<String> addedNotNullable(EventCodec<?> codec) {
    List<Schema> history = codec.history();
    List<String> added = new ArrayList<>();
    for (int i = 1; i < history.size(); i++) {
      added.addAll(added(history.get(i - 1), history.get(i), "v" + (i + 1)));
    }
    if (!history.isEmpty()) {
      added.addAll(added(history.get(history.size() - 1), codec.schema(), "current"));
    }
    return added.stream().distinct().toList();
  }

  /**
   * The fields of {@code newer}'s records, at any level, that the record of that name in {@code
   * older} lacks and that are not nullable with the default null: "Type version: record.field".
   */
  static List<String> added(Schema older, Schema newer, String version) {
    Map<String, Schema> before = new HashMap<>();
    records(older, before);
    Map<String, Schema> after = new HashMap<>();
    records(newer, after);
    List<String> found = new ArrayList<>();
    after.forEach(
        (name, record) -> {
          Schema previous = before.get(name);
          if (previous == null) {
            return; // a record new here is the type of a field new here, checked itself
          }
          for (Schema.Field field : record.getFields()) {
            if (previous.getField(field.name()) == null && !nullableWithNullDefault(field)) {
              found.add(newer.getName() + " " + version + ": " + name + "." + field.name());
            }
          }
        });
    found.sort(null);
    return found;
  }

  private static boolean nullableWithNullDefault(Schema.Field field) {
    Schema type = field.schema();
    return type.getType() == Schema.Type.UNION
        && type.getTypes().get(0).getType() == Schema.Type.NULL
        && field.hasDefaultValue()
        && field.defaultVal() == JsonProperties.NULL_VALUE;
  }

  /** Every record schema in {@code schema}, by full name. */
  private static void records(Schema schema, Map<String, Schema> found) {
    switch (schema.getType()) {
      case RECORD -> {
        if (found.putIfAbsent(schema.getFullName(), schema) == null) {
          schema.getFields().forEach(field -> records(field.schema(), found));
        }
      }
      case ARRAY -> records(schema.getElementType(), found);
      case MAP -> records(schema.getValueType(), found);
      case UNION -> schema.getTypes().forEach(branch -> records(branch, found));
      default -> {}
    }
  }
}
