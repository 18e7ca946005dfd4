package io.genguard.generator.worker;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestSigner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** Named requests, a scriptable backend and a processor wired to them, on a fixed clock. */
final class WorkerFixtures {
  static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  static final ProvenanceKeys KEYS = ProvenanceKeys.ephemeral();

  private WorkerFixtures() {}

  static GenerationRequest request(String requestId, String prompt) {
    return GenerationRequest.newBuilder()
        .setEventId("evt-" + requestId)
        .setRequestId(requestId)
        .setTenantId("tenant-1")
        .setPrompt(prompt)
        .setBackend("scripted")
        .setModel(null)
        .setParameters(parameters(16, 0.8, 0, 1.0, null))
        .setAttributes(Map.of("campaign.id", "c1"))
        .setSubmittedAt(NOW)
        .build();
  }

  static SamplingParameters parameters(
      int maxTokens, double temperature, int topK, double topP, Long seed) {
    return SamplingParameters.newBuilder()
        .setMaxTokens(maxTokens)
        .setTemperature(temperature)
        .setTopK(topK)
        .setTopP(topP)
        .setSeed(seed)
        .build();
  }

  static GeneratorConfig config() {
    return GeneratorConfig.defaults(Path.of("target", "unused-data-dir"))
        .withKeys(KEYS)
        .withDefaultBackend("builtin")
        .withRetries(Duration.ofSeconds(10), 3, Duration.ofMillis(100));
  }

  static BatchProcessor processor(
      GeneratorConfig config, GenerationBackend backend, List<Duration> sleeps) {
    return processor(config, backend, sleeps, new GeneratorMetrics(new SimpleMeterRegistry()));
  }

  static BatchProcessor processor(
      GeneratorConfig config,
      GenerationBackend backend,
      List<Duration> sleeps,
      GeneratorMetrics metrics) {
    BackendRegistry registry =
        new BackendRegistry(
            List.of(backend), "scripted", Map.of("djl", GeneratorConfig.Keys.DJL_MODEL_PATH));
    return new BatchProcessor(
        config,
        registry,
        new OutputAssembler(new ManifestSigner(KEYS.signing()), 65.0, 300.0),
        metrics,
        CLOCK,
        sleeps::add);
  }

  /**
   * A backend that answers each prompt from a script: a queue of outcomes per prompt (the last one
   * repeats), or echoes the prompt reversed when there is no script for it.
   */
  static final class ScriptedBackend implements GenerationBackend {
    final Map<String, Deque<Function<BackendRequest, BackendOutcome>>> script =
        new java.util.HashMap<>();
    final List<List<String>> batches = new CopyOnWriteArrayList<>();
    int maxBatch = 8;

    /** Why the model does not load, as a DJL model that does not would say; null: it loads. */
    volatile String notLoading;

    @SafeVarargs
    final ScriptedBackend on(String prompt, Function<BackendRequest, BackendOutcome>... outcomes) {
      script.put(prompt, new ArrayDeque<>(List.of(outcomes)));
      return this;
    }

    static Function<BackendRequest, BackendOutcome> fail(BackendException error) {
      return request -> new BackendOutcome.Failed(error);
    }

    static Function<BackendRequest, BackendOutcome> text(String text) {
      return request -> BackendOutcome.of(generation(text));
    }

    static Generation generation(String text) {
      return new Generation(
          text, 2, text.split(" ").length, "scripted-model", "1", null, "cpu", 2_000_000_000L);
    }

    @Override
    public String name() {
      return "scripted";
    }

    @Override
    public String defaultModel() {
      return "scripted-model";
    }

    @Override
    public boolean serves(String model) {
      return model.equals("scripted-model");
    }

    @Override
    public int maxBatchSize() {
      return maxBatch;
    }

    @Override
    public boolean embedsWatermark() {
      return false;
    }

    @Override
    public Optional<String> whyNotReady() {
      return Optional.ofNullable(notLoading);
    }

    @Override
    public boolean ready() {
      return notLoading == null;
    }

    @Override
    public List<BackendOutcome> generate(List<BackendRequest> batch) {
      List<String> prompts = new ArrayList<>();
      List<BackendOutcome> outcomes = new ArrayList<>();
      String failure = notLoading;
      for (BackendRequest request : batch) {
        prompts.add(request.prompt());
        if (failure != null) {
          outcomes.add(
              new BackendOutcome.Failed(
                  BackendException.permanent(FailureCode.BACKEND_UNAVAILABLE, failure, null)));
          continue;
        }
        if (request.prompt().equals("explode")) {
          throw new IllegalStateException("model crashed in /secret/mount/model.pt");
        }
        Deque<Function<BackendRequest, BackendOutcome>> queue = script.get(request.prompt());
        if (queue == null) {
          outcomes.add(
              BackendOutcome.of(
                  generation(new StringBuilder(request.prompt()).reverse().toString())));
        } else {
          Function<BackendRequest, BackendOutcome> next =
              queue.size() > 1 ? queue.poll() : queue.peek();
          outcomes.add(next.apply(request));
        }
      }
      batches.add(prompts);
      return outcomes;
    }

    @Override
    public void close() {}
  }
}
