package io.genguard.provenance.watermark;

/** Upper tail of the standard normal distribution, for one-sided p-values. */
final class NormalTail {
  /**
   * Chebyshev fit of erfc from Numerical Recipes in C (2nd ed., section 6.2, {@code erfcc}),
   * highest power first: fractional error below 1.2e-7 everywhere, ample for p-values.
   */
  private static final double[] COEFFICIENTS = {
    0.17087277,
    -0.82215223,
    1.48851587,
    -1.13520398,
    0.27886807,
    -0.18628806,
    0.09678418,
    0.37409196,
    1.00002368,
    -1.26551223
  };

  private NormalTail() {}

  /** P(Z >= z) for a standard normal Z. */
  static double upper(double z) {
    return 0.5 * erfc(z / Math.sqrt(2.0));
  }

  /** Complementary error function. */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1.0 / (1.0 + 0.5 * z);
    double polynomial = 0;
    for (double coefficient : COEFFICIENTS) {
      polynomial = polynomial * t + coefficient;
    }
    double ans = t * Math.exp(-z * z + polynomial);
    return x >= 0 ? ans : 2.0 - ans;
  }
}
