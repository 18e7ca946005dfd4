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
        .hasMessageContaining(
            "needs a model folder: set GENGUARD_MODERATION_CLASSIFIER_DIR (--classifier-dir for score,"
                + " quality, audit replay and audit what-if)");
  }

  @Test
  void shouldDefaultToTheMiniLmEnsemble() {
    assertThat(ScorerConfig.defaults().name()).isEqualTo(MiniLmEnsembleScorer.NAME);
  }

  @Test
  void shouldNeverDefaultToTheBenchmarkScorer() {
    assertThat(ScorerConfig.defaults().name()).isNotEqualTo(TrivialBenchmarkScorer.NAME);
    assertThat(ScorerConfig.fromEnvironment("default", Map.of()).name())
        .isEqualTo(MiniLmEnsembleScorer.NAME);
  }

  @Test
  void shouldMarkTheBenchmarkScorerInItsVersion() {
    ContentScorer trivial = ScorerFactory.create(ScorerConfig.named("trivial-benchmark"));
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

  @Test
  void shouldRefuseALabelMapEntryThatWouldLeaveALabelCountingForNothing() {
    assertThatThrownBy(() -> ScorerConfig.parseLabelMap("toxic=;neutral=none"))
        .hasMessageContaining("label 'toxic' is mapped to no category")
        .hasMessageContaining("toxic=none to ignore it");
    assertThatThrownBy(() -> ScorerConfig.parseLabelMap("toxic=none,hate"))
        .hasMessageContaining("to none and to categories at once");
    assertThatThrownBy(() -> ScorerConfig.parseLabelMap("toxic=hate;toxic=none"))
        .hasMessageContaining("label 'toxic' is mapped twice");
  }

  @Test
  void shouldReadTheClassifierSettingsAndNameThemInErrors() {
    ScorerConfig config =
        ScorerConfig.fromEnvironment(
            "onnx-classifier",
            Map.of(
                ScorerConfig.CLASSIFIER_DIR, "/models/toxic",
                ScorerConfig.CLASSIFIER_LABELS, "toxic=harassment,hate; neutral=none",
                ScorerConfig.CLASSIFIER_MAX_TOKENS, "512"));
    assertThat(config.modelPath()).isEqualTo(java.nio.file.Path.of("/models/toxic"));
    assertThat(config.maxTokens()).isEqualTo(512);
    assertThat(config.labelMapSpec()).isEqualTo("neutral=none;toxic=hate,harassment");
    assertThat(ScorerConfig.parseLabelMap(config.labelMapSpec())).isEqualTo(config.labelMap());
    assertThatThrownBy(
            () ->
                ScorerConfig.fromEnvironment(
                    "onnx-classifier", Map.of(ScorerConfig.CLASSIFIER_LABELS, "toxic=rude")))
        .hasMessageContaining("GENGUARD_MODERATION_CLASSIFIER_LABELS: label 'toxic'");
    assertThatThrownBy(
            () ->
                ScorerConfig.fromOptions(
                    "onnx-classifier", Map.of("classifier-max-tokens", "many")))
        .hasMessageContaining("--classifier-max-tokens must be an integer");
    assertThatThrownBy(
            () ->
                ScorerConfig.fromEnvironment(
                    "minilm-ensemble", Map.of(ScorerConfig.CLASSIFIER_DIR, "/models/toxic")))
        .hasMessageContaining(
            "GENGUARD_MODERATION_CLASSIFIER_DIR is set, but the scorer is 'minilm-ensemble'");
    assertThat(
            ScorerConfig.fromEnvironment(
                    "keyword-baseline", Map.of(ScorerConfig.CLASSIFIER_DIR, " "))
                .modelPath())
        .as("blank counts as unset")
        .isNull();
  }
}
