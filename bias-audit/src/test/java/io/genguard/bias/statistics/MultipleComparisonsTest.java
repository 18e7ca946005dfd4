package io.genguard.bias.statistics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.genguard.bias.statistics.MultipleComparisons.Correction;
import org.junit.jupiter.api.Test;

/** Reference values: Holm by hand, Benjamini-Hochberg from SciPy's false_discovery_control. */
class MultipleComparisonsTest {
  private static final double[] P = {0.01, 0.04, 0.03, 0.005, 0.2};

  @Test
  void shouldAdjustWithHolmsStepDown() {
    assertThat(MultipleComparisons.adjust(P, Correction.HOLM))
        .containsExactly(new double[] {0.04, 0.09, 0.09, 0.025, 0.2}, within(1e-12));
  }

  @Test
  void shouldAdjustWithBenjaminiHochbergsStepUp() {
    assertThat(MultipleComparisons.adjust(P, Correction.BENJAMINI_HOCHBERG))
        .containsExactly(new double[] {0.025, 0.05, 0.05, 0.025, 0.2}, within(1e-12));
  }

  @Test
  void shouldParseCorrectionNamesAndRefuseOthers() {
    assertThat(Correction.parse("BH")).isEqualTo(Correction.BENJAMINI_HOCHBERG);
    assertThat(Correction.parse("holm")).isEqualTo(Correction.HOLM);
    assertThatThrownBy(() -> Correction.parse("bonferoni")).hasMessageContaining("use holm or bh");
  }
}
