package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The sentence rules read a plain sentence's windows from their lower case ({@link
 * TextNormalizer#isPlain}) instead of normalizing each window: the sentences and words they read
 * are what the former computation gave, kept here as the reference ({@link #reference}).
 */
class PlainSentenceWordsTest {
  private static final List<String> PIECES =
      List.of(
          "the",
          "committee",
          "Budget",
          "I'll",
          "won't",
          "ur",
          "u",
          " ",
          "  ",
          "\n",
          "\t",
          "\u000B",
          ".",
          ",",
          "!",
          "-",
          "rt",
          "RT",
          "Rt",
          "won\u2019t",
          "art",
          "start",
          "x-rt",
          ",rt",
          "http",
          "HtTp",
          "http://x.y/z",
          "www.",
          "WwW.",
          "www",
          "@user",
          "&amp;",
          "&",
          "aaa",
          "aaaa",
          "AaAa",
          "....",
          "    ",
          "k\u0456ll",
          "\u00AD",
          "\u200B",
          "\uFF21",
          "\u00C9",
          "\u212A",
          "kill",
          "'quoted'",
          "x".repeat(45));

  @Test
  void shouldReadTheSentencesAndWordsTheNormalizedWindowsGave() {
    for (String text : texts()) {
      assertThat(RuleSentence.of(text)).as(text).isEqualTo(reference(text));
    }
  }

  @Test
  void shouldNormalizeEveryPartOfAPlainTextAsItsLowerCaseWithWhitespaceCollapsed() {
    SplittableRandom random = new SplittableRandom(49);
    int plainTexts = 0;
    for (String text : texts()) {
      if (!TextNormalizer.isPlain(text)) {
        continue;
      }
      plainTexts++;
      for (int i = 0; i < 20; i++) {
        int start = random.nextInt(text.length() + 1);
        int end = random.nextInt(start, text.length() + 1);
        String part = text.substring(start, end);
        if (TextNormalizer.startsRetweet(part, 0)) {
          continue;
        }
        assertThat(TextNormalizer.normalize(part))
            .as(part)
            .isEqualTo(TextNormalizer.collapseWhitespace(part.toLowerCase(Locale.ROOT)));
      }
    }
    assertThat(plainTexts).as("plain texts among the random ones").isGreaterThan(800);
  }

  @Test
  void shouldFindNoPlainTextWhereNormalizingChangesMoreThanCaseAndWhitespace() {
    for (String text :
        List.of(
            "rt this",
            "a RT\tb",
            "see http now",
            "WWW.x",
            "a @b",
            "a &amp; b",
            "soooo",
            "SooOo",
            "caf\u00E9",
            "\uFF21")) {
      assertThat(TextNormalizer.isPlain(text)).as(text).isFalse();
    }
    for (String text : List.of("", "art now", "x,rt now", "rt", "htt p www sooo", "The Rule.")) {
      assertThat(TextNormalizer.isPlain(text)).as(text).isTrue();
    }
  }

  /** The sentences of {@code text} as {@link RuleSentence#of} read them before: each normalized. */
  private static List<RuleSentence> reference(String text) {
    if (text == null || text.isBlank()) {
      return List.of();
    }
    List<RuleSentence> sentences = new ArrayList<>();
    for (String sentence : Sentences.split(text)) {
      for (int start = 0; ; start += RuleSentence.WINDOW_STEP) {
        int end = Math.min(sentence.length(), start + RuleSentence.WINDOW_CHARS);
        String window =
            start == 0 && end == sentence.length()
                ? sentence
                : sentence.substring(wordStart(sentence, start), wordEnd(sentence, end)).strip();
        sentences.add(new RuleSentence(window, ThreatPatterns.normalize(window), start > 0));
        if (end == sentence.length()) {
          break;
        }
      }
    }
    return sentences;
  }

  private static int wordStart(String sentence, int start) {
    for (int i = start; i > 0 && i >= start - RuleSentence.WORD_SLACK; i--) {
      if (!inWord(sentence, i - 1) || !inWord(sentence, i)) {
        return i;
      }
    }
    return start;
  }

  private static int wordEnd(String sentence, int end) {
    for (int i = end; i < sentence.length() && i <= end + RuleSentence.WORD_SLACK; i++) {
      if (!inWord(sentence, i - 1) || !inWord(sentence, i)) {
        return i;
      }
    }
    return end;
  }

  private static boolean inWord(String sentence, int i) {
    char c = sentence.charAt(i);
    return Character.isLetterOrDigit(c)
        || Character.isSurrogate(c)
        || c == '\''
        || c == '\u2019'
        || c == '\u2018';
  }

  /**
   * Fixed texts (the plumbing benchmark's; a run-on sentence whose second window starts with "rt"
   * after a hyphen), and random mixes of the pieces, short and long enough to be read in windows,
   * mostly of plain pieces so that many are plain.
   */
  private static List<String> texts() {
    List<String> texts = new ArrayList<>();
    texts.add("");
    texts.add("the committee discussed the budget for the coming year and agreed on ".repeat(10));
    texts.add("abcd ".repeat(59) + "abc-rt go " + "abcd ".repeat(80));
    texts.add("abcd ".repeat(59) + "abc-RT\tgo. Part two " + "abcd ".repeat(120));
    SplittableRandom random = new SplittableRandom(49);
    for (int i = 0; i < 4_000; i++) {
      StringBuilder text = new StringBuilder();
      int pieces = i % 4 == 0 ? random.nextInt(100, 400) : random.nextInt(1, 30);
      // A third of the texts from the first sixteen pieces (plain), a third from the first
      // nineteen (plain but for a retweet marker "rt" between spaces), a third from all.
      int from = i % 3 == 0 ? 16 : i % 3 == 1 ? 19 : PIECES.size();
      for (int p = 0; p < pieces; p++) {
        text.append(PIECES.get(random.nextInt(from)));
        if (random.nextInt(3) > 0) {
          text.append(' ');
        }
      }
      texts.add(text.toString());
    }
    return texts;
  }
}
