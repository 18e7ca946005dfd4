package io.genguard.moderation.scoring;

import java.util.List;

/**
 * Creates content scorers by name, so the Flink job, the score command and the quality report pick
 * one from configuration ({@link ScorerConfig}).
 *
 * <p>The model scorers are wrapped in {@link SentenceMaxScorer}: each text is scored whole and
 * sentence by sentence (list headers with the sentence after them, each sentence's scores weighted
 * 0.9), so a harmful sentence is not hidden by a benign one packed with it.
 *
 * <ul>
 *   <li>{@code minilm-ensemble} (default): all-MiniLM-L6-v2 embeddings through DJL's ONNX Runtime
 *       engine, stacked with the n-gram heads; calibrated.
 *   <li>{@code onnx-classifier}: any Hugging Face text classifier exported to ONNX, from the folder
 *       {@code GENGUARD_MODERATION_CLASSIFIER_DIR} ({@code --classifier-dir}), labels mapped to
 *       categories by {@code GENGUARD_MODERATION_CLASSIFIER_LABELS} ({@code --classifier-labels}):
 *       {@link ScorerConfig}.
 *   <li>{@code ngram-logistic}: calibrated logistic heads over hashed n-grams (in the jar).
 *   <li>{@code keyword-baseline}: a plain profanity word list; the quality report's baseline.
 *   <li>{@code trivial-benchmark}: BENCHMARK ONLY, scores everything 0 in constant time so that the
 *       plumbing benchmark measures the pipeline, not a model. Never a default.
 * </ul>
 */
public final class ScorerFactory {
  /** Every name {@link #create} accepts. */
  public static final List<String> NAMES =
      List.of(
          MiniLmEnsembleScorer.NAME,
          OnnxClassifierScorer.NAME,
          NgramLogisticScorer.NAME,
          KeywordBaselineScorer.NAME,
          TrivialBenchmarkScorer.NAME);

  private ScorerFactory() {}

  /**
   * Checks a scorer name an operator configured for a running job (an environment key or a flag,
   * named by {@code setting}): the benchmark scorer scores every text 0, so a job with it would
   * release everything; the plumbing benchmark picks it itself, never through configuration.
   *
   * @return {@code name}
   * @throws IllegalArgumentException for {@link TrivialBenchmarkScorer#NAME}
   */
  public static String configured(String setting, String name) {
    if (name != null && name.strip().equals(TrivialBenchmarkScorer.NAME)) {
      throw new IllegalArgumentException(
          setting
              + " is '"
              + TrivialBenchmarkScorer.NAME
              + "', which scores every text 0 and would release everything: it is for the"
              + " plumbing benchmark only, which picks it itself; name a scorer of "
              + NAMES.subList(0, NAMES.size() - 1)
              + " or leave it out for the default");
    }
    return name;
  }

  /**
   * @throws IllegalArgumentException for an unknown name, listing the known ones
   */
  public static ContentScorer create(ScorerConfig config) {
    return switch (config.name()) {
      // The models score sentence by sentence as well as whole (SentenceMaxScorer).
      case MiniLmEnsembleScorer.NAME ->
          new SentenceMaxScorer(
              config.modelPath() == null
                  ? MiniLmEnsembleScorer.loadDefault()
                  : MiniLmEnsembleScorer.load(config.modelPath()));
      case OnnxClassifierScorer.NAME -> new SentenceMaxScorer(OnnxClassifierScorer.load(config));
      case NgramLogisticScorer.NAME ->
          new SentenceMaxScorer(
              config.modelPath() == null
                  ? NgramLogisticScorer.loadDefault()
                  : NgramLogisticScorer.load(config.modelPath()));
      case KeywordBaselineScorer.NAME -> KeywordBaselineScorer.loadDefault();
      case TrivialBenchmarkScorer.NAME -> new TrivialBenchmarkScorer();
      default ->
          throw new IllegalArgumentException(
              "Unknown scorer '" + config.name() + "'; known scorers: " + NAMES);
    };
  }
}
