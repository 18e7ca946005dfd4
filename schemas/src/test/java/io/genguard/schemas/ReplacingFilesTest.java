package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.genguard.schemas.ReplacingFiles.OnStop;
import io.genguard.schemas.ReplacingFiles.Replacement;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

  private static List<Path> filesIn(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files.toList();
    }
  }
}
