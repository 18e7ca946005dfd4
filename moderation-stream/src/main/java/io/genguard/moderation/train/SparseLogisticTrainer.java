package io.genguard.moderation.train;

import io.genguard.moderation.scoring.HashedNgramFeatures.SparseVector;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Trains one L2-regularized logistic regression per head on sparse vectors with AdaGrad (Duchi et
 * al. 2011). Heads train in parallel; each sees only the texts whose label for it is known.
 * Positives are up-weighted by {@code min(maxPositiveWeight, sqrt(negatives / positives))}, which
 * helps the thin categories rank well; the bias this adds to the raw margin is removed afterwards
 * by Platt calibration: on out-of-fold margins over train and validation for the content heads
 * ({@link CrossFitting}), on the validation split for the stereotype head.
 */
public final class SparseLogisticTrainer {
  /** Hyper-parameters. */
  public record Options(
      int epochs, double learningRate, double l2, double maxPositiveWeight, long seed) {
    public static Options defaults() {
      return new Options(8, 0.3, 1e-6, 8.0, 20240601L);
    }
  }

  /** Weights and intercept of one head. */
  public record Trained(float[] weights, double bias) {}

  private final Options options;

  public SparseLogisticTrainer(Options options) {
    this.options = options;
  }

  /**
   * @param xs feature vectors
   * @param labels {@code labels[i][head]} is 1, 0 or -1 (unknown: skipped)
   * @param dimensions feature dimensions
   * @return one result per head, in head order
   */
  public Trained[] train(List<SparseVector> xs, byte[][] labels, int dimensions) {
    float[] weights = new float[xs.size()];
    java.util.Arrays.fill(weights, 1f);
    return train(xs, labels, weights, dimensions);
  }

  /**
   * As {@link #train(List, byte[][], int)}, with a weight per text (e.g. to down-weight a source).
   */
  public Trained[] train(List<SparseVector> xs, byte[][] labels, float[] weights, int dimensions) {
    int heads = labels[0].length;
    Trained[] result = new Trained[heads];
    IntStream.range(0, heads)
        .parallel()
        .forEach(h -> result[h] = trainHead(xs, labels, weights, h, dimensions));
    return result;
  }

  private Trained trainHead(
      List<SparseVector> xs, byte[][] labels, float[] weights, int head, int dimensions) {
    int positives = 0;
    int negatives = 0;
    for (byte[] label : labels) {
      if (label[head] == LabelledText.POSITIVE) {
        positives++;
      } else if (label[head] == LabelledText.NEGATIVE) {
        negatives++;
      }
    }
    if (positives == 0 || negatives == 0) {
      throw new IllegalStateException(
          "head "
              + Heads.NAMES.get(head)
              + " has "
              + positives
              + " positives and "
              + negatives
              + " negatives in the training split; it cannot be trained");
    }
    double positiveWeight =
        Math.max(
            1.0, Math.min(options.maxPositiveWeight(), Math.sqrt(negatives / (double) positives)));
    float[] w = new float[dimensions];
    float[] g2 = new float[dimensions];
    double bias = Math.log(positives / (double) negatives);
    double biasG2 = 0;
    int[] order = IntStream.range(0, xs.size()).filter(i -> labels[i][head] >= 0).toArray();
    Random random = new Random(options.seed() + head);
    double lr = options.learningRate();
    double l2 = options.l2();
    for (int epoch = 0; epoch < options.epochs(); epoch++) {
      shuffle(order, random);
      for (int i : order) {
        SparseVector x = xs.get(i);
        boolean y = labels[i][head] == LabelledText.POSITIVE;
        double z = x.dot(w) + bias;
        double p = 1.0 / (1.0 + Math.exp(-z));
        double g = (p - (y ? 1.0 : 0.0)) * (y ? positiveWeight : 1.0) * weights[i];
        int[] indices = x.indices();
        float[] values = x.values();
        for (int k = 0; k < indices.length; k++) {
          int j = indices[k];
          double gj = g * values[k] + l2 * w[j];
          g2[j] += (float) (gj * gj);
          w[j] -= (float) (lr * gj / Math.sqrt(g2[j] + 1e-8));
        }
        biasG2 += g * g;
        bias -= lr * g / Math.sqrt(biasG2 + 1e-8);
      }
    }
    return new Trained(w, bias);
  }

  private static void shuffle(int[] array, Random random) {
    for (int i = array.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
  }
}
