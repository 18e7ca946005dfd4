package io.genguard.moderation.scoring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Any Hugging Face text classifier exported to ONNX, loaded from a local folder through the same
 * DJL code as the built-in model ({@link OnnxTextModel}). The folder holds {@code model.onnx} (and
 * any external weight files it names), {@code tokenizer.json} and the model's {@code config.json}
 * (its {@code id2label} names the outputs; {@code problem_type: multi_label_classification} selects
 * sigmoids, anything else softmax). Configuration maps every label to GenGuard categories ({@link
 * ScorerConfig#CLASSIFIER_LABELS}, e.g. {@code toxic=harassment;identity_hate=hate;neutral=none});
 * a category's score is the highest probability of its labels, over all windows of the text, and
 * "unsafe" the highest of any mapped label.
 *
 * <p>The folder is checked at load, so that a mismatch fails at start with what to change rather
 * than holding every text as a scorer error: {@code id2label} keys must be the integers 0..n-1, the
 * model must take only the inputs GenGuard feeds, run on a test text and return one row of n logits
 * per text ([batch, n], so a base encoder or a token classifier is refused), and {@code
 * max_position_embeddings}, when given, must allow a window's tokens. A label map that maps every
 * label to {@code none} is refused: the classifier would score every text 0.
 *
 * <p>A text is read in windows of {@link ScorerConfig#maxTokens()} tokens, up to {@link
 * #TOKENS_READ} tokens in all ({@link #windowsFor}): {@value #TOKENS_PER_CHAR} tokens for each of
 * the {@value TextScreening#DEFAULT_MAX_CHARS} characters a screened text is scored on, so the end
 * of a long text is read too.
 *
 * <p>The scores are the classifier's own probabilities, not recalibrated by GenGuard, and
 * categories no label maps to score 0: the versions name the categories the classifier covers, so a
 * reviewer can tell, and a digest of everything that decides the scores ({@link #digest}). Not
 * thread-safe.
 */
public final class OnnxClassifierScorer implements ContentScorer {
  /** Factory and version name. */
  public static final String NAME = "onnx-classifier";

  /**
   * Tokens a character can become at most in the usual tokenizers (byte-level BPE: one per UTF-8
   * byte; WordPiece: at most one).
   */
  static final int TOKENS_PER_CHAR = 4;

  /** Tokens of one text the classifier reads at most. */
  public static final int TOKENS_READ = TOKENS_PER_CHAR * TextScreening.DEFAULT_MAX_CHARS;

  /** The text run once at load, to check the model's inputs and outputs. */
  static final String PROBE_TEXT = "GenGuard checks that this classifier loads.";

  /** The model's config in the classifier folder: its id2label, problem type and length. */
  static final String CONFIG_FILE = "config.json";

  /**
   * The files {@link #load} reads from the classifier folder, the one list {@link ScorerConfig}
   * checks a folder against too.
   */
  public static final List<String> FILES =
      List.of(OnnxTextModel.MODEL_FILE, OnnxTextModel.TOKENIZER_FILE, CONFIG_FILE);

  /** {@link #FILES} as a message names them. */
  private static final String FILES_NAMED =
      String.join(", ", FILES.subList(0, FILES.size() - 1)) + " and " + FILES.get(FILES.size() - 1);

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
      String folderName,
      String digest) {
    List<Set<Category>> byLabel = categoriesByLabel(labels, labelMap);
    EnumSet<Category> covered = EnumSet.noneOf(Category.class);
    byLabel.forEach(covered::addAll);
    this.model = model;
    this.labels = List.copyOf(labels);
    this.categoriesByLabel = byLabel;
    this.multiLabel = multiLabel;
    this.version =
        folderName
            + "+sha256:"
            + digest
            + " ("
            + (multiLabel ? "sigmoid" : "softmax")
            + ", uncalibrated, covers "
            + covered.stream().map(Category::id).toList()
            + ")";
  }

  /**
   * The categories of each label in output order: the label map must map every label of the
   * classifier, name no other, and map at least one label to a category.
   *
   * @throws IllegalArgumentException naming {@link ScorerConfig#LABELS_SETTING} and the labels
   */
  static List<Set<Category>> categoriesByLabel(
      List<String> labels, Map<String, Set<Category>> labelMap) {
    if (labelMap.isEmpty()) {
      throw new IllegalArgumentException(
          "The onnx-classifier scorer needs a label map: set "
              + ScorerConfig.LABELS_SETTING
              + " to label=category[,category];... mapping each of the classifier's labels "
              + labels
              + " (label=none to ignore one)");
    }
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
              + ScorerConfig.LABELS_SETTING
              + "; map each label to categories, or to 'none' to ignore it"
              + " (labels: "
              + labels
              + ")");
    }
    for (String mapped : labelMap.keySet()) {
      if (!labels.contains(mapped)) {
        throw new IllegalArgumentException(
            ScorerConfig.LABELS_SETTING
                + " names label '"
                + mapped
                + "', which the classifier does not have (labels: "
                + labels
                + ")");
      }
    }
    EnumSet<Category> covered = EnumSet.noneOf(Category.class);
    byLabel.forEach(covered::addAll);
    if (covered.isEmpty()) {
      throw new IllegalArgumentException(
          ScorerConfig.LABELS_SETTING
              + " maps every label of the classifier "
              + labels
              + " to none: it would score every text 0 and release everything; map the labels"
              + " that mean harm to their categories");
    }
    return byLabel;
  }

  /** Windows of {@code maxTokens} tokens that cover {@link #TOKENS_READ} tokens. */
  static int windowsFor(int maxTokens) {
    // Each window holds maxTokens less its special tokens ([CLS] [SEP], <s> </s>): at least 2.
    int room = Math.max(1, maxTokens - 4);
    return (TOKENS_READ + room - 1) / room;
  }

  /** Loads and checks the classifier folder named by {@link ScorerConfig#modelPath()}. */
  public static OnnxClassifierScorer load(ScorerConfig config) {
    FolderConfig folderConfig = readConfig(config);
    Path folder = config.modelPath();
    List<String> labels = folderConfig.labels();
    boolean multiLabel = folderConfig.multiLabel();
    String digest = digest(folder, labels, multiLabel, config);
    OnnxTextModel model =
        OnnxTextModel.load(folder, config.maxTokens(), windowsFor(config.maxTokens()), 32);
    try {
      checkOutputs(model, folder, labels.size());
      return new OnnxClassifierScorer(
          model, labels, config.labelMap(), multiLabel, folder.getFileName().toString(), digest);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Checks what {@link #load} checks before it loads the model: the folder's {@code config.json}
   * ({@code id2label}, {@code max_position_embeddings}) and the label map against its labels, with
   * the same messages, so that a start-up can refuse them without loading the model ({@link
   * ScorerConfig#requireClassifier}). The model's inputs and outputs are checked only at load.
   *
   * @throws IllegalArgumentException for a label map that does not fit the labels
   * @throws IllegalStateException for a folder or config.json that does not fit
   * @throws UncheckedIOException for a config.json that cannot be read
   */
  public static void checkWithoutLoading(ScorerConfig config) {
    categoriesByLabel(readConfig(config).labels(), config.labelMap());
  }

  /** What the loader reads from {@code config.json}: the labels in output order, the problem. */
  private record FolderConfig(List<String> labels, boolean multiLabel) {}

  /** Reads and checks the folder's {@code config.json}; no model is loaded. */
  private static FolderConfig readConfig(ScorerConfig config) {
    if (config.modelPath() == null) {
      throw new IllegalArgumentException(
          "The onnx-classifier scorer needs a model folder: set "
              + ScorerConfig.DIR_SETTING
              + " to a folder with "
              + FILES_NAMED);
    }
    Path folder = config.modelPath();
    if (!Files.isDirectory(folder)) {
      throw new IllegalStateException(
          "The classifier folder "
              + folder
              + " is not a directory; "
              + ScorerConfig.DIR_SETTING
              + " must name a folder with "
              + FILES_NAMED);
    }
    Path configFile = folder.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(configFile)) {
      throw new IllegalStateException(
          "The classifier config " + configFile + " does not exist; it must hold id2label");
    }
    JsonNode json;
    try {
      json = JSON.readTree(configFile.toFile());
    } catch (JsonProcessingException e) {
      // One line: Jackson's own message goes on with the source and location on further lines.
      throw new UncheckedIOException(
          "Cannot read "
              + configFile
              + ": not JSON ("
              + e.getOriginalMessage().lines().findFirst().orElse("")
              + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr())
              + ")",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + configFile + ": " + e.getMessage(), e);
    }
    List<String> labels = labels(configFile, json);
    boolean multiLabel = "multi_label_classification".equals(json.path("problem_type").asText());
    JsonNode positions = json.path("max_position_embeddings");
    if (positions.canConvertToInt() && positions.asInt() < config.maxTokens()) {
      throw new IllegalStateException(
          configFile
              + " gives max_position_embeddings "
              + positions.asInt()
              + ", fewer than the "
              + config.maxTokens()
              + " tokens of a window; set "
              + ScorerConfig.MAX_TOKENS_SETTING
              + " to at most "
              + positions.asInt());
    }
    return new FolderConfig(labels, multiLabel);
  }

  /** The labels in output order: {@code id2label} keys must be exactly 0..n-1. */
  static List<String> labels(Path configFile, JsonNode json) {
    JsonNode id2label = json.path("id2label");
    if (!id2label.isObject() || id2label.isEmpty()) {
      throw new IllegalStateException(configFile + " has no id2label mapping");
    }
    TreeMap<Integer, String> ordered = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = id2label.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      int id;
      try {
        id = Integer.parseInt(e.getKey().strip());
      } catch (NumberFormatException notANumber) {
        throw new IllegalStateException(
            configFile
                + ": id2label key '"
                + e.getKey()
                + "' is not an output index; id2label maps 0..n-1 to label names");
      }
      if (!e.getValue().isTextual() || e.getValue().asText().isBlank()) {
        throw new IllegalStateException(
            configFile + ": id2label " + id + " is not a label name: " + e.getValue());
      }
      if (ordered.containsValue(e.getValue().asText())) {
        throw new IllegalStateException(
            configFile + ": id2label names label '" + e.getValue().asText() + "' twice");
      }
      ordered.put(id, e.getValue().asText());
    }
    if (ordered.firstKey() != 0 || ordered.lastKey() != ordered.size() - 1) {
      throw new IllegalStateException(
          configFile
              + ": id2label keys "
              + ordered.keySet()
              + " are not 0.."
              + (ordered.size() - 1)
              + "; each output index needs one label, with no gap");
    }
    return new ArrayList<>(ordered.values());
  }

  /** Runs the model once: it must take GenGuard's inputs and return [batch, labels] logits. */
  private static void checkOutputs(OnnxTextModel model, Path folder, int labels) {
    long[] shape;
    try {
      shape = model.outputShape(PROBE_TEXT);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "The classifier in "
              + folder
              + " failed on a test text; GenGuard feeds its inputs "
              + new TreeSet<>(model.inputNames())
              + " as int64 [batch, tokens]: "
              + e.getMessage(),
          e);
    }
    if (shape.length != 2 || shape[0] != 1) {
      throw new IllegalStateException(
          "The classifier in "
              + folder
              + " returns "
              + Arrays.toString(shape)
              + " for one text, not [1, labels]: its first output must be a text classifier's"
              + " logits (a base encoder or a token classifier does not fit)");
    }
    if (shape[1] != labels) {
      throw new IllegalStateException(
          "The classifier in "
              + folder
              + " has "
              + shape[1]
              + " outputs per text, but its config.json id2label names "
              + labels
              + " labels");
    }
  }

  /**
   * First 12 hex digits of a SHA-256 over all that decides the scores: {@code model.onnx} and the
   * external weight files it names, {@code tokenizer.json}, the labels in output order with the
   * problem type, the label map and the window length.
   */
  static String digest(Path folder, List<String> labels, boolean multiLabel, ScorerConfig config) {
    Path onnx = folder.resolve(OnnxTextModel.MODEL_FILE);
    StringBuilder parts = new StringBuilder();
    // Missing files are left to OnnxTextModel, which names them.
    if (Files.isRegularFile(onnx)) {
      List<String> external = new ArrayList<>();
      parts
          .append(OnnxTextModel.MODEL_FILE)
          .append('=')
          .append(sha256(onnx, external))
          .append('\n');
      for (String location : new TreeSet<>(external)) {
        Path file = folder.resolve(location).normalize();
        if (Files.isRegularFile(file)) {
          parts
              .append("external:")
              .append(location)
              .append('=')
              .append(sha256(file, null))
              .append('\n');
        }
      }
    }
    Path tokenizer = folder.resolve(OnnxTextModel.TOKENIZER_FILE);
    if (Files.isRegularFile(tokenizer)) {
      parts
          .append(OnnxTextModel.TOKENIZER_FILE)
          .append('=')
          .append(sha256(tokenizer, null))
          .append('\n');
    }
    try {
      parts.append("id2label=").append(JSON.writeValueAsString(labels)).append('\n');
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    parts.append("problem=").append(multiLabel ? "multi-label" : "single-label").append('\n');
    parts.append("label-map=").append(config.labelMapSpec()).append('\n');
    parts.append("max-tokens=").append(config.maxTokens()).append('\n');
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of()
          .formatHex(sha.digest(parts.toString().getBytes(StandardCharsets.UTF_8)))
          .substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The protobuf bytes of an ONNX {@code external_data} entry's key: field 1, length 8, "location",
   * then the value's tag (field 2); the value is the file's path relative to the model.
   */
  private static final byte[] LOCATION_KEY = {
    0x0A, 0x08, 'l', 'o', 'c', 'a', 't', 'i', 'o', 'n', 0x12
  };

  /**
   * SHA-256 of a file, in hex; with {@code locations}, also collects the external data files an
   * ONNX model names (each {@code external_data} entry {@code location}), read in the same pass.
   */
  private static String sha256(Path file, List<String> locations) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      int matched = 0; // bytes of LOCATION_KEY matched
      int length = -1; // the value's length while reading its varint, then its bytes left
      int shift = 0;
      boolean readingLength = false;
      java.io.ByteArrayOutputStream value = new java.io.ByteArrayOutputStream();
      int n;
      while ((n = in.read(buffer)) > 0) {
        sha.update(buffer, 0, n);
        if (locations == null) {
          continue;
        }
        for (int i = 0; i < n; i++) {
          byte b = buffer[i];
          if (readingLength) {
            length |= (b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0 || shift > 28) {
              readingLength = false;
              if (length <= 0 || length > 4096) {
                length = -1;
              }
            }
          } else if (length > 0) {
            value.write(b);
            if (--length == 0) {
              locations.add(value.toString(StandardCharsets.UTF_8));
              value.reset();
              length = -1;
            }
          } else if (b == LOCATION_KEY[matched]) {
            if (++matched == LOCATION_KEY.length) {
              matched = 0;
              readingLength = true;
              length = 0;
              shift = 0;
            }
          } else {
            matched = b == LOCATION_KEY[0] ? 1 : 0;
          }
        }
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
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
