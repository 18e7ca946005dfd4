package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.ExactlyOnceKafka;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live windows of a job catching up on a backlog, on a real broker and a Flink MiniCluster: two
 * partitions hold the same ten minutes of decisions and the job reads one of them whole before the
 * other's verdicts reach it (as when it restarts after downtime, or a new consumer group reads from
 * the start). Every window must count both partitions' verdicts; before the watermarks were kept
 * per partition, the second partition's verdicts were all late and dropped silently. A verdict that
 * still comes too late is counted in {@code late_live_verdicts}.
 */
class LiveWindowCatchUpITCase {
  private static final int MINUTES = 10;
  private static final int PER_MINUTE_AND_PARTITION = 60;
  private static final ConcurrentLinkedQueue<KafkaMessage> PUBLISHED =
      new ConcurrentLinkedQueue<>();

  private static IntegrationInfrastructure infra;
  private static String topic;

  @BeforeAll
  static void servers() {
    infra = IntegrationInfrastructure.get();
    // The job's own copy of moderation.verdicts: other tests' verdicts, decided later than these,
    // would otherwise sit before them in the partitions.
    topic = Topics.MODERATION_VERDICTS.name() + "-catch-up-" + System.nanoTime();
    infra.createTopics(2, List.of(topic));
  }

  @Test
  void shouldCountEveryPartitionsVerdictsWhenOnePartitionIsReadWellAheadOfTheOther()
      throws Exception {
    String run = "catch-up-" + System.nanoTime();
    ModelRef model = new ModelRef(run, "1", "echo");
    String modelKey = "echo/" + run + "@1";
    String group = run + "-group";
    // Defaults (5 s out of orderness), with one-minute windows and a 20 s idle advance: the second
    // partition's verdicts must reach the job within 20 s of its first one (the job cannot tell a
    // partition that has no more verdicts from one whose next verdicts are slow to come).
    BiasJobConfig config =
        BiasJobConfig.defaults(infra.kafkaBootstrapServers(), null, null, null)
            .withNames(group, run + "-tx")
            .withTiming(
                Duration.ofMillis(200),
                Duration.ofMinutes(1),
                Duration.ofSeconds(5),
                Duration.ofSeconds(20),
                Duration.ofSeconds(1));
    Instant start = Instant.now().minus(Duration.ofMinutes(30)).truncatedTo(ChronoUnit.MINUTES);

    // Partition 0: all ten minutes, then a verdict 10 s after them that closes the last window.
    // Partition 1: only its first verdict so far.
    List<ModerationVerdict> first = tenMinutes(run, "p0", model, start);
    List<ModerationVerdict> second = tenMinutes(run, "p1", model, start);
    produce(0, first);
    produce(1, second.subList(0, 1));
    String jobName = "bias-catch-up-it-" + run;
    JobClient job = start(config, jobName);
    try {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> committedOffset(group, 0) == first.size());
      // Partition 0 is read to its end; now the job gets partition 1's other verdicts.
      produce(1, second.subList(1, second.size()));

      await().atMost(Duration.ofSeconds(90)).until(() -> wholeWindows(modelKey).size() == MINUTES);
      Map<Instant, BiasMetric> windows = wholeWindows(modelKey);
      for (int minute = 0; minute < MINUTES; minute++) {
        BiasMetric window = windows.get(start.plus(Duration.ofMinutes(minute)));
        assertThat(window.getCount())
            .as("verdicts of both partitions in the window of minute %d", minute)
            .isEqualTo(2 * PER_MINUTE_AND_PARTITION);
        assertThat(window.getUnsafeCount()).isEqualTo(2 * PER_MINUTE_AND_PARTITION / 10);
      }
      assertThat(CapturedCounters.sum(jobName, LateLiveVerdicts.LATE_LIVE_VERDICTS)).isZero();

      // A verdict of the first minute that arrives after its window closed is late: counted, not
      // silently lost, and the published window stays as it was.
      produce(
          0,
          List.of(
              VerdictFixtures.verdict(
                  run + "-late", false, start.plusSeconds(30), List.of(), Map.of(), model)));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> CapturedCounters.sum(jobName, LateLiveVerdicts.LATE_LIVE_VERDICTS) == 1);
      assertThat(
              liveMetrics(modelKey).stream()
                  .filter(m -> m.getGroup().equals("*") && m.getWindowStart().equals(start))
                  .toList())
          .singleElement()
          .satisfies(m -> assertThat(m.getCount()).isEqualTo(2 * PER_MINUTE_AND_PARTITION));
    } finally {
      job.cancel().get();
    }
  }

  /**
   * One verdict a second for ten minutes from {@code start} (every tenth unsafe), then one more.
   */
  private static List<ModerationVerdict> tenMinutes(
      String run, String partition, ModelRef model, Instant start) {
    List<ModerationVerdict> verdicts = new ArrayList<>();
    for (int second = 0; second < MINUTES * PER_MINUTE_AND_PARTITION; second++) {
      verdicts.add(
          VerdictFixtures.verdict(
              run + "-" + partition + "-" + second,
              second % 10 == 0,
              start.plusSeconds(second),
              List.of(),
              Map.of(),
              model));
    }
    verdicts.add(
        VerdictFixtures.verdict(
            run + "-" + partition + "-closing",
            false,
            start.plus(Duration.ofMinutes(MINUTES)).plusSeconds(10),
            List.of(),
            Map.of(),
            model));
    return verdicts;
  }

  private JobClient start(BiasJobConfig config, String jobName) throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 1);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    conf.set(RestOptions.BIND_PORT, "0");
    CapturedCounters.reportTo(conf);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
    BiasAggregationJob.configure(env, config);
    BiasAggregationJob.buildPipeline(
        env,
        ExactlyOnceKafka.source(
            config.bootstrapServers(), topic, config.consumerGroup(), DecodeVerdicts.STAGE),
        new PublishedSink(),
        new DiscardingSink<>(),
        config);
    return env.executeAsync(jobName);
  }

  /** The offset the job committed for a partition at its last checkpoint; -1 before any. */
  private static long committedOffset(String group, int partition) throws Exception {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    try (Admin admin = Admin.create(props)) {
      OffsetAndMetadata committed =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get()
              .get(new TopicPartition(topic, partition));
      return committed == null ? -1 : committed.offset();
    }
  }

  /** The LIVE metric of each window of the whole traffic ("*"), by window start. */
  private static Map<Instant, BiasMetric> wholeWindows(String modelKey) {
    Map<Instant, BiasMetric> windows = new TreeMap<>();
    for (BiasMetric metric : liveMetrics(modelKey)) {
      if (metric.getGroup().equals("*")) {
        windows.put(metric.getWindowStart(), metric);
      }
    }
    return windows;
  }

  private static List<BiasMetric> liveMetrics(String modelKey) {
    return PUBLISHED.stream()
        .filter(message -> message.topic.equals(Topics.BIAS_METRICS.name()))
        .map(message -> Topics.BIAS_METRICS.codec().decode(message.value))
        .filter(m -> m.getScope() == BiasScope.LIVE && m.getModel().equals(modelKey))
        .toList();
  }

  private static void produce(int partition, List<ModerationVerdict> verdicts) {
    TestInput.sendAll(
        infra.kafkaBootstrapServers(),
        verdicts.stream()
            .map(
                verdict ->
                    new ProducerRecord<>(
                        topic,
                        partition,
                        verdict.getRequestId().getBytes(StandardCharsets.UTF_8),
                        Topics.MODERATION_VERDICTS.codec().encode(verdict)))
            .toList());
  }

  /** Collects what the job publishes (the MiniCluster runs in this JVM). */
  static final class PublishedSink implements Sink<KafkaMessage> {
    private static final long serialVersionUID = 1L;

    @Override
    public SinkWriter<KafkaMessage> createWriter(WriterInitContext context) {
      return new SinkWriter<>() {
        @Override
        public void write(KafkaMessage element, Context context) {
          PUBLISHED.add(element);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }
}
