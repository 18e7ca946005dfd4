package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.CommittedReader;
import io.genguard.testsupport.CorruptSegments;
import io.genguard.testsupport.OwnBroker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record batch of gen.requests damaged on the broker's disk (its CRC no longer matches), which
 * the Kafka consumer refuses on every poll: the generator dead-letters its record, with the bytes
 * as they are now and the reason, commits past it and answers the request behind it. While the dead
 * letter cannot be written (the dead-letter topic is missing), nothing is skipped. Runs on a broker
 * of its own, whose log files the test can reach.
 */
class GeneratorCorruptRecordITCase {
  private static final TopicPartition REQUESTS_0 =
      new TopicPartition(Topics.GENERATION_REQUESTS.name(), 0);

  /** The topics the generator reads and writes, but for its dead-letter topic. */
  private static final List<String> GENERATOR_TOPICS =
      List.of(
          Topics.GENERATION_REQUESTS.name(),
          Topics.GENERATION_OUTPUTS.name(),
          Topics.GENERATION_FAILURES.name());

  @TempDir Path dataDir;
  @TempDir Path brokerDir;
  private EmbeddedKafkaBroker broker;
  private GeneratorService generator;

  @AfterEach
  void stop() {
    if (generator != null) {
      generator.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void shouldDeadLetterADamagedRecordBatchOnlyOnceItCanAndAnswerTheRequestBehindIt()
      throws Exception {
    // No dead-letter topic yet: the dead letter cannot be written at first.
    broker = OwnBroker.start(brokerDir, GENERATOR_TOPICS);
    String servers = broker.bootstrapServers();
    Map<String, Object> admin = OwnBroker.adminProperties(broker);
    String run = UUID.randomUUID().toString().substring(0, 8);
    String before = run + "-before";
    String damaged = run + "-damaged";
    String after = run + "-after";
    String marker = "damaged-" + run;
    // Each in a batch of its own, so that only the middle one is damaged.
    try (KafkaProducer<byte[], byte[]> producer = CorruptSegments.unbatchedProducer(servers)) {
      producer.send(request(before, "Good morning")).get();
      producer.send(request(damaged, "Prompt " + marker + " here")).get();
      producer.send(request(after, "Good evening")).get();
    }
    // One byte of the middle record's prompt changes on disk: its batch's CRC no longer matches.
    String changedMarker =
        CorruptSegments.damage(CorruptSegments.firstSegment(broker, REQUESTS_0), marker);

    // A send to the missing dead-letter topic fails after this long instead of a minute.
    SimpleMeterRegistry meters =
        startGenerator(
            run, Map.of("bootstrap.servers", servers, ProducerConfig.MAX_BLOCK_MS_CONFIG, 3_000));

    try (CommittedReader committed =
        new CommittedReader(servers, Topics.GENERATION_OUTPUTS.name())) {
      await()
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> outputs(committed.poll()).contains(before));
      // The damaged batch cannot be dead-lettered yet: it stays, and the request behind it waits.
      Thread.sleep(8_000);
      committed.poll();
      assertThat(outputs(committed)).doesNotContain(damaged, after);
      assertThat(committedRequests(admin, run))
          .as("nothing is skipped while its dead letter cannot be written")
          .isEqualTo(1L);

      TopicProvisioner.provision(
          admin, List.of(Topics.GENERATION_REQUESTS_DLQ.name()), 1, (short) 1);
      committed.alsoRead(Topics.GENERATION_REQUESTS_DLQ.name());
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> outputs(committed.poll()).contains(after));
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> !deadLetters(committed.poll()).isEmpty());

      List<DeadLetter> deadLetters = deadLetters(committed);
      assertThat(deadLetters).hasSize(1);
      DeadLetter letter = deadLetters.get(0);
      assertThat(letter.getSourceTopic()).isEqualTo(Topics.GENERATION_REQUESTS.name());
      assertThat(letter.getSourcePartition()).isZero();
      assertThat(letter.getSourceOffset()).isEqualTo(1L);
      assertThat(letter.getStage()).isEqualTo("generator");
      assertThat(letter.getErrorClass()).isEqualTo(CorruptRecordException.class.getName());
      assertThat(letter.getReason()).contains("CRC", "kept as read without the check");
      assertThat(new String(bytes(letter.getKey()), StandardCharsets.UTF_8)).isEqualTo(damaged);
      assertThat(new String(bytes(letter.getPayload()), StandardCharsets.ISO_8859_1))
          .as("the bytes as they are on disk now")
          .contains(changedMarker);
      assertThat(outputs(committed)).doesNotContain(damaged);
      assertThat(committedRequests(admin, run)).isEqualTo(3L);
      Counter counted = corruptRecordCounter(meters);
      assertThat(counted).isNotNull();
      assertThat(counted.count()).isEqualTo(1.0);
      assertThat(generator.runningWorkers()).isEqualTo(1);
    }
  }

  @Test
  void shouldDeadLetterDamagedTransactionMarkersAndGenerateOnlyTheCommittedRequests()
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String first = run + "-committed";
    String aborted = run + "-aborted";
    String last = run + "-after";
    // Three transactions: committed (its request at 0, its marker at 1), aborted (2, 3) and
    // committed (4, 5).
    Map<String, Object> admin =
        startWithTransactions(
            run,
            List.of(request(first, "Good morning"), request(aborted, "Good night")),
            request(last, "Good evening"));
    // The commit marker of the first and the abort marker of the second fail their CRC now.
    Path segment = CorruptSegments.firstSegment(broker, REQUESTS_0);
    CorruptSegments.damageMarker(segment, 1L);
    CorruptSegments.damageMarker(segment, 3L);
    SimpleMeterRegistry meters = startGenerator(run);

    try (CommittedReader committed = outputsAndDeadLetters()) {
      awaitOutputsAndDeadLetters(committed, List.of(first, last), 2);

      assertThat(outputs(committed))
          .as("the aborted request never, whatever its damaged abort marker reads as")
          .containsExactlyInAnyOrder(first, last);
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("the two markers, not the request behind either")
          .containsExactlyInAnyOrder(1L, 3L);
      for (DeadLetter letter : deadLetters(committed)) {
        assertMarkerLetter(letter);
      }
      assertThat(committedRequests(admin, run))
          .as("past the last request (the generator commits past what it answers)")
          .isEqualTo(5L);
      assertThat(corruptRecordLetters(meters)).isEqualTo(2.0);
      assertThat(generator.runningWorkers()).isEqualTo(1);
    }
  }

  @Test
  void shouldDeadLetterADamagedBatchOfAnAbortedTransactionAndNotTheRequestBehindIt()
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String first = run + "-committed";
    String aborted = run + "-aborted";
    String last = run + "-after";
    String marker = "damaged-" + run;
    // Committed (0, marker at 1), aborted (2, 3) and committed (4, 5); the aborted request's batch
    // fails its CRC: read without the check, the broker's index still says it was aborted, so it
    // yields no record, and the request behind it is not the damaged one.
    Map<String, Object> admin =
        startWithTransactions(
            run,
            List.of(request(first, "Good morning"), request(aborted, "Prompt " + marker + " here")),
            request(last, "Good evening"));
    CorruptSegments.damage(CorruptSegments.firstSegment(broker, REQUESTS_0), marker);
    SimpleMeterRegistry meters = startGenerator(run);

    try (CommittedReader committed = outputsAndDeadLetters()) {
      awaitOutputsAndDeadLetters(committed, List.of(first, last), 1);

      assertThat(outputs(committed)).containsExactlyInAnyOrder(first, last);
      assertThat(deadLetters(committed)).hasSize(1);
      DeadLetter letter = deadLetters(committed).get(0);
      assertThat(letter.getSourceOffset()).as("the damaged batch's offset").isEqualTo(2L);
      assertMarkerLetter(letter);
      assertThat(committedRequests(admin, run))
          .as("past the last request (the generator commits past what it answers)")
          .isEqualTo(5L);
      assertThat(corruptRecordLetters(meters)).isEqualTo(1.0);
    }
  }

  @Test
  void shouldDeadLetterEachOffsetOfADamagedAbortedBatchOverSeveralOffsetsAndGoOn()
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String first = run + "-committed";
    String last = run + "-after";
    // Committed (0, marker at 1), an aborted transaction of three requests in one batch (2 to 4,
    // marker at 5) and committed (6, marker at 7); the aborted batch fails its CRC.
    broker = OwnBroker.start(brokerDir, withDeadLetters());
    writeAbortedSpan(run, first, last);
    SimpleMeterRegistry meters = startGenerator(run);

    try (CommittedReader committed = outputsAndDeadLetters()) {
      awaitOutputsAndDeadLetters(committed, List.of(first, last), 3);

      assertThat(outputs(committed)).containsExactlyInAnyOrder(first, last);
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("each offset of the damaged batch, not the request behind it")
          .containsExactlyInAnyOrder(2L, 3L, 4L);
      for (DeadLetter letter : deadLetters(committed)) {
        assertSpanLetter(letter, "over offsets 2 to 4 (the next batch begins at 5)");
      }
      assertThat(committedRequests(OwnBroker.adminProperties(broker), run)).isEqualTo(7L);
      assertThat(corruptRecordLetters(meters)).isEqualTo(3.0);
    }
  }

  @Test
  void shouldLeaveADamagedAbortedBatchOverSeveralOffsetsWhereItIsBelowKafka41() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String first = run + "-committed";
    String last = run + "-after";
    // As above, on a cluster whose metadata.version is 4.0's: brokers before 4.1 answer a fetch
    // from inside the damaged batch's claim with that batch, so where it ends cannot be told.
    broker = OwnBroker.start(brokerDir, withDeadLetters(), MetadataVersion.IBP_4_0_IV3);
    writeAbortedSpan(run, first, last);
    SimpleMeterRegistry meters = startGenerator(run);

    try (CommittedReader committed = outputsAndDeadLetters()) {
      awaitOutputsAndDeadLetters(committed, List.of(first), 0);
      // Long enough for the worker to meet the batch, fail to tell its end and back off again.
      Thread.sleep(10_000);
      committed.poll();

      assertThat(outputs(committed)).containsExactly(first);
      assertThat(deadLetters(committed)).as("nothing skipped: the partition waits").isEmpty();
      assertThat(committedRequests(OwnBroker.adminProperties(broker), run))
          .as("before the damaged batch, past the committed request only")
          .isEqualTo(1L);
      assertThat(corruptRecordLetters(meters)).isZero();
      assertThat(generator.runningWorkers()).isEqualTo(1);
    }
  }

  @Test
  void shouldNotTakeADamagedMarkersClaimOfSeveralOffsetsForTheRequestsBehindIt() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String first = run + "-first";
    String second = run + "-second";
    String third = run + "-third";
    // Three committed transactions (requests at 0, 2, 4, markers at 1, 3, 5); the marker at 1 is
    // damaged so that it claims offsets 1 to 3: the request at 2 is not its, and is generated.
    Map<String, Object> admin =
        startWithTransactions(
            run, List.of(request(first, "Good morning")), request(second, "Good day"));
    try (KafkaProducer<byte[], byte[]> producer =
        CorruptSegments.transactionalProducer(broker.bootstrapServers(), "it-third-" + run)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(request(third, "Good evening")).get();
      producer.commitTransaction();
    }
    Path segment = CorruptSegments.firstSegment(broker, REQUESTS_0);
    CorruptSegments.damageMarkerSpan(segment, 1L, 2);
    SimpleMeterRegistry meters = startGenerator(run);

    try (CommittedReader committed = outputsAndDeadLetters()) {
      awaitOutputsAndDeadLetters(committed, List.of(first, second, third), 1);

      assertThat(outputs(committed)).containsExactlyInAnyOrder(first, second, third);
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("the marker's offset only, up to where the next batch begins")
          .containsExactly(1L);
      assertMarkerLetter(deadLetters(committed).get(0));
      assertThat(committedRequests(admin, run)).isEqualTo(5L);
      assertThat(corruptRecordLetters(meters)).isEqualTo(1.0);
    }
  }

  /**
   * Writes, on {@link #broker}, request {@code first} committed (offset 0, its marker at 1), an
   * aborted transaction of three requests in one batch (2 to 4, its marker at 5) and request {@code
   * last} committed (6, its marker at 7), and damages the aborted batch: it fails its CRC, and read
   * without the check it yields no record and claims offsets 2 to 4.
   */
  private void writeAbortedSpan(String run, String first, String last) throws Exception {
    String marker = "damaged-" + run;
    try (KafkaProducer<byte[], byte[]> producer =
        CorruptSegments.batchingTransactionalProducer(
            broker.bootstrapServers(), "it-requests-" + run)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(request(first, "Good morning"));
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(request(run + "-aborted-1", "Good night"));
      producer.send(request(run + "-aborted-2", "Prompt " + marker + " here"));
      producer.send(request(run + "-aborted-3", "Good night again"));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(request(last, "Good evening"));
      producer.commitTransaction();
    }
    Path segment = CorruptSegments.firstSegment(broker, REQUESTS_0);
    assertThat(CorruptSegments.lastOffsetOfBatch(segment, 2L))
        .as("the aborted requests share one batch")
        .isEqualTo(4L);
    CorruptSegments.damage(segment, marker);
  }

  /** The topics of the generator and its dead-letter topic. */
  private static List<String> withDeadLetters() {
    List<String> topics = new ArrayList<>(GENERATOR_TOPICS);
    topics.add(Topics.GENERATION_REQUESTS_DLQ.name());
    return topics;
  }

  /** A dead letter of an offset of a record-less damaged batch over several offsets. */
  private static void assertSpanLetter(DeadLetter letter, String span) {
    assertThat(letter.getSourceTopic()).isEqualTo(Topics.GENERATION_REQUESTS.name());
    assertThat(letter.getStage()).isEqualTo("generator");
    assertThat(letter.getErrorClass()).isEqualTo(CorruptRecordException.class.getName());
    assertThat(letter.getReason()).contains("CRC", span, "never generated");
    assertThat(letter.getKey()).isNull();
    assertThat(letter.getPayload()).isNull();
  }

  /**
   * Starts the broker with every topic and writes {@code transactions} each in a transaction of its
   * own, the first committed and the others aborted, then {@code last} in a committed one.
   */
  private Map<String, Object> startWithTransactions(
      String run,
      List<ProducerRecord<byte[], byte[]>> transactions,
      ProducerRecord<byte[], byte[]> last)
      throws Exception {
    broker = OwnBroker.start(brokerDir, withDeadLetters());
    try (KafkaProducer<byte[], byte[]> producer =
        CorruptSegments.transactionalProducer(broker.bootstrapServers(), "it-requests-" + run)) {
      producer.initTransactions();
      List<ProducerRecord<byte[], byte[]>> all = new ArrayList<>(transactions);
      all.add(last);
      for (int i = 0; i < all.size(); i++) {
        producer.beginTransaction();
        producer.send(all.get(i)).get();
        if (i == 0 || i == all.size() - 1) {
          producer.commitTransaction();
        } else {
          producer.abortTransaction();
        }
      }
    }
    return OwnBroker.adminProperties(broker);
  }

  /** Starts the generator with one worker on the broker, in a consumer group of {@code run}'s. */
  private SimpleMeterRegistry startGenerator(String run) {
    return startGenerator(run, Map.of("bootstrap.servers", broker.bootstrapServers()));
  }

  /** Starts the generator with one worker and the Kafka client properties {@code kafka}. */
  private SimpleMeterRegistry startGenerator(String run, Map<String, Object> kafka) {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    generator =
        new GeneratorService(
            GeneratorConfig.defaults(dataDir)
                .withInstanceId("corrupt-" + run)
                .withConsumerGroup("generator-corrupt-" + run)
                .withWorkers(1),
            kafka,
            meters);
    generator.start();
    return meters;
  }

  /** A dead letter of a damaged one-offset batch that yields no record: no key, no value. */
  private static void assertMarkerLetter(DeadLetter letter) {
    assertThat(letter.getSourceTopic()).isEqualTo(Topics.GENERATION_REQUESTS.name());
    assertThat(letter.getSourcePartition()).isZero();
    assertThat(letter.getStage()).isEqualTo("generator");
    assertThat(letter.getErrorClass()).isEqualTo(CorruptRecordException.class.getName());
    assertThat(letter.getReason())
        .contains(
            "CRC",
            "transaction marker",
            REQUESTS_0 + " offset " + letter.getSourceOffset(),
            "never generated");
    assertThat(letter.getKey()).isNull();
    assertThat(letter.getPayload()).isNull();
  }

  /** The count of requests dead-lettered as corrupt records, or null before the first. */
  private static Counter corruptRecordCounter(SimpleMeterRegistry meters) {
    return meters
        .find(GeneratorMetrics.REQUESTS)
        .tag("outcome", "dead_letter")
        .tag("code", "corrupt_record")
        .counter();
  }

  private static double corruptRecordLetters(SimpleMeterRegistry meters) {
    Counter counted = corruptRecordCounter(meters);
    return counted == null ? 0 : counted.count();
  }

  private static ProducerRecord<byte[], byte[]> request(String requestId, String prompt) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-" + requestId)
            .setRequestId(requestId)
            .setTenantId("tenant-it")
            .setPrompt(prompt)
            .setBackend("echo")
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(8)
                    .setTemperature(1.0)
                    .setTopK(0)
                    .setTopP(1.0)
                    .build())
            .setSubmittedAt(Instant.now())
            .build();
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS.name(),
        0,
        requestId.getBytes(StandardCharsets.UTF_8),
        Topics.GENERATION_REQUESTS.codec().encode(request));
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  /**
   * Waits until the committed outputs hold each of {@code requests} and at least {@code letters}
   * dead letters are committed, then lets anything that would come later show.
   */
  private static void awaitOutputsAndDeadLetters(
      CommittedReader committed, List<String> requests, int letters) throws InterruptedException {
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                outputs(committed.poll()).containsAll(requests)
                    && deadLetters(committed).size() >= letters);
    Thread.sleep(2_000);
    committed.poll();
  }

  /** The offset of gen.requests that the generator's consumer group of {@code run} committed. */
  private static long committedRequests(Map<String, Object> admin, String run) throws Exception {
    return CorruptSegments.committedOffset(admin, "generator-corrupt-" + run, REQUESTS_0);
  }

  /** A reader of the committed outputs and dead letters of requests. */
  private CommittedReader outputsAndDeadLetters() {
    return new CommittedReader(
        broker.bootstrapServers(),
        Topics.GENERATION_OUTPUTS.name(),
        Topics.GENERATION_REQUESTS_DLQ.name());
  }

  /** The request ids of the committed outputs read so far. */
  private static List<String> outputs(CommittedReader committed) {
    return committed.values(
        Topics.GENERATION_OUTPUTS.name(),
        value -> Topics.GENERATION_OUTPUTS.codec().decode(value).getRequestId());
  }

  /** The committed dead letters of requests read so far. */
  private static List<DeadLetter> deadLetters(CommittedReader committed) {
    return committed.values(
        Topics.GENERATION_REQUESTS_DLQ.name(), Topics.GENERATION_REQUESTS_DLQ.codec()::decode);
  }
}
