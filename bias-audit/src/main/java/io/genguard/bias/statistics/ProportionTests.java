package io.genguard.bias.statistics;

import org.apache.commons.math3.distribution.HypergeometricDistribution;
import org.apache.commons.math3.special.Erf;
import org.apache.commons.math3.special.Gamma;

/**
 * Tests that rates differ between groups. Two groups: the pooled two-proportion z-test, or Fisher's
 * exact test when an expected cell count is below 5 (where the normal approximation is known to be
 * anti-conservative). Several groups: Pearson's chi-square test of homogeneity on the k x 2 table.
 */
public final class ProportionTests {
  public static final String Z_TEST = "two-proportion z-test (pooled)";
  public static final String FISHER = "Fisher exact test";
  public static final String CHI_SQUARE = "chi-square test of homogeneity";

  /** Below this expected count in any cell the z-test gives way to Fisher's exact test. */
  static final double MIN_EXPECTED = 5.0;

  private ProportionTests() {}

  /**
   * Two-sided test of {@code x1/n1 == x2/n2}. Not testable (p = 1) when a group is empty or no
   * group has an event (or every observation is one).
   */
  public static TestResult compare(long x1, long n1, long x2, long n2) {
    check(x1, n1);
    check(x2, n2);
    if (n1 == 0 || n2 == 0) {
      return TestResult.notTestable(Z_TEST);
    }
    long events = x1 + x2;
    long total = n1 + n2;
    if (events == 0 || events == total) {
      return TestResult.notTestable(Z_TEST);
    }
    double pooled = (double) events / total;
    double minExpected = Math.min(Math.min(n1, n2) * pooled, Math.min(n1, n2) * (1 - pooled));
    if (minExpected < MIN_EXPECTED) {
      return new TestResult(FISHER, Double.NaN, fisherTwoSided(x1, n1, x2, n2));
    }
    double p1 = (double) x1 / n1;
    double p2 = (double) x2 / n2;
    double z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
    return new TestResult(Z_TEST, z, twoSidedNormal(z));
  }

  /**
   * Pearson's chi-square test that all groups share one rate (k-1 degrees of freedom). Groups
   * without observations are left out; fewer than two left, or no variation, is not testable.
   */
  public static TestResult chiSquare(long[] events, long[] trials) {
    if (events.length != trials.length) {
      throw new IllegalArgumentException("events and trials must have the same length");
    }
    long totalEvents = 0;
    long total = 0;
    int groups = 0;
    for (int i = 0; i < events.length; i++) {
      check(events[i], trials[i]);
      if (trials[i] > 0) {
        groups++;
        totalEvents += events[i];
        total += trials[i];
      }
    }
    if (groups < 2 || totalEvents == 0 || totalEvents == total) {
      return TestResult.notTestable(CHI_SQUARE);
    }
    double pooled = (double) totalEvents / total;
    double statistic = 0;
    for (int i = 0; i < events.length; i++) {
      if (trials[i] == 0) {
        continue;
      }
      double expectedEvents = trials[i] * pooled;
      double expectedOthers = trials[i] * (1 - pooled);
      double others = trials[i] - events[i];
      statistic += square(events[i] - expectedEvents) / expectedEvents;
      statistic += square(others - expectedOthers) / expectedOthers;
    }
    return new TestResult(CHI_SQUARE, statistic, chiSquareUpperTail(statistic, groups - 1));
  }

  /**
   * Two-sided Fisher exact p-value: the probability, under the hypergeometric null with both
   * margins fixed, of every table at most as likely as the observed one.
   */
  static double fisherTwoSided(long x1, long n1, long x2, long n2) {
    int population = Math.toIntExact(n1 + n2);
    int successes = Math.toIntExact(x1 + x2);
    int sample = Math.toIntExact(n1);
    HypergeometricDistribution null0 =
        new HypergeometricDistribution(null, population, successes, sample);
    double observed = null0.logProbability((int) x1);
    int low = Math.max(0, sample - (population - successes));
    int high = Math.min(sample, successes);
    double p = 0;
    // Relative tolerance so that tables tied with the observed one in exact arithmetic count.
    double tolerance = 1e-7;
    for (int k = low; k <= high; k++) {
      double logProbability = null0.logProbability(k);
      if (logProbability <= observed + tolerance) {
        p += Math.exp(logProbability);
      }
    }
    return clamp(p);
  }

  /** P(X >= statistic) for X chi-square with {@code degrees} degrees of freedom. */
  static double chiSquareUpperTail(double statistic, int degrees) {
    // Q(k/2, x/2) directly: accurate in the far tail, and no distribution object (commons-math's
    // ChiSquaredDistribution seeds a random generator on every construction).
    return clamp(Gamma.regularizedGammaQ(degrees / 2.0, Math.max(0, statistic) / 2.0));
  }

  /** Two-sided tail of the standard normal, accurate far into the tail (erfc, not 1 - cdf). */
  static double twoSidedNormal(double z) {
    return clamp(Erf.erfc(Math.abs(z) / Math.sqrt(2)));
  }

  private static void check(long events, long trials) {
    if (trials < 0 || events < 0 || events > trials) {
      throw new IllegalArgumentException(
          "events must be between 0 and trials, got " + events + " of " + trials);
    }
  }

  private static double square(double x) {
    return x * x;
  }

  static double clamp(double p) {
    return Math.max(0, Math.min(1, p));
  }
}
