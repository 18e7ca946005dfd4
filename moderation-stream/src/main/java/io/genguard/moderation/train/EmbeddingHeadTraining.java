package io.genguard.moderation.train;

import io.genguard.moderation.evaluation.BinaryMetrics;
import io.genguard.moderation.scoring.EnsembleHeads;
import io.genguard.moderation.scoring.MiniLmEnsembleScorer;
import io.genguard.moderation.scoring.NgramLogisticScorer;
import io.genguard.moderation.scoring.OnnxTextModel;
import io.genguard.moderation.scoring.PlattCalibration;
import io.genguard.moderation.scoring.StackedLogistic;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains the MiniLM ensemble: logistic heads on all-MiniLM-L6-v2 embeddings of the training split,
 * then one stacker per head over (n-gram margin, embedding margin) fitted on out-of-fold margins of
 * both ({@link CrossFitting}). The test split is only measured, for the model card: n-gram alone,
 * embeddings alone, and the stack.
 */
final class EmbeddingHeadTraining {
  static final String VERSION = "1.0.0";
  static final int MAX_TOKENS = 128;
  static final int MAX_WINDOWS = 128;
  static final int PACK_TOKENS = 48;

  private final PrintStream log;

  EmbeddingHeadTraining(PrintStream log) {
    this.log = log;
  }

  void train(DeduplicatedSplit split, Path outRoot, int ngramEpochs, String[] args)
      throws IOException {
    long start = System.nanoTime();
    NgramLogisticScorer ngram =
        NgramLogisticScorer.load(outRoot.resolve("ngram-logistic/ngram-logistic.bin.gz"));
    String ngramVersion = ngram.versions().get(NgramLogisticScorer.NAME);
    List<LabelledText> pool = CrossFitting.pool(split);
    List<LabelledText> test = TrainCommand.measuredTest(split);
    try (OnnxTextModel encoder =
        OnnxTextModel.loadBundledMiniLm(
            MAX_TOKENS, MAX_WINDOWS, MiniLmEnsembleScorer.BATCH_SIZE, PACK_TOKENS)) {
      EmbeddingCache cache =
          EmbeddingCache.open(
              TrainCommand.repositoryRoot().resolve("moderation-stream/target/embedding-cache"),
              encoder,
              MAX_WINDOWS,
              PACK_TOKENS);
      log.printf("Embedding %d training and validation texts with all-MiniLM-L6-v2%n", pool.size());
      List<float[][]> poolEmbeddings = cache.embed(encoder, texts(pool), log);
      log.printf("Embedding %d test texts%n", test.size());
      List<float[][]> testEmbeddings = cache.embed(encoder, texts(test), log);

      // Out-of-fold n-gram margins: the same folds, seeds and options as the n-gram command.
      log.println("Cross-fitting the n-gram heads for out-of-fold margins");
      CrossFitting.NgramResult ngramFit =
          CrossFitting.ngram(
              pool,
              ngram.model().features(),
              TrainCommand.ngramOptions(ngramEpochs),
              ngram.model().modelVersion(),
              log);
      log.println("Cross-fitting the embedding heads");
      CrossFitting.EmbeddingResult embeddingFit =
          CrossFitting.embedding(
              pool, poolEmbeddings, new DenseLogisticTrainer(12, 0.05, 1e-5, 8.0, 20240603L), log);

      Map<String, double[]> headsByName = new LinkedHashMap<>();
      Map<String, EnsembleHeads.StackerJson> stackers = new LinkedHashMap<>();
      Map<String, PlattCalibration> embeddingOnly = new LinkedHashMap<>();
      double[][] oofProbabilities = new double[pool.size()][Heads.COUNT];
      for (int h = 0; h < Heads.COUNT; h++) {
        String name = Heads.NAMES.get(h);
        headsByName.put(name, embeddingFit.finalHeads()[h]);
        List<double[]> x = new ArrayList<>();
        List<Boolean> y = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) {
          byte label = pool.get(i).label(h);
          if (label != LabelledText.UNKNOWN) {
            x.add(
                new double[] {
                  ngramFit.outOfFoldMargins()[i][h], embeddingFit.outOfFoldMargins()[i][h]
                });
            y.add(label == LabelledText.POSITIVE);
          }
        }
        boolean[] labels = new boolean[y.size()];
        double[] embeddingMargins = new double[y.size()];
        for (int i = 0; i < labels.length; i++) {
          labels[i] = y.get(i);
          embeddingMargins[i] = x.get(i)[1];
        }
        StackedLogistic stacker = StackedLogistic.fit(x.toArray(new double[0][]), labels, 1e-3);
        stackers.put(name, EnsembleHeads.StackerJson.of(stacker));
        embeddingOnly.put(name, PlattCalibration.fit(embeddingMargins, labels));
        for (int i = 0; i < pool.size(); i++) {
          oofProbabilities[i][h] =
              stacker.probability(
                  ngramFit.outOfFoldMargins()[i][h], embeddingFit.outOfFoldMargins()[i][h]);
        }
      }
      EnsembleHeads heads =
          new EnsembleHeads(
              VERSION, ngramVersion, MAX_TOKENS, MAX_WINDOWS, PACK_TOKENS, headsByName, stackers);
      Path outDir = outRoot.resolve("minilm-ensemble");
      Files.createDirectories(outDir);
      byte[] json = heads.toJson();
      TrainCommand.writeReplacing(outDir.resolve("minilm-ensemble.json"), out -> out.write(json));

      Map<String, Object> metrics = new LinkedHashMap<>();
      metrics.put("model", MiniLmEnsembleScorer.NAME);
      metrics.put("version", VERSION);
      metrics.put("ngramModel", ngramVersion);
      metrics.put(
          "encoder",
          "all-MiniLM-L6-v2 int8 (onnx sha256 "
              + encoder.modelDigest()
              + "), mean pooling, L2-normalized, "
              + MAX_TOKENS
              + "-token windows of whole sentences packed up to "
              + PACK_TOKENS
              + " tokens, at most "
              + MAX_WINDOWS
              + " per text");
      Map<String, Object> stackWeights = new LinkedHashMap<>();
      stackers.forEach(
          (name, st) ->
              stackWeights.put(
                  name,
                  Map.of(
                      "ngramWeight",
                      TrainCommand.round(st.weights()[0]),
                      "embeddingWeight",
                      TrainCommand.round(st.weights()[1]),
                      "bias",
                      TrainCommand.round(st.bias()))));
      metrics.put("stackers", stackWeights);
      TrainCommand.Measured measured = TrainCommand.Measured.of(oofProbabilities, pool);
      metrics.put(
          "outOfFold",
          TrainCommand.evaluateProbabilities(measured.probabilities(), measured.texts()));
      metrics.put("outOfFoldThresholds", thresholds(measured.probabilities(), measured.texts()));
      double[][][] m = margins(ngram, heads, test, testEmbeddings);
      Map<String, Object> bySystem = new LinkedHashMap<>();
      bySystem.put(
          "ngram",
          evaluate(
              m,
              test,
              (h, row) ->
                  ngram.model().heads().get(Heads.NAMES.get(h)).calibration().probability(row[0])));
      bySystem.put(
          "embedding",
          evaluate(m, test, (h, row) -> embeddingOnly.get(Heads.NAMES.get(h)).probability(row[1])));
      bySystem.put(
          "ensemble",
          evaluate(
              m,
              test,
              (h, row) ->
                  stackers.get(Heads.NAMES.get(h)).toStacker().probability(row[0], row[1])));
      metrics.put("test", bySystem);
      metrics.put("corpus", TrainCommand.corpusSummary(split));
      TrainCommand.writeJson(outDir.resolve("metrics.json"), metrics);
      ModelCards.writeEnsembleCard(outDir.resolve("MODEL_CARD.md"), metrics, args);
      log.printf("Wrote %s in %.0f s%n", outDir, (System.nanoTime() - start) / 1e9);
    }
  }

  /**
   * Per head, the threshold that maximizes F1 on the out-of-fold probabilities, with precision and
   * recall there: evidence for the policy's thresholds that never looks at the test split.
   */
  static Map<String, Object> thresholds(double[][] probabilities, List<LabelledText> texts) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int h = 0; h < Heads.COUNT; h++) {
      TrainCommand.HeadData data = TrainCommand.HeadData.of(probabilities, texts, h);
      double threshold = BinaryMetrics.bestF1Threshold(data.scores(), data.labels());
      BinaryMetrics.Confusion best =
          BinaryMetrics.confusionAt(data.scores(), data.labels(), threshold);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("bestF1Threshold", TrainCommand.round(threshold));
      m.put("f1", TrainCommand.round(best.f1()));
      m.put("precision", TrainCommand.round(best.precision()));
      m.put("recall", TrainCommand.round(best.recall()));
      for (double t : new double[] {0.2, 0.3, 0.5, 0.7, 0.9}) {
        BinaryMetrics.Confusion c = BinaryMetrics.confusionAt(data.scores(), data.labels(), t);
        m.put(
            "at" + t,
            Map.of(
                "precision",
                TrainCommand.round(c.precision()),
                "recall",
                TrainCommand.round(c.recall())));
      }
      out.put(Heads.NAMES.get(h), m);
    }
    return out;
  }

  static List<String> texts(List<LabelledText> labelled) {
    List<String> texts = new ArrayList<>(labelled.size());
    for (LabelledText t : labelled) {
      texts.add(t.text());
    }
    return texts;
  }

  /** [text][head] -> {n-gram margin, embedding margin (max over windows)}. */
  static double[][][] margins(
      NgramLogisticScorer ngram,
      EnsembleHeads heads,
      List<LabelledText> texts,
      List<float[][]> embeddings) {
    double[][][] margins = new double[texts.size()][Heads.COUNT][2];
    for (int i = 0; i < texts.size(); i++) {
      Map<String, Double> ngramMargins = ngram.model().margins(texts.get(i).text());
      for (int h = 0; h < Heads.COUNT; h++) {
        String name = Heads.NAMES.get(h);
        double best = Double.NEGATIVE_INFINITY;
        for (float[] window : embeddings.get(i)) {
          best = Math.max(best, heads.embeddingMargin(name, window));
        }
        margins[i][h][0] = ngramMargins.get(name);
        margins[i][h][1] = best;
      }
    }
    return margins;
  }

  interface HeadProbability {
    double of(int head, double[] margins);
  }

  static Map<String, Object> evaluate(
      double[][][] margins, List<LabelledText> texts, HeadProbability probability) {
    double[][] p = new double[texts.size()][Heads.COUNT];
    for (int i = 0; i < texts.size(); i++) {
      for (int h = 0; h < Heads.COUNT; h++) {
        p[i][h] = probability.of(h, margins[i][h]);
      }
    }
    return TrainCommand.evaluateProbabilities(p, texts);
  }

  static double auprc(double[] scores, boolean[] labels) {
    return BinaryMetrics.averagePrecision(scores, labels);
  }
}
