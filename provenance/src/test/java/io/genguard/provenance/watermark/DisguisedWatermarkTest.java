package io.genguard.provenance.watermark;

import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_A;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.provenance.text.EuroparlCorpus;
import io.genguard.provenance.text.WordTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Edits that leave the visible text as it was (invisible characters, look-alike letters) must not
 * remove the watermark: the table of the thirty-eighth session's provenance review, where each of
 * them took detection from 20 of 20 texts to 0 of 20, and stronger forms of it (every letter that
 * has a look-alike swapped, tag characters inside words), and the forty-first session's: U+2800 or
 * a Hangul filler, which display as a space, for each space.
 */
class DisguisedWatermarkTest {
  private static final int TEXTS = 10;
  private static final int TOKENS = 200;
  private static final int VOCABULARY = 3_000;

  private static List<String> originals;

  /** Watermarked texts of Europarl's most frequent tokens (a unigram model plus the watermark). */
  @BeforeAll
  static void generateWatermarkedTexts() {
    Map<String, Integer> frequency = new HashMap<>();
    for (String document : EuroparlCorpus.load().trainingDocuments()) {
      for (String token : WordTokenizer.tokenize(document)) {
        frequency.merge(token, 1, Integer::sum);
      }
    }
    List<Map.Entry<String, Integer>> vocabulary =
        frequency.entrySet().stream()
            .sorted(
                Map.Entry.<String, Integer>comparingByValue()
                    .reversed()
                    .thenComparing(Map.Entry.comparingByKey(Comparator.naturalOrder())))
            .limit(VOCABULARY)
            .toList();
    int[] ids = vocabulary.stream().mapToInt(e -> WordTokenizer.tokenId(e.getKey())).toArray();
    float[] base = new float[ids.length];
    for (int i = 0; i < ids.length; i++) {
      base[i] = (float) Math.log(vocabulary.get(i).getValue());
    }
    WatermarkEmbedder embedder = new WatermarkEmbedder(KEY_A, WatermarkParameters.DEFAULTS);
    originals = new ArrayList<>();
    for (int seed = 0; seed < TEXTS; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      int[] context = new int[TOKENS + 1];
      context[0] = WordTokenizer.tokenId(".");
      List<String> tokens = new ArrayList<>();
      for (int position = 1; position <= TOKENS; position++) {
        float[] logits = base.clone();
        embedder.bias(logits, ids, context, position);
        int chosen = sample(logits, random);
        tokens.add(vocabulary.get(chosen).getKey());
        context[position] = ids[chosen];
      }
      originals.add(WordTokenizer.detokenize(tokens));
    }
  }

  static Stream<Arguments> disguises() {
    return Stream.of(
        edit("zero-width space after each space", t -> t.replace(" ", " \u200B")),
        edit(
            "soft hyphen inside words", t -> t.replaceAll("(\\p{L}{2})(\\p{L}{2,})", "$1\u00AD$2")),
        edit("word joiner U+2060 after each space", t -> t.replace(" ", " \u2060")),
        edit("byte-order mark U+FEFF after each space", t -> t.replace(" ", " \uFEFF")),
        edit(
            "variation selector U+FE0F after each word",
            t -> t.replaceAll("(\\p{L}+)", "$1\uFE0F")),
        edit(
            "Cyrillic a, e, o for Latin a, e, o",
            t -> t.replace('a', '\u0430').replace('e', '\u0435').replace('o', '\u043E')),
        edit("every letter with a Cyrillic look-alike", DisguisedWatermarkTest::cyrillic),
        edit("every letter with a Greek look-alike", DisguisedWatermarkTest::greek),
        edit(
            "tag characters and a zero-width joiner inside words",
            t -> t.replaceAll("(\\p{L})(\\p{L})", "$1\uDB40\uDC41$2\u200D")),
        // The forty-first session's review: blanks that display as a space, for or after each one.
        edit("braille blank U+2800 for each space", t -> t.replace(" ", "\u2800")),
        edit("braille blank U+2800 after each space", t -> t.replace(" ", " \u2800")),
        edit("hangul filler U+3164 for each space", t -> t.replace(" ", "\u3164")),
        edit("halfwidth hangul filler U+FFA0 for each space", t -> t.replace(" ", "\uFFA0")),
        edit("hangul choseong filler U+115F for each space", t -> t.replace(" ", "\u115F")),
        edit("hangul jungseong filler U+1160 for each space", t -> t.replace(" ", "\u1160")));
  }

  @Test
  void shouldDetectEveryTextAsGenerated() {
    WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(KEY_A));
    for (String original : originals) {
      assertThat(detector.detect(original, KEY_A.id(), WatermarkParameters.DEFAULTS).watermarked())
          .as(original)
          .isTrue();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("disguises")
  void shouldStillDetectTheWatermarkWhenTheTextIsDisguised(
      String disguise, UnaryOperator<String> edit) {
    WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(KEY_A));
    int detected = 0;
    int sameTokens = 0;
    for (String original : originals) {
      String disguised = edit.apply(original);
      assertThat(disguised).as("%s changes the text", disguise).isNotEqualTo(original);
      if (detector.detect(disguised, KEY_A.id(), WatermarkParameters.DEFAULTS).watermarked()) {
        detected++;
      }
      if (Arrays.equals(WordTokenizer.tokenIds(disguised), WordTokenizer.tokenIds(original))) {
        sameTokens++;
      }
    }

    assertThat(detected).as("texts detected after: %s", disguise).isEqualTo(TEXTS);
    assertThat(sameTokens).as("texts whose token ids stayed: %s", disguise).isEqualTo(TEXTS);
  }

  /** Every letter that has a Cyrillic look-alike replaced by it (lower and upper case). */
  private static String cyrillic(String text) {
    return replace(
        text,
        "acehijkopsxyABCEHIJKMOPSTXY",
        "\u0430\u0441\u0435\u04BB\u0456\u0458\u043A\u043E\u0440\u0455\u0445\u0443"
            + "\u0410\u0412\u0421\u0415\u041D\u0406\u0408\u041A\u041C\u041E\u0420\u0405"
            + "\u0422\u0425\u0423");
  }

  /**
   * Every letter that has a Greek look-alike replaced by it, but capital N and Y: their Greek
   * look-alikes lower-case to nu and upsilon, which look like v and u.
   */
  private static String greek(String text) {
    return replace(
        text,
        "aikopuvxyABEHIKMOPTXZ",
        "\u03B1\u03B9\u03BA\u03BF\u03C1\u03C5\u03BD\u03C7\u03B3"
            + "\u0391\u0392\u0395\u0397\u0399\u039A\u039C\u039F\u03A1\u03A4\u03A7\u0396");
  }

  private static String replace(String text, String latin, String lookAlikes) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      int i = latin.indexOf(c);
      out.append(i < 0 ? c : lookAlikes.charAt(i));
    }
    return out.toString();
  }

  private static Arguments edit(String name, UnaryOperator<String> edit) {
    return Arguments.of(name, edit);
  }

  private static int sample(float[] logits, SplittableRandom random) {
    double max = Double.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double[] weights = new double[logits.length];
    double total = 0;
    for (int i = 0; i < logits.length; i++) {
      weights[i] = Math.exp(logits[i] - max);
      total += weights[i];
    }
    double target = random.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      target -= weights[i];
      if (target <= 0) {
        return i;
      }
    }
    return weights.length - 1;
  }
}
