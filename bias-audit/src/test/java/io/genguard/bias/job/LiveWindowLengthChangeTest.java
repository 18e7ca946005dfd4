package io.genguard.bias.job;

import static io.genguard.bias.job.LiveWindowHarnesses.verdict;
import static io.genguard.bias.job.LiveWindowHarnesses.windows;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * What the live windows count when {@code GENGUARD_BIAS_WINDOW_SECONDS} changes across a restore
 * (pinned, not a fix: these tests pass without any change). The window open at the savepoint is
 * restored with the verdicts it had counted and closes at its old end; every verdict read after the
 * restore goes to a window of the new length. So a 10-minute window and a 5-minute one that end
 * together count disjoint verdicts, and their sum (what the audit service's collector and {@code
 * BiasReports.groupMetrics} take) counts each verdict once: keeping only one of them would drop
 * verdicts. Verdicts are counted twice only when the job is restored from a savepoint older than
 * the windows it had already published and reads their verdicts again into windows of the new
 * length, which the audit store cannot tell from the first case.
 */
class LiveWindowLengthChangeTest {
  private static final Duration TEN = Duration.ofMinutes(10);
  private static final Duration FIVE = Duration.ofMinutes(5);
  private static final long NOON = Instant.parse("2026-12-06T12:00:00Z").toEpochMilli();

  @Test
  void shouldCountEachVerdictInOneWindowWhenTheLengthChangesAcrossARestoreFromTheLatestSavepoint()
      throws Exception {
    OperatorSubtaskState savepoint;
    try (var before = windows(TEN, null)) {
      read(before, 1, 3, 6);
      savepoint = before.snapshot(1, 1);
    }
    try (var after = windows(FIVE, savepoint)) {
      read(after, 7, 8, 11);
      after.processWatermark(Long.MAX_VALUE);

      Map<String, Long> counted = wholeWindowCounts(after.extractOutputValues());
      assertThat(counted)
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("12:00-12:10", 3L, "12:05-12:10", 2L, "12:10-12:15", 1L));
      assertThat(counted.values().stream().mapToLong(Long::longValue).sum())
          .as("the windows that end together count disjoint verdicts: each verdict once in all")
          .isEqualTo(6);
    }
  }

  @Test
  void shouldCountVerdictsReadAgainAfterARestoreFromAnOlderSavepointInBothLengths()
      throws Exception {
    // The audit store records each metric id once: the first emission of a window stays.
    Map<String, LiveGroupWindow> stored = new LinkedHashMap<>();
    OperatorSubtaskState olderSavepoint;
    try (var first = windows(TEN, null)) {
      read(first, 1, 3, 6);
      olderSavepoint = first.snapshot(1, 1);
      read(first, 7, 8, 11);
      first.processWatermark(NOON + Duration.ofMinutes(20).toMillis());
      store(stored, first.extractOutputValues());
    }
    try (var again = windows(FIVE, olderSavepoint)) {
      read(again, 7, 8, 11);
      again.processWatermark(Long.MAX_VALUE);
      store(stored, again.extractOutputValues());
    }

    Map<String, Long> counted = wholeWindowCounts(List.copyOf(stored.values()));
    assertThat(counted)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("12:00-12:10", 5L, "12:10-12:20", 1L, "12:05-12:10", 2L, "12:10-12:15", 1L));
    assertThat(counted.values().stream().mapToLong(Long::longValue).sum())
        .as("the three verdicts read again count in windows of both lengths")
        .isEqualTo(6 + 3);
  }

  /** Verdicts decided the given minutes past noon, each naming one group, then the watermark. */
  private static void read(
      KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows,
      int... minutes)
      throws Exception {
    for (int minute : minutes) {
      long decidedAt = NOON + Duration.ofMinutes(minute).toMillis();
      VerdictFacts verdict = verdict("at-" + minute, decidedAt, "religion:jewish");
      windows.processElement(verdict, decidedAt);
      windows.processWatermark(decidedAt);
    }
  }

  private static void store(Map<String, LiveGroupWindow> stored, List<LiveGroupWindow> emitted) {
    for (LiveGroupWindow window : emitted) {
      stored.putIfAbsent(
          BiasMetrics.liveId(window.model, window.group, window.windowStart, window.windowEnd),
          window);
    }
  }

  /** The "*" windows' counts by their bounds, "HH:MM-HH:MM". */
  private static Map<String, Long> wholeWindowCounts(List<LiveGroupWindow> windows) {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (LiveGroupWindow window : windows) {
      if (LiveGroupWindow.ALL.equals(window.group)) {
        counts.merge(
            clock(window.windowStart) + "-" + clock(window.windowEnd),
            window.counts.count,
            Long::sum);
      }
    }
    return counts;
  }

  private static String clock(long epochMillis) {
    return Instant.ofEpochMilli(epochMillis).toString().substring(11, 16);
  }
}
