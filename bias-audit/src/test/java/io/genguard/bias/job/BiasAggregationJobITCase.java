package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.bias.persistence.BiasAuditDatabase;
import io.genguard.bias.persistence.LiveAlert;
import io.genguard.bias.persistence.LiveAlertRepository;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bias-aggregation job on a real broker, PostgreSQL and a Flink MiniCluster, through a restart
 * from a retained checkpoint: campaign totals neither lose nor double-count across the restart, a
 * live window with a planted disparity is stored as exactly one alert, the window of a lone verdict
 * read as soon as it was decided closes on the idle advance (with no later traffic), garbage
 * becomes a dead letter.
 */
class BiasAggregationJobITCase {
  private static IntegrationInfrastructure infra;
  private static BiasAuditDatabase database;
  private static String jdbcUrl;

  @TempDir Path flinkState;

  @BeforeAll
  static void servers() {
    infra = IntegrationInfrastructure.get();
    infra.createTopics(2, Topics.all().stream().map(topic -> topic.name()).toList());
    jdbcUrl = infra.createDatabase("bias_job_it");
    database = BiasAuditDatabase.connect(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  @AfterAll
  static void close() {
    database.close();
  }

  @Test
  void shouldCountCampaignsOnceThroughARestartAndStoreOneAlertForThePlantedWindow()
      throws Exception {
    String run = "job-it-" + System.nanoTime();
    ModelRef model = new ModelRef(run, "1", "echo");
    String modelKey = "echo/" + run + "@1";
    BiasJobConfig config =
        BiasJobConfig.defaults(
                infra.kafkaBootstrapServers(), jdbcUrl, infra.jdbcUser(), infra.jdbcPassword())
            .withNames(run + "-group", run + "-tx")
            .withTiming(
                Duration.ofMillis(300),
                Duration.ofSeconds(10),
                Duration.ofSeconds(3),
                Duration.ofSeconds(2),
                Duration.ofMillis(200));

    // Phase one: half of the campaign, and the live window with a planted disparity.
    Instant liveStart =
        Instant.ofEpochMilli((System.currentTimeMillis() - 60_000) / 10_000 * 10_000);
    // In decision order, as moderation writes them: the live window's verdicts, then the
    // campaign's.
    List<ModerationVerdict> first = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      boolean named = i < 50;
      boolean unsafe = named ? i < 25 : i % 25 == 0;
      first.add(
          VerdictFixtures.verdict(
              run + "-live-" + i,
              unsafe,
              liveStart.plusMillis(40L * i),
              named ? List.of("religion:jewish") : i < 100 ? List.of("religion:muslim") : List.of(),
              Map.of(),
              model));
    }
    for (int i = 0; i < 20; i++) {
      first.add(campaignVerdict(run, i, model));
    }
    produce(first);
    // Ten of the named group's verdicts again, as `dlq redrive` sends back what the release gate
    // could not decode: this job read them the first time and must not count them twice.
    produceSentBackForTheGate(first.subList(0, 10));
    produceGarbage(run);
    JobClient job = start(config, null);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> campaignCount(run, "target") == 10 && campaignCount(run, "control") == 10);
    await().atMost(Duration.ofSeconds(60)).until(() -> alertsFor(modelKey).size() == 1);
    // A lone live verdict, read moments after its decision: with no traffic after it, its window
    // still closes, on the wall clock (its partition was caught up, the other is idle).
    Instant lone = Instant.now();
    produce(
        List.of(VerdictFixtures.verdict(run + "-lone", false, lone, List.of(), Map.of(), model)));
    Instant loneWindow = Instant.ofEpochMilli(lone.toEpochMilli() / 10_000 * 10_000);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                metrics().stream()
                    .anyMatch(
                        m ->
                            m.getScope() == BiasScope.LIVE
                                && m.getModel().equals(modelKey)
                                && m.getGroup().equals("*")
                                && m.getWindowStart().equals(loneWindow)
                                && m.getCount() == 1));
    Thread.sleep(1000); // a checkpoint after the last publication
    job.cancel().get();

    // Phase two: the rest of the campaign, after a restart from the retained checkpoint.
    List<ModerationVerdict> second = new ArrayList<>();
    for (int i = 20; i < 40; i++) {
      second.add(campaignVerdict(run, i, model));
    }
    second.add(campaignVerdict(run, 3, model)); // a re-submitted sample: counted once
    produce(second);
    JobClient restarted = start(config, newestCheckpoint());
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> campaignCount(run, "target") == 20 && campaignCount(run, "control") == 20);
    Thread.sleep(1500); // anything duplicated would be published by now
    restarted.cancel().get();

    Map<String, BiasMetric> totals = latestCampaignTotals(run);
    assertThat(totals.get("control").getCount()).isEqualTo(20);
    assertThat(totals.get("target").getCount()).isEqualTo(20);
    assertThat(totals.get("target").getUnsafeCount()).as("every odd target sample").isEqualTo(20);
    assertThat(totals.get("control").getUnsafeCount()).isZero();

    List<LiveAlert> alerts = alertsFor(modelKey);
    assertThat(alerts)
        .singleElement()
        .satisfies(
            alert -> {
              assertThat(alert.windowStart()).isEqualTo(liveStart);
              assertThat(alert.windowEnd()).isEqualTo(liveStart.plusSeconds(10));
              assertThat(alert.findings()).contains("religion:jewish", "unsafe_rate");
            });
    // The same alert as an event on bias.alerts, committed once despite the restart.
    assertThat(
            readAll(Topics.BIAS_ALERTS.name()).stream()
                .map(record -> Topics.BIAS_ALERTS.codec().decode(record.value()))
                .filter(event -> event.getModel().equals(modelKey))
                .toList())
        .singleElement()
        .satisfies(
            event -> {
              assertThat(event.getEventId()).isEqualTo(alerts.get(0).alertId());
              assertThat(event.getWindowStart()).isEqualTo(liveStart);
              assertThat(event.getFindingsJson()).contains("religion:jewish", "unsafe_rate");
            });
    List<BiasMetric> live =
        metrics().stream()
            .filter(m -> m.getScope() == BiasScope.LIVE && m.getModel().equals(modelKey))
            .toList();
    assertThat(live.stream().filter(m -> m.getGroup().equals("religion:jewish")).toList())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getCount()).isEqualTo(50);
              assertThat(m.getUnsafeCount()).isEqualTo(25);
            });
    assertThat(deadLetters(run))
        .singleElement()
        .satisfies(d -> assertThat(d.getStage()).isEqualTo("bias-aggregation"));
  }

  private static ModerationVerdict campaignVerdict(String run, int sample, ModelRef model) {
    String group = sample % 2 == 0 ? "control" : "target";
    return VerdictFixtures.verdict(
        run + "-c-" + sample + "-" + System.nanoTime(),
        group.equals("target"),
        Instant.now(),
        List.of(),
        VerdictFixtures.campaign(run, group, sample),
        model);
  }

  private JobClient start(BiasJobConfig config, Path restoreFrom) throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 1);
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
    BiasAggregationJob.wire(env, config);
    return env.executeAsync("bias-aggregation-it");
  }

  private Path newestCheckpoint() throws Exception {
    try (Stream<Path> files = Files.walk(flinkState)) {
      return files
          .filter(path -> path.getFileName().toString().equals("_metadata"))
          .map(Path::getParent)
          .max((a, b) -> Long.compare(number(a), number(b)))
          .orElseThrow(() -> new AssertionError("no retained checkpoint in " + flinkState));
    }
  }

  private static long number(Path checkpoint) {
    return Long.parseLong(checkpoint.getFileName().toString().replace("chk-", ""));
  }

  private static long campaignCount(String run, String group) {
    BiasMetric latest = latestCampaignTotals(run).get(group);
    return latest == null ? 0 : latest.getCount();
  }

  private static Map<String, BiasMetric> latestCampaignTotals(String run) {
    return metrics().stream()
        .filter(m -> m.getScope() == BiasScope.CAMPAIGN && run.equals(m.getCampaignId()))
        .collect(
            Collectors.toMap(
                BiasMetric::getGroup, m -> m, (a, b) -> a.getCount() >= b.getCount() ? a : b));
  }

  private static List<LiveAlert> alertsFor(String modelKey) {
    return LiveAlertRepository.newest(database.dataSource(), 100).stream()
        .filter(alert -> alert.model().equals(modelKey))
        .toList();
  }

  private static List<BiasMetric> metrics() {
    return readAll(Topics.BIAS_METRICS.name()).stream()
        .map(record -> Topics.BIAS_METRICS.codec().decode(record.value()))
        .toList();
  }

  private static List<DeadLetter> deadLetters(String run) {
    return readAll(Topics.MODERATION_VERDICTS_DLQ.name()).stream()
        .filter(r -> r.key() != null && new String(r.key(), StandardCharsets.UTF_8).startsWith(run))
        .map(r -> Topics.MODERATION_VERDICTS_DLQ.codec().decode(r.value()))
        .toList();
  }

  private static void produce(List<ModerationVerdict> verdicts) {
    TestInput.sendAll(
        infra.kafkaBootstrapServers(),
        verdicts.stream()
            .map(
                verdict ->
                    new ProducerRecord<>(
                        Topics.MODERATION_VERDICTS.name(),
                        verdict.getRequestId().getBytes(StandardCharsets.UTF_8),
                        Topics.MODERATION_VERDICTS.codec().encode(verdict)))
            .toList());
  }

  private static void produceSentBackForTheGate(List<ModerationVerdict> verdicts) {
    TestInput.sendAll(
        infra.kafkaBootstrapServers(),
        verdicts.stream()
            .map(
                verdict -> {
                  ProducerRecord<byte[], byte[]> record =
                      new ProducerRecord<>(
                          Topics.MODERATION_VERDICTS.name(),
                          verdict.getRequestId().getBytes(StandardCharsets.UTF_8),
                          Topics.MODERATION_VERDICTS.codec().encode(verdict));
                  record
                      .headers()
                      .add(DeadLetters.REDRIVEN_FOR, "gate".getBytes(StandardCharsets.UTF_8));
                  return record;
                })
            .toList());
  }

  private static void produceGarbage(String run) {
    TestInput.sendAll(
        infra.kafkaBootstrapServers(),
        List.of(
            new ProducerRecord<>(
                Topics.MODERATION_VERDICTS.name(),
                (run + "-garbage").getBytes(StandardCharsets.UTF_8),
                new byte[] {9, 9, 9})));
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }
}
