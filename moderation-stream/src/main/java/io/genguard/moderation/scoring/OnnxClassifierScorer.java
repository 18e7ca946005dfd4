package io.genguard.moderation.scoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Any Hugging Face text classifier exported to ONNX, loaded from a local folder through the same
 * DJL code as the built-in model ({@link OnnxTextModel}). The folder holds {@code model.onnx},
 * {@code tokenizer.json} and the model's {@code config.json} (its {@code id2label} names the
 * outputs; {@code problem_type: multi_label_classification} selects sigmoids, anything else
 * softmax). Configuration maps every label to GenGuard categories ({@code
 * genguard.scorer.label-map}, e.g. {@code toxic=harassment;identity_hate=hate;neutral=none}); a
 * category's score is the highest probability of its labels, over all windows of the text, and
 * "unsafe" the highest of any mapped label.
 *
 * <p>The scores are the classifier's own probabilities, not recalibrated by GenGuard, and
 * categories no label maps to score 0: the versions name the categories the classifier covers, so a
 * reviewer can tell. Not thread-safe.
 */
public final class OnnxClassifierScorer implements ContentScorer {
  /** Factory and version name. */
  public static final String NAME = "onnx-classifier";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OnnxTextModel model;
  private final List<String> labels;
  private final List<Set<Category>> categoriesByLabel;
  private final boolean multiLabel;
  private final String version;

  OnnxClassifierScorer(
      OnnxTextModel model,
      List<String> labels,
      Map<String, Set<Category>> labelMap,
      boolean multiLabel,
      String folderName) {
    List<String> unmapped = new ArrayList<>();
    List<Set<Category>> byLabel = new ArrayList<>();
    for (String label : labels) {
      Set<Category> categories = labelMap.get(label);
      if (categories == null) {
        unmapped.add(label);
      } else {
        byLabel.add(categories);
      }
    }
    if (!unmapped.isEmpty()) {
      throw new IllegalArgumentException(
          "The classifier's labels "
              + unmapped
              + " are not in "
              + ScorerConfig.KEY_LABEL_MAP
              + "; map each label to categories, or to 'none' to ignore it"
              + " (labels: "
              + labels
              + ")");
    }
    for (String mapped : labelMap.keySet()) {
      if (!labels.contains(mapped)) {
        throw new IllegalArgumentException(
            ScorerConfig.KEY_LABEL_MAP
                + " names label '"
                + mapped
                + "', which the classifier does not have (labels: "
                + labels
                + ")");
      }
    }
    this.model = model;
    this.labels = List.copyOf(labels);
    this.categoriesByLabel = byLabel;
    this.multiLabel = multiLabel;
    EnumSet<Category> covered = EnumSet.noneOf(Category.class);
    byLabel.forEach(covered::addAll);
    this.version =
        folderName
            + "+onnx-sha256:"
            + model.modelDigest()
            + " ("
            + (multiLabel ? "sigmoid" : "softmax")
            + ", uncalibrated, covers "
            + covered.stream().map(Category::id).toList()
            + ")";
  }

  /** Loads the classifier folder named by {@link ScorerConfig#modelPath()}. */
  public static OnnxClassifierScorer load(ScorerConfig config) {
    if (config.modelPath() == null) {
      throw new IllegalArgumentException(
          "The onnx-classifier scorer needs "
              + ScorerConfig.KEY_MODEL_PATH
              + ": a folder with model.onnx, tokenizer.json and config.json");
    }
    Path folder = config.modelPath();
    Path configFile = folder.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new IllegalStateException(
          "The classifier config " + configFile + " does not exist; it must hold id2label");
    }
    JsonNode json;
    try {
      json = JSON.readTree(configFile.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + configFile + ": " + e.getMessage(), e);
    }
    JsonNode id2label = json.path("id2label");
    if (!id2label.isObject() || id2label.isEmpty()) {
      throw new IllegalStateException(configFile + " has no id2label mapping");
    }
    TreeMap<Integer, String> ordered = new TreeMap<>();
    id2label
        .fields()
        .forEachRemaining(e -> ordered.put(Integer.parseInt(e.getKey()), e.getValue().asText()));
    List<String> labels = new ArrayList<>(ordered.values());
    boolean multiLabel = "multi_label_classification".equals(json.path("problem_type").asText());
    OnnxTextModel model = OnnxTextModel.load(folder, config.maxTokens(), 8, 32);
    try {
      return new OnnxClassifierScorer(
          model, labels, config.labelMap(), multiLabel, folder.getFileName().toString());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  public List<String> labels() {
    return labels;
  }

  /** Per label probabilities of one text: the highest over its windows. */
  public List<double[]> labelProbabilities(List<String> texts) {
    List<long[]> sequences = new ArrayList<>();
    int[] counts = new int[texts.size()];
    for (int i = 0; i < texts.size(); i++) {
      List<long[]> windows = model.windows(texts.get(i));
      counts[i] = windows.size();
      sequences.addAll(windows);
    }
    float[][] logits = model.forward(sequences);
    List<double[]> out = new ArrayList<>(texts.size());
    int next = 0;
    for (int count : counts) {
      double[] best = new double[labels.size()];
      for (int w = 0; w < count; w++) {
        float[] row = logits[next++];
        if (row.length != labels.size()) {
          throw new IllegalStateException(
              "The classifier returned " + row.length + " logits for " + labels.size() + " labels");
        }
        double[] p = multiLabel ? sigmoid(row) : softmax(row);
        for (int l = 0; l < p.length; l++) {
          best[l] = Math.max(best[l], p[l]);
        }
      }
      out.add(best);
    }
    return out;
  }

  @Override
  public List<ContentScores> scoreBatch(List<String> texts) {
    List<ContentScores> out = new ArrayList<>(texts.size());
    for (double[] p : labelProbabilities(texts)) {
      Map<Category, Double> categories = new EnumMap<>(Category.class);
      for (Category category : Category.values()) {
        categories.put(category, 0.0);
      }
      double unsafe = 0;
      for (int l = 0; l < p.length; l++) {
        for (Category category : categoriesByLabel.get(l)) {
          categories.merge(category, p[l], Math::max);
          unsafe = Math.max(unsafe, p[l]);
        }
      }
      out.add(new ContentScores(unsafe, categories));
    }
    return out;
  }

  static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double sum = 0;
    double[] p = new double[logits.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp(logits[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  static double[] sigmoid(float[] logits) {
    double[] p = new double[logits.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = PlattCalibration.sigmoid(logits[i]);
    }
    return p;
  }

  @Override
  public Map<String, String> versions() {
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put(NAME, version);
    return versions;
  }

  @Override
  public void close() {
    model.close();
  }
}
