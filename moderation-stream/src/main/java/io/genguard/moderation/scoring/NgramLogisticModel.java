package io.genguard.moderation.scoring;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A trained n-gram model: the feature configuration and calibrated logistic heads by name. The
 * content model of {@link NgramLogisticScorer} has one head per category plus "unsafe"; the
 * stereotype model of the bias analysis has one head. Weights are stored as signed bytes with one
 * scale per head (symmetric int8 quantization); the training command reports the quality of the
 * quantized model, which is the one that ships.
 *
 * <p>File format (gzip): magic "GGNG", format version, model version, dimensions, n-gram ranges,
 * (format 2) the dictionary words, the words frequent in training and the heads that score with the
 * dictionary ({@link KnownWords}), each a count and the strings, then per head its name, bias,
 * Platt a and b, quantization scale and the weight bytes. Format 1 files, without known words,
 * still read.
 */
public record NgramLogisticModel(
    String modelVersion, HashedNgramFeatures features, Map<String, LinearHead> heads) {
  private static final int MAGIC = 0x47474e47; // "GGNG"
  private static final int FORMAT_VERSION = 2;

  /** More known words than any dictionary has: a corrupt file, not a vocabulary. */
  private static final int MAX_KNOWN_WORDS = 1_000_000;

  /** Name of the overall head. */
  public static final String UNSAFE_HEAD = "unsafe";

  public NgramLogisticModel {
    heads = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(heads));
    for (LinearHead head : heads.values()) {
      if (head.weights().length != features.dimensions()) {
        throw new IllegalArgumentException(
            "head "
                + head.name()
                + " has "
                + head.weights().length
                + " weights, features have "
                + features.dimensions());
      }
    }
  }

  /** Fails unless the model has the "unsafe" head and one head per category. */
  public NgramLogisticModel requireContentHeads() {
    List<String> missing = new ArrayList<>();
    if (!heads.containsKey(UNSAFE_HEAD)) {
      missing.add(UNSAFE_HEAD);
    }
    for (Category category : Category.values()) {
      if (!heads.containsKey(category.id())) {
        missing.add(category.id());
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(
          "n-gram model " + modelVersion + " lacks heads " + missing);
    }
    return this;
  }

  /** Calibrated probability of one head for one text (the highest over its chunks). */
  public double probability(String head, String text) {
    return probability(head, NormalizedText.of(text));
  }

  /**
   * {@link #probability(String, String)} of {@code text}'s text; a text of one chunk is read from
   * the words it holds, not normalized again.
   */
  public double probability(String head, NormalizedText text) {
    LinearHead linear = heads.get(head);
    if (linear == null) {
      throw new IllegalArgumentException(
          "n-gram model " + modelVersion + " has no head '" + head + "'; it has " + heads.keySet());
    }
    double margin = Double.NEGATIVE_INFINITY;
    for (String chunk : chunks(text.text())) {
      HashedNgramFeatures.Vectors vectors =
          chunk.equals(text.text())
              ? features.extractBothFromWords(text.words())
              : features.extractBoth(chunk);
      margin = Math.max(margin, linear.margin(vectorFor(head, vectors)));
    }
    return linear.calibration().probability(margin);
  }

  /**
   * Words per chunk: longer texts are scored sentence group by sentence group, so one harmful
   * sentence in a long benign text is not diluted by the rest.
   */
  public static final int CHUNK_WORDS = 40;

  /** The text in chunks of whole sentences, at most {@value #CHUNK_WORDS} words each. */
  static java.util.List<String> chunks(String text) {
    if (text.length() < CHUNK_WORDS * 4) {
      return java.util.List.of(text); // surely within one chunk: skip the split
    }
    return Sentences.chunks(text, CHUNK_WORDS);
  }

  /** Calibrated scores of one text (needs {@link #requireContentHeads()}); long texts by chunk. */
  public ContentScores score(String text) {
    Map<String, Double> margins = margins(text);
    Map<Category, Double> categories = new java.util.EnumMap<>(Category.class);
    for (Category category : Category.values()) {
      categories.put(
          category, heads.get(category.id()).calibration().probability(margins.get(category.id())));
    }
    return new ContentScores(
        heads.get(UNSAFE_HEAD).calibration().probability(margins.get(UNSAFE_HEAD)), categories);
  }

  /** Raw margins per head name, in head order: per head the highest over the text's chunks. */
  public Map<String, Double> margins(String text) {
    Map<String, Double> margins = new LinkedHashMap<>();
    for (String chunk : chunks(text)) {
      HashedNgramFeatures.Vectors x = features.extractBoth(chunk);
      heads.forEach(
          (name, head) -> margins.merge(name, head.margin(vectorFor(name, x)), Math::max));
    }
    return margins;
  }

  /** The vector a head scores: with the dictionary where it applies to the head. */
  private HashedNgramFeatures.SparseVector vectorFor(String head, HashedNgramFeatures.Vectors x) {
    return features.knownWords().appliesTo(head) ? x.withDictionary() : x.everyWord();
  }

  /** Writes the model in its quantized file format. */
  public void write(OutputStream out) throws IOException {
    GZIPOutputStream gzip = new GZIPOutputStream(out);
    DataOutputStream data = new DataOutputStream(gzip);
    data.writeInt(MAGIC);
    data.writeInt(FORMAT_VERSION);
    data.writeUTF(modelVersion);
    data.writeInt(features.dimensions());
    data.writeInt(features.maxWordN());
    data.writeInt(features.minCharN());
    data.writeInt(features.maxCharN());
    writeWords(data, features.knownWords().sortedWords());
    writeWords(data, features.knownWords().sortedFrequentWords());
    writeWords(data, features.knownWords().sortedHeads());
    data.writeInt(heads.size());
    for (LinearHead head : heads.values()) {
      data.writeUTF(head.name());
      data.writeDouble(head.bias());
      data.writeDouble(head.calibration().a());
      data.writeDouble(head.calibration().b());
      float maxAbs = 0;
      for (float w : head.weights()) {
        maxAbs = Math.max(maxAbs, Math.abs(w));
      }
      float scale = maxAbs == 0 ? 1f : maxAbs / 127f;
      data.writeFloat(scale);
      byte[] quantized = new byte[head.weights().length];
      for (int i = 0; i < quantized.length; i++) {
        quantized[i] = (byte) Math.round(head.weights()[i] / scale);
      }
      data.write(quantized);
    }
    data.flush();
    gzip.finish();
  }

  /** The same model with weights rounded exactly as {@link #write} stores them. */
  public NgramLogisticModel quantized() {
    Map<String, LinearHead> rounded = new LinkedHashMap<>();
    for (LinearHead head : heads.values()) {
      float maxAbs = 0;
      for (float w : head.weights()) {
        maxAbs = Math.max(maxAbs, Math.abs(w));
      }
      float scale = maxAbs == 0 ? 1f : maxAbs / 127f;
      float[] weights = new float[head.weights().length];
      for (int i = 0; i < weights.length; i++) {
        weights[i] = Math.round(head.weights()[i] / scale) * scale;
      }
      rounded.put(
          head.name(), new LinearHead(head.name(), weights, head.bias(), head.calibration()));
    }
    return new NgramLogisticModel(modelVersion, features, rounded);
  }

  /** Reads a model written by {@link #write}. */
  public static NgramLogisticModel read(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(new GZIPInputStream(in));
    int magic = data.readInt();
    if (magic != MAGIC) {
      throw new IOException(
          "not a GenGuard n-gram model (bad magic " + Integer.toHexString(magic) + ")");
    }
    int format = data.readInt();
    if (format != 1 && format != FORMAT_VERSION) {
      throw new IOException(
          "n-gram model format "
              + format
              + " is not supported (expected 1 or "
              + FORMAT_VERSION
              + ")");
    }
    String version = data.readUTF();
    int dimensions = data.readInt();
    int maxWordN = data.readInt();
    int minCharN = data.readInt();
    int maxCharN = data.readInt();
    KnownWords knownWords = KnownWords.NONE;
    if (format >= 2) {
      List<String> dictionary = readWords(data);
      List<String> frequent = readWords(data);
      List<String> dictionaryHeads = readWords(data);
      try {
        knownWords = KnownWords.of(dictionary, frequent, dictionaryHeads);
      } catch (IllegalArgumentException e) {
        throw new IOException("n-gram model has invalid known words: " + e.getMessage(), e);
      }
    }
    HashedNgramFeatures features =
        new HashedNgramFeatures(dimensions, maxWordN, minCharN, maxCharN, knownWords);
    int headCount = data.readInt();
    Map<String, LinearHead> heads = new LinkedHashMap<>();
    for (int h = 0; h < headCount; h++) {
      String name = data.readUTF();
      double bias = data.readDouble();
      PlattCalibration calibration = new PlattCalibration(data.readDouble(), data.readDouble());
      float scale = data.readFloat();
      byte[] quantized = new byte[features.dimensions()];
      data.readFully(quantized);
      float[] weights = new float[quantized.length];
      for (int i = 0; i < weights.length; i++) {
        weights[i] = quantized[i] * scale;
      }
      heads.put(name, new LinearHead(name, weights, bias, calibration));
    }
    return new NgramLogisticModel(version, features, heads);
  }

  private static void writeWords(DataOutputStream data, String[] words) throws IOException {
    data.writeInt(words.length);
    for (String word : words) {
      data.writeUTF(word);
    }
  }

  private static List<String> readWords(DataInputStream data) throws IOException {
    int count = data.readInt();
    if (count < 0 || count > MAX_KNOWN_WORDS) {
      throw new IOException("n-gram model declares " + count + " known words");
    }
    List<String> words = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      words.add(data.readUTF());
    }
    return words;
  }
}
