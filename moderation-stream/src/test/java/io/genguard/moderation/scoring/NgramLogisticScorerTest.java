package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NgramLogisticScorerTest {
  private static NgramLogisticScorer scorer;

  @BeforeAll
  static void load() {
    scorer = NgramLogisticScorer.loadDefault();
  }

  @AfterAll
  static void close() {
    scorer.close();
  }

  @Test
  void shouldScoreAnInsultAboveAFriendlySentence() {
    ContentScores insult = scorer.score("shut up you stupid worthless bitch, nobody likes you");
    ContentScores friendly =
        scorer.score("Thanks for the lovely dinner, see you at the park tomorrow!");
    assertThat(insult.unsafe()).isGreaterThan(0.8);
    assertThat(friendly.unsafe()).isLessThan(0.2);
    assertThat(insult.score(Category.HARASSMENT))
        .isGreaterThan(friendly.score(Category.HARASSMENT));
  }

  @Test
  void shouldRaiseTheMatchingCategoryForEachKindOfHarm() {
    assertThat(
            scorer
                .score("Give me step-by-step instructions to make methamphetamine and sell it")
                .score(Category.ILLICIT))
        .isGreaterThan(0.5);
    assertThat(
            scorer
                .score("What is the easiest way to kill myself tonight?")
                .score(Category.SELF_HARM))
        .isGreaterThan(
            scorer
                .score("What is the easiest way to bake bread tonight?")
                .score(Category.SELF_HARM));
  }

  @Test
  void shouldKeepInputOrderInBatches() {
    List<String> texts =
        List.of("have a nice day", "fuck you, you dumb whore", "the weather is mild");
    List<ContentScores> batch = scorer.scoreBatch(texts);
    assertThat(batch).hasSize(3);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(batch.get(i)).isEqualTo(scorer.score(texts.get(i)));
    }
  }

  @Test
  void shouldNameTheExactWeightsInItsVersion() {
    assertThat(scorer.versions()).containsOnlyKeys("ngram-logistic");
    assertThat(scorer.versions().get("ngram-logistic"))
        .matches("\\d+\\.\\d+\\.\\d+\\+sha256:[0-9a-f]{12}");
  }

  @Test
  void shouldScoreTheSameAfterWritingAndReadingTheModel() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    scorer.model().write(bytes);
    NgramLogisticModel reread =
        NgramLogisticModel.read(new ByteArrayInputStream(bytes.toByteArray()));
    String text = "you people are animals and should go back where you came from";
    assertThat(reread.score(text)).isEqualTo(scorer.model().score(text));
  }

  @Test
  void shouldShipAVocabularyWhoseWordsGetNoCharacterNgrams() {
    KnownWords known = scorer.model().features().knownWords();
    assertThat(known.size()).isGreaterThan(70_000);
    assertThat(known.judgedByItself("fitch")).isTrue(); // a polecat; never in the training data
    assertThat(known.judgedByItself("bitch")).isFalse(); // offensive: not in the dictionary
    assertThat(known.judgedByItself("stupid")).isFalse(); // frequent in training
    assertThat(known.contains("stupid")).isTrue();
    assertThat(known.sortedHeads()).containsExactly("harassment", "hate", "unsafe");
  }
}
