package io.genguard.provenance.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WordTokenizerTest {
  private static final String PARLIAMENT_TEXT =
      "Mr President, I don't think the Commission's proposal (COM(2004) 123) goes far enough:"
          + " 1.5% of GDP is not a 'small' sum - it's the member states' money! Isn't it?";

  @Test
  void shouldSplitWordsAndPunctuationAndLowerCase() {
    assertThat(WordTokenizer.tokenize("Mr President, I don't agree."))
        .containsExactly("mr", "president", ",", "i", "don't", "agree", ".");
  }

  @Test
  void shouldTreatTypographicApostrophesAsPlainOnes() {
    assertThat(WordTokenizer.tokenize("Parliament\u2019s role"))
        .containsExactly("parliament's", "role");
  }

  @Test
  void shouldRoundTripTokensThroughDetokenizedText() {
    List<String> tokens = WordTokenizer.tokenize(PARLIAMENT_TEXT);

    String rendered = WordTokenizer.detokenize(tokens);

    assertThat(WordTokenizer.tokenize(rendered)).isEqualTo(tokens);
  }

  @Test
  void shouldRoundTripRandomSequencesOfTokens() {
    List<String> alphabet =
        List.of(
            "the",
            "i",
            "commission",
            "don't",
            ",",
            ".",
            "?",
            "(",
            ")",
            "-",
            "/",
            "'",
            "\"",
            "1",
            "5",
            "%",
            ":",
            "états",
            "naïve",
            "€");
    SplittableRandom random = new SplittableRandom(7);
    for (int trial = 0; trial < 2000; trial++) {
      List<String> tokens = new ArrayList<>();
      int length = 1 + random.nextInt(30);
      for (int i = 0; i < length; i++) {
        tokens.add(alphabet.get(random.nextInt(alphabet.size())));
      }
      assertThat(WordTokenizer.tokenize(WordTokenizer.detokenize(tokens)))
          .as("round trip of %s", tokens)
          .isEqualTo(tokens);
    }
  }

  @Test
  void shouldLeaveASentenceStartWhoseUpperCaseReadsBackAsAnotherToken() {
    // Turkish dotless ı upper-cases to I, which lower-cases to i: another token, another id.
    List<String> tokens = List.of("a", ".", "\u0131\u015f\u0131k", "x");

    String rendered = WordTokenizer.detokenize(tokens);

    assertThat(rendered).isEqualTo("A. \u0131\u015f\u0131k x");
    assertThat(WordTokenizer.tokenize(rendered)).isEqualTo(tokens);
    assertThat(WordTokenizer.detokenize(List.of("\u015f\u0131k", "."))).isEqualTo("\u015e\u0131k.");
  }

  @Test
  void shouldRoundTripEveryLetterTokenAtASentenceStart() {
    int letters = 0;
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (!Character.isLetter(cp)) {
        continue;
      }
      String letter = new String(Character.toChars(cp));
      List<String> alone = WordTokenizer.tokenize(letter);
      if (alone.size() != 1) {
        continue; // NFKC makes some letters several words, e.g. the ligature U+FDFA
      }
      // Tokens of one text each: whether a look-alike letter reads as Latin depends on the text.
      List<String> inLatinText = WordTokenizer.tokenize("a. " + letter + " x");
      for (List<String> tokens : List.of(alone, inLatinText)) {
        assertThat(WordTokenizer.tokenize(WordTokenizer.detokenize(tokens)))
            .as("U+%04X in %s", cp, tokens)
            .isEqualTo(tokens);
      }
      letters++;
    }
    assertThat(letters).isGreaterThan(100_000);
  }

  @Test
  void shouldRoundTripTextsThatMixScriptsLookAlikesAndInvisibleCharacters() {
    // Latin, Cyrillic and Greek letters in both cases (look-alikes and letters that look like no
    // Latin one: Cyrillic т looks like no t, its capital Т does), a combining acute, invisible
    // characters, spaces and punctuation.
    String pieces = "aeotnxAETNаеотнгдиАТНГ" + "αντλΑΝΤΛ́​­️   .,'-";
    SplittableRandom random = new SplittableRandom(11);
    for (int trial = 0; trial < 20_000; trial++) {
      StringBuilder text = new StringBuilder();
      int length = 1 + random.nextInt(40);
      for (int i = 0; i < length; i++) {
        text.append(pieces.charAt(random.nextInt(pieces.length())));
      }
      List<String> tokens = WordTokenizer.tokenize(text.toString());

      assertThat(WordTokenizer.tokenize(WordTokenizer.detokenize(tokens)))
          .as("round trip of %s", text)
          .isEqualTo(tokens);
    }
  }

  @Test
  void shouldDropInvisibleCharactersAndReadLookAlikesInDisguisedWordsAsLatin() {
    assertThat(WordTokenizer.tokenize("ki\u00ADll the\u200B \u2060cat\uFE0F\uFEFF."))
        .containsExactly("kill", "the", "cat", ".");
    // Mixed words, and words wholly in look-alikes in a text that reads as Latin.
    assertThat(WordTokenizer.tokenize("\u0422he \u0441\u0430t \u0430nd \u0430 d\u043Eg"))
        .containsExactly("the", "cat", "and", "a", "dog");
    assertThat(WordTokenizer.tokenize("\u0391 \u03BA\u03B9d, I \u0455\u0430\u0443."))
        .containsExactly("a", "kid", ",", "i", "say", ".");
  }

  @Test
  void shouldLeaveRussianAndGreekWordsAsTheyAre() {
    String russian =
        "\u0421\u0435\u0433\u043E\u0434\u043D\u044F \u0430 \u0432\u0435\u0447\u0435\u0440\u043E\u043C \u043C\u044B \u0432 \u043A\u0438\u043D\u043E \u0441 \u0434\u0440\u0443\u0437\u044C\u044F\u043C\u0438.";
    String greek =
        "\u0397 \u03C3\u03C5\u03BD\u03B5\u03B4\u03C1\u03AF\u03B1\u03C3\u03B7 \u03BA\u03B1\u03B9 \u03C4\u03BF \u03C0\u03C1\u03C9\u03AF.";
    String quoted =
        "The motion was adopted (Greek: \u0395\u03B3\u03BA\u03C1\u03AF\u03BD\u03B5\u03C4\u03B1\u03B9).";
    for (String text : List.of(russian, greek, quoted)) {
      String lowerCase = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
      assertThat(String.join("", WordTokenizer.tokenize(text)))
          .as(text)
          .isEqualTo(lowerCase.replace(" ", ""));
    }
  }

  @Test
  void shouldCapitaliseSentenceStartsAndThePronounI() {
    assertThat(
            WordTokenizer.detokenize(
                List.of(
                    "i", "agree", ".", "the", "vote", "(", "now", ")", "is", "open", ",", "i'm",
                    "told", ".")))
        .isEqualTo("I agree. The vote (now) is open, I'm told.");
  }

  @Test
  void shouldGiveTheSameIdsWhateverTheCasingOrSpacing() {
    assertThat(WordTokenizer.tokenIds("The  Commission,  today"))
        .containsExactly(WordTokenizer.tokenIds("the commission , TODAY"));
  }

  @Test
  void shouldDeriveIdsFromSha256SoEveryPlatformAgrees() {
    // SHA-256("the") = b9776d7ddf459c9ad5b0e1d6ac61e27befb5e99fd62446677600d7cacef544d0
    assertThat(WordTokenizer.tokenId("the")).isEqualTo(0xb9776d7d);
  }

  @Test
  void shouldRecogniseSingleTokens() {
    assertThat(WordTokenizer.isToken("parliament")).isTrue();
    assertThat(WordTokenizer.isToken(",")).isTrue();
    assertThat(WordTokenizer.isToken("Parliament")).isFalse();
    assertThat(WordTokenizer.isToken("two words")).isFalse();
  }

  @Test
  void shouldGiveEveryTokenTheIdOfItsHashWhetherCachedOrNot() throws Exception {
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    for (String token :
        List.of("the", "committee", "x".repeat(33), "naïve", "don't", "\u00e9t\u00e9", "7")) {
      byte[] digest = sha256.digest(token.getBytes(StandardCharsets.UTF_8));
      int expected = ByteBuffer.wrap(digest, 0, 4).getInt();
      assertThat(WordTokenizer.tokenId(token)).as(token).isEqualTo(expected);
      assertThat(WordTokenizer.tokenId(token)).as(token + ", again").isEqualTo(expected);
    }
  }
}
