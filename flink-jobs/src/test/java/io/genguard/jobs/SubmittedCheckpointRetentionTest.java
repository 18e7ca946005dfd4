package io.genguard.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.job.BiasAggregationJob;
import io.genguard.bias.job.BiasJobConfig;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.checkpoint.CheckpointRetentionPolicy;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * Both jobs keep their checkpoints when they are cancelled, suspended or failed: the runbook
 * resumes them from their latest checkpoint after a {@code flink cancel} and after a JobManager
 * restart (docs/OPERATIONS.md, "When the JobManager restarts"). The retention travels in the job
 * graph the submitter ({@code flink run} in the flink-jobs container) builds; the JobManager's own
 * configuration does not change it. So the jobs are built here the way the submitter builds them:
 * from a configuration holding only what docker/flink/submit-jobs.sh passes ({@code -Drest.*}).
 */
class SubmittedCheckpointRetentionTest {

  @Test
  void shouldRetainTheModerationJobsCheckpointsOnCancellation() {
    StreamExecutionEnvironment env = submitterEnvironment();
    ModerationJobMain.wire(
        env, ModerationJobSettings.parse(Map.of("GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")));

    assertThat(retentionSubmitted(env)).isEqualTo(CheckpointRetentionPolicy.RETAIN_ON_CANCELLATION);
  }

  @Test
  void shouldRetainTheBiasAggregationJobsCheckpointsOnCancellation() {
    StreamExecutionEnvironment env = submitterEnvironment();
    BiasAggregationJob.wire(
        env, BiasJobConfig.fromEnvironment(Map.of(), "kafka:9092", null, null, null));

    assertThat(retentionSubmitted(env)).isEqualTo(CheckpointRetentionPolicy.RETAIN_ON_CANCELLATION);
  }

  /** What submit-jobs.sh gives {@code flink run}: the JobManager's address, nothing else. */
  private static StreamExecutionEnvironment submitterEnvironment() {
    Configuration client = new Configuration();
    client.set(RestOptions.ADDRESS, "jobmanager");
    client.set(RestOptions.PORT, 8081);
    return StreamExecutionEnvironment.getExecutionEnvironment(client);
  }

  /** The retention policy in the job graph that is sent to the JobManager. */
  private static CheckpointRetentionPolicy retentionSubmitted(StreamExecutionEnvironment env) {
    return env.getStreamGraph()
        .getJobGraph()
        .getCheckpointingSettings()
        .getCheckpointCoordinatorConfiguration()
        .getCheckpointRetentionPolicy();
  }
}
