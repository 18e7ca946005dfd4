package io.genguard.bias.statistics;

import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * Interval estimates for a binomial proportion. The Wilson score interval (Wilson 1927) keeps its
 * coverage near the nominal level for small counts and rates near 0 or 1, where the textbook Wald
 * interval collapses to a point; Brown, Cai and DasGupta (2001) recommend it for exactly that.
 */
public final class Proportions {
  private static final NormalDistribution NORMAL = new NormalDistribution(null, 0, 1);

  private Proportions() {}

  /** The two-sided standard normal quantile for {@code confidence} (1.96 for 0.95). */
  public static double zFor(double confidence) {
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1), was " + confidence);
    }
    return NORMAL.inverseCumulativeProbability(1 - (1 - confidence) / 2);
  }

  /** {@code events / trials}, or NaN without trials. */
  public static double rate(long events, long trials) {
    return trials == 0 ? Double.NaN : (double) events / trials;
  }

  /**
   * Wilson score interval for {@code events} successes in {@code trials}; unknown without trials.
   */
  public static Interval wilson(long events, long trials, double confidence) {
    if (events < 0 || events > trials) {
      throw new IllegalArgumentException(
          "events must be between 0 and trials, got " + events + " of " + trials);
    }
    if (trials == 0) {
      return Interval.UNKNOWN;
    }
    double z = zFor(confidence);
    double n = trials;
    double p = events / n;
    double z2 = z * z;
    double denominator = 1 + z2 / n;
    double centre = (p + z2 / (2 * n)) / denominator;
    double half = z / denominator * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    // The interval contains p in exact arithmetic (its bounds are 0 at 0/n and 1 at n/n); keep it
    // so in floating point, where centre + half can round to just under 1.
    return new Interval(
        Math.max(0, Math.min(p, centre - half)), Math.min(1, Math.max(p, centre + half)));
  }
}
