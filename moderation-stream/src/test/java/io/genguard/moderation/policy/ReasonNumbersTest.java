package io.genguard.moderation.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The reasons' numbers must read exactly as String.format(Locale.ROOT, ...) wrote them before. */
class ReasonNumbersTest {
  private static final double[] EDGES = {
    0.0,
    -0.0,
    0.5,
    0.05,
    0.005,
    0.0005,
    0.0015,
    0.1235,
    0.125,
    0.375,
    1.005,
    2.675,
    0.9995,
    0.99949,
    0.99951,
    1.0,
    9.995,
    0.45,
    0.157,
    0.30,
    0.61,
    0.9,
    0.95,
    4.0,
    1e-9,
    123456.7895,
    999_999_999.9995,
    // Large values near a tie at 4 to 6 digits (the forty-seventh session's review): the product
    // with 10^digits was too inexact for the fast path.
    8_750_911.7584755,
    697_837_803.981525,
    578_451_076.61495,
    1e9,
    1e10,
    1e300,
    Double.MIN_VALUE,
    Double.MAX_VALUE,
    -0.001,
    -0.0049,
    -0.005,
    -1.005,
    -4.235,
    Double.NaN,
    Double.POSITIVE_INFINITY,
    Double.NEGATIVE_INFINITY
  };

  @Test
  void shouldWriteFixedPointNumbersExactlyAsTheFormatterDoes() {
    List<Double> values = new ArrayList<>();
    for (double edge : EDGES) {
      values.add(edge);
    }
    // Every score a three-digit reason can show, and the ties between them, nudged both ways.
    for (int i = 0; i <= 20_000; i++) {
      double tie = i / 20_000.0;
      values.add(tie);
      values.add(Math.nextUp(tie));
      values.add(Math.nextDown(tie));
    }
    SplittableRandom random = new SplittableRandom(47);
    for (int i = 0; i < 100_000; i++) {
      values.add(random.nextDouble());
      values.add((random.nextDouble() - 0.5) * 40); // z-scores
      values.add(random.nextDouble() * 1e6);
      values.add(random.nextDouble() * 1e9);
    }
    for (double value : values) {
      for (int digits = 0; digits <= 6; digits++) {
        assertThat(ReasonNumbers.fixed(value, digits))
            .as("%s with %d digits", value, digits)
            .isEqualTo(String.format(Locale.ROOT, "%." + digits + "f", value));
      }
    }
  }

  @Test
  void shouldGroupDigitsByThreeExactlyAsTheFormatterDoes() {
    long[] values = {
      0,
      7,
      -7,
      999,
      1000,
      -1000,
      3600,
      12_345,
      999_999,
      1_000_000,
      1_234_567_890L,
      Long.MAX_VALUE,
      Long.MIN_VALUE
    };
    for (long value : values) {
      assertThat(ReasonNumbers.grouped(value)).isEqualTo(String.format(Locale.ROOT, "%,d", value));
    }
    SplittableRandom random = new SplittableRandom(47);
    for (int i = 0; i < 10_000; i++) {
      long value = random.nextLong() >> random.nextInt(64);
      assertThat(ReasonNumbers.grouped(value)).isEqualTo(String.format(Locale.ROOT, "%,d", value));
    }
  }

  @Test
  void shouldRefuseMoreDigitsThanItComputes() {
    assertThatThrownBy(() -> ReasonNumbers.fixed(0.5, 7))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 to 6");
  }
}
