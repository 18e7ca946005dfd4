package io.genguard.generator.worker;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.provenance.manifest.ManifestSigner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A batch processor over one real backend, for backend tests outside this package. */
public final class OpenAiProcessorFixture {
  private OpenAiProcessorFixture() {}

  public static BatchProcessor processor(GenerationBackend backend, List<Duration> sleeps) {
    GeneratorConfig config = WorkerFixtures.config();
    return new BatchProcessor(
        config,
        new BackendRegistry(List.of(backend), backend.name(), Map.of()),
        new OutputAssembler(new ManifestSigner(WorkerFixtures.KEYS.signing()), 65.0, 300.0),
        new GeneratorMetrics(new SimpleMeterRegistry()),
        Clock.systemUTC(),
        sleeps::add);
  }

  public static GenerationRequest request(String requestId, String prompt) {
    GenerationRequest request = WorkerFixtures.request(requestId, prompt);
    request.setBackend(null);
    return request;
  }
}
