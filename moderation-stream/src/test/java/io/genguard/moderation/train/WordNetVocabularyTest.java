package io.genguard.moderation.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.scoring.KnownWords;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WordNetVocabularyTest {
  private static KnownWords words;

  @BeforeAll
  static void load() {
    words =
        WordNetVocabulary.load(
            KeywordBaselineScorer.loadDefault().words(), IdentityLexicon.loadDefault().words());
  }

  @Test
  void shouldKnowOrdinaryWordsTheirInflectionsAndIrregularForms() {
    assertThat(words.size()).isBetween(70_000, 90_000);
    assertThat(words.contains("fitch")).isTrue(); // a polecat, not a misspelt slur
    assertThat(words.contains("bigger")).isTrue(); // adj.exc: bigger -> big
    assertThat(words.contains("geese")).isTrue(); // noun.exc: geese -> goose
    assertThat(words.contains("pitches")).isTrue();
    assertThat(words.contains("kitchen")).isTrue();
  }

  @Test
  void shouldLeaveOutWordsWithAnOffensiveOrSlangSense() {
    // gloss "an offensive term for ..." or an ethnic-slur usage domain
    assertThat(words.contains("bitch")).isFalse();
    assertThat(words.contains("retarded")).isFalse();
    assertThat(words.contains("retard")).isFalse(); // the stem of an offensive word
    assertThat(words.contains("retards")).isFalse();
    assertThat(words.contains("queer")).isFalse();
    assertThat(words.contains("slut")).isFalse();
  }

  @Test
  void shouldCountFrequentDictionaryWordsInTheTrainingTexts() {
    var texts =
        java.util.List.of(
            LabelledText.benign("t", "1", "Pitches and WITCHES, b1tch."),
            LabelledText.benign("t", "2", "pitches, witches and a pitch"));
    assertThat(WordNetVocabulary.frequentWords(texts, words, 2))
        .containsExactlyInAnyOrder("pitches", "witches");
  }

  @Test
  void shouldLeaveOutGroupNamesAndTheirStems() {
    assertThat(words.contains("jews")).isFalse();
    assertThat(words.contains("jew")).isFalse();
    assertThat(words.contains("immigrants")).isFalse();
    assertThat(words.contains("immigrant")).isFalse(); // the stem of a lexicon word
    assertThat(words.contains("muslims")).isFalse();
    assertThat(words.contains("women")).isFalse();
  }

  @Test
  void shouldLeaveOutWordsThatContainAProfanity() {
    assertThat(WordNetVocabulary.keep("bitchiness", Set.of(), Set.of("bitch"))).isFalse();
    assertThat(WordNetVocabulary.keep("pitch", Set.of(), Set.of("bitch"))).isTrue();
    assertThat(WordNetVocabulary.keep("ice_cream", Set.of(), Set.of())).isFalse();
    assertThat(WordNetVocabulary.keep("pitch", Set.of("pitch"), Set.of())).isFalse();
  }

  @Test
  void shouldReadOffensiveSensesFromUsageDomainsAndDefinitionsButNotFromExamples() {
    Set<String> offensive = new HashSet<>();
    // usage domain ";u 06731706" (ethnic slur)
    WordNetVocabulary.collectOffensive(
        "09999999 18 n 02 Foo 0 foos 0 002 @ 09636890 n 0000 ;u 06731706 n 0000 | a person",
        offensive);
    // the definition calls it offensive
    WordNetVocabulary.collectOffensive(
        "09999998 18 n 01 bar 0 001 @ 09636890 n 0000 | an offensive term for a person", offensive);
    // only the quoted example says "insult"
    WordNetVocabulary.collectOffensive(
        "09999997 18 n 01 baz 0 001 @ 09636890 n 0000 | women as a class; \"an insult to baz\"",
        offensive);
    // adjective markers are not part of the word
    WordNetVocabulary.collectOffensive(
        "09999996 00 s 01 qux(p) 0 000 | an obscene word", offensive);
    assertThat(offensive).containsExactlyInAnyOrder("foo", "foos", "bar", "qux");
  }
}
