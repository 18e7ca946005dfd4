package io.genguard.generator.worker;

import static io.genguard.generator.worker.WorkerFixtures.config;
import static io.genguard.generator.worker.WorkerFixtures.processor;
import static io.genguard.generator.worker.WorkerFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.PoolRouting;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GenerationWorkerTest {
  private static final String REQUESTS = Topics.GENERATION_REQUESTS.name();
  private static final TopicPartition PARTITION = new TopicPartition(REQUESTS, 0);

  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
  private final List<MockProducer<byte[], byte[]>> producers = new CopyOnWriteArrayList<>();
  private final WorkerFixtures.ScriptedBackend backend = new WorkerFixtures.ScriptedBackend();
  private final AtomicInteger offsets = new AtomicInteger();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Thread thread;
  private GenerationWorker worker;

  /** The routing of the worker's pool; set before {@link #start}. */
  private PoolRouting routing = PoolRouting.ALL;

  @AfterEach
  void stopWorker() throws InterruptedException {
    if (worker != null) {
      worker.stop();
      thread.join(5_000);
    }
  }

  @Test
  void shouldWriteOutputsAndDeadLettersAndCommitOffsetsInOneTransaction() {
    start(8, producer -> {});
    deliver(
        encoded(request("r1", "abc")),
        "not an avro event".getBytes(StandardCharsets.UTF_8),
        encoded(request("r2", "de")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    MockProducer<byte[], byte[]> producer = producer();
    List<ProducerRecord<byte[], byte[]>> sent = producer.history();
    assertThat(sent)
        .extracting(ProducerRecord::topic)
        .containsExactlyInAnyOrder(
            Topics.GENERATION_REQUESTS_DLQ.name(),
            Topics.GENERATION_OUTPUTS.name(),
            Topics.GENERATION_OUTPUTS.name());
    ProducerRecord<byte[], byte[]> dead = only(sent, Topics.GENERATION_REQUESTS_DLQ.name());
    DeadLetter letter = Topics.GENERATION_REQUESTS_DLQ.codec().decode(dead.value());
    assertThat(letter.getSourceOffset()).isEqualTo(1);
    assertThat(letter.getSourceTopic()).isEqualTo(REQUESTS);
    assertThat(letter.getStage()).isEqualTo("generator");
    assertThat(letter.getReason()).contains("GenerationRequest");
    List<GenerationOutput> outputs = outputs(sent);
    assertThat(outputs).extracting(GenerationOutput::getText).containsExactly("cba", "ed");
    assertThat(outputs.get(0).getRequestId()).isEqualTo("r1");
    assertThat(
            new String(
                only(sent, Topics.GENERATION_OUTPUTS.name(), 0).key(), StandardCharsets.UTF_8))
        .isEqualTo("r1");
    Map<TopicPartition, OffsetAndMetadata> committed =
        producer.consumerGroupOffsetsHistory().get(0).values().iterator().next();
    assertThat(committed).containsEntry(PARTITION, new OffsetAndMetadata(3));
  }

  @Test
  void shouldDeadLetterARecordItCannotDecodeEvenInAPoolThatAnswersOnlySomeBackends() {
    // A newer producer's request for the side pool's backend (djl on the GPU pool; here the
    // scripted one, which this pool has: one without its backend holds everything), which the
    // main pool (a newer build) decodes only to leave it to this pool: were it left here too, no
    // pool would answer or dead-letter it.
    routing = new PoolRouting(Set.of("scripted"), Set.of());
    byte[] newer = encoded(request("r1", "abc"));
    newer[2] ^= 0x5a; // a writer schema fingerprint this build does not know
    GenerationRequest other = request("r2", "de");
    other.setBackend("builtin");
    start(8, producer -> {});
    deliver(newer, encoded(other));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    MockProducer<byte[], byte[]> producer = producer();
    List<ProducerRecord<byte[], byte[]>> sent = producer.history();
    ProducerRecord<byte[], byte[]> dead = only(sent, Topics.GENERATION_REQUESTS_DLQ.name());
    assertThat(sent).as("r2 names another pool's backend").hasSize(1);
    DeadLetter letter = Topics.GENERATION_REQUESTS_DLQ.codec().decode(dead.value());
    assertThat(letter.getSourceOffset()).isZero();
    assertThat(letter.getStage())
        .as("sent back, for this pool alone")
        .isEqualTo("generator-only-scripted");
    assertThat(letter.getReason()).contains("Unknown writer schema for GenerationRequest");
    assertThat(letter.getEventId())
        .as("the main pool's copy, were it to write one, has the same id: recorded once")
        .isEqualTo(
            DeadLetters.of(
                    REQUESTS,
                    0,
                    0,
                    null,
                    null,
                    "generator",
                    new RuntimeException("x"),
                    Instant.EPOCH)
                .getEventId());
    assertThat(producer.consumerGroupOffsetsHistory().get(0).values().iterator().next())
        .containsEntry(PARTITION, new OffsetAndMetadata(2));
    assertThat(outcomes())
        .containsOnly(Map.entry("dead_letter/undecodable", 1.0), Map.entry("left/other_pool", 1.0));
  }

  @Test
  void shouldLeaveRequestsInKafkaWhileTheBackendItsPoolAnswersAloneCannotLoadItsModel()
      throws InterruptedException {
    // The GPU pool with its model folder not mounted yet: every djl request was committed as a
    // backend_unavailable failure, the whole backlog answered with failures.
    routing = new PoolRouting(Set.of("scripted"), Set.of());
    backend.notLoading = "DJL model directory /models/gpt has no model.pt";
    start(8, producer -> {});
    deliver(encoded(request("r1", "abc")), encoded(request("r2", "de")));

    Gauge holding = registry.find(GeneratorMetrics.HOLDING).tag("worker", "test-0").gauge();
    await().atMost(Duration.ofSeconds(5)).until(() -> holding.value() == 1.0);
    await().atMost(Duration.ofSeconds(5)).until(() -> consumer.paused().contains(PARTITION));
    Thread.sleep(300);
    assertThat(producer().history()).as("nothing answered, nothing committed").isEmpty();
    assertThat(producer().consumerGroupOffsetsHistory()).isEmpty();
    assertThat(backend.batches).as("the backend was not asked").isEmpty();
    assertThat(thread.isAlive()).isTrue();

    backend.notLoading = null;

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);
    assertThat(outputs(producer().history()))
        .extracting(GenerationOutput::getText)
        .containsExactly("cba", "ed");
    assertThat(producer().consumerGroupOffsetsHistory().get(0).values().iterator().next())
        .containsEntry(PARTITION, new OffsetAndMetadata(2));
    assertThat(holding.value()).isZero();
    assertThat(consumer.paused()).isEmpty();
  }

  /**
   * A GPU pool started without DJL_MODEL_PATH answered every request it took unknown_backend, which
   * no alert counts: it now leaves them in Kafka like a pool whose model does not load.
   */
  @Test
  void shouldLeaveRequestsInKafkaWhereThePoolAnswersOnlyABackendItDoesNotHave()
      throws InterruptedException {
    routing = PoolRouting.parse("djl", null);
    GenerationRequest djl = request("r1", "abc");
    djl.setBackend("djl");
    start(8, producer -> {});
    deliver(encoded(djl));

    Gauge holding = registry.find(GeneratorMetrics.HOLDING).tag("worker", "test-0").gauge();
    await().atMost(Duration.ofSeconds(5)).until(() -> holding.value() == 1.0);
    Thread.sleep(300);
    assertThat(producer().history()).as("no unknown_backend failure").isEmpty();
    assertThat(producer().consumerGroupOffsetsHistory()).isEmpty();
    assertThat(thread.isAlive()).isTrue();
  }

  @Test
  void shouldFailRequestsAtOnceWhereThePoolAlsoAnswersOtherBackends() {
    // Holding here would hold every other backend's requests of the same partitions too.
    backend.notLoading = "DJL model directory /models/gpt has no model.pt";
    start(8, producer -> {});
    deliver(encoded(request("r1", "abc")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);
    List<ProducerRecord<byte[], byte[]>> sent = producer().history();
    GenerationFailure failure =
        Topics.GENERATION_FAILURES
            .codec()
            .decode(only(sent, Topics.GENERATION_FAILURES.name()).value());
    assertThat(failure.getCode()).isEqualTo("backend_unavailable");
    assertThat(failure.getReason()).contains("has no model.pt");
    assertThat(registry.find(GeneratorMetrics.HOLDING).gauge().value()).isZero();
  }

  @Test
  void shouldLeaveARecordSentBackForTheOtherPoolAndAnswerOneSentBackForItself() {
    // The main pool read both the first time. The first the GPU pool could not read (a redrive
    // sends its copy back for it): the main pool answered it then. The second the main pool could
    // not read: it answers it now.
    start(8, producer -> {});
    consumer.schedulePollTask(
        () -> {
          String[][] sentBack = {{"r1", "generator-only-djl"}, {"r2", "generator"}};
          for (String[] record : sentBack) {
            int offset = offsets.getAndIncrement();
            ConsumerRecord<byte[], byte[]> copy =
                new ConsumerRecord<>(
                    REQUESTS,
                    0,
                    offset,
                    record[0].getBytes(StandardCharsets.UTF_8),
                    encoded(request(record[0], "abc")));
            copy.headers()
                .add(DeadLetters.REDRIVEN_FOR, record[1].getBytes(StandardCharsets.UTF_8));
            consumer.addRecord(copy);
          }
        });

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    List<GenerationOutput> outputs = outputs(producer().history());
    assertThat(outputs).extracting(GenerationOutput::getRequestId).containsExactly("r2");
    assertThat(producer().consumerGroupOffsetsHistory().get(0).values().iterator().next())
        .containsEntry(PARTITION, new OffsetAndMetadata(2));
    assertThat(outcomes()).containsEntry("left/sent_back_for_other_pool", 1.0);
  }

  @Test
  void shouldDeadLetterARequestWhoseIdIsTooLongToKeyItsAnswerAndServeTheNext() {
    // Within the event limit, and so is its failure, but the two together (the id keys the
    // failure, which echoes it) pass Kafka's request size: written, the broker would refuse the
    // failure and every retry of the batch for good (MockProducer does not check the size).
    GenerationRequest longId = request("r", "p");
    longId.setRequestId("r".repeat(600_000));
    start(8, producer -> {});
    deliver(encoded(longId), encoded(request("r2", "de")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    List<ProducerRecord<byte[], byte[]>> sent = producer().history();
    ProducerRecord<byte[], byte[]> dead = only(sent, Topics.GENERATION_REQUESTS_DLQ.name());
    assertThat(dead.key().length).as("its key cut to size").isLessThanOrEqualTo(1024);
    DeadLetter letter = Topics.GENERATION_REQUESTS_DLQ.codec().decode(dead.value());
    assertThat(letter.getSourceOffset()).isZero();
    assertThat(letter.getReason())
        .contains("requestId has 600000 bytes (UTF-8), more than the limit of 1024");
    assertThat(sent)
        .extracting(ProducerRecord::topic)
        .doesNotContain(Topics.GENERATION_FAILURES.name());
    assertThat(outputs(sent)).extracting(GenerationOutput::getRequestId).containsExactly("r2");
    assertThat(outcomes()).containsEntry("dead_letter/request_id_too_long", 1.0);
    assertThat(thread.isAlive()).isTrue();
  }

  @Test
  void shouldCountARequestDeadLetteredForItsIdsOnceAsADeadLetter() {
    GenerationRequest huge = request("r", "p");
    huge.setRequestId("r".repeat(499_950));
    huge.setTenantId("t".repeat(499_950));
    start(8, producer -> {});
    deliver(encoded(huge), encoded(request("r2", "de")), encoded(request("r3", " ")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    assertThat(outcomes())
        .as("outcome/code -> count")
        .containsOnly(
            Map.entry("dead_letter/request_id_too_long", 1.0),
            Map.entry("output/ok", 1.0),
            Map.entry("failure/invalid_request", 1.0));
  }

  @Test
  void shouldKeepFillingABatchWhenTheBatchWaitIsTooLongToAddToTheClock() {
    start(2, Duration.ofMillis(Long.MAX_VALUE), producer -> {});
    deliver(encoded(request("r1", "abc")));
    deliver(encoded(request("r2", "de")));

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> backend.batches.stream().mapToInt(List::size).sum() == 2);

    assertThat(backend.batches)
        .as("the second request, polled after the first, joins its batch")
        .containsExactly(List.of("abc", "de"));
  }

  @Test
  void shouldSplitWhatItPollsIntoBatchesOfAtMostTheConfiguredSize() {
    start(2, producer -> {});
    deliver(
        encoded(request("a", "1")),
        encoded(request("b", "2")),
        encoded(request("c", "3")),
        encoded(request("d", "4")),
        encoded(request("e", "5")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 3);

    assertThat(backend.batches).extracting(List::size).containsExactly(2, 2, 1);
    List<Long> committedOffsets = new ArrayList<>();
    for (var offsetsOfOneTransaction : producer().consumerGroupOffsetsHistory()) {
      committedOffsets.add(
          offsetsOfOneTransaction.values().iterator().next().get(PARTITION).offset());
    }
    assertThat(committedOffsets).containsExactly(2L, 4L, 5L);
  }

  @Test
  void shouldAbortAndRereadTheBatchWhenTheCommitFails() {
    start(
        8,
        producer -> producer.commitTransactionException = new KafkaException("broker unavailable"));
    deliver(encoded(request("r1", "abc")), encoded(request("r2", "de")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().transactionAborted());

    assertThat(producer().history()).as("nothing of the aborted transaction is visible").isEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> consumer.position(PARTITION) == 0);
  }

  @Test
  void shouldReplaceAFencedProducerAndRereadTheBatch() {
    start(
        8,
        producer -> {
          if (producers.size() == 1) {
            producer.commitTransactionException = new ProducerFencedException("newer instance");
          }
        });
    deliver(encoded(request("r1", "abc")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producers.size() == 2);

    assertThat(producers.get(0).closed()).isTrue();
    assertThat(producers.get(1).transactionInitialized()).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> consumer.position(PARTITION) == 0);
  }

  @Test
  void shouldKeepRunningWhenAPollFailsAndServeTheNextRequest() {
    start(8, producer -> {});
    // An ACL being changed: one poll is refused.
    consumer.schedulePollTask(
        () ->
            consumer.setPollException(new TopicAuthorizationException(java.util.Set.of(REQUESTS))));
    deliver(encoded(request("r1", "abc")));

    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    assertThat(thread.isAlive()).isTrue();
    assertThat(outputs(producer().history()))
        .extracting(GenerationOutput::getRequestId)
        .containsExactly("r1");
    assertThat(producer().consumerGroupOffsetsHistory().get(0).values().iterator().next())
        .containsEntry(PARTITION, new OffsetAndMetadata(1));
  }

  @Test
  void shouldKeepHoldingWhenAPollFailsWhileItHolds() {
    // The GPU pool holds for its model, and an ACL change refuses one of its polls meanwhile.
    routing = new PoolRouting(Set.of("scripted"), Set.of());
    backend.notLoading = "DJL model directory /models/gpt has no model.pt";
    start(8, producer -> {});
    Gauge holding = registry.find(GeneratorMetrics.HOLDING).tag("worker", "test-0").gauge();
    await().atMost(Duration.ofSeconds(5)).until(() -> holding.value() == 1.0);
    AtomicBoolean refused = new AtomicBoolean();
    consumer.schedulePollTask(
        () -> {
          consumer.setPollException(new TopicAuthorizationException(java.util.Set.of(REQUESTS)));
          refused.set(true);
        });
    deliver(encoded(request("r1", "abc")));
    await().atMost(Duration.ofSeconds(5)).untilTrue(refused);
    await()
        .pollDelay(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(() -> consumer.paused().contains(PARTITION));
    assertThat(thread.isAlive()).as("still holding after the refused poll").isTrue();

    backend.notLoading = null;

    await().atMost(Duration.ofSeconds(10)).until(() -> producer().commitCount() == 1);
    assertThat(thread.isAlive()).isTrue();
    assertThat(outputs(producer().history()))
        .extracting(GenerationOutput::getRequestId)
        .containsExactly("r1");
  }

  @Test
  void shouldServeTheRequestsAlreadyTakenWhenAPollFailsWhileTheBatchFills() {
    // The batch waits up to a second for more after r1; the poll in that second fails.
    start(8, Duration.ofSeconds(1), producer -> {});
    deliver(encoded(request("r1", "abc")));
    consumer.schedulePollTask(
        () -> consumer.setPollException(new KafkaException("Received exception when fetching")));
    deliver(encoded(request("r2", "de")));

    await().atMost(Duration.ofSeconds(8)).until(() -> producer().commitCount() == 2);

    assertThat(thread.isAlive()).isTrue();
    assertThat(backend.batches)
        .as("r1, taken before the failed poll, is served on its own; r2 after it")
        .containsExactly(List.of("abc"), List.of("de"));
    assertThat(outputs(producer().history()))
        .extracting(GenerationOutput::getRequestId)
        .as("each once")
        .containsExactly("r1", "r2");
    List<Long> committedOffsets = new ArrayList<>();
    for (var offsetsOfOneTransaction : producer().consumerGroupOffsetsHistory()) {
      committedOffsets.add(
          offsetsOfOneTransaction.values().iterator().next().get(PARTITION).offset());
    }
    assertThat(committedOffsets).containsExactly(1L, 2L);
  }

  @Test
  void shouldStopWhenAnotherConsumerTakesOverItsStaticMembership() throws Exception {
    start(8, producer -> {});
    consumer.schedulePollTask(
        () ->
            consumer.setPollException(
                new FencedInstanceIdException("a newer member has the same group.instance.id")));

    thread.join(5_000);

    assertThat(thread.isAlive()).as("it can never poll again").isFalse();
    assertThat(consumer.closed()).isTrue();
    assertThat(producer().commitCount()).isZero();
    worker = null;
  }

  @Test
  void shouldDropRecordsOfAPartitionRevokedWhileTheBatchFills() throws Exception {
    start(8, Duration.ofSeconds(1), producer -> {});
    deliver(encoded(request("r1", "abc")));
    TopicPartition other = new TopicPartition(REQUESTS, 1);
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(other));
          consumer.updateBeginningOffsets(Map.of(other, 0L));
        });

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> consumer.assignment().equals(java.util.Set.of(other)));
    Thread.sleep(1_500); // longer than the batch wait

    assertThat(backend.batches)
        .as("the revoked partition's record is left to its new owner")
        .isEmpty();
    assertThat(producer().commitCount()).isZero();
  }

  @Test
  void shouldCommitTheInFlightBatchWhenStopped() throws Exception {
    start(8, producer -> {});
    deliver(encoded(request("r1", "abc")));
    await().atMost(Duration.ofSeconds(5)).until(() -> producer().commitCount() == 1);

    worker.stop();
    thread.join(5_000);

    assertThat(thread.isAlive()).isFalse();
    assertThat(consumer.closed()).isTrue();
    assertThat(producer().closed()).isTrue();
    worker = null;
  }

  private void start(
      int batchSize, java.util.function.Consumer<MockProducer<byte[], byte[]>> configure) {
    start(batchSize, Duration.ZERO, configure);
  }

  private void start(
      int batchSize,
      Duration batchWait,
      java.util.function.Consumer<MockProducer<byte[], byte[]>> configure) {
    GeneratorMetrics metrics = new GeneratorMetrics(registry);
    BatchProcessor processor = processor(config(), backend, new ArrayList<>(), metrics);
    worker =
        new GenerationWorker(
            "test-0",
            consumer,
            () -> {
              MockProducer<byte[], byte[]> producer =
                  new MockProducer<>(
                      true, null, new ByteArraySerializer(), new ByteArraySerializer());
              producers.add(producer);
              configure.accept(producer);
              return producer;
            },
            processor,
            metrics,
            batchSize,
            batchWait,
            java.time.Clock.systemUTC(),
            () -> {},
            routing);
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(PARTITION));
          consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        });
    thread = new Thread(worker, "worker-under-test");
    thread.start();
  }

  /** Delivers the values as consecutive records of partition 0 in one poll. */
  private void deliver(byte[]... values) {
    consumer.schedulePollTask(
        () -> {
          for (byte[] value : values) {
            int offset = offsets.getAndIncrement();
            consumer.addRecord(
                new ConsumerRecord<>(
                    REQUESTS, 0, offset, ("k" + offset).getBytes(StandardCharsets.UTF_8), value));
          }
        });
  }

  /** The request outcomes counted, as "outcome/code" to count. */
  private Map<String, Double> outcomes() {
    Map<String, Double> counted = new java.util.TreeMap<>();
    for (Counter counter : registry.find(GeneratorMetrics.REQUESTS).counters()) {
      counted.put(
          counter.getId().getTag("outcome") + "/" + counter.getId().getTag("code"),
          counter.count());
    }
    return counted;
  }

  private MockProducer<byte[], byte[]> producer() {
    await().atMost(Duration.ofSeconds(5)).until(() -> !producers.isEmpty());
    return producers.get(producers.size() - 1);
  }

  private static byte[] encoded(GenerationRequest request) {
    return Topics.GENERATION_REQUESTS.codec().encode(request);
  }

  private static List<GenerationOutput> outputs(List<ProducerRecord<byte[], byte[]>> sent) {
    return sent.stream()
        .filter(record -> record.topic().equals(Topics.GENERATION_OUTPUTS.name()))
        .map(record -> Topics.GENERATION_OUTPUTS.codec().decode(record.value()))
        .toList();
  }

  private static ProducerRecord<byte[], byte[]> only(
      List<ProducerRecord<byte[], byte[]>> sent, String topic) {
    List<ProducerRecord<byte[], byte[]>> matching =
        sent.stream().filter(r -> r.topic().equals(topic)).toList();
    assertThat(matching).hasSize(1);
    return matching.get(0);
  }

  private static ProducerRecord<byte[], byte[]> only(
      List<ProducerRecord<byte[], byte[]>> sent, String topic, int index) {
    return sent.stream().filter(r -> r.topic().equals(topic)).toList().get(index);
  }
}
