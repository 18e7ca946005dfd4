package io.genguard.provenance.watermark;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Decides which tokens are green after a given context, for one key and one set of parameters.
 *
 * <p>Construction (portable: no language runtime RNG, same answer on every JVM):
 *
 * <ol>
 *   <li>context seed: {@code HMAC-SHA256(key, "genguard-wm-v1" || h || id[i-h] .. id[i-1])}, the
 *       previous h token ids as 4-byte big-endian integers; the first 16 bytes give two 64-bit
 *       words {@code s0, s1}.
 *   <li>token t is green iff {@code u(t) < gamma}, where {@code u(t) = mix64(s0 XOR mix64(s1 + t *
 *       0x9E3779B97F4A7C15)) >>> 11} scaled to [0, 1) by 2^-53, and {@code mix64} is the SplitMix64
 *       finaliser (Steele, Lea, Flood 2014).
 * </ol>
 *
 * <p>Why per-token rather than the paper's permutation of the vocabulary: the green decision for
 * one (context, token) pair costs a few multiplications once the context seed is known (one HMAC
 * per generated token), detection needs no vocabulary at all, and each token is green independently
 * with probability gamma, which is exactly the null hypothesis the z-test assumes. The green list
 * then holds gamma*V tokens in expectation rather than exactly. The secret is the HMAC key: without
 * it the context seeds, and so the green lists, are unpredictable.
 */
public final class GreenList {
  private static final byte[] DOMAIN = "genguard-wm-v1".getBytes(StandardCharsets.US_ASCII);
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private static final double UNIT = 0x1.0p-53;

  private final String keyId;
  private final Mac mac;
  private final WatermarkParameters parameters;
  private final byte[] buffer;

  /** Not thread-safe (it holds a {@link Mac}); create one per thread. */
  public GreenList(WatermarkKey key, WatermarkParameters parameters) {
    this.keyId = key.id();
    this.parameters = parameters;
    try {
      this.mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.secret(), "HmacSHA256"));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required by every Java platform", e);
    }
    this.buffer = new byte[DOMAIN.length + 1 + 4 * parameters.contextWidth()];
  }

  public String keyId() {
    return keyId;
  }

  public WatermarkParameters parameters() {
    return parameters;
  }

  /**
   * The seed of the green list that follows the {@code h} tokens ending just before {@code end}.
   *
   * @param tokenIds token ids; positions {@code end-h .. end-1} must exist
   */
  public ContextSeed seed(int[] tokenIds, int end) {
    int h = parameters.contextWidth();
    if (end < h) {
      throw new IllegalArgumentException(
          "A green list needs " + h + " previous tokens, only " + end + " are there");
    }
    ByteBuffer out = ByteBuffer.wrap(buffer);
    out.put(DOMAIN).put((byte) h);
    for (int i = end - h; i < end; i++) {
      out.putInt(tokenIds[i]);
    }
    byte[] digest = mac.doFinal(buffer);
    ByteBuffer words = ByteBuffer.wrap(digest);
    return new ContextSeed(words.getLong(), words.getLong(), parameters.gamma());
  }

  /** Whether {@code tokenId} is green after the context ending before {@code end}. */
  public boolean isGreen(int[] tokenIds, int end, int tokenId) {
    return seed(tokenIds, end).isGreen(tokenId);
  }

  /** The keyed seed of one context; decides greenness of any token in a few nanoseconds. */
  public record ContextSeed(long s0, long s1, double gamma) {
    public boolean isGreen(int tokenId) {
      long x = mix64(s0 ^ mix64(s1 + (tokenId & 0xffffffffL) * GOLDEN_GAMMA));
      return (x >>> 11) * UNIT < gamma;
    }

    @Override
    public String toString() {
      // The seed is derived from the secret key; keep it out of logs.
      return "ContextSeed[<redacted>]";
    }
  }

  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
