package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Dead letters go back to their source topic only when this build decodes what a stage could not,
 * on a real broker; everything else stays, counted by why.
 */
class DeadLetterRedriveITCase {
  private static final String DLQ = Topics.AUDIT_ERASURES_DLQ.name();
  private static final String SOURCE = Topics.AUDIT_ERASURES.name();

  @Test
  void shouldSendBackOnlyWhatNowDecodesAndRememberWhereItStopped() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    Map<String, Object> kafka = infra.kafkaClientProperties();
    TopicProvisioner.provisionCatalogue(kafka, 4, (short) 1);
    String requestId = "redrive-" + UUID.randomUUID();
    byte[] notice =
        Topics.AUDIT_ERASURES
            .codec()
            .encode(
                ErasureNotice.newBuilder()
                    .setEventId("notice-" + requestId)
                    .setRequestId(requestId)
                    .setTenantId("acme")
                    .setErasureSeq(7L)
                    .setErasedAt(Instant.parse("2026-12-04T10:00:00Z"))
                    .build());
    byte[] key = requestId.getBytes(StandardCharsets.UTF_8);
    EventDecodingException undecodable =
        new EventDecodingException("unknown schema fingerprint", null);
    List<byte[]> deadLetters =
        List.of(
            // The gate could not decode it then (its schemas were behind); this build can.
            letter(SOURCE, 100, key, notice, "gate", undecodable),
            // The same source record, dead-lettered by a second stage: a copy for each stage.
            letter(SOURCE, 100, key, notice, "audit-shadow", undecodable),
            // The gate read it again after a restart and dead-lettered it again: one copy.
            letter(SOURCE, 100, key, notice, "gate", undecodable),
            letter(
                SOURCE, 101, key, "not avro".getBytes(StandardCharsets.UTF_8), "gate", undecodable),
            letter(SOURCE, 102, key, notice, "gate", new IllegalStateException("not held")),
            letter(SOURCE, 103, key, new byte[EventCodec.MAX_EVENT_BYTES], "gate", undecodable),
            letter(Topics.REVIEW_DECISIONS.name(), 104, key, notice, "gate", undecodable),
            "garbage on the dead-letter topic".getBytes(StandardCharsets.UTF_8));
    Map<TopicPartition, Long> sourceEnd = endOffsets(kafka, SOURCE);
    Properties producerProps = new Properties();
    producerProps.putAll(kafka);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (byte[] value : deadLetters) {
        producer.send(new ProducerRecord<>(DLQ, key, value)).get();
      }
    }
    String group = "redrive-it-" + UUID.randomUUID();

    DeadLetterRedrive.Result dry =
        DeadLetterRedrive.run(new DeadLetterRedrive.Settings(kafka, DLQ, null, group, true, false));

    assertThat(dry.read()).isEqualTo(8);
    assertThat(dry.sent()).isEqualTo(2);
    assertThat(dry.kept())
        .hasSize(6)
        .containsKeys(
            "the same source record and stage as a dead letter sent back earlier in this run",
            "still does not decode",
            "refused for what it says, not for its bytes (java.lang.IllegalStateException):"
                + " sending it back would fail the same way",
            "the dead letter keeps only part of the record: read the source record at its offset",
            "from another topic (review.decisions)")
        .allSatisfy((reason, count) -> assertThat(count).isEqualTo(1));
    assertThat(dry.kept())
        .containsKey("not a dead letter: this build's DeadLetter schema does not decode it");
    assertThat(dry.examples().get("still does not decode"))
        .singleElement()
        .asString()
        .startsWith(DLQ + "-");
    assertThat(sentSince(kafka, sourceEnd)).as("a dry run sends nothing").isEmpty();

    DeadLetterRedrive.Result run =
        DeadLetterRedrive.run(
            new DeadLetterRedrive.Settings(kafka, DLQ, null, group, false, false));

    assertThat(run.read()).as("the dry run committed nothing").isEqualTo(8);
    assertThat(run.sent()).isEqualTo(2);
    List<ConsumerRecord<byte[], byte[]>> sent = sentSince(kafka, sourceEnd);
    assertThat(sent).hasSize(2);
    assertThat(sent)
        .allSatisfy(
            record -> {
              assertThat(record.key()).isEqualTo(key);
              assertThat(record.value()).isEqualTo(notice);
              assertThat(header(record, DeadLetterRedrive.HEADER)).startsWith(DLQ + "-");
            });
    // Each copy is for the stage that could not read it; the other skips it.
    assertThat(sent)
        .extracting(record -> header(record, DeadLetters.REDRIVEN_FOR))
        .containsExactlyInAnyOrder("gate", "audit-shadow");
    assertThat(sent)
        .filteredOn(record -> DeadLetters.sentBackForAnotherStage(record.headers(), "audit-shadow"))
        .extracting(record -> header(record, DeadLetters.REDRIVEN_FOR))
        .containsExactly("gate");

    assertThat(run.heldAt()).as("held at the letter that still does not decode").hasSize(1);

    DeadLetterRedrive.Result again =
        DeadLetterRedrive.run(
            new DeadLetterRedrive.Settings(kafka, DLQ, null, group, false, false));
    assertThat(again.read())
        .as("the next run reads again only the letter that still does not decode")
        .isEqualTo(1);
    assertThat(again.passedOver()).isEqualTo(4);
    assertThat(again.sent()).isZero();
    assertThat(again.kept()).containsOnlyKeys("still does not decode");
    assertThat(again.heldAt()).isEqualTo(run.heldAt());

    DeadLetterRedrive.Result gateOnly =
        DeadLetterRedrive.run(
            new DeadLetterRedrive.Settings(kafka, DLQ, "gate", group + ".gate", true, true));
    assertThat(gateOnly.kept()).containsEntry("another stage (audit-shadow)", 1L);
    assertThat(gateOnly.sent()).isEqualTo(1);

    assertThatThrownBy(() -> DeadLetterRedrive.sourceOf(SOURCE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a dead-letter topic")
        .hasMessageContaining("gen.outputs.dlq");
  }

  /**
   * The finding of the thirty-seventh session's review: a run kept a dead letter that did not
   * decode yet but committed past it, so the run of the upgraded build read nothing.
   */
  @Test
  void shouldHoldItsPositionAtALetterItCannotDecodeYetAndSendItOnceABuildCan() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    Map<String, Object> kafka = infra.kafkaClientProperties();
    TopicProvisioner.provisionCatalogue(kafka, 4, (short) 1);
    String dlq = Topics.REVIEW_DECISIONS_DLQ.name();
    String requestId = "held-" + UUID.randomUUID();
    byte[] key = requestId.getBytes(StandardCharsets.UTF_8);
    List<byte[]> reviews = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      reviews.add(Topics.REVIEW_DECISIONS.codec().encode(review(requestId, i)));
    }
    // Reviews 1 and 3 came from a producer ahead of the first build's schemas.
    Set<ByteBuffer> newer =
        Set.of(ByteBuffer.wrap(reviews.get(1)), ByteBuffer.wrap(reviews.get(3)));
    Function<byte[], SpecificRecord> olderBuild =
        bytes -> {
          if (newer.contains(ByteBuffer.wrap(bytes))) {
            throw new EventDecodingException("Unknown writer schema for ReviewDecision", null);
          }
          return Topics.REVIEW_DECISIONS.codec().decode(bytes);
        };
    String group = "redrive-held-" + UUID.randomUUID();
    commitAtTheEnd(kafka, dlq, group); // this test's letters alone
    Map<TopicPartition, Long> sourceEnd = endOffsets(kafka, Topics.REVIEW_DECISIONS.name());
    Properties producerProps = new Properties();
    producerProps.putAll(kafka);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < reviews.size(); i++) {
        byte[] letter =
            letter(
                Topics.REVIEW_DECISIONS.name(),
                200 + i,
                key,
                reviews.get(i),
                "gate",
                new EventDecodingException("Unknown writer schema for ReviewDecision", null));
        producer.send(new ProducerRecord<>(dlq, key, letter)).get();
      }
    }
    DeadLetterRedrive.Settings settings =
        new DeadLetterRedrive.Settings(kafka, dlq, null, group, false, false);

    DeadLetterRedrive.Result first = DeadLetterRedrive.run(settings, olderBuild);

    assertThat(first.read()).isEqualTo(5);
    assertThat(first.sent()).isEqualTo(3);
    assertThat(first.kept()).containsExactly(Map.entry("still does not decode", 2L));
    List<String> letters = first.examples().get("still does not decode");
    assertThat(first.heldAt()).containsExactly(letters.get(0));
    assertThat(reviewsSentSince(kafka, sourceEnd))
        .containsExactly("review-0", "review-2", "review-4");

    // The same build again: it reads the two it could not decode, and sends nothing twice.
    DeadLetterRedrive.Result again = DeadLetterRedrive.run(settings, olderBuild);

    assertThat(again.read()).isEqualTo(2);
    assertThat(again.passedOver()).as("reviews 2 and 4, sent by the first run").isEqualTo(2);
    assertThat(again.sent()).isZero();
    assertThat(again.examples().get("still does not decode")).isEqualTo(letters);
    assertThat(again.heldAt()).isEqualTo(first.heldAt());
    assertThat(reviewsSentSince(kafka, sourceEnd)).hasSize(3);

    // The upgraded build decodes them: sent back, and the position moves to the end.
    DeadLetterRedrive.Result upgraded = DeadLetterRedrive.run(settings);

    assertThat(upgraded.read()).isEqualTo(2);
    assertThat(upgraded.sent()).isEqualTo(2);
    assertThat(upgraded.kept()).isEmpty();
    assertThat(upgraded.heldAt()).isEmpty();
    assertThat(reviewsSentSince(kafka, sourceEnd))
        .containsExactly("review-0", "review-2", "review-4", "review-1", "review-3");
    DeadLetterRedrive.Result done = DeadLetterRedrive.run(settings);
    assertThat(done.read() + done.passedOver()).isZero();
  }

  private static ReviewDecision review(String requestId, int i) {
    return ReviewDecision.newBuilder()
        .setEventId("review-" + i)
        .setReviewId("review-id-" + i)
        .setRequestId(requestId)
        .setOutputId("output-" + requestId)
        .setTenantId("acme")
        .setAction(ReviewAction.APPROVE)
        .setReviewer("rita")
        .setDecidedAt(Instant.parse("2026-12-04T10:00:00Z"))
        .build();
  }

  /** Commits {@code group}'s position at the end of every partition of {@code topic}. */
  private static void commitAtTheEnd(Map<String, Object> kafka, String topic, String group) {
    Properties props = new Properties();
    props.putAll(kafka);
    props.put("group.id", group);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Map<TopicPartition, OffsetAndMetadata> ends = new HashMap<>();
      endOffsets(kafka, topic).forEach((p, end) -> ends.put(p, new OffsetAndMetadata(end)));
      consumer.commitSync(ends);
    }
  }

  /** The event ids of the reviews that reached review.decisions after {@code from}. */
  private static List<String> reviewsSentSince(
      Map<String, Object> kafka, Map<TopicPartition, Long> from) {
    return sentSince(kafka, from).stream()
        .map(record -> Topics.REVIEW_DECISIONS.codec().decode(record.value()).getEventId())
        .toList();
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static byte[] letter(
      String sourceTopic, long offset, byte[] key, byte[] payload, String stage, Exception error) {
    DeadLetter letter =
        DeadLetters.of(sourceTopic, 0, offset, key, payload, stage, error, Instant.now());
    return Topics.AUDIT_ERASURES_DLQ.codec().encode(letter);
  }

  private static Map<TopicPartition, Long> endOffsets(Map<String, Object> kafka, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      return consumer.endOffsets(partitions);
    }
  }

  /** What reached the topic after {@code from}, waiting up to 5 s for it. */
  private static List<ConsumerRecord<byte[], byte[]>> sentSince(
      Map<String, Object> kafka, Map<TopicPartition, Long> from) {
    List<ConsumerRecord<byte[], byte[]>> found = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
      consumer.assign(from.keySet());
      from.forEach(consumer::seek);
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(found::add);
      }
    }
    return found;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(Map<String, Object> kafka) {
    Properties props = new Properties();
    props.putAll(kafka);
    props.put("isolation.level", "read_committed");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
