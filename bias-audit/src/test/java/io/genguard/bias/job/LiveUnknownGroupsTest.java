package io.genguard.bias.job;

import static io.genguard.bias.job.LiveWindowHarnesses.collector;
import static io.genguard.bias.job.LiveWindowHarnesses.detectContext;
import static io.genguard.bias.job.LiveWindowHarnesses.verdict;
import static io.genguard.bias.job.LiveWindowHarnesses.window;
import static io.genguard.bias.job.LiveWindowHarnesses.windows;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.analysis.LiveDisparity;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Groups a verdict names that the identity lexicon does not know (only a writer of
 * moderation.verdicts other than GenGuard's moderation job puts them there) count under one bucket,
 * {@value LiveGroupWindow#UNKNOWN_GROUP}, in the live windows: until the forty-fifth session each
 * string had its own entry in the window's state and its own published row, so such a writer could
 * grow both without bound.
 */
class LiveUnknownGroupsTest {
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final long START = Instant.parse("2026-12-07T10:00:00Z").toEpochMilli();
  private static final String KNOWN = "religion:muslim";
  private static final int INVENTED = 1_000;

  @Test
  void shouldCountAThousandInventedGroupsUnderOneBucketKeepingTheirCounts() throws Exception {
    try (KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, LiveGroupWindow> windows =
        windows(WINDOW, null)) {
      for (int i = 0; i < INVENTED; i++) {
        VerdictFacts verdict =
            i < 10
                ? verdict("v-" + i, START + i, KNOWN, invented(i))
                : verdict("v-" + i, START + i, invented(i), invented(i) + "-also");
        verdict.unsafe = i % 4 == 0;
        windows.processElement(verdict, START + i);
      }
      windows.processWatermark(Long.MAX_VALUE);

      Map<String, LiveGroupWindow> rows =
          windows.extractOutputValues().stream()
              .collect(Collectors.toMap(window -> window.group, window -> window));
      assertThat(rows)
          .as("one row per known group, none per invented one")
          .containsOnlyKeys(LiveGroupWindow.ALL, KNOWN, LiveGroupWindow.UNKNOWN_GROUP);
      LiveGroupWindow unknown = rows.get(LiveGroupWindow.UNKNOWN_GROUP);
      assertThat(unknown.counts.count)
          .as("every verdict naming an invented group, once however many it names")
          .isEqualTo(INVENTED);
      assertThat(unknown.counts.unsafeCount).isEqualTo(INVENTED / 4);
      assertThat(rows.get(LiveGroupWindow.ALL).counts.count).isEqualTo(INVENTED);
      assertThat(rows.get(KNOWN).counts.count).isEqualTo(10);
    }
  }

  @Test
  void shouldKeepTheWindowStateToTheKnownGroupsAndTheBucket() {
    LiveWindowFunctions.CountGroups count =
        new LiveWindowFunctions.CountGroups(AnalysisSettings.DEFAULT_CATEGORIES);
    Map<String, GroupCounts> state = count.createAccumulator();
    for (int i = 0; i < INVENTED; i++) {
      state = count.add(verdict("v-" + i, START + i, invented(i)), state);
    }
    state = count.add(verdict("named", START, "*", "none", KNOWN), state);

    assertThat(state)
        .as("the window's map holds the known groups seen and one bucket")
        .containsOnlyKeys(LiveGroupWindow.ALL, KNOWN, LiveGroupWindow.UNKNOWN_GROUP);
    assertThat(state.get(LiveGroupWindow.UNKNOWN_GROUP).count)
        .as("\"*\" and \"none\" named as groups are not groups either")
        .isEqualTo(INVENTED + 1);
    assertThat(state.get(LiveGroupWindow.ALL).count).isEqualTo(INVENTED + 1);
  }

  @Test
  void shouldNotTestTheBucketAsAGroup() throws Exception {
    LiveWindowFunctions.DetectDisparity detect =
        new LiveWindowFunctions.DetectDisparity(
            new LiveDisparity.Settings(
                0.05, Correction.HOLM, 5, AnalysisSettings.DEFAULT_CATEGORIES));
    GroupCounts all = counts(200, 100);
    GroupCounts unknown = counts(100, 100);
    GroupCounts known = counts(100, 0);
    List<LiveGroupWindow> windows =
        List.of(
            window(LiveGroupWindow.ALL, all),
            window(LiveGroupWindow.UNKNOWN_GROUP, unknown),
            window(KNOWN, known));
    List<BiasAlert> alerts = new ArrayList<>();

    detect.process("echo/echo@1", detectContext(detect), windows, collector(alerts));

    assertThat(alerts)
        .as("strings no lexicon knows are no demographic group to compare with one")
        .isEmpty();
  }

  /** An invented group; some too long for any lexicon id, some with control characters. */
  private static String invented(int i) {
    return switch (i % 3) {
      case 0 -> "invented:" + i;
      case 1 -> "religion:muslim\n" + i;
      default -> "g".repeat(1_000) + "\u0000" + i;
    };
  }

  private static GroupCounts counts(long count, long unsafe) {
    GroupCounts counts = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    counts.count = count;
    counts.unsafeCount = unsafe;
    counts.blockCount = unsafe;
    return counts;
  }
}
