package io.genguard.moderation.train;

import io.genguard.moderation.scoring.MiniLmEnsembleScorer;
import io.genguard.moderation.scoring.OnnxTextModel;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MiniLM window embeddings of texts, kept on disk between runs of the train and quality commands
 * (embedding the corpus takes minutes on two cores). Keyed by a 64-bit hash of the text; the file
 * names the model digest and window size, so a different model never reuses stale vectors. The
 * cache lives under {@code target/}; it holds no text.
 */
public final class EmbeddingCache {
  private final Path file;
  private final Map<Long, float[][]> vectors = new HashMap<>();
  private int added;

  private EmbeddingCache(Path file) {
    this.file = file;
  }

  /** Opens (or starts) the cache for one model and window size. */
  public static EmbeddingCache open(Path dir, OnnxTextModel encoder, int maxWindows, int packTokens)
      throws IOException {
    Files.createDirectories(dir);
    EmbeddingCache cache =
        new EmbeddingCache(
            dir.resolve(
                "minilm-"
                    + encoder.modelDigest()
                    + "-"
                    + encoder.maxTokens()
                    + "x"
                    + maxWindows
                    + "p"
                    + packTokens
                    + ".bin"));
    if (Files.exists(cache.file)) {
      try (DataInputStream in =
          new DataInputStream(new BufferedInputStream(Files.newInputStream(cache.file), 1 << 20))) {
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
          long key = in.readLong();
          int windows = in.readInt();
          int dims = in.readInt();
          float[][] value = new float[windows][dims];
          for (float[] window : value) {
            for (int d = 0; d < dims; d++) {
              window[d] = in.readFloat();
            }
          }
          cache.vectors.put(key, value);
        }
      }
    }
    return cache;
  }

  /**
   * Embeddings for every text, computing the missing ones in batches with progress on {@code log}.
   */
  public List<float[][]> embed(OnnxTextModel encoder, List<String> texts, PrintStream log)
      throws IOException {
    List<String> missing = new ArrayList<>();
    for (String text : texts) {
      if (!vectors.containsKey(key(text))) {
        missing.add(text);
      }
    }
    long start = System.nanoTime();
    int chunk = 512;
    for (int from = 0; from < missing.size(); from += chunk) {
      List<String> part = missing.subList(from, Math.min(missing.size(), from + chunk));
      List<float[][]> embedded = MiniLmEnsembleScorer.embedWindows(encoder, part);
      for (int i = 0; i < part.size(); i++) {
        vectors.put(key(part.get(i)), embedded.get(i));
      }
      added += part.size();
      double seconds = (System.nanoTime() - start) / 1e9;
      log.printf(
          "  embedded %d/%d new texts (%.0f texts/s)%n",
          from + part.size(), missing.size(), (from + part.size()) / seconds);
      if (added >= 8192) {
        save();
      }
    }
    if (added > 0) {
      save();
    }
    List<float[][]> out = new ArrayList<>(texts.size());
    for (String text : texts) {
      out.add(vectors.get(key(text)));
    }
    return out;
  }

  private void save() throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
      out.writeInt(vectors.size());
      for (Map.Entry<Long, float[][]> entry : vectors.entrySet()) {
        out.writeLong(entry.getKey());
        float[][] value = entry.getValue();
        out.writeInt(value.length);
        out.writeInt(value[0].length);
        for (float[] window : value) {
          for (float v : window) {
            out.writeFloat(v);
          }
        }
      }
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    added = 0;
  }

  static long key(String text) {
    long h = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }
}
