package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.worker.BackendRegistry;
import io.genguard.generator.worker.BatchProcessor;
import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.generator.worker.OutputAssembler;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestSigner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
  void shouldGiveTheOpenAiBackendTheConfiguredModelsOnly() {
    GeneratorConfig config =
        GeneratorConfig.defaults(dataDir)
            .withOpenAi(
                URI.create("http://localhost:8000"), null, "llama", false, Duration.ofSeconds(5))
            .withOpenAiModels(Set.of("llama-70b"));

    BackendRegistry backends =
        GeneratorService.Backends.create(config, ProvenanceKeys.ephemeral(), Clock.systemUTC());

    GenerationBackend openai = backends.find("openai").orElseThrow();
    assertThat(openai.serves("llama")).isTrue();
    assertThat(openai.serves("llama-70b")).isTrue();
    assertThat(openai.serves("gpt-4-32k")).as("not on GENGUARD_GENERATOR_OPENAI_MODELS").isFalse();
  }

  /** Echo signs whatever a tenant sends; a production deployment can turn it off. */
  @Test
  void shouldAnswerEchoRequestsUnknownBackendWhenEchoIsTurnedOff() {
    GeneratorConfig config = GeneratorConfig.defaults(dataDir).withEchoEnabled(false);
    BackendRegistry backends =
        GeneratorService.Backends.create(config, ProvenanceKeys.ephemeral(), Clock.systemUTC());
    assertThat(backends.names()).containsExactly("builtin");
    BatchProcessor processor =
        new BatchProcessor(
            config,
            backends,
            new OutputAssembler(new ManifestSigner(ProvenanceKeys.ephemeral().signing()), 65, 300),
            new GeneratorMetrics(new SimpleMeterRegistry()),
            Clock.systemUTC(),
            duration -> {});
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-echo")
            .setRequestId("r-echo")
            .setTenantId("tenant-1")
            .setPrompt("text to publish under the platform's signature")
            .setBackend("echo")
            .setModel(null)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(16)
                    .setTemperature(0.8)
                    .setTopK(0)
                    .setTopP(1.0)
                    .setSeed(null)
                    .build())
            .setAttributes(Map.of())
            .setSubmittedAt(Instant.now())
            .build();

    BatchProcessor.Result result = processor.process(List.of(request)).get(0);

    assertThat(result.succeeded()).isFalse();
    assertThat(result.failure().getCode()).isEqualTo("unknown_backend");
    assertThat(result.failure().getReason())
        .contains("backend 'echo' is not available")
        .contains("GENGUARD_GENERATOR_ECHO_ENABLED=true");
    assertThat(
            GeneratorService.Backends.create(
                    GeneratorConfig.defaults(dataDir),
                    ProvenanceKeys.ephemeral(),
                    Clock.systemUTC())
                .names())
        .as("on by default: the local stack and the demo use it")
        .contains("echo");
  }

  /**
   * A GPU pool started without DJL_MODEL_PATH answered every request it took unknown_backend, which
   * no alert counts, and said it was ready.
   */
  @Test
  void shouldReportAPoolThatAnswersOnlyABackendItDoesNotHaveAsNotReadyAndExportIt() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    GeneratorConfig config =
        GeneratorConfig.defaults(dataDir).withRouting(PoolRouting.parse("djl", null));

    try (GeneratorService service =
        new GeneratorService(config, Map.of("bootstrap.servers", "localhost:9092"), registry)) {
      assertThat(service.whyNotWarmedUp())
          .hasValueSatisfying(
              why ->
                  assertThat(why)
                      .startsWith("backend djl is not configured on this generator")
                      .contains("it answers only [djl]")
                      .contains("set GENGUARD_GENERATOR_DJL_MODEL_PATH and restart it"));
      assertThat(registry.get(GeneratorMetrics.BACKEND_READY).tag("backend", "djl").gauge().value())
          .as("GenGuardGeneratorBackendNotReady fires on it")
          .isZero();
    }
    BackendRegistry backends =
        GeneratorService.Backends.create(config, ProvenanceKeys.ephemeral(), Clock.systemUTC());
    assertThat(backends.whyNotReady(config.routing().onlyBackends()))
        .as("so its workers leave the requests in Kafka instead of failing them")
        .contains(
            "backend djl: not configured on this generator (set"
                + " GENGUARD_GENERATOR_DJL_MODEL_PATH)");
  }

  @Test
  void shouldReportAGpuDeviceWithoutADjlModelAsNotReady() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(Map.of("GENGUARD_GENERATOR_DJL_DEVICE", "gpu"), dataDir);

    try (GeneratorService service =
        new GeneratorService(config, Map.of("bootstrap.servers", "localhost:9092"), registry)) {
      assertThat(service.whyNotWarmedUp())
          .hasValueSatisfying(
              why ->
                  assertThat(why)
                      .contains("backend djl is not configured")
                      .contains("GENGUARD_GENERATOR_DJL_DEVICE is gpu"));
      assertThat(registry.get(GeneratorMetrics.BACKEND_READY).tag("backend", "djl").gauge().value())
          .isZero();
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
