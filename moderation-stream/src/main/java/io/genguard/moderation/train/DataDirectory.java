package io.genguard.moderation.train;

import io.genguard.schemas.UnusablePaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Where the shared training and evaluation data live: an explicit path (a command-line flag), else
 * the environment variable {@value #ENV}, else {@code ../shared/data} next to the repository root.
 * The data are never copied into the project (see the data README).
 */
public final class DataDirectory {
  /** Environment variable that overrides the default data location. */
  public static final String ENV = "GENGUARD_DATA_DIR";

  /** The flag of {@code train} and {@code quality} that names the folder. */
  public static final String FLAG = "--data-dir";

  private DataDirectory() {}

  /**
   * Resolves the data directory and checks that it exists.
   *
   * @param explicit a path given on the command line, or null
   * @throws UnusableDataDirectoryException naming the folder, where it came from and why it cannot
   *     be used when it is missing, not a folder or cannot be read
   */
  public static Path resolve(String explicit) {
    return resolve(explicit, FLAG);
  }

  /**
   * {@link #resolve(String)} for a command whose flag for the folder is {@code flag} ({@code audit
   * campaign}'s {@code --shared-data}): a message names that flag, not {@value #FLAG}.
   */
  public static Path resolve(String explicit, String flag) {
    return resolve(explicit, flag, System::getenv, Path.of("").toAbsolutePath());
  }

  /**
   * {@link #resolve(String)} with the environment and the working directory given.
   *
   * @param environment reads {@value #ENV}
   * @param workingDirectory where the repository root is looked for, for the default
   */
  static Path resolve(String explicit, UnaryOperator<String> environment, Path workingDirectory) {
    return resolve(explicit, FLAG, environment, workingDirectory);
  }

  private static Path resolve(
      String explicit, String flag, UnaryOperator<String> environment, Path workingDirectory) {
    if (explicit != null && !explicit.isBlank()) {
      return require(Path.of(explicit), flag, flag);
    }
    String fromEnv = environment.apply(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return require(Path.of(fromEnv), ENV, flag);
    }
    Path root = repositoryRoot(workingDirectory);
    return require(
        root.resolve("..").resolve("shared").resolve("data").normalize(),
        "the default, ../shared/data beside the repository",
        flag);
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

  private static Path require(Path dir, String origin, String flag) {
    // Root lists any folder: only another user sees "cannot be read".
    String why = UnusablePaths.whyNotAFolderToRead(dir);
    if (why == null) {
      return dir;
    }
    throw new UnusableDataDirectoryException(
        "the shared data folder "
            + dir.toAbsolutePath()
            + " ("
            + origin
            + ") "
            + why
            + "; put the shared data sets there, set "
            + ENV
            + ", or pass "
            + flag);
  }

  /**
   * The shared data folder is missing, not a folder or cannot be read: a usage error for the
   * commands that read it ({@code train}, {@code quality}, {@code audit campaign}), found before
   * anything loads. An {@link IllegalStateException}, as {@link #resolve} threw before it had its
   * own type.
   */
  public static final class UnusableDataDirectoryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    UnusableDataDirectoryException(String message) {
      super(message);
    }
  }
}
