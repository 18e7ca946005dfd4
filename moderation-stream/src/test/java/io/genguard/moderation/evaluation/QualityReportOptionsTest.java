package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The quality command's scorer options: the imported classifier's flags reach it. */
class QualityReportOptionsTest {
  @Test
  void shouldGiveTheClassifierFlagsToTheImportedClassifier() {
    List<ScorerConfig> scorers =
        QualityReport.scorers(
            Map.of(
                "scorers", "keyword-baseline, onnx-classifier",
                "classifier-dir", "/models/toxic",
                "classifier-labels", "toxic=harassment;neutral=none",
                "classifier-max-tokens", "128"));

    assertThat(scorers)
        .extracting(ScorerConfig::name)
        .containsExactly("keyword-baseline", "onnx-classifier");
    assertThat(scorers.get(0).modelPath()).isNull();
    assertThat(scorers.get(1).modelPath()).isEqualTo(Path.of("/models/toxic"));
    assertThat(scorers.get(1).labelMapSpec()).isEqualTo("neutral=none;toxic=harassment");
    assertThat(scorers.get(1).maxTokens()).isEqualTo(128);
  }

  @Test
  void shouldRefuseClassifierFlagsWithoutTheImportedClassifier() {
    assertThatThrownBy(
            () ->
                QualityReport.scorers(
                    Map.of("scorers", "ngram-logistic", "classifier-dir", "/models/toxic")))
        .hasMessageContaining(
            "--classifier-dir is set, but --scorers does not name onnx-classifier");
    assertThat(
            QualityReport.run(
                new String[] {"--scorers", "ngram-logistic", "--classifier-dir", "/models/toxic"}))
        .isEqualTo(2);
  }
}
