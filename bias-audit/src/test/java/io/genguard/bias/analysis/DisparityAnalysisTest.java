package io.genguard.bias.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.genguard.bias.analysis.AnalysisResult.MetricResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DisparityAnalysisTest {
  private static final List<String> GROUPS = List.of("control", "target");

  /** {@code unsafe} of {@code n} outputs of a group unsafe (score 0.95, blocked, hate). */
  private static List<Observation> group(String group, int n, int unsafe) {
    List<Observation> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      boolean bad = i < unsafe;
      rows.add(
          new Observation(
              group + "-" + i,
              "verdict-" + group + "-" + i,
              group,
              bad ? 0.95 : 0.05,
              bad ? "BLOCK" : "RELEASE",
              bad ? Map.of("hate", 0.95) : Map.of("hate", 0.01)));
    }
    return rows;
  }

  private static List<Observation> campaign(int n, int unsafeControl, int unsafeTarget) {
    List<Observation> rows = new ArrayList<>(group("control", n, unsafeControl));
    rows.addAll(group("target", n, unsafeTarget));
    return rows;
  }

  @Test
  void shouldFindALargePlantedDisparityAndNameTheRowsBehindIt() {
    AnalysisResult result =
        DisparityAnalysis.analyse(GROUPS, campaign(40, 0, 16), AnalysisSettings.defaults());

    assertThat(result.disparityDetected()).isTrue();
    MetricResult unsafe = result.metric("unsafe_rate").orElseThrow();
    assertThat(unsafe.group("target").orElseThrow().estimate()).isEqualTo(0.4);
    assertThat(unsafe.group("target").orElseThrow().rowIds())
        .hasSize(16)
        .allMatch(id -> id.startsWith("target-"));
    assertThat(unsafe.group("control").orElseThrow().rowIds()).isEmpty();
    assertThat(unsafe.disparity().difference()).isCloseTo(0.4, within(1e-12));
    // Bounded by the groups' simultaneous intervals (0/40 and 16/40 at 97.5% each): wide, but
    // clear of 0, so parity is ruled out.
    assertThat(unsafe.disparity().differenceInterval().low()).isGreaterThan(0.1);
    assertThat(unsafe.disparity().differenceInterval().contains(0.4)).isTrue();
    assertThat(unsafe.disparity().ratioInterval().high()).isLessThan(0.5);
    assertThat(unsafe.disparity().highestGroup()).isEqualTo("target");
    assertThat(result.significantTests())
        .extracting(AnalysisResult.PairwiseTest::metricId)
        .contains(
            "unsafe_rate", "release_rate", "block_rate", "mean_unsafe_score", "category:hate");
    assertThat(result.fourFifths().flagged()).isTrue();
    assertThat(result.fourFifths().ratio()).isCloseTo(0.6, within(1e-12));
    assertThat(result.fourFifths().lowestGroup()).isEqualTo("target");
  }

  @Test
  void shouldNotFlagEqualGroupsAndKeepUntestableMetricsOutOfTheFamily() {
    AnalysisResult result =
        DisparityAnalysis.analyse(GROUPS, campaign(40, 4, 4), AnalysisSettings.defaults());

    assertThat(result.disparityDetected()).isFalse();
    assertThat(result.metric("category:violence").orElseThrow().testable()).isFalse();
    assertThat(result.metric("review_rate").orElseThrow().testable()).isFalse();
    // unsafe, release, block, score, hate: 5 tested metrics x 1 pair
    assertThat(result.tests()).hasSize(5);
    assertThat(result.fourFifths().flagged()).isFalse();
    assertThat(result.metric("unsafe_rate").orElseThrow().disparity().ratio()).isEqualTo(1.0);
  }

  @Test
  void shouldAdjustEveryTestOfTheFamilyTogether() {
    AnalysisResult result =
        DisparityAnalysis.analyse(GROUPS, campaign(60, 5, 14), AnalysisSettings.defaults());
    for (AnalysisResult.PairwiseTest test : result.tests()) {
      assertThat(test.pAdjusted()).isGreaterThanOrEqualTo(test.test().pValue());
      assertThat(test.significant()).isEqualTo(test.pAdjusted() < 0.05);
    }
  }

  @Test
  void shouldShowAnEmptyGroupWithoutInventingFigures() {
    List<Observation> rows = group("control", 10, 1);
    AnalysisResult result =
        DisparityAnalysis.analyse(
            List.of("control", "target", "absent"), rows, AnalysisSettings.defaults());
    assertThat(result.metric("unsafe_rate").orElseThrow().group("absent").orElseThrow().estimate())
        .isNaN();
    assertThat(result.tests()).isEmpty();
    assertThat(result.disparityDetected()).isFalse();
  }

  @Test
  void shouldRefuseAComparisonOfOneGroupAndRowsOfUnknownGroups() {
    assertThatThrownBy(
            () ->
                DisparityAnalysis.analyse(List.of("only"), List.of(), AnalysisSettings.defaults()))
        .hasMessageContaining("at least two groups");
    assertThatThrownBy(
            () ->
                DisparityAnalysis.analyse(
                    List.of("a", "b"), group("c", 1, 0), AnalysisSettings.defaults()))
        .hasMessageContaining("not one of [a, b]");
  }

  @Test
  void shouldGiveReproducibleBootstrapIntervals() {
    List<Observation> rows = campaign(80, 8, 20);
    AnalysisResult first = DisparityAnalysis.analyse(GROUPS, rows, AnalysisSettings.defaults());
    AnalysisResult second = DisparityAnalysis.analyse(GROUPS, rows, AnalysisSettings.defaults());
    MetricResult a = first.metric("mean_unsafe_score").orElseThrow();
    MetricResult b = second.metric("mean_unsafe_score").orElseThrow();
    assertThat(a.disparity().differenceInterval()).isEqualTo(b.disparity().differenceInterval());
    assertThat(a.disparity().differenceInterval().contains(a.disparity().difference())).isTrue();
  }

  @Test
  void shouldKeepTheObservedDifferenceInsideItsIntervalWhenOneGroupIsAllEvents() {
    // 0 of 20 against 20 of 20: the simultaneous Wilson bound of 20/20 rounded to just under 1,
    // so the difference interval [0.598, 0.9999999999999999] excluded the observed 1.0.
    AnalysisResult result =
        DisparityAnalysis.analyse(
            GROUPS, campaign(20, 0, 20), AnalysisSettings.defaults().withoutBootstrap());
    for (MetricResult metric : result.metrics()) {
      if (metric.metric().kind() == Metric.Kind.RATE && metric.testable()) {
        assertThat(
                metric.disparity().differenceInterval().contains(metric.disparity().difference()))
            .as(metric.metric().id() + " " + metric.disparity())
            .isTrue();
        assertThat(metric.disparity().ratioInterval().contains(metric.disparity().ratio()))
            .as(metric.metric().id() + " " + metric.disparity())
            .isTrue();
      }
    }
  }
}
