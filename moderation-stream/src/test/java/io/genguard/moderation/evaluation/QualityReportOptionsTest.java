package io.genguard.moderation.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quality command's scorer options: the imported classifier's flags reach it. */
class QualityReportOptionsTest {
  /**
   * A folder with the files the classifier's loader reads: the labels of its config.json (neutral,
   * toxic) are checked against the label map, the model and tokenizer are not read here.
   */
  private static Path classifierFolder(Path dir) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("toxic"));
    for (String file : List.of("model.onnx", "tokenizer.json")) {
      Files.writeString(folder.resolve(file), "");
    }
    Files.writeString(
        folder.resolve("config.json"), "{\"id2label\": {\"0\": \"neutral\", \"1\": \"toxic\"}}");
    return folder;
  }

  @Test
  void shouldGiveTheClassifierFlagsToTheImportedClassifier(@TempDir Path dir) throws Exception {
    Path folder = classifierFolder(dir);
    List<ScorerConfig> scorers =
        QualityReport.scorers(
            Map.of(
                "scorers", "keyword-baseline, onnx-classifier",
                "classifier-dir", folder.toString(),
                "classifier-labels", "toxic=harassment;neutral=none",
                "classifier-max-tokens", "128"));

    assertThat(scorers)
        .extracting(ScorerConfig::name)
        .containsExactly("keyword-baseline", "onnx-classifier");
    assertThat(scorers.get(0).modelPath()).isNull();
    assertThat(scorers.get(1).modelPath()).isEqualTo(folder);
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

  @Test
  void shouldRefuseAClassifierFolderWithoutTheLoadersFiles(@TempDir Path dir) throws Exception {
    Path folder = classifierFolder(dir);
    Files.delete(folder.resolve("tokenizer.json"));
    assertThatThrownBy(
            () ->
                QualityReport.scorers(
                    Map.of("scorers", "onnx-classifier", "classifier-dir", folder.toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "--classifier-dir "
                + folder
                + " has no tokenizer.json; the classifier needs model.onnx, tokenizer.json,"
                + " config.json");
  }

  @Test
  void shouldRefuseAnOutFileItCouldNotWriteBeforeMeasuring(@TempDir Path dir) throws Exception {
    // Before, the report ran its minutes, then failed to write and printed nothing: all lost.
    String noData = dir.resolve("no-data").toString();
    assertThat(
            QualityReport.run(
                new String[] {
                  "--data-dir", noData, "--out", dir.resolve("missing/QUALITY.md").toString()
                }))
        .isEqualTo(2);
    assertThat(QualityReport.run(new String[] {"--data-dir", noData, "--out", dir.toString()}))
        .isEqualTo(2);
    assertThatThrownBy(() -> QualityReport.requireWritableOutFile(dir))
        .hasMessageContaining("is a directory");
  }

  @Test
  void shouldReplaceTheReportWholeAndLeaveNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("QUALITY.md");
    Files.writeString(out, "old report");
    QualityReport.writeReplacing(out, "new report");
    assertThat(Files.readString(out)).isEqualTo("new report");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(out);
    }
  }
}
