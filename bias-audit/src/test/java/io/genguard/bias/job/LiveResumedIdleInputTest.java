package io.genguard.bias.job;

import static io.genguard.bias.job.LiveWindowHarnesses.subtaskOf;
import static io.genguard.bias.job.LiveWindowHarnesses.verdict;
import static io.genguard.bias.job.LiveWindowHarnesses.windows;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * A source subtask whose partitions were all idle and resume: Flink's valve left its channel out of
 * each window subtask's watermark while it was idle and takes it back only once its watermark has
 * caught up, so until then the window subtasks may be ahead of it, each by its own amount, and a
 * verdict it sends may be late in one window subtask and not in another. Until the forty-fourth
 * session the windows were keyed by model and group: the verdict's copies ("*" and one per group)
 * went to different window subtasks, one could be dropped as late and another counted, and the
 * window's counts no longer added up (left untested, {@code inconsistent_live_windows}; the verdict
 * was in {@code late_live_verdicts} only when its "*" copy was the one dropped). Now the windows
 * are keyed by model, every group of a verdict counted in one aggregate: the window subtask that
 * holds the model counts it under every group or drops it whole, once, to the late verdicts.
 */
class LiveResumedIdleInputTest {
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final long START = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
  private static final int PARALLELISM = 2;
  private static final String GROUP = "religion:muslim";

  /** Its live windows are on the window subtask already past the window. */
  private static final String ON_THE_SUBTASK_AHEAD = "openai/gpt-4o-mini";

  /** Its live windows are on the window subtask still inside the window. */
  private static final String ON_THE_SUBTASK_BEHIND = "builtin/tiny-gpt@v2";

  @Test
  void shouldCountAVerdictFromAResumedIdleInputUnderEveryGroupOrUnderNone() throws Exception {
    int ahead =
        subtaskOf(
            LiveWindowFunctions.model(verdict("a", ON_THE_SUBTASK_AHEAD, START)), PARALLELISM);
    int behind =
        subtaskOf(
            LiveWindowFunctions.model(verdict("b", ON_THE_SUBTASK_BEHIND, START)), PARALLELISM);
    assertThat(ahead).as("the two models' windows are on different subtasks").isNotEqualTo(behind);
    List<KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow>> subtasks =
        new ArrayList<>();
    for (int subtask = 0; subtask < PARALLELISM; subtask++) {
      subtasks.add(windows(WINDOW, null, PARALLELISM, subtask));
    }
    try {
      // The window subtasks went on without the idle input, each on its other inputs: one is past
      // the window, the other half-way through it.
      subtasks.get(ahead).processWatermark(START + WINDOW.toMillis());
      subtasks.get(behind).processWatermark(START + WINDOW.toMillis() / 2);

      // The resumed input, behind both, sends a verdict of each model from that window.
      for (String model : List.of(ON_THE_SUBTASK_AHEAD, ON_THE_SUBTASK_BEHIND)) {
        VerdictFacts verdict = verdict(model, model, START + 60_000, GROUP);
        assertThat(LiveWindowFunctions.isLive(verdict)).isTrue();
        String key = LiveWindowFunctions.model(verdict);
        subtasks.get(subtaskOf(key, PARALLELISM)).processElement(verdict, verdict.decidedAt);
      }
      List<LiveGroupWindow> counted = new ArrayList<>();
      List<VerdictFacts> late = new ArrayList<>();
      for (var subtask : subtasks) {
        subtask.processWatermark(Long.MAX_VALUE);
        counted.addAll(subtask.extractOutputValues());
        if (subtask.getSideOutput(LateLiveVerdicts.LATE) != null) {
          subtask.getSideOutput(LateLiveVerdicts.LATE).stream()
              .map(StreamRecord::getValue)
              .forEach(late::add);
        }
      }

      Map<String, Map<String, Long>> countsByModel =
          counted.stream()
              .collect(
                  Collectors.groupingBy(
                      window -> window.model,
                      Collectors.toMap(window -> window.group, window -> window.counts.count)));
      assertThat(countsByModel)
          .as("the subtask behind counts the verdict under \"*\" and its group, the other nowhere")
          .containsOnlyKeys(ON_THE_SUBTASK_BEHIND)
          .containsEntry(ON_THE_SUBTASK_BEHIND, Map.of(LiveGroupWindow.ALL, 1L, GROUP, 1L));
      assertThat(late)
          .as("the subtask ahead drops the verdict whole, once, and the late verdicts count it")
          .singleElement()
          .satisfies(verdict -> assertThat(verdict.requestId).isEqualTo(ON_THE_SUBTASK_AHEAD));
    } finally {
      for (var subtask : subtasks) {
        subtask.close();
      }
    }
  }
}
