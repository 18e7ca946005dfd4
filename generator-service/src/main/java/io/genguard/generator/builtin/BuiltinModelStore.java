package io.genguard.generator.builtin;

import io.genguard.provenance.text.EuroparlCorpus;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the built-in model once and caches it under a directory; later starts load the file. The
 * file name carries the corpus digest, order and minimum count, so a changed corpus or setting
 * trains a new model instead of loading a stale one.
 */
public final class BuiltinModelStore {
  private static final Logger LOG = LoggerFactory.getLogger(BuiltinModelStore.class);

  private BuiltinModelStore() {}

  /** A loaded model and how it was identified. */
  public record Loaded(
      KneserNeyModel model, String name, String version, Path file, boolean trained) {}

  /** The model name requests use: {@code europarl-kn<order>}. */
  public static String modelName(int order) {
    return "europarl-kn" + order;
  }

  public static Loaded loadOrTrain(Path cacheDirectory, int order, int minimumCount) {
    String digest = EuroparlCorpus.resourceSha256().substring(0, 12);
    String version = "v1-" + digest + "-min" + minimumCount;
    Path file = cacheDirectory.resolve(modelName(order) + "-" + version + ".bin");
    if (Files.isRegularFile(file)) {
      long started = System.nanoTime();
      try (InputStream in = Files.newInputStream(file)) {
        KneserNeyModel model = KneserNeyModel.read(in);
        LOG.info(
            "Loaded built-in model {} ({} words) from {} in {} ms",
            modelName(order),
            model.vocabularySize(),
            file,
            (System.nanoTime() - started) / 1_000_000);
        return new Loaded(model, modelName(order), version, file, false);
      } catch (IOException e) {
        LOG.warn("Cached model {} is unreadable ({}); training it again", file, e.toString());
      }
    }
    long started = System.nanoTime();
    EuroparlCorpus corpus = EuroparlCorpus.load();
    KneserNeyModel model = KneserNeyModel.train(corpus.trainingDocuments(), order, minimumCount);
    LOG.info(
        "Trained built-in model {} on {} English Europarl documents ({} words in vocabulary) in {}"
            + " ms",
        modelName(order),
        corpus.trainingDocuments().size(),
        model.vocabularySize(),
        (System.nanoTime() - started) / 1_000_000);
    save(model, file);
    return new Loaded(model, modelName(order), version, file, true);
  }

  private static void save(KneserNeyModel model, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), "kn", ".tmp");
      try (OutputStream out = Files.newOutputStream(temporary)) {
        model.write(out);
      }
      try {
        Files.move(
            temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // The model still works from memory; the next start trains again.
      LOG.warn("Could not cache the built-in model at {}: {}", file, e.toString());
    }
  }
}
