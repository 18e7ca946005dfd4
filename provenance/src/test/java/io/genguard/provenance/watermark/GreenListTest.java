package io.genguard.provenance.watermark;

import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_A;
import static io.genguard.provenance.watermark.WatermarkFixtures.KEY_B;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GreenListTest {
  private static final WatermarkParameters DEFAULTS = WatermarkParameters.DEFAULTS;

  @Test
  void shouldMakeAboutGammaOfTheVocabularyGreen() {
    GreenList greenList = new GreenList(KEY_A, DEFAULTS);
    int vocabulary = 50_000;
    GreenList.ContextSeed seed = greenList.seed(new int[] {42}, 1);
    int green = 0;
    for (int token = 0; token < vocabulary; token++) {
      if (seed.isGreen(token)) {
        green++;
      }
    }
    // Binomial(50000, 0.25): mean 12500, sd about 97; six sd either side.
    assertThat(green).isBetween(12_500 - 600, 12_500 + 600);
  }

  @Test
  void shouldDrawADifferentGreenListForEachContextAndKey() {
    GreenList a = new GreenList(KEY_A, DEFAULTS);
    GreenList b = new GreenList(KEY_B, DEFAULTS);
    List<Integer> contextOne = greens(a, 1);
    List<Integer> contextTwo = greens(a, 2);
    List<Integer> otherKey = greens(b, 1);

    assertThat(contextOne).isNotEqualTo(contextTwo);
    assertThat(contextOne).isNotEqualTo(otherKey);
    // Independent lists overlap in about gamma of their members.
    long shared = contextOne.stream().filter(contextTwo::contains).count();
    assertThat((double) shared / contextOne.size()).isBetween(0.15, 0.35);
  }

  @Test
  void shouldGiveTheSameAnswerOnEveryInstance() {
    assertThat(greens(new GreenList(KEY_A, DEFAULTS), 7))
        .isEqualTo(greens(new GreenList(KEY_A, DEFAULTS), 7));
  }

  @Test
  void shouldKeepTheConstructionPortable() {
    // Pinned output of the documented construction (HMAC-SHA256 seed, SplitMix64 mixing): if this
    // changes, text watermarked by earlier builds is no longer detectable.
    assertThat(greens(new GreenList(KEY_A, DEFAULTS), 1).subList(0, 8))
        .containsExactly(PINNED_GREENS_KEY_A_CONTEXT_1);
  }

  @Test
  void shouldUseThePreviousHTokensAsContext() {
    GreenList wide = new GreenList(KEY_A, new WatermarkParameters(0.25, 2.0, 2));
    int[] tokens = {5, 6, 7};
    assertThat(wide.seed(tokens, 3).isGreen(99))
        .isEqualTo(wide.seed(new int[] {6, 7}, 2).isGreen(99));
    assertThatThrownBy(() -> wide.seed(tokens, 1))
        .hasMessageContaining("needs 2 previous tokens, only 1");
  }

  @Test
  void shouldNeverShowTheSeedOrSecret() {
    assertThat(new GreenList(KEY_A, DEFAULTS).seed(new int[] {1}, 1).toString())
        .doesNotContainPattern("-?\\d{5,}");
    assertThat(KEY_A.toString()).doesNotContain("secret-material").contains("key-a");
  }

  /** Computed independently with Python's hmac/hashlib from the construction in the Javadoc. */
  static final Integer[] PINNED_GREENS_KEY_A_CONTEXT_1 = {3, 4, 6, 9, 11, 12, 21, 23};

  private static List<Integer> greens(GreenList greenList, int context) {
    GreenList.ContextSeed seed = greenList.seed(new int[] {context}, 1);
    List<Integer> greens = new ArrayList<>();
    for (int token = 0; token < 2000; token++) {
      if (seed.isGreen(token)) {
        greens.add(token);
      }
    }
    return greens;
  }
}
