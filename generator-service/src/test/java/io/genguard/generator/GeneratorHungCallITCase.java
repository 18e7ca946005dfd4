package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.TestInput;
import io.genguard.testsupport.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
    String servers = HangingBackend.kafkaWithGeneratorTopics();
    String run = "hung-" + UUID.randomUUID().toString().substring(0, 8);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (GeneratorService service =
        backend.generator(
            GeneratorConfig.defaults(dataDir)
                .withWorkers(1)
                .withConsumerGroup(run)
                .withInstanceId(run)
                .withRetries(Duration.ofSeconds(1), 1, Duration.ofMillis(10))
                .withHungCallBound(BOUND),
            servers,
            meters)) {
      service.start();
      String requestId = run + "-r1";
      long sent = System.nanoTime(); // before the call starts, so never later than its start
      TestInput.sendAll(servers, List.of(HangingBackend.request(requestId)));
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
}
