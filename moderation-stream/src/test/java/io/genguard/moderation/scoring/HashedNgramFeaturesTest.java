package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HashedNgramFeaturesTest {
  private final HashedNgramFeatures features = new HashedNgramFeatures(1 << 16, 2, 2, 5);

  @Test
  void shouldProduceUnitNormSortedVectors() {
    var x = features.extract("The quick brown fox jumps over the lazy dog");
    double norm = 0;
    for (float v : x.values()) {
      norm += v * v;
    }
    assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.02));
    for (int i = 1; i < x.indices().length; i++) {
      assertThat(x.indices()[i]).isGreaterThan(x.indices()[i - 1]);
    }
  }

  @Test
  void shouldIgnoreTwitterFormattingAndCase() {
    var tweet = features.extract("RT @someone: You ARE great http://t.co/abc");
    var plain = features.extract("you are great");
    assertThat(tweet.indices()).isEqualTo(plain.indices());
    assertThat(tweet.values()).isEqualTo(plain.values());
  }

  @Test
  void shouldReturnAnEmptyVectorForTextWithoutWords() {
    assertThat(features.extract("  ... !!! ").indices()).isEmpty();
  }

  @Test
  void shouldRejectDimensionsThatAreNotAPowerOfTwo() {
    assertThatThrownBy(() -> new HashedNgramFeatures(1000, 2, 2, 5))
        .hasMessageContaining("power of two");
  }

  @Test
  void shouldSplitWordsOnPunctuationButKeepApostrophes() {
    assertThat(HashedNgramFeatures.words("don't stop-believing, 'quoted'"))
        .containsExactly("don't", "stop", "believing", "quoted");
  }
}
