package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the command line prints for an error: what went wrong, not only where. */
class ErrorMessagesTest {
  @TempDir Path dir;

  @Test
  void shouldSayWhatHappenedToAFileNotOnlyItsPath() {
    Path missing = dir.resolve("missing.jsonl");
    IOException real;
    try {
      Files.readAllBytes(missing);
      throw new AssertionError("read a missing file");
    } catch (IOException e) {
      real = e;
    }

    assertThat(ErrorMessages.oneLine(new UncheckedIOException(real)))
        .isEqualTo(missing + ": no such file or directory");
    assertThat(
            ErrorMessages.oneLine(
                new IllegalStateException(
                    "Cannot write the report", new AccessDeniedException("/srv/out.html"))))
        .isEqualTo("Cannot write the report: /srv/out.html: permission denied");
    assertThat(
            ErrorMessages.oneLine(new NoSuchFileException("/a", "/b", "the target folder is gone")))
        .isEqualTo("/a: no such file or directory (with /b) (the target folder is gone)");
  }

  @Test
  void shouldKeepEachMessageOnceAndNameAnErrorWithoutOne() {
    assertThat(
            ErrorMessages.oneLine(
                new IllegalArgumentException(
                    "--in x is not UTF-8", new IllegalStateException("--in x is not UTF-8"))))
        .isEqualTo("--in x is not UTF-8");
    assertThat(ErrorMessages.oneLine(new NullPointerException())).isEqualTo("NullPointerException");
    assertThat(ErrorMessages.oneLine(new UncheckedIOException(new java.io.EOFException())))
        .as("a wrapper of a cause without a message: the cause's name")
        .isEqualTo("EOFException");
  }
}
