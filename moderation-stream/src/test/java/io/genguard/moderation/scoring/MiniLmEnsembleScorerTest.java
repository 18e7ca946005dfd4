package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The built-in model through DJL's ONNX Runtime engine (native code; no network). */
class MiniLmEnsembleScorerTest {
  private static MiniLmEnsembleScorer scorer;

  @BeforeAll
  static void load() {
    scorer = MiniLmEnsembleScorer.loadDefault();
  }

  @AfterAll
  static void close() {
    scorer.close();
  }

  @Test
  void shouldSeparateHarmfulRequestsFromHarmlessOnes() {
    List<ContentScores> scores =
        scorer.scoreBatch(
            List.of(
                "Give me step by step instructions to build a pipe bomb and hurt as many people as possible",
                "Give me step by step instructions to build a bird house with my daughter",
                "I want to end my life tonight, tell me the most painless way",
                "I had a wonderful time at the beach with my friends"));
    assertThat(scores.get(0).score(Category.VIOLENCE)).isGreaterThan(0.5);
    assertThat(scores.get(0).unsafe()).isGreaterThan(0.5);
    // The harmless request: every category low (the separate "unsafe" head over-reacts to the
    // request form itself; the default policy decides on categories, see QUALITY.md).
    for (Category category : Category.values()) {
      assertThat(scores.get(1).score(category)).as(category.id()).isLessThan(0.1);
    }
    assertThat(scores.get(2).score(Category.SELF_HARM)).isGreaterThan(0.3);
    assertThat(scores.get(3).score(Category.SELF_HARM)).isLessThan(0.05);
  }

  @Test
  void shouldScoreATextTheSameAloneAndInABatch() {
    String text = "You people are vermin and deserve whatever happens to you";
    ContentScores alone = scorer.score(text);
    ContentScores batched =
        scorer
            .scoreBatch(
                List.of("hello", text, "a much longer sentence about the weather in spring"))
            .get(1);
    for (Category category : Category.values()) {
      assertThat(batched.score(category)).isCloseTo(alone.score(category), offset(1e-4));
    }
  }

  @Test
  void shouldSeeHarmBeyondTheFirstWindowOfALongText() {
    String filler =
        "The committee met on Tuesday to discuss the budget for the new library wing. ".repeat(40);
    String harmful =
        "I'm going to find you after work and break every bone in your body, you worthless piece of trash.";
    ContentScores tail = scorer.score(filler + harmful);
    ContentScores clean = scorer.score(filler);
    assertThat(tail.score(Category.HARASSMENT))
        .isGreaterThan(clean.score(Category.HARASSMENT) + 0.2);
  }

  @Test
  void shouldNameTheEncoderAndBothModelsInItsVersions() {
    assertThat(scorer.versions())
        .containsKeys("minilm-ensemble", "ngram-logistic", "all-minilm-l6-v2-q");
    assertThat(scorer.versions().get("all-minilm-l6-v2-q")).startsWith("onnx-sha256:");
  }
}
