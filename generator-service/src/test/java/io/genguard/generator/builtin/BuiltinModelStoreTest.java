package io.genguard.generator.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged cache file costs one retraining, never a built-in backend that fails for good. */
class BuiltinModelStoreTest {
  /** Magic, format and order come before the vocabulary length. */
  private static final int VOCABULARY_LENGTH_AT = 12;

  @TempDir Path cacheDirectory;

  @Test
  void shouldTrainAgainAndReplaceACachedFileWithANegativeLength() throws Exception {
    Path file = cachedCopyWithVocabularyLength(-1);
    // And a temporary file a start killed while it saved the model left (no writer holds it):
    // removed when the model is saved again (forty-fifth session; before, it stayed for good).
    Path left = cacheDirectory.resolve("." + file.getFileName() + ".4194303-5eed.partial");
    Files.write(left, new byte[] {1, 2, 3});
    Files.setLastModifiedTime(left, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

    assertServedAndReplaced(file);
  }

  /**
   * The forty-fourth session's temporary model file ({@code kn<digits>.tmp}, from {@code
   * Files.createTempFile}) that a killed start left: removed when the model is saved again once
   * over a minute old (open in no process); a young one, maybe another replica's under way, and a
   * name that only looks like one stay. Before, it stayed for good.
   */
  @Test
  void shouldRemoveTheTemporaryModelFileOfAnEarlierVersionThatIsOverAMinuteOld() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux: /proc shows what is open");
    Path file = cachedCopyWithVocabularyLength(-1);
    Path left = Files.write(cacheDirectory.resolve("kn8446744073709551615.tmp"), new byte[] {1});
    Path lookalike = Files.write(cacheDirectory.resolve("kn84467x.tmp"), new byte[] {1});
    for (Path old : new Path[] {left, lookalike}) {
      Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
    }
    Path young = Files.write(cacheDirectory.resolve("kn42.tmp"), new byte[] {1});

    assertServedAndReplaced(file, young, lookalike);
  }

  @Test
  void shouldTrainAgainAndReplaceACachedFileWithAHugeLength() throws Exception {
    Path file = cachedCopyWithVocabularyLength(Integer.MAX_VALUE);

    assertServedAndReplaced(file);
  }

  /** The shared fixture's model file, copied into this test's cache with its length overwritten. */
  private Path cachedCopyWithVocabularyLength(int length) throws Exception {
    Path original = EuroparlModelFixture.trigram().file();
    Path file = cacheDirectory.resolve(original.getFileName());
    byte[] bytes = Files.readAllBytes(original);
    ByteBuffer.wrap(bytes).putInt(VOCABULARY_LENGTH_AT, length);
    Files.write(file, bytes);
    return file;
  }

  private void assertServedAndReplaced(Path file, Path... kept) throws Exception {
    BuiltinModelStore.Loaded loaded = BuiltinModelStore.loadOrTrain(cacheDirectory, 3, 2);

    assertThat(loaded.trained()).as("trained again").isTrue();
    assertThat(loaded.file()).isEqualTo(file);
    assertThat(loaded.model().vocabularySize())
        .isEqualTo(EuroparlModelFixture.trigram().model().vocabularySize());
    try (InputStream in = Files.newInputStream(file)) {
      assertThat(KneserNeyModel.read(in).vocabularySize())
          .as("the damaged file replaced by a good one")
          .isEqualTo(loaded.model().vocabularySize());
    }
    assertThat(BuiltinModelStore.loadOrTrain(cacheDirectory, 3, 2).trained())
        .as("the next start loads it")
        .isFalse();
    try (Stream<Path> files = Files.list(cacheDirectory)) {
      assertThat(files)
          .as("no temporary file left behind")
          .containsExactlyInAnyOrder(
              Stream.concat(Stream.of(file), Stream.of(kept)).toArray(Path[]::new));
    }
  }
}
