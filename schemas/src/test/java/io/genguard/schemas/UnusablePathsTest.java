package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Why a path the user named cannot be used, in the words every command prints. */
class UnusablePathsTest {
  @Test
  void shouldSayWhyAPathCannotBeReadAsAFileOrAsAFolder(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("campaign.yaml"), "x");
    Path missing = dir.resolve("no-such-file");

    assertThat(UnusablePaths.whyNotAFileToRead(file)).isNull();
    assertThat(UnusablePaths.whyNotAFileToRead(missing)).isEqualTo("does not exist");
    assertThat(UnusablePaths.whyNotAFileToRead(dir)).isEqualTo("is a directory, not a file");

    assertThat(UnusablePaths.whyNotAFolderToRead(dir)).isNull();
    assertThat(UnusablePaths.whyNotAFolderToRead(missing)).isEqualTo("does not exist");
    assertThat(UnusablePaths.whyNotAFolderToRead(file)).isEqualTo("is not a directory");
  }

  @Test
  void shouldSayWhyAFileAndAFolderCannotBeReadByAnotherUser(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("locked.yaml"), "x");
    Path folder = Files.createDirectory(dir.resolve("locked"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("---------"));
    // Root reads any file: the tests run as root here, so this runs only for another user.
    Assumptions.assumeFalse(Files.isReadable(file), "running as root");

    assertThat(UnusablePaths.whyNotAFileToRead(file))
        .isEqualTo("cannot be read (permission denied)");
    assertThat(UnusablePaths.whyNotAFolderToRead(folder))
        .isEqualTo("cannot be read (permission denied)");
  }

  @Test
  void shouldSayWhyReadingFailedInWordsNotTheExceptionsClass(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("data.json");
    IOException readingAFolder;
    try {
      Files.readAllBytes(dir);
      throw new AssertionError("a folder was read as a file");
    } catch (IOException e) {
      readingAFolder = e;
    }

    assertThat(UnusablePaths.whyUnreadable(dir, readingAFolder))
        .isEqualTo("is a directory, not a file");
    assertThat(UnusablePaths.whyUnreadable(file, new NoSuchFileException(file.toString())))
        .isEqualTo("does not exist");
    assertThat(UnusablePaths.whyUnreadable(file, new AccessDeniedException(file.toString())))
        .isEqualTo("cannot be read (permission denied)");
    assertThat(
            UnusablePaths.whyUnreadable(
                file, new FileSystemException(file.toString(), null, "Input/output error")))
        .isEqualTo("cannot be read: Input/output error");
    assertThat(UnusablePaths.whyUnreadable(file, new IOException()))
        .isEqualTo("cannot be read (IOException)");
  }
}
