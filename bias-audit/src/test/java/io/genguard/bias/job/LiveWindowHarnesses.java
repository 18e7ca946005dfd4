package io.genguard.bias.job;

import io.genguard.bias.analysis.AnalysisSettings;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.operators.windowing.WindowOperatorBuilder;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

/**
 * The live branch's window counts as the job wires them ({@link BiasAggregationJob}: tumbling
 * event-time windows per model and group, late data to {@link LateLiveVerdicts#LATE}), one subtask
 * in Flink's operator test harness.
 */
final class LiveWindowHarnesses {
  static final List<String> CATEGORIES = AnalysisSettings.DEFAULT_CATEGORIES;

  private LiveWindowHarnesses() {}

  /**
   * The live fan-out ({@link LiveWindowFunctions.FanOutByGroup}) for windows of {@code length},
   * opened.
   */
  static OneInputStreamOperatorTestHarness<VerdictFacts, VerdictFacts> fanOut(Duration length)
      throws Exception {
    OneInputStreamOperatorTestHarness<VerdictFacts, VerdictFacts> fanOut =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(new LiveWindowFunctions.FanOutByGroup(length.toMillis())));
    fanOut.open();
    return fanOut;
  }

  /**
   * Hands each copy the fan-out emitted to the window subtask that counts it ("*" copies to {@code
   * wholeWindow}, the groups' to {@code group}), then closes every window in both.
   */
  static void countInWindows(
      OneInputStreamOperatorTestHarness<VerdictFacts, VerdictFacts> fanOut,
      KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> wholeWindow,
      KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> group)
      throws Exception {
    for (VerdictFacts copy : fanOut.extractOutputValues()) {
      (LiveGroupWindow.ALL.equals(copy.liveGroup) ? wholeWindow : group)
          .processElement(copy, copy.decidedAt);
    }
    wholeWindow.processWatermark(Long.MAX_VALUE);
    group.processWatermark(Long.MAX_VALUE);
  }

  /** A window subtask of the given length, restored from {@code state} when not null, opened. */
  static KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows(
      Duration length, OperatorSubtaskState state) throws Exception {
    WindowOperatorBuilder<VerdictFacts, String, TimeWindow> builder =
        new WindowOperatorBuilder<>(
            TumblingEventTimeWindows.of(length),
            EventTimeTrigger.create(),
            new ExecutionConfig(),
            TypeInformation.of(VerdictFacts.class),
            LiveWindowFunctions::modelAndGroup,
            Types.STRING);
    builder.sideOutputLateData(LateLiveVerdicts.LATE);
    KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            builder.aggregate(
                new LiveWindowFunctions.CountGroup(CATEGORIES),
                new LiveWindowFunctions.LabelWindow(),
                TypeInformation.of(GroupCounts.class)),
            LiveWindowFunctions::modelAndGroup,
            Types.STRING);
    if (state != null) {
      harness.initializeState(state);
    }
    harness.open();
    return harness;
  }

  /** A live verdict of model echo decided at {@code decidedAt}, naming {@code groups}. */
  static VerdictFacts verdict(String requestId, long decidedAt, String... groups) {
    VerdictFacts verdict = new VerdictFacts();
    verdict.requestId = requestId;
    verdict.verdictId = "v-" + requestId;
    verdict.tenantId = "acme";
    verdict.model = "echo/echo@1";
    verdict.detectedGroups = groups;
    verdict.decidedAt = decidedAt;
    verdict.decision = "RELEASE";
    return verdict;
  }
}
