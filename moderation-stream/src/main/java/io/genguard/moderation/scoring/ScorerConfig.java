package io.genguard.moderation.scoring;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Which content scorer to run and how, as parsed from configuration.
 *
 * <p>Keys (all optional): {@value #KEY_NAME} (one of {@link ScorerFactory#NAMES}, default {@value
 * #DEFAULT_NAME}); {@value #KEY_MODEL_PATH} (a model file or folder; for {@code onnx-classifier}
 * the folder holding {@code model.onnx} and {@code tokenizer.json}); {@value #KEY_LABEL_MAP} (for
 * {@code onnx-classifier}: {@code label=category[,category];label=...}, e.g. {@code
 * toxic=harassment;identity_hate=hate;threat=violence,harassment}); {@value #KEY_MAX_TOKENS}
 * (tokens per text that the transformer scorers read, default {@value #DEFAULT_MAX_TOKENS}).
 *
 * @param name the scorer's factory name
 * @param modelPath a model file or folder, or null for the model in the jar
 * @param labelMap classifier label to GenGuard categories, for imported classifiers
 * @param maxTokens tokens per text the transformer scorers read
 */
public record ScorerConfig(
    String name, Path modelPath, Map<String, Set<Category>> labelMap, int maxTokens) {
  public static final String KEY_NAME = "genguard.scorer.name";
  public static final String KEY_MODEL_PATH = "genguard.scorer.model-path";
  public static final String KEY_LABEL_MAP = "genguard.scorer.label-map";
  public static final String KEY_MAX_TOKENS = "genguard.scorer.max-tokens";
  public static final String DEFAULT_NAME = MiniLmEnsembleScorer.NAME;
  public static final int DEFAULT_MAX_TOKENS = 256;

  public ScorerConfig {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(KEY_NAME + " must not be blank");
    }
    if (maxTokens < 8) {
      throw new IllegalArgumentException(KEY_MAX_TOKENS + " must be at least 8, got " + maxTokens);
    }
    labelMap = Collections.unmodifiableMap(new LinkedHashMap<>(labelMap));
  }

  /** The default scorer with the model in the jar. */
  public static ScorerConfig defaults() {
    return named(DEFAULT_NAME);
  }

  /** A scorer by name with the model in the jar. */
  public static ScorerConfig named(String name) {
    return new ScorerConfig(name, null, Map.of(), DEFAULT_MAX_TOKENS);
  }

  /** Reads the keys above from a flat map (properties, environment or a parsed config file). */
  public static ScorerConfig fromMap(Map<String, String> settings) {
    String name = settings.getOrDefault(KEY_NAME, DEFAULT_NAME).strip();
    String path = settings.get(KEY_MODEL_PATH);
    String maxTokens = settings.getOrDefault(KEY_MAX_TOKENS, String.valueOf(DEFAULT_MAX_TOKENS));
    int tokens;
    try {
      tokens = Integer.parseInt(maxTokens.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          KEY_MAX_TOKENS + " must be an integer, got '" + maxTokens + "'");
    }
    return new ScorerConfig(
        name,
        path == null || path.isBlank() ? null : Path.of(path.strip()),
        parseLabelMap(settings.getOrDefault(KEY_LABEL_MAP, "")),
        tokens);
  }

  /** Parses {@code label=category[,category];...}; a label mapped to {@code none} is ignored. */
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
            KEY_LABEL_MAP + ": entry '" + entry.strip() + "' is not label=category[,category]");
      }
      String label = entry.substring(0, eq).strip();
      Set<Category> categories = EnumSet.noneOf(Category.class);
      for (String id : entry.substring(eq + 1).split(",")) {
        if (!id.isBlank() && !id.strip().equals("none")) {
          try {
            categories.add(Category.fromId(id));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                KEY_LABEL_MAP + ": label '" + label + "': " + e.getMessage(), e);
          }
        }
      }
      map.put(label, categories);
    }
    return map;
  }
}
