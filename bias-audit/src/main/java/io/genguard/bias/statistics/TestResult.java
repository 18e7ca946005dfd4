package io.genguard.bias.statistics;

/**
 * The outcome of one significance test.
 *
 * @param method the test that was run, as a report names it (e.g. "two-proportion z-test")
 * @param statistic its statistic (z, chi-square, U, ...); NaN when the test was not defined
 * @param pValue two-sided p-value, 1 where the data cannot show any difference
 */
public record TestResult(String method, double statistic, double pValue) {
  public TestResult {
    if (!(pValue >= 0 && pValue <= 1)) {
      throw new IllegalArgumentException("p-value must be in [0, 1], was " + pValue);
    }
  }

  /** No difference can be shown (no events, or a group without observations). */
  public static TestResult notTestable(String method) {
    return new TestResult(method, Double.NaN, 1.0);
  }
}
