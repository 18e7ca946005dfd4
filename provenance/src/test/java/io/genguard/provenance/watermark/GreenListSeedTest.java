package io.genguard.provenance.watermark;

import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_A;
import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_B;
import static io.genguard.provenance.watermark.WatermarkFixtures.sample;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.provenance.text.EuroparlCorpus;
import io.genguard.provenance.text.WordTokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The fiftieth session's cheaper context seeds (no buffers made per seed, seeds of width-1 contexts
 * kept, a detector's green lists kept per thread) give the seeds and detections the computation
 * they replaced gave, kept here as the reference: a fresh HMAC per seed, a fresh green list per
 * detection.
 */
class GreenListSeedTest {
  private static final double[] GAMMAS = {0.25, 0.5, 0.1};

  @Test
  void shouldSeedAsAFreshHmacAtEveryWidth() throws Exception {
    SplittableRandom random = new SplittableRandom(50);
    for (int width = 1; width <= 4; width++) {
      WatermarkParameters parameters = new WatermarkParameters(0.25, 2.0, width);
      GreenList greenList = new GreenList(KEY_A, parameters);
      int[] ids = new int[8_000];
      for (int i = 0; i < ids.length; i++) {
        // Few distinct ids early on (seeds kept and reused), any id later (slots overwritten).
        ids[i] = i < 2_000 ? random.nextInt(50) * 0x9E3779B1 : random.nextInt();
      }
      for (int end = width; end < ids.length; end++) {
        GreenList.ContextSeed seed = greenList.seed(ids, end);
        long[] expected = referenceSeed(KEY_A, width, ids, end);
        assertThat(new long[] {seed.s0(), seed.s1()})
            .as("width %d end %d", width, end)
            .containsExactly(expected);
      }
    }
  }

  @Test
  void shouldDetectAsAFreshGreenListOnEveryText() {
    Base64.Encoder base64 = Base64.getEncoder();
    WatermarkDetector detector =
        new WatermarkDetector(
            WatermarkKeyRing.parse(
                "key-a:"
                    + base64.encodeToString(KEY_A.secret())
                    + ",key-b:"
                    + base64.encodeToString(KEY_B.secret()),
                null,
                "the test"));
    for (int round = 0; round < 2; round++) {
      for (long seed = 0; seed < 20; seed++) {
        int[] marked =
            sample(new WatermarkEmbedder(KEY_A, WatermarkParameters.DEFAULTS), 500, 80, seed);
        int[] plain = sample(null, 500, 80, seed);
        for (int[] ids : List.of(marked, plain, Arrays.copyOf(marked, 10), new int[0])) {
          for (double gamma : GAMMAS) {
            for (int width = 1; width <= 3; width++) {
              WatermarkParameters parameters = new WatermarkParameters(gamma, 2.0, width);
              assertThat(detector.detect(ids, "key-a", parameters))
                  .isEqualTo(reference(detector, ids, KEY_A, parameters));
              assertThat(detector.detect(ids, "key-b", parameters))
                  .isEqualTo(reference(detector, ids, KEY_B, parameters));
            }
          }
        }
      }
      for (String document : EuroparlCorpus.load().heldOutDocuments().subList(0, 40)) {
        int[] ids = WordTokenizer.tokenIds(document);
        assertThat(detector.detect(ids, "key-b", WatermarkParameters.DEFAULTS))
            .isEqualTo(reference(detector, ids, KEY_B, WatermarkParameters.DEFAULTS));
      }
    }
  }

  // The reference: the seed and the scoring before the fiftieth session.

  private static long[] referenceSeed(WatermarkKey key, int width, int[] ids, int end)
      throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key.secret(), "HmacSHA256"));
    byte[] domain = "genguard-wm-v1".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer out = ByteBuffer.allocate(domain.length + 1 + 4 * width);
    out.put(domain).put((byte) width);
    for (int i = end - width; i < end; i++) {
      out.putInt(ids[i]);
    }
    ByteBuffer words = ByteBuffer.wrap(mac.doFinal(out.array()));
    return new long[] {words.getLong(), words.getLong()};
  }

  private static boolean referenceGreen(
      WatermarkKey key, WatermarkParameters parameters, int[] ids, int end, int tokenId) {
    try {
      long[] seed = referenceSeed(key, parameters.contextWidth(), ids, end);
      return new GreenList.ContextSeed(seed[0], seed[1], parameters.gamma()).isGreen(tokenId);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static WatermarkDetection reference(
      WatermarkDetector detector, int[] ids, WatermarkKey key, WatermarkParameters parameters) {
    int h = parameters.contextWidth();
    double gamma = parameters.gamma();
    Set<List<Integer>> seen = new HashSet<>();
    int scored = 0;
    int green = 0;
    for (int i = h; i < ids.length; i++) {
      List<Integer> pair = Arrays.stream(Arrays.copyOfRange(ids, i - h, i + 1)).boxed().toList();
      if (!seen.add(pair)) {
        continue;
      }
      scored++;
      if (referenceGreen(key, parameters, ids, i, ids[i])) {
        green++;
      }
    }
    if (scored == 0) {
      return new WatermarkDetection(DetectionStatus.TOO_SHORT, 0.0, 1.0, 0, 0, key.id());
    }
    double z = (green - gamma * scored) / Math.sqrt(scored * gamma * (1.0 - gamma));
    double p = BinomialTail.upper(scored, green, gamma);
    DetectionStatus status;
    if (scored < detector.minimumTokens()) {
      status = DetectionStatus.TOO_SHORT;
    } else if (z >= detector.zThreshold() && p <= NormalTail.upper(detector.zThreshold())) {
      status = DetectionStatus.WATERMARKED;
    } else {
      status = DetectionStatus.NOT_DETECTED;
    }
    return new WatermarkDetection(status, z, p, scored, green, key.id());
  }
}
