package io.genguard.moderation.evaluation;

import java.util.Arrays;
import java.util.Comparator;

/** Ranking and threshold metrics for one binary label: AUPRC, ROC AUC, precision, recall, F1. */
public final class BinaryMetrics {
  private BinaryMetrics() {}

  /**
   * Area under the precision-recall curve as average precision (the step-wise sum of precision at
   * each positive, as in scikit-learn's {@code average_precision_score}); ties share one step. NaN
   * when there are no positives.
   *
   * @throws IllegalArgumentException if a score is NaN or infinite
   */
  public static double averagePrecision(double[] scores, boolean[] labels) {
    Integer[] order = descending(scores);
    int positives = count(labels);
    if (positives == 0) {
      return Double.NaN;
    }
    double ap = 0;
    int truePositives = 0;
    int seen = 0;
    double previousRecall = 0;
    int i = 0;
    while (i < order.length) {
      double score = scores[order[i]];
      // Consume the whole tie group at once: tied items are indistinguishable by threshold.
      while (i < order.length && scores[order[i]] == score) {
        truePositives += labels[order[i]] ? 1 : 0;
        seen++;
        i++;
      }
      double recall = truePositives / (double) positives;
      double precision = truePositives / (double) seen;
      ap += (recall - previousRecall) * precision;
      previousRecall = recall;
    }
    return ap;
  }

  /**
   * Area under the ROC curve (Mann-Whitney U with ties counted half); NaN if a class is empty.
   *
   * @throws IllegalArgumentException if a score is NaN or infinite
   */
  public static double rocAuc(double[] scores, boolean[] labels) {
    Integer[] order = descending(scores);
    int positives = count(labels);
    int negatives = labels.length - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    double area = 0;
    int positivesAbove = 0;
    int i = 0;
    while (i < order.length) {
      double score = scores[order[i]];
      int tiePositives = 0;
      int tieNegatives = 0;
      while (i < order.length && scores[order[i]] == score) {
        if (labels[order[i]]) {
          tiePositives++;
        } else {
          tieNegatives++;
        }
        i++;
      }
      area += tieNegatives * (positivesAbove + tiePositives / 2.0);
      positivesAbove += tiePositives;
    }
    return area / ((double) positives * negatives);
  }

  /** Counts at a threshold: a text is flagged when its score is at or above the threshold. */
  public record Confusion(
      int truePositives, int falsePositives, int trueNegatives, int falseNegatives) {
    public double precision() {
      int flagged = truePositives + falsePositives;
      return flagged == 0 ? Double.NaN : truePositives / (double) flagged;
    }

    public double recall() {
      int positives = truePositives + falseNegatives;
      return positives == 0 ? Double.NaN : truePositives / (double) positives;
    }

    public double f1() {
      int denominator = 2 * truePositives + falsePositives + falseNegatives;
      return denominator == 0 ? Double.NaN : 2.0 * truePositives / denominator;
    }

    public double falsePositiveRate() {
      int negatives = falsePositives + trueNegatives;
      return negatives == 0 ? Double.NaN : falsePositives / (double) negatives;
    }
  }

  public static Confusion confusion(boolean[] flagged, boolean[] labels) {
    int tp = 0;
    int fp = 0;
    int tn = 0;
    int fn = 0;
    for (int i = 0; i < labels.length; i++) {
      if (flagged[i]) {
        if (labels[i]) {
          tp++;
        } else {
          fp++;
        }
      } else if (labels[i]) {
        fn++;
      } else {
        tn++;
      }
    }
    return new Confusion(tp, fp, tn, fn);
  }

  public static Confusion confusionAt(double[] scores, boolean[] labels, double threshold) {
    boolean[] flagged = new boolean[scores.length];
    for (int i = 0; i < scores.length; i++) {
      flagged[i] = scores[i] >= threshold;
    }
    return confusion(flagged, labels);
  }

  /** The threshold in (0,1) that maximizes F1 on these scores (for reporting, not for policy). */
  public static double bestF1Threshold(double[] scores, boolean[] labels) {
    double[] candidates = Arrays.stream(scores).distinct().sorted().toArray();
    double best = 0.5;
    double bestF1 = -1;
    for (double candidate : candidates) {
      double f1 = confusionAt(scores, labels, candidate).f1();
      if (f1 > bestF1) {
        bestF1 = f1;
        best = candidate;
      }
    }
    return best;
  }

  /**
   * Indexes by descending score. A NaN score is refused: it equals nothing, not even itself, so the
   * tie-group loops above would never consume it and never end; an infinite score is refused with
   * it, as no scorer or margin should produce one.
   */
  private static Integer[] descending(double[] scores) {
    for (int i = 0; i < scores.length; i++) {
      if (!Double.isFinite(scores[i])) {
        throw new IllegalArgumentException("score " + i + " is not finite: " + scores[i]);
      }
    }
    Integer[] order = new Integer[scores.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> scores[i]).reversed());
    return order;
  }

  private static int count(boolean[] labels) {
    int count = 0;
    for (boolean label : labels) {
      count += label ? 1 : 0;
    }
    return count;
  }
}
