package io.genguard.stack.cli;

import java.util.Map;
import picocli.CommandLine.Option;

/** Where the Kafka cluster is, for the commands that read or write its topics themselves. */
final class KafkaOptions {
  @Option(
      names = "--bootstrap",
      paramLabel = "HOST:PORT",
      defaultValue = "${env:GENGUARD_KAFKA_BOOTSTRAP_SERVERS}",
      description =
          "Kafka bootstrap servers (default: GENGUARD_KAFKA_BOOTSTRAP_SERVERS; for the embedded"
              + " stack, the broker address it prints at start).")
  String bootstrap;

  /** The client properties that reach the cluster; refused when none was named. */
  Map<String, Object> clientProperties() {
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new IllegalArgumentException(
          "No Kafka: pass --bootstrap HOST:PORT or set GENGUARD_KAFKA_BOOTSTRAP_SERVERS");
    }
    return Map.of("bootstrap.servers", bootstrap);
  }
}
