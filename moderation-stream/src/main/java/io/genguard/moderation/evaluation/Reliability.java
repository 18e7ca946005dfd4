package io.genguard.moderation.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * How far a head's scores read as probabilities on labelled texts: a reliability table (scores in
 * equal-width bins, each bin's mean score against its observed positive rate, with its counts), the
 * Brier score, and the expected calibration error over equal-mass bins.
 *
 * <p>Both summary figures come with what a constant predictor scores, since on a rare head they are
 * small whatever the scores: a constant at the base rate {@code b} has Brier {@code b(1-b)} (and
 * ECE 0: calibrated, and useless), a constant 0 has ECE {@code b} under any binning. {@link
 * #eceOverBaseRate()} divides by that, so that 1 reads "as far off as always answering 0".
 *
 * @param texts labelled texts scored
 * @param positives of them, positive
 * @param meanScore the mean score; above {@link #baseRate()} the scores over-state the risk on the
 *     whole
 * @param brier mean squared difference between score and label (0 or 1)
 * @param ece expected calibration error over {@value #ECE_BINS} equal-mass bins of the texts ranked
 *     by score (texts of one score in one bin): the bins' |mean score − positive rate| weighted by
 *     their share of the texts
 * @param bins {@value #TABLE_BINS} equal-width bins of the score, [0, 0.1) … [0.9, 1.0]
 */
record Reliability(
    int texts, int positives, double meanScore, double brier, double ece, List<Bin> bins) {
  static final int ECE_BINS = 10;
  static final int TABLE_BINS = 10;

  /** Texts whose score is in [low, high) (the last bin includes 1), and of them the positives. */
  record Bin(double low, double high, int texts, int positives, double meanScore) {
    /** The observed positive rate; NaN for an empty bin. */
    double positiveRate() {
      return texts == 0 ? Double.NaN : positives / (double) texts;
    }
  }

  /** Measures {@code scores} (probabilities in [0, 1]) against {@code labels}. */
  static Reliability of(double[] scores, boolean[] labels) {
    if (scores.length != labels.length) {
      throw new IllegalArgumentException(
          scores.length + " scores for " + labels.length + " labels");
    }
    int n = scores.length;
    int positives = 0;
    double sum = 0;
    double squares = 0;
    for (int i = 0; i < n; i++) {
      double y = labels[i] ? 1 : 0;
      positives += labels[i] ? 1 : 0;
      sum += scores[i];
      squares += (scores[i] - y) * (scores[i] - y);
    }
    return new Reliability(
        n,
        positives,
        n == 0 ? Double.NaN : sum / n,
        n == 0 ? Double.NaN : squares / n,
        equalMassEce(scores, labels, ECE_BINS),
        equalWidthBins(scores, labels, TABLE_BINS));
  }

  /** Positives / texts; NaN without texts. */
  double baseRate() {
    return texts == 0 ? Double.NaN : positives / (double) texts;
  }

  /** The Brier score of a constant at the base rate: b(1 - b). */
  double constantBrier() {
    double b = baseRate();
    return b * (1 - b);
  }

  /**
   * 1 - Brier / {@link #constantBrier()}: 0 for the constant at the base rate, 1 for perfect
   * scores, below 0 for scores worse than that constant; NaN when every label is the same.
   */
  double brierSkill() {
    double constant = constantBrier();
    return constant == 0 ? Double.NaN : 1 - brier / constant;
  }

  /** ECE divided by the base rate, the ECE of a constant 0; NaN without positives. */
  double eceOverBaseRate() {
    double b = baseRate();
    return b > 0 ? ece / b : Double.NaN;
  }

  /**
   * Expected calibration error over {@code bins} bins of about equal size: the texts ranked by
   * score, a bin closed once it reaches its share, never between two texts of the same score (a bin
   * may then hold more, and there may be fewer bins). The sum over the bins of |sum of scores −
   * positives|, divided by the texts; 0 for a constant score at the base rate.
   */
  static double equalMassEce(double[] scores, boolean[] labels, int bins) {
    int n = scores.length;
    if (n == 0) {
      return Double.NaN;
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> scores[i]));
    double error = 0;
    double sumScores = 0;
    int sumPositives = 0;
    int bin = 0;
    for (int k = 0; k < n; k++) {
      sumScores += scores[order[k]];
      sumPositives += labels[order[k]] ? 1 : 0;
      boolean last = k == n - 1;
      boolean tiedWithNext = !last && scores[order[k + 1]] == scores[order[k]];
      if (last || (!tiedWithNext && (k + 1) >= (long) (bin + 1) * n / bins)) {
        error += Math.abs(sumScores - sumPositives);
        sumScores = 0;
        sumPositives = 0;
        // a run of tied scores may have filled several shares: the next bin starts after it
        while (bin < bins && (long) (bin + 1) * n / bins <= k + 1) {
          bin++;
        }
      }
    }
    return error / n;
  }

  /** The reliability table: {@code bins} equal-width bins of [0, 1], empty ones included. */
  static List<Bin> equalWidthBins(double[] scores, boolean[] labels, int bins) {
    int[] texts = new int[bins];
    int[] positives = new int[bins];
    double[] sums = new double[bins];
    for (int i = 0; i < scores.length; i++) {
      int b = Math.max(0, Math.min(bins - 1, (int) (scores[i] * bins)));
      texts[b]++;
      positives[b] += labels[i] ? 1 : 0;
      sums[b] += scores[i];
    }
    List<Bin> out = new ArrayList<>();
    for (int b = 0; b < bins; b++) {
      out.add(
          new Bin(
              b / (double) bins,
              (b + 1) / (double) bins,
              texts[b],
              positives[b],
              texts[b] == 0 ? Double.NaN : sums[b] / texts[b]));
    }
    return List.copyOf(out);
  }
}
