package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.worker.BackendRegistry;
import io.genguard.generator.worker.GeneratorMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorServiceTest {
  @TempDir Path dataDir;

  @Test
  void shouldRequireBootstrapServers() {
    assertThatThrownBy(
            () ->
                new GeneratorService(
                    GeneratorConfig.defaults(dataDir), Map.of(), new SimpleMeterRegistry()))
        .hasMessageContaining("must contain bootstrap.servers");
  }

  @Test
  void shouldRefuseADefaultBackendThatIsNotConfigured() {
    GeneratorConfig config = GeneratorConfig.defaults(dataDir).withDefaultBackend("djl");

    assertThatThrownBy(
            () ->
                new GeneratorService(
                    config,
                    Map.of("bootstrap.servers", "localhost:9092"),
                    new SimpleMeterRegistry()))
        .hasMessageContaining(
            "GENGUARD_GENERATOR_DEFAULT_BACKEND is djl but that backend is not configured; set"
                + " GENGUARD_GENERATOR_DJL_MODEL_PATH");
  }

  @Test
  void shouldOfferTheConfiguredBackends() {
    GeneratorConfig config =
        GeneratorConfig.defaults(dataDir)
            .withOpenAi(
                URI.create("http://localhost:8000"), null, "llama", false, Duration.ofSeconds(5))
            .withDjlModel(dataDir.resolve("model"), "cpu");

    try (GeneratorService service =
        new GeneratorService(
            config, Map.of("bootstrap.servers", "localhost:9092"), new SimpleMeterRegistry())) {
      assertThat(service.backendNames()).containsExactly("builtin", "echo", "openai", "djl");
      assertThat(service.runningWorkers()).isZero();
    }
  }

  @Test
  void shouldNotCallAFailedWarmUpWarmedUpUntilTheBackendLoadsItsModel() {
    FlakyBackend djl = new FlakyBackend("djl");
    GeneratorService.WarmUpOnce warmUp =
        new GeneratorService.WarmUpOnce(
            new BackendRegistry(List.of(new FlakyBackend("builtin"), djl), "builtin", Map.of()));
    djl.loads = false;

    assertThat(warmUp.whyNot()).contains("the models are loading");
    warmUp.run();

    assertThat(warmUp.whyNot())
        .as("the warm-up ran, but djl's model did not load")
        .hasValueSatisfying(
            why -> assertThat(why).startsWith("backend djl could not load its model at warm-up"));
    // Its own retries load it later: then the workers can serve.
    djl.loads = true;
    assertThat(warmUp.whyNot()).isEmpty();
  }

  /** A DJL engine failure or an openai server answering 404 after a good warm-up shows too. */
  @Test
  void shouldNotBeWarmedUpWhileABackendThatWarmedUpReportsNotReady() {
    FlakyBackend djl = new FlakyBackend("djl");
    GeneratorService.WarmUpOnce warmUp =
        new GeneratorService.WarmUpOnce(
            new BackendRegistry(List.of(new FlakyBackend("builtin"), djl), "builtin", Map.of()));
    warmUp.run();
    assertThat(warmUp.whyNot()).isEmpty();

    djl.loads = false;

    assertThat(warmUp.whyNot()).contains("backend djl is not ready (the generator log says why)");
    djl.loads = true;
    assertThat(warmUp.whyNot()).isEmpty();
  }

  @Test
  void shouldNotBeWarmedUpBeforeItStarts() {
    try (GeneratorService service =
        new GeneratorService(
            GeneratorConfig.defaults(dataDir),
            Map.of("bootstrap.servers", "localhost:9092"),
            new SimpleMeterRegistry())) {
      assertThat(service.warmedUp()).isFalse();
      assertThat(service.whyNotWarmedUp()).contains("the generator has not started");
    }
  }

  /** A backend whose model loads or not, as the test says; ready() tells the last attempt. */
  private static final class FlakyBackend implements GenerationBackend {
    private final String name;
    volatile boolean loads = true;

    FlakyBackend(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String defaultModel() {
      return name + "-model";
    }

    @Override
    public boolean serves(String model) {
      return defaultModel().equals(model);
    }

    @Override
    public int maxBatchSize() {
      return 1;
    }

    @Override
    public boolean embedsWatermark() {
      return false;
    }

    @Override
    public List<BackendOutcome> generate(List<BackendRequest> batch) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void warmUp() throws BackendException {
      if (!loads) {
        throw BackendException.permanent(FailureCode.BACKEND_UNAVAILABLE, "no model.pt", null);
      }
    }

    @Override
    public boolean ready() {
      return loads;
    }

    @Override
    public void close() {}
  }

  @Test
  void shouldExportHowManyWorkersItWasConfiguredWithForTheWorkerLostAlert() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    try (GeneratorService service =
        new GeneratorService(
            GeneratorConfig.defaults(dataDir).withWorkers(3),
            Map.of("bootstrap.servers", "localhost:9092"),
            registry)) {
      assertThat(registry.get(GeneratorMetrics.WORKERS_CONFIGURED).gauge().value())
          .as("GenGuardGeneratorWorkerLost compares the running workers with it")
          .isEqualTo(3.0);
    }
  }

  @Test
  void shouldCreateSigningAndWatermarkKeysInTheDataDirectory() {
    try (GeneratorService service =
        new GeneratorService(
            GeneratorConfig.defaults(dataDir),
            Map.of("bootstrap.servers", "localhost:9092"),
            new SimpleMeterRegistry())) {
      assertThat(dataDir.resolve("provenance-keys").resolve("signing-keys")).exists();
      assertThat(dataDir.resolve("provenance-keys").resolve("watermark-keys")).exists();
    }
  }
}
