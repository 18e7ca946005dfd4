package io.genguard.schemas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content hash of the contracts: lower-case hex SHA-256 of the UTF-8 bytes of a text. A verdict
 * names the hash of the text it judged; the release gate releases only text with that hash.
 */
public final class ContentHash {
  private static final java.util.regex.Pattern SHA256_HEX =
      java.util.regex.Pattern.compile("[0-9a-f]{64}");

  private ContentHash() {}

  /** Whether {@code text} has the form {@link #sha256Hex} gives: 64 lower-case hex characters. */
  public static boolean isSha256Hex(String text) {
    return text != null && SHA256_HEX.matcher(text).matches();
  }

  public static String sha256Hex(String text) {
    return HexFormat.of().formatHex(sha256(text));
  }

  /** The SHA-256 of the UTF-8 bytes of {@code text}: what {@link #sha256Hex} writes in hex. */
  public static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
  }
}
