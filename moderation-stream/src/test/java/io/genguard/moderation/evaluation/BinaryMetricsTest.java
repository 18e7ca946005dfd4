package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BinaryMetricsTest {
  private final double[] scores = {0.1, 0.4, 0.35, 0.8};
  private final boolean[] labels = {false, false, true, true};

  @Test
  void shouldComputeAveragePrecisionLikeScikitLearn() {
    // sklearn.metrics.average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.8333...
    assertThat(BinaryMetrics.averagePrecision(scores, labels)).isCloseTo(0.8333, offset(1e-4));
  }

  @Test
  void shouldComputeRocAuc() {
    assertThat(BinaryMetrics.rocAuc(scores, labels)).isCloseTo(0.75, offset(1e-9));
  }

  @Test
  void shouldTreatTiedScoresAsOneStep() {
    double[] tied = {0.5, 0.5, 0.5, 0.5};
    assertThat(BinaryMetrics.averagePrecision(tied, labels)).isCloseTo(0.5, offset(1e-9));
    assertThat(BinaryMetrics.rocAuc(tied, labels)).isCloseTo(0.5, offset(1e-9));
  }

  @Test
  void shouldCountFlagsAtAThreshold() {
    var confusion = BinaryMetrics.confusionAt(scores, labels, 0.38);
    assertThat(confusion).isEqualTo(new BinaryMetrics.Confusion(1, 1, 1, 1));
    assertThat(confusion.f1()).isCloseTo(0.5, offset(1e-9));
    assertThat(confusion.falsePositiveRate()).isCloseTo(0.5, offset(1e-9));
  }

  @Test
  void shouldRefuseANonFiniteScoreInsteadOfLoopingForever() {
    // A NaN equals nothing, so the tie-group loop never consumed it: a diverged trainer's
    // out-of-fold margins hung the train command instead of failing it.
    boolean[] twoLabels = {true, false};
    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
      double[] withBad = {bad, 0.5};
      assertTimeoutPreemptively(
          Duration.ofSeconds(1),
          () ->
              assertThrows(
                  IllegalArgumentException.class,
                  () -> BinaryMetrics.averagePrecision(withBad, twoLabels)));
      assertTimeoutPreemptively(
          Duration.ofSeconds(1),
          () ->
              assertThrows(
                  IllegalArgumentException.class, () -> BinaryMetrics.rocAuc(withBad, twoLabels)));
    }
  }
}
