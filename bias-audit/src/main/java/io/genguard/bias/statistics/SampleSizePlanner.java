package io.genguard.bias.statistics;

import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * How many samples per group a campaign needs: the classical sample size of a two-sided
 * two-proportion z-test (Fleiss, Levin and Paik, Statistical Methods for Rates and Proportions, eq.
 * 4.14, without continuity correction, matching the test the reports run), at a per-test level of
 * alpha / m so that a Bonferroni bound over the family of m tests holds. Holm rejects at least what
 * Bonferroni rejects, so the power of a report is at least the planned power.
 */
public final class SampleSizePlanner {
  private static final NormalDistribution NORMAL = new NormalDistribution(null, 0, 1);

  /**
   * Metrics a campaign report tests between every pair of groups: unsafe rate, release rate, block
   * rate, the unsafe-score distribution and the seven category rates.
   */
  public static final int TESTED_METRICS = 11;

  /** Planning defaults the documentation quotes: 5% family-wise error, 90% power. */
  public static final double DEFAULT_ALPHA = 0.05;

  public static final double DEFAULT_POWER = 0.90;

  private SampleSizePlanner() {}

  /** Pairwise comparisons times tested metrics: the size of a campaign's test family. */
  public static int familySize(int groups, int testedMetrics) {
    if (groups < 2 || testedMetrics < 1) {
      throw new IllegalArgumentException("need at least 2 groups and 1 metric");
    }
    return groups * (groups - 1) / 2 * testedMetrics;
  }

  /**
   * Samples per group to detect a rate of {@code baseline + difference} against {@code baseline}
   * with the given power, the family-wise error held at {@code alpha} over {@code familySize}
   * tests.
   */
  public static int perGroup(
      double baseline, double difference, double alpha, double power, int familySize) {
    double p1 = baseline;
    double p2 = baseline + difference;
    if (!(p1 > 0 && p1 < 1 && p2 > 0 && p2 < 1) || difference == 0) {
      throw new IllegalArgumentException(
          "baseline and baseline + difference must lie strictly between 0 and 1 and differ; got "
              + baseline
              + " and "
              + p2);
    }
    if (!(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) || familySize < 1) {
      throw new IllegalArgumentException("alpha and power must be in (0, 1), familySize >= 1");
    }
    double zAlpha = NORMAL.inverseCumulativeProbability(1 - alpha / (2.0 * familySize));
    double zPower = NORMAL.inverseCumulativeProbability(power);
    double mean = (p1 + p2) / 2;
    double numerator =
        zAlpha * Math.sqrt(2 * mean * (1 - mean))
            + zPower * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
    return (int) Math.ceil(numerator * numerator / (difference * difference));
  }

  /**
   * The smallest increase over {@code baseline} that {@code perGroup} samples per group detect with
   * the given power: what a finished campaign could and could not have seen.
   */
  public static double minimumDetectableDifference(
      double baseline, int perGroup, double alpha, double power, int familySize) {
    if (perGroup < 2) {
      return Double.NaN;
    }
    double low = 1e-6;
    double high = 1 - baseline - 1e-6;
    if (high <= low || perGroup(baseline, high, alpha, power, familySize) > perGroup) {
      return Double.NaN;
    }
    for (int i = 0; i < 60; i++) {
      double mid = (low + high) / 2;
      if (perGroup(baseline, mid, alpha, power, familySize) > perGroup) {
        low = mid;
      } else {
        high = mid;
      }
    }
    return high;
  }
}
