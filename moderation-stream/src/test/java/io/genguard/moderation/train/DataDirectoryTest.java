package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the shared data folder comes from, and how a folder that cannot be used is refused. */
class DataDirectoryTest {
  @Test
  void shouldNameWhereAnUnusableFolderCameFromAndWhy(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("no-such-data");
    Path file = Files.writeString(dir.resolve("data.txt"), "not a folder");
    // A working directory with no repository above it: the default is dir/a/../shared/data.
    Path workingDirectory = Files.createDirectories(dir.resolve("a/b"));

    assertThatThrownBy(
            () -> DataDirectory.resolve(null, Map.<String, String>of()::get, workingDirectory))
        .isInstanceOf(DataDirectory.UnusableDataDirectoryException.class)
        .hasMessage(
            "the shared data folder "
                + dir.resolve("a/shared/data")
                + " (the default, ../shared/data beside the repository) does not exist; put the"
                + " shared data sets there, set GENGUARD_DATA_DIR, or pass --data-dir");
    assertThatThrownBy(
            () ->
                DataDirectory.resolve(
                    null, Map.of(DataDirectory.ENV, file.toString())::get, workingDirectory))
        .isInstanceOf(DataDirectory.UnusableDataDirectoryException.class)
        .hasMessageStartingWith(
            "the shared data folder " + file + " (GENGUARD_DATA_DIR) is not a directory;");
    // The flag wins over the setting; each names itself.
    assertThatThrownBy(
            () ->
                DataDirectory.resolve(
                    missing.toString(),
                    Map.of(DataDirectory.ENV, dir.toString())::get,
                    workingDirectory))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "the shared data folder " + missing + " (--data-dir) does not exist;");
    assertThat(DataDirectory.resolve(null, Map.of(DataDirectory.ENV, dir.toString())::get, dir))
        .isEqualTo(dir);
  }

  @Test
  void shouldNameTheFlagOfTheCommandThatNamedTheFolder(@TempDir Path dir) {
    Path missing = dir.resolve("no-such-data");
    // audit campaign's flag is --shared-data: before, its message named --data-dir.
    assertThatThrownBy(() -> DataDirectory.resolve(missing.toString(), "--shared-data"))
        .isInstanceOf(DataDirectory.UnusableDataDirectoryException.class)
        .hasMessage(
            "the shared data folder "
                + missing
                + " (--shared-data) does not exist; put the shared data sets there, set"
                + " GENGUARD_DATA_DIR, or pass --shared-data");
  }
}
