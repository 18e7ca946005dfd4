package io.genguard.generator.builtin;

import io.genguard.testsupport.TempTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The real built-in model, trained once per test JVM into a temporary cache directory. */
public final class EuroparlModelFixture {
  private static BuiltinModelStore.Loaded loaded;
  private static Path cacheDirectory;

  private EuroparlModelFixture() {}

  public static synchronized BuiltinModelStore.Loaded trigram() {
    if (loaded == null) {
      loaded = BuiltinModelStore.loadOrTrain(cacheDirectory(), 3, 2);
    }
    return loaded;
  }

  public static synchronized Path cacheDirectory() {
    if (cacheDirectory == null) {
      try {
        Path created = Files.createTempDirectory("genguard-builtin-model");
        // (File.deleteOnExit leaves a directory that still holds the model file)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(created)));
        cacheDirectory = created;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return cacheDirectory;
  }

  private static void deleteTree(Path root) {
    try {
      TempTrees.deleteTree(root);
    } catch (IOException e) {
      // best effort at JVM exit: a temporary directory left behind is harmless
    }
  }
}
