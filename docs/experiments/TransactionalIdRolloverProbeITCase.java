package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Probe (thirty-eighth session): the moderation job's pooled transactional ids across a producer
 * epoch rollover. A pooled id takes one epoch step per checkpoint on a Kafka 4 broker (transactions
 * version 2), so after 32,767 checkpoints the broker gives it a new producer id; connector issue
 * FLINK-40689 reports a restore failing after that. The probe takes the id near the end of its
 * epochs with a plain producer (about 3 minutes on a 2-core VM), runs the job across the rollover
 * checkpointing every 20 ms with every checkpoint retained, then restores each checkpoint around
 * the rollover in turn and checks that the job runs on.
 *
 * <p>Copy into {@code moderation-stream/src/test/java/io/genguard/moderation/job/} and run with
 * {@code -Dit.test=TransactionalIdRolloverProbeITCase} (about 8 minutes).
 */
class TransactionalIdRolloverProbeITCase {
  private static final short BUMPED_EPOCH = 32_700;

  private static IntegrationInfrastructure infra;

  @TempDir Path flinkState;

  @Test
  void shouldRunOnAndRestoreAcrossAProducerEpochRollover() throws Exception {
    infra = IntegrationInfrastructure.get();
    infra.createTopics(2, Topics.all().stream().map(topic -> topic.name()).toList());
    String prefix = "rollover-probe-" + System.nanoTime() + "-";
    ModerationJobConfig config =
        ModerationJobConfig.defaults(infra.kafkaBootstrapServers())
            .withNames(prefix + "group", prefix + "tx")
            .withParallelism(1)
            .withCheckpointInterval(Duration.ofMillis(20));
    String pooledId = config.transactionalIdPrefix() + "-0-0";
    bumpEpoch(pooledId, prefix + "bump");
    TransactionDescription before = describe(pooledId);
    System.out.printf(
        "PROBE before: pid %d epoch %d%n", before.producerId(), before.producerEpoch());

    produce(prefix, 0, 20);
    JobClient job = start(config, null);
    try {
      await().atMost(Duration.ofMinutes(3)).until(() -> verdicts(prefix) >= 20);
      await()
          .atMost(Duration.ofMinutes(5))
          .until(() -> describe(pooledId).producerId() != before.producerId());
      long rolledOverAt = newestCheckpointNumber();
      await()
          .atMost(Duration.ofMinutes(3))
          .until(() -> newestCheckpointNumber() > rolledOverAt + 20);
      produce(prefix, 20, 40);
      await().atMost(Duration.ofMinutes(3)).until(() -> verdicts(prefix) >= 40);
      TransactionDescription after = describe(pooledId);
      System.out.printf(
          "PROBE rolled over by chk-%d; at chk-%d pid %d epoch %d, job %s%n",
          rolledOverAt,
          newestCheckpointNumber(),
          after.producerId(),
          after.producerEpoch(),
          job.getJobStatus().get());
      assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
    } finally {
      job.cancel().get();
    }
    assertThat(verdicts(prefix)).as("every output judged once across the rollover").isEqualTo(40);

    // The checkpoints around the rollover: one of them carries the transaction of the last epoch.
    for (Map.Entry<Long, Path> checkpoint : checkpointsAroundTheRollover().entrySet()) {
      JobClient restored = start(config, checkpoint.getValue());
      try {
        Thread.sleep(12_000);
        TransactionDescription now = describe(pooledId);
        System.out.printf(
            "PROBE restored chk-%d: %s, then pid %d epoch %d%n",
            checkpoint.getKey(),
            restored.getJobStatus().get(),
            now.producerId(),
            now.producerEpoch());
        assertThat(restored.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
      } finally {
        restored.cancel().get();
      }
    }
  }

  /**
   * Commits transactions under {@code transactionalId} until its epoch is {@link #BUMPED_EPOCH}.
   */
  private static void bumpEpoch(String transactionalId, String key) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    try (var producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      for (int i = 0; i < BUMPED_EPOCH; i++) {
        producer.beginTransaction();
        producer.send(
            new ProducerRecord<>(
                Topics.GENERATION_OUTPUTS_DLQ.name(),
                0,
                key.getBytes(StandardCharsets.UTF_8),
                new byte[] {1}));
        producer.commitTransaction();
      }
    }
  }

  private JobClient start(ModerationJobConfig config, Path restoreFrom) throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 1);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, flinkState.toUri().toString());
    conf.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    if (restoreFrom == null) {
      conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 100_000);
    } else {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
    ModerationJob.configure(env, config);
    ModerationJob.buildPipeline(
        env,
        ModerationJob.kafkaSource(config),
        ModerationJob.kafkaSink(config),
        ModerationJobITCase::keywordModerator,
        config);
    return env.executeAsync("rollover-probe");
  }

  /**
   * The first job's retained checkpoints from 10 before the one that took the id's last epoch to 10
   * after it (one epoch step per checkpoint from {@link #BUMPED_EPOCH} on), by number.
   */
  private Map<Long, Path> checkpointsAroundTheRollover() throws Exception {
    long last = Short.MAX_VALUE - BUMPED_EPOCH;
    Map<Long, Path> around = new TreeMap<>();
    try (Stream<Path> files = Files.walk(flinkState)) {
      files
          .filter(path -> path.getFileName().toString().equals("_metadata"))
          .map(Path::getParent)
          .forEach(
              path -> {
                long number = Long.parseLong(path.getFileName().toString().substring(4));
                if (number >= last - 10 && number <= last + 10) {
                  around.put(number, path);
                }
              });
    }
    return around;
  }

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

  private static TransactionDescription describe(String transactionalId) throws Exception {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    try (Admin admin = Admin.create(props)) {
      return admin.describeTransactions(List.of(transactionalId)).all().get().get(transactionalId);
    }
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

  /** The committed verdicts for {@code prefix}'s requests. */
  private static long verdicts(String prefix) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    String topic = Topics.MODERATION_VERDICTS.name();
    long count = 0;
    try (var consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        for (var record : consumer.poll(Duration.ofMillis(200))) {
          if (record.key() != null
              && new String(record.key(), StandardCharsets.UTF_8).startsWith(prefix)) {
            count++;
          }
        }
      }
    }
    return count;
  }
}
