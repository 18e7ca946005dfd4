package io.genguard.schemas;

import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces a file by moving a whole new one over it: the bytes go to a temporary file in the same
 * folder ({@code .FILE.<pid>-<random>.partial}), are synced to disk and moved over the file ({@code
 * ATOMIC_MOVE}; where the file system refuses one, {@code REPLACE_EXISTING}, which the notes say),
 * and the folder is synced too where the platform allows (as {@code BuiltinModelStore} does). A
 * write that fails or throws, or is never committed, removes the temporary file and leaves the
 * previous file as it was, so no reader ever sees a cut one. Through a link, the link's target is
 * replaced (the link stays), unless the caller asks for {@link Links#REPLACE}: then the link itself
 * is replaced by the new file and its target left as it was. A {@code kill -9} leaves the temporary
 * file behind, until a later write of the file, and the file as it was.
 *
 * <p>The temporary file is named {@code .FILE.<pid>-<random>.partial} (the writing JVM's pid) and
 * held locked while it is written. A later write of the same file removes such files of it that no
 * writer holds any more (a {@code kill -9}, a crash) and that are over a minute old; those of
 * writers under way, in this JVM or another, in this container or another that shares the folder,
 * are left, and so are other files'. The forty-fourth session's {@code .FILE.<random>.partial},
 * whose writers took no lock, is removed too when over a minute old and open in no process (on
 * Linux; see {@link #open(Path, OnStop, Links, Folders, Set, Consumer)}). A caller that removes the
 * file removes its locked kind too, however young, with {@link #removeLeftTemporaryFiles}.
 *
 * <p>The locks are only as good as the file system's. Where it refuses them, nothing of the locked
 * kind is removed. Where they are local to each host (NFS mounted with {@code nolock} or {@code
 * local_lock=all}, some bind mounts shared between hosts or VMs), a lock succeeds and keeps out
 * only the writers of the same host: a temporary file of a write under way on another host then
 * looks left behind, and only the minute guards it, so a writer there that has not written for a
 * minute loses it and its commit fails (the file stays as it was), and a takedown removes it at
 * once.
 *
 * <p>The temporary file is a new file created with {@code CREATE_NEW}: two writers of the same file
 * never share one, it gets a new file's usual permissions (not the previous file's, nor a temporary
 * file's 0600) unless the caller gives some, and the folder must let the caller create files.
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
   * As {@link #write(Path, OnStop, Consumer, Writer)}, the temporary file, and so the file, created
   * with {@code permissions} (see {@link #open(Path, OnStop, Links, Folders, Set, Consumer)}).
   */
  public static void write(
      Path file,
      OnStop onStop,
      Set<PosixFilePermission> permissions,
      Consumer<String> notes,
      Writer writer)
      throws IOException {
    try (Replacement replacement = open(file, onStop, Links.FOLLOW, null, permissions, notes)) {
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
    return open(file, onStop, links, folders, null, notes);
  }

  /**
   * As {@link #open(Path, OnStop, Links, Folders, Consumer)}, the temporary file created with
   * {@code permissions} (null: a new file's usual ones) where the file system has POSIX
   * permissions, so that bytes written to it are never readable by more than those permissions
   * allow, not even before the move: for a key file, {@code rw-------}. The umask may only take
   * permissions away. The moved file keeps them.
   *
   * <p>Before it creates its own, it removes the temporary files of the same file that writers no
   * longer running left behind, saying so to {@code notes}: those named {@code
   * .FILE.<pid>-<random>.partial} that no writer holds locked, over a minute old, found by one
   * listing of the folder per JVM; on a file system that refuses locks, none (where locks are local
   * to each host, see the class notes). Also the forty-fourth session's {@code
   * .FILE.<random>.partial} (no pid, no lock) over a minute old that no process of the user it
   * belongs to has open, on Linux only (see {@link #removeIfUnused}).
   */
  public static Replacement open(
      Path file,
      OnStop onStop,
      Links links,
      Folders folders,
      Set<PosixFilePermission> permissions,
      Consumer<String> notes)
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
    String name = target.getFileName().toString();
    removeLeftPartials(folder, name, STALE_AFTER, notes);
    Path partial =
        folder.resolve(
            "."
                + name
                + "."
                + ProcessHandle.current().pid()
                + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 4)
                + PARTIAL_SUFFIX);
    // CREATE_NEW, not a temp file: the file gets a new file's usual permissions (not 0600), or
    // those asked for.
    OPEN.add(partial.getFileName().toString());
    FileChannel channel;
    try {
      channel = create(partial, permissions);
    } catch (IOException | RuntimeException | Error e) {
      OPEN.remove(partial.getFileName().toString());
      throw e;
    }
    try {
      beforeLock.accept(partial);
      // Held until the move or the removal: a later writer leaves a locked file alone.
      lock(channel, partial, file);
    } catch (IOException | RuntimeException | Error e) {
      channel.close();
      Files.deleteIfExists(partial);
      OPEN.remove(partial.getFileName().toString());
      throw e;
    }
    try {
      return new Replacement(file, target, partial, channel, onStop, folders, notes);
    } catch (RuntimeException | Error e) {
      // A JVM already stopping refuses the hook: no replacement, and no file left.
      channel.close();
      Files.deleteIfExists(partial);
      OPEN.remove(partial.getFileName().toString());
      throw e;
    }
  }

  /**
   * Locks the new temporary file {@code partial} for its writer. Another process may hold a lock on
   * it for a moment: a writer of the same file in another process that checks, with a shared lock,
   * whether it was left behind (it then leaves it, as it is young). So a lock refused is tried
   * again after a pause that grows ({@link #lockPauseMillis}), for up to {@link #LOCK_WAIT}; one
   * refused for longer (a process other than these writers keeps it locked) fails the write rather
   * than let it go on unlocked, which a later writer could take for one left behind and remove
   * mid-write.
   */
  private static void lock(FileChannel channel, Path partial, Path file) throws IOException {
    long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
    for (int refusals = 1; ; refusals++) {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (IOException e) {
        // A file system that refuses locks: no later writer can lock it either, so none removes it.
        return;
      }
      if (lock != null) {
        return;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new IOException(
            "cannot write "
                + file
                + ": another process has held a lock on its new temporary file "
                + partial
                + " for over "
                + LOCK_WAIT.toSeconds()
                + " s, so it cannot be locked for the write; "
                + file
                + " is left as it was");
      }
      try {
        Thread.sleep(
            lockPauseMillis(refusals, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while locking " + partial);
      }
    }
  }

  /** How long a writer tries to lock its new temporary file that another process holds locked. */
  static final Duration LOCK_WAIT = Duration.ofSeconds(5);

  /** The pause after a lock's first refusal; each further refusal doubles it. */
  static final long LOCK_FIRST_PAUSE_MILLIS = 1;

  /** The longest pause between two tries of a lock. */
  static final long LOCK_LONGEST_PAUSE_MILLIS = 100;

  /**
   * The pause after a lock's {@code refusals}-th refusal: {@value #LOCK_FIRST_PAUSE_MILLIS} ms
   * doubling to {@value #LOCK_LONGEST_PAUSE_MILLIS} ms, and no longer than the {@code millisLeft}
   * of {@link #LOCK_WAIT} (at least 1 ms). The usual holder, a writer's check, holds its lock for
   * well under a millisecond, so the first tries come soon; a lock held longer is tried 57 times in
   * the 5 s rather than every 10 ms (500 times, before).
   */
  static long lockPauseMillis(int refusals, long millisLeft) {
    long pause =
        refusals > 7
            ? LOCK_LONGEST_PAUSE_MILLIS
            : Math.min(LOCK_LONGEST_PAUSE_MILLIS, LOCK_FIRST_PAUSE_MILLIS << (refusals - 1));
    return Math.max(1, Math.min(pause, millisLeft));
  }

  /** For tests: told each new temporary file between its creation and its lock. */
  static volatile Consumer<Path> beforeLock = partial -> {};

  private static FileChannel create(Path partial, Set<PosixFilePermission> permissions)
      throws IOException {
    Set<StandardOpenOption> options =
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    if (permissions != null) {
      try {
        return FileChannel.open(
            partial, options, PosixFilePermissions.asFileAttribute(permissions));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system (Windows): the folder's ACLs apply.
      }
    }
    return FileChannel.open(partial, options);
  }

  /**
   * Removes the temporary files of {@code file} (beside {@code file} itself: a link at it is not
   * followed) that writers no longer running left, however young: for a caller that removes the
   * file ({@code publish}'s takedown), after which no later write of it would remove them. As
   * before a write ({@link #open(Path, OnStop, Links, Folders, Set, Consumer)}), a file a writer
   * holds locked, this JVM's own, another file's and one named otherwise are left, and the folder
   * is listed once per JVM. Without the minute a write waits, a writer of the same file in another
   * process caught between creating its temporary file and locking it loses the file: its move
   * fails and so does its write, nothing published.
   *
   * @param notes told, one line each, what was removed and what could not be
   * @return how many it removed
   */
  public static int removeLeftTemporaryFiles(Path file, Consumer<String> notes) {
    Path target = file.toAbsolutePath();
    Path folder = target.getParent();
    if (folder == null || !Files.isDirectory(folder)) {
      return 0;
    }
    return removeLeftPartials(folder, target.getFileName().toString(), Duration.ZERO, notes);
  }

  /** How old an unlocked temporary file must be before a write counts it as left behind. */
  private static final Duration STALE_AFTER = Duration.ofMinutes(1);

  /**
   * The names of the temporary files this JVM has open: the only ones it must not try to lock (on
   * Linux, closing any channel of a file drops every lock the process holds on it).
   */
  private static final Set<String> OPEN = ConcurrentHashMap.newKeySet();

  /**
   * The temporary files that may have been left behind in a folder, by target name: found by one
   * listing the first time this JVM replaces a file in the folder (a folder of many files, such as
   * {@code publish}'s, is not listed again at every write), and kept while they exist.
   */
  private static final Map<Path, Map<String, Set<Path>>> LEFT = new ConcurrentHashMap<>();

  /** For tests: the next write in each folder lists it again, as a new JVM would. */
  static void forgetListings() {
    LEFT.clear();
  }

  /**
   * Removes the temporary files of the target {@code name} in {@code folder} that no writer holds
   * any more: a {@code kill -9} or a crash left them. A writer holds its temporary file locked
   * ({@link FileChannel#tryLock()}, a lock the operating system drops when the process ends, and
   * one that holds across containers sharing the folder, unlike a pid). One is removed when it is
   * named {@code .NAME.<pid>-<hex>.partial}, is not this JVM's, is a regular file (not a link), can
   * be locked, and was last written more than {@link #STALE_AFTER} ago (so that a writer between
   * creating its file and locking it keeps it). The forty-fourth session's {@code
   * .NAME.<hex>.partial}, whose writers took no lock, is removed as {@link #removeIfUnused} allows
   * (over {@link #STALE_AFTER} old whatever {@code staleAfter} says, and open in no process).
   * Another target's, one named otherwise and a locked kind on a file system that refuses locks are
   * left alone (where locks are local to each host, another host's writer holds none that counts
   * here: see the class notes). The folder is listed once per JVM (see {@link #LEFT}): a file a
   * writer leaves after that is removed by the next JVM. Nothing here fails a write: a file that
   * cannot be removed is only noted. {@code staleAfter}: {@link #STALE_AFTER} before a write, zero
   * for {@link #removeLeftTemporaryFiles}.
   *
   * @return how many it removed
   */
  private static int removeLeftPartials(
      Path folder, String name, Duration staleAfter, Consumer<String> notes) {
    Map<String, Set<Path>> left = LEFT.computeIfAbsent(folder, ReplacingFiles::listPartials);
    Set<Path> candidates;
    synchronized (left) {
      Set<Path> found = left.get(name);
      if (found == null) {
        return 0;
      }
      candidates = Set.copyOf(found);
    }
    int removed = 0;
    for (Path partial : candidates) {
      boolean gone = removeIfLeft(partial, staleAfter, notes);
      if (gone) {
        removed++;
      }
      if (gone || !Files.exists(partial, LinkOption.NOFOLLOW_LINKS)) {
        synchronized (left) {
          Set<Path> found = left.get(name);
          if (found != null && found.remove(partial) && found.isEmpty()) {
            left.remove(name);
          }
        }
      }
    }
    return removed;
  }

  /**
   * Removes {@code partial} if no writer holds it and it was last written over {@code staleAfter}
   * ago; true when removed.
   */
  private static boolean removeIfLeft(Path partial, Duration staleAfter, Consumer<String> notes) {
    if (!PARTIAL.matcher(partial.getFileName().toString()).matches()) {
      return removeIfUnused(partial, notes); // The forty-fourth session's name: no lock to try.
    }
    if (OPEN.contains(partial.getFileName().toString())
        || !Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try (FileChannel channel =
            FileChannel.open(partial, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        FileLock lock = channel.tryLock(0, Long.MAX_VALUE, true)) {
      if (lock == null) {
        return false; // A writer holds it.
      }
      Instant written = Files.getLastModifiedTime(partial, LinkOption.NOFOLLOW_LINKS).toInstant();
      if (!staleAfter.isZero() && written.isAfter(Instant.now().minus(staleAfter))) {
        return false;
      }
      Files.delete(partial);
      notes.accept("removed " + partial + ", left by a writer that is no longer running");
      return true;
    } catch (NoSuchFileException e) {
      return false; // Moved over its file or removed meanwhile.
    } catch (OverlappingFileLockException e) {
      return false; // One this JVM holds after all: left alone.
    } catch (IOException e) {
      // A file system without locks, or a removal refused: left alone, and said so.
      notes.accept("left " + partial + " in place: it could not be locked or removed (" + e + ")");
      return false;
    }
  }

  private static final String PARTIAL_SUFFIX = ".partial";

  /**
   * {@code .NAME.<pid>-<hex>.partial}. The dash keeps it from matching an older temporary file
   * {@code .NAME.<digits>.<hex>.partial} of a file named {@code NAME.<digits>}; no other target's
   * file matches either, since neither the pid nor the hex has a dot.
   */
  private static final Pattern PARTIAL =
      Pattern.compile("\\.(.+)\\.[0-9]{1,19}-[0-9a-f]{1,16}\\.partial");

  /**
   * The forty-fourth session's {@code .NAME.<hex>.partial}: {@code Long.toHexString(nextLong() >>>
   * 4)}, 1 to 15 lowercase hex digits, no pid. Its writers took no lock, so it is removed only as
   * {@link #removeIfUnused} allows. No name matches both patterns (here the last part before {@code
   * .partial} has no dash), and the greedy NAME is the only target it can belong to, as no hex has
   * a dot.
   */
  private static final Pattern OLDER_PARTIAL =
      Pattern.compile("\\.(.+)\\.[0-9a-f]{1,15}\\.partial");

  /**
   * Removes the files of {@code folder} whose whole name matches {@code names} that writers of an
   * earlier version, which named their temporary files otherwise and took no lock, left behind: for
   * a caller that wrote through such files before it wrote through this class ({@code
   * BuiltinModelStore}'s {@code knNNN.tmp}, {@code ProvenanceKeys}' {@code FILENNN.new}, both
   * {@code Files.createTempFile} names). One is removed only as {@link #removeIfUnused} allows:
   * last written over a minute ago and, on Linux, open in no process that could be its writer;
   * elsewhere none is. The folder is listed at each call. Nothing here fails: a file that cannot be
   * checked or removed is only noted.
   *
   * @param names the exact names the earlier code gave its temporary files, and no others
   * @param notes told, one line each, what was removed and what could not be
   * @return how many it removed
   */
  public static int removeOlderTemporaryFiles(Path folder, Pattern names, Consumer<String> notes) {
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> files =
        Files.newDirectoryStream(
            folder, file -> names.matcher(file.getFileName().toString()).matches())) {
      files.forEach(found::add);
    } catch (IOException | DirectoryIteratorException e) {
      return 0; // No folder yet, or an unreadable one: nothing to clean.
    }
    int removed = 0;
    for (Path file : found) {
      if (removeIfUnused(file, notes)) {
        removed++;
      }
    }
    return removed;
  }

  /**
   * Removes {@code file}, a temporary file of an earlier version's writer (which took no lock),
   * when no writer can be using it; true when removed. It must be a regular file (not a link) last
   * written over {@link #STALE_AFTER} ago (however young the caller allows for locked ones), and no
   * process that could have written it may have it open ({@link #mayBeOpen}: checked on Linux only,
   * so elsewhere nothing is removed). The age is checked again after the processes, so a write
   * meanwhile keeps it. Why that is safe: no writer of this version creates such a name, so only a
   * JVM of an earlier version can be using one, and each such writer held its file open from its
   * creation until the call just before its move or link into place (the forty-fourth session's
   * {@code commit} closed, then moved; {@code ProvenanceKeys}' {@code writeString} closed, then
   * linked or moved; {@code BuiltinModelStore} closed after the sync, then moved). While it is open
   * the processes show it; a writer caught between the close and the next call, by the check and
   * the removal, that had also not written for a minute (only {@code score}'s, which fills a 64 KiB
   * buffer between writes) is the one case left on one machine. A writer in another pid namespace
   * (another container sharing the folder) is not seen: there only the age guards it, enough for
   * those written in one go ({@code knNNN.tmp}, {@code FILENNN.new}, the forty-fourth session's
   * {@code ReplacingFiles.write}), not for a slow {@code score} run's.
   */
  private static boolean removeIfUnused(Path file, Consumer<String> notes) {
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
          || !writtenBefore(file, STALE_AFTER)
          || mayBeOpen(file)
          || !writtenBefore(file, STALE_AFTER)) {
        return false;
      }
      Files.delete(file);
      notes.accept(
          "removed " + file + ", left by a writer of an earlier version that is no longer running");
      return true;
    } catch (NoSuchFileException e) {
      return false; // Moved into place or removed meanwhile.
    } catch (IOException | RuntimeException e) {
      notes.accept("left " + file + " in place: it could not be checked or removed (" + e + ")");
      return false;
    }
  }

  private static boolean writtenBefore(Path file, Duration ago) throws IOException {
    Instant written = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant();
    return written.isBefore(Instant.now().minus(ago));
  }

  private static final Path PROC = Path.of("/proc");

  /**
   * Whether a process may have {@code file} open; false only where {@code /proc} lists the
   * processes (Linux), {@code file} belongs to this process's user and no process of that user has
   * it open (compared by device and inode, as {@code /proc/PID/fd/N} leads to the open file). A
   * writer owns the file it created, so a file of another user is left (its writer's descriptors
   * may be unreadable here), and other users' processes are not looked into. Where {@code /proc} is
   * not there (macOS, Windows): true, it cannot tell.
   */
  static boolean mayBeOpen(Path file) throws IOException {
    if (!Files.isDirectory(PROC.resolve("self").resolve("fd"))) {
      return true;
    }
    Map<String, Object> wanted =
        Files.readAttributes(file, "unix:dev,ino,uid", LinkOption.NOFOLLOW_LINKS);
    Object user = Files.getAttribute(PROC.resolve("self"), "unix:uid");
    if (!user.equals(wanted.get("uid"))) {
      return true;
    }
    try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path process : processes) {
        if (holds(process, user, wanted)) {
          return true;
        }
      }
    } catch (DirectoryIteratorException e) {
      throw e.getCause();
    }
    return false;
  }

  /**
   * Whether {@code process} ({@code /proc/PID}), if it runs as {@code user}, has the file {@code
   * wanted} describes open. One that ends meanwhile has nothing open; one of that user whose
   * descriptors cannot be read may have it.
   */
  private static boolean holds(Path process, Object user, Map<String, Object> wanted) {
    try {
      // /proc/PID belongs to the process's user (to root where it made itself undumpable, as no
      // JVM does).
      if (!user.equals(Files.getAttribute(process, "unix:uid"))) {
        return false;
      }
    } catch (IOException e) {
      return false; // Ended meanwhile.
    }
    try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(process.resolve("fd"))) {
      for (Path descriptor : descriptors) {
        try {
          Map<String, Object> open = Files.readAttributes(descriptor, "unix:dev,ino");
          if (wanted.get("dev").equals(open.get("dev"))
              && wanted.get("ino").equals(open.get("ino"))) {
            return true;
          }
        } catch (IOException e) {
          // Closed meanwhile.
        }
      }
      return false;
    } catch (NoSuchFileException e) {
      return false; // Ended meanwhile.
    } catch (IOException | DirectoryIteratorException e) {
      return true;
    }
  }

  private static Map<String, Set<Path>> listPartials(Path folder) {
    Map<String, Set<Path>> left = new HashMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, ".*" + PARTIAL_SUFFIX)) {
      for (Path file : files) {
        Matcher matcher = PARTIAL.matcher(file.getFileName().toString());
        if (!matcher.matches()) {
          matcher = OLDER_PARTIAL.matcher(file.getFileName().toString());
        }
        if (matcher.matches() && !OPEN.contains(file.getFileName().toString())) {
          left.computeIfAbsent(matcher.group(1), key -> new HashSet<>()).add(file);
        }
      }
    } catch (IOException | DirectoryIteratorException e) {
      // An unreadable folder: nothing to clean, and the write goes on (or fails on its own).
    }
    return left;
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
      // Moved while still open, so locked: closing first would let another writer remove it.
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
      closeAndSyncFolder();
    }

    /**
     * As {@link #commit}, but only when no file is at the target yet: the synced bytes are linked
     * into place (a hard link, which fails where the name exists) and the temporary file removed.
     * Of writers that race to create the same file, exactly one returns true and the others leave
     * the file as that one wrote it (a file created once and then read, such as a key file).
     *
     * @return false when a file was already there (the temporary file is removed all the same)
     */
    public boolean commitIfAbsent() throws IOException {
      stream.flush();
      channel.force(true);
      boolean created;
      try {
        Files.createLink(target, partial);
        created = true;
      } catch (FileAlreadyExistsException e) {
        created = false;
      }
      committed = true;
      Files.delete(partial);
      closeAndSyncFolder();
      return created;
    }

    /**
     * Closes the temporary file (dropping its lock) once it was moved or linked into place, and
     * syncs the folder, or leaves that to the batch's close.
     */
    private void closeAndSyncFolder() throws IOException {
      channel.close();
      OPEN.remove(partial.getFileName().toString());
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
          OPEN.remove(partial.getFileName().toString());
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
