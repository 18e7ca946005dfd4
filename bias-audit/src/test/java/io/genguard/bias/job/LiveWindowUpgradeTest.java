package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.BiasScope;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topics;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upgrade to the live windows keyed by model (forty-fourth session): a savepoint of the job
 * before it, whose live windows were keyed by model and group (uid {@code live-window-counts}, with
 * open windows in it), restores only with {@code --allowNonRestoredState}, which leaves that state
 * behind, and the restored job counts and publishes live windows with its new operator.
 *
 * <p>The savepoint ({@code src/test/resources/savepoints/live-windows-by-model-and-group}) was
 * taken by {@link #start} on the forty-third session's build (commit 26a99db5): verdicts decided as
 * they are generated, 1-second windows, stopped with a canonical savepoint once LIVE metrics came
 * out.
 */
class LiveWindowUpgradeTest {
  private static final String SAVEPOINT = "/savepoints/live-windows-by-model-and-group/_metadata";

  @TempDir Path savepoint;

  @BeforeEach
  void copySavepoint() throws Exception {
    BiasAggregationPipelineTest.MESSAGES.clear();
    try (InputStream in = LiveWindowUpgradeTest.class.getResourceAsStream(SAVEPOINT)) {
      Files.copy(in, savepoint.resolve("_metadata"));
    }
  }

  @Test
  void shouldRestoreASavepointOfTheWindowsKeyedByModelAndGroupOnlyLeavingTheirStateBehind()
      throws Exception {
    assertThatThrownBy(
            () -> start(savepoint, false).getJobExecutionResult().get(60, TimeUnit.SECONDS))
        .as("the old windows' state has no operator in this job")
        .hasStackTraceContaining("Cannot map checkpoint/savepoint state");

    JobClient job = start(savepoint, true);
    try {
      await().atMost(Duration.ofSeconds(90)).until(() -> liveMetrics() >= 4);
    } finally {
      job.cancel().get();
    }
  }

  /**
   * The job as the savepoint's build ran it: live verdicts decided as they are generated, 100 a
   * second, naming religion:x or religion:y; 1-second windows.
   */
  static JobClient start(Path restoreFrom, boolean allowNonRestoredState) throws Exception {
    GeneratorFunction<Long, KafkaMessage> generator =
        index ->
            VerdictFixtures.message(
                index,
                Topics.MODERATION_VERDICTS
                    .codec()
                    .encode(
                        VerdictFixtures.verdict(
                            "upgrade-" + index,
                            index % 3 == 0,
                            Instant.now(),
                            index % 2 == 0 ? List.of("religion:x") : List.of("religion:y"),
                            Map.of())));
    DataGeneratorSource<KafkaMessage> source =
        new DataGeneratorSource<>(
            generator,
            Long.MAX_VALUE,
            RateLimiterStrategy.perSecond(100),
            TypeInformation.of(KafkaMessage.class));
    BiasJobConfig config =
        BiasJobConfig.defaults("unused:9092", null, null, null)
            .withTiming(
                Duration.ofMillis(500),
                Duration.ofSeconds(1),
                Duration.ofMillis(500),
                Duration.ofSeconds(1),
                Duration.ofMillis(200));
    Configuration conf = new Configuration();
    if (restoreFrom != null) {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
      conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, allowNonRestoredState);
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
    BiasAggregationJob.configure(env, config);
    env.setParallelism(1);
    BiasAggregationJob.buildPipeline(
        env,
        source,
        new BiasAggregationPipelineTest.QueueSink<>(BiasAggregationPipelineTest.MESSAGES),
        new BiasAggregationPipelineTest.QueueSink<>(BiasAggregationPipelineTest.ALERTS),
        config);
    return env.executeAsync("bias-live-window-upgrade");
  }

  private static long liveMetrics() {
    return BiasAggregationPipelineTest.MESSAGES.stream()
        .filter(message -> message.topic.equals(Topics.BIAS_METRICS.name()))
        .map(message -> Topics.BIAS_METRICS.codec().decode(message.value))
        .filter(metric -> metric.getScope() == BiasScope.LIVE)
        .count();
  }
}
