package io.genguard.provenance.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
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
      List<String> normalized = WordTokenizer.tokenize(new String(Character.toChars(cp)));
      if (normalized.size() != 1) {
        continue; // NFKC makes some letters several words, e.g. the ligature U+FDFA
      }
      String token = normalized.get(0);
      for (List<String> tokens : List.of(List.of(token), List.of("a", ".", token, "x"))) {
        assertThat(WordTokenizer.tokenize(WordTokenizer.detokenize(tokens)))
            .as("U+%04X in %s", cp, tokens)
            .isEqualTo(tokens);
      }
      letters++;
    }
    assertThat(letters).isGreaterThan(100_000);
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
