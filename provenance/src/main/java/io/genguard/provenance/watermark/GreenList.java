package io.genguard.provenance.watermark;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
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
  private final byte[] digest = new byte[32];

  /**
   * Seeds of contexts seen before, for width 1 (the default): one slot per context id, the id in
   * {@code cachedContexts} and its seed's words in {@code cachedSeeds} (two longs a slot). An HMAC
   * per distinct word pair was most of the detection's cost, and contexts repeat (Zipf). Made on
   * the first seed of width 1 (about 13 KiB).
   */
  private static final int SEED_CACHE_SLOTS = 1 << 10;

  private int[] cachedContexts;
  private long[] cachedSeeds;
  private boolean[] cached;

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
    System.arraycopy(DOMAIN, 0, buffer, 0, DOMAIN.length);
    buffer[DOMAIN.length] = (byte) parameters.contextWidth();
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
    if (h == 1) {
      if (cached == null) {
        cachedContexts = new int[SEED_CACHE_SLOTS];
        cachedSeeds = new long[2 * SEED_CACHE_SLOTS];
        cached = new boolean[SEED_CACHE_SLOTS];
      }
      int context = tokenIds[end - 1];
      int slot = (context ^ (context >>> 10) ^ (context >>> 20)) & (SEED_CACHE_SLOTS - 1);
      if (!cached[slot] || cachedContexts[slot] != context) {
        hmac(tokenIds, end);
        cachedContexts[slot] = context;
        cachedSeeds[2 * slot] = word(0);
        cachedSeeds[2 * slot + 1] = word(8);
        cached[slot] = true;
      }
      return new ContextSeed(cachedSeeds[2 * slot], cachedSeeds[2 * slot + 1], parameters.gamma());
    }
    hmac(tokenIds, end);
    return new ContextSeed(word(0), word(8), parameters.gamma());
  }

  /** HMAC of the domain, the width and the ids before {@code end} into {@code digest}. */
  private void hmac(int[] tokenIds, int end) {
    int at = DOMAIN.length + 1;
    for (int i = end - parameters.contextWidth(); i < end; i++) {
      int id = tokenIds[i];
      buffer[at++] = (byte) (id >>> 24);
      buffer[at++] = (byte) (id >>> 16);
      buffer[at++] = (byte) (id >>> 8);
      buffer[at++] = (byte) id;
    }
    mac.update(buffer);
    try {
      mac.doFinal(digest, 0);
    } catch (ShortBufferException e) {
      throw new IllegalStateException("HmacSHA256 gives 32 bytes", e);
    }
  }

  /** The big-endian 64-bit word of {@code digest} at {@code from}. */
  private long word(int from) {
    long value = 0;
    for (int i = from; i < from + 8; i++) {
      value = (value << 8) | (digest[i] & 0xff);
    }
    return value;
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
