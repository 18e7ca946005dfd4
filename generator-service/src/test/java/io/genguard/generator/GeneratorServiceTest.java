package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.generator.worker.GeneratorMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
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
