package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job restarted from a snapshot that holds the state of an operator it no longer has (the bias
 * job's live-alert committer, retired in the forty-first session): refused unless the runner is
 * told the retired state may stay behind.
 */
class FlinkJobRunnerITCase {
  @TempDir Path stateDir;

  @Test
  void shouldResumeWithoutARetiredOperatorsStateOnlyWhenToldItMayStayBehind() throws Exception {
    try (FlinkJobRunner before =
        FlinkJobRunner.start("runner-it", stateDir, 1, 0, false, pipeline(true))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> before.client().getJobStatus().get() == JobStatus.RUNNING);
      Thread.sleep(2_000); // its tasks deployed, not only the job RUNNING
    } // stops with a savepoint that holds the retired operator's state
    assertThat(FlinkJobRunner.newestSnapshot(stateDir)).isPresent();

    assertThatThrownBy(
            () -> FlinkJobRunner.start("runner-it", stateDir, 1, 0, false, pipeline(false)))
        .as("Flink refuses state it cannot map to the job, so the stack would not start")
        .hasStackTraceContaining("allowNonRestoredState");

    try (FlinkJobRunner lenient =
        FlinkJobRunner.start("runner-it", stateDir, 1, 0, true, pipeline(false))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> lenient.client().getJobStatus().get() == JobStatus.RUNNING);
    }
  }

  /** A slow endless count, with or without a stateful operator of uid "retired". */
  private static java.util.function.BiConsumer<
          StreamExecutionEnvironment, org.apache.flink.configuration.Configuration>
      pipeline(boolean withRetired) {
    return (env, conf) -> {
      env.setParallelism(1);
      env.enableCheckpointing(60_000);
      DataStream<Long> numbers =
          env.fromSequence(0, Long.MAX_VALUE).uid("numbers").map(Slowly::pass).uid("slowly");
      if (withRetired) {
        numbers = numbers.keyBy(n -> n % 2).map(new Counting()).uid("retired");
      }
      numbers.sinkTo(new DiscardingSink<>()).uid("discard");
    };
  }

  private static final class Slowly {
    static long pass(long n) throws InterruptedException {
      Thread.sleep(5);
      return n;
    }
  }

  private static final class Counting extends RichMapFunction<Long, Long> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
    }

    @Override
    public Long map(Long n) throws Exception {
      Long seen = count.value();
      count.update(seen == null ? 1 : seen + 1);
      return n;
    }
  }
}
