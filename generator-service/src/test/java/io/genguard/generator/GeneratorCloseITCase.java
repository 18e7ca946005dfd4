package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.testsupport.TestInput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generator closed while a worker is inside a backend call that ignores the interrupt (a forward
 * pass that does not return): the backend stays open under it, the close is counted, and the worker
 * closes the backends once its call returns.
 */
class GeneratorCloseITCase {
  @TempDir Path dataDir;
  private final HangingBackend backend = new HangingBackend();

  @AfterEach
  void release() {
    backend.release.countDown();
  }

  @Test
  void shouldNotCloseABackendUnderAWorkerThatIsStillInsideIt() throws Exception {
    String servers = HangingBackend.kafkaWithGeneratorTopics();
    String run = "close-" + UUID.randomUUID().toString().substring(0, 8);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    GeneratorService service =
        backend.generator(
            GeneratorConfig.defaults(dataDir)
                .withWorkers(1)
                .withConsumerGroup(run)
                .withInstanceId(run),
            servers,
            meters);
    try {
      service.start();
      TestInput.sendAll(servers, List.of(HangingBackend.request(run + "-r1")));
      assertThat(backend.entered.await(2, TimeUnit.MINUTES))
          .as("the worker is inside generate()")
          .isTrue();

      service.close();

      assertThat(service.runningWorkers()).as("the worker is still inside generate()").isOne();
      assertThat(backend.closed).as("not closed under the running worker").isFalse();
      assertThat(service.backendsClosed()).isFalse();
      assertThat(meters.get(GeneratorMetrics.BACKENDS_LEFT_OPEN).counter().count()).isOne();

      backend.release.countDown();

      await().atMost(Duration.ofSeconds(30)).until(() -> backend.closed);
      assertThat(backend.closedWhileGenerating)
          .as("closed only once the call had returned")
          .isFalse();
      assertThat(service.runningWorkers()).isZero();
      assertThat(service.backendsClosed()).isTrue();
    } finally {
      backend.release.countDown();
      service.close();
    }
  }
}
