package io.genguard.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads text files that people hand to GenGuard (policies, campaigns, templates) without trusting
 * their size: nothing past the limit is read, so a huge file or a device such as /dev/zero is
 * refused instead of filling the heap.
 */
public final class BoundedFiles {
  private BoundedFiles() {}

  /** A file larger than the limit; only the limit and one byte more were read. */
  public static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int maxBytes;

    TooLargeException(Path file, int maxBytes) {
      super(file + " is larger than " + maxBytes + " bytes, the most accepted");
      this.maxBytes = maxBytes;
    }

    /** The limit it is over. */
    public int maxBytes() {
      return maxBytes;
    }
  }

  /**
   * The file's text.
   *
   * @throws TooLargeException when it holds more than {@code maxBytes}
   * @throws CharacterCodingException when it is not UTF-8
   * @throws IOException when it cannot be read
   */
  public static String readUtf8(Path file, int maxBytes) throws IOException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(maxBytes + 1);
    }
    if (bytes.length > maxBytes) {
      throw new TooLargeException(file, maxBytes);
    }
    return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
  }
}
