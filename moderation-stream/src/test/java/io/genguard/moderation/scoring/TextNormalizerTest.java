package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TextNormalizerTest {
  // The normalizer as first written: every pattern on every text. The fast paths must agree.
  private static final Pattern URL = Pattern.compile("(?i)\\b(?:https?://|www\\.)\\S+");
  private static final Pattern MENTION = Pattern.compile("@\\w+:?");
  private static final Pattern RETWEET = Pattern.compile("(?i)(?:^|\\s)rt(?=\\s)");
  private static final Pattern REPEATED_CHAR = Pattern.compile("(.)\\1{3,}");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private static final List<String> PIECES =
      List.of(
          "the",
          "Committee",
          " ",
          "  ",
          "\t",
          "\n",
          "\r\n",
          "\u000b",
          "\f",
          "\u00a0",
          "\u2028",
          "http://x.org/a",
          "HTTPS://Y.io",
          "www.site.com",
          "WWW.",
          "http",
          "hTtP://mixed.case",
          "\uff48\uff54\uff54\uff50://wide.jp",
          "\uff37\uff37\uff37.",
          "\uff32\uff54 ",
          "@user",
          "@a:",
          "@",
          "RT",
          "rt",
          " rt ",
          "Rt\t",
          "art",
          "sooooo",
          "!!!!",
          "....",
          "\n\n\n\n",
          "😀😀😀😀",
          "😀",
          "&amp;",
          "&#39;",
          "&#128512;",
          "&lt;b&gt;",
          "ｆｕｌｌ",
          "ﬁ",
          "É",
          "İ",
          "ß",
          "'",
          "\u2019",
          "don't",
          "123",
          "ab",
          "aaaa",
          "AAAa",
          // Invisible characters and look-alike letters (Obfuscation), alone and inside words.
          "\u00AD",
          "\u200B",
          "\u200D",
          "\uDB40\uDC20",
          "&#173;",
          "k\u0456ll",
          "\u0441",
          "\u0422",
          "&#1072;",
          "\u041F\u0440\u0438\u0432\u0435\u0442",
          "\u03BC",
          "\uD83D\uDC68\u200D\uD83D\uDC69");

  private static String reference(String text) {
    return reference(text, true);
  }

  /** {@link TextNormalizer#normalize} by the patterns; without revealing: the split key. */
  private static String reference(String text, boolean reveal) {
    String s = Normalizer.normalize(text, Normalizer.Form.NFKC);
    s = TextNormalizer.decodeEntities(s); // unchanged, and guarded already
    if (reveal) {
      s = Obfuscation.reveal(s); // tested on its own (ObfuscationTest)
    }
    s = URL.matcher(s).replaceAll(" ");
    s = MENTION.matcher(s).replaceAll(" ");
    s = RETWEET.matcher(s).replaceAll(" ");
    s = s.toLowerCase(Locale.ROOT);
    s = REPEATED_CHAR.matcher(s).replaceAll("$1$1$1");
    return WHITESPACE.matcher(s).replaceAll(" ").trim();
  }

  @Test
  void shouldNormalizeExactlyAsThePatternsDoOnRandomMixturesOfTrickyPieces() {
    SplittableRandom random = new SplittableRandom(20261125);
    for (int i = 0; i < 20_000; i++) {
      StringBuilder text = new StringBuilder();
      int pieces = 1 + random.nextInt(12);
      for (int p = 0; p < pieces; p++) {
        text.append(PIECES.get(random.nextInt(PIECES.size())));
      }
      String input = text.toString();
      assertThat(TextNormalizer.normalize(input)).as("input %s", input).isEqualTo(reference(input));
    }
  }

  /**
   * A plain text (ASCII, none of the markers: {@link TextNormalizer#isPlain}) is only lower-cased
   * and its whitespace collapsed, without the steps; mixtures mostly of plain pieces, with the
   * pieces that make a text not plain among them, normalize as the patterns do.
   */
  @Test
  void shouldNormalizePlainTextsExactlyAsThePatternsDo() {
    List<String> plainPieces =
        List.of(
            "the",
            "Committee",
            "AGREED",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\u000b",
            "\f",
            "\u001f",
            ".",
            "!",
            "-",
            ",",
            "'",
            "don't",
            "123",
            "ab",
            "aaa",
            "AAa",
            "art",
            "rt",
            "Rt",
            "x",
            "ht",
            "tp",
            "ww",
            "w.",
            "amp;");
    SplittableRandom random = new SplittableRandom(20261207);
    int plain = 0;
    for (int i = 0; i < 20_000; i++) {
      StringBuilder text = new StringBuilder();
      int pieces = 1 + random.nextInt(16);
      for (int p = 0; p < pieces; p++) {
        text.append(
            random.nextInt(20) == 0
                ? PIECES.get(random.nextInt(PIECES.size()))
                : plainPieces.get(random.nextInt(plainPieces.size())));
      }
      String input = text.toString();
      plain += TextNormalizer.isPlain(input) ? 1 : 0;
      assertThat(TextNormalizer.normalize(input)).as("input %s", input).isEqualTo(reference(input));
      assertThat(TextNormalizer.splitKey(input))
          .as("input %s", input)
          .isEqualTo(reference(input, false));
    }
    assertThat(plain).as("plain texts among the mixtures").isGreaterThan(5_000);
  }

  @Test
  void shouldNormalizeTypicalCases() {
    assertThat(TextNormalizer.normalize("RT @bob: Soooooo   good http://t.co/x &amp; more"))
        .isEqualTo("sooo good & more");
    assertThat(TextNormalizer.normalize("  plain text  ")).isEqualTo("plain text");
    assertThat(TextNormalizer.normalize("")).isEmpty();
  }

  @Test
  void shouldReadWordsAsTheyDisplayDespiteInvisibleCharactersAndLookAlikes() {
    String plain = TextNormalizer.normalize("Kill yourself, nobody would miss you.");
    assertThat(plain).isEqualTo("kill yourself, nobody would miss you.");
    assertThat(TextNormalizer.normalize("Ki\u00ADll your\u200Bself, nobody would miss y\u200Dou."))
        .isEqualTo(plain);
    assertThat(
            TextNormalizer.normalize("K\u0456ll \u0443\u043Eurs\u0435lf, nobody would miss you."))
        .isEqualTo(plain);
    assertThat(TextNormalizer.normalize("Ki&#173;ll yourself, nobody would miss you."))
        .isEqualTo(plain);
  }

  @Test
  void shouldReadBlanksThatDisplayAsSpacesAsSpaces() {
    // The forty-first session's provenance review: U+2800 or a Hangul filler where each space was
    // looks the same; the filler was dropped (joining "amgoing"), U+2800 kept between the words.
    String plain = TextNormalizer.normalize("I am going to kill you.");
    assertThat(plain).isEqualTo("i am going to kill you.");
    for (String blank : List.of("\u2800", "\u3164", "\uFFA0", "\u115F", "\u1160")) {
      assertThat(TextNormalizer.normalize("I am going to kill you.".replace(" ", blank)))
          .as("U+%04X for each space", (int) blank.charAt(0))
          .isEqualTo(plain);
      assertThat(TextNormalizer.normalize("I am going to kill you.".replace(" ", " " + blank)))
          .as("U+%04X after each space", (int) blank.charAt(0))
          .isEqualTo(plain);
    }
  }

  @Test
  void shouldKeepTheSplitKeyAsTheCommittedModelsWereSplitWith() {
    // The key of deduplication and the train/test split does not reveal: a tweet's emoji with a
    // variation selector would otherwise move it to another split.
    String tweet = "Warm fuzzies abound &#9786;&#65039;";
    assertThat(TextNormalizer.splitKey(tweet)).isEqualTo("warm fuzzies abound \u263A\uFE0F");
    assertThat(TextNormalizer.normalize(tweet)).isEqualTo("warm fuzzies abound \u263A");
    assertThat(TextNormalizer.splitKey("Ki\u00ADll")).isEqualTo("ki\u00ADll");
  }

  @Test
  void shouldFindTheMarkersInAnyCaseExactlyAsTheRegionMatchDid() {
    // The scan compares ASCII itself and leaves only non-ASCII characters to the region match; it
    // finds the three patterns' markers in one pass (TextNormalizer.cues), as the three scans
    // (one per marker, below) did.
    String alphabet = "rRtThHpPwW.sSkK @\u0131\u0130\u017F\u212A\u0280\u1D1B\uFF34\u0442\u0422x";
    SplittableRandom random = new SplittableRandom(47);
    for (int i = 0; i < 50_000; i++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(i < 40_000 ? 9 : 24);
      for (int c = 0; c < length; c++) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String s = text.toString();
      int expected =
          (containsIgnoreCase(s, "http") || containsIgnoreCase(s, "www.")
                  ? TextNormalizer.URL_CUE
                  : 0)
              | (s.indexOf('@') >= 0 ? TextNormalizer.MENTION_CUE : 0)
              | (containsIgnoreCase(s, "rt") ? TextNormalizer.RETWEET_CUE : 0);
      assertThat(TextNormalizer.cues(s)).as("markers in %s", s).isEqualTo(expected);
    }
  }

  /** The region match the scans for the markers stand for. */
  private static boolean containsIgnoreCase(String s, String marker) {
    boolean found = false;
    for (int at = 0; at + marker.length() <= s.length(); at++) {
      char first = s.charAt(at);
      found |=
          (first == marker.charAt(0) || first == Character.toUpperCase(marker.charAt(0)))
              && s.regionMatches(true, at, marker, 0, marker.length());
    }
    return found;
  }
}
