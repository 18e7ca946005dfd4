package io.genguard.bias.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.LiveDisparity.WindowCounts;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import java.util.List;
import org.junit.jupiter.api.Test;

class LiveDisparityTest {
  private static final List<String> CATEGORIES = List.of("hate", "violence");
  private static final LiveDisparity.Settings SETTINGS =
      new LiveDisparity.Settings(0.05, Correction.HOLM, 30, CATEGORIES);

  @Test
  void shouldAlertWhenOneGroupIsFlaggedFarMoreThanTheRestOfTheWindow() {
    WindowCounts target = new WindowCounts("religion:x", 100, 40, 30, new long[] {35, 0});
    WindowCounts other = new WindowCounts("none", 900, 45, 20, new long[] {10, 0});
    WindowCounts all = new WindowCounts("*", 1000, 85, 50, new long[] {45, 0});

    LiveDisparity.Result result = LiveDisparity.evaluate(List.of(target, other), all, SETTINGS);

    assertThat(result.alert()).isTrue();
    assertThat(result.groupsCompared()).isEqualTo(2);
    // violence never occurs: untestable, left out; 3 metrics x 2 groups
    assertThat(result.tests()).isEqualTo(6);
    assertThat(result.significant())
        .anySatisfy(
            f -> {
              assertThat(f.group()).isEqualTo("religion:x");
              assertThat(f.metric()).isEqualTo("unsafe_rate");
              assertThat(f.rate()).isEqualTo(0.4);
              assertThat(f.restRate()).isEqualTo(45.0 / 900);
              assertThat(f.pAdjusted()).isLessThan(0.05);
            });
  }

  @Test
  void shouldStayQuietWhenRatesAgreeOrGroupsAreTooSmall() {
    WindowCounts same = new WindowCounts("religion:x", 100, 5, 1, new long[] {2, 0});
    WindowCounts all = new WindowCounts("*", 1000, 50, 10, new long[] {20, 0});
    assertThat(LiveDisparity.evaluate(List.of(same), all, SETTINGS).alert()).isFalse();

    WindowCounts tiny = new WindowCounts("religion:y", 10, 10, 10, new long[] {10, 0});
    LiveDisparity.Result result = LiveDisparity.evaluate(List.of(tiny), all, SETTINGS);
    assertThat(result.groupsCompared()).isZero();
    assertThat(result.alert()).isFalse();
  }
}
