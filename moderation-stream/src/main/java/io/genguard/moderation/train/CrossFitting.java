package io.genguard.moderation.train;

import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.HashedNgramFeatures.SparseVector;
import io.genguard.moderation.scoring.LinearHead;
import io.genguard.moderation.scoring.NgramLogisticModel;
import io.genguard.moderation.scoring.PlattCalibration;
import io.genguard.moderation.scoring.TextNormalizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * K-fold cross-fitting over the training and validation splits together: each text's margins come
 * from models that did not see it (out-of-fold), so calibrators and stackers can be fitted on every
 * labelled text instead of on a validation split that holds one or two examples of the thin
 * categories. The shipped models are then trained on all folds, so the validation split is their
 * training data, not a held-out set. The test split stays out of all of it, though keep-or-reject
 * bars have read its figures (ModelCards, "What the test split was used for"). Folds are assigned
 * like splits: by split group (a JailbreakBench behaviour) or by text.
 */
final class CrossFitting {
  static final int FOLDS = 5;

  /**
   * Per-source training weights. Davidson's 25k tweets are 83% offensive and would otherwise teach
   * every head that casual, tweet-like text is unsafe; the project's own examples are few and carry
   * the thin categories; the generated identity sentences (2f since 2026-11-25, and those drawn per
   * person noun since 2026-12-03) counter identity terms learned from toxic text, and their
   * hate-labelled contrast twins (2026-12-03) keep hostility toward the same groups learned.
   */
  static final Map<String, Float> SOURCE_WEIGHTS =
      Map.of(
          "davidson",
          0.35f,
          AuthoredExamples.SOURCE,
          2f,
          IdentityAugmentation.SOURCE,
          2f,
          IdentityAugmentation.NOUN_SOURCE,
          2f,
          IdentityAugmentation.CONTRAST_SOURCE,
          2f);

  static float[] weights(List<LabelledText> texts) {
    float[] weights = new float[texts.size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = SOURCE_WEIGHTS.getOrDefault(texts.get(i).source(), 1f);
    }
    return weights;
  }

  private CrossFitting() {}

  /** The pool cross-fitting works on: train and validation splits. */
  static List<LabelledText> pool(DeduplicatedSplit split) {
    List<LabelledText> pool = new ArrayList<>(split.get(DeduplicatedSplit.Split.TRAIN));
    pool.addAll(split.get(DeduplicatedSplit.Split.VALIDATION));
    return pool;
  }

  static int foldOf(LabelledText text) {
    String key = text.group() != null ? text.group() : TextNormalizer.splitKey(text.text());
    long h = 0x84222325cbf29ce4L;
    for (int i = 0; i < key.length(); i++) {
      h ^= key.charAt(i);
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (int) Math.floorMod(h, (long) FOLDS);
  }

  /**
   * The n-gram part: final (quantized, uncalibrated) model and out-of-fold margins [text][head].
   */
  record NgramResult(NgramLogisticModel rawModel, double[][] outOfFoldMargins) {}

  static NgramResult ngram(
      List<LabelledText> pool,
      HashedNgramFeatures features,
      SparseLogisticTrainer.Options options,
      String version,
      PrintStream log) {
    long start = System.nanoTime();
    // Weights learn from every word's n-grams; margins (for calibration, stacking and scoring)
    // come from the features as they score, where rare dictionary words keep only their stems'
    // n-grams for the heads the dictionary applies to (KnownWords).
    HashedNgramFeatures learning = features.withoutKnownWords();
    List<SparseVector> xs = new ArrayList<>(pool.size());
    for (LabelledText text : pool) {
      xs.add(learning.extract(text.text()));
    }
    int[] folds = pool.stream().mapToInt(CrossFitting::foldOf).toArray();
    double[][] oof = new double[pool.size()][];
    for (int fold = 0; fold < FOLDS; fold++) {
      List<SparseVector> trainX = new ArrayList<>();
      List<byte[]> trainY = new ArrayList<>();
      List<LabelledText> trainTexts = new ArrayList<>();
      for (int i = 0; i < pool.size(); i++) {
        if (folds[i] != fold) {
          trainX.add(xs.get(i));
          trainY.add(pool.get(i).labels());
          trainTexts.add(pool.get(i));
        }
      }
      NgramLogisticModel foldModel =
          rawModel(
              new SparseLogisticTrainer(options)
                  .train(
                      trainX,
                      trainY.toArray(new byte[0][]),
                      weights(trainTexts),
                      features.dimensions()),
              features,
              version);
      for (int i = 0; i < pool.size(); i++) {
        if (folds[i] == fold) {
          oof[i] = margins(foldModel, pool.get(i).text());
        }
      }
      log.printf(
          "  n-gram fold %d/%d done (%.0f s)%n",
          fold + 1, FOLDS, (System.nanoTime() - start) / 1e9);
    }
    byte[][] all = pool.stream().map(LabelledText::labels).toArray(byte[][]::new);
    NgramLogisticModel finalModel =
        rawModel(
            new SparseLogisticTrainer(options).train(xs, all, weights(pool), features.dimensions()),
            features,
            version);
    log.printf("  n-gram final model done (%.0f s)%n", (System.nanoTime() - start) / 1e9);
    return new NgramResult(finalModel, oof);
  }

  static NgramLogisticModel rawModel(
      SparseLogisticTrainer.Trained[] trained, HashedNgramFeatures features, String version) {
    Map<String, LinearHead> heads = new LinkedHashMap<>();
    for (int h = 0; h < Heads.COUNT; h++) {
      String name = Heads.NAMES.get(h);
      heads.put(
          name,
          new LinearHead(name, trained[h].weights(), trained[h].bias(), PlattCalibration.IDENTITY));
    }
    // Quantize now, so that every margin used for calibration is one the shipped model produces.
    return new NgramLogisticModel(version, features, heads).quantized();
  }

  /** Margins as the shipped model computes them (long texts chunk by chunk). */
  static double[] margins(NgramLogisticModel model, String text) {
    Map<String, Double> byName = model.margins(text);
    double[] row = new double[Heads.COUNT];
    for (int h = 0; h < Heads.COUNT; h++) {
      row[h] = byName.get(Heads.NAMES.get(h));
    }
    return row;
  }

  /**
   * Embedding heads: final weights (per head: weights then bias) and out-of-fold margins
   * [text][head].
   */
  record EmbeddingResult(double[][] finalHeads, double[][] outOfFoldMargins) {}

  static EmbeddingResult embedding(
      List<LabelledText> pool,
      List<float[][]> embeddings,
      DenseLogisticTrainer trainer,
      PrintStream log) {
    int[] folds = pool.stream().mapToInt(CrossFitting::foldOf).toArray();
    double[][] oof = new double[pool.size()][];
    for (int fold = 0; fold < FOLDS; fold++) {
      List<float[]> trainX = new ArrayList<>();
      List<byte[]> trainY = new ArrayList<>();
      List<LabelledText> trainTexts = new ArrayList<>();
      for (int i = 0; i < pool.size(); i++) {
        if (folds[i] != fold) {
          trainX.add(embeddings.get(i)[0]);
          trainY.add(pool.get(i).labels());
          trainTexts.add(pool.get(i));
        }
      }
      double[][] heads =
          trainer.train(
              trainX.toArray(new float[0][]), trainY.toArray(new byte[0][]), weights(trainTexts));
      for (int i = 0; i < pool.size(); i++) {
        if (folds[i] == fold) {
          oof[i] = embeddingMargins(heads, embeddings.get(i));
        }
      }
      log.printf("  embedding fold %d/%d done%n", fold + 1, FOLDS);
    }
    float[][] allX = new float[pool.size()][];
    for (int i = 0; i < pool.size(); i++) {
      allX[i] = embeddings.get(i)[0];
    }
    double[][] finalHeads =
        trainer.train(
            allX, pool.stream().map(LabelledText::labels).toArray(byte[][]::new), weights(pool));
    return new EmbeddingResult(finalHeads, oof);
  }

  /** Per head, the highest margin over the text's windows. */
  static double[] embeddingMargins(double[][] heads, float[][] windows) {
    double[] row = new double[heads.length];
    for (int h = 0; h < heads.length; h++) {
      double best = Double.NEGATIVE_INFINITY;
      double[] w = heads[h];
      for (float[] window : windows) {
        double z = w[w.length - 1];
        for (int d = 0; d < window.length; d++) {
          z += w[d] * window[d];
        }
        best = Math.max(best, z);
      }
      row[h] = best;
    }
    return row;
  }
}
