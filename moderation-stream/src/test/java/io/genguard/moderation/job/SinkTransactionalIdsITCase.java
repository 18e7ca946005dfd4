package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jobs' exactly-once sink on a real broker and a Flink MiniCluster: each subtask reuses a few
 * transactional ids however many checkpoints it takes (the broker keeps every id it has seen for 7
 * days), and a checkpoint taken before the thirty-eighth session, with the connector's default of a
 * new id per checkpoint, restores under the pooled ids with every output judged once and the
 * transaction a crash left open under the old naming aborted.
 */
class SinkTransactionalIdsITCase {
  private static final int PARALLELISM = 2;

  /**
   * The most ids one subtask may hold: the transaction being written, the one waiting for its
   * checkpoint to complete and the one being committed, with one to spare.
   */
  private static final int MOST_IDS_PER_SUBTASK = 4;

  private static IntegrationInfrastructure infra;

  @TempDir Path flinkState;

  @BeforeAll
  static void topics() {
    infra = IntegrationInfrastructure.get();
    infra.createTopics(2, Topics.all().stream().map(topic -> topic.name()).toList());
  }

  @Test
  void shouldKeepAFewTransactionalIdsPerSubtaskHoweverManyCheckpointsItTakes() throws Exception {
    String prefix = "sink-ids-it-" + System.nanoTime() + "-";
    ModerationJobConfig config = config(prefix, Duration.ofMillis(20));
    produce(prefix, 0, 20);
    JobClient job = start(config, null, ModerationJob.kafkaSink(config));
    try {
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 20);
      await().atMost(Duration.ofMinutes(3)).until(() -> newestCheckpointNumber() >= 150);
      produce(prefix, 20, 40);
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 40);
    } finally {
      job.cancel().get();
    }

    // Before the thirty-eighth session: an id per checkpoint and subtask, over 300 by now.
    assertThat(transactionalIds(prefix + "tx").size())
        .as("transactional ids on the broker after %d checkpoints", newestCheckpointNumber())
        .isBetween(PARALLELISM, PARALLELISM * MOST_IDS_PER_SUBTASK);
    assertThat(onePerRequest(verdictsFor(prefix))).hasSize(40);
  }

  @Test
  void shouldRestoreACheckpointTakenWithAnIdPerCheckpointAndAbortWhatACrashLeftOpen()
      throws Exception {
    String prefix = "sink-ids-restore-it-" + System.nanoTime() + "-";
    ModerationJobConfig config = config(prefix, Duration.ofMillis(100));
    produce(prefix, 0, 100);
    JobClient before =
        start(
            config,
            null,
            ExactlyOnceKafka.sink(
                config.bootstrapServers(),
                config.transactionalIdPrefix(),
                ModerationJob.OUTPUT_TOPICS,
                TransactionNamingStrategy.INCREMENTING));
    await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 100);
    await().atMost(Duration.ofMinutes(3)).until(() -> newestCheckpointNumber() >= 30);
    before.cancel().get();
    Path checkpoint = newestCheckpoint();
    Set<String> idsBefore = transactionalIds(config.transactionalIdPrefix());
    assertThat(idsBefore).as("the old naming: an id per checkpoint").hasSizeGreaterThan(30);

    // A crash of the old job would leave its newest transaction open, under the next id of the
    // old naming, holding back every read_committed reader of the partitions it wrote to until
    // the broker's timeout (5 minutes).
    leaveATransactionOpen(
        config.transactionalIdPrefix() + "-0-" + (number(checkpoint) + 1), prefix + "lingering");
    produce(prefix, 100, 200);
    JobClient after = start(config, checkpoint, ModerationJob.kafkaSink(config));
    long restoredAt = number(checkpoint);
    try {
      // Well within the open transaction's timeout: the restored sink aborted it.
      await().atMost(Duration.ofMinutes(3)).until(() -> verdictsFor(prefix).size() >= 200);
      await()
          .atMost(Duration.ofMinutes(3))
          .until(() -> newestCheckpointNumber() >= restoredAt + 50);
    } finally {
      after.cancel().get();
    }

    Map<String, Integer> perRequest = onePerRequest(verdictsFor(prefix));
    assertThat(perRequest).hasSize(200).doesNotContainKey(prefix + "lingering");
    assertThat(perRequest.values()).allMatch(count -> count == 1);
    Set<String> idsAfter = transactionalIds(config.transactionalIdPrefix());
    assertThat(idsAfter.size() - idsBefore.size())
        .as("ids added by 50 checkpoints under the pooled naming")
        .isLessThanOrEqualTo(PARALLELISM * MOST_IDS_PER_SUBTASK);
  }

  /** Checkpoints every {@code interval}; the job's own consumer group and transactional ids. */
  private static ModerationJobConfig config(String prefix, Duration interval) {
    return ModerationJobConfig.defaults(infra.kafkaBootstrapServers())
        .withNames(prefix + "group", prefix + "tx")
        .withParallelism(PARALLELISM)
        .withCheckpointInterval(interval);
  }

  private JobClient start(ModerationJobConfig config, Path restoreFrom, Sink<KafkaMessage> sink)
      throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, PARALLELISM);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, flinkState.toUri().toString());
    conf.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    if (restoreFrom != null) {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
    ModerationJob.configure(env, config);
    ModerationJob.buildPipeline(
        env,
        ModerationJob.kafkaSource(config),
        sink,
        ModerationJobITCase::keywordModerator,
        config);
    return env.executeAsync("sink-ids-it");
  }

  /** The transactional ids with {@code prefix} the broker knows, in any state. */
  private static Set<String> transactionalIds(String prefix) throws Exception {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    try (Admin admin = Admin.create(props)) {
      return admin.listTransactions().all().get().stream()
          .map(TransactionListing::transactionalId)
          .filter(id -> id.startsWith(prefix))
          .collect(Collectors.toSet());
    }
  }

  /**
   * Begins a transaction under {@code transactionalId}, writes to every verdict partition, stops.
   */
  private static void leaveATransactionOpen(String transactionalId, String requestId) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        (int) ExactlyOnceKafka.TRANSACTION_TIMEOUT.toMillis());
    String topic = Topics.MODERATION_VERDICTS.name();
    var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    producer.beginTransaction();
    byte[] verdict =
        Topics.MODERATION_VERDICTS
            .codec()
            .encode(Events.verdict(Events.output(requestId, "fine text"), Decision.BLOCK));
    for (var partition : producer.partitionsFor(topic)) {
      producer.send(
          new ProducerRecord<>(
              topic, partition.partition(), requestId.getBytes(StandardCharsets.UTF_8), verdict));
    }
    producer.flush();
    // Closed at once, as a crash stops it (a graceful close would abort): the broker holds the
    // transaction open.
    producer.close(Duration.ZERO);
  }

  /**
   * The newest checkpoint's number, from the names in the jobs' checkpoint folders (listed, not
   * walked: Flink deletes the older ones meanwhile).
   */
  private long newestCheckpointNumber() throws Exception {
    long newest = 0;
    try (Stream<Path> jobs = Files.list(flinkState)) {
      for (Path job : jobs.toList()) {
        try (Stream<Path> checkpoints = Files.list(job)) {
          newest =
              Math.max(
                  newest,
                  checkpoints
                      .map(path -> path.getFileName().toString())
                      .filter(name -> name.matches("chk-\\d+"))
                      .mapToLong(name -> Long.parseLong(name.substring(4)))
                      .max()
                      .orElse(0));
        }
      }
    }
    return newest;
  }

  private Path newestCheckpoint() throws Exception {
    // Flink may still be deleting a subsumed checkpoint after the cancel: a directory the walk
    // listed can be gone when it is entered. Walk again until a walk sees a settled tree.
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> files = Files.walk(flinkState)) {
        return files
            .filter(path -> path.getFileName().toString().equals("_metadata"))
            .map(Path::getParent)
            .max((a, b) -> Long.compare(number(a), number(b)))
            .orElseThrow(() -> new AssertionError("no retained checkpoint in " + flinkState));
      } catch (java.io.UncheckedIOException e) {
        if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt == 20) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  private static long number(Path checkpoint) {
    return Long.parseLong(checkpoint.getFileName().toString().replace("chk-", ""));
  }

  private static Map<String, Integer> onePerRequest(List<ModerationVerdict> verdicts) {
    Map<String, Integer> perRequest = new HashMap<>();
    for (ModerationVerdict verdict : verdicts) {
      perRequest.merge(verdict.getRequestId(), 1, Integer::sum);
    }
    return perRequest;
  }

  private static void produce(String prefix, int from, int to) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = from; i < to; i++) {
      GenerationOutput output = Events.output(prefix + i, "fine text " + i);
      records.add(
          new ProducerRecord<>(
              Topics.GENERATION_OUTPUTS.name(),
              output.getRequestId().getBytes(StandardCharsets.UTF_8),
              Topics.GENERATION_OUTPUTS.codec().encode(output)));
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
  }

  /** The committed verdicts for {@code prefix}'s requests, read as far as read_committed may. */
  private static List<ModerationVerdict> verdictsFor(String prefix) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    String topic = Topics.MODERATION_VERDICTS.name();
    List<ModerationVerdict> verdicts = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // Under read_committed, the end offsets are the last stable offsets: an open transaction
      // holds back everything after its first record.
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (record.key() != null
              && new String(record.key(), StandardCharsets.UTF_8).startsWith(prefix)) {
            verdicts.add(Topics.MODERATION_VERDICTS.codec().decode(record.value()));
          }
        }
      }
    }
    return verdicts;
  }
}
