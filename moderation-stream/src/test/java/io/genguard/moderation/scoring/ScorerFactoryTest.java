package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScorerFactoryTest {
  @Test
  void shouldCreateEveryScorerThatShipsInTheJar() {
    for (String name : ScorerFactory.NAMES) {
      if (name.equals(OnnxClassifierScorer.NAME)) {
        continue; // needs a user's model folder: OnnxClassifierScorerTest
      }
      try (ContentScorer scorer = ScorerFactory.create(ScorerConfig.named(name))) {
        assertThat(scorer.score("hello there").categories()).hasSize(Category.values().length);
        assertThat(scorer.versions()).isNotEmpty();
      }
    }
  }

  @Test
  void shouldAskForAModelFolderWhenAnImportedClassifierHasNone() {
    assertThatThrownBy(() -> ScorerFactory.create(ScorerConfig.named("onnx-classifier")))
        .hasMessageContaining("needs genguard.scorer.model-path");
  }

  @Test
  void shouldDefaultToTheMiniLmEnsemble() {
    assertThat(ScorerConfig.defaults().name()).isEqualTo(MiniLmEnsembleScorer.NAME);
  }

  @Test
  void shouldNeverDefaultToTheBenchmarkScorer() {
    assertThat(ScorerConfig.defaults().name()).isNotEqualTo(TrivialBenchmarkScorer.NAME);
    assertThat(ScorerConfig.fromMap(Map.of()).name()).isNotEqualTo(TrivialBenchmarkScorer.NAME);
  }

  @Test
  void shouldMarkTheBenchmarkScorerInItsVersion() {
    ContentScorer trivial =
        ScorerFactory.create(
            ScorerConfig.fromMap(Map.of(ScorerConfig.KEY_NAME, "trivial-benchmark")));
    assertThat(trivial.versions().get("trivial-benchmark")).contains("benchmark-only");
    assertThat(trivial.score("I will kill you").unsafe()).isZero();
  }

  @Test
  void shouldListKnownScorersWhenTheNameIsUnknown() {
    assertThatThrownBy(() -> ScorerFactory.create(ScorerConfig.named("perspective")))
        .hasMessageContaining("Unknown scorer 'perspective'")
        .hasMessageContaining("keyword-baseline");
  }

  @Test
  void shouldParseALabelMapForImportedClassifiers() {
    assertThat(
            ScorerConfig.parseLabelMap("toxic=harassment; threat=violence,harassment;neutral=none"))
        .containsEntry("toxic", Set.of(Category.HARASSMENT))
        .containsEntry("threat", Set.of(Category.VIOLENCE, Category.HARASSMENT))
        .containsEntry("neutral", Set.of());
    assertThatThrownBy(() -> ScorerConfig.parseLabelMap("toxic=rude"))
        .hasMessageContaining("label 'toxic'")
        .hasMessageContaining("Unknown category 'rude'");
  }
}
