package io.genguard.bias.statistics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Reference values from SciPy 1.17 (stats.norm, fisher_exact, chi2_contingency, binomtest). */
class ProportionTestsTest {
  @Test
  void shouldMatchThePooledTwoProportionZTest() {
    TestResult result = ProportionTests.compare(30, 200, 50, 200);
    assertThat(result.method()).isEqualTo(ProportionTests.Z_TEST);
    assertThat(result.statistic()).isCloseTo(-2.5, within(1e-12));
    assertThat(result.pValue()).isCloseTo(0.012419330651552265, within(1e-12));
  }

  @Test
  void shouldUseFishersExactTestWhenAnExpectedCountIsBelowFive() {
    TestResult result = ProportionTests.compare(1, 10, 6, 10);
    assertThat(result.method()).isEqualTo(ProportionTests.FISHER);
    assertThat(result.pValue()).isCloseTo(0.057275541795665644, within(1e-12));
  }

  @Test
  void shouldMatchPearsonsChiSquareAcrossThreeGroups() {
    TestResult result =
        ProportionTests.chiSquare(new long[] {10, 20, 35}, new long[] {100, 100, 100});
    assertThat(result.statistic()).isCloseTo(18.657937806873978, within(1e-9));
    assertThat(result.pValue()).isCloseTo(8.881376546901695e-05, within(1e-12));
  }

  @Test
  void shouldCallNothingTestableWithoutEventsOrWithoutAGroup() {
    assertThat(ProportionTests.compare(0, 50, 0, 50).pValue()).isEqualTo(1.0);
    assertThat(ProportionTests.compare(50, 50, 50, 50).pValue()).isEqualTo(1.0);
    assertThat(ProportionTests.compare(3, 10, 0, 0).pValue()).isEqualTo(1.0);
    assertThat(ProportionTests.chiSquare(new long[] {3, 0}, new long[] {10, 0}).pValue())
        .isEqualTo(1.0);
  }

  @Test
  void shouldStayAccurateFarIntoTheTail() {
    // 1 - cdf would round to 0 here; erfc keeps the magnitude a Holm correction needs.
    TestResult result = ProportionTests.compare(0, 5000, 400, 5000);
    assertThat(result.pValue()).isPositive().isLessThan(1e-80);
  }

  @Test
  void shouldRejectCountsThatCannotBe() {
    assertThatThrownBy(() -> ProportionTests.compare(11, 10, 1, 10))
        .hasMessageContaining("between 0 and trials");
  }

  @Test
  void shouldMatchTheWilsonScoreInterval() {
    Interval interval = Proportions.wilson(7, 50, 0.95);
    assertThat(interval.low()).isCloseTo(0.06950833427016292, within(1e-9));
    assertThat(interval.high()).isCloseTo(0.26186193710585537, within(1e-9));
    Interval none = Proportions.wilson(0, 20, 0.95);
    assertThat(none.low()).isZero();
    assertThat(none.high()).isCloseTo(0.16112515805281935, within(1e-9));
    assertThat(Proportions.wilson(0, 0, 0.95).isKnown()).isFalse();
  }

  @Test
  void shouldAlwaysContainTheObservedRateInTheWilsonInterval() {
    // In exact arithmetic the Wilson bounds of 0/n and n/n are 0 and 1; in floating point
    // centre + half came out as 0.9999999999999999 (e.g. 20 of 20 at 97.5%), an interval that
    // excludes its own estimate (and a disparity interval that excluded the observed difference).
    for (double confidence : new double[] {0.9, 0.95, 0.975, 0.9833333333333333, 0.99}) {
      for (int n = 1; n <= 500; n++) {
        for (int x : new int[] {0, 1, n / 2, n - 1, n}) {
          if (x < 0 || x > n) {
            continue;
          }
          Interval interval = Proportions.wilson(x, n, confidence);
          assertThat(interval.contains((double) x / n))
              .as("%d of %d at %s: %s", x, n, confidence, interval)
              .isTrue();
        }
      }
    }
    assertThat(Proportions.wilson(20, 20, 0.975).high()).isEqualTo(1.0);
    assertThat(Proportions.wilson(0, 20, 0.975).low()).isEqualTo(0.0);
  }
}
