package io.genguard.bias.statistics;

import java.util.Arrays;
import java.util.Locale;

/**
 * Adjusts a family of p-values for multiple comparisons. Holm (1979) controls the family-wise error
 * rate under any dependence between the tests (the metrics of one output are correlated);
 * Benjamini-Hochberg (1995) controls the false discovery rate, is more powerful when many tests are
 * run, and under the global null also bounds the family-wise rate.
 */
public final class MultipleComparisons {
  /** The correction procedures a report or an alert may use. */
  public enum Correction {
    HOLM("Holm step-down (family-wise error rate)"),
    BENJAMINI_HOCHBERG("Benjamini-Hochberg step-up (false discovery rate)");

    private final String description;

    Correction(String description) {
      this.description = description;
    }

    public String description() {
      return description;
    }

    /** Parses holm, bh, benjamini-hochberg (any case). */
    public static Correction parse(String name) {
      String normalized = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      return switch (normalized) {
        case "holm" -> HOLM;
        case "bh", "benjamini-hochberg", "fdr" -> BENJAMINI_HOCHBERG;
        default ->
            throw new IllegalArgumentException(
                "Unknown correction '" + name + "'; use holm or bh (Benjamini-Hochberg)");
      };
    }
  }

  private MultipleComparisons() {}

  /** Adjusted p-values, in the order of {@code pValues}; compare each with the family's alpha. */
  public static double[] adjust(double[] pValues, Correction correction) {
    int m = pValues.length;
    double[] adjusted = new double[m];
    if (m == 0) {
      return adjusted;
    }
    Integer[] order = new Integer[m];
    for (int i = 0; i < m; i++) {
      if (!(pValues[i] >= 0 && pValues[i] <= 1)) {
        throw new IllegalArgumentException("p-value " + i + " is not in [0, 1]: " + pValues[i]);
      }
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(pValues[a], pValues[b]));
    if (correction == Correction.HOLM) {
      double running = 0;
      for (int rank = 0; rank < m; rank++) {
        int index = order[rank];
        running = Math.max(running, Math.min(1, (m - rank) * pValues[index]));
        adjusted[index] = running;
      }
    } else {
      double running = 1;
      for (int rank = m - 1; rank >= 0; rank--) {
        int index = order[rank];
        running = Math.min(running, Math.min(1, pValues[index] * m / (rank + 1)));
        adjusted[index] = running;
      }
    }
    return adjusted;
  }
}
