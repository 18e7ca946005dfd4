package io.genguard.generator.builtin;

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
        cacheDirectory = Files.createTempDirectory("genguard-builtin-model");
        cacheDirectory.toFile().deleteOnExit();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return cacheDirectory;
  }
}
