package io.genguard.generator;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A backend whose generate() returns only when released, whatever interrupts it meanwhile, as a
 * native forward pass stuck in a DJL model or an ONNX session does (GeneratorCloseITCase,
 * GeneratorHungCallITCase).
 */
final class HangingBackend implements GenerationBackend {
  static final String NAME = "hanging";

  final CountDownLatch entered = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);
  volatile boolean generating;
  volatile boolean closed;
  volatile boolean closedWhileGenerating;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String defaultModel() {
    return "hanging-model";
  }

  @Override
  public boolean serves(String model) {
    return defaultModel().equals(model);
  }

  @Override
  public int maxBatchSize() {
    return 8;
  }

  @Override
  public boolean embedsWatermark() {
    return false;
  }

  @Override
  public List<BackendOutcome> generate(List<BackendRequest> batch) {
    generating = true;
    entered.countDown();
    boolean interrupted = false;
    while (true) {
      try {
        release.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // a native forward pass does not notice an interrupt either
      }
    }
    List<BackendOutcome> outcomes = new ArrayList<>();
    for (BackendRequest request : batch) {
      outcomes.add(
          BackendOutcome.of(
              new Generation("generated", 2, 1, defaultModel(), "1", null, "cpu", 1_000_000L)));
    }
    generating = false;
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return outcomes;
  }

  @Override
  public void close() {
    if (generating) {
      closedWhileGenerating = true;
    }
    closed = true;
  }

  /** A request on gen.requests for this backend. */
  static ProducerRecord<byte[], byte[]> request(String requestId) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-" + requestId)
            .setRequestId(requestId)
            .setTenantId("tenant-it")
            .setPrompt("the committee discussed the proposal")
            .setBackend(HangingBackend.NAME)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(12)
                    .setTemperature(0.8)
                    .setTopK(0)
                    .setTopP(0.95)
                    .build())
            .setSubmittedAt(Instant.now())
            .build();
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS.name(),
        requestId.getBytes(StandardCharsets.UTF_8),
        Topics.GENERATION_REQUESTS.codec().encode(request));
  }
}
