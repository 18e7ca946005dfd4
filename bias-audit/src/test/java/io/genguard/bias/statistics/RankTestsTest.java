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
}
