package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.CorruptSegments;
import io.genguard.testsupport.OwnBroker;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the moderation job does with a record batch of gen.outputs damaged on the broker's disk (its
 * CRC no longer matches). Flink's KafkaSource (flink-connector-kafka 5.0.0-2.2) makes its own
 * KafkaConsumer and lets the consumer's failure from poll fail the task, and offers no hook to get
 * past it, so the job cannot dead-letter the batch: it restarts from its checkpoint, under the
 * production restart strategy, again and again (GenGuardFlinkJobRestarting, then
 * GenGuardFlinkJobRestartLoop), and never skips it: no verdict for the damaged output nor for any
 * output behind it on that partition, and no committed offset past it. The gate holds those outputs
 * until their verdict timeout, then for review (fail closed). This test pins that behaviour: a
 * connector that began to skip such a batch silently would fail it. Runs on a broker of its own,
 * whose log files the test can reach.
 */
class ModerationJobCorruptRecordITCase {
  private static final TopicPartition OUTPUTS_0 =
      new TopicPartition(Topics.GENERATION_OUTPUTS.name(), 0);

  /** Moderators created: one per task start, so one more per restart. */
  static final AtomicInteger CREATED = new AtomicInteger();

  @TempDir Path flinkState;
  @TempDir Path brokerDir;
  private EmbeddedKafkaBroker broker;
  private JobClient job;
  private int restPort;

  @AfterEach
  void stop() throws Exception {
    if (job != null) {
      job.cancel().get();
    }
    if (broker != null) {
      broker.close();
    }
  }

  static BatchModerator releasingModerator() {
    CREATED.incrementAndGet();
    return new BatchModerator() {
      @Override
      public List<ModerationVerdict> moderate(List<GenerationOutput> outputs) {
        return outputs.stream().map(output -> Events.verdict(output, Decision.RELEASE)).toList();
      }

      @Override
      public PolicySet policy() {
        return PolicyLoader.loadDefault();
      }
    };
  }

  @Test
  void shouldRestartFromItsCheckpointOverADamagedBatchAndNeverSkipIt() throws Exception {
    broker = OwnBroker.startWithAllTopics(brokerDir);
    String servers = broker.bootstrapServers();
    Map<String, Object> admin = OwnBroker.adminProperties(broker);
    String run = UUID.randomUUID().toString().substring(0, 8);
    String before = run + "-before";
    String damaged = run + "-damaged";
    String after = run + "-after";
    String marker = "damaged-" + run;
    String group = "moderation-corrupt-" + run;
    ModerationJobConfig config =
        ModerationJobConfig.defaults(servers)
            .withNames(group, "moderation-corrupt-tx-" + run)
            .withParallelism(1)
            .withCheckpointInterval(Duration.ofMillis(300));
    try (KafkaProducer<byte[], byte[]> producer = CorruptSegments.unbatchedProducer(servers)) {
      send(producer, Events.output(before, "Good morning"));
      job = start(config);
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  verdicts(servers).contains(before)
                      && CorruptSegments.committedOffset(admin, group, OUTPUTS_0) == 1);
      job.cancel().get();
      job = null;
      // Each in a batch of its own, so that only the first one is damaged.
      send(producer, Events.output(damaged, "Text " + marker + " here"));
      send(producer, Events.output(after, "Good evening"));
    }
    CorruptSegments.damage(CorruptSegments.firstSegment(broker, OUTPUTS_0), marker);

    CREATED.set(0);
    job = start(config);
    // Restarts (exponential back-off from 0.5 s): each one starts the task's moderator again.
    await().atMost(Duration.ofSeconds(120)).until(() -> CREATED.get() >= 3);

    assertThat(verdicts(servers))
        .as("nothing behind the damaged batch is judged, and the batch is not skipped")
        .containsExactly(before);
    assertThat(deadLetters(servers))
        .as("the job cannot dead-letter a batch its consumer refuses")
        .isZero();
    assertThat(CorruptSegments.committedOffset(admin, group, OUTPUTS_0))
        .as("no committed offset past the damaged batch")
        .isEqualTo(1L);
    assertThat(job.getJobStatus().get().isGloballyTerminalState())
        .as("restarting without limit, not failed for good")
        .isFalse();
    // What an operator sees in the Flink UI's Exceptions tab (the runbook quotes it).
    assertThat(exceptionHistory(job))
        .contains(
            "Received exception when fetching the next record from gen.outputs-0",
            "Record batch for partition gen.outputs-0 at offset 1 is invalid",
            "Record is corrupt");
  }

  /** The job's exception history from the MiniCluster's REST API. */
  private String exceptionHistory(JobClient client) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + restPort
                                + "/jobs/"
                                + client.getJobID()
                                + "/exceptions"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return response.body();
  }

  /** The job as production builds it (checkpoints, restarts without limit), on a MiniCluster. */
  private JobClient start(ModerationJobConfig config) throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 1);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    try (ServerSocket free = new ServerSocket(0)) {
      restPort = free.getLocalPort();
    }
    conf.set(RestOptions.BIND_PORT, Integer.toString(restPort));
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, flinkState.toUri().toString());
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
    ModerationJob.configure(env, config);
    ModerationJob.buildPipeline(
        env,
        ModerationJob.kafkaSource(config),
        ModerationJob.kafkaSink(config),
        ModerationJobCorruptRecordITCase::releasingModerator,
        config);
    return env.executeAsync("moderation-corrupt-it");
  }

  private static void send(KafkaProducer<byte[], byte[]> producer, GenerationOutput output)
      throws Exception {
    OwnBroker.send(producer, Topics.GENERATION_OUTPUTS, output.getRequestId(), output);
  }

  private static List<String> verdicts(String servers) {
    List<String> requests = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record :
        readAll(servers, Topics.MODERATION_VERDICTS.name())) {
      requests.add(Topics.MODERATION_VERDICTS.codec().decode(record.value()).getRequestId());
    }
    return requests;
  }

  private static int deadLetters(String servers) {
    return readAll(servers, Topics.GENERATION_OUTPUTS_DLQ.name()).size();
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties)) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition)).get(partition);
      while (consumer.position(partition) < end) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }
}
