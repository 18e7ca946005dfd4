package io.genguard.bias.job;

import static io.genguard.bias.job.LiveWindowHarnesses.collector;
import static io.genguard.bias.job.LiveWindowHarnesses.detectContext;
import static io.genguard.bias.job.LiveWindowHarnesses.window;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.analysis.LiveDisparity;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import io.genguard.events.v1.BiasMetric;
import io.genguard.schemas.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.TaskInfoImpl;
import org.apache.flink.api.common.functions.DefaultOpenContext;
import org.apache.flink.api.common.functions.util.RuntimeUDFContext;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

/**
 * Bias state restored from a build that counted another list of categories (a savepoint taken
 * before a release that adds or removes one): counts are read by position, padded with zeros or
 * trimmed to this build's list, never an {@link ArrayIndexOutOfBoundsException} on every restart.
 */
class RestoredCategoryCountsTest {
  /** This build's categories plus one at the end, as a release that adds a category has them. */
  private static final List<String> ONE_MORE = withExtremism(AnalysisSettings.DEFAULT_CATEGORIES);

  private static final List<String> ONE_FEWER =
      AnalysisSettings.DEFAULT_CATEGORIES.subList(
          0, AnalysisSettings.DEFAULT_CATEGORIES.size() - 1);

  private static final int HATE = AnalysisSettings.DEFAULT_CATEGORIES.indexOf("hate");
  private static final int EXTREMISM = ONE_MORE.indexOf("extremism");

  @Test
  void
      shouldPublishCampaignTotalsRestoredWithSevenCountsUnderEightCategoriesWithZeroForTheNewOne() {
    GroupCounts restored = countsOfSevenCategories();

    BiasMetric metric =
        Topics.BIAS_METRICS
            .codec()
            .decode(
                BiasMetrics.campaign(
                        Topics.BIAS_METRICS.codec(), "t", "c", "g", restored, ONE_MORE, 0L)
                    .value);

    assertThat(metric.getCategoryCounts()).hasSize(8).containsEntry("hate", 2L);
    assertThat(metric.getCategoryCounts())
        .as("nothing was counted under the new category before the upgrade")
        .containsEntry("extremism", 0L);
  }

  @Test
  void shouldPublishCampaignTotalsRestoredWithACategoryThisBuildNoLongerCountsWithoutIt() {
    GroupCounts restored = countsOfSevenCategories();

    BiasMetric metric =
        Topics.BIAS_METRICS
            .codec()
            .decode(
                BiasMetrics.campaign(
                        Topics.BIAS_METRICS.codec(), "t", "c", "g", restored, ONE_FEWER, 0L)
                    .value);

    assertThat(metric.getCategoryCounts()).hasSize(6).containsEntry("hate", 2L);
  }

  @Test
  void shouldCountTheNewCategoryInALiveWindowOpenAcrossTheUpgradeFromTheUpgradeOn() {
    GroupCounts accumulator = countsOfSevenCategories();
    VerdictFacts verdict = new VerdictFacts();
    verdict.decision = "REVIEW";
    verdict.model = "echo/echo@1";
    verdict.categoryFlags = 1 << EXTREMISM | 1 << HATE;

    Map<String, GroupCounts> restored = new HashMap<>(Map.of(LiveGroupWindow.ALL, accumulator));
    GroupCounts counted =
        new LiveWindowFunctions.CountGroups(ONE_MORE)
            .add(verdict, restored)
            .get(LiveGroupWindow.ALL);
    LiveWindowFunctions.EncodeLiveMetric encode =
        new LiveWindowFunctions.EncodeLiveMetric(ONE_MORE);
    encode.open(null);
    BiasMetric metric = Topics.BIAS_METRICS.codec().decode(encode.map(window("*", counted)).value);

    assertThat(metric.getCount()).isEqualTo(4);
    assertThat(metric.getCategoryCounts())
        .containsEntry("hate", 3L)
        .as("the verdict read after the upgrade counts under the new category")
        .containsEntry("extremism", 1L);
  }

  @Test
  void shouldMergeCountsOfDifferentLengthsToThisBuildsList() {
    GroupCounts restored = countsOfSevenCategories();
    GroupCounts current = GroupCounts.empty(ONE_MORE.size());
    current.count = 1;
    current.categoryCounts[EXTREMISM] = 1;

    GroupCounts merged =
        new LiveWindowFunctions.CountGroups(ONE_MORE)
            .merge(Map.of("*", restored), Map.of("*", current))
            .get("*");

    assertThat(merged.count).isEqualTo(4);
    assertThat(merged.categoryCounts).hasSize(8);
    assertThat(merged.categoryCounts[HATE]).isEqualTo(2);
    assertThat(merged.categoryCounts[EXTREMISM]).isEqualTo(1);
  }

  @Test
  void shouldTestAWindowRestoredWithSevenCountsUnderEightCategories() throws Exception {
    LiveWindowFunctions.DetectDisparity detect =
        new LiveWindowFunctions.DetectDisparity(
            new LiveDisparity.Settings(0.05, Correction.HOLM, 5, ONE_MORE));
    List<LiveGroupWindow> windows = new ArrayList<>();
    GroupCounts all = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    all.count = 200;
    all.unsafeCount = 40;
    all.blockCount = 40;
    all.categoryCounts[HATE] = 40;
    GroupCounts group = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    group.count = 40;
    group.unsafeCount = 30;
    group.blockCount = 30;
    group.categoryCounts[HATE] = 30;
    GroupCounts other = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    other.count = 40;
    other.unsafeCount = 2;
    other.blockCount = 2;
    other.categoryCounts[HATE] = 2;
    all.unsafeCount += 2;
    all.blockCount += 2;
    all.categoryCounts[HATE] += 2;
    windows.add(window("*", all));
    windows.add(window("religion:x", group));
    windows.add(window("religion:y", other));
    List<BiasAlert> alerts = new ArrayList<>();

    detect.process("echo/echo@1", detectContext(detect), windows, collector(alerts));

    assertThat(alerts).as("the planted disparity is still found").hasSize(1);
    assertThat(alerts.get(0).findings).contains("religion:x").doesNotContain("extremism");
  }

  @Test
  void shouldCountAndSkipAWindowWhoseCountsDoNotAddUpInsteadOfFailingTheJob() throws Exception {
    LiveWindowFunctions.DetectDisparity detect =
        new LiveWindowFunctions.DetectDisparity(
            new LiveDisparity.Settings(
                0.05, Correction.HOLM, 5, AnalysisSettings.DEFAULT_CATEGORIES));
    detect.setRuntimeContext(
        new RuntimeUDFContext(
            new TaskInfoImpl("detect", 1, 0, 1, 0),
            getClass().getClassLoader(),
            new ExecutionConfig(),
            Map.of(),
            Map.of(),
            UnregisteredMetricsGroup.createOperatorMetricGroup()));
    detect.open(DefaultOpenContext.INSTANCE);
    GroupCounts all = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    all.count = 100;
    GroupCounts group = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    group.count = 50;
    group.categoryCounts[EXTREMISM - 1] = 1; // a category the whole window never counted
    GroupCounts other = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    other.count = 50;
    List<LiveGroupWindow> windows =
        new ArrayList<>(
            List.of(window("*", all), window("religion:x", group), window("religion:y", other)));
    List<BiasAlert> alerts = new ArrayList<>();

    detect.process("echo/echo@1", detectContext(detect), windows, collector(alerts));
    // Two results for the whole window (windows of two lengths, after a restore).
    windows.set(1, window("*", all));
    detect.process("echo/echo@1", detectContext(detect), windows, collector(alerts));

    assertThat(alerts).isEmpty();
    assertThat(detect.inconsistent.getCount()).isEqualTo(2);
  }

  @Test
  void shouldKeepTheCategoryListInTheOrderOlderStateCountedIt() {
    // Counts in state are read by position: a release may add categories at the end of the list
    // (or drop its last ones), never insert, reorder or rename one before an existing one.
    assertThat(AnalysisSettings.DEFAULT_CATEGORIES)
        .startsWith(
            "hate", "harassment", "sexual", "sexual_minors", "violence", "self_harm", "illicit");
  }

  /** Totals of three verdicts as a savepoint of this build holds them: seven category counts. */
  private static GroupCounts countsOfSevenCategories() {
    GroupCounts counts = GroupCounts.empty(AnalysisSettings.DEFAULT_CATEGORIES.size());
    counts.model = "echo/echo@1";
    counts.count = 3;
    counts.categoryCounts[HATE] = 2;
    counts.firstDecidedAt = 1;
    counts.lastDecidedAt = 2;
    return counts;
  }

  private static List<String> withExtremism(List<String> categories) {
    List<String> next = new ArrayList<>(categories);
    next.add("extremism");
    return List.copyOf(next);
  }
}
