package io.genguard.moderation.train;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shared training and evaluation data live: an explicit path (a command-line flag), else
 * the environment variable {@value #ENV}, else {@code ../shared/data} next to the repository root.
 * The data are never copied into the project (see the data README).
 */
public final class DataDirectory {
  /** Environment variable that overrides the default data location. */
  public static final String ENV = "GENGUARD_DATA_DIR";

  private DataDirectory() {}

  /**
   * Resolves the data directory and checks that it exists.
   *
   * @param explicit a path given on the command line, or null
   * @throws IllegalStateException naming every place looked at when the folder is missing
   */
  public static Path resolve(String explicit) {
    if (explicit != null && !explicit.isBlank()) {
      return require(Path.of(explicit), "--data-dir");
    }
    String fromEnv = System.getenv(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return require(Path.of(fromEnv), ENV);
    }
    Path root = repositoryRoot(Path.of("").toAbsolutePath());
    return require(root.resolve("..").resolve("shared").resolve("data").normalize(), "default");
  }

  /** The nearest directory at or above {@code start} that holds the parent pom and this module. */
  static Path repositoryRoot(Path start) {
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("pom.xml"))
          && Files.isDirectory(dir.resolve("moderation-stream"))) {
        return dir;
      }
    }
    return start;
  }

  private static Path require(Path dir, String origin) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "Shared data folder "
              + dir.toAbsolutePath()
              + " ("
              + origin
              + ") does not exist. Put the shared data sets there, set "
              + ENV
              + ", or pass --data-dir.");
    }
    return dir;
  }
}
