package io.genguard.schemas;

import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Replaces a file by moving a whole new one over it: the bytes go to a temporary file in the same
 * folder ({@code .FILE.<random>.partial}), are synced to disk and moved over the file ({@code
 * ATOMIC_MOVE}; where the file system refuses one, {@code REPLACE_EXISTING}, which the notes say),
 * and the folder is synced too where the platform allows (as {@code BuiltinModelStore} does). A
 * write that fails or throws, or is never committed, removes the temporary file and leaves the
 * previous file as it was, so no reader ever sees a cut one. Through a link, the link's target is
 * replaced (the link stays), unless the caller asks for {@link Links#REPLACE}: then the link itself
 * is replaced by the new file and its target left as it was. A {@code kill -9} leaves the temporary
 * file behind, and the file as it was.
 *
 * <p>The temporary file is a new file created with {@code CREATE_NEW}: two writers of the same file
 * never share one, it gets a new file's usual permissions (not the previous file's, nor a temporary
 * file's 0600), and the folder must let the caller create files.
 */
public final class ReplacingFiles {
  private ReplacingFiles() {}

  /** What writes the new file's bytes; it may close the stream it is given (nothing is lost). */
  @FunctionalInterface
  public interface Writer {
    void write(OutputStream out) throws IOException;
  }

  /** What becomes of the temporary file when the JVM is stopped (SIGTERM, Ctrl-C) mid-write. */
  public enum OnStop {
    /**
     * A shutdown hook removes it (the previous file stays as it was), unless it was already moved
     * over the file. For a command whose run simply ends when stopped.
     */
    REMOVE,
    /**
     * Left to the writer: for a caller whose own shutdown hook lets the write under way finish
     * (such as {@code publish}'s graceful stop), which a removing hook would make fail instead.
     */
    FINISH
  }

  /** What a symbolic link at the file's path becomes. */
  public enum Links {
    /** Followed: its target is replaced, the link stays (for a file a person named). */
    FOLLOW,
    /**
     * Replaced by the new file, its target left as it was: for a writer that must write only inside
     * its own folder ({@code publish}), whose later removal of the file must remove what it wrote.
     */
    REPLACE
  }

  /**
   * Folders whose moves are synced later, together, by {@link #sync}: for a caller that writes many
   * files and needs them on disk only at one point (before it commits what it read), one sync per
   * folder instead of one per file. Each file's own bytes are still synced before its move.
   */
  public static final class Folders {
    private final Set<Path> pending = new LinkedHashSet<>();

    /** A folder whose changes (a move, a removal) must be synced by the next {@link #sync}. */
    public void add(Path folder) {
      pending.add(folder);
    }

    /**
     * Syncs each folder added since the last call, once, where the platform can open a folder.
     *
     * @return how many folders it synced
     */
    public int sync() {
      int synced = pending.size();
      pending.forEach(Replacement::syncFolder);
      pending.clear();
      return synced;
    }
  }

  /**
   * Writes {@code file} with {@code writer} through a temporary file beside it, moved over it once
   * {@code writer} returns. A link at {@code file} is followed ({@link Links#FOLLOW}), and the
   * folder is synced after the move.
   *
   * @param notes told, one line each (without a command's prefix), when the file system refuses an
   *     atomic move and when the temporary file is removed
   * @throws NoSuchFileException when the file's folder does not exist
   * @throws IOException when the write or the move fails: the previous file is left as it was, and
   *     no temporary file
   */
  public static void write(Path file, OnStop onStop, Consumer<String> notes, Writer writer)
      throws IOException {
    write(file, onStop, Links.FOLLOW, null, notes, writer);
  }

  /**
   * As {@link #write(Path, OnStop, Consumer, Writer)}, with what a link at {@code file} becomes,
   * and {@code folders} to sync the folder with later (null: synced after the move).
   */
  public static void write(
      Path file, OnStop onStop, Links links, Folders folders, Consumer<String> notes, Writer writer)
      throws IOException {
    try (Replacement replacement = open(file, onStop, links, folders, notes)) {
      writer.write(replacement.stream());
      replacement.commit();
    }
  }

  /**
   * Creates the temporary file of a replacement of {@code file} (beside its target, when {@code
   * file} is a link), for a caller that writes it as it goes: {@link Replacement#commit} moves it
   * over the file, and {@link Replacement#close} removes it when it was not committed.
   *
   * @param notes as for {@link #write}; also told what a shutdown hook did ({@link OnStop#REMOVE})
   * @throws NoSuchFileException when the file's folder does not exist
   */
  public static Replacement open(Path file, OnStop onStop, Consumer<String> notes)
      throws IOException {
    return open(file, onStop, Links.FOLLOW, null, notes);
  }

  /**
   * As {@link #open(Path, OnStop, Consumer)}, with what a link at {@code file} becomes ({@link
   * Links#REPLACE}: the temporary file goes beside {@code file} itself, and the move replaces the
   * link), and {@code folders} to sync the folder with later (null: synced by the commit).
   */
  public static Replacement open(
      Path file, OnStop onStop, Links links, Folders folders, Consumer<String> notes)
      throws IOException {
    Path target = file.toAbsolutePath();
    if (links == Links.FOLLOW && Files.exists(target)) {
      target = target.toRealPath();
    }
    Path folder = target.getParent();
    if (folder == null || !Files.isDirectory(folder)) {
      throw new NoSuchFileException(
          String.valueOf(folder), null, "the folder of " + file + " does not exist");
    }
    Path partial =
        folder.resolve(
            "."
                + target.getFileName()
                + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 4)
                + ".partial");
    // CREATE_NEW, not a temp file: the file gets a new file's usual permissions, not 0600.
    FileChannel channel =
        FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try {
      return new Replacement(file, target, partial, channel, onStop, folders, notes);
    } catch (RuntimeException | Error e) {
      // A JVM already stopping refuses the hook: no replacement, and no file left.
      channel.close();
      Files.deleteIfExists(partial);
      throw e;
    }
  }

  /** A replacement under way: its temporary file, open for writing. */
  public static final class Replacement implements Closeable {
    private final Path shown;
    private final Path target;
    private final Path partial;
    private final FileChannel channel;
    private final OutputStream stream;
    private final Consumer<String> notes;
    private final Folders folders;
    private final Thread hook;
    private volatile boolean committed;

    private Replacement(
        Path shown,
        Path target,
        Path partial,
        FileChannel channel,
        OnStop onStop,
        Folders folders,
        Consumer<String> notes) {
      this.shown = shown;
      this.folders = folders;
      this.target = target;
      this.partial = partial;
      this.channel = channel;
      this.notes = notes;
      // Closing it (a JSON writer does) flushes: the channel stays open for commit to sync.
      this.stream =
          new FilterOutputStream(Channels.newOutputStream(channel)) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
              out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
              flush();
            }
          };
      if (onStop == OnStop.REMOVE) {
        this.hook = new Thread(this::removeWhenStopped, "remove-partial-" + target.getFileName());
        Runtime.getRuntime().addShutdownHook(hook);
      } else {
        this.hook = null;
      }
    }

    /** Where the new bytes go. */
    public OutputStream stream() {
      return stream;
    }

    /** The temporary file (for a caller's messages). */
    public Path temporaryFile() {
      return partial;
    }

    /**
     * Syncs the bytes to disk, moves them over the file and syncs the folder (or leaves that to the
     * {@link Folders} it was opened with).
     */
    public void commit() throws IOException {
      stream.flush();
      channel.force(true);
      channel.close();
      try {
        Files.move(
            partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        notes.accept(
            "the file system cannot replace "
                + target
                + " atomically; replacing it in place (a crash now may leave it incomplete)");
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
      }
      committed = true;
      if (folders != null) {
        folders.add(target.getParent());
      } else {
        syncFolder(target.getParent());
      }
    }

    /** Syncs the move itself to disk too, where the platform can open a folder (not Windows). */
    private static void syncFolder(Path folder) {
      try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
        channel.force(true);
      } catch (IOException e) {
        // The file is whole either way: a crash may only bring the previous one back.
      }
    }

    /** Removes the temporary file unless it was committed. */
    @Override
    public void close() throws IOException {
      try {
        channel.close();
      } finally {
        try {
          if (!committed && Files.deleteIfExists(partial)) {
            notes.accept("removed the partial output " + partial);
          }
        } finally {
          if (hook != null) {
            try {
              Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
              // The JVM is stopping: the hook removes the file.
            }
          }
        }
      }
    }

    private void removeWhenStopped() {
      if (committed) {
        return;
      }
      try {
        if (Files.deleteIfExists(partial)) {
          notes.accept(
              "stopped before the end; removed the partial output "
                  + partial
                  + " and left "
                  + shown
                  + " as it was");
        }
      } catch (IOException e) {
        notes.accept("stopped before the end; could not remove " + partial + ": " + e);
      }
    }
  }
}
