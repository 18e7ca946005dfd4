package io.genguard.provenance.watermark;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Named keys and a toy "language model" that samples with and without the watermark. */
final class WatermarkFixtures {
  static final WatermarkKey KEY_A =
      new WatermarkKey(
          "key-a", "key-a-secret-material-0123456789".getBytes(StandardCharsets.UTF_8));
  static final WatermarkKey KEY_B =
      new WatermarkKey(
          "key-b", "key-b-secret-material-9876543210".getBytes(StandardCharsets.UTF_8));

  private WatermarkFixtures() {}

  /**
   * Samples {@code length} tokens from a fixed random distribution over {@code vocabulary} ids
   * (Zipf-like logits, like a real model's) with the embedder's bias when it is not null.
   */
  static int[] sample(WatermarkEmbedder embedder, int vocabulary, int length, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] base = new float[vocabulary];
    for (int i = 0; i < vocabulary; i++) {
      base[i] = (float) (-Math.log(i + 1.0) + random.nextDouble() * 3.0);
    }
    int[] tokens = new int[length + 1];
    tokens[0] = random.nextInt(vocabulary); // the "prompt"
    for (int position = 1; position <= length; position++) {
      float[] logits = Arrays.copyOf(base, vocabulary);
      // A little context dependence so the sequence is not i.i.d.
      logits[(tokens[position - 1] * 31 + 7) % vocabulary] += 3.0f;
      if (embedder != null) {
        embedder.bias(logits, null, tokens, position);
      }
      tokens[position] = sampleSoftmax(logits, random);
    }
    return tokens;
  }

  private static int sampleSoftmax(float[] logits, SplittableRandom random) {
    double max = Double.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double[] weights = new double[logits.length];
    double total = 0;
    for (int i = 0; i < logits.length; i++) {
      weights[i] = Math.exp(logits[i] - max);
      total += weights[i];
    }
    double target = random.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      target -= weights[i];
      if (target <= 0) {
        return i;
      }
    }
    return weights.length - 1;
  }
}
