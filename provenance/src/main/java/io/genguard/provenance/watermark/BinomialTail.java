package io.genguard.provenance.watermark;

/**
 * Exact upper tail of the binomial distribution, for the p-value of a green-token count. The normal
 * approximation behind the z-score understates this tail for short texts and badly so for a small
 * gamma: with gamma 0.001 and 25 scored tokens a single green token gives z = 6.2 (normal tail
 * 3e-10), yet it happens in 2.5% of unwatermarked texts.
 */
final class BinomialTail {
  /** Terms below this fraction of the largest one no longer change a double sum. */
  private static final double NEGLIGIBLE_LOG = -60.0;

  private BinomialTail() {}

  /** P(X >= k) for X ~ Binomial(n, p), 0 < p < 1. */
  static double upper(int n, int k, double p) {
    if (k <= 0) {
      return 1.0;
    }
    if (k > n) {
      return 0.0;
    }
    double logOdds = Math.log(p) - Math.log1p(-p);
    double mode = Math.floor((n + 1) * p);
    if (k > mode) {
      // Terms fall from k upwards.
      double first = logPmf(n, k, p);
      double sum = 1.0;
      double relative = 0.0;
      for (int j = k + 1; j <= n && relative > NEGLIGIBLE_LOG; j++) {
        relative += Math.log((double) (n - j + 1) / j) + logOdds;
        sum += Math.exp(relative);
      }
      return Math.min(1.0, Math.exp(first) * sum);
    }
    // k - 1 at or below the mode: terms fall from k - 1 downwards; the tail is 1 - P(X <= k - 1).
    double first = logPmf(n, k - 1, p);
    double sum = 1.0;
    double relative = 0.0;
    for (int j = k - 1; j >= 1 && relative > NEGLIGIBLE_LOG; j--) {
      relative -= Math.log((double) (n - j + 1) / j) + logOdds;
      sum += Math.exp(relative);
    }
    return Math.max(0.0, Math.min(1.0, 1.0 - Math.exp(first) * sum));
  }

  private static double logPmf(int n, int k, double p) {
    int m = Math.min(k, n - k);
    double logChoose = 0.0;
    for (int i = 1; i <= m; i++) {
      logChoose += Math.log((double) (n - m + i) / i);
    }
    return logChoose + k * Math.log(p) + (n - k) * Math.log1p(-p);
  }
}
