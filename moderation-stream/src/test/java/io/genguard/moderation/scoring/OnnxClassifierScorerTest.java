package io.genguard.moderation.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.nio.file.Files;
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
        ScorerConfig.fromEnvironment(
            "onnx-classifier",
            Map.of(
                ScorerConfig.CLASSIFIER_DIR,
                dir.resolve("tiny").toString(),
                ScorerConfig.CLASSIFIER_LABELS,
                "toxic=harassment,hate;neutral=none"));
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
        .hasMessageContaining("labels [neutral] are not in GENGUARD_MODERATION_CLASSIFIER_LABELS");
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
        .hasMessageContaining("absent is not a directory; GENGUARD_MODERATION_CLASSIFIER_DIR");
    ScorerConfig empty =
        new ScorerConfig(
            "onnx-classifier", dir, ScorerConfig.parseLabelMap("toxic=harassment"), 256);
    assertThatThrownBy(() -> OnnxClassifierScorer.load(empty))
        .hasMessageContaining("config.json does not exist");
  }

  private ScorerConfig config(Path folder, String labels, int maxTokens) {
    return new ScorerConfig(
        "onnx-classifier", folder, ScorerConfig.parseLabelMap(labels), maxTokens);
  }

  @Test
  void shouldReadTheEndOfALongText() throws Exception {
    TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG);
    // One run-on sentence of about 3,300 tokens, 2,100 characters short of what is scored: the
    // words that raise the score come last, after a dozen windows' worth of others.
    String benign = "a ".repeat(3000);
    String harmful = "zebra ".repeat(600);
    ScorerConfig config = config(dir.resolve("tiny"), "toxic=harassment;neutral=none", 256);
    try (OnnxClassifierScorer scorer = OnnxClassifierScorer.load(config);
        ContentScorer factory = ScorerFactory.create(config)) {
      double alone = scorer.score(harmful).score(Category.HARASSMENT);
      assertThat(alone).isGreaterThan(scorer.score(benign).score(Category.HARASSMENT) + 0.1);
      assertThat(scorer.score(benign + harmful).score(Category.HARASSMENT))
          .as("the last windows are read")
          .isCloseTo(alone, offset(1e-4));
      assertThat(factory.score(benign + harmful).score(Category.HARASSMENT))
          .isCloseTo(factory.score(harmful).score(Category.HARASSMENT), offset(1e-4));
    }
    assertThat(OnnxClassifierScorer.windowsFor(256) * 252)
        .as("the windows cover a screened text at 4 tokens a character")
        .isGreaterThanOrEqualTo(4 * TextScreening.DEFAULT_MAX_CHARS);
  }

  @Test
  void shouldRefuseAConfigWhoseLabelsDoNotMatchTheOutputs() throws Exception {
    TinyOnnxClassifier.write(
        dir.resolve("three"),
        "{\"id2label\": {\"0\": \"neutral\", \"1\": \"toxic\", \"2\": \"threat\"}}");
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    config(
                        dir.resolve("three"),
                        "neutral=none;toxic=harassment;threat=violence",
                        256)))
        .hasMessageContaining("has 2 outputs per text")
        .hasMessageContaining("id2label names 3 labels");
  }

  @Test
  void shouldRefuseId2labelKeysThatAreNotTheOutputIndices() throws Exception {
    TinyOnnxClassifier.write(
        dir.resolve("named"), "{\"id2label\": {\"LABEL_0\": \"neutral\", \"LABEL_1\": \"toxic\"}}");
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    config(dir.resolve("named"), "neutral=none;toxic=harassment", 256)))
        .hasMessageContaining("config.json: id2label key 'LABEL_0' is not an output index");
    TinyOnnxClassifier.write(
        dir.resolve("gap"), "{\"id2label\": {\"0\": \"neutral\", \"2\": \"toxic\"}}");
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    config(dir.resolve("gap"), "neutral=none;toxic=harassment", 256)))
        .hasMessageContaining("id2label keys [0, 2] are not 0..1");
  }

  @Test
  void shouldRefuseAModelThatTakesAnInputGenGuardDoesNotFeed() throws Exception {
    TinyOnnxClassifier.write(dir.resolve("positions"), CONFIG, false, "position_ids");
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    config(dir.resolve("positions"), "neutral=none;toxic=harassment", 256)))
        .hasMessageContaining("[attention_mask, input_ids, position_ids]")
        .hasMessageContaining("GenGuard feeds input_ids (required), attention_mask and");
  }

  @Test
  void shouldRefuseWindowsLongerThanTheModelsPositions() throws Exception {
    TinyOnnxClassifier.write(
        dir.resolve("short"),
        "{\"id2label\": {\"0\": \"neutral\", \"1\": \"toxic\"}, \"max_position_embeddings\": 128}");
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    config(dir.resolve("short"), "neutral=none;toxic=harassment", 256)))
        .hasMessageContaining("max_position_embeddings 128, fewer than the 256 tokens")
        .hasMessageContaining("set GENGUARD_MODERATION_CLASSIFIER_MAX_TOKENS");
    try (OnnxClassifierScorer scorer =
        OnnxClassifierScorer.load(
            config(dir.resolve("short"), "neutral=none;toxic=harassment", 128))) {
      assertThat(scorer.score("hello").unsafe()).isBetween(0.0, 1.0);
    }
  }

  @Test
  void shouldRefuseALabelMapThatCoversNoCategory() throws Exception {
    TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG);
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    config(dir.resolve("tiny"), "neutral=none;toxic=none", 256)))
        .hasMessageContaining("maps every label of the classifier [neutral, toxic] to none")
        .hasMessageContaining("would score every text 0");
    assertThatThrownBy(
            () ->
                OnnxClassifierScorer.load(
                    new ScorerConfig("onnx-classifier", dir.resolve("tiny"), Map.of(), 256)))
        .hasMessageContaining("needs a label map: set GENGUARD_MODERATION_CLASSIFIER_LABELS");
  }

  @Test
  void shouldNameEverythingThatDecidesTheScoresInItsVersion() throws Exception {
    Path tiny = TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG);
    String swapped;
    String mapped;
    try (OnnxClassifierScorer a =
            OnnxClassifierScorer.load(config(tiny, "toxic=harassment;neutral=hate", 256));
        OnnxClassifierScorer b =
            OnnxClassifierScorer.load(config(tiny, "toxic=hate;neutral=harassment", 256));
        OnnxClassifierScorer c =
            OnnxClassifierScorer.load(config(tiny, "toxic=harassment;neutral=hate", 128))) {
      mapped = a.versions().get("onnx-classifier");
      swapped = b.versions().get("onnx-classifier");
      assertThat(a.score("zebra").score(Category.HATE))
          .isNotEqualTo(b.score("zebra").score(Category.HATE));
      assertThat(mapped).isNotEqualTo(swapped).startsWith("tiny+sha256:");
      assertThat(c.versions().get("onnx-classifier")).isNotEqualTo(mapped);
    }
    // The same files and map give the same version, wherever the folder is.
    Path copy = TinyOnnxClassifier.write(dir.resolve("copy").resolve("tiny"), CONFIG);
    try (OnnxClassifierScorer again =
        OnnxClassifierScorer.load(config(copy, "toxic=harassment;neutral=hate", 256))) {
      assertThat(again.versions().get("onnx-classifier")).isEqualTo(mapped);
    }
    // Another tokenizer file, another id2label order: another version.
    Files.writeString(
        copy.resolve("tokenizer.json"), Files.readString(copy.resolve("tokenizer.json")) + "\n");
    try (OnnxClassifierScorer tokenizer =
        OnnxClassifierScorer.load(config(copy, "toxic=harassment;neutral=hate", 256))) {
      assertThat(tokenizer.versions().get("onnx-classifier")).isNotEqualTo(mapped);
    }
    Path reordered =
        TinyOnnxClassifier.write(
            dir.resolve("reordered").resolve("tiny"),
            "{\"id2label\": {\"0\": \"toxic\", \"1\": \"neutral\"}}");
    try (OnnxClassifierScorer order =
        OnnxClassifierScorer.load(config(reordered, "toxic=harassment;neutral=hate", 256))) {
      assertThat(order.versions().get("onnx-classifier")).isNotEqualTo(mapped);
    }
  }

  @Test
  void shouldNameTheExternalWeightsInItsVersion() throws Exception {
    Path external = TinyOnnxClassifier.write(dir.resolve("tiny"), CONFIG, true);
    String before;
    double scoreBefore;
    try (OnnxClassifierScorer scorer =
        OnnxClassifierScorer.load(config(external, "toxic=harassment;neutral=none", 256))) {
      before = scorer.versions().get("onnx-classifier");
      scoreBefore = scorer.score("zebra").unsafe();
    }
    Files.write(external.resolve("weights.bin"), TinyOnnxClassifier.floats(1f, -1f));
    try (OnnxClassifierScorer scorer =
        OnnxClassifierScorer.load(config(external, "toxic=harassment;neutral=none", 256))) {
      assertThat(scorer.score("zebra").unsafe())
          .as("the weights are read from weights.bin")
          .isNotCloseTo(scoreBefore, offset(1e-3));
      assertThat(scorer.versions().get("onnx-classifier"))
          .as("model.onnx is unchanged; its external weights changed")
          .isNotEqualTo(before);
    }
  }
}
