package io.genguard.provenance.watermark;

import io.genguard.provenance.text.WordTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Detects the watermark in text (Kirchenbauer et al. 2023, section 3: one-proportion z-test on the
 * count of green tokens). Needs only the text and the key ring: the text is tokenized with {@link
 * WordTokenizer}, the tokenizer the watermark is defined over.
 *
 * <p>Only unique (context, token) pairs are scored: a repeated phrase would otherwise count its
 * green tokens many times and inflate z on text that merely repeats itself (the paper's section 7
 * notes repetition; later work by the same authors scores unique pairs). The first h tokens have no
 * context inside the text and are skipped. Below {@code minimumTokens} scored pairs the answer is
 * {@link DetectionStatus#TOO_SHORT}, never a guess. Thread-safe.
 */
public final class WatermarkDetector {
  /** The z threshold of the paper's experiments: false positive rate about 3e-5. */
  public static final double DEFAULT_Z_THRESHOLD = 4.0;

  /**
   * Recorded in every verdict beside the watermark scheme (scorer versions, {@code
   * watermark-detector}), so that a verdict names the detection it came from, and replay and
   * what-if compare verdicts only with those the same detection made. 4 (2026-12-06, the
   * forty-first session): the tokenizer reads U+2800 and the Hangul fillers, which display as a
   * space, as spaces, so putting them where the spaces were no longer removes the watermark (text
   * without them tokenizes as in 3); 3 (2026-12-06): the tokenizer drops invisible characters and
   * reads look-alike letters in disguised words as Latin, so such edits no longer remove the
   * watermark (text with neither tokenizes as in 2); 2 (2026-12-04): the p-value is the exact
   * binomial tail, and WATERMARKED needs it past the threshold too; 1 took the normal tail of z.
   */
  public static final String VERSION = "4";

  public static final int DEFAULT_MINIMUM_TOKENS = 25;

  private final WatermarkKeyRing keys;
  private final double zThreshold;

  /**
   * The p-value the threshold stands for, P(Z >= zThreshold); a text's exact one must not exceed
   * it.
   */
  private final double pThreshold;

  private final int minimumTokens;

  /**
   * Each thread's green lists, by key and parameters: making one (a {@link javax.crypto.Mac} and
   * its key) cost as much as a tenth of a detection, and a green list keeps the seeds of contexts
   * it has seen. At most {@link #GREEN_LISTS_PER_THREAD}: outputs can claim any parameters.
   */
  private final ThreadLocal<List<CachedGreenList>> greenLists =
      ThreadLocal.withInitial(ArrayList::new);

  private static final int GREEN_LISTS_PER_THREAD = 16;

  public WatermarkDetector(WatermarkKeyRing keys, double zThreshold, int minimumTokens) {
    if (!(zThreshold > 0) || Double.isInfinite(zThreshold)) {
      throw new IllegalArgumentException(
          "z threshold must be a positive number, got " + zThreshold);
    }
    if (minimumTokens < 1) {
      throw new IllegalArgumentException(
          "minimum token count must be at least 1, got " + minimumTokens);
    }
    this.keys = keys;
    this.zThreshold = zThreshold;
    this.pThreshold = NormalTail.upper(zThreshold);
    this.minimumTokens = minimumTokens;
  }

  /** A detector with z threshold 4 and a minimum of 25 scored tokens. */
  public WatermarkDetector(WatermarkKeyRing keys) {
    this(keys, DEFAULT_Z_THRESHOLD, DEFAULT_MINIMUM_TOKENS);
  }

  /** The keys this detector looks for; possibly none ({@link WatermarkKeyRing#none}). */
  public WatermarkKeyRing keys() {
    return keys;
  }

  public double zThreshold() {
    return zThreshold;
  }

  public int minimumTokens() {
    return minimumTokens;
  }

  /**
   * Tests text for the watermark of one key, with the parameters the generator recorded (the output
   * event's watermark info: key id, gamma and context width; delta does not matter here).
   */
  public WatermarkDetection detect(String text, String keyId, WatermarkParameters parameters) {
    return detect(WordTokenizer.tokenIds(text), keyId, parameters);
  }

  /** Tests text for the watermark of any key in the ring with default parameters. */
  public WatermarkDetection detect(String text) {
    return detectAnyKey(WordTokenizer.tokenIds(text), WatermarkParameters.DEFAULTS);
  }

  /** Tests watermark token ids for the watermark of one key. */
  public WatermarkDetection detect(
      List<Integer> tokenIds, String keyId, WatermarkParameters parameters) {
    return detect(tokenIds.stream().mapToInt(Integer::intValue).toArray(), keyId, parameters);
  }

  /** Tests watermark token ids for the watermark of one key. */
  public WatermarkDetection detect(int[] tokenIds, String keyId, WatermarkParameters parameters) {
    Optional<WatermarkKey> key = keys.find(keyId);
    if (key.isEmpty()) {
      return new WatermarkDetection(DetectionStatus.UNKNOWN_KEY, 0.0, 1.0, 0, 0, keyId);
    }
    return score(tokenIds, greenList(key.get(), parameters));
  }

  /**
   * Tests every key of the ring and reports the best-scoring one, with its p-value multiplied by
   * the number of keys (Bonferroni), so trying several keys does not raise the false positive rate.
   * A ring without keys ({@link WatermarkKeyRing#none}) tests nothing: {@link
   * DetectionStatus#UNKNOWN_KEY} with no key id.
   */
  public WatermarkDetection detectAnyKey(int[] tokenIds, WatermarkParameters parameters) {
    if (keys.isEmpty()) {
      return new WatermarkDetection(DetectionStatus.UNKNOWN_KEY, 0.0, 1.0, 0, 0, null);
    }
    WatermarkDetection best = null;
    for (WatermarkKey key : keys.keys()) {
      WatermarkDetection candidate = score(tokenIds, greenList(key, parameters));
      if (best == null || candidate.zScore() > best.zScore()) {
        best = candidate;
      }
    }
    int tries = keys.keys().size();
    double adjusted = Math.min(1.0, best.pValue() * tries);
    DetectionStatus status = best.status();
    if (status == DetectionStatus.WATERMARKED && adjusted > NormalTail.upper(zThreshold)) {
      status = DetectionStatus.NOT_DETECTED;
    }
    return new WatermarkDetection(
        status, best.zScore(), adjusted, best.tokensScored(), best.greenTokens(), best.keyId());
  }

  /** This thread's green list of the key with these parameters. */
  private GreenList greenList(WatermarkKey key, WatermarkParameters parameters) {
    List<CachedGreenList> mine = greenLists.get();
    for (CachedGreenList entry : mine) {
      if (entry.key() == key && entry.parameters().equals(parameters)) {
        return entry.greenList();
      }
    }
    if (mine.size() >= GREEN_LISTS_PER_THREAD) {
      mine.clear();
    }
    GreenList made = new GreenList(key, parameters);
    mine.add(new CachedGreenList(key, parameters, made));
    return made;
  }

  private record CachedGreenList(
      WatermarkKey key, WatermarkParameters parameters, GreenList greenList) {}

  private WatermarkDetection score(int[] tokenIds, GreenList greenList) {
    int h = greenList.parameters().contextWidth();
    double gamma = greenList.parameters().gamma();
    int scored = 0;
    int green = 0;
    if (h == 1) {
      // The default width, on every output the moderation job checks: each (previous, token) pair
      // packed in a long and sorted, so that the distinct ones are counted without a set of boxed
      // pairs. Which pairs are green does not depend on the order they are tested in.
      long[] pairs = new long[Math.max(0, tokenIds.length - 1)];
      for (int i = 1; i < tokenIds.length; i++) {
        pairs[i - 1] = ((long) tokenIds[i - 1] << 32) | (tokenIds[i] & 0xffffffffL);
      }
      Arrays.sort(pairs);
      int[] context = new int[1];
      for (int k = 0; k < pairs.length; k++) {
        if (k > 0 && pairs[k] == pairs[k - 1]) {
          continue;
        }
        scored++;
        context[0] = (int) (pairs[k] >>> 32);
        if (greenList.isGreen(context, 1, (int) pairs[k])) {
          green++;
        }
      }
    } else {
      Set<Pair> seen = new HashSet<>();
      for (int i = h; i < tokenIds.length; i++) {
        if (!seen.add(new Pair(Arrays.copyOfRange(tokenIds, i - h, i + 1)))) {
          continue;
        }
        scored++;
        if (greenList.isGreen(tokenIds, i, tokenIds[i])) {
          green++;
        }
      }
    }
    if (scored == 0) {
      return new WatermarkDetection(DetectionStatus.TOO_SHORT, 0.0, 1.0, 0, 0, greenList.keyId());
    }
    double z = (green - gamma * scored) / Math.sqrt(scored * gamma * (1.0 - gamma));
    // The exact tail: the normal one behind z understates it for short texts and small gamma.
    double p = BinomialTail.upper(scored, green, gamma);
    DetectionStatus status;
    if (scored < minimumTokens) {
      status = DetectionStatus.TOO_SHORT;
    } else if (z >= zThreshold && p <= pThreshold) {
      status = DetectionStatus.WATERMARKED;
    } else {
      status = DetectionStatus.NOT_DETECTED;
    }
    return new WatermarkDetection(status, z, p, scored, green, greenList.keyId());
  }

  /** A (context, token) pair: the h context ids followed by the token id. */
  private record Pair(int[] ids) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Pair pair && Arrays.equals(pair.ids, ids);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
      return Arrays.toString(ids);
    }
  }
}
