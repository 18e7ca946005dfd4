package io.genguard.stack.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModerationBenchmarkTest {
  @Test
  void shouldTakeTheMiddleRoundOrTheMeanOfTheTwoMiddleOnes() {
    assertThat(ModerationBenchmark.median(List.of(1.08, 0.71, 0.88))).isEqualTo(0.88);
    assertThat(ModerationBenchmark.median(List.of(0.9, 0.7, 1.1, 0.8))).isEqualTo(0.85, within());
    assertThat(ModerationBenchmark.median(List.of(0.93))).isEqualTo(0.93);
  }

  @Test
  void shouldReportEveryRoundAndTheMedianInItsJsonLine() {
    String json =
        new ModerationBenchmark.Result(
                "minilm-ensemble",
                2500,
                106,
                75.0,
                105.0,
                92.0,
                85.0,
                0.88,
                List.of(1.08, 0.71, 0.88),
                15000,
                30000,
                1.3)
            .json();
    assertThat(json)
        .contains("\"bare_scorer_texts_per_second\":92.0")
        .contains("\"bare_before\":75.0,\"bare_after\":105.0")
        .contains("\"job_vs_bare\":0.88")
        .contains("\"round_ratios\":[1.08,0.71,0.88]");
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
