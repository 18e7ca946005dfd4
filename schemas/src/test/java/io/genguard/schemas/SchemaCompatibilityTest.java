package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every schema change must stay backward compatible: the schema this build reads with must read
 * everything any released version wrote. Released versions live in {@code schema-history}; the
 * current schema must itself be recorded there, so a change cannot ship without a new snapshot.
 */
class SchemaCompatibilityTest {

  static Stream<Topic<String, ?>> topics() {
    return Topics.all().stream().map(topic -> (Topic<String, ?>) topic);
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
}
