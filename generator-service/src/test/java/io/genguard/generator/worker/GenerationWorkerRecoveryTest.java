package io.genguard.generator.worker;

import static io.genguard.generator.worker.WorkerFixtures.config;
import static io.genguard.generator.worker.WorkerFixtures.processor;
import static io.genguard.generator.worker.WorkerFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.PoolRouting;
import io.genguard.schemas.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker whose producer fails in the ways the real client does keeps serving, and commits every
 * request's output exactly once: it retries what the client says to retry and replaces a producer
 * that can no longer be used, re-reading from the group's committed offsets.
 */
class GenerationWorkerRecoveryTest {
  private static final TopicPartition PARTITION =
      new TopicPartition(Topics.GENERATION_REQUESTS.name(), 0);

  private final ReplayingConsumer consumer = new ReplayingConsumer();
  private final List<BrokerLikeProducer> producers = new CopyOnWriteArrayList<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Thread thread;
  private GenerationWorker worker;

  @AfterEach
  void stopWorker() throws InterruptedException {
    if (worker != null) {
      worker.stop();
      thread.join(5_000);
    }
  }

  @Test
  void shouldRetryACommitThatTimedOutAndKeepServing() {
    start(producer -> producer.commitTimeouts = 2);
    deliver(request("r1", "abc"), request("r2", "de"));
    awaitCommittedThrough(2);

    deliver(request("r3", "f"));
    awaitCommittedThrough(3);

    assertThat(thread.isAlive()).isTrue();
    assertThat(producers).as("a timed-out commit is retried on the same producer").hasSize(1);
    assertThat(committedRequestIds()).containsExactly("r1", "r2", "r3");
    assertThat(committedOffset()).isEqualTo(3);
  }

  @Test
  void shouldKeepServingWhenItsFirstProducerTimesOutInitializingTransactions() {
    start(producer -> producer.initTimeouts = 1);
    deliver(request("r1", "abc"));

    awaitCommittedThrough(1);

    assertThat(thread.isAlive()).isTrue();
    assertThat(committedRequestIds()).containsExactly("r1");
  }

  @Test
  void shouldKeepServingWhenTheNewProducerTimesOutInitializingTransactions() {
    start(
        producer -> {
          if (producers.size() == 1) {
            producer.commitTransactionException = new ProducerFencedException("newer instance");
          } else {
            producer.initTimeouts = 1;
          }
        });
    deliver(request("r1", "abc"));
    awaitCommittedThrough(1);

    deliver(request("r2", "de"));
    awaitCommittedThrough(2);

    assertThat(thread.isAlive()).isTrue();
    assertThat(producers).as("a timed-out initTransactions is retried").hasSize(2);
    assertThat(committedRequestIds()).containsExactly("r1", "r2");
    assertThat(committedOffset()).isEqualTo(2);
  }

  @Test
  void shouldReplaceAProducerThatRefusesToAbortAndRereadTheBatch() {
    start(
        producer -> {
          if (producers.size() == 1) {
            producer.commitTransactionException = new KafkaException("broker unavailable");
            producer.abortTransactionException =
                new IllegalStateException("the producer is in an unusable state");
          }
        });
    deliver(request("r1", "abc"));

    awaitCommittedThrough(1);

    assertThat(thread.isAlive()).isTrue();
    assertThat(producers.get(0).closed()).isTrue();
    assertThat(committedRequestIds()).as("the batch is re-read, not lost").containsExactly("r1");
    assertThat(committedOffset()).isEqualTo(1);
    assertThat(
            registry.counter(GeneratorMetrics.REQUESTS, "outcome", "output", "code", "ok").count())
        .as("counted when its transaction commits, not for the attempt that was aborted")
        .isEqualTo(1.0);
  }

  @Test
  void shouldCountTokensAndLatencyOnceForABatchThatIsAbortedAndReadAgain() {
    start(producer -> producer.commitFailures = 1);
    deliver(request("r1", "one two three"));

    awaitCommittedThrough(1);

    assertThat(producers).as("aborted, rewound and read again on the same producer").hasSize(1);
    assertThat(committedRequestIds()).containsExactly("r1");
    assertThat(registry.counter(GeneratorMetrics.TOKENS, "backend", "scripted").count())
        .as("the tokens of the aborted attempt are not counted")
        .isEqualTo(3.0);
    assertThat(registry.timer(GeneratorMetrics.LATENCY, "backend", "scripted").count())
        .isEqualTo(1);
    assertThat(
            registry.counter(GeneratorMetrics.REQUESTS, "outcome", "output", "code", "ok").count())
        .isEqualTo(1.0);
  }

  @Test
  void shouldNotRegenerateABatchWhoseCommitLandedThoughTheProducerReportedAFailure() {
    start(producer -> producer.failAfterCommitting = producers.size() == 1);
    deliver(request("r1", "abc"), request("r2", "de"));
    await().atMost(Duration.ofSeconds(5)).until(() -> producers.size() == 2);

    deliver(request("r3", "f"));
    awaitCommittedThrough(3);

    assertThat(thread.isAlive()).isTrue();
    assertThat(committedRequestIds())
        .as("the new producer resumes from the committed offsets, not from the batch start")
        .containsExactly("r1", "r2", "r3");
    assertThat(committedOffset()).isEqualTo(3);
  }

  private void start(Consumer<BrokerLikeProducer> configure) {
    worker =
        new GenerationWorker(
            "test-0",
            consumer,
            () -> {
              BrokerLikeProducer producer = new BrokerLikeProducer();
              producers.add(producer);
              configure.accept(producer);
              return producer;
            },
            processor(config(), new WorkerFixtures.ScriptedBackend(), new ArrayList<>()),
            new GeneratorMetrics(registry),
            8,
            Duration.ZERO,
            Clock.systemUTC(),
            () -> {},
            PoolRouting.ALL);
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(PARTITION));
          consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        });
    thread = new Thread(worker, "worker-under-test");
    thread.start();
  }

  /** Appends the requests to partition 0, to be served together by the next poll. */
  private void deliver(GenerationRequest... requests) {
    synchronized (consumer) {
      for (GenerationRequest request : requests) {
        int offset = consumer.log.size();
        consumer.log.add(
            new ConsumerRecord<>(
                PARTITION.topic(),
                PARTITION.partition(),
                offset,
                request.getRequestId().getBytes(StandardCharsets.UTF_8),
                Topics.GENERATION_REQUESTS.codec().encode(request)));
      }
    }
  }

  /** Waits until the group's committed offset of partition 0 reaches the given one. */
  private void awaitCommittedThrough(long offset) {
    await().atMost(Duration.ofSeconds(5)).until(() -> committedOffset() >= offset);
  }

  /** Request ids of the outputs in committed transactions, of every producer, in order. */
  private List<String> committedRequestIds() {
    return producers.stream()
        .flatMap(producer -> producer.history().stream())
        .filter(record -> record.topic().equals(Topics.GENERATION_OUTPUTS.name()))
        .map(record -> Topics.GENERATION_OUTPUTS.codec().decode(record.value()))
        .map(GenerationOutput::getRequestId)
        .toList();
  }

  /** The group's committed offset of partition 0; -1 before the first commit. */
  private long committedOffset() {
    OffsetAndMetadata committed = consumer.committed(Set.of(PARTITION)).get(PARTITION);
    return committed == null ? -1 : committed.offset();
  }

  /**
   * A MockConsumer that, like a broker, serves partition 0 from the consumer's position on every
   * poll, so a seek back re-reads records (a plain MockConsumer hands each added record out once).
   */
  private static final class ReplayingConsumer extends MockConsumer<byte[], byte[]> {
    /** Partition 0, every record ever delivered; guarded by this consumer. */
    final List<ConsumerRecord<byte[], byte[]>> log = new ArrayList<>();

    ReplayingConsumer() {
      super("earliest");
    }

    @Override
    public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
      if (assignment().contains(PARTITION)) {
        long position = position(PARTITION);
        for (ConsumerRecord<byte[], byte[]> record : log) {
          if (record.offset() >= position) {
            addRecord(record);
          }
        }
      }
      return super.poll(timeout);
    }
  }

  /**
   * A MockProducer that acts like the real client and broker where these tests need it: a commit
   * lands in the group's committed offsets, as the group coordinator records it; a commit or
   * initTransactions can time out a given number of times; after a commit timed out, the client
   * allows only retrying it, and refuses an abort with the real client's IllegalStateException.
   */
  private final class BrokerLikeProducer extends MockProducer<byte[], byte[]> {
    int commitTimeouts;
    int initTimeouts;

    /** Commits that fail before they land (a broker away), so the batch is aborted. */
    int commitFailures;

    /** The commit lands, but the call fails: an outcome the client cannot know. */
    boolean failAfterCommitting;

    private boolean commitTimedOut;
    private Map<TopicPartition, OffsetAndMetadata> offsets = Map.of();

    BrokerLikeProducer() {
      super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public void initTransactions() {
      if (initTimeouts > 0) {
        initTimeouts--;
        throw new TimeoutException("Timeout expired after 60000ms while awaiting InitProducerId");
      }
      super.initTransactions();
    }

    @Override
    public void sendOffsetsToTransaction(
        Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
      super.sendOffsetsToTransaction(offsets, group);
      this.offsets = Map.copyOf(offsets);
    }

    @Override
    public void commitTransaction() {
      if (commitFailures > 0) {
        commitFailures--;
        throw new KafkaException("broker unavailable");
      }
      if (commitTimeouts > 0) {
        commitTimeouts--;
        commitTimedOut = true;
        throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(true)");
      }
      super.commitTransaction();
      commitTimedOut = false;
      consumer.commitSync(offsets);
      if (failAfterCommitting) {
        failAfterCommitting = false;
        throw new KafkaException("The coordinator connection was lost before it answered");
      }
    }

    @Override
    public void abortTransaction() {
      if (commitTimedOut) {
        throw new IllegalStateException(
            "Cannot attempt operation `abortTransaction` because the previous call to"
                + " `commitTransaction` timed out and must be retried");
      }
      super.abortTransaction();
    }
  }
}
