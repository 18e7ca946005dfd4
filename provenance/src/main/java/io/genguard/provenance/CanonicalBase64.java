package io.genguard.provenance;

import java.util.Base64;

/**
 * Strict base64 (RFC 4648 section 4, standard alphabet) for signatures and keys: only the one
 * encoding {@link Base64#getEncoder()} writes for the bytes is accepted. The JDK decoder also takes
 * text without its {@code =} padding and a last character whose unused bits are set, so that up to
 * 16 different strings decode to the same Ed25519 signature; a verifier that takes them all calls
 * strings VALID that the signer never wrote (RFC 4648 section 3.5 allows refusing them). Decoding,
 * encoding again and comparing refuses all but the signer's encoding.
 */
public final class CanonicalBase64 {
  /** What a canonical text looks like, for messages. */
  public static final String EXPECTED =
      "standard base64 as Java's Base64 encoder and the base64 command write it: padded with '='"
          + " to a multiple of 4 characters, the unused bits of the last character zero, no line"
          + " breaks";

  private CanonicalBase64() {}

  /**
   * The bytes {@code text} encodes, if it is exactly their canonical encoding.
   *
   * @throws IllegalArgumentException "not valid base64 ..." or "not in canonical base64 form ...",
   *     to follow "[what] is "; the message never holds the text, which may be a secret key
   */
  public static byte[] decode(String text) {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not valid base64 (standard alphabet)");
    }
    if (!Base64.getEncoder().encodeToString(bytes).equals(text)) {
      throw new IllegalArgumentException(
          "not in canonical base64 form ("
              + EXPECTED
              + "): it decodes, but is not the encoding of its bytes");
    }
    return bytes;
  }
}
