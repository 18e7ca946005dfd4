package io.genguard.bias.job;

import static io.genguard.bias.job.LiveWindowHarnesses.verdict;
import static io.genguard.bias.job.LiveWindowHarnesses.windows;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * A live verdict is counted under "*" and each of its groups by one aggregate, on the window
 * subtask that holds its model, so it is counted under all of them or dropped whole as late, once.
 * Before the forty-fourth session each group's copy was counted on its own key, possibly on a
 * window subtask whose watermark differed ({@link LiveResumedIdleInputTest}).
 */
class LiveLateVerdictCopiesTest {
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final long START = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
  private static final String GROUP = "religion:jewish";
  private static final String OTHER_GROUP = "gender:women";

  @Test
  void shouldDropALateVerdictWholeAndOnce() throws Exception {
    try (KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows =
        windows(WINDOW, null)) {
      windows.processWatermark(START + WINDOW.toMillis());

      windows.processElement(verdict("late", START + 60_000, GROUP, OTHER_GROUP), START + 60_000);
      windows.processWatermark(Long.MAX_VALUE);

      assertThat(windows.extractOutputValues())
          .as("the late verdict is counted in no window, neither by its groups nor by \"*\"")
          .isEmpty();
      assertThat(windows.getSideOutput(LateLiveVerdicts.LATE))
          .as("it goes to the late verdicts once, whole, which count each one")
          .singleElement()
          .satisfies(late -> assertThat(late.getValue().requestId).isEqualTo("late"));
    }
  }

  @Test
  void shouldCountAVerdictWhoseWindowIsOpenUnderTheWholeWindowAndEachOfItsGroupsOnce()
      throws Exception {
    try (KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows =
        windows(WINDOW, null)) {
      long lastMoment = START + WINDOW.toMillis() - 1;
      windows.processWatermark(lastMoment - 1);

      windows.processElement(verdict("on-time", lastMoment, OTHER_GROUP, GROUP, GROUP), lastMoment);
      windows.processElement(verdict("no-group", lastMoment), lastMoment);
      windows.processWatermark(Long.MAX_VALUE);

      assertThat(windows.getSideOutput(LateLiveVerdicts.LATE)).isNull();
      assertThat(windows.extractOutputValues())
          .as("one result per group, in group order, each with the window's bounds")
          .allSatisfy(
              window -> {
                assertThat(window.model).isEqualTo("echo/echo@1");
                assertThat(window.windowStart).isEqualTo(START);
                assertThat(window.windowEnd).isEqualTo(START + WINDOW.toMillis());
              })
          .extracting(window -> window.group)
          .containsExactly(LiveGroupWindow.ALL, OTHER_GROUP, LiveGroupWindow.NONE, GROUP);
      Map<String, Long> counts =
          windows.extractOutputValues().stream()
              .collect(Collectors.toMap(window -> window.group, window -> window.counts.count));
      assertThat(counts)
          .as("a group the verdict names twice counts it once; \"*\" counts every verdict")
          .isEqualTo(
              Map.of(
                  LiveGroupWindow.ALL, 2L, OTHER_GROUP, 1L, GROUP, 1L, LiveGroupWindow.NONE, 1L));
    }
  }
}
