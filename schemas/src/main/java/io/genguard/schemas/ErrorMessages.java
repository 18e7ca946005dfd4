package io.genguard.schemas;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** Errors as the command lines print them: one line that says what went wrong. */
public final class ErrorMessages {
  private ErrorMessages() {}

  /**
   * The error and its causes in one line, each message once; a wrapper whose message is only its
   * cause's name and message is left out, and a file-system error says what went wrong with the
   * file, not only its path (the JDK's NoSuchFileException message is the path alone).
   */
  public static String oneLine(Throwable error) {
    List<String> parts = new ArrayList<>();
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable current = error; current != null && seen.add(current); ) {
      Throwable cause = current.getCause();
      String own = describe(current);
      boolean wrapper = cause != null && cause.toString().equals(own);
      // A wrapper of a cause without a message of its own: the cause's name is all there is to say.
      boolean bare = wrapper && describe(cause) == null;
      String message = bare ? cause.getClass().getSimpleName() : own;
      wrapper = wrapper && !bare;
      if (message != null && !wrapper && parts.stream().noneMatch(p -> p.contains(message))) {
        parts.add(message);
      }
      current = cause;
    }
    return parts.isEmpty() ? error.getClass().getSimpleName() : String.join(": ", parts);
  }

  /** The message of one throwable; for a file-system error, the file and what happened to it. */
  public static String describe(Throwable error) {
    if (!(error instanceof FileSystemException file)) {
      return error.getMessage();
    }
    String what = "file system error";
    if (file instanceof NoSuchFileException) {
      what = "no such file or directory";
    } else if (file instanceof AccessDeniedException) {
      what = "permission denied";
    } else if (file instanceof FileAlreadyExistsException) {
      what = "already exists";
    } else if (file instanceof NotDirectoryException) {
      what = "not a directory";
    } else if (file instanceof DirectoryNotEmptyException) {
      what = "directory not empty";
    } else if (file instanceof NotLinkException) {
      what = "not a symbolic link";
    } else if (file instanceof FileSystemLoopException) {
      what = "a loop of symbolic links";
    }
    StringBuilder text =
        new StringBuilder(String.valueOf(file.getFile())).append(": ").append(what);
    if (file.getOtherFile() != null) {
      text.append(" (with ").append(file.getOtherFile()).append(')');
    }
    if (file.getReason() != null && !file.getReason().equals(what)) {
      text.append(" (").append(file.getReason()).append(')');
    }
    return text.toString();
  }
}
