package io.genguard.bias.statistics;

import java.util.Arrays;

/**
 * Rank tests for score distributions: Mann-Whitney U for two groups (normal approximation with tie
 * and continuity corrections, as in Hollander and Wolfe, Nonparametric Statistical Methods) and
 * Kruskal-Wallis H for several. Scores of a moderation model are bounded, skewed and often tied at
 * 0 or 1, so a rank test is the honest comparison; a t-test on them would not be.
 */
public final class RankTests {
  public static final String MANN_WHITNEY = "Mann-Whitney U test";
  public static final String KRUSKAL_WALLIS = "Kruskal-Wallis H test";

  private RankTests() {}

  /** Mann-Whitney U of {@code a} against {@code b}, and the common-language effect size. */
  public record MannWhitney(TestResult test, double u, double probabilityAGreater) {}

  public static MannWhitney mannWhitney(double[] a, double[] b) {
    int n1 = a.length;
    int n2 = b.length;
    if (n1 == 0 || n2 == 0) {
      return new MannWhitney(TestResult.notTestable(MANN_WHITNEY), Double.NaN, Double.NaN);
    }
    double[][] groups = {a, b};
    Ranked ranked = rank(groups);
    double r1 = ranked.rankSums[0];
    double u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    double effect = u1 / ((double) n1 * n2);
    int total = n1 + n2;
    double variance =
        n1 * (double) n2 / 12.0 * ((total + 1) - ranked.tieTerm / ((double) total * (total - 1)));
    if (variance <= 0) {
      return new MannWhitney(TestResult.notTestable(MANN_WHITNEY), u1, effect);
    }
    double mean = n1 * (double) n2 / 2.0;
    double difference = u1 - mean;
    double corrected = Math.signum(difference) * Math.max(0, Math.abs(difference) - 0.5);
    double z = corrected / Math.sqrt(variance);
    return new MannWhitney(
        new TestResult(MANN_WHITNEY, z, ProportionTests.twoSidedNormal(z)), u1, effect);
  }

  /** Kruskal-Wallis H across groups (empty groups left out), tie-corrected, chi-square k-1 df. */
  public static TestResult kruskalWallis(double[][] groups) {
    double[][] present = Arrays.stream(groups).filter(g -> g.length > 0).toArray(double[][]::new);
    if (present.length < 2) {
      return TestResult.notTestable(KRUSKAL_WALLIS);
    }
    Ranked ranked = rank(present);
    long total = Arrays.stream(present).mapToLong(g -> g.length).sum();
    double correction = 1 - ranked.tieTerm / ((double) total * total * total - total);
    if (correction <= 0) {
      return TestResult.notTestable(KRUSKAL_WALLIS);
    }
    double sum = 0;
    for (int i = 0; i < present.length; i++) {
      sum += ranked.rankSums[i] * ranked.rankSums[i] / present[i].length;
    }
    double h = (12.0 / (total * (total + 1.0)) * sum - 3 * (total + 1.0)) / correction;
    return new TestResult(
        KRUSKAL_WALLIS, h, ProportionTests.chiSquareUpperTail(h, present.length - 1));
  }

  private record Ranked(double[] rankSums, double tieTerm) {}

  /** Mid-ranks of all values pooled; rank sums per group and the tie term sum(t^3 - t). */
  private static Ranked rank(double[][] groups) {
    int total = 0;
    for (double[] group : groups) {
      total += group.length;
    }
    double[] sorted = new double[total];
    int at = 0;
    for (double[] group : groups) {
      for (double value : group) {
        if (Double.isNaN(value)) {
          throw new IllegalArgumentException("scores must not be NaN");
        }
        sorted[at++] = value;
      }
    }
    Arrays.sort(sorted);
    double tieTerm = 0;
    for (int i = 0; i < total; ) {
      int j = i;
      while (j + 1 < total && sorted[j + 1] == sorted[i]) {
        j++;
      }
      double ties = j - i + 1;
      tieTerm += ties * ties * ties - ties;
      i = j + 1;
    }
    double[] rankSums = new double[groups.length];
    for (int g = 0; g < groups.length; g++) {
      for (double value : groups[g]) {
        int first = firstIndexOf(sorted, value);
        int last = firstIndexOf(sorted, Math.nextUp(value)) - 1;
        rankSums[g] += (first + last + 2) / 2.0; // mid-rank, 1-based
      }
    }
    return new Ranked(rankSums, tieTerm);
  }

  /** Index of the first element not less than {@code value} in ascending {@code sorted}. */
  private static int firstIndexOf(double[] sorted, double value) {
    int low = 0;
    int high = sorted.length;
    while (low < high) {
      int mid = (low + high) >>> 1;
      if (sorted[mid] < value) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }
}
