package io.genguard.generator;

import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.worker.BackendRegistry;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

  /** The embedded Kafka's address, with the topics a generator reads and writes. */
  static String kafkaWithGeneratorTopics() {
    IntegrationInfrastructure infrastructure = IntegrationInfrastructure.get();
    infrastructure.createTopics(
        1,
        List.of(
            Topics.GENERATION_REQUESTS.name(),
            Topics.GENERATION_OUTPUTS.name(),
            Topics.GENERATION_FAILURES.name(),
            Topics.GENERATION_REQUESTS_DLQ.name()));
    return infrastructure.kafkaBootstrapServers();
  }

  /** A generator whose only backend is this one; its close() waits 1 s for the workers. */
  GeneratorService generator(GeneratorConfig config, String servers, MeterRegistry meters) {
    return new GeneratorService(
        config,
        Map.of("bootstrap.servers", servers),
        meters,
        Clock.systemUTC(),
        keys -> new BackendRegistry(List.of(this), NAME, Map.of()),
        Duration.ofSeconds(1));
  }

  /** A request for this backend on gen.requests. */
  static ProducerRecord<byte[], byte[]> request(String requestId) {
    return GenerationRequests.record(requestId, NAME);
  }
}
