package io.genguard.moderation.train;

import java.util.Random;
import java.util.stream.IntStream;

/**
 * Multi-head logistic regression on dense vectors (sentence embeddings) with AdaGrad and L2; one
 * head per label column, each learning only from texts whose label for it is known, positives
 * up-weighted like {@link SparseLogisticTrainer}.
 */
public final class DenseLogisticTrainer {
  private final int epochs;
  private final double learningRate;
  private final double l2;
  private final double maxPositiveWeight;
  private final long seed;

  public DenseLogisticTrainer(
      int epochs, double learningRate, double l2, double maxPositiveWeight, long seed) {
    this.epochs = epochs;
    this.learningRate = learningRate;
    this.l2 = l2;
    this.maxPositiveWeight = maxPositiveWeight;
    this.seed = seed;
  }

  /** Returns, per head, the weights followed by the bias (length dims + 1). */
  public double[][] train(float[][] xs, byte[][] labels, float[] weights) {
    int heads = labels[0].length;
    double[][] result = new double[heads][];
    IntStream.range(0, heads)
        .parallel()
        .forEach(h -> result[h] = trainHead(xs, labels, weights, h));
    return result;
  }

  private double[] trainHead(float[][] xs, byte[][] labels, float[] weights, int head) {
    int dims = xs[0].length;
    int positives = 0;
    int negatives = 0;
    for (byte[] label : labels) {
      positives += label[head] == LabelledText.POSITIVE ? 1 : 0;
      negatives += label[head] == LabelledText.NEGATIVE ? 1 : 0;
    }
    if (positives == 0 || negatives == 0) {
      throw new IllegalStateException(
          "head " + head + " has " + positives + " positives and " + negatives + " negatives");
    }
    double positiveWeight =
        Math.max(1.0, Math.min(maxPositiveWeight, Math.sqrt(negatives / (double) positives)));
    double[] w = new double[dims + 1];
    double[] g2 = new double[dims + 1];
    w[dims] = Math.log(positives / (double) negatives);
    int[] order = IntStream.range(0, xs.length).filter(i -> labels[i][head] >= 0).toArray();
    Random random = new Random(seed + head);
    for (int epoch = 0; epoch < epochs; epoch++) {
      for (int i = order.length - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
      for (int i : order) {
        float[] x = xs[i];
        double z = w[dims];
        for (int d = 0; d < dims; d++) {
          z += w[d] * x[d];
        }
        boolean y = labels[i][head] == LabelledText.POSITIVE;
        double g =
            (1.0 / (1.0 + Math.exp(-z)) - (y ? 1 : 0)) * (y ? positiveWeight : 1.0) * weights[i];
        for (int d = 0; d < dims; d++) {
          double gd = g * x[d] + l2 * w[d];
          g2[d] += gd * gd;
          w[d] -= learningRate * gd / Math.sqrt(g2[d] + 1e-8);
        }
        g2[dims] += g * g;
        w[dims] -= learningRate * g / Math.sqrt(g2[dims] + 1e-8);
      }
    }
    return w;
  }
}
