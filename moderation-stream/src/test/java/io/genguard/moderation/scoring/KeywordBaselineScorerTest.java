package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeywordBaselineScorerTest {
  private final KeywordBaselineScorer baseline = KeywordBaselineScorer.loadDefault();

  @Test
  void shouldFlagListedWordsOnlyAsWholeWords() {
    assertThat(baseline.score("what the fuck is this").unsafe()).isEqualTo(1.0);
    assertThat(baseline.score("the assistant passed the class").unsafe()).isEqualTo(0.0);
  }

  @Test
  void shouldCountSlursAsHateAndProfanityAsHarassment() {
    ContentScores slur = baseline.score("those faggots again");
    assertThat(slur.score(Category.HATE)).isEqualTo(1.0);
    assertThat(slur.score(Category.HARASSMENT)).isEqualTo(1.0);
    assertThat(baseline.score("oh shit").score(Category.HATE)).isEqualTo(0.0);
  }
}
