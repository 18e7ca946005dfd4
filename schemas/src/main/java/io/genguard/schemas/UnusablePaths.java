package io.genguard.schemas;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Why a path the user named cannot be used, in the words the command lines print after the flag and
 * the path ({@code --in FILE does not exist}): a missing path, a folder where a file is wanted or
 * the reverse, one this user may not read. Each caller keeps its own exit code and its own message
 * around these words.
 */
public final class UnusablePaths {
  /** A path that is not there. */
  public static final String MISSING = "does not exist";

  /** A folder where a file is wanted. */
  public static final String A_FOLDER = "is a directory, not a file";

  /** A file (or anything else but a folder) where a folder is wanted. */
  public static final String NOT_A_FOLDER = "is not a directory";

  /** There, but this user may not read it (or, for a folder, enter it). */
  public static final String UNREADABLE = "cannot be read (permission denied)";

  private UnusablePaths() {}

  /**
   * Why {@code file} cannot be read as a file, or null when it can: {@link #A_FOLDER}, {@link
   * #MISSING} or {@link #UNREADABLE}, in that order. A device or a pipe is not refused here.
   */
  public static String whyNotAFileToRead(Path file) {
    if (Files.isDirectory(file)) {
      return A_FOLDER;
    }
    if (!Files.exists(file)) {
      return MISSING;
    }
    if (!Files.isReadable(file)) {
      return UNREADABLE;
    }
    return null;
  }

  /**
   * Why {@code folder} cannot be read as a folder, or null when it can: {@link #MISSING}, {@link
   * #NOT_A_FOLDER} or {@link #UNREADABLE} (not readable or not to be entered), in that order.
   */
  public static String whyNotAFolderToRead(Path folder) {
    if (!Files.exists(folder)) {
      return MISSING;
    }
    if (!Files.isDirectory(folder)) {
      return NOT_A_FOLDER;
    }
    if (!Files.isReadable(folder) || !Files.isExecutable(folder)) {
      return UNREADABLE;
    }
    return null;
  }

  /**
   * Why reading {@code file} failed with {@code error}, in words: the JDK's messages for a missing
   * file or one this user may not read are the path alone, and a folder's is "Is a directory" of a
   * bare {@link IOException}. Else "cannot be read: " and the file system's reason (or the
   * message), never the exception's class name alone.
   */
  public static String whyUnreadable(Path file, IOException error) {
    if (error instanceof NoSuchFileException) {
      return MISSING;
    }
    if (Files.isDirectory(file)) {
      return A_FOLDER;
    }
    if (error instanceof AccessDeniedException) {
      return UNREADABLE;
    }
    String reason =
        error instanceof FileSystemException failed && failed.getReason() != null
            ? failed.getReason()
            : error.getMessage();
    if (reason == null || reason.isBlank()) {
      return "cannot be read (" + error.getClass().getSimpleName() + ")";
    }
    return "cannot be read: " + reason;
  }
}
