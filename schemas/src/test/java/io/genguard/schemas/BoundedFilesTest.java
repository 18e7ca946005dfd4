package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BoundedFilesTest {
  @Test
  void shouldReadUpToTheLimitAndRefuseOneByteMore(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("f.txt");
    Files.writeString(file, "h\u00e9llo"); // 6 bytes
    assertThat(BoundedFiles.readUtf8(file, 6)).isEqualTo("h\u00e9llo");
    assertThatThrownBy(() -> BoundedFiles.readUtf8(file, 5))
        .isInstanceOf(BoundedFiles.TooLargeException.class)
        .hasMessage(file + " is larger than 5 bytes, the most accepted");
  }

  @Test
  void shouldRefuseAnEndlessDeviceWithoutReadingIt() {
    Path zero = Path.of("/dev/zero");
    assumeTrue(Files.exists(zero), "a system with /dev/zero");
    assertThatThrownBy(() -> BoundedFiles.readUtf8(zero, 1024))
        .isInstanceOf(BoundedFiles.TooLargeException.class);
  }

  @Test
  void shouldRefuseBytesThatAreNotUtf8AndSayWhenTheFileIsMissing(@TempDir Path dir)
      throws Exception {
    Path latin1 = dir.resolve("latin1.txt");
    Files.write(latin1, "f\u00fcr".getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> BoundedFiles.readUtf8(latin1, 100))
        .isInstanceOf(CharacterCodingException.class);
    assertThatThrownBy(() -> BoundedFiles.readUtf8(dir.resolve("absent"), 100))
        .isInstanceOf(NoSuchFileException.class);
  }
}
