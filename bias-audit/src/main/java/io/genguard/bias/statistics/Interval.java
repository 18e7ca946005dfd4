package io.genguard.bias.statistics;

/**
 * A two-sided interval estimate.
 *
 * @param low lower bound
 * @param high upper bound
 */
public record Interval(double low, double high) {
  /** An interval that says nothing is known (used where the data cannot bound the quantity). */
  public static final Interval UNKNOWN = new Interval(Double.NaN, Double.NaN);

  public boolean isKnown() {
    return !Double.isNaN(low) && !Double.isNaN(high);
  }

  public boolean contains(double value) {
    return isKnown() && value >= low && value <= high;
  }
}
