package io.genguard.generator.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.genguard.generator.backend.SamplingSettings;
import org.junit.jupiter.api.Test;

class TokenSamplerTest {
  /** Probabilities 0.5, 0.3, 0.15, 0.05 as logits. */
  private static final float[] LOGITS = {
    (float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)
  };

  @Test
  void shouldBeGreedyAtTemperatureZero() {
    TokenSampler sampler = sampler(0.0, 0, 1.0, 1);
    for (int i = 0; i < 100; i++) {
      assertThat(sampler.next(LOGITS.clone())).isZero();
    }
  }

  @Test
  void shouldBeGreedyAtATemperatureSoSmallThatTheLogitsOverflow() {
    // Logits all negative here: each divided by the temperature is -infinity, and the weights were
    // NaN, which made every draw the last candidate, the least likely token.
    for (double temperature : new double[] {Double.MIN_VALUE, 1e-310, 1e-300}) {
      TokenSampler sampler = sampler(temperature, 0, 1.0, 7);
      for (int i = 0; i < 20; i++) {
        assertThat(sampler.next(LOGITS.clone())).as("temperature %s", temperature).isZero();
      }
    }
  }

  @Test
  void shouldFollowTheSoftmaxAtTemperatureOne() {
    int[] counts = draw(sampler(1.0, 0, 1.0, 2), LOGITS, 40_000);

    assertThat(counts[0] / 40_000.0).isCloseTo(0.50, within(0.015));
    assertThat(counts[1] / 40_000.0).isCloseTo(0.30, within(0.015));
    assertThat(counts[2] / 40_000.0).isCloseTo(0.15, within(0.015));
    assertThat(counts[3] / 40_000.0).isCloseTo(0.05, within(0.01));
  }

  @Test
  void shouldSharpenAtLowTemperature() {
    int[] counts = draw(sampler(0.5, 0, 1.0, 3), LOGITS, 20_000);

    // p^2 normalised: 0.25 / (0.25 + 0.09 + 0.0225 + 0.0025) = 0.685
    assertThat(counts[0] / 20_000.0).isCloseTo(0.685, within(0.02));
  }

  @Test
  void shouldKeepOnlyTheTopKTokens() {
    int[] counts = draw(sampler(1.0, 2, 1.0, 4), LOGITS, 20_000);

    assertThat(counts[2] + counts[3]).isZero();
    assertThat(counts[0] / 20_000.0).isCloseTo(0.5 / 0.8, within(0.02));
  }

  @Test
  void shouldPickTheTopKAmongManyTokens() {
    float[] logits = new float[5_000];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) Math.sin(i * 12.9898);
    }
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    TokenSampler sampler = sampler(0.01, 1, 1.0, 5);

    assertThat(sampler.next(logits.clone())).isEqualTo(best);
  }

  @Test
  void shouldKeepTheSmallestNucleusReachingTopP() {
    assertThat(draw(sampler(1.0, 0, 0.7, 6), LOGITS, 10_000))
        .containsExactly(draw(sampler(1.0, 0, 0.7, 6), LOGITS, 10_000));
    int[] counts = draw(sampler(1.0, 0, 0.7, 6), LOGITS, 10_000);
    assertThat(counts[2] + counts[3]).as("0.5 + 0.3 already reach 0.7").isZero();
    assertThat(counts[0] / 10_000.0).isCloseTo(0.5 / 0.8, within(0.02));
    assertThat(draw(sampler(1.0, 0, 0.5, 7), LOGITS, 1_000)[0]).isEqualTo(1_000);
  }

  @Test
  void shouldWidenTheNucleusBeyondTheFirstCandidatesWhenTheDistributionIsFlat() {
    float[] flat = new float[1_000];
    int[] counts = draw(sampler(1.0, 0, 0.5, 9), flat, 20_000);

    long distinct = java.util.Arrays.stream(counts).filter(c -> c > 0).count();
    assertThat(distinct)
        .as("half the mass of 1000 equal tokens is 500 tokens")
        .isBetween(450L, 500L);
  }

  @Test
  void shouldDrawTheWeighedTokensFromANucleusOfMoreThanTwoToThe20Candidates() {
    // A vocabulary larger than the 20 position bits the nucleus sort key had: the position was
    // cut, and top-p 0.9 drew token 520126 (the dominant one's position less 2^20 plus noise).
    int vocabulary = 1_200_000;
    int dominant = 1_048_600;
    float[] logits = new float[vocabulary];
    logits[dominant] = 100f;

    assertThat(sampler(0.0, 0, 1.0, 1).next(logits.clone())).as("greedy").isEqualTo(dominant);
    assertThat(sampler(1.0, 0, 1.0, 1).next(logits.clone())).as("top-p 1").isEqualTo(dominant);
    assertThat(sampler(1.0, 0, 0.9, 1).next(logits.clone())).as("top-p 0.9").isEqualTo(dominant);

    float[] twoHeavy = new float[vocabulary];
    twoHeavy[1_100_000] = 30f;
    twoHeavy[1_150_000] = 30f;
    int[] counts = draw(sampler(1.0, 0, 0.9, 2), twoHeavy, 40);
    assertThat(java.util.Arrays.stream(counts).sum()).isEqualTo(40);
    assertThat(counts[1_100_000] + counts[1_150_000]).as("only the nucleus").isEqualTo(40);
    assertThat(counts[1_100_000]).isPositive();
    assertThat(counts[1_150_000]).isPositive();
  }

  @Test
  void shouldKeepTheSortKeyOfVocabulariesUpToTwoToThe20SoSeedsDrawAsBefore() {
    assertThat(TokenSampler.positionBits(1)).isEqualTo(20);
    assertThat(TokenSampler.positionBits(1 << 20)).isEqualTo(20);
    assertThat(TokenSampler.positionBits((1 << 20) + 1)).isEqualTo(21);
    assertThat(TokenSampler.positionBits(Integer.MAX_VALUE)).isEqualTo(31);
  }

  @Test
  void shouldNeverDrawBannedTokens() {
    float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0f};
    int[] counts = draw(sampler(1.0, 0, 1.0, 8), logits, 1_000);

    assertThat(counts[0] + counts[2]).isZero();
    assertThatThrownBy(() -> sampler(1.0, 0, 1.0, 1).next(new float[] {Float.NEGATIVE_INFINITY}))
        .hasMessageContaining("No token has a finite logit");
  }

  @Test
  void shouldDrawOnlyAmongInfiniteLogitsWithEqualChances() {
    float inf = Float.POSITIVE_INFINITY;
    float[] logits = {3f, inf, 5f, inf, Float.NEGATIVE_INFINITY, inf, 7f};

    int[] counts = draw(sampler(1.0, 0, 1.0, 10), logits, 30_000);

    assertThat(counts[0] + counts[2] + counts[4] + counts[6]).isZero();
    for (int infinite : new int[] {1, 3, 5}) {
      assertThat(counts[infinite] / 30_000.0).isCloseTo(1.0 / 3, within(0.015));
    }
    assertThat(sampler(0.0, 0, 1.0, 11).next(logits.clone())).as("greedy: the first").isEqualTo(1);
    int[] topTwo = draw(sampler(0.7, 2, 1.0, 12), logits, 1_000);
    assertThat(topTwo[1] + topTwo[3])
        .as("top-k among them, ties to the lower index")
        .isEqualTo(1_000);
    assertThat(topTwo[1]).isPositive();
    assertThat(topTwo[3]).isPositive();
    int[] nucleus = draw(sampler(1.0, 0, 0.5, 13), logits, 3_000);
    assertThat(nucleus[0] + nucleus[2] + nucleus[4] + nucleus[6]).isZero();
    assertThat(java.util.Arrays.stream(nucleus).filter(c -> c > 0).count())
        .as("half the mass of three equal tokens: two of them")
        .isEqualTo(2);
  }

  @Test
  void shouldRefuseNaNLogitsInsteadOfSamplingAroundThem() {
    float[] logits = {0f, Float.NaN, 1f};

    assertThatThrownBy(() -> sampler(1.0, 0, 1.0, 1).next(logits.clone()))
        .isInstanceOf(TokenSampler.InvalidLogitsException.class)
        .hasMessage("the logit of token 1 of 3 is NaN; the model's output is not a distribution");
    assertThatThrownBy(() -> sampler(0.0, 0, 1.0, 1).next(logits.clone()))
        .as("greedy too")
        .isInstanceOf(TokenSampler.InvalidLogitsException.class);
  }

  @Test
  void shouldRepeatItselfForTheSameSeed() {
    assertThat(draw(sampler(1.0, 3, 0.9, 42), LOGITS, 500))
        .containsExactly(draw(sampler(1.0, 3, 0.9, 42), LOGITS, 500));
  }

  private static TokenSampler sampler(double temperature, int topK, double topP, long seed) {
    return new TokenSampler(new SamplingSettings(10, temperature, topK, topP, seed));
  }

  private static int[] draw(TokenSampler sampler, float[] logits, int times) {
    int[] counts = new int[logits.length];
    for (int i = 0; i < times; i++) {
      counts[sampler.next(logits.clone())]++;
    }
    return counts;
  }
}
