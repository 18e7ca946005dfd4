package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.genguard.schemas.ReplacingFiles.OnStop;
import io.genguard.schemas.ReplacingFiles.Replacement;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplacingFilesTest {
  private final List<String> notes = new ArrayList<>();

  @Test
  void shouldWriteANewFileAndLeaveNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("model.bin");

    ReplacingFiles.write(file, OnStop.REMOVE, notes::add, out -> out.write(new byte[] {1, 2}));

    assertThat(Files.readAllBytes(file)).containsExactly(1, 2);
    assertThat(filesIn(dir)).as("no temporary file left").containsExactly(file);
    assertThat(notes).isEmpty();
  }

  @Test
  void shouldReplaceTheFileWholeEvenWhenTheWriterClosesTheStream(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("bundle.json");
    Files.writeString(file, "x".repeat(10_000));

    // A JSON writer closes the stream it is given: the bytes must still be synced and moved.
    ReplacingFiles.write(
        file,
        OnStop.FINISH,
        notes::add,
        out -> {
          try (OutputStream closing = out) {
            closing.write("{\"new\": true}".getBytes(StandardCharsets.UTF_8));
          }
        });

    assertThat(Files.readString(file)).isEqualTo("{\"new\": true}");
    assertThat(filesIn(dir)).as("no temporary file left").containsExactly(file);
  }

  @Test
  void shouldLeaveThePreviousFileAndNoTemporaryFileWhenTheWriterThrows(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("report.md");
    Files.writeString(file, "previous");

    assertThatThrownBy(
            () ->
                ReplacingFiles.write(
                    file,
                    OnStop.REMOVE,
                    notes::add,
                    out -> {
                      out.write("half of the new".getBytes(StandardCharsets.UTF_8));
                      throw new IOException("No space left on device (simulated)");
                    }))
        .hasMessageContaining("No space left");
    assertThatThrownBy(
            () ->
                ReplacingFiles.write(
                    file,
                    OnStop.FINISH,
                    notes::add,
                    out -> {
                      out.write("half of the new".getBytes(StandardCharsets.UTF_8));
                      throw new OutOfMemoryError("Java heap space (simulated)");
                    }))
        .isInstanceOf(OutOfMemoryError.class);

    assertThat(Files.readString(file)).isEqualTo("previous");
    assertThat(filesIn(dir)).as("no temporary file left").containsExactly(file);
    assertThat(notes)
        .hasSize(2)
        .allSatisfy(note -> assertThat(note).startsWith("removed the partial output " + dir));
  }

  @Test
  void shouldLeaveThePreviousFileWhenAReplacementIsClosedUncommitted(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("out.jsonl");
    Files.writeString(file, "previous");

    Path partial;
    try (Replacement replacement = ReplacingFiles.open(file, OnStop.REMOVE, notes::add)) {
      partial = replacement.temporaryFile();
      replacement.stream().write("rows".getBytes(StandardCharsets.UTF_8));
      assertThat(partial.getParent()).as("beside the file").isEqualTo(dir.toRealPath());
      assertThat(partial.getFileName().toString()).startsWith(".out.jsonl.").endsWith(".partial");
      assertThat(Files.readString(partial)).isEqualTo("rows");
    }

    assertThat(Files.readString(file)).isEqualTo("previous");
    assertThat(partial).doesNotExist();
    assertThat(filesIn(dir)).containsExactly(file);
  }

  @Test
  void shouldGiveTwoWritersOfOneFileTwoTemporaryFiles(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("out.jsonl");
    try (Replacement first = ReplacingFiles.open(file, OnStop.FINISH, notes::add);
        Replacement second = ReplacingFiles.open(file, OnStop.FINISH, notes::add)) {
      assertThat(first.temporaryFile()).isNotEqualTo(second.temporaryFile());
      first.stream().write('1');
      second.stream().write('2');
      first.commit();
      assertThat(Files.readString(file)).isEqualTo("1");
      second.commit();
    }
    assertThat(Files.readString(file)).isEqualTo("2");
    assertThat(filesIn(dir)).containsExactly(file);
  }

  @Test
  void shouldReplaceTheTargetOfALinkAndKeepTheLink(@TempDir Path dir) throws Exception {
    Path real = Files.createDirectory(dir.resolve("real")).resolve("out.jsonl");
    Files.writeString(real, "previous");
    Path link = dir.resolve("out.jsonl");
    try {
      Files.createSymbolicLink(link, real);
    } catch (UnsupportedOperationException | IOException e) {
      assumeTrue(false, "a file system with symbolic links");
    }

    ReplacingFiles.write(
        link, OnStop.REMOVE, notes::add, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));

    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).isEqualTo("new");
    assertThat(filesIn(real.getParent())).containsExactly(real);
  }

  /**
   * With {@link ReplacingFiles.Links#REPLACE} a link at the path is replaced by the new file and
   * its target, outside the folder, is left as it was (publish: a takedown that deletes the file
   * then deletes what was written). The forty-fourth session's first version wrote through it.
   */
  @Test
  void shouldReplaceALinkItselfAndLeaveItsTargetWhenAskedTo(@TempDir Path dir) throws Exception {
    Path outside = Files.createDirectory(dir.resolve("outside")).resolve("featured.json");
    Files.writeString(outside, "someone else's");
    Path folder = Files.createDirectory(dir.resolve("published"));
    Path link = folder.resolve("r1.json");
    Path dangling = folder.resolve("r2.json");
    try {
      Files.createSymbolicLink(link, outside);
      Files.createSymbolicLink(dangling, dir.resolve("outside/missing.json"));
    } catch (UnsupportedOperationException | IOException e) {
      assumeTrue(false, "a file system with symbolic links");
    }

    for (Path file : List.of(link, dangling)) {
      ReplacingFiles.write(
          file,
          OnStop.FINISH,
          ReplacingFiles.Links.REPLACE,
          null,
          notes::add,
          out -> out.write("released".getBytes(StandardCharsets.UTF_8)));
    }

    assertThat(Files.isSymbolicLink(link)).as("the link replaced").isFalse();
    assertThat(Files.readString(link)).isEqualTo("released");
    assertThat(Files.isSymbolicLink(dangling)).isFalse();
    assertThat(Files.readString(dangling)).isEqualTo("released");
    assertThat(Files.readString(outside))
        .as("the link's target untouched")
        .isEqualTo("someone else's");
    assertThat(filesIn(outside.getParent())).as("no temporary file there").containsExactly(outside);
    assertThat(filesIn(folder)).containsExactlyInAnyOrder(link, dangling);
  }

  /** Folders given to a write are synced by their owner, once each however many files moved. */
  @Test
  void shouldLeaveTheFolderSyncToTheFoldersItIsGiven(@TempDir Path dir) throws Exception {
    Path acme = Files.createDirectory(dir.resolve("acme"));
    Path globex = Files.createDirectory(dir.resolve("globex"));
    ReplacingFiles.Folders folders = new ReplacingFiles.Folders();

    for (Path file :
        List.of(acme.resolve("1.json"), acme.resolve("2.json"), globex.resolve("3.json"))) {
      ReplacingFiles.write(
          file,
          OnStop.FINISH,
          ReplacingFiles.Links.REPLACE,
          folders,
          notes::add,
          out -> out.write(1));
    }

    assertThat(folders.sync()).as("each folder once").isEqualTo(2);
    assertThat(folders.sync()).as("nothing left to sync").isZero();
    assertThat(filesIn(acme)).hasSize(2);
  }

  @Test
  void shouldRefuseAFileInAFolderThatDoesNotExist(@TempDir Path dir) {
    Path file = dir.resolve("missing/out.jsonl");

    assertThatThrownBy(
            () -> ReplacingFiles.write(file, OnStop.REMOVE, notes::add, out -> out.write(1)))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("the folder of " + file + " does not exist");
  }

  @Test
  void shouldRemoveTheTemporaryFileWhenTheJvmIsStopped(@TempDir Path dir) throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = work.resolve("out.jsonl");
    Files.writeString(file, "previous");

    String said = stopWhileWriting(file, dir.resolve("child.log"), "REMOVE", false);

    assertThat(Files.readString(file)).as(said).isEqualTo("previous");
    assertThat(filesIn(work)).as("no temporary file left: " + said).containsExactly(file);
    assertThat(said)
        .contains("stopped before the end; removed the partial output")
        .contains("left " + file + " as it was");
  }

  @Test
  void shouldLetAGracefulStopFinishTheWriteUnderWay(@TempDir Path dir) throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = work.resolve("published.json");
    Files.writeString(file, "previous");

    // As publish does: its own shutdown hook lets the write under way finish (here after 1 s).
    String said = stopWhileWriting(file, dir.resolve("child.log"), "FINISH", true);

    assertThat(Files.readString(file)).as(said).isEqualTo("new rows, and the rest");
    assertThat(filesIn(work)).as(said).containsExactly(file);
    assertThat(said).contains("committed").doesNotContain("removed the partial output");
  }

  /**
   * A writer stopped by {@code kill -9} leaves its temporary file; the next write of the same file
   * removes it, and nothing else: not a writer's under way (this JVM's), not one unlocked but
   * younger than a minute, not another file's, not a link, not a name that only looks like one. The
   * forty-fourth session left it there for good. (Its own names, without a pid: {@link
   * #shouldRemoveTheFortyFourthSessionsTemporaryFileOnlyWhenNoProcessHasItOpen}.)
   */
  @Test
  void shouldRemoveTheTemporaryFileAKilledWriterLeftAtTheNextWrite(@TempDir Path dir)
      throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = work.resolve("out.jsonl");
    Files.writeString(file, "previous");
    Process killed = startWriter(file, dir.resolve("child.log"));
    killed.destroyForcibly(); // SIGKILL: no shutdown hook runs
    assertThat(killed.waitFor(60, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
    long pid = killed.pid();
    List<Path> left = partialsOf(work, ".out.jsonl." + pid + "-");
    assertThat(left).as("the killed writer's temporary file").hasSize(1);
    Path dead = left.get(0);
    Path kept = Files.createDirectory(dir.resolve("kept"));
    List<Path> others = new ArrayList<>();
    for (String name :
        List.of(
            ".other.jsonl." + pid + "-abc.partial", // another file's
            ".out.jsonl." + pid + "-abc.partial.bak",
            "out.jsonl." + pid + "-abc.partial",
            ".out.jsonl." + pid + "-xyz.partial")) {
      others.add(Files.writeString(work.resolve(name), "someone's"));
    }
    Path target = Files.writeString(kept.resolve("victim"), "kept");
    Path link = work.resolve(".out.jsonl." + pid + "-11.partial");
    Files.createSymbolicLink(link, target);
    for (Path old : concat(others, List.of(dead))) {
      Files.setLastModifiedTime(old, anHourAgo());
    }
    Path young = Files.writeString(work.resolve(".out.jsonl." + pid + "-22.partial"), "young");

    Path live;
    try (Replacement underWay = ReplacingFiles.open(file, OnStop.FINISH, notes::add)) {
      live = underWay.temporaryFile();
      assertThat(live.getFileName().toString())
          .startsWith(".out.jsonl." + ProcessHandle.current().pid() + "-");
      assertThat(dead).as("removed when the file is next written").doesNotExist();
      assertThat(notes)
          .containsExactly("removed " + dead + ", left by a writer that is no longer running");

      // As a new JVM would, with this one's write under way: left alone, however old.
      Files.setLastModifiedTime(live, anHourAgo());
      ReplacingFiles.forgetListings();
      ReplacingFiles.write(
          file,
          OnStop.REMOVE,
          notes::add,
          out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
      assertThat(live).as("this JVM's write under way").exists();
    }

    assertThat(Files.readString(file)).isEqualTo("new");
    assertThat(notes)
        .as("the second write removed nothing; closing the first removed its own")
        .hasSize(2)
        .last()
        .isEqualTo("removed the partial output " + live);
    assertThat(filesIn(work))
        .containsExactlyInAnyOrderElementsOf(concat(others, List.of(file, link, young)));
    assertThat(Files.readString(target)).isEqualTo("kept");
  }

  /** Another JVM's write under way holds its temporary file locked: it stays, however old. */
  @Test
  void shouldLeaveTheTemporaryFileOfAWriterRunningInAnotherJvm(@TempDir Path dir) throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = work.resolve("out.jsonl");
    Process running = startWriter(file, dir.resolve("child.log"));
    try {
      List<Path> theirs = partialsOf(work, ".out.jsonl." + running.pid() + "-");
      assertThat(theirs).hasSize(1);
      Files.setLastModifiedTime(theirs.get(0), anHourAgo());
      ReplacingFiles.forgetListings();

      ReplacingFiles.write(file, OnStop.REMOVE, notes::add, out -> out.write('1'));

      assertThat(theirs.get(0)).as("still being written").exists();
      assertThat(notes).isEmpty();
    } finally {
      running.destroyForcibly();
      running.waitFor(60, TimeUnit.SECONDS);
    }
  }

  /**
   * A key file's temporary file is created owner-only: it is so before any byte is written to it,
   * and the file it becomes stays so.
   */
  @Test
  void shouldCreateTheTemporaryFileWithThePermissionsAskedFor(@TempDir Path dir) throws Exception {
    assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"), "a POSIX file system");
    Path file = dir.resolve("signing-keys");
    Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");

    try (Replacement replacement =
        ReplacingFiles.open(
            file, OnStop.REMOVE, ReplacingFiles.Links.FOLLOW, null, ownerOnly, notes::add)) {
      assertThat(Files.size(replacement.temporaryFile())).as("nothing written yet").isZero();
      assertThat(Files.getPosixFilePermissions(replacement.temporaryFile())).isEqualTo(ownerOnly);
      replacement.stream().write("secret".getBytes(StandardCharsets.UTF_8));
      replacement.commit();
    }
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(ownerOnly);
    ReplacingFiles.write(file, OnStop.REMOVE, ownerOnly, notes::add, out -> out.write('2'));
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(ownerOnly);
    assertThat(Files.readString(file)).isEqualTo("2");
    assertThat(filesIn(dir)).containsExactly(file);
  }

  /** A file created once and then read (a key file): the first writer's stays. */
  @Test
  void shouldCommitOnlyWhenNoFileIsThereWhenAskedTo(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("watermark-keys");
    try (Replacement first = ReplacingFiles.open(file, OnStop.REMOVE, notes::add);
        Replacement second = ReplacingFiles.open(file, OnStop.REMOVE, notes::add)) {
      first.stream().write('1');
      second.stream().write('2');
      assertThat(second.commitIfAbsent()).isTrue();
      assertThat(first.commitIfAbsent()).as("the other one was first").isFalse();
    }
    assertThat(Files.readString(file)).isEqualTo("2");
    assertThat(filesIn(dir)).containsExactly(file);
    assertThat(notes).isEmpty();
  }

  /**
   * Another process may hold a lock on a writer's new temporary file for a moment (a writer of the
   * same file in another process checking whether it was left behind): the writer waits for it and
   * then holds its own. Before, the refused lock was ignored and the write went on unlocked.
   */
  @Test
  void shouldWaitForAMomentaryLockOnItsNewTemporaryFileAndThenHoldItsOwn(@TempDir Path dir)
      throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = work.resolve("out.jsonl");
    List<Process> holders = new ArrayList<>();
    ReplacingFiles.beforeLock =
        partial -> holders.add(holdLock(partial, 300, dir.resolve("holder.log")));
    try (Replacement replacement = ReplacingFiles.open(file, OnStop.REMOVE, notes::add)) {
      ReplacingFiles.beforeLock = partial -> {};
      assertThat(holders).as("held by another process when the writer tried").hasSize(1);

      Process probe = holdLock(replacement.temporaryFile(), 0, dir.resolve("probe.log"));
      assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(Files.readString(dir.resolve("probe.log")))
          .as("the writer holds its temporary file locked")
          .contains("refused")
          .doesNotContain("locked");

      replacement.stream().write('1');
      replacement.commit();
    } finally {
      ReplacingFiles.beforeLock = partial -> {};
      holders.forEach(Process::destroyForcibly);
    }
    assertThat(Files.readString(file)).isEqualTo("1");
    assertThat(filesIn(work)).containsExactly(file);
  }

  /**
   * A lock on a new temporary file held for longer than a check takes is no writer's: the write
   * fails, saying so, and leaves the file as it was and no temporary file, rather than go on
   * unlocked.
   */
  @Test
  void shouldRefuseAWriteWhoseNewTemporaryFileAnotherProcessKeepsLocked(@TempDir Path dir)
      throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = Files.writeString(work.resolve("out.jsonl"), "previous");
    List<Process> holders = new ArrayList<>();
    ReplacingFiles.beforeLock =
        partial -> holders.add(holdLock(partial, -1, dir.resolve("holder.log")));
    try {
      assertThatThrownBy(
              () ->
                  ReplacingFiles.write(
                      file,
                      OnStop.REMOVE,
                      notes::add,
                      out -> out.write("new".getBytes(StandardCharsets.UTF_8))))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("another process has held a lock on its new temporary file")
          .hasMessageContaining(file + " is left as it was");
    } finally {
      ReplacingFiles.beforeLock = partial -> {};
      holders.forEach(Process::destroyForcibly);
    }
    assertThat(holders).hasSize(1);
    assertThat(Files.readString(file)).isEqualTo("previous");
    assertThat(filesIn(work)).containsExactly(file);
  }

  /**
   * A refused lock is tried again after 1 ms, then 2, 4 ... up to 100 ms between tries, and no
   * pause runs past the limit: before, every pause was 10 ms, too long for the usual momentary
   * holder and too short for one that keeps it (500 tries in the 5 s).
   */
  @Test
  void shouldTryARefusedLockAgainAfterPausesThatDoubleUpToTheLongestWithinTheLimit() {
    List<Long> pauses = new ArrayList<>();
    long left = ReplacingFiles.LOCK_WAIT.toMillis();
    for (int refusals = 1; left > 0; refusals++) {
      long pause = ReplacingFiles.lockPauseMillis(refusals, left);
      pauses.add(pause);
      left -= pause;
    }

    assertThat(pauses.subList(0, 9)).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 64L, 100L, 100L);
    assertThat(pauses).allSatisfy(pause -> assertThat(pause).isBetween(1L, 100L));
    assertThat(pauses.stream().mapToLong(Long::longValue).sum())
        .isEqualTo(ReplacingFiles.LOCK_WAIT.toMillis());
    assertThat(pauses).hasSize(56);
    assertThat(ReplacingFiles.lockPauseMillis(1_000_000, 30)).isEqualTo(30);
    assertThat(ReplacingFiles.lockPauseMillis(3, 0)).isEqualTo(1);
  }

  /**
   * Starts {@link LockHolder} on {@code file} for {@code millis} (negative: until stopped) and
   * returns it once it has tried.
   */
  private static Process holdLock(Path file, long millis, Path log) {
    try {
      return ChildJvm.startReady(
          said -> said.contains("locked") || said.contains("refused"),
          Duration.ofSeconds(60),
          log,
          LockHolder.class,
          file.toString(),
          String.valueOf(millis));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Takes a shared lock on the file {@code args[0]}, as a writer's check of another writer's
   * temporary file does, says whether it got it, and holds it {@code args[1]} ms (negative: until
   * stopped).
   */
  static final class LockHolder {
    public static void main(String[] args) throws Exception {
      try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ);
          FileLock lock = channel.tryLock(0, Long.MAX_VALUE, true)) {
        System.out.println(lock == null ? "refused" : "locked");
        long millis = Long.parseLong(args[1]);
        Thread.sleep(millis < 0 ? 120_000 : millis);
      }
    }
  }

  /** Starts {@link StoppedWriter} on {@code file} and returns it once it has written. */
  /**
   * For a caller that removes the file (publish's takedown): the file's temporary files that no
   * writer holds are removed however young, others' and this JVM's writes under way are left.
   */
  @Test
  void shouldRemoveAFilesLeftTemporaryFilesHoweverYoungWhenAsked(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("out.jsonl");
    Path young = Files.writeString(dir.resolve(".out.jsonl.123-ab.partial"), "the text");
    Path other = Files.writeString(dir.resolve(".other.jsonl.123-ab.partial"), "someone's");
    try (Replacement underWay = ReplacingFiles.open(file, OnStop.FINISH, notes::add)) {
      notes.clear();
      Path live = underWay.temporaryFile();
      ReplacingFiles.forgetListings();

      assertThat(ReplacingFiles.removeLeftTemporaryFiles(file, notes::add)).isEqualTo(1);

      assertThat(young).doesNotExist();
      assertThat(notes)
          .containsExactly("removed " + young + ", left by a writer that is no longer running");
      assertThat(filesIn(dir)).containsExactlyInAnyOrder(other, live);
    }
  }

  private static Process startWriter(Path file, Path log) throws Exception {
    return ChildJvm.startReady(
        said -> said.contains("writing"),
        Duration.ofSeconds(60),
        log,
        StoppedWriter.class,
        file.toString(),
        "REMOVE",
        "false");
  }

  private static List<Path> partialsOf(Path folder, String prefix) throws IOException {
    return filesIn(folder).stream()
        .filter(
            path -> {
              String name = path.getFileName().toString();
              return name.startsWith(prefix) && name.endsWith(".partial");
            })
        .toList();
  }

  private static FileTime anHourAgo() {
    return FileTime.from(Instant.now().minus(Duration.ofHours(1)));
  }

  private static List<Path> concat(List<Path> first, List<Path> second) {
    List<Path> all = new ArrayList<>(first);
    all.addAll(second);
    return all;
  }

  /** Starts {@link StoppedWriter}, SIGTERMs it once it has written, and returns what it said. */
  private static String stopWhileWriting(Path file, Path log, String onStop, boolean finish)
      throws Exception {
    return ChildJvm.stopWhen(
        said -> said.contains("writing"),
        Duration.ofSeconds(60),
        log,
        StoppedWriter.class,
        file.toString(),
        onStop,
        String.valueOf(finish));
  }

  /**
   * Writes part of a replacement and waits to be stopped; with {@code true}, its own shutdown hook
   * writes the rest a second later and commits, as a graceful stop does.
   */
  static final class StoppedWriter {
    public static void main(String[] args) throws Exception {
      Path file = Path.of(args[0]);
      Replacement replacement =
          ReplacingFiles.open(file, OnStop.valueOf(args[1]), System.out::println);
      if (Boolean.parseBoolean(args[2])) {
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      try {
                        Thread.sleep(1_000);
                        replacement.stream()
                            .write(", and the rest".getBytes(StandardCharsets.UTF_8));
                        replacement.commit();
                        replacement.close();
                        System.out.println("committed");
                      } catch (Exception e) {
                        System.out.println("could not finish: " + e);
                      }
                    }));
      }
      replacement.stream().write("new rows".getBytes(StandardCharsets.UTF_8));
      System.out.println("writing");
      Thread.sleep(120_000);
    }
  }

  /**
   * The forty-fourth session's temporary files ({@code .FILE.<hex>.partial}, no pid, no lock) are
   * removed by the next write of FILE when over a minute old and open in no process: not while a
   * writer of that version (another JVM) has its one open, however old, nor a young one, nor one
   * whose name only looks like one, another file's or a link. Before, they stayed for good.
   */
  @Test
  void shouldRemoveTheFortyFourthSessionsTemporaryFileOnlyWhenNoProcessHasItOpen(@TempDir Path dir)
      throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux: /proc shows what is open");
    Path work = Files.createDirectory(dir.resolve("work"));
    Path file = work.resolve("out.jsonl");
    Files.writeString(file, "previous");
    Path theirs = work.resolve(".out.jsonl.1a2b3c.partial");
    Process running =
        ChildJvm.startReady(
            said -> said.contains("writing"),
            Duration.ofSeconds(60),
            dir.resolve("child.log"),
            FortyFourthSessionWriter.class,
            theirs.toString());
    try {
      Path left = Files.writeString(work.resolve(".out.jsonl.fffffffffffffff.partial"), "cut");
      Path kept = Files.createDirectory(dir.resolve("kept"));
      List<Path> others = new ArrayList<>();
      for (String name :
          List.of(
              ".out.jsonl.1a2b3c4d5e6f7a8b.partial", // 16 hex digits: never written
              ".out.jsonl.1A2B.partial",
              ".out.jsonl.1a2b.partial.bak",
              "out.jsonl.1a2b.partial",
              ".out.jsonl..partial",
              ".other.jsonl.1a2b.partial")) {
        others.add(Files.writeString(work.resolve(name), "someone's"));
      }
      Path target = Files.writeString(kept.resolve("victim"), "kept");
      Path link = Files.createSymbolicLink(work.resolve(".out.jsonl.3c.partial"), target);
      for (Path old : concat(others, List.of(left, theirs, target))) {
        Files.setLastModifiedTime(old, anHourAgo());
      }
      Path young = Files.writeString(work.resolve(".out.jsonl.2b.partial"), "young");
      ReplacingFiles.forgetListings();

      ReplacingFiles.write(file, OnStop.REMOVE, notes::add, out -> out.write('1'));

      assertThat(left).as("over a minute old, open nowhere").doesNotExist();
      assertThat(notes)
          .containsExactly(
              "removed "
                  + left
                  + ", left by a writer of an earlier version that is no longer"
                  + " running");
      assertThat(theirs).as("open in a writer still running, however old").exists();
      assertThat(filesIn(work))
          .containsExactlyInAnyOrderElementsOf(concat(others, List.of(file, theirs, link, young)));

      running.destroyForcibly();
      assertThat(running.waitFor(60, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
      notes.clear();
      assertThat(ReplacingFiles.removeLeftTemporaryFiles(file, notes::add))
          .as("a takedown too: the minute holds for these, and the young one stays")
          .isEqualTo(1);
      assertThat(notes)
          .containsExactly(
              "removed "
                  + theirs
                  + ", left by a writer of an earlier version that is no longer"
                  + " running");
      assertThat(filesIn(work))
          .containsExactlyInAnyOrderElementsOf(concat(others, List.of(file, link, young)));
      assertThat(Files.readString(file)).isEqualTo("1");
      assertThat(Files.readString(target)).isEqualTo("kept");
    } finally {
      running.destroyForcibly();
      running.waitFor(60, TimeUnit.SECONDS);
    }
  }

  /**
   * A caller's earlier temporary files ({@code BuiltinModelStore}'s {@code knNNN.tmp}): those named
   * exactly so, over a minute old, that no process has open, are removed; not a young one, not one
   * open (here in this JVM), not a name that only looks like one, a folder or a link. Before, no
   * such call existed and they stayed for good.
   */
  @Test
  void shouldRemoveACallersOlderTemporaryFilesOnlyWhenNoProcessHasThemOpen(@TempDir Path dir)
      throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux: /proc shows what is open");
    Path work = Files.createDirectory(dir.resolve("cache"));
    List<Path> left = new ArrayList<>();
    for (String name : List.of("kn123.tmp", "kn18446744073709551615.tmp")) {
      left.add(Files.writeString(work.resolve(name), "cut"));
    }
    List<Path> others = new ArrayList<>();
    for (String name :
        List.of("kn12a.tmp", "xkn1.tmp", "kn1.tmp.bak", "kn.tmp", "kn184467440737095516150.tmp")) {
      others.add(Files.writeString(work.resolve(name), "someone's"));
    }
    Path open = Files.writeString(work.resolve("kn125.tmp"), "being written");
    others.add(Files.createDirectory(work.resolve("kn126.tmp")));
    Path target = Files.writeString(dir.resolve("victim"), "kept");
    for (Path old : concat(concat(left, others), List.of(open, target))) {
      Files.setLastModifiedTime(old, anHourAgo());
    }
    others.add(Files.createSymbolicLink(work.resolve("kn127.tmp"), target));
    others.add(Files.writeString(work.resolve("kn124.tmp"), "young"));
    Pattern names = Pattern.compile("kn[0-9]{1,20}\\.tmp");

    try (FileChannel writing = FileChannel.open(open, StandardOpenOption.WRITE)) {
      assertThat(ReplacingFiles.removeOlderTemporaryFiles(work, names, notes::add)).isEqualTo(2);

      assertThat(filesIn(work)).containsExactlyInAnyOrderElementsOf(concat(others, List.of(open)));
      assertThat(notes)
          .containsExactlyInAnyOrderElementsOf(
              left.stream()
                  .map(
                      path ->
                          "removed "
                              + path
                              + ", left by a writer of an earlier version that is no longer"
                              + " running")
                  .toList());
    }
    notes.clear();
    assertThat(ReplacingFiles.removeOlderTemporaryFiles(work, names, notes::add))
        .as("once closed")
        .isEqualTo(1);
    assertThat(filesIn(work)).containsExactlyInAnyOrderElementsOf(others);
    assertThat(Files.readString(target)).isEqualTo("kept");
    assertThat(ReplacingFiles.removeOlderTemporaryFiles(dir.resolve("none"), names, notes::add))
        .isZero();
  }

  /**
   * Writes as the forty-fourth session's {@code ReplacingFiles} did: creates the temporary file (no
   * lock), writes part of it and waits.
   */
  static final class FortyFourthSessionWriter {
    public static void main(String[] args) throws Exception {
      try (FileChannel channel =
          FileChannel.open(
              Path.of(args[0]), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap("new rows".getBytes(StandardCharsets.UTF_8)));
        System.out.println("writing");
        Thread.sleep(120_000);
      }
    }
  }

  private static List<Path> filesIn(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files.toList();
    }
  }
}
