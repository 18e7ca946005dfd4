package io.genguard.moderation.scoring;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GenGuard's built-in content model: all-MiniLM-L6-v2 (int8, from its Maven artifact, through DJL's
 * ONNX Runtime engine) embeds each text; per head, a logistic layer on the embedding and the n-gram
 * model's margin are stacked into one calibrated probability. Longer texts are cut into windows of
 * whole sentences (and the n-gram model into sentence chunks); each head takes its highest window
 * ("any part unsafe"), so one harmful sentence is not averaged away. The train command fits it; see
 * the model card in {@code models/minilm-ensemble}.
 *
 * <p>Not thread-safe (owns a DJL predictor); the Flink job creates one per task.
 */
public final class MiniLmEnsembleScorer implements ContentScorer {
  /** Factory and version name. */
  public static final String NAME = "minilm-ensemble";

  /** Classpath location of the trained heads. */
  public static final String DEFAULT_RESOURCE = "/models/minilm-ensemble/minilm-ensemble.json";

  /**
   * Windows per ONNX Runtime call. One: the int8 model quantizes activations dynamically, with
   * scales taken over the whole call, so batching windows of different texts changes every text's
   * score a little (by up to a few hundredths here). One window a call keeps a text's score
   * independent of its neighbours, reproducible on replay, and cost about 10% of throughput on two
   * cores.
   */
  public static final int BATCH_SIZE = 1;

  private final NgramLogisticScorer ngram;
  private final EnsembleHeads heads;
  private final OnnxTextModel encoder;
  private final Map<String, StackedLogistic> stackers = new LinkedHashMap<>();
  private final String version;

  public MiniLmEnsembleScorer(
      NgramLogisticScorer ngram, EnsembleHeads heads, OnnxTextModel encoder, String digest) {
    String ngramVersion = ngram.versions().get(NgramLogisticScorer.NAME);
    if (!ngramVersion.equals(heads.ngramModel())) {
      throw new IllegalStateException(
          "The MiniLM ensemble "
              + heads.version()
              + " was fitted on n-gram model "
              + heads.ngramModel()
              + " but "
              + ngramVersion
              + " is loaded; rerun the train command (--model minilm)");
    }
    this.ngram = ngram;
    this.heads = heads;
    this.encoder = encoder;
    heads.stackers().forEach((name, json) -> stackers.put(name, json.toStacker()));
    this.version = heads.version() + "+sha256:" + digest;
  }

  /** The committed heads with the n-gram model and MiniLM from the classpath. */
  public static MiniLmEnsembleScorer loadDefault() {
    try (InputStream in = MiniLmEnsembleScorer.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "The MiniLM ensemble "
                + DEFAULT_RESOURCE
                + " is not on the classpath; run the train command (--model minilm)");
      }
      return fromBytes(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + DEFAULT_RESOURCE, e);
    }
  }

  /** Heads from a file (e.g. fresh from the train command). */
  public static MiniLmEnsembleScorer load(Path file) {
    try {
      return fromBytes(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  private static MiniLmEnsembleScorer fromBytes(byte[] bytes) throws IOException {
    EnsembleHeads heads = EnsembleHeads.read(new java.io.ByteArrayInputStream(bytes));
    NgramLogisticScorer ngram = NgramLogisticScorer.loadDefault();
    OnnxTextModel encoder =
        OnnxTextModel.loadBundledMiniLm(
            heads.maxTokens(), heads.maxWindows(), BATCH_SIZE, heads.packTokens());
    return new MiniLmEnsembleScorer(ngram, heads, encoder, NgramLogisticScorer.shortDigest(bytes));
  }

  @Override
  public List<ContentScores> scoreBatch(List<String> texts) {
    List<float[][]> embeddings = embedWindows(encoder, texts);
    List<ContentScores> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      Map<String, Double> ngramMargins = ngram.model().margins(texts.get(i));
      Map<Category, Double> categories = new EnumMap<>(Category.class);
      for (Category category : Category.values()) {
        categories.put(category, probability(category.id(), ngramMargins, embeddings.get(i)));
      }
      out.add(
          new ContentScores(
              probability(NgramLogisticModel.UNSAFE_HEAD, ngramMargins, embeddings.get(i)),
              categories));
    }
    return out;
  }

  private double probability(String head, Map<String, Double> ngramMargins, float[][] windows) {
    double embeddingMargin = Double.NEGATIVE_INFINITY;
    for (float[] window : windows) {
      embeddingMargin = Math.max(embeddingMargin, heads.embeddingMargin(head, window));
    }
    return stackers.get(head).probability(ngramMargins.get(head), embeddingMargin);
  }

  /** Normalized MiniLM embeddings of every window of every text, batched across texts. */
  public static List<float[][]> embedWindows(OnnxTextModel encoder, List<String> texts) {
    List<long[]> sequences = new ArrayList<>();
    int[] counts = new int[texts.size()];
    for (int i = 0; i < texts.size(); i++) {
      List<long[]> windows = encoder.windows(texts.get(i));
      counts[i] = windows.size();
      sequences.addAll(windows);
    }
    float[][] vectors = encoder.forward(sequences);
    List<float[][]> out = new ArrayList<>(texts.size());
    int next = 0;
    for (int count : counts) {
      float[][] windows = new float[count][];
      for (int w = 0; w < count; w++) {
        windows[w] = OnnxTextModel.normalize(vectors[next++]);
      }
      out.add(windows);
    }
    return out;
  }

  @Override
  public Map<String, String> versions() {
    Map<String, String> versions = new LinkedHashMap<>(ngram.versions());
    versions.put(NAME, version);
    versions.put("all-minilm-l6-v2-q", "onnx-sha256:" + encoder.modelDigest());
    return versions;
  }

  @Override
  public void close() {
    encoder.close();
  }
}
