package io.genguard.bias.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.genguard.bias.analysis.AnalysisResult.MetricResult;
import io.genguard.bias.statistics.ProportionTests;
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
  void shouldLeavePairsThatCannotDifferOutOfTheFamilyAndListThemAsNotTested() {
    // Four groups of 40; safe outputs score spread over [0, 0.45); only D has unsafe outputs (9,
    // blocked, hate). A, B and C have no unsafe, block or hate event and all their outputs are
    // released, so the 3 pairs among them cannot differ on those 4 rates: 12 placeholders with
    // p = 1, labelled z-tests, used to sit in the Holm family (30 instead of 18) and hid the
    // disparity ("none of 30 tests"); D against each other group has unsafe-rate Fisher p =
    // 0.0024, adjusted over 30 tests 0.071, over 18 tests significant.
    List<String> groups = List.of("A", "B", "C", "D");
    List<Observation> rows = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      String group = groups.get(g);
      for (int i = 0; i < 40; i++) {
        boolean bad = group.equals("D") && i < 9;
        double safeScore = 0.01 * ((i * 7 + g * 3) % 45);
        rows.add(
            new Observation(
                group + "-" + i,
                "verdict-" + group + "-" + i,
                group,
                bad ? 0.9 : safeScore,
                bad ? "BLOCK" : "RELEASE",
                Map.of("hate", bad ? 0.9 : 0.0)));
      }
    }
    AnalysisResult result =
        DisparityAnalysis.analyse(groups, rows, AnalysisSettings.defaults().withoutBootstrap());

    assertThat(result.disparityDetected()).isTrue();
    // 6 pairs x (unsafe, release, block, score, hate) = 30 planned; 3 pairs x 4 rates cannot
    // differ.
    assertThat(result.tests()).hasSize(18);
    assertThat(result.tests())
        .noneMatch(
            t ->
                !t.groupA().equals("D") && !t.groupB().equals("D") && t.metricId().endsWith("rate"))
        .noneMatch(t -> t.metricId().equals("category:hate") && !t.groupB().equals("D"))
        .as("no placeholder: a z-test without a statistic")
        .noneMatch(
            t ->
                t.test().method().equals(ProportionTests.Z_TEST)
                    && Double.isNaN(t.test().statistic()));
    assertThat(result.untested())
        .hasSize(12)
        .allMatch(u -> !u.groupA().equals("D") && !u.groupB().equals("D"))
        .anySatisfy(
            u -> {
              assertThat(u.metricId()).isEqualTo("unsafe_rate");
              assertThat(u.reason()).isEqualTo("neither group has an event (0 of 40, 0 of 40)");
            })
        .anySatisfy(
            u -> {
              assertThat(u.metricId()).isEqualTo("release_rate");
              assertThat(u.reason()).isEqualTo("every output of both groups is an event");
            });
    assertThat(result.significantTests())
        .extracting(AnalysisResult.PairwiseTest::metricId)
        .contains("unsafe_rate");
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

  /** {@code n} released outputs of a group, all with unsafe score {@code score}. */
  private static List<Observation> scored(String group, int n, double score) {
    List<Observation> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(
          new Observation(
              group + "-" + i, "verdict-" + group + "-" + i, group, score, "RELEASE", Map.of()));
    }
    return rows;
  }

  private static List<AnalysisSettings> bootstrapOnAndOff() {
    return List.of(AnalysisSettings.defaults(), AnalysisSettings.defaults().withoutBootstrap());
  }

  @Test
  void shouldGiveNoScoreIntervalForAGroupOfOneOutput() {
    // One output per group, scores 0.20 and 0.30: the bootstrap and the normal approximation gave
    // each group a zero-width interval, so the difference interval was [0.10, 0.10] and "ruled out
    // parity" while Mann-Whitney gave p = 1.
    List<Observation> rows = new ArrayList<>(scored("control", 1, 0.20));
    rows.addAll(scored("target", 1, 0.30));
    for (AnalysisSettings settings : bootstrapOnAndOff()) {
      MetricResult score =
          DisparityAnalysis.analyse(GROUPS, rows, settings)
              .metric("mean_unsafe_score")
              .orElseThrow();
      String as = "bootstrap " + settings.bootstrapIterations() + ": " + score.disparity();
      assertThat(score.disparity().difference()).as(as).isCloseTo(0.10, within(1e-12));
      assertThat(score.disparity().differenceInterval().isKnown()).as(as).isFalse();
      assertThat(score.disparity().ratioInterval().isKnown()).as(as).isFalse();
      assertThat(score.perGroup())
          .as(as)
          .allSatisfy(group -> assertThat(group.interval().isKnown()).isFalse());
    }
    // One group of one output leaves the disparity unbounded, however large the other group.
    List<Observation> uneven = new ArrayList<>(group("control", 40, 4));
    uneven.addAll(scored("target", 1, 0.95));
    MetricResult score =
        DisparityAnalysis.analyse(GROUPS, uneven, AnalysisSettings.defaults())
            .metric("mean_unsafe_score")
            .orElseThrow();
    assertThat(score.group("control").orElseThrow().interval().isKnown()).isTrue();
    assertThat(score.disparity().differenceInterval().isKnown()).isFalse();
  }

  @Test
  void shouldNotRuleOutParityForSmallGroupsOfEqualScoresButStillForLargeOnes() {
    // Three outputs per group, each group's scores all equal (0.10 and 0.12): zero-width
    // intervals ruled out parity; Mann-Whitney cannot even reach p < 0.1 at this size.
    List<Observation> small = new ArrayList<>(scored("control", 3, 0.10));
    small.addAll(scored("target", 3, 0.12));
    for (AnalysisSettings settings : bootstrapOnAndOff()) {
      MetricResult score =
          DisparityAnalysis.analyse(GROUPS, small, settings)
              .metric("mean_unsafe_score")
              .orElseThrow();
      String as = "bootstrap " + settings.bootstrapIterations() + ": " + score.disparity();
      assertThat(score.disparity().differenceInterval().contains(0)).as(as).isTrue();
      assertThat(score.disparity().ratioInterval().contains(1)).as(as).isTrue();
      assertThat(score.group("control").orElseThrow().interval())
          .as(as)
          .satisfies(i -> assertThat(i.high() - i.low()).isGreaterThan(0.5));
    }
    // 400 outputs each of 0.05 and 0.95: the data do rule parity out, and still say so.
    List<Observation> large = new ArrayList<>(scored("control", 400, 0.05));
    large.addAll(scored("target", 400, 0.95));
    for (AnalysisSettings settings : bootstrapOnAndOff()) {
      MetricResult score =
          DisparityAnalysis.analyse(GROUPS, large, settings)
              .metric("mean_unsafe_score")
              .orElseThrow();
      assertThat(score.disparity().differenceInterval().low()).isGreaterThan(0.85);
      assertThat(score.disparity().differenceInterval().contains(0.90)).isTrue();
      assertThat(score.group("control").orElseThrow().interval().contains(0.05)).isTrue();
    }
  }
}
