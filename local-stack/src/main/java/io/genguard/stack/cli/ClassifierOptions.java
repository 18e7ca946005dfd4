package io.genguard.stack.cli;

import io.genguard.moderation.scoring.ScorerConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The imported classifier the moderation job ran ({@code onnx-classifier}), for {@code audit
 * replay} and {@code audit what-if} to judge its verdicts again: the flags {@code score} takes,
 * else the job's environment keys. Without either, its verdicts are not replayable; with a
 * classifier whose version (folder name and a digest of the model, tokenizer, labels, label map and
 * window length) is not the recorded one, they are refused before scoring.
 */
final class ClassifierOptions {
  @Option(
      names = ScorerConfig.CLASSIFIER_DIR_FLAG,
      paramLabel = "DIR",
      description =
          "For verdicts of the imported classifier (onnx-classifier): the folder the moderation job"
              + " ran (model.onnx, tokenizer.json, config.json). Default: "
              + ScorerConfig.CLASSIFIER_DIR
              + ".")
  String dir;

  @Option(
      names = ScorerConfig.CLASSIFIER_LABELS_FLAG,
      paramLabel = "MAP",
      description =
          "Its label map, label=category[,category];... as the job ran it. Default: "
              + ScorerConfig.CLASSIFIER_LABELS
              + ".")
  String labels;

  @Option(
      names = ScorerConfig.CLASSIFIER_MAX_TOKENS_FLAG,
      paramLabel = "N",
      description =
          "Its window length in tokens, as the job ran it. Default: "
              + ScorerConfig.CLASSIFIER_MAX_TOKENS
              + ", else "
              + ScorerConfig.DEFAULT_MAX_TOKENS
              + ".")
  String maxTokens;

  /**
   * The classifier's settings: from the flags when any is given (the environment is then not read,
   * so that one run's settings never mix two sources), else from the job's environment keys; null
   * when neither names any. The classifier's folder, from the flag or the key, must exist and hold
   * the files the classifier loads, and the label map must fit the labels of its {@code
   * config.json} ({@link ScorerConfig#requireClassifier}, without loading the model): else a label
   * map that does not fit showed only as the classifier loaded, once the store was read.
   *
   * @throws IllegalArgumentException for a value that cannot be parsed, a folder that is missing or
   *     incomplete, or a label map that does not fit, naming its flag or key
   */
  ScorerConfig classifier() {
    if (dir != null || labels != null || maxTokens != null) {
      Map<String, String> options = new HashMap<>();
      put(options, ScorerConfig.CLASSIFIER_DIR_FLAG.substring(2), dir);
      put(options, ScorerConfig.CLASSIFIER_LABELS_FLAG.substring(2), labels);
      put(options, ScorerConfig.CLASSIFIER_MAX_TOKENS_FLAG.substring(2), maxTokens);
      // fromOptions checks the folder and the label map (ScorerConfig.requireClassifier).
      return ScorerConfig.fromOptions(
          io.genguard.moderation.scoring.OnnxClassifierScorer.NAME, options);
    }
    Map<String, String> env = new HashMap<>();
    for (String key :
        List.of(
            ScorerConfig.CLASSIFIER_DIR,
            ScorerConfig.CLASSIFIER_LABELS,
            ScorerConfig.CLASSIFIER_MAX_TOKENS)) {
      put(env, key, AuditStoreOptions.environment.apply(key));
    }
    ScorerConfig classifier = ScorerConfig.classifierFromEnvironment(env);
    if (classifier != null) {
      // Checked as the flag is, before the store is read: else a folder that is missing or
      // incomplete showed only as the classifier loaded, at the first of its verdicts.
      ScorerConfig.requireClassifier(ScorerConfig.CLASSIFIER_DIR, classifier);
    }
    return classifier;
  }

  private static void put(Map<String, String> map, String key, String value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
