package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.job.BiasAggregationPipelineTest.QueueSink;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Models a live verdict names past {@code GENGUARD_BIAS_LIVE_MAX_MODELS} in its window count under
 * {@value LiveGroupWindow#UNKNOWN_MODEL} ({@link LiveModelAdmission}): until the forty-sixth
 * session a writer of moderation.verdicts inventing a model name or version per verdict made a
 * keyed window, its rows, and downstream {@code bias_metric} rows and collector gauges for each.
 */
class LiveUnknownModelsTest {
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  private static final int INVENTED = 1_000;
  private static final String ECHO = "echo/echo@1";

  @BeforeEach
  void clear() {
    BiasAggregationPipelineTest.MESSAGES.clear();
    BiasAggregationPipelineTest.ALERTS.clear();
  }

  @Test
  void shouldPoolAThousandInventedModelsOfAWindowPastTheBound() throws Exception {
    List<ModerationVerdict> verdicts = new ArrayList<>();
    // The model in use first: 100 verdicts, half naming religion:jewish, half religion:muslim.
    for (int i = 0; i < 100; i++) {
      verdicts.add(
          VerdictFixtures.verdict(
              "echo-" + i,
              i % 4 == 0,
              START.plusMillis(i),
              List.of(i % 2 == 0 ? "religion:jewish" : "religion:muslim"),
              Map.of()));
    }
    // Then a writer inventing a model per verdict, all in the same window, with a disparity.
    for (int i = 0; i < INVENTED; i++) {
      verdicts.add(
          VerdictFixtures.verdict(
              "invented-" + i,
              i % 2 == 0,
              START.plusMillis(1_000 + i),
              List.of(i % 2 == 0 ? "religion:jewish" : "religion:muslim"),
              Map.of(),
              ModelRef.newBuilder()
                  .setBackend("echo")
                  .setName("invented-" + i)
                  .setVersion("v" + i)
                  .build()));
    }
    // The next window: two models, the echo model's new version among them (an upgrade).
    Instant next = START.plus(WINDOW);
    verdicts.add(
        VerdictFixtures.verdict("next-echo", false, next, List.of(), Map.of(), model("echo", "2")));
    verdicts.add(
        VerdictFixtures.verdict(
            "next-other", false, next.plusMillis(1), List.of(), Map.of(), model("other", "1")));
    byte[][] values = new byte[verdicts.size()][];
    for (int i = 0; i < values.length; i++) {
      values[i] = Topics.MODERATION_VERDICTS.codec().encode(verdicts.get(i));
    }
    GeneratorFunction<Long, KafkaMessage> generator =
        index -> VerdictFixtures.message(index, values[index.intValue()]);
    DataGeneratorSource<KafkaMessage> source =
        new DataGeneratorSource<>(generator, values.length, TypeInformation.of(KafkaMessage.class));
    BiasJobConfig config =
        BiasJobConfig.defaults("unused:9092", null, null, null)
            .withTiming(
                Duration.ofSeconds(1), WINDOW, Duration.ofSeconds(5), Duration.ZERO, Duration.ZERO);
    Configuration conf = new Configuration();
    CapturedCounters.reportTo(conf);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
    BiasAggregationJob.buildPipeline(
        env,
        source,
        new QueueSink<>(BiasAggregationPipelineTest.MESSAGES),
        new QueueSink<>(BiasAggregationPipelineTest.ALERTS),
        config);
    String jobName = "bias-unknown-models-test";
    env.execute(jobName);

    List<BiasMetric> live = new ArrayList<>();
    for (KafkaMessage message : BiasAggregationPipelineTest.MESSAGES) {
      if (message.topic.equals(Topics.BIAS_METRICS.name())) {
        BiasMetric metric = Topics.BIAS_METRICS.codec().decode(message.value);
        if (metric.getScope() == BiasScope.LIVE) {
          live.add(metric);
        }
      }
    }
    Set<String> firstWindow =
        live.stream()
            .filter(m -> m.getWindowStart().equals(START))
            .map(BiasMetric::getModel)
            .collect(Collectors.toCollection(TreeSet::new));
    int bound = BiasJobConfig.DEFAULT_LIVE_MAX_MODELS;
    assertThat(firstWindow)
        .as("the bound's models keep their key, every further one is pooled")
        .hasSize(bound + 1)
        .contains(ECHO, LiveGroupWindow.UNKNOWN_MODEL);
    Map<String, Long> pooled = counts(live, LiveGroupWindow.UNKNOWN_MODEL, START);
    int admittedInvented = bound - 1;
    assertThat(pooled)
        .as("the pooled verdicts keep their counts")
        .containsEntry(LiveGroupWindow.ALL, (long) INVENTED - admittedInvented)
        .containsOnlyKeys(LiveGroupWindow.ALL, "religion:jewish", "religion:muslim");
    assertThat(counts(live, ECHO, START))
        .as("the model in use is counted as before")
        .containsEntry(LiveGroupWindow.ALL, 100L)
        .containsEntry("religion:jewish", 50L);
    assertThat(CapturedCounters.sum(jobName, LiveModelAdmission.POOLED_LIVE_MODEL_VERDICTS))
        .isEqualTo(INVENTED - admittedInvented);
    assertThat(BiasAggregationPipelineTest.ALERTS)
        .as("the pool's disparity is among models, not of one")
        .noneMatch(alert -> alert.model.equals(LiveGroupWindow.UNKNOWN_MODEL));
    assertThat(
            live.stream()
                .filter(m -> m.getWindowStart().equals(START.plus(WINDOW)))
                .map(BiasMetric::getModel)
                .distinct())
        .as("each window has its own bound: the models of the last one take no room")
        .containsExactlyInAnyOrder("echo/echo@2", "echo/other@1");
  }

  @Test
  void shouldDecideEachWindowOnItsOwnAndForgetItAWindowAfterItClosed() throws Exception {
    long start = START.toEpochMilli();
    long length = WINDOW.toMillis();
    try (KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> admission =
        admission(2, null)) {
      for (String model : List.of("a", "b", "c", "a", "c", "b")) {
        admission.processElement(verdict(model, start + 1), start + 1);
      }
      assertThat(models(admission))
          .as("the window's first two models keep their key")
          .containsExactly(
              "a", "b", LiveGroupWindow.UNKNOWN_MODEL, "a", LiveGroupWindow.UNKNOWN_MODEL, "b");
      admission.getOutput().clear();

      admission.processElement(verdict("c", start + length), start + length);
      admission.processElement(verdict("d", start + length), start + length);
      assertThat(models(admission))
          .as("the next window has its own bound")
          .containsExactly("c", "d");
      admission.getOutput().clear();

      // Late by less than a window: its window's decision holds.
      admission.processWatermark(start + length);
      admission.processElement(verdict("c", start + 2), start + 2);
      admission.processElement(verdict("a", start + 2), start + 2);
      assertThat(models(admission)).containsExactly(LiveGroupWindow.UNKNOWN_MODEL, "a");
      admission.getOutput().clear();

      admission.processWatermark(start + 2 * length);
      assertThat(admission.numKeyedStateEntries())
          .as("the first window's models are forgotten a window after it closed")
          .isEqualTo(2);
      admission.processElement(verdict("a", start + 3), start + 3);
      assertThat(models(admission))
          .as("a verdict later still is pooled and opens nothing")
          .containsExactly(LiveGroupWindow.UNKNOWN_MODEL);
      assertThat(admission.numKeyedStateEntries()).isEqualTo(2);

      admission.processWatermark(start + 3 * length);
      assertThat(admission.numKeyedStateEntries()).isZero();
    }
  }

  @Test
  void shouldKeepAWindowsModelsAcrossARestore() throws Exception {
    long start = START.toEpochMilli();
    OperatorSubtaskState state;
    try (KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> admission =
        admission(2, null)) {
      admission.processElement(verdict("a", start), start);
      admission.processElement(verdict("b", start), start);
      state = admission.snapshot(1, start);
    }
    try (KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> admission =
        admission(2, state)) {
      admission.processElement(verdict("c", start + 1), start + 1);
      admission.processElement(verdict("b", start + 1), start + 1);
      assertThat(models(admission)).containsExactly(LiveGroupWindow.UNKNOWN_MODEL, "b");
    }
  }

  /**
   * The forty-sixth session's reviews: the log line, at most once a minute, named only the latest
   * model pooled, so the models a writer invented in between (or the models in use it pushed into
   * the pool) went unnamed. It names the models pooled since the previous line, at most {@value
   * LiveModelAdmission#LOGGED_MODELS}.
   */
  @Test
  void shouldNameTheModelsPooledSinceTheLastLogLineBounded() throws Exception {
    long start = START.toEpochMilli();
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(LiveModelAdmission.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    log.addAppender(logged);
    try (KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> admission =
        admission(1, null)) {
      admission.setProcessingTime(1);
      admission.processElement(verdict("kept", start), start);
      admission.processElement(verdict("first-pooled", start), start);
      // Within the minute: pooled, not logged yet.
      admission.processElement(verdict("in-use", start + 1), start + 1);
      for (int i = 0; i < 20; i++) {
        admission.processElement(verdict("invented-" + i, start + 2), start + 2);
      }
      admission.processElement(verdict("in-use", start + 3), start + 3);
      admission.setProcessingTime(60_001);
      admission.processElement(verdict("latest", start + 4), start + 4);

      List<String> lines =
          logged.list.stream()
              .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
              .toList();
      assertThat(lines).hasSize(2);
      assertThat(lines.get(0)).contains("\"first-pooled\"");
      assertThat(lines.get(1))
          .as("the models pooled since the first line, the first ten of them")
          .startsWith("23 live verdict(s)")
          .contains("\"in-use\", \"invented-0\"", "\"invented-8\"", "and more")
          .doesNotContain("\"invented-9\"", "\"first-pooled\"");
    } finally {
      log.detachAppender(logged);
    }
  }

  private static KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> admission(
      int maxModels, OperatorSubtaskState state) throws Exception {
    long length = WINDOW.toMillis();
    KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(new LiveModelAdmission(length, maxModels)),
            verdict -> LiveModelAdmission.windowStart(verdict, length),
            Types.LONG);
    if (state != null) {
      harness.initializeState(state);
    }
    harness.open();
    return harness;
  }

  private static VerdictFacts verdict(String model, long decidedAt) {
    return LiveWindowHarnesses.verdict("r-" + model + "-" + decidedAt, model, decidedAt);
  }

  private static List<String> models(
      KeyedOneInputStreamOperatorTestHarness<Long, VerdictFacts, VerdictFacts> harness) {
    return harness.extractOutputValues().stream().map(verdict -> verdict.model).toList();
  }

  private static ModelRef model(String name, String version) {
    return ModelRef.newBuilder().setBackend("echo").setName(name).setVersion(version).build();
  }

  /** The largest count of each group of {@code model}'s window starting at {@code start}. */
  private static Map<String, Long> counts(List<BiasMetric> live, String model, Instant start) {
    return live.stream()
        .filter(m -> m.getModel().equals(model) && m.getWindowStart().equals(start))
        .collect(Collectors.toMap(BiasMetric::getGroup, BiasMetric::getCount, Math::max));
  }
}
