package io.genguard.generator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.Map;

/**
 * A generator in a process of its own, so a test can kill it with SIGKILL mid-stream: no shutdown
 * hook, no graceful close, open transactions left behind. Arguments: bootstrap servers, data
 * directory, instance id, consumer group, worker count.
 */
public final class GeneratorProcess {
  /** Printed once the workers are started. */
  public static final String STARTED = "GENERATOR-PROCESS-STARTED";

  private GeneratorProcess() {}

  public static void main(String[] args) throws InterruptedException {
    GeneratorConfig config =
        GeneratorConfig.defaults(Path.of(args[1]))
            .withInstanceId(args[2])
            .withConsumerGroup(args[3])
            .withWorkers(Integer.parseInt(args[4]));
    GeneratorService service =
        new GeneratorService(
            config,
            Map.of(
                "bootstrap.servers",
                args[0],
                "interceptor.classes",
                HoldInTransactionInterceptor.class.getName()),
            new SimpleMeterRegistry());
    service.start();
    System.out.println(STARTED);
    System.out.flush();
    Thread.currentThread().join();
  }
}
