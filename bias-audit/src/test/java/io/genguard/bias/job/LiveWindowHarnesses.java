package io.genguard.bias.job;

import io.genguard.bias.analysis.AnalysisSettings;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.operators.windowing.WindowOperatorBuilder;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The live branch's window counts as the job wires them ({@link BiasAggregationJob}: tumbling
 * event-time windows per model, every group of a verdict counted in one aggregate, late data to
 * {@link LateLiveVerdicts#LATE}), in Flink's operator test harness.
 */
final class LiveWindowHarnesses {
  static final List<String> CATEGORIES = AnalysisSettings.DEFAULT_CATEGORIES;

  /** Flink's default for a job of parallelism up to 128 without a set maximum. */
  static final int MAX_PARALLELISM = 128;

  private LiveWindowHarnesses() {}

  /** A window subtask of the given length, restored from {@code state} when not null, opened. */
  static KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows(
      Duration length, OperatorSubtaskState state) throws Exception {
    return windows(length, state, 1, 0);
  }

  /**
   * Window subtask {@code subtask} of {@code parallelism}, restored from {@code state} when not
   * null, opened: it holds the keys that {@link #subtaskOf} assigns to it.
   */
  static KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows(
      Duration length, OperatorSubtaskState state, int parallelism, int subtask) throws Exception {
    WindowOperatorBuilder<VerdictFacts, String, TimeWindow> builder =
        new WindowOperatorBuilder<>(
            TumblingEventTimeWindows.of(length),
            EventTimeTrigger.create(),
            new ExecutionConfig(),
            TypeInformation.of(VerdictFacts.class),
            LiveWindowFunctions::model,
            Types.STRING);
    builder.sideOutputLateData(LateLiveVerdicts.LATE);
    KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            builder.aggregate(
                new LiveWindowFunctions.CountGroups(CATEGORIES),
                new LiveWindowFunctions.LabelGroups(),
                LiveWindowFunctions.groupCountsType()),
            LiveWindowFunctions::model,
            Types.STRING,
            MAX_PARALLELISM,
            parallelism,
            subtask);
    if (state != null) {
      harness.initializeState(state);
    }
    harness.open();
    return harness;
  }

  /** The window subtask, of {@code parallelism}, that Flink sends the live windows' key to. */
  static int subtaskOf(String key, int parallelism) {
    return KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, parallelism);
  }

  /** A live verdict of model echo decided at {@code decidedAt}, naming {@code groups}. */
  static VerdictFacts verdict(String requestId, long decidedAt, String... groups) {
    return verdict(requestId, "echo/echo@1", decidedAt, groups);
  }

  /** A live verdict of {@code model} decided at {@code decidedAt}, naming {@code groups}. */
  static VerdictFacts verdict(String requestId, String model, long decidedAt, String... groups) {
    VerdictFacts verdict = new VerdictFacts();
    verdict.requestId = requestId;
    verdict.verdictId = "v-" + requestId;
    verdict.tenantId = "acme";
    verdict.model = model;
    verdict.detectedGroups = groups;
    verdict.decidedAt = decidedAt;
    verdict.decision = "RELEASE";
    return verdict;
  }

  /** The end of the window that {@link #window} rows and {@link #detectContext} describe. */
  static final long DETECTED_WINDOW_END = Duration.ofMinutes(5).toMillis();

  /** A live window row of model echo, from 0 to {@link #DETECTED_WINDOW_END}, for {@code group}. */
  static LiveGroupWindow window(String group, GroupCounts counts) {
    LiveGroupWindow window = new LiveGroupWindow();
    window.model = "echo/echo@1";
    window.group = group;
    window.windowStart = 0;
    window.windowEnd = DETECTED_WINDOW_END;
    window.counts = counts;
    return window;
  }

  /** A collector adding what it is given to {@code into}. */
  static <T> Collector<T> collector(List<T> into) {
    return new Collector<>() {
      @Override
      public void collect(T record) {
        into.add(record);
      }

      @Override
      public void close() {}
    };
  }

  /**
   * The context {@code detect} is called with for the window from 0 to {@link
   * #DETECTED_WINDOW_END}, its watermark and processing time at that end; it has no state.
   */
  static LiveWindowFunctions.DetectDisparity.Context detectContext(
      LiveWindowFunctions.DetectDisparity detect) {
    return detect.new Context() {
      @Override
      public TimeWindow window() {
        return new TimeWindow(0, DETECTED_WINDOW_END);
      }

      @Override
      public long currentProcessingTime() {
        return DETECTED_WINDOW_END;
      }

      @Override
      public long currentWatermark() {
        return DETECTED_WINDOW_END;
      }

      @Override
      public KeyedStateStore windowState() {
        throw new UnsupportedOperationException();
      }

      @Override
      public KeyedStateStore globalState() {
        throw new UnsupportedOperationException();
      }

      @Override
      public <X> void output(OutputTag<X> outputTag, X value) {
        throw new UnsupportedOperationException();
      }
    };
  }
}
