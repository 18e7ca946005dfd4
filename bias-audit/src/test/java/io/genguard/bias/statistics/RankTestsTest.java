package io.genguard.bias.statistics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Reference values from SciPy 1.17 (mannwhitneyu asymptotic with continuity, kruskal). */
class RankTestsTest {
  private static final double[] A = {0.1, 0.2, 0.2, 0.5, 0.9, 0.3, 0.05};
  private static final double[] B = {0.4, 0.6, 0.6, 0.8, 0.95, 0.2, 0.7, 0.99};

  @Test
  void shouldMatchMannWhitneyWithTieAndContinuityCorrections() {
    RankTests.MannWhitney result = RankTests.mannWhitney(A, B);
    assertThat(result.u()).isEqualTo(10.0);
    assertThat(result.test().pValue()).isCloseTo(0.04191796379510319, within(1e-12));
    assertThat(result.probabilityAGreater()).isCloseTo(10.0 / 56, within(1e-12));
  }

  @Test
  void shouldMatchKruskalWallis() {
    TestResult result = RankTests.kruskalWallis(new double[][] {A, B, {0.5, 0.5, 0.6, 0.1}});
    assertThat(result.statistic()).isCloseTo(5.382716440613512, within(1e-9));
    assertThat(result.pValue()).isCloseTo(0.06778880468522999, within(1e-9));
  }

  @Test
  void shouldNotTestScoresThatAreAllTheSame() {
    assertThat(RankTests.mannWhitney(new double[] {0, 0}, new double[] {0, 0, 0}).test().pValue())
        .isEqualTo(1.0);
    assertThat(RankTests.mannWhitney(new double[0], B).test().pValue()).isEqualTo(1.0);
  }

  @Test
  void shouldNotOverflowForGroupsOfMoreThan46340Scores() {
    // n1 * (n1 + 1) overflowed int from n1 = 46341: U came out near 2^32, the effect size far
    // above 1 and p ~ 0 for two identical samples.
    int n = 50_000;
    double[] a = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = (i % 100) / 100.0;
      b[i] = (i % 100) / 100.0;
    }
    RankTests.MannWhitney result = RankTests.mannWhitney(a, b);
    assertThat(result.u()).isCloseTo((double) n * n / 2, within(1e-6));
    assertThat(result.probabilityAGreater()).isCloseTo(0.5, within(1e-12));
    assertThat(result.test().pValue()).isEqualTo(1.0);
  }
}
