package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PlattCalibrationTest {
  @Test
  void shouldRecoverTheSlopeAndInterceptOfALogisticModel() {
    Random random = new Random(7);
    int n = 20000;
    double[] margins = new double[n];
    boolean[] labels = new boolean[n];
    for (int i = 0; i < n; i++) {
      margins[i] = random.nextGaussian() * 3;
      labels[i] = random.nextDouble() < PlattCalibration.sigmoid(0.5 * margins[i] - 1.0);
    }
    PlattCalibration fitted = PlattCalibration.fit(margins, labels);
    assertThat(fitted.a()).isCloseTo(0.5, offset(0.05));
    assertThat(fitted.b()).isCloseTo(-1.0, offset(0.08));
  }

  @Test
  void shouldRefuseToFitWithoutBothClasses() {
    assertThatThrownBy(() -> PlattCalibration.fit(new double[] {1, 2}, new boolean[] {true, true}))
        .hasMessageContaining("0 negatives");
  }
}
