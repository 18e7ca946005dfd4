package io.genguard.stack;

import io.genguard.infra.EmbeddedPostgresServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default data directories, {@code genguard-*} in a temporary folder, removed when their stack
 * stops. A stack killed with -9 (or by the OOM killer) leaves its directory and its PostgreSQL,
 * which runs in a session of its own, behind; nothing started on that directory again. So each
 * directory names its owner (pid and start time, in {@value #OWNER_FILE}), and the next stack's
 * start stops the PostgreSQL of a directory whose owner is gone and removes the directory.
 */
public final class TemporaryStateDirs {
  private static final Logger LOG = LoggerFactory.getLogger(TemporaryStateDirs.class);

  static final String PREFIX = "genguard-";

  /** The owner's pid and start time, one line: what marks a directory as a temporary one. */
  static final String OWNER_FILE = "temporary-stack-owner";

  private TemporaryStateDirs() {}

  /**
   * Removes what stacks that are gone left in {@code root} (see {@link #removeLeftovers}), then
   * creates a new directory there owned by this process.
   */
  static Path create(Path root) throws IOException {
    return create(root, "");
  }

  /**
   * As {@link #create(Path)}, for another command that runs PostgreSQL in a temporary directory
   * ({@code ./genguard audit bench}): {@code kind} follows the prefix in the directory's name
   * ("audit-bench-": {@code genguard-audit-bench-*}). A PostgreSQL below it must be in {@code
   * postgres/}, where the next creation looks.
   */
  public static Path create(Path root, String kind) throws IOException {
    removeLeftovers(root);
    Path dir = Files.createTempDirectory(root, PREFIX + kind);
    // Written after the directory exists: a start that scans meanwhile finds no owner file and
    // leaves the directory alone.
    Files.writeString(dir.resolve(OWNER_FILE), owner(ProcessHandle.current()) + "\n");
    return dir;
  }

  /**
   * Stops the PostgreSQL of, and removes, each temporary directory in {@code root} whose owner is
   * gone. A directory without an owner file (a {@code --data-dir}, a directory of an older build,
   * one being created) is left alone, and so is one whose PostgreSQL is locked by a live owner.
   *
   * @return the directories removed
   */
  static List<Path> removeLeftovers(Path root) {
    List<Path> removed = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, PREFIX + "*")) {
      for (Path dir : dirs) {
        Optional<String> owner = ownerOf(dir);
        if (owner.isEmpty() || ownerRuns(owner.get())) {
          continue;
        }
        try {
          if (!EmbeddedPostgresServer.stopAbandoned(dir.resolve("postgres"))) {
            continue;
          }
        } catch (IOException | RuntimeException e) {
          LOG.warn(
              "Left the temporary directory {} of a stack that is gone: {}", dir, e.toString());
          continue;
        }
        deleteTree(dir);
        LOG.warn(
            "Removed the temporary directory {} of a GenGuard stack (pid {}) that did not stop",
            dir,
            owner.get().split(" ")[0]);
        removed.add(dir);
      }
    } catch (IOException e) {
      LOG.debug("Could not look for temporary directories left in {}: {}", root, e.toString());
    }
    return removed;
  }

  private static String owner(ProcessHandle process) {
    return process.pid()
        + " "
        + process.info().startInstant().map(Instant::toString).orElse("unknown");
  }

  private static Optional<String> ownerOf(Path dir) {
    try {
      String line = Files.readString(dir.resolve(OWNER_FILE), StandardCharsets.UTF_8).trim();
      return line.matches("[1-9][0-9]{0,18} \\S+") ? Optional.of(line) : Optional.empty();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      // Another user's directory, or one that went meanwhile.
      return Optional.empty();
    }
  }

  /**
   * Whether the process the owner line names still runs: the same pid with the same start time (a
   * pid taken again by another process is not the owner); without a start time, any process with
   * the pid counts.
   */
  private static boolean ownerRuns(String owner) {
    String[] parts = owner.split(" ");
    long pid;
    try {
      pid = Long.parseLong(parts[0]);
    } catch (NumberFormatException e) {
      return true;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty()) {
      return false;
    }
    return parts[1].equals("unknown") || owner(process.get()).equals(owner);
  }

  /** Removes {@code root} and everything in it; what cannot be removed is logged. */
  public static void deleteTree(Path root) {
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      LOG.warn("Could not remove {}: {}", root, e.toString());
    }
  }
}
