package io.genguard.moderation.bias;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.scoring.RuleSentence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The identity lexicon's first-word filter ({@link IdentityLexicon#startsNoEntry}), which the
 * prejudice frames read before splitting a sentence's words and looking each up, says "no group"
 * only where the lookup finds none, so the frames find what they found without it.
 */
class PrejudiceFramesFilterTest {
  private static final IdentityLexicon LEXICON = IdentityLexicon.loadDefault();

  private static final List<String> TEXTS =
      List.of(
          "",
          " ",
          "ok",
          "the committee discussed the budget for the coming year and agreed on",
          "I'm not racist, but Nigerians are all liars.",
          "Call me a bigot, but Catholics are hypocrites.",
          "With all due respect, blind people can't raise children.",
          "Everybody knows Gypsies steal.",
          "Let's be honest, lesbians are confused.",
          "Let's be honest, gay black men are always late.",
          "He said that everyone knows Jews are greedy, which is a lie.",
          "\"Everyone knows immigrants are lazy\" is what they say.",
          "To be honest, the old man was right.",
          "Honestly the committee agreed.",
          "I'm just saying, old people should not vote.",
          "I\u2019m not racist but w\u043Emen are w\u0435ak",
          "Statistics show that immigrants are criminals. Statistics show that budgets grow.",
          "RT @someone: everyone knows that Muslims hate freedom http://t.co/x &amp; more");

  /** Words that name groups, frame them, state something of them, or nothing of the kind. */
  private static final List<String> PIECES =
      List.of(
          "the",
          "committee",
          "budget",
          "women",
          "Women",
          "immigrants",
          "Muslims",
          "gay",
          "black",
          "people",
          "men",
          "old",
          "trans",
          "are",
          "always",
          "never",
          "said",
          "I'm not racist, but",
          "everyone knows",
          "let's be honest,",
          "it's a fact that",
          "no offense but",
          "statistics show",
          "just saying",
          ",",
          ".",
          "!",
          "\"",
          "  ",
          "\n",
          "I'll",
          "won\u2019t",
          "k\u0456ll",
          "w\u043Emen",
          "\u00C9migr\u00E9s",
          "\u4E2D\u6587");

  @Test
  void shouldFindTheSameFramedPrejudicesWithAndWithoutTheFilter() {
    int found = 0;
    for (String text : texts()) {
      List<RuleSentence> sentences = RuleSentence.of(text);
      var filtered = PrejudiceFrames.findIn(sentences, true);
      assertThat(filtered).as(text).isEqualTo(PrejudiceFrames.findIn(sentences, false));
      found += filtered.size();
    }
    // Not vacuous: the texts reach the frames, not only the filter.
    assertThat(found).isGreaterThan(100);
  }

  @Test
  void shouldSayNoEntryOnlyWhereNoWordStartsOne() {
    Set<String> firstWords =
        LEXICON.entries().stream().map(entry -> entry.words().get(0)).collect(Collectors.toSet());
    int none = 0;
    int some = 0;
    for (String text : texts()) {
      for (RuleSentence sentence : RuleSentence.of(text)) {
        String words = sentence.words();
        List<String> split = Arrays.asList(words.split(" "));
        boolean startsOne = split.stream().anyMatch(firstWords::contains);
        if (LEXICON.startsNoEntry(words)) {
          assertThat(startsOne).as(words).isFalse();
          assertThat(LEXICON.mentions(split)).as(words).isEmpty();
          none++;
        } else if (startsOne) {
          some++;
        }
      }
    }
    assertThat(none).isGreaterThan(100);
    assertThat(some).isGreaterThan(100);
  }

  @Test
  void shouldSeeEveryFirstWordWhereverItStands() {
    for (IdentityLexicon.Entry entry : LEXICON.entries()) {
      String first = entry.words().get(0);
      assertThat(LEXICON.startsNoEntry(first)).as(first).isFalse();
      assertThat(LEXICON.startsNoEntry(first + " are")).as(first).isFalse();
      assertThat(LEXICON.startsNoEntry("they say " + first)).as(first).isFalse();
      assertThat(LEXICON.startsNoEntry("the " + first + " are")).as(first).isFalse();
    }
    assertThat(LEXICON.startsNoEntry("the committee discussed the budget")).isTrue();
  }

  /** The fixed texts, long run-on ones (read in windows), and random mixes of the pieces. */
  private static List<String> texts() {
    List<String> texts = new ArrayList<>(TEXTS);
    texts.add(String.join(" ", TEXTS).repeat(5));
    texts.add(String.join(" ", TEXTS).replace(".", "").replace(",", "").repeat(3));
    SplittableRandom random = new SplittableRandom(48);
    for (int i = 0; i < 3_000; i++) {
      StringBuilder text = new StringBuilder();
      int pieces = random.nextInt(1, i % 10 == 0 ? 200 : 16);
      for (int p = 0; p < pieces; p++) {
        if (p > 0) {
          text.append(' ');
        }
        text.append(PIECES.get(random.nextInt(PIECES.size())));
      }
      texts.add(text.toString());
    }
    return texts;
  }
}
