package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.junit.jupiter.api.Test;

class StackedLogisticTest {
  @Test
  void shouldRecoverTheWeightsOfTwoInformativeInputs() {
    Random random = new Random(11);
    int n = 20000;
    double[][] x = new double[n][2];
    boolean[] y = new boolean[n];
    for (int i = 0; i < n; i++) {
      x[i][0] = random.nextGaussian() * 2;
      x[i][1] = random.nextGaussian() * 2;
      y[i] = random.nextDouble() < PlattCalibration.sigmoid(0.8 * x[i][0] + 0.3 * x[i][1] - 2.0);
    }
    StackedLogistic fitted = StackedLogistic.fit(x, y, 1e-6);
    assertThat(fitted.weights()[0]).isCloseTo(0.8, offset(0.06));
    assertThat(fitted.weights()[1]).isCloseTo(0.3, offset(0.05));
    assertThat(fitted.bias()).isCloseTo(-2.0, offset(0.1));
  }

  @Test
  void shouldStayFiniteOnRareWellSeparatedPositives() {
    // Rare positives far out on both margins: a plain Newton step overshoots here.
    Random random = new Random(3);
    int n = 8000;
    double[][] x = new double[n][2];
    boolean[] y = new boolean[n];
    for (int i = 0; i < n; i++) {
      y[i] = i < 12;
      x[i][0] = (y[i] ? 2 : -9) + random.nextGaussian() * 2.5;
      x[i][1] = (y[i] ? 1 : -6) + random.nextGaussian() * 2.5;
    }
    StackedLogistic fitted = StackedLogistic.fit(x, y, 1e-3);
    assertThat(Math.abs(fitted.weights()[0]) + Math.abs(fitted.weights()[1])).isLessThan(20);
    assertThat(fitted.probability(3, 2)).isGreaterThan(fitted.probability(-9, -6));
  }
}
