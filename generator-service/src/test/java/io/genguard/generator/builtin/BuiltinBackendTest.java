package io.genguard.generator.builtin;

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
import io.genguard.provenance.watermark.WatermarkDetection;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import io.genguard.provenance.watermark.WatermarkParameters;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BuiltinBackendTest {
  private static final WatermarkKey KEY =
      new WatermarkKey(
          "wm-test", "builtin-backend-test-key-0123456".getBytes(StandardCharsets.UTF_8));
  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private final BuiltinBackend backend =
      new BuiltinBackend(EuroparlModelFixture.trigram(), KEY, WatermarkParameters.DEFAULTS, CLOCK);

  @Test
  void shouldGenerateTheSameTextForTheSameSeed() throws Exception {
    Generation first = backend.generate(request("The Commission", 40, 0.8, 0, 1.0, 42));
    Generation second = backend.generate(request("The Commission", 40, 0.8, 0, 1.0, 42));
    Generation otherSeed = backend.generate(request("The Commission", 40, 0.8, 0, 1.0, 43));

    assertThat(second.text()).isEqualTo(first.text());
    assertThat(otherSeed.text()).isNotEqualTo(first.text());
  }

  @Test
  void shouldGenerateExactlyMaxTokensOfReadableEnglish() throws Exception {
    Generation generation = backend.generate(request("Mr President,", 60, 0.9, 50, 0.95, 7));

    assertThat(WordTokenizer.tokenize(generation.text())).hasSize(60);
    assertThat(generation.outputTokens()).isEqualTo(60);
    assertThat(generation.promptTokens()).isEqualTo(3);
    assertThat(generation.text()).doesNotContain("<unk>").doesNotContain("<s>");
    assertThat(generation.modelName()).isEqualTo("europarl-kn3");
    assertThat(generation.device()).isEqualTo("cpu");
  }

  @Test
  void shouldCarryAWatermarkTheDetectorFindsInTheTextAlone() throws Exception {
    Generation generation = backend.generate(request("The Council", 200, 1.0, 0, 1.0, 11));
    WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(KEY));

    WatermarkDetection detection =
        detector.detect(
            generation.text(), generation.watermark().keyId(), generation.watermark().parameters());

    assertThat(generation.watermark().scheme()).isEqualTo(WatermarkParameters.SCHEME);
    assertThat(detection.status()).isEqualTo(DetectionStatus.WATERMARKED);
  }

  @Test
  void shouldLeaveUnwatermarkedSamplesUndetected() throws Exception {
    Generation generation = backend.generate(request("The Council", 200, 1.0, 0, 1.0, 11), false);
    WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(KEY));

    assertThat(generation.watermark()).isNull();
    assertThat(detector.detect(generation.text(), "wm-test", WatermarkParameters.DEFAULTS).status())
        .isEqualTo(DetectionStatus.NOT_DETECTED);
  }

  @Test
  void shouldContinueFromTheLastWordsOfThePrompt() throws Exception {
    Generation greedy =
        backend.generate(request("I would like to thank the", 1, 0.0, 0, 1.0, 1), false);

    assertThat(greedy.text()).isEqualToIgnoringCase("rapporteur");
  }

  @Test
  void shouldStopWithATimeoutWhenTheDeadlineHasPassed() {
    BackendRequest late =
        new BackendRequest(
            "r",
            "The",
            "europarl-kn3",
            new SamplingSettings(50, 1.0, 0, 1.0, 1),
            NOW.minusSeconds(1));

    assertThatThrownBy(() -> backend.generate(late))
        .isInstanceOfSatisfying(
            BackendException.class, e -> assertThat(e.code()).isEqualTo(FailureCode.TIMEOUT))
        .hasMessageContaining("ran out of time");
  }

  @Test
  void shouldGiveEachRequestOfAChunkItsOwnBudgetFromItsOwnStart() {
    // A clock that moves one second every time it is read. Each request reads it as it starts and
    // before its first token, so each needs 2 s of its 2.5 s; read against one shared deadline,
    // the fourth's first token would come 3 s after the chunk began.
    Clock ticking =
        new Clock() {
          private Instant now = NOW;

          @Override
          public Instant instant() {
            Instant read = now;
            now = now.plusSeconds(1);
            return read;
          }

          @Override
          public ZoneOffset getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }
        };
    BuiltinBackend sequential =
        new BuiltinBackend(
            EuroparlModelFixture.trigram(), KEY, WatermarkParameters.DEFAULTS, ticking);
    List<BackendRequest> chunk = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      chunk.add(
          new BackendRequest(
              "r" + i,
              "The",
              "europarl-kn3",
              new SamplingSettings(8, 1.0, 0, 1.0, i),
              NOW.plusMillis(2500)));
    }

    assertThat(sequential.generate(chunk))
        .as("the fourth is not left with what the first three used of one budget")
        .allSatisfy(outcome -> assertThat(outcome).isInstanceOf(BackendOutcome.Generated.class));
  }

  @Test
  void shouldReportNotReadyWhileItsModelFailsToLoad() {
    AtomicInteger attempts = new AtomicInteger();
    BuiltinModelStore.Loaded trigram = EuroparlModelFixture.trigram();
    BuiltinBackend failingOnce =
        new BuiltinBackend(
            () -> {
              if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("training corpus missing");
              }
              return trigram;
            },
            trigram.name(),
            KEY,
            WatermarkParameters.DEFAULTS,
            CLOCK);
    assertThat(failingOnce.ready()).isTrue();

    assertThatThrownBy(failingOnce::warmUp).hasMessage("training corpus missing");
    assertThat(failingOnce.ready()).as("the generator's warm-up reads this").isFalse();

    failingOnce.warmUp();
    assertThat(failingOnce.ready()).isTrue();
  }

  @Test
  void shouldServeOnlyItsOwnModel() {
    assertThat(backend.serves("europarl-kn3")).isTrue();
    assertThat(backend.serves("gpt-4")).isFalse();
  }

  private static BackendRequest request(
      String prompt, int maxTokens, double temperature, int topK, double topP, long seed) {
    return new BackendRequest(
        "req",
        prompt,
        "europarl-kn3",
        new SamplingSettings(maxTokens, temperature, topK, topP, seed),
        NOW.plusSeconds(60));
  }
}
