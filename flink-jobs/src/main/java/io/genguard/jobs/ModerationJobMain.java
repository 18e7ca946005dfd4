package io.genguard.jobs;

import io.genguard.moderation.job.ModerationJob;
import io.genguard.moderation.pipeline.ModerationPipelines;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code flink run genguard-flink-jobs.jar [KEY=VALUE ...]}: the moderation job on a Flink cluster
 * (or, run as a plain Java program, on a local MiniCluster). The bias-aggregation job is in the
 * same jar: {@code flink run -c io.genguard.bias.job.BiasAggregationJob genguard-flink-jobs.jar}.
 *
 * <p>Savepoint-compatible: every operator has a stable uid ({@link ModerationJob#buildPipeline}),
 * so {@code flink run -s <savepoint>} restores a new version of the job.
 */
public final class ModerationJobMain {
  private ModerationJobMain() {}

  public static void main(String[] args) throws Exception {
    ModerationJobSettings settings = ModerationJobSettings.parse(System.getenv(), args);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    wire(env, settings);
    env.execute(ModerationJob.JOB_NAME);
  }

  /** Configures {@code env} and builds the job on Kafka, as {@code main} runs it. */
  public static void wire(StreamExecutionEnvironment env, ModerationJobSettings settings) {
    ModerationJob.configure(env, settings.job());
    ModerationJob.buildPipeline(
        env,
        ModerationJob.kafkaSource(settings.job()),
        ModerationJob.kafkaSink(settings.job()),
        ModerationPipelines.factory(
            settings.scorer(), settings.policyFile().orElse(null), settings.keyDirectory()),
        settings.job());
  }
}
