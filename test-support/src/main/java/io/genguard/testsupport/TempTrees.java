package io.genguard.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Removing a test's temporary directory with everything in it. */
public final class TempTrees {
  private TempTrees() {}

  /** Deletes {@code root} and everything below it, deepest first. */
  public static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
