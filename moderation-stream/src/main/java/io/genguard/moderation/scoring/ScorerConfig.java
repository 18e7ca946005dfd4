package io.genguard.moderation.scoring;

import io.genguard.schemas.UnusablePaths;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which content scorer to run and how.
 *
 * <p>The {@code onnx-classifier} scorer (a Hugging Face text classifier a user brings) needs its
 * folder and a label map. The moderation job and the embedded stack read them from the environment
 * ({@link #fromEnvironment}): {@value #CLASSIFIER_DIR} (the folder holding {@code model.onnx},
 * {@code tokenizer.json} and {@code config.json}), {@value #CLASSIFIER_LABELS} ({@code
 * label=category[,category];label=...}, e.g. {@code
 * toxic=harassment;identity_hate=hate;threat=violence,harassment;neutral=none}) and {@value
 * #CLASSIFIER_MAX_TOKENS} (tokens per window the classifier reads, default {@value
 * #DEFAULT_MAX_TOKENS}); {@code score} and {@code quality} take the same as {@value
 * #CLASSIFIER_DIR_FLAG}, {@value #CLASSIFIER_LABELS_FLAG} and {@value #CLASSIFIER_MAX_TOKENS_FLAG}
 * ({@link #of}), and {@code audit replay} and {@code audit what-if} either, to judge the
 * classifier's verdicts again ({@link #classifierFromEnvironment}). They are refused with any other
 * scorer, which would not read them.
 *
 * @param name the scorer's factory name
 * @param modelPath a model file or folder, or null for the model in the jar
 * @param labelMap classifier label to GenGuard categories, for imported classifiers
 * @param maxTokens tokens per window the imported classifier reads
 */
public record ScorerConfig(
    String name, Path modelPath, Map<String, Set<Category>> labelMap, int maxTokens) {
  public static final String CLASSIFIER_DIR = "GENGUARD_MODERATION_CLASSIFIER_DIR";
  public static final String CLASSIFIER_LABELS = "GENGUARD_MODERATION_CLASSIFIER_LABELS";
  public static final String CLASSIFIER_MAX_TOKENS = "GENGUARD_MODERATION_CLASSIFIER_MAX_TOKENS";
  public static final String CLASSIFIER_DIR_FLAG = "--classifier-dir";
  public static final String CLASSIFIER_LABELS_FLAG = "--classifier-labels";
  public static final String CLASSIFIER_MAX_TOKENS_FLAG = "--classifier-max-tokens";

  /** How messages name the folder setting: the environment key and the commands' flag. */
  public static final String DIR_SETTING =
      CLASSIFIER_DIR
          + " ("
          + CLASSIFIER_DIR_FLAG
          + " for score, quality, audit replay and audit what-if)";

  /** How messages name the label map setting. */
  public static final String LABELS_SETTING =
      CLASSIFIER_LABELS
          + " ("
          + CLASSIFIER_LABELS_FLAG
          + " for score, quality, audit replay and audit what-if)";

  /** How messages name the window length setting. */
  public static final String MAX_TOKENS_SETTING =
      CLASSIFIER_MAX_TOKENS
          + " ("
          + CLASSIFIER_MAX_TOKENS_FLAG
          + " for score, quality, audit replay and audit what-if)";

  public static final String DEFAULT_NAME = MiniLmEnsembleScorer.NAME;
  public static final int DEFAULT_MAX_TOKENS = 256;

  public ScorerConfig {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("The scorer name must not be blank");
    }
    if (maxTokens < 8) {
      throw new IllegalArgumentException(
          MAX_TOKENS_SETTING + " must be at least 8, got " + maxTokens);
    }
    labelMap = Collections.unmodifiableMap(new LinkedHashMap<>(labelMap));
  }

  /** The default scorer with the model in the jar. */
  public static ScorerConfig defaults() {
    return named(DEFAULT_NAME);
  }

  /** A scorer by name with the model in the jar ({@code default} is {@link #DEFAULT_NAME}). */
  public static ScorerConfig named(String name) {
    return new ScorerConfig(resolve(name), null, Map.of(), DEFAULT_MAX_TOKENS);
  }

  /**
   * The scorer {@code name} with the classifier settings of an environment ({@value
   * #CLASSIFIER_DIR}, {@value #CLASSIFIER_LABELS}, {@value #CLASSIFIER_MAX_TOKENS}); blank values
   * count as unset.
   *
   * @param name a name from {@link ScorerFactory#NAMES}, or {@code default} (or null) for {@link
   *     #DEFAULT_NAME}
   * @throws IllegalArgumentException for a classifier setting with another scorer, or a value that
   *     cannot be parsed, naming the setting
   */
  public static ScorerConfig fromEnvironment(String name, Map<String, String> env) {
    return of(
        name,
        env.get(CLASSIFIER_DIR),
        env.get(CLASSIFIER_LABELS),
        env.get(CLASSIFIER_MAX_TOKENS),
        new String[] {CLASSIFIER_DIR, CLASSIFIER_LABELS, CLASSIFIER_MAX_TOKENS});
  }

  /**
   * The imported classifier's settings in an environment ({@value #CLASSIFIER_DIR}, {@value
   * #CLASSIFIER_LABELS}, {@value #CLASSIFIER_MAX_TOKENS}, as the moderation job reads them), for
   * judging its verdicts again ({@code audit replay}, {@code audit what-if}, reviewers'
   * explanations); null when none of them is set.
   *
   * @throws IllegalArgumentException for a value that cannot be parsed, naming the setting
   */
  public static ScorerConfig classifierFromEnvironment(Map<String, String> env) {
    for (String key : List.of(CLASSIFIER_DIR, CLASSIFIER_LABELS, CLASSIFIER_MAX_TOKENS)) {
      String value = env.get(key);
      if (value != null && !value.isBlank()) {
        return fromEnvironment(OnnxClassifierScorer.NAME, env);
      }
    }
    return null;
  }

  /**
   * The scorer {@code name} with the classifier flags of {@code score} or {@code quality} (option
   * names without their dashes: {@code classifier-dir}, {@code classifier-labels}, {@code
   * classifier-max-tokens}). For {@code onnx-classifier}, the folder and the label map are checked
   * as {@link #requireClassifier} does, without loading the model: before, only the folder was, and
   * a label map that did not fit the classifier's labels showed as the scorer loaded (exit 1).
   *
   * @throws IllegalArgumentException for a value that cannot be parsed, a folder that is missing or
   *     incomplete, or a label map that does not fit, naming the flag
   */
  public static ScorerConfig fromOptions(String name, Map<String, String> options) {
    ScorerConfig config =
        of(
            name,
            options.get(CLASSIFIER_DIR_FLAG.substring(2)),
            options.get(CLASSIFIER_LABELS_FLAG.substring(2)),
            options.get(CLASSIFIER_MAX_TOKENS_FLAG.substring(2)),
            new String[] {CLASSIFIER_DIR_FLAG, CLASSIFIER_LABELS_FLAG, CLASSIFIER_MAX_TOKENS_FLAG});
    if (config.name().equals(OnnxClassifierScorer.NAME)) {
      requireClassifier(CLASSIFIER_DIR_FLAG, config);
    }
    return config;
  }

  /**
   * Refuses a classifier folder that is not given, not a folder or lacks a file the loader reads: a
   * usage error found before a command starts its work, where the loader would fail only once the
   * scorer loads (exit 1). The moderation job, the embedded stack's {@code run} and {@code demo},
   * {@code score} and {@code quality} ({@link #fromOptions}), {@code audit replay} and {@code audit
   * what-if} (flags or environment) and the audit service with explanations on check it through
   * {@link #requireClassifier}, at start-up, where they load the classifier later.
   *
   * @param setting the flag or environment key that named {@code dir}, for the message
   * @param dir the folder, or null when the setting was not given
   * @throws IllegalArgumentException naming {@code setting}
   */
  public static void requireClassifierFolder(String setting, Path dir) {
    String needs = String.join(", ", OnnxClassifierScorer.FILES);
    if (dir == null) {
      throw new IllegalArgumentException(
          setting
              + " is required with "
              + OnnxClassifierScorer.NAME
              + ": name the classifier's folder ("
              + needs
              + ")");
    }
    String unusable = UnusablePaths.whyNotAFolderToRead(dir);
    if (unusable != null) {
      throw new IllegalArgumentException(
          setting + " " + dir + " " + unusable + "; name the classifier's folder (" + needs + ")");
    }
    for (String file : OnnxClassifierScorer.FILES) {
      if (!Files.isRegularFile(dir.resolve(file))) {
        throw new IllegalArgumentException(
            setting + " " + dir + " has no " + file + "; the classifier needs " + needs);
      }
    }
  }

  /**
   * Refuses an imported classifier that would not load for its folder or its label map, without
   * loading the model: {@link #requireClassifierFolder}, then the folder's {@code config.json} and
   * the label map against its labels ({@link OnnxClassifierScorer#checkWithoutLoading}), in the
   * loader's words. The moderation job ({@code ModerationJobSettings}), the embedded stack's {@code
   * run} and {@code demo}, {@code score} and {@code quality} ({@link #fromOptions}), {@code audit
   * replay} and {@code audit what-if} ({@code ClassifierOptions}) and the audit service with
   * explanations on ({@code ReplayingExplanations}) call it at start-up: else a label map that does
   * not fit showed only once the classifier loaded (the job's as it was built, the stack's once
   * Kafka and PostgreSQL were up, score's and quality's as the scorer loaded, replay's and
   * what-if's once the store was read, the audit service's at the first verdict explained).
   *
   * @param setting the flag or environment key that named the folder, for the message
   * @param classifier the {@code onnx-classifier} settings
   * @throws IllegalArgumentException with a one-line message naming the setting to change
   */
  public static void requireClassifier(String setting, ScorerConfig classifier) {
    requireClassifierFolder(setting, classifier.modelPath());
    try {
      OnnxClassifierScorer.checkWithoutLoading(classifier);
    } catch (IllegalStateException | UncheckedIOException e) {
      // The folder's config.json: a usage error here, as a missing file is.
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** The option names {@link #fromOptions} reads, without their dashes. */
  public static final Set<String> OPTIONS =
      Set.of(
          CLASSIFIER_DIR_FLAG.substring(2),
          CLASSIFIER_LABELS_FLAG.substring(2),
          CLASSIFIER_MAX_TOKENS_FLAG.substring(2));

  private static ScorerConfig of(
      String name, String dir, String labels, String maxTokens, String[] settings) {
    String scorer = resolve(name);
    String[] values = {dir, labels, maxTokens};
    if (!scorer.equals(OnnxClassifierScorer.NAME)) {
      for (int i = 0; i < values.length; i++) {
        if (values[i] != null && !values[i].isBlank()) {
          throw new IllegalArgumentException(
              settings[i]
                  + " is set, but the scorer is '"
                  + scorer
                  + "': the classifier settings are read for "
                  + OnnxClassifierScorer.NAME
                  + " only; remove it, or choose that scorer");
        }
      }
      return named(scorer);
    }
    int tokens = DEFAULT_MAX_TOKENS;
    if (maxTokens != null && !maxTokens.isBlank()) {
      try {
        tokens = Integer.parseInt(maxTokens.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            settings[2] + " must be an integer, got '" + maxTokens + "'");
      }
      if (tokens < 8 || tokens > 8192) {
        throw new IllegalArgumentException(settings[2] + " must be 8-8192, got " + tokens);
      }
    }
    Map<String, Set<Category>> map;
    try {
      map = parseLabelMap(labels == null ? "" : labels);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(settings[1] + ": " + e.getMessage(), e);
    }
    return new ScorerConfig(
        scorer, dir == null || dir.isBlank() ? null : Path.of(dir.strip()), map, tokens);
  }

  private static String resolve(String name) {
    return name == null || name.isBlank() || name.strip().equals("default")
        ? DEFAULT_NAME
        : name.strip();
  }

  /**
   * The label map as one canonical string ({@code label=category,...;...}, labels sorted,
   * categories in their fixed order, {@code none} for a label left out): {@link #parseLabelMap}
   * reads it back to the same map.
   */
  public String labelMapSpec() {
    List<String> entries = new ArrayList<>();
    for (Map.Entry<String, Set<Category>> e : new TreeMap<>(labelMap).entrySet()) {
      entries.add(
          e.getKey()
              + "="
              + (e.getValue().isEmpty()
                  ? NONE
                  : String.join(
                      ",", EnumSet.copyOf(e.getValue()).stream().map(Category::id).toList())));
    }
    return String.join(";", entries);
  }

  /** What a label that counts for no category is mapped to. */
  public static final String NONE = "none";

  /**
   * Parses {@code label=category[,category];...}; a label mapped to {@code none} is ignored by the
   * scorer. A label mapped to nothing ({@code toxic=}), to {@code none} and a category at once, or
   * named twice is refused: each would leave a harmful label counting for nothing unnoticed.
   */
  public static Map<String, Set<Category>> parseLabelMap(String spec) {
    Map<String, Set<Category>> map = new LinkedHashMap<>();
    if (spec.isBlank()) {
      return map;
    }
    for (String entry : spec.split(";")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "entry '" + entry.strip() + "' is not label=category[,category] (or label=none)");
      }
      String label = entry.substring(0, eq).strip();
      if (map.containsKey(label)) {
        throw new IllegalArgumentException(
            "label '" + label + "' is mapped twice; map each label once");
      }
      Set<Category> categories = EnumSet.noneOf(Category.class);
      boolean none = false;
      for (String id : entry.substring(eq + 1).split(",")) {
        if (id.isBlank()) {
          continue;
        }
        if (id.strip().equals(NONE)) {
          none = true;
          continue;
        }
        try {
          categories.add(Category.fromId(id));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("label '" + label + "': " + e.getMessage(), e);
        }
      }
      if (none && !categories.isEmpty()) {
        throw new IllegalArgumentException(
            "label '" + label + "' is mapped to none and to categories at once; choose one");
      }
      if (!none && categories.isEmpty()) {
        throw new IllegalArgumentException(
            "label '"
                + label
                + "' is mapped to no category; name its categories, or write "
                + label
                + "=none to ignore it");
      }
      map.put(label, categories);
    }
    return map;
  }
}
