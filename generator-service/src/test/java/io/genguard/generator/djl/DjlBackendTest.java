package io.genguard.generator.djl;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
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
import io.genguard.testsupport.MovingClock;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    assertThat(error.getMessage())
        .as("tenants see an error id; the directory and the detail go to the log")
        .contains("could not be loaded (error id ")
        .doesNotContain(empty.toString())
        .doesNotContain("model.pt");
    assertThat(error.getCause().getMessage())
        .contains(empty.toString())
        .contains("has no model.pt");
  }

  @Test
  void shouldCloseWhatAFailedLoadOpened(@TempDir Path corrupt) throws Exception {
    bigram.writeTo(corrupt, false);
    Files.write(corrupt.resolve(DjlModelDirectory.MODEL_FILE), new byte[] {1, 2, 3, 4});
    MovingClock clock = new MovingClock(Instant.now());
    DjlBackend broken =
        new DjlBackend(corrupt, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, clock);
    int before = nativeManagersOfTheEngine();

    for (int attempt = 0; attempt < 20; attempt++) {
      assertThatThrownBy(broken::warmUp)
          .isInstanceOf(BackendException.class)
          .hasRootCauseInstanceOf(ai.djl.engine.EngineException.class)
          .cause()
          .hasMessageContaining("DJL could not load " + corrupt.resolve("model.pt"));
      clock.advance(DjlBackend.MAX_LOAD_RETRY);
    }

    // Each failed load left its model's native manager with the engine: 20 more here, one per
    // failed batch in service.
    assertThat(nativeManagersOfTheEngine()).isEqualTo(before);
    broken.close();
  }

  @Test
  void shouldRememberAFailedLoadAndTryAgainWithBackOffUntilTheModelIsThere(@TempDir Path later)
      throws Exception {
    MovingClock clock = new MovingClock(Instant.now());
    DjlBackend waiting =
        new DjlBackend(later, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, clock);

    // The folder is not mounted yet: the load fails, and the failure is remembered.
    assertThatThrownBy(waiting::warmUp).cause().hasMessageContaining("has no model.pt");
    assertThat(waiting.ready()).isFalse();
    bigram.writeTo(later);
    BackendOutcome meanwhile = waiting.generate(List.of(request("the", 5, 0.0, 1))).get(0);
    BackendException error = ((BackendOutcome.Failed) meanwhile).error();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_UNAVAILABLE);
    assertThat(error.getMessage())
        .as("not tried again before its time, so the mount is not seen yet")
        .startsWith(
            "DJL model '"
                + later.getFileName()
                + "' is not available, its model could not be loaded (error id ")
        .doesNotContain(later.toString())
        .contains("1 failed load attempt(s); the next at ")
        .endsWith("send the request again after that)");
    assertThat(waiting.whyNotReady()).contains(error.getMessage());

    clock.advance(DjlBackend.FIRST_LOAD_RETRY);

    assertThat(waiting.whyNotReady()).isEmpty();
    assertThat(waiting.ready()).isTrue();
    assertThat(waiting.generate(List.of(request("the", 5, 0.0, 1))).get(0))
        .isInstanceOf(BackendOutcome.Generated.class);
    waiting.close();
  }

  /**
   * A forward pass that fails in the engine (CUDA out of memory, a CUDA error) is the backend's
   * failure, not the requests': retryable, the backend not ready until a batch runs again, and the
   * engine's text (paths, driver messages) in the log only.
   */
  @Test
  void shouldReportNotReadyAndRetryableAfterAForwardPassFailsInTheEngineUntilOneRuns()
      throws Exception {
    MovingClock clock = new MovingClock(Instant.now());
    DjlBackend gpu =
        new DjlBackend(modelDirectory, "cpu", 8, 64, null, WatermarkParameters.DEFAULTS, clock);
    gpu.warmUp();
    java.util.concurrent.atomic.AtomicInteger failing =
        new java.util.concurrent.atomic.AtomicInteger(1);
    gpu.forwardPass(
        (predictor, input) -> {
          if (failing.getAndDecrement() > 0) {
            throw new ai.djl.engine.EngineException(
                "CUDA out of memory. Tried to allocate 2.00 GiB (/secret/mount/libtorch_cuda.so)");
          }
          return predictor.predict(input);
        });

    List<BackendOutcome> failed =
        gpu.generate(List.of(request("the", 5, 0.0, 1), request("the council", 5, 0.0, 2)));

    for (BackendOutcome outcome : failed) {
      BackendException error = ((BackendOutcome.Failed) outcome).error();
      assertThat(error.isTransient()).as("worth another try").isTrue();
      assertThat(error.retryAfter())
          .as("the worker retries once the engine is tried again")
          .isEqualTo(DjlBackend.FIRST_LOAD_RETRY);
      assertThat(error.code()).isEqualTo(FailureCode.BACKEND_UNAVAILABLE);
      assertThat(error.getMessage())
          .contains("failed while generating (error id ")
          .doesNotContain("/secret")
          .doesNotContain("CUDA")
          .doesNotContain(modelDirectory.toString());
    }
    assertThat(gpu.ready()).isFalse();
    assertThat(gpu.whyNotReady()).get(as(STRING)).contains("failed while generating");
    BackendException meanwhile =
        ((BackendOutcome.Failed) gpu.generate(List.of(request("the", 5, 0.0, 1))).get(0)).error();
    assertThat(meanwhile.isTransient()).isTrue();
    assertThat(failing.get()).as("no forward pass during the back-off").isZero();

    clock.advance(DjlBackend.FIRST_LOAD_RETRY);

    assertThat(gpu.whyNotReady()).as("due for another try").isEmpty();
    assertThat(gpu.ready()).as("until a batch runs").isFalse();
    assertThat(gpu.generate(List.of(request("the", 5, 0.0, 1))).get(0))
        .isInstanceOf(BackendOutcome.Generated.class);
    assertThat(gpu.ready()).isTrue();
    gpu.close();
  }

  /** A worker the shutdown stopped waiting for must not load a model that nobody closes. */
  @Test
  void shouldLoadNothingOnceClosed() throws Exception {
    DjlBackend closing =
        new DjlBackend(
            modelDirectory, "auto", 8, 64, KEY, WatermarkParameters.DEFAULTS, Clock.systemUTC());
    closing.close();

    assertThatThrownBy(() -> closing.warmUp())
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void shouldWaitLongerAfterEachFailedLoadUpToAMinute() {
    assertThat(DjlBackend.loadRetryWait(1)).isEqualTo(Duration.ofSeconds(5));
    assertThat(DjlBackend.loadRetryWait(2)).isEqualTo(Duration.ofSeconds(10));
    assertThat(DjlBackend.loadRetryWait(4)).isEqualTo(Duration.ofSeconds(40));
    assertThat(DjlBackend.loadRetryWait(5)).isEqualTo(Duration.ofMinutes(1));
    assertThat(DjlBackend.loadRetryWait(Integer.MAX_VALUE)).isEqualTo(Duration.ofMinutes(1));
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
        .cause()
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
        .cause()
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

  /**
   * The native managers DJL's PyTorch engine holds: every model registers one with the engine's
   * system manager when created and removes it when closed. DJL offers no count, so the test reads
   * the manager's resource map.
   */
  private static int nativeManagersOfTheEngine() throws ReflectiveOperationException {
    NDManager system;
    try (NDManager probe = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      system = probe.getParentManager();
    }
    Field resources = BaseNDManager.class.getDeclaredField("resources");
    resources.setAccessible(true);
    return ((Map<?, ?>) resources.get(system)).size();
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
