package io.genguard.generator.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.SamplingSettings;
import io.genguard.provenance.text.WordTokenizer;
import io.genguard.provenance.watermark.DetectionStatus;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import io.genguard.provenance.watermark.WatermarkParameters;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs a TorchScript model the test builds through DJL's PyTorch engine on the CPU, offline. */
class DjlBackendTest {
  private static final WatermarkKey KEY =
      new WatermarkKey(
          "wm-djl", "djl-backend-test-key-0123456789ab".getBytes(StandardCharsets.UTF_8));

  @TempDir static Path modelDirectory;
  private static BigramTorchScriptModel bigram;
  private static DjlBackend backend;

  @BeforeAll
  static void buildAndLoadModel() throws Exception {
    bigram = BigramTorchScriptModel.fromText();
    bigram.writeTo(modelDirectory);
    backend =
        new DjlBackend(
            modelDirectory, "auto", 8, 64, KEY, WatermarkParameters.DEFAULTS, Clock.systemUTC());
    backend.warmUp();
  }

  @AfterAll
  static void closeModel() {
    backend.close();
  }

  @Test
  void shouldContinueGreedilyExactlyAsTheModelsLogitsSay() throws Exception {
    Generation generation = generate(request("In short, the", 6, 0.0, 1), false);

    assertThat(WordTokenizer.tokenize(generation.text()))
        .isEqualTo(bigram.greedy("the", 6))
        .isNotEmpty();
    assertThat(generation.modelName()).isEqualTo("tiny-bigram");
    assertThat(generation.modelVersion()).isEqualTo("test-1");
    assertThat(generation.device()).isEqualTo("cpu");
    assertThat(generation.promptTokens()).isEqualTo(4);
  }

  @Test
  void shouldGiveEveryRequestOfABatchWhatItWouldGetAlone() throws Exception {
    List<BackendRequest> batch = new ArrayList<>();
    String[] prompts = {
      "the",
      "the council adopts",
      "member states",
      "energy",
      "a",
      "today .",
      "votes on the",
      "the report"
    };
    for (int i = 0; i < prompts.length; i++) {
      batch.add(request(prompts[i], 10 + i, 0.9, 100 + i));
    }

    List<BackendOutcome> together = backend.generateBatch(batch, true);

    for (int i = 0; i < batch.size(); i++) {
      Generation alone = generate(batch.get(i), true);
      assertThat(((BackendOutcome.Generated) together.get(i)).generation().text())
          .as("request %d", i)
          .isEqualTo(alone.text());
    }
  }

  @Test
  void shouldSampleTheSameTextForTheSameSeed() throws Exception {
    assertThat(generate(request("the", 30, 1.0, 5), true).text())
        .isEqualTo(generate(request("the", 30, 1.0, 5), true).text())
        .isNotEqualTo(generate(request("the", 30, 1.0, 6), true).text());
  }

  @Test
  void shouldEmbedAWatermarkTheTextDetectorFinds(@TempDir Path endless) throws Exception {
    // Without an end-of-text entry every text runs to maxTokens.
    bigram.writeTo(endless, false);
    DjlBackend backend =
        new DjlBackend(endless, "cpu", 8, 64, KEY, WatermarkParameters.DEFAULTS, Clock.systemUTC());
    Generation generation = generate(backend, request("the", 200, 1.0, 9), true);
    WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(KEY));

    assertThat(generation.watermark().keyId()).isEqualTo("wm-djl");
    assertThat(detector.detect(generation.text(), "wm-djl", WatermarkParameters.DEFAULTS).status())
        .isEqualTo(DetectionStatus.WATERMARKED);
    assertThat(generation.outputTokens()).isEqualTo(200);
    Generation plain = generate(backend, request("the", 200, 1.0, 9), false);
    assertThat(detector.detect(plain.text(), "wm-djl", WatermarkParameters.DEFAULTS).status())
        .isEqualTo(DetectionStatus.NOT_DETECTED);
    backend.close();
  }

  @Test
  void shouldNeverEmitSpecialEntries() throws Exception {
    Generation generation = generate(request("zebra crossing", 100, 2.0, 3), true);

    assertThat(generation.text()).doesNotContain("<unk>").doesNotContain("</s>");
  }

  @Test
  void shouldTakeTheModelFileForItsDirectoryAndRefuseAnyOtherFile(@TempDir Path dir)
      throws Exception {
    Path other = Files.writeString(dir.resolve("gpt.pt"), "not the model");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new DjlBackend(
                    other, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC()))
        .hasMessageContaining("is a file other than model.pt; name the model directory");
    Path model = Files.writeString(dir.resolve("model.pt"), "x");
    assertThat(
            new DjlBackend(
                    model, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC())
                .defaultModel())
        .isEqualTo(dir.getFileName().toString());
    // A relative path is taken from the working directory.
    Path relative = Path.of("").toAbsolutePath().relativize(model.toAbsolutePath());
    assertThat(
            new DjlBackend(
                    relative, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC())
                .defaultModel())
        .isEqualTo(dir.getFileName().toString());
  }

  @Test
  void shouldFailClearlyWhenTheModelDirectoryIsIncomplete(@TempDir Path empty) {
    DjlBackend missing =
        new DjlBackend(empty, "auto", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC());

    BackendOutcome outcome = missing.generate(List.of(request("the", 5, 1.0, 1))).get(0);

    BackendException error = ((BackendOutcome.Failed) outcome).error();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_UNAVAILABLE);
    assertThat(error.getMessage()).contains("has no model.pt");
  }

  @Test
  void shouldRefuseAVocabularyLargerThanTheLimitBeforeReadingIt(@TempDir Path huge)
      throws Exception {
    Files.writeString(huge.resolve(DjlModelDirectory.MODEL_FILE), "not read");
    try (RandomAccessFile vocabulary =
        new RandomAccessFile(huge.resolve(DjlModelDirectory.VOCABULARY_FILE).toFile(), "rw")) {
      vocabulary.setLength(DjlBackend.MAX_VOCABULARY_BYTES + 1L);
    }
    DjlBackend tooBig =
        new DjlBackend(huge, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC());

    assertThatThrownBy(tooBig::warmUp)
        .isInstanceOf(BackendException.class)
        .hasMessageContaining(DjlModelDirectory.VOCABULARY_FILE)
        .hasMessageContaining(
            "has "
                + (DjlBackend.MAX_VOCABULARY_BYTES + 1L)
                + " bytes, more than the limit of "
                + DjlBackend.MAX_VOCABULARY_BYTES);
  }

  @Test
  void shouldRefuseAVocabularyWithNothingToSample(@TempDir Path special) throws Exception {
    Files.writeString(special.resolve(DjlModelDirectory.MODEL_FILE), "not read");
    Files.writeString(special.resolve(DjlModelDirectory.VOCABULARY_FILE), "<pad>\n<unk>\n");
    DjlBackend nothing =
        new DjlBackend(
            special, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC());

    assertThatThrownBy(nothing::warmUp)
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("vocab.txt")
        .hasMessageContaining("has no entry the model could generate");
  }

  @Test
  void shouldNameAMalformedPropertiesFile(@TempDir Path malformed) throws Exception {
    Path properties = malformed.resolve(DjlModelDirectory.PROPERTIES_FILE);
    Files.writeString(properties, "name=tiny\\u12\n");

    assertThatThrownBy(
            () ->
                new DjlBackend(
                    malformed, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC()))
        .hasMessageContaining("Cannot read " + properties)
        .hasMessageContaining("Malformed");
  }

  @Test
  void shouldRejectAModelWhoseLogitsDoNotMatchTheVocabulary(@TempDir Path broken) throws Exception {
    bigram.writeTo(broken);
    Files.writeString(broken.resolve(DjlModelDirectory.VOCABULARY_FILE), "the\ncouncil\n");
    DjlBackend mismatched =
        new DjlBackend(broken, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, Clock.systemUTC());

    BackendOutcome outcome = mismatched.generate(List.of(request("the", 5, 1.0, 1))).get(0);

    BackendException error = ((BackendOutcome.Failed) outcome).error();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_ERROR);
    assertThat(error.getMessage()).contains("expected (1, 1, 2)");
    mismatched.close();
  }

  @Test
  void shouldFailARequestWhoseModelGivesNaNLogitsNamingTheModel(@TempDir Path broken)
      throws Exception {
    // Identity weights but a projection whose second column is NaN: token 1's logit is always NaN.
    int v = 3;
    float[] identity = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    float[] projection = identity.clone();
    for (int d = 0; d < v; d++) {
      projection[d * v + 1] = Float.NaN;
    }
    TorchScriptLanguageModelWriter.writeModelDirectory(
        broken,
        new TorchScriptLanguageModelWriter.Weights(
            v, v, identity, identity, new float[v * v], projection),
        List.of("the", "report", "today"));
    Files.writeString(
        broken.resolve(DjlModelDirectory.PROPERTIES_FILE), "name=nan-lm\nversion=1\n");
    DjlBackend nan =
        new DjlBackend(broken, "cpu", 8, 64, KEY, WatermarkParameters.DEFAULTS, Clock.systemUTC());

    List<BackendOutcome> outcomes =
        nan.generate(List.of(request("the", 5, 1.0, 1), request("the report", 5, 0.0, 2)));

    for (BackendOutcome outcome : outcomes) {
      assertThat(outcome).isInstanceOf(BackendOutcome.Failed.class);
      BackendException error = ((BackendOutcome.Failed) outcome).error();
      assertThat(error.code()).isEqualTo(FailureCode.BACKEND_ERROR);
      assertThat(error.getMessage())
          .isEqualTo(
              "DJL model 'nan-lm' gave unusable logits after 0 generated tokens: the logit of"
                  + " token 1 of 3 is NaN; the model's output is not a distribution");
    }
    nan.close();
  }

  private static Generation generate(BackendRequest request, boolean watermark)
      throws BackendException {
    return generate(backend, request, watermark);
  }

  private static Generation generate(DjlBackend on, BackendRequest request, boolean watermark)
      throws BackendException {
    BackendOutcome outcome = on.generateBatch(List.of(request), watermark).get(0);
    assertThat(outcome).isInstanceOf(BackendOutcome.Generated.class);
    return ((BackendOutcome.Generated) outcome).generation();
  }

  private static BackendRequest request(
      String prompt, int maxTokens, double temperature, long seed) {
    return new BackendRequest(
        "req",
        prompt,
        "tiny-bigram",
        new SamplingSettings(maxTokens, temperature, 0, 1.0, seed),
        Instant.now().plusSeconds(60));
  }
}
