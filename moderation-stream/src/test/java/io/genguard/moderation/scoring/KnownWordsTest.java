package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class KnownWordsTest {
  private final KnownWords words = KnownWords.of(List.of("pitch", "woman", "women", "big", "try"));

  @Test
  void shouldKnowTheWordsAndTheirRegularInflections() {
    assertThat(words.contains("pitch")).isTrue();
    assertThat(words.contains("pitches")).isTrue();
    assertThat(words.contains("pitched")).isTrue();
    assertThat(words.contains("pitching")).isTrue();
    assertThat(words.contains("women")).isTrue();
    assertThat(words.contains("tries")).isTrue();
    assertThat(words.contains("woman's")).isTrue();
  }

  @Test
  void shouldNotKnowWordsThatOnlyResembleThem() {
    assertThat(words.contains("bitch")).isFalse();
    assertThat(words.contains("itch")).isFalse();
    assertThat(words.contains("b1g")).isFalse();
    // a suffix rule never strips a word down to a single letter
    assertThat(KnownWords.of(List.of("a")).contains("as")).isFalse();
  }

  @Test
  void shouldJudgeOnlyTheWordsTrainingRarelyShowsByThemselves() {
    KnownWords trained = words.withFrequent(List.of("women"));
    assertThat(trained.judgedByItself("pitch")).isTrue();
    assertThat(trained.judgedByItself("women")).isFalse();
    assertThat(trained.contains("women")).isTrue();
    assertThat(trained.judgedByItself("bitch")).isFalse();
    assertThat(trained.sortedFrequentWords()).containsExactly("women");
  }

  @Test
  void shouldApplyOnlyToTheNamedHeads() {
    KnownWords forHeads = words.withFrequent(List.of("women")).forHeads(List.of("hate", "unsafe"));
    assertThat(forHeads.appliesTo("hate")).isTrue();
    assertThat(forHeads.appliesTo("violence")).isFalse();
    assertThat(forHeads.sortedHeads()).containsExactly("hate", "unsafe");
    assertThat(forHeads.sortedFrequentWords()).containsExactly("women");
    assertThat(words.appliesTo("hate")).isFalse();
  }

  @Test
  void shouldKnowNothingWhenEmpty() {
    assertThat(KnownWords.NONE.contains("pitch")).isFalse();
    assertThat(KnownWords.of(List.of())).isSameAs(KnownWords.NONE);
  }

  @Test
  void shouldListItsWordsSorted() {
    assertThat(words.sortedWords()).containsExactly("big", "pitch", "try", "woman", "women");
    assertThat(words.size()).isEqualTo(5);
  }

  @Test
  void shouldRejectWordsTheFeatureExtractorNeverYields() {
    assertThatThrownBy(() -> KnownWords.of(List.of("Pitch")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lower case");
    assertThatThrownBy(() -> KnownWords.of(List.of("ice cream")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("letters and apostrophes");
    assertThatThrownBy(() -> KnownWords.of(List.of("")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
