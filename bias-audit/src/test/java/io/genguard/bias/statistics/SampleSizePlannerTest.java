package io.genguard.bias.statistics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Reference values from the same formula evaluated with SciPy's normal quantiles. */
class SampleSizePlannerTest {
  @Test
  void shouldRecommendTheDocumentedSizeForFivePointsOverTenPercent() {
    int family = SampleSizePlanner.familySize(2, SampleSizePlanner.TESTED_METRICS);
    assertThat(family).isEqualTo(11);
    assertThat(SampleSizePlanner.perGroup(0.10, 0.05, 0.05, 0.90, family)).isEqualTo(1483);
    assertThat(SampleSizePlanner.perGroup(0.02, 0.05, 0.05, 0.90, family)).isEqualTo(581);
    assertThat(SampleSizePlanner.perGroup(0.20, 0.05, 0.05, 0.90, family)).isEqualTo(2365);
  }

  @Test
  void shouldNeedMoreSamplesForMoreGroups() {
    int two = SampleSizePlanner.perGroup(0.1, 0.05, 0.05, 0.9, SampleSizePlanner.familySize(2, 11));
    int four =
        SampleSizePlanner.perGroup(0.1, 0.05, 0.05, 0.9, SampleSizePlanner.familySize(4, 11));
    assertThat(four).isGreaterThan(two);
  }

  @Test
  void shouldInvertTheSampleSizeIntoTheMinimumDetectableDifference() {
    double detectable = SampleSizePlanner.minimumDetectableDifference(0.10, 1483, 0.05, 0.90, 11);
    assertThat(detectable).isCloseTo(0.05, within(0.0005));
    assertThat(SampleSizePlanner.minimumDetectableDifference(0.10, 40, 0.05, 0.90, 11))
        .isGreaterThan(0.2);
  }
}
