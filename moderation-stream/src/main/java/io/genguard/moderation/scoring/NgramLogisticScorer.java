package io.genguard.moderation.scoring;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Calibrated per-category logistic regression over hashed word and character n-grams, trained by
 * {@code io.genguard.moderation.train.TrainCommand} on the shared data sets (see the model card
 * next to the weights). Cheap (no native code, well under a millisecond a text) and thread-safe:
 * the model is immutable.
 */
public final class NgramLogisticScorer implements ContentScorer {
  /** Classpath location of the committed model. */
  public static final String DEFAULT_RESOURCE = "/models/ngram-logistic/ngram-logistic.bin.gz";

  /** Name under which this scorer reports its version. */
  public static final String NAME = "ngram-logistic";

  private final NgramLogisticModel model;
  private final String version;

  public NgramLogisticScorer(NgramLogisticModel model, String contentDigest) {
    this.model = model;
    this.version = model.modelVersion() + "+sha256:" + contentDigest;
  }

  /** Loads the model committed under {@link #DEFAULT_RESOURCE}. */
  public static NgramLogisticScorer loadDefault() {
    try (InputStream in = NgramLogisticScorer.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "The n-gram model "
                + DEFAULT_RESOURCE
                + " is not on the classpath; build moderation-stream or run the train command");
      }
      return fromBytes(in.readAllBytes(), DEFAULT_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read n-gram model " + DEFAULT_RESOURCE, e);
    }
  }

  /** Loads a model file written by the train command. */
  public static NgramLogisticScorer load(Path file) {
    try {
      return fromBytes(Files.readAllBytes(file), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read n-gram model " + file, e);
    }
  }

  private static NgramLogisticScorer fromBytes(byte[] bytes, String origin) throws IOException {
    try {
      NgramLogisticModel model =
          NgramLogisticModel.read(new java.io.ByteArrayInputStream(bytes)).requireContentHeads();
      return new NgramLogisticScorer(model, shortDigest(bytes));
    } catch (IOException | RuntimeException e) {
      throw new IOException("Invalid n-gram model " + origin + ": " + e.getMessage(), e);
    }
  }

  /** First 12 hex digits of the SHA-256 of the model bytes: names the exact weights in verdicts. */
  static String shortDigest(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  public NgramLogisticModel model() {
    return model;
  }

  @Override
  public List<ContentScores> scoreBatch(List<String> texts) {
    List<ContentScores> scores = new ArrayList<>(texts.size());
    for (String text : texts) {
      scores.add(model.score(text));
    }
    return scores;
  }

  @Override
  public Map<String, String> versions() {
    return Map.of(NAME, version);
  }
}
