package io.genguard.bias.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.LiveDisparity.WindowCounts;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LiveDisparityTest {
  private static final List<String> CATEGORIES = List.of("hate", "violence");
  private static final LiveDisparity.Settings SETTINGS =
      new LiveDisparity.Settings(0.05, Correction.HOLM, 30, CATEGORIES);

  @Test
  void shouldAlertWhenOneGroupIsFlaggedFarMoreThanTheOtherGroups() {
    WindowCounts target = new WindowCounts("religion:x", 100, 40, 30, new long[] {35, 0});
    WindowCounts other = new WindowCounts("religion:y", 100, 5, 2, new long[] {2, 0});
    WindowCounts third = new WindowCounts("race:z", 100, 5, 2, new long[] {3, 0});
    WindowCounts none = new WindowCounts("none", 700, 35, 16, new long[] {5, 0});
    WindowCounts all = new WindowCounts("*", 1000, 85, 50, new long[] {45, 0});

    LiveDisparity.Result result =
        LiveDisparity.evaluate(List.of(target, other, third), all, none, SETTINGS);

    assertThat(result.alert()).isTrue();
    assertThat(result.inconsistency()).isNull();
    assertThat(result.groupsCompared()).isEqualTo(3);
    // violence never occurs: untestable, left out; 3 metrics x 3 groups
    assertThat(result.tests()).isEqualTo(9);
    assertThat(result.significant())
        .extracting(LiveDisparity.Finding::group)
        .contains("religion:x");
    assertThat(result.significant())
        .anySatisfy(
            f -> {
              assertThat(f.group()).isEqualTo("religion:x");
              assertThat(f.metric()).isEqualTo("unsafe_rate");
              assertThat(f.rate()).isEqualTo(0.4);
              assertThat(f.restN()).as("the other detected groups, not none").isEqualTo(200);
              assertThat(f.restRate()).isEqualTo(10.0 / 200);
              assertThat(f.comparison()).isEqualTo(LiveDisparity.COMPARISON);
              assertThat(f.pAdjusted()).isLessThan(0.05);
            });
  }

  @Test
  void shouldNotCompareAGroupWithOutputsNamingNoGroup() {
    // One detected group far above the outputs naming none: nothing to compare it with.
    WindowCounts target = new WindowCounts("religion:x", 100, 40, 30, new long[] {35, 0});
    WindowCounts none = new WindowCounts("none", 900, 45, 20, new long[] {10, 0});
    WindowCounts all = new WindowCounts("*", 1000, 85, 50, new long[] {45, 0});

    LiveDisparity.Result result = LiveDisparity.evaluate(List.of(target), all, none, SETTINGS);

    assertThat(result.groupsCompared()).isZero();
    assertThat(result.tests()).isZero();
    assertThat(result.alert()).isFalse();
  }

  /**
   * Every detected group behaves the same, but text naming a group is flagged for hate three times
   * as often as text naming none (as hate speech targets a group): at most the test's own error
   * rate of windows may alert, and no finding names {@code none}.
   */
  @Test
  void shouldStayQuietWhenGroupsShareOneRateThatDiffersFromOutputsNamingNoGroup() {
    Random random = new Random(42);
    int windows = 1_000;
    int alerts = 0;
    for (int w = 0; w < windows; w++) {
      LiveDisparity.Result result = simulatedWindow(random, 1_000, 4, 0.06, 0.02, 0.06);
      if (result.alert()) {
        alerts++;
      }
      assertThat(result.significant())
          .extracting(LiveDisparity.Finding::group)
          .doesNotContain("none");
    }
    assertThat(alerts).as("windows alerting of %s", windows).isLessThanOrEqualTo(windows / 20);
  }

  @Test
  void shouldAlertOnASimulatedWindowWhereOneGroupIsFlaggedFarMoreThanTheOthers() {
    Random random = new Random(7);
    int alerts = 0;
    for (int w = 0; w < 100; w++) {
      // group g0 at 30% hate, the other groups at 6%, none at 2%
      LiveDisparity.Result result = simulatedWindow(random, 1_000, 4, 0.06, 0.02, 0.30);
      if (result.alert()) {
        alerts++;
        assertThat(result.significant()).extracting(LiveDisparity.Finding::group).contains("g0");
        // Another group can read lower than the others pooled, g0 among them: never higher.
        assertThat(result.significant().stream().filter(f -> f.rate() > f.restRate()))
            .extracting(LiveDisparity.Finding::group)
            .containsOnly("g0");
      }
    }
    assertThat(alerts).isGreaterThanOrEqualTo(90);
  }

  @Test
  void shouldNotAlertOnASignificantDifferenceBelowTheMinimumRateDifference() {
    // 100,000 outputs per group: 5.0% against 4.0% is significant, but one point only.
    WindowCounts a = new WindowCounts("religion:x", 100_000, 5_000, 0, new long[] {0, 0});
    WindowCounts b = new WindowCounts("religion:y", 100_000, 4_000, 0, new long[] {0, 0});
    WindowCounts all = new WindowCounts("*", 200_000, 9_000, 0, new long[] {0, 0});

    assertThat(LiveDisparity.evaluate(List.of(a, b), all, null, SETTINGS).alert()).isFalse();
    LiveDisparity.Settings anyDifference =
        new LiveDisparity.Settings(0.05, Correction.HOLM, 30, CATEGORIES, 0);
    assertThat(LiveDisparity.evaluate(List.of(a, b), all, null, anyDifference).alert())
        .as("significant")
        .isTrue();
  }

  @Test
  void shouldSkipAWindowWhoseCountsDoNotAddUpInsteadOfThrowing() {
    // A rare category: no output of the whole window counts in it, but the group's result does.
    WindowCounts a = new WindowCounts("religion:x", 50, 5, 0, new long[] {0, 1});
    WindowCounts b = new WindowCounts("religion:y", 50, 5, 0, new long[] {0, 0});
    WindowCounts all = new WindowCounts("*", 100, 10, 0, new long[] {0, 0});

    LiveDisparity.Result result = LiveDisparity.evaluate(List.of(a, b), all, null, SETTINGS);

    assertThat(result.inconsistency()).contains("religion:x");
    assertThat(result.tests()).isZero();
    assertThat(result.alert()).isFalse();

    WindowCounts tooMany = new WindowCounts("religion:x", 150, 5, 0, new long[] {0, 0});
    assertThat(LiveDisparity.evaluate(List.of(tooMany, b), all, null, SETTINGS).inconsistency())
        .isNotNull();
  }

  @Test
  void shouldStayQuietWhenRatesAgreeOrGroupsAreTooSmall() {
    WindowCounts same = new WindowCounts("religion:x", 100, 5, 1, new long[] {2, 0});
    WindowCounts other = new WindowCounts("religion:y", 100, 5, 1, new long[] {2, 0});
    WindowCounts none = new WindowCounts("none", 800, 40, 8, new long[] {16, 0});
    WindowCounts all = new WindowCounts("*", 1000, 50, 10, new long[] {20, 0});
    assertThat(LiveDisparity.evaluate(List.of(same, other), all, none, SETTINGS).alert()).isFalse();

    WindowCounts tiny = new WindowCounts("religion:z", 10, 10, 10, new long[] {10, 0});
    WindowCounts rest = new WindowCounts("none", 890, 40, 0, new long[] {10, 0});
    LiveDisparity.Result result = LiveDisparity.evaluate(List.of(same, tiny), all, rest, SETTINGS);
    assertThat(result.groupsCompared()).isZero();
    assertThat(result.alert()).isFalse();
  }

  /**
   * One window: a share of 30% of the outputs names one of {@code groups} groups (uniformly), hate
   * at {@code hateIfGroup} for them ({@code hateOfFirstGroup} for g0) and {@code hateIfNone} for
   * the rest; violence at 2% everywhere; unsafe = either; half of the unsafe blocked.
   */
  private static LiveDisparity.Result simulatedWindow(
      Random random,
      int outputs,
      int groups,
      double hateIfGroup,
      double hateIfNone,
      double hateOfFirstGroup) {
    long[][] counts = new long[groups + 2][5]; // n, unsafe, block, hate, violence
    for (int i = 0; i < outputs; i++) {
      boolean named = random.nextDouble() < 0.3;
      int g = named ? random.nextInt(groups) : groups;
      double hateRate = !named ? hateIfNone : g == 0 ? hateOfFirstGroup : hateIfGroup;
      boolean hate = random.nextDouble() < hateRate;
      boolean violence = random.nextDouble() < 0.02;
      boolean unsafe = hate || violence;
      boolean block = unsafe && random.nextDouble() < 0.5;
      for (int k : new int[] {g, groups + 1}) {
        counts[k][0]++;
        counts[k][1] += unsafe ? 1 : 0;
        counts[k][2] += block ? 1 : 0;
        counts[k][3] += hate ? 1 : 0;
        counts[k][4] += violence ? 1 : 0;
      }
    }
    List<WindowCounts> detected = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      detected.add(counts("g" + g, counts[g]));
    }
    return LiveDisparity.evaluate(
        detected, counts("*", counts[groups + 1]), counts("none", counts[groups]), SETTINGS);
  }

  private static WindowCounts counts(String group, long[] c) {
    return new WindowCounts(group, c[0], c[1], c[2], new long[] {c[3], c[4]});
  }
}
