package io.genguard.bias.job;

import static io.genguard.bias.job.LiveWindowHarnesses.countInWindows;
import static io.genguard.bias.job.LiveWindowHarnesses.fanOut;
import static io.genguard.bias.job.LiveWindowHarnesses.verdict;
import static io.genguard.bias.job.LiveWindowHarnesses.windows;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * With parallelism above 1 the copies of one verdict (its "*" copy and one per group) go to window
 * subtasks whose watermarks differ: each is the smallest of its inputs' and reaches it at its own
 * time. A verdict whose window had closed in one subtask and not yet in the other was dropped as
 * late there and counted here, so its group counted more than the window's "*" (the window was then
 * left untested) or the "*" counted a verdict its group did not. Lateness is decided once, at the
 * fan-out, whose watermark is at least every window subtask's while its input is active (after an
 * idle input resumes it may be behind: {@link LiveResumedIdleInputTest}).
 */
class LiveLateVerdictCopiesTest {
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final long START = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
  private static final String GROUP = "religion:x";

  @Test
  void shouldCountALateVerdictInEveryWindowSubtaskOrInNone() throws Exception {
    try (OneInputStreamOperatorTestHarness<VerdictFacts, VerdictFacts> fanOut = fanOut(WINDOW);
        // The subtask counting the "*" copies has every input's watermark past the window; the one
        // counting the group's copies still waits for one input's.
        KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> wholeWindow =
            windows(WINDOW, null);
        KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> group =
            windows(WINDOW, null)) {
      long pastTheWindow = START + WINDOW.toMillis();
      fanOut.processWatermark(pastTheWindow);
      wholeWindow.processWatermark(pastTheWindow);
      group.processWatermark(START + WINDOW.toMillis() / 2);

      fanOut.processElement(verdict("late", START + 60_000, GROUP), START + 60_000);
      countInWindows(fanOut, wholeWindow, group);

      List<LiveGroupWindow> counted = wholeWindow.extractOutputValues();
      counted.addAll(group.extractOutputValues());
      assertThat(counted)
          .as("the late verdict is counted in no window, neither by its group nor by \"*\"")
          .isEmpty();
      assertThat(fanOut.getSideOutput(LateLiveVerdicts.LATE))
          .as("it goes to the late verdicts once, as its \"*\" copy, which they count")
          .singleElement()
          .satisfies(late -> assertThat(late.getValue().liveGroup).isEqualTo(LiveGroupWindow.ALL));
    }
  }

  @Test
  void shouldCopyAVerdictWhoseWindowIsOpenForEveryGroup() throws Exception {
    try (OneInputStreamOperatorTestHarness<VerdictFacts, VerdictFacts> fanOut = fanOut(WINDOW)) {
      long lastMoment = START + WINDOW.toMillis() - 1;
      fanOut.processWatermark(lastMoment - 1);

      fanOut.processElement(verdict("on-time", lastMoment, GROUP), lastMoment);

      assertThat(fanOut.extractOutputValues())
          .extracting(copy -> copy.liveGroup)
          .containsExactly(LiveGroupWindow.ALL, GROUP);
      assertThat(fanOut.getSideOutput(LateLiveVerdicts.LATE)).isNull();
    }
  }
}
