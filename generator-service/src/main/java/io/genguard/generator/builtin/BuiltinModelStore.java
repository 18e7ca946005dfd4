package io.genguard.generator.builtin;

import io.genguard.provenance.text.EuroparlCorpus;
import io.genguard.schemas.ReplacingFiles;
import io.genguard.schemas.ReplacingFiles.OnStop;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the built-in model once and caches it under a directory; later starts load the file. The
 * file name carries the corpus digest, order and minimum count, so a changed corpus or setting
 * trains a new model instead of loading a stale one. A file that cannot be read back whole and
 * checked (truncated, flipped bits, an older format) is trained again and replaced; files are
 * written to a temporary file, synced to disk, then renamed into place ({@link ReplacingFiles}).
 */
public final class BuiltinModelStore {
  private static final Logger LOG = LoggerFactory.getLogger(BuiltinModelStore.class);

  /**
   * What the forty-fourth session's code named its temporary file in the cache directory: {@code
   * Files.createTempFile(directory, "kn", ".tmp")}, an unsigned decimal long between the two.
   */
  private static final Pattern OLDER_TEMPORARY_FILE = Pattern.compile("kn[0-9]{1,20}\\.tmp");

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
      } catch (IOException | RuntimeException | OutOfMemoryError e) {
        // Whatever a damaged file makes the reader throw, training again is the way out: thrown
        // from here, the failure would repeat on every batch until someone deleted the file.
        LOG.warn(
            "Cached model {} is unreadable ({}); training it again and replacing it",
            file,
            e.toString());
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

  /**
   * Writes the model durably with {@link ReplacingFiles}: into a temporary file of the same
   * directory, forced to disk, moved over {@code file}, and the directory forced too where the
   * platform allows, so that a crash leaves either the old file or the whole new one. A temporary
   * file a killed start left behind is removed then (generator replicas share the directory: one
   * still being written by another replica is left), and so is one of the name the forty-fourth
   * session's code gave it ({@link #OLDER_TEMPORARY_FILE}) when over a minute old and open in no
   * process ({@link ReplacingFiles#removeOlderTemporaryFiles}).
   */
  private static void save(KneserNeyModel model, Path file) {
    try {
      Path directory = file.toAbsolutePath().getParent();
      Files.createDirectories(directory);
      ReplacingFiles.removeOlderTemporaryFiles(
          directory, OLDER_TEMPORARY_FILE, note -> LOG.warn("{}", note));
      ReplacingFiles.write(file, OnStop.REMOVE, note -> LOG.warn("{}", note), model::write);
    } catch (IOException | IllegalStateException e) {
      // The model still works from memory; the next start trains again. (IllegalStateException:
      // the JVM is stopping and takes no shutdown hook.)
      LOG.warn("Could not cache the built-in model at {}: {}", file, e.toString());
    }
  }
}
