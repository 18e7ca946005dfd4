package io.genguard.provenance.watermark;

import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_A;
import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_B;
import static io.genguard.provenance.watermark.WatermarkFixtures.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.genguard.provenance.text.WordTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatermarkDetectorTest {
  private static final WatermarkParameters DEFAULTS = WatermarkParameters.DEFAULTS;
  private static final int VOCABULARY = 5_000;

  private final WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(KEY_A));

  @Test
  void shouldDetectTheWatermarkInTwoHundredWatermarkedTokens() {
    int[] tokens = sample(new WatermarkEmbedder(KEY_A, DEFAULTS), VOCABULARY, 200, 1);

    WatermarkDetection detection = detector.detect(tokens, "key-a", DEFAULTS);

    assertThat(detection.status()).isEqualTo(DetectionStatus.WATERMARKED);
    assertThat(detection.zScore()).isGreaterThan(4.0);
    assertThat(detection.pValue()).isLessThan(3.2e-5);
    assertThat(detection.keyId()).isEqualTo("key-a");
  }

  @Test
  void shouldNotFlagUnwatermarkedSamples() {
    int flagged = 0;
    for (long seed = 0; seed < 50; seed++) {
      int[] tokens = sample(null, VOCABULARY, 200, seed);
      if (detector.detect(tokens, "key-a", DEFAULTS).watermarked()) {
        flagged++;
      }
    }
    assertThat(flagged).isZero();
  }

  @Test
  void shouldNotFindOneKeysWatermarkWithAnotherKey() {
    int[] tokens = sample(new WatermarkEmbedder(KEY_B, DEFAULTS), VOCABULARY, 200, 3);
    WatermarkDetector both = new WatermarkDetector(WatermarkKeyRing.of(KEY_A).rotateTo(KEY_B));

    assertThat(both.detect(tokens, "key-a", DEFAULTS).status())
        .isEqualTo(DetectionStatus.NOT_DETECTED);
    assertThat(both.detect(tokens, "key-b", DEFAULTS).status())
        .isEqualTo(DetectionStatus.WATERMARKED);
  }

  @Test
  void shouldKeepOldKeysDetectableAfterRotation() {
    int[] markedWithOldKey = sample(new WatermarkEmbedder(KEY_A, DEFAULTS), VOCABULARY, 200, 4);
    WatermarkKeyRing rotated = WatermarkKeyRing.of(KEY_A).rotateTo(KEY_B);

    assertThat(rotated.active().id()).isEqualTo("key-b");
    assertThat(
            new WatermarkDetector(rotated)
                .detect(markedWithOldKey, "key-a", DEFAULTS)
                .watermarked())
        .isTrue();
  }

  @Test
  void shouldSayTooShortInsteadOfGuessing() {
    int[] tokens = sample(new WatermarkEmbedder(KEY_A, DEFAULTS), VOCABULARY, 20, 5);

    WatermarkDetection detection = detector.detect(tokens, "key-a", DEFAULTS);

    assertThat(detection.status()).isEqualTo(DetectionStatus.TOO_SHORT);
    assertThat(detection.tokensScored()).isEqualTo(20);
  }

  @Test
  void shouldScoreEachContextAndTokenPairOnce() {
    // A phrase repeated forty times: 80 tokens but only 2 distinct (context, token) pairs (+1).
    List<Integer> repeated = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      repeated.add(11);
      repeated.add(12);
    }

    WatermarkDetection detection = detector.detect(repeated, "key-a", DEFAULTS);

    assertThat(detection.tokensScored()).isEqualTo(2);
    assertThat(detection.status()).isEqualTo(DetectionStatus.TOO_SHORT);
  }

  @Test
  void shouldScoreFewPairsInAScriptWrittenWithoutSpacesWhateverItsLength() {
    // A known limit (README, "Weak or missing"): tokens are space-separated words, so a run of Han
    // or Thai between punctuation is one token, and a long text is as TOO_SHORT as a short one.
    String chinese = "欧洲议会今天就委员会关于农业" + "政策改革的提案进行了辩论，" + "许多议员认为该提案未能充分" + "考虑小农户的利益。";
    String thai = "รัฐสภายุโรปได้" + "อภิปรายข้อเสนอ" + "ของคณะกรรมาธิก" + "าร ";

    for (String text : List.of(chinese.repeat(10), thai.repeat(10))) {
      WatermarkDetection detection = detector.detect(text, "key-a", DEFAULTS);

      assertThat(text.length()).isGreaterThan(400);
      assertThat(detection.status()).isEqualTo(DetectionStatus.TOO_SHORT);
      assertThat(detection.tokensScored()).isLessThan(5);
    }
  }

  @Test
  void shouldComputeTheZScoreOfThePaper() {
    int[] tokens = sample(new WatermarkEmbedder(KEY_A, DEFAULTS), VOCABULARY, 100, 6);
    WatermarkDetection detection = detector.detect(tokens, "key-a", DEFAULTS);
    double t = detection.tokensScored();
    double expected = (detection.greenTokens() - 0.25 * t) / Math.sqrt(t * 0.25 * 0.75);

    assertThat(detection.zScore()).isCloseTo(expected, within(1e-12));
  }

  @Test
  void shouldAnswerUnknownKeyForAKeyIdItDoesNotHold() {
    assertThat(detector.detect(new int[] {1, 2, 3}, "retired-key", DEFAULTS).status())
        .isEqualTo(DetectionStatus.UNKNOWN_KEY);
  }

  @Test
  void shouldConcludeNothingWithoutAKeyInsteadOfNotDetected() {
    // A verifier given no watermark key (ProvenanceKeys.forVerifier) holds an empty ring.
    int[] tokens = sample(new WatermarkEmbedder(KEY_A, DEFAULTS), VOCABULARY, 200, 1);
    WatermarkDetector none =
        new WatermarkDetector(WatermarkKeyRing.none("GENGUARD_WATERMARK_KEYS is not set"));

    WatermarkDetection any = none.detectAnyKey(tokens, DEFAULTS);

    assertThat(any.status()).isEqualTo(DetectionStatus.UNKNOWN_KEY);
    assertThat(any.tokensScored()).isZero();
    assertThat(any.pValue()).isEqualTo(1.0);
    assertThat(any.keyId()).isNull();
    assertThat(none.detect(tokens, "key-a", DEFAULTS).status())
        .isEqualTo(DetectionStatus.UNKNOWN_KEY);
    assertThat(none.detect("Some text to look at, long enough or not.").status())
        .isEqualTo(DetectionStatus.UNKNOWN_KEY);
    assertThat(detector.detectAnyKey(tokens, DEFAULTS).status())
        .isEqualTo(DetectionStatus.WATERMARKED);
    assertThat(none.keys().toString())
        .isEqualTo("WatermarkKeyRing[no keys: GENGUARD_WATERMARK_KEYS is not set]");
    assertThat(none.keys().rotateTo(KEY_B).active()).isEqualTo(KEY_B);
  }

  @Test
  void shouldCorrectForTryingEveryKeyInTheRing() {
    WatermarkDetector both = new WatermarkDetector(WatermarkKeyRing.of(KEY_A).rotateTo(KEY_B));
    int[] tokens = sample(new WatermarkEmbedder(KEY_B, DEFAULTS), VOCABULARY, 200, 8);

    WatermarkDetection any = both.detectAnyKey(tokens, DEFAULTS);
    WatermarkDetection single = both.detect(tokens, "key-b", DEFAULTS);

    assertThat(any.keyId()).isEqualTo("key-b");
    assertThat(any.watermarked()).isTrue();
    assertThat(any.pValue()).isCloseTo(Math.min(1.0, 2 * single.pValue()), within(1e-15));
  }

  @Test
  void shouldDetectFromTextThroughTheWordTokenizer() {
    // Watermark a sequence of real words: the "vocabulary" indexes a word list.
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      words.add("w" + Integer.toString(i, 36));
    }
    int[] vocabularyIds = words.stream().mapToInt(WordTokenizer::tokenId).toArray();
    WatermarkEmbedder embedder = new WatermarkEmbedder(KEY_A, DEFAULTS);
    java.util.SplittableRandom random = new java.util.SplittableRandom(9);
    List<String> text = new ArrayList<>(List.of("w0"));
    int[] context = new int[201];
    context[0] = WordTokenizer.tokenId("w0");
    for (int position = 1; position <= 200; position++) {
      float[] logits = new float[words.size()];
      embedder.bias(logits, vocabularyIds, context, position);
      // Uniform model + watermark: pick among the maximal logits at random.
      List<Integer> best = new ArrayList<>();
      for (int i = 0; i < logits.length; i++) {
        if (logits[i] > 0 || random.nextInt(8) == 0) {
          best.add(i);
        }
      }
      int chosen = best.get(random.nextInt(best.size()));
      text.add(words.get(chosen));
      context[position] = vocabularyIds[chosen];
    }

    WatermarkDetection detection =
        detector.detect(
            String.join(" ", text).toUpperCase(java.util.Locale.ROOT), "key-a", DEFAULTS);

    assertThat(detection.watermarked()).isTrue();
  }

  @Test
  void shouldGiveStandardNormalTailProbabilities() {
    assertThat(NormalTail.upper(0.0)).isCloseTo(0.5, within(1e-7));
    assertThat(NormalTail.upper(1.6448536269514722)).isCloseTo(0.05, within(1e-8));
    assertThat(NormalTail.upper(4.0)).isCloseTo(3.167124183311992e-5, within(1e-11));
    assertThat(NormalTail.upper(-2.0)).isCloseTo(0.9772498680518208, within(1e-7));
    assertThat(NormalTail.upper(8.0) / 6.220960574271785e-16).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void shouldNotFlagShortUnwatermarkedTextsWithASmallGamma() {
    // gamma 0.001, 25 scored pairs: one green token by chance (2.5% of texts) gives z = 6.2.
    WatermarkParameters small = new WatermarkParameters(0.001, 2.0, 1);
    java.util.SplittableRandom random = new java.util.SplittableRandom(12);
    int flagged = 0;
    for (int text = 0; text < 2_000; text++) {
      int[] tokens = random.ints(26).toArray();
      WatermarkDetection detection = detector.detect(tokens, "key-a", small);
      assertThat(detection.pValue()).isBetween(0.0, 1.0);
      if (detection.watermarked()) {
        flagged++;
      }
    }
    assertThat(flagged).as("false positives among 2000 texts").isZero();
  }

  @Test
  void shouldGiveExactBinomialTailProbabilities() {
    // Reference values: exact sums in Python (math.comb).
    assertThat(BinomialTail.upper(25, 15, 0.25) / 2.1451240486669576e-4)
        .isCloseTo(1.0, within(1e-9));
    assertThat(BinomialTail.upper(25, 6, 0.25)).isCloseTo(0.6217214883623932, within(1e-12));
    assertThat(BinomialTail.upper(25, 7, 0.25)).isCloseTo(0.4389019459192909, within(1e-12));
    assertThat(BinomialTail.upper(25, 1, 0.001)).isCloseTo(0.024702287402953375, within(1e-12));
    assertThat(BinomialTail.upper(200, 100, 0.25) / 2.6850803468607354e-14)
        .isCloseTo(1.0, within(1e-9));
    assertThat(BinomialTail.upper(1000, 600, 0.5) / 1.3642320780330092e-10)
        .isCloseTo(1.0, within(1e-9));
    assertThat(BinomialTail.upper(10, 10, 0.3) / 5.9049e-6).isCloseTo(1.0, within(1e-9));
    assertThat(BinomialTail.upper(25, 0, 0.25)).isEqualTo(1.0);
    assertThat(BinomialTail.upper(1_000_000, 1_000_000, 0.25)).isEqualTo(0.0);
  }

  @Test
  void shouldCountEachDistinctPairOnceWhateverOrderTheTextRepeatsThemIn() {
    // The detector counts the pairs of the default width without a set of pairs; these are the
    // counts of the set it used before, on texts that repeat phrases and words (negative ids too).
    java.util.SplittableRandom random = new java.util.SplittableRandom(47);
    for (int text = 0; text < 300; text++) {
      int[] tokens = new int[random.nextInt(0, 400)];
      int vocabulary = 1 + random.nextInt(200);
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] =
            i >= 10 && random.nextInt(3) == 0
                ? tokens[i - 10]
                : random.nextInt(vocabulary) - vocabulary / 2;
      }
      GreenList greenList = new GreenList(KEY_A, DEFAULTS);
      java.util.Set<List<Integer>> seen = new java.util.HashSet<>();
      int scored = 0;
      int green = 0;
      for (int i = 1; i < tokens.length; i++) {
        if (seen.add(List.of(tokens[i - 1], tokens[i]))) {
          scored++;
          green += greenList.isGreen(tokens, i, tokens[i]) ? 1 : 0;
        }
      }

      WatermarkDetection detection = detector.detect(tokens, "key-a", DEFAULTS);

      assertThat(detection.tokensScored()).isEqualTo(scored);
      assertThat(detection.greenTokens()).isEqualTo(green);
    }
  }
}
