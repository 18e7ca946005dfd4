package io.genguard.audit.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReleaseGateOutcome;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> KEYS =
      List.of("b", "a", "Z", "é", "a1", "", "payload", "\u0000", "😀", "zz", "A", "_");
  private static final List<String> TEXTS =
      List.of("", "plain", "quote\"s", "back\\slash", "new\nline", "\u2028", "😀", "\u0001", "é");

  /** The writer as the chain was built on: the mapper writing a key-sorted copy of the tree. */
  private static String reference(JsonNode tree) throws Exception {
    ObjectMapper mapper =
        JsonMapper.builder().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();
    return mapper.writeValueAsString(sortedCopy(tree));
  }

  private static JsonNode sortedCopy(JsonNode node) {
    if (node.isObject()) {
      TreeMap<String, JsonNode> fields = new TreeMap<>();
      node.fields().forEachRemaining(e -> fields.put(e.getKey(), sortedCopy(e.getValue())));
      ObjectNode sorted = NODES.objectNode();
      fields.forEach(sorted::set);
      return sorted;
    }
    if (node.isArray()) {
      ArrayNode array = NODES.arrayNode();
      node.forEach(element -> array.add(sortedCopy(element)));
      return array;
    }
    return node;
  }

  private static JsonNode randomTree(SplittableRandom random, int depth) {
    int kind = random.nextInt(depth > 3 ? 7 : 9);
    if (kind < 7 && random.nextInt(4) == 0) {
      return otherLeaf(random);
    }
    switch (kind) {
      case 0:
        return NODES.nullNode();
      case 1:
        return NODES.booleanNode(random.nextBoolean());
      case 2:
        return NODES.numberNode(random.nextInt());
      case 3:
        return NODES.numberNode(random.nextLong());
      case 4:
        double[] doubles = {0.1, -0.0, 1e-300, 1.5e300, Double.NaN, 0.95, random.nextDouble()};
        return NODES.numberNode(doubles[random.nextInt(doubles.length)]);
      case 5:
      case 6:
        return NODES.textNode(TEXTS.get(random.nextInt(TEXTS.size())));
      case 7:
        ArrayNode array = NODES.arrayNode();
        for (int i = random.nextInt(4); i > 0; i--) {
          array.add(randomTree(random, depth + 1));
        }
        return array;
      default:
        ObjectNode object = NODES.objectNode();
        for (int i = random.nextInt(6); i > 0; i--) {
          object.set(KEYS.get(random.nextInt(KEYS.size())), randomTree(random, depth + 1));
        }
        return object;
    }
  }

  /**
   * Leaves the writer hands to the mapper rather than write itself: POJOs (what a projection's map
   * column was written from), floats, shorts, big numbers, binary.
   */
  private static JsonNode otherLeaf(SplittableRandom random) {
    return switch (random.nextInt(8)) {
      case 0 -> NODES.pojoNode(TEXTS.get(random.nextInt(TEXTS.size())));
      case 1 -> NODES.pojoNode(DOUBLES.get(random.nextInt(DOUBLES.size())));
      case 2 -> NODES.pojoNode(random.nextLong());
      case 3 -> NODES.numberNode((float) DOUBLES.get(random.nextInt(DOUBLES.size())).doubleValue());
      case 4 -> NODES.numberNode((short) random.nextInt());
      case 5 -> NODES.numberNode(BigInteger.valueOf(random.nextLong()).shiftLeft(70));
      case 6 -> NODES.numberNode(new BigDecimal("1.50E+3"));
      default -> NODES.binaryNode(new byte[] {0, (byte) random.nextInt(), -1});
    };
  }

  private static final List<Double> DOUBLES =
      List.of(0.1, -0.0, 1e-300, 1.5e300, Double.NaN, 0.95, 1e-7, 3.0e10, 1.0, 0.0);

  /**
   * A map column as the projections wrote it before they wrote it from the event's tree: the map's
   * values as POJOs, written by the mapper.
   */
  private static String mapAsPojos(Map<String, ?> map) {
    ObjectNode node = NODES.objectNode();
    map.forEach(node::putPOJO);
    return CanonicalJson.write(node);
  }

  @Test
  void shouldWriteEachFieldOfTheEventTreeAsTheProjectionsWroteItFromTheRecord() {
    AuditEvents.Scenario scenario =
        AuditEvents.Scenario.of(
            "fields", "acme", Decision.REVIEW, Instant.parse("2026-12-07T07:00:00.123Z"));
    GenerationRequest request =
        GenerationRequest.newBuilder(AuditEvents.request(scenario))
            .setAttributes(Map.of("campaign.id", "c-1", "é", "\u0000\"", "a", ""))
            .build();
    GenerationOutput output = AuditEvents.output(scenario);
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(AuditEvents.verdict(scenario))
            .setCategoryScores(
                Map.of(
                    "hate", 0.1, "violence", 1e-7, "sexual", -0.0, "self_harm", 1.0, "x", 3.0e10))
            .build();
    ReleaseGateOutcome outcome = AuditEvents.gateOutcome(scenario);

    ObjectNode requestTree = CanonicalJson.toTree(request);
    assertThat(CanonicalJson.write(requestTree.get("parameters")))
        .isEqualTo(CanonicalJson.of(request.getParameters()));
    assertThat(CanonicalJson.write(requestTree.get("attributes")))
        .isEqualTo(mapAsPojos(request.getAttributes()))
        .contains("campaign.id");
    ObjectNode outputTree = CanonicalJson.toTree(output);
    assertThat(CanonicalJson.write(outputTree.get("watermark")))
        .isEqualTo(CanonicalJson.of(output.getWatermark()));
    assertThat(CanonicalJson.write(outputTree.get("cost")))
        .isEqualTo(CanonicalJson.of(output.getCost()));
    assertThat(CanonicalJson.write(outputTree.get("attributes")))
        .isEqualTo(mapAsPojos(output.getAttributes()));
    ObjectNode verdictTree = CanonicalJson.toTree(verdict);
    assertThat(CanonicalJson.write(verdictTree.get("categoryScores")))
        .isEqualTo(mapAsPojos(verdict.getCategoryScores()))
        .contains("1.0E-7");
    assertThat(CanonicalJson.write(verdictTree.get("scorerVersions")))
        .isEqualTo(mapAsPojos(verdict.getScorerVersions()));
    assertThat(CanonicalJson.write(verdictTree.get("provenance")))
        .isEqualTo(CanonicalJson.of(verdict.getProvenance()));
    assertThat(CanonicalJson.write(verdictTree.get("model")))
        .isEqualTo(CanonicalJson.of(verdict.getModel()));
    assertThat(CanonicalJson.write(verdictTree.get("reasons")))
        .isEqualTo(CanonicalJson.ofField(verdict, "reasons"));
    assertThat(CanonicalJson.write(CanonicalJson.toTree(outcome).get("reasons")))
        .isEqualTo(CanonicalJson.ofField(outcome, "reasons"));
    Map<String, Long> counts = new TreeMap<>(Map.of("hate", 3L, "violence", 0L, "x", -1L));
    assertThat(CanonicalJson.write(CanonicalJson.toTree(metric(counts)).get("categoryCounts")))
        .isEqualTo(mapAsPojos(counts));
  }

  /**
   * One write of an object gives its text, each top-level field's text and the text with a field
   * replaced, each the same as written apart (the audit writer's payloads, projection columns and
   * judgement digests come from it): random trees, keys that sort and escape oddly included.
   */
  @Test
  void shouldGiveFromOneWriteTheTextOfEachFieldAndOfTheObjectWithOneReplaced() {
    SplittableRandom random = new SplittableRandom(51);
    List<Object> replacements = List.of(Instant.EPOCH, "r\"é😀", 7L, List.of("x"));
    int fieldsSeen = 0;
    for (int i = 0; i < 3000; i++) {
      ObjectNode tree = NODES.objectNode();
      for (int n = random.nextInt(8); n > 0; n--) {
        tree.set(KEYS.get(random.nextInt(KEYS.size())), randomTree(random, 1));
      }
      CanonicalJson.Written written = CanonicalJson.writeFields(tree);
      assertThat(written.text()).isEqualTo(CanonicalJson.write(tree));
      for (var names = tree.fieldNames(); names.hasNext(); fieldsSeen++) {
        String name = names.next();
        assertThat(written.field(name)).as(name).isEqualTo(CanonicalJson.write(tree.get(name)));
        Object replacement = replacements.get(random.nextInt(replacements.size()));
        assertThat(written.withField(tree, name, replacement))
            .isEqualTo(CanonicalJson.write(CanonicalJson.withField(tree, name, replacement)));
      }
      String absent = "not-a-key";
      assertThat(written.withField(tree, absent, Instant.EPOCH))
          .isEqualTo(CanonicalJson.write(CanonicalJson.withField(tree, absent, Instant.EPOCH)));
      assertThatThrownBy(() -> written.field(absent)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(fieldsSeen).isGreaterThan(5000);
  }

  @Test
  void shouldGiveFromOneWriteOfAnEventEachFieldAsItAppearsInTheRecord() {
    AuditEvents.Scenario scenario =
        AuditEvents.Scenario.of(
            "written", "acme", Decision.BLOCK, Instant.parse("2026-12-07T20:40:00.123456Z"));
    List<SpecificRecord> events =
        List.of(
            AuditEvents.request(scenario),
            AuditEvents.output(scenario),
            AuditEvents.verdict(scenario),
            AuditEvents.gateOutcome(scenario),
            metric(Map.of("hate", 3L, "x", -1L)));
    for (var event : events) {
      CanonicalJson.Written written = CanonicalJson.writeFields(CanonicalJson.toTree(event));
      assertThat(written.text()).isEqualTo(CanonicalJson.of(event));
      for (var field : event.getSchema().getFields()) {
        assertThat(written.field(field.name()))
            .as(field.name())
            .isEqualTo(CanonicalJson.ofField(event, field.name()));
      }
    }
  }

  private static BiasMetric metric(Map<String, Long> categoryCounts) {
    Instant at = Instant.parse("2026-12-07T07:00:00Z");
    return BiasMetric.newBuilder()
        .setEventId("metric-1")
        .setScope(BiasScope.LIVE)
        .setModel("builtin-kn")
        .setGroup("religion:muslim")
        .setWindowStart(at)
        .setWindowEnd(at.plusSeconds(60))
        .setCount(4)
        .setUnsafeCount(3)
        .setUnsafeScoreSum(1.5)
        .setBlockCount(1)
        .setReviewCount(1)
        .setReleaseCount(2)
        .setCategoryCounts(categoryCounts)
        .setComputedAt(at.plusSeconds(61))
        .build();
  }

  @Test
  void shouldReadBackEveryRecordItWrote() {
    AuditEvents.Scenario scenario =
        AuditEvents.Scenario.of(
            "round-trip", "acme", Decision.BLOCK, Instant.parse("2026-12-02T10:15:30.123Z"));
    GenerationOutput output = AuditEvents.output(scenario);
    ModerationVerdict verdict = AuditEvents.verdict(scenario);
    GenerationRequest request = AuditEvents.request(scenario);

    assertThat(CanonicalJson.toRecord(CanonicalJson.of(output), GenerationOutput.class))
        .isEqualTo(output);
    assertThat(CanonicalJson.toRecord(CanonicalJson.of(verdict), ModerationVerdict.class))
        .isEqualTo(verdict);
    assertThat(CanonicalJson.toRecord(CanonicalJson.of(request), GenerationRequest.class))
        .isEqualTo(request);
  }

  /**
   * The forty-ninth session's report: a verdict stored by a writer whose schema lacked a field that
   * is not nullable but has a default ({@code policySha256}, {@code textTruncated}) did not read
   * back (policySha256 "is not a string"). A key that is missing takes the field's default, as
   * Avro's schema resolution gives a reader's field the writer's schema lacks; a missing field
   * without a default is still refused.
   */
  @Test
  void shouldGiveAFieldMissingFromTheJsonItsDefault() {
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(
                AuditEvents.verdict(
                    AuditEvents.Scenario.of(
                        "older", "acme", Decision.REVIEW, Instant.parse("2026-12-02T10:15:30Z"))))
            .setPolicySha256("")
            .setTextTruncated(false)
            .build();
    ObjectNode older = CanonicalJson.toTree(verdict);
    older.remove(List.of("policySha256", "textTruncated", "groups", "attributes"));

    assertThat(CanonicalJson.toRecord(CanonicalJson.write(older), ModerationVerdict.class))
        .isEqualTo(
            ModerationVerdict.newBuilder(verdict)
                .setGroups(List.of())
                .setAttributes(Map.of())
                .build());
    older.remove("policyId");
    assertThatThrownBy(
            () -> CanonicalJson.toRecord(CanonicalJson.write(older), ModerationVerdict.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ModerationVerdict.policyId is not a string");
  }

  /**
   * A key the schema lacks (a newer writer's field) is ignored by toRecord but refused, at any
   * level, by toRecordOfKnownFields; a map's keys are data and are all read.
   */
  @Test
  void shouldRefuseAKeyTheSchemaLacksOnlyWhenAskedTo() {
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(
                AuditEvents.verdict(
                    AuditEvents.Scenario.of(
                        "newer", "acme", Decision.REVIEW, Instant.parse("2026-12-02T10:15:30Z"))))
            .setAttributes(Map.of("anyKey", "v"))
            .build();
    assertThat(
            CanonicalJson.toRecordOfKnownFields(CanonicalJson.of(verdict), ModerationVerdict.class))
        .isEqualTo(verdict);
    ObjectNode top = CanonicalJson.toTree(verdict);
    top.put("futureField", "x");
    ObjectNode inReason = CanonicalJson.toTree(verdict);
    ((ObjectNode) inReason.withArray("reasons").get(0)).put("futureField", "x");

    for (ObjectNode newer : List.of(top, inReason)) {
      String json = CanonicalJson.write(newer);
      assertThat(CanonicalJson.toRecord(json, ModerationVerdict.class)).isEqualTo(verdict);
      assertThatThrownBy(() -> CanonicalJson.toRecordOfKnownFields(json, ModerationVerdict.class))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("has key 'futureField'");
    }
  }

  /**
   * The fiftieth session's reviews: a missing key of a field with a primitive type and no default
   * (a verdict's unsafeScore, a reason's or provenance's int, an output's cost), a null there, or a
   * value of another kind read as 0 or false. Each is now refused, at any level; a double the
   * mapper wrote as a string (NaN, the infinities) reads back as that double.
   */
  @Test
  void shouldRefuseAMissingOrMistypedPrimitiveFieldRatherThanReadItAsZero() {
    ModerationVerdict verdict =
        AuditEvents.verdict(
            AuditEvents.Scenario.of(
                "primitive", "acme", Decision.REVIEW, Instant.parse("2026-12-02T10:15:30Z")));
    assertThat(verdict.getProvenance()).isNotNull();
    List<Consumer<ObjectNode>> changes =
        List.of(
            tree -> tree.remove("unsafeScore"),
            tree -> tree.putNull("unsafeScore"),
            tree -> tree.put("unsafeScore", "0.5"),
            tree -> ((ObjectNode) tree.get("provenance")).remove("tokensScored"),
            tree -> ((ObjectNode) tree.get("provenance")).put("tokensScored", 1.5),
            tree -> ((ObjectNode) tree.get("provenance")).put("tokensScored", 1L << 40),
            tree -> tree.put("textTruncated", "true"));
    for (var change : changes) {
      ObjectNode tree = CanonicalJson.toTree(verdict);
      change.accept(tree);
      String json = CanonicalJson.write(tree);
      assertThatThrownBy(() -> CanonicalJson.toRecord(json, ModerationVerdict.class))
          .as(json)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageMatching(
              "(?s).*ModerationVerdict\\.(unsafeScore|provenance\\.tokensScored|textTruncated)"
                  + " is not an? (number|int|boolean).*");
    }

    GenerationOutput output =
        AuditEvents.output(
            AuditEvents.Scenario.of(
                "cost", "acme", Decision.RELEASE, Instant.parse("2026-12-02T10:15:30Z")));
    assertThat(output.getCost()).isNotNull();
    ObjectNode noTokens = CanonicalJson.toTree(output);
    ((ObjectNode) noTokens.get("cost")).remove("promptTokens");
    assertThatThrownBy(
            () -> CanonicalJson.toRecord(CanonicalJson.write(noTokens), GenerationOutput.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GenerationOutput.cost.promptTokens is not an int");

    for (double odd :
        new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      ModerationVerdict scored = ModerationVerdict.newBuilder(verdict).setUnsafeScore(odd).build();
      // Avro's equals takes NaN for unequal to itself: compared by the value and the text.
      ModerationVerdict read =
          CanonicalJson.toRecord(CanonicalJson.of(scored), ModerationVerdict.class);
      assertThat(Double.compare(read.getUnsafeScore(), odd)).as("%s", odd).isZero();
      assertThat(CanonicalJson.of(read)).isEqualTo(CanonicalJson.of(scored));
    }
  }

  /**
   * A key the schema lacks holding null (what a newer writer stores for a field its schema added as
   * nullable, read from bytes without it) is taken by toRecordOfKnownOrNullFields, at any level;
   * one with a value is refused, as by toRecordOfKnownFields, which refuses both.
   */
  @Test
  void shouldTakeAKeyTheSchemaLacksOnlyWhenItHoldsNullWhenAskedTo() {
    ModerationVerdict verdict =
        AuditEvents.verdict(
            AuditEvents.Scenario.of(
                "newer-null", "acme", Decision.REVIEW, Instant.parse("2026-12-02T10:15:30Z")));
    ObjectNode top = CanonicalJson.toTree(verdict);
    top.putNull("futureField");
    ObjectNode inReason = CanonicalJson.toTree(verdict);
    ((ObjectNode) inReason.withArray("reasons").get(0)).putNull("futureField");
    for (ObjectNode newer : List.of(top, inReason)) {
      String json = CanonicalJson.write(newer);
      assertThat(CanonicalJson.toRecordOfKnownOrNullFields(json, ModerationVerdict.class))
          .isEqualTo(verdict);
      assertThatThrownBy(() -> CanonicalJson.toRecordOfKnownFields(json, ModerationVerdict.class))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("has key 'futureField'");
    }
    top.put("futureField", false);
    assertThatThrownBy(
            () ->
                CanonicalJson.toRecordOfKnownOrNullFields(
                    CanonicalJson.write(top), ModerationVerdict.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has key 'futureField'");
  }

  @Test
  void shouldRefuseJsonThatDoesNotFitTheSchema() {
    assertThatThrownBy(() -> CanonicalJson.toRecord("{\"eventId\": 7}", GenerationOutput.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Not a canonical GenerationOutput")
        .hasMessageContaining("GenerationOutput.eventId is not a string");
  }

  @Test
  void shouldWriteExactlyWhatTheMapperWritesForAKeySortedCopy() throws Exception {
    SplittableRandom random = new SplittableRandom(20261125);
    for (int i = 0; i < 5_000; i++) {
      JsonNode tree = randomTree(random, 0);
      assertThat(CanonicalJson.write(tree)).isEqualTo(reference(tree));
    }
  }

  @Test
  void shouldSortKeysAtEveryLevel() {
    ObjectNode inner = NODES.objectNode().put("y", 1).put("x", 2);
    ObjectNode tree = NODES.objectNode().put("b", "t");
    tree.set("a", NODES.arrayNode().add(inner));
    assertThat(CanonicalJson.write(tree)).isEqualTo("{\"a\":[{\"x\":2,\"y\":1}],\"b\":\"t\"}");
  }

  @Test
  void shouldWriteOneFieldAsItAppearsInTheWholeRecord() {
    ModerationVerdict verdict =
        AuditEvents.verdict(
            AuditEvents.Scenario.of(
                "r-1", "acme", Decision.BLOCK, Instant.parse("2026-11-25T10:00:00Z")));
    assertThat(CanonicalJson.ofField(verdict, "reasons"))
        .isEqualTo(CanonicalJson.write(CanonicalJson.toTree(verdict).get("reasons")))
        .contains("\"code\"");
  }

  /**
   * toTree writes a record's fields in the order of their names, sorted once per generated class
   * (the class's schema must be the record's own, or it sorts for the record): the same tree, in
   * the same order, as the TreeMap of every record's fields it replaces built. Also for a record
   * whose class has no schema of its own (a generic record) and for nested records.
   */
  @Test
  void shouldBuildEachRecordsTreeWithItsFieldsInTheOrderOfTheirNames() throws Exception {
    AuditEvents.Scenario scenario =
        AuditEvents.Scenario.of(
            "sorted-fields", "acme", Decision.BLOCK, Instant.parse("2026-12-07T10:15:30.123Z"));
    List<SpecificRecord> events =
        List.of(
            AuditEvents.request(scenario),
            AuditEvents.output(scenario),
            AuditEvents.verdict(scenario),
            AuditEvents.gateOutcome(scenario),
            metric(Map.of("hate", 3L)));
    for (org.apache.avro.specific.SpecificRecord event : events) {
      assertThat(event.getSchema())
          .as("the class's schema is the record's own, which the sorted fields are cached for")
          .isSameAs(org.apache.avro.specific.SpecificData.get().getSchema(event.getClass()));
      ObjectNode tree = CanonicalJson.toTree(event);
      assertFieldsInNameOrder(tree, event);
      assertThat(CanonicalJson.write(tree)).isEqualTo(reference(tree));
      org.apache.avro.generic.GenericData.Record generic =
          new org.apache.avro.generic.GenericData.Record(event.getSchema());
      for (org.apache.avro.Schema.Field field : event.getSchema().getFields()) {
        generic.put(field.pos(), event.get(field.pos()));
      }
      assertThat(CanonicalJson.toTree(generic)).isEqualTo(tree);
      assertThat(List.copyOf(iterable(CanonicalJson.toTree(generic).fieldNames())))
          .isEqualTo(List.copyOf(iterable(tree.fieldNames())));
    }
  }

  /** Keys of the tree and of every nested record's object are its schema's names, sorted. */
  private static void assertFieldsInNameOrder(JsonNode tree, Object value) {
    if (value instanceof org.apache.avro.generic.IndexedRecord record) {
      List<String> names = new java.util.ArrayList<>();
      record.getSchema().getFields().forEach(field -> names.add(field.name()));
      java.util.Collections.sort(names);
      assertThat(List.copyOf(iterable(tree.fieldNames())))
          .as(record.getSchema().getName())
          .isEqualTo(names);
      for (org.apache.avro.Schema.Field field : record.getSchema().getFields()) {
        assertFieldsInNameOrder(tree.get(field.name()), record.get(field.pos()));
      }
    } else if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        assertFieldsInNameOrder(tree.get(i), list.get(i));
      }
    }
  }

  private static <T> List<T> iterable(java.util.Iterator<T> iterator) {
    List<T> items = new java.util.ArrayList<>();
    iterator.forEachRemaining(items::add);
    return items;
  }
}
