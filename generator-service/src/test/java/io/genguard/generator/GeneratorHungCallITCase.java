package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.worker.BackendRegistry;
import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import io.genguard.testsupport.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker inside a backend call that does not return (a forward pass stuck in native code): past
 * {@code HUNG_CALL_MS} the generator reports it, not ready (naming the backend and how long),
 * unhealthy and in {@link GeneratorMetrics#HUNG_CALLS}, without ending the call or touching the
 * batch; when the call does return the batch commits once and the generator is healthy again.
 */
class GeneratorHungCallITCase {
  private static final Duration BOUND = Duration.ofSeconds(5);

  @TempDir Path dataDir;
  private final HangingBackend backend = new HangingBackend();

  @AfterEach
  void release() {
    backend.release.countDown();
  }

  @Test
  void shouldReportAWorkerHungInsideABackendUntilTheCallReturns() throws Exception {
    IntegrationInfrastructure infrastructure = IntegrationInfrastructure.get();
    String servers = infrastructure.kafkaBootstrapServers();
    infrastructure.createTopics(
        1,
        List.of(
            Topics.GENERATION_REQUESTS.name(),
            Topics.GENERATION_OUTPUTS.name(),
            Topics.GENERATION_FAILURES.name(),
            Topics.GENERATION_REQUESTS_DLQ.name()));
    String run = "hung-" + UUID.randomUUID().toString().substring(0, 8);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (GeneratorService service =
        new GeneratorService(
            GeneratorConfig.defaults(dataDir)
                .withWorkers(1)
                .withConsumerGroup(run)
                .withInstanceId(run)
                .withRetries(Duration.ofSeconds(1), 1, Duration.ofMillis(10))
                .withHungCallBound(BOUND),
            Map.of("bootstrap.servers", servers),
            meters,
            Clock.systemUTC(),
            keys -> new BackendRegistry(List.of(backend), HangingBackend.NAME, Map.of()),
            Duration.ofSeconds(1))) {
      service.start();
      String requestId = run + "-r1";
      long sent = System.nanoTime(); // before the call starts, so never later than its start
      TestInput.sendAll(servers, List.of(request(requestId)));
      assertThat(backend.entered.await(2, TimeUnit.MINUTES))
          .as("the worker is inside generate()")
          .isTrue();

      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> service.whyNotWarmedUp().isPresent());
      assertThat(Duration.ofNanos(System.nanoTime() - sent))
          .as("reported only past the bound")
          .isGreaterThanOrEqualTo(BOUND);
      assertThat(service.whyNotWarmedUp().orElseThrow())
          .contains("has been inside a call to backend hanging (a batch of 1) for ")
          .contains("longer than GENGUARD_GENERATOR_HUNG_CALL_MS (5 s)")
          .contains("restart the generator");
      assertThat(service.healthy()).as("/health fails: only a restart ends it").isFalse();
      assertThat(service.runningWorkers()).isOne();
      assertThat(hungCalls(meters)).isOne();
      assertThat(
              TopicReader.untilQuiet(
                  Map.of("bootstrap.servers", servers),
                  Topics.GENERATION_OUTPUTS.name(),
                  List.of(requestId),
                  Duration.ofSeconds(1),
                  Duration.ofSeconds(2)))
          .as("nothing written for the batch while its call hangs")
          .isEmpty();

      backend.release.countDown();

      List<byte[]> outputs =
          TopicReader.untilQuiet(
              Map.of("bootstrap.servers", servers),
              Topics.GENERATION_OUTPUTS.name(),
              List.of(requestId),
              Duration.ofSeconds(3),
              Duration.ofSeconds(60));
      assertThat(outputs).as("the batch commits once when the call returns").hasSize(1);
      await().atMost(Duration.ofSeconds(10)).until(service::healthy);
      assertThat(service.whyNotWarmedUp()).isEmpty();
      assertThat(hungCalls(meters)).isZero();
    } finally {
      backend.release.countDown();
    }
  }

  private static double hungCalls(SimpleMeterRegistry meters) {
    return meters
        .get(GeneratorMetrics.HUNG_CALLS)
        .tag("backend", HangingBackend.NAME)
        .gauge()
        .value();
  }

  private static ProducerRecord<byte[], byte[]> request(String requestId) {
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

  /** A backend whose generate() returns only when released, whatever interrupts it meanwhile. */
  private static final class HangingBackend implements GenerationBackend {
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
  }
}
