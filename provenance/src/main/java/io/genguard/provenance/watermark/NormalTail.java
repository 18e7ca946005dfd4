package io.genguard.provenance.watermark;

/** Upper tail of the standard normal distribution, for one-sided p-values. */
final class NormalTail {
  private NormalTail() {}

  /** P(Z >= z) for a standard normal Z. */
  static double upper(double z) {
    return 0.5 * erfc(z / Math.sqrt(2.0));
  }

  /**
   * Complementary error function, Chebyshev fit from Numerical Recipes in C (2nd ed., section 6.2,
   * {@code erfcc}): fractional error below 1.2e-7 everywhere, ample for p-values.
   */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1.0 / (1.0 + 0.5 * z);
    double ans =
        t
            * Math.exp(
                -z * z
                    - 1.26551223
                    + t
                        * (1.00002368
                            + t
                                * (0.37409196
                                    + t
                                        * (0.09678418
                                            + t
                                                * (-0.18628806
                                                    + t
                                                        * (0.27886807
                                                            + t
                                                                * (-1.13520398
                                                                    + t
                                                                        * (1.48851587
                                                                            + t
                                                                                * (-0.82215223
                                                                                    + t
                                                                                        * 0.17087277)))))))));
    return x >= 0 ? ans : 2.0 - ans;
  }
}
