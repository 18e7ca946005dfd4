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
  void shouldGiveCharacterNgramsOnlyToUnknownWords() {
    var vocabulary = KnownWords.of(java.util.List.of("fitch", "woman"));
    var gated = new HashedNgramFeatures(1 << 16, 2, 2, 5, vocabulary);
    // a text of known words only: word features and stems, nothing of "itch"
    var known = gated.extract("fitch woman");
    var wordsOnly = new HashedNgramFeatures(1 << 16, 2, 2, 5).extract("fitch woman");
    // three word n-grams ("fitch", "woman", "fitch woman") and each word's two stem n-grams
    // (" fit", " fitc"; " wom", " woma")
    assertThat(known.indices()).hasSize(7);
    assertThat(wordsOnly.indices().length).isGreaterThan(20);
    assertThat(wordsOnly.indices()).contains(known.indices());
    // an unknown word keeps its n-grams, at the weight it has without the vocabulary
    var mixed = gated.extract("fitch b1tch");
    var plain = features.extract("fitch b1tch");
    assertThat(mixed.indices().length).isGreaterThan(known.indices().length + 10);
    assertThat(plain.indices()).contains(mixed.indices());
    double norm = 0;
    for (float v : mixed.values()) {
      norm += v * v;
    }
    assertThat(norm).isLessThan(0.95);
    // no known word in the text: exactly the vector without a vocabulary
    assertThat(gated.extract("b1tch").values()).isEqualTo(features.extract("b1tch").values());
    // what the train command learns from: every word's n-grams
    assertThat(gated.withoutKnownWords().extract("fitch woman").values())
        .isEqualTo(features.extract("fitch woman").values());
    assertThat(gated.withoutKnownWords().knownWords()).isSameAs(KnownWords.NONE);
    // both vectors from one pass
    var both = gated.extractBoth("fitch b1tch");
    assertThat(both.withDictionary().values()).isEqualTo(mixed.values());
    assertThat(both.everyWord().values()).isEqualTo(plain.values());
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
