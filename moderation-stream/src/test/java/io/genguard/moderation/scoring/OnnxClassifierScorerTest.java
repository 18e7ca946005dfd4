package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bring-your-own-classifier path, end to end through DJL's ONNX Runtime engine and tokenizer,
 * with a hand-built ONNX classifier whose logits are known in closed form.
 */
class OnnxClassifierScorerTest {
  private static final String CONFIG =
      """
      {"architectures": ["TinyClassifier"], "id2label": {"0": "neutral", "1": "toxic"},
       "label2id": {"neutral": 0, "toxic": 1}}
      """;

  @TempDir Path dir;

  @Test
  void shouldScoreThroughTheOnnxModelAndMapLabelsToCategories() throws Exception {
    TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG);
    ScorerConfig config =
        ScorerConfig.fromMap(
            Map.of(
                ScorerConfig.KEY_NAME, "onnx-classifier",
                ScorerConfig.KEY_MODEL_PATH, dir.resolve("tiny").toString(),
                ScorerConfig.KEY_LABEL_MAP, "toxic=harassment,hate;neutral=none"));
    List<String> texts =
        List.of("zebra xylophone yoga", "a", "the quick brown fox jumps over the lazy dog");
    try (ContentScorer created = ScorerFactory.create(config);
        OnnxTextModel reference = OnnxTextModel.load(dir.resolve("tiny"), 256, 8, 32)) {
      // The factory scores sentence by sentence too (SentenceMaxScorer); these are one sentence.
      OnnxClassifierScorer scorer = (OnnxClassifierScorer) ((SentenceMaxScorer) created).wrapped();
      List<ContentScores> scores = scorer.scoreBatch(texts);
      for (int i = 0; i < texts.size(); i++) {
        double[] logits = TinyOnnxClassifier.logits(reference.windows(texts.get(i)).get(0));
        double toxic =
            OnnxClassifierScorer.softmax(new float[] {(float) logits[0], (float) logits[1]})[1];
        ContentScores s = scores.get(i);
        assertThat(s.score(Category.HARASSMENT)).as(texts.get(i)).isCloseTo(toxic, offset(1e-4));
        assertThat(s.score(Category.HATE)).isCloseTo(toxic, offset(1e-4));
        assertThat(s.unsafe()).isCloseTo(toxic, offset(1e-4));
        assertThat(s.score(Category.VIOLENCE)).isZero();
      }
      // Different texts really produce different outputs (the model reads the tokens).
      assertThat(scores.get(0).unsafe()).isNotEqualTo(scores.get(1).unsafe());
      assertThat(scorer.versions().get("onnx-classifier"))
          .contains("softmax")
          .contains("covers [hate, harassment]");
    }
  }

  @Test
  void shouldTakeTheWorstWindowOfALongText() throws Exception {
    TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG);
    ScorerConfig config =
        new ScorerConfig(
            "onnx-classifier",
            dir.resolve("tiny"),
            ScorerConfig.parseLabelMap("toxic=harassment;neutral=none"),
            16);
    String text =
        "a a a a a a a a a a a a a a a a a a a a zebra zebra zebra zebra zebra zebra zebra";
    try (OnnxClassifierScorer scorer = OnnxClassifierScorer.load(config);
        OnnxTextModel reference = OnnxTextModel.load(dir.resolve("tiny"), 16, 8, 32)) {
      List<long[]> windows = reference.windows(text);
      assertThat(windows).hasSizeGreaterThan(1);
      double best = 0;
      for (long[] window : windows) {
        double[] logits = TinyOnnxClassifier.logits(window);
        best =
            Math.max(
                best,
                OnnxClassifierScorer.softmax(new float[] {(float) logits[0], (float) logits[1]})[
                    1]);
      }
      assertThat(scorer.score(text).score(Category.HARASSMENT)).isCloseTo(best, offset(1e-4));
    }
  }

  @Test
  void shouldUseSigmoidsForMultiLabelClassifiers() throws Exception {
    TinyOnnxClassifier.write(
        dir.resolve("multi"),
        """
        {"id2label": {"0": "insult", "1": "threat"}, "problem_type": "multi_label_classification"}
        """);
    ScorerConfig config =
        new ScorerConfig(
            "onnx-classifier",
            dir.resolve("multi"),
            ScorerConfig.parseLabelMap("insult=harassment;threat=violence"),
            256);
    try (OnnxClassifierScorer scorer = OnnxClassifierScorer.load(config);
        OnnxTextModel reference = OnnxTextModel.load(dir.resolve("multi"), 256, 8, 32)) {
      double[] logits = TinyOnnxClassifier.logits(reference.windows("hello there").get(0));
      ContentScores s = scorer.score("hello there");
      assertThat(s.score(Category.HARASSMENT))
          .isCloseTo(PlattCalibration.sigmoid(logits[0]), offset(1e-4));
      assertThat(s.score(Category.VIOLENCE))
          .isCloseTo(PlattCalibration.sigmoid(logits[1]), offset(1e-4));
    }
  }

  @Test
  void shouldRefuseALabelTheConfigurationDoesNotMap() throws Exception {
    TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG);
    ScorerConfig config =
        new ScorerConfig(
            "onnx-classifier",
            dir.resolve("tiny"),
            ScorerConfig.parseLabelMap("toxic=harassment"),
            256);
    assertThatThrownBy(() -> OnnxClassifierScorer.load(config))
        .hasMessageContaining("labels [neutral] are not in genguard.scorer.label-map");
  }

  @Test
  void shouldNameTheMissingFileOfAnIncompleteFolder() {
    ScorerConfig config =
        new ScorerConfig(
            "onnx-classifier",
            dir.resolve("absent"),
            ScorerConfig.parseLabelMap("toxic=harassment"),
            256);
    assertThatThrownBy(() -> OnnxClassifierScorer.load(config))
        .hasMessageContaining("config.json does not exist");
  }
}
