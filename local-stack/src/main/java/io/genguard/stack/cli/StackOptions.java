package io.genguard.stack.cli;

import io.genguard.moderation.scoring.OnnxClassifierScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.stack.StackConfig;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Flags shared by the commands that start the embedded stack. */
final class StackOptions {
  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Keep Kafka, PostgreSQL, Flink and Kafka Streams state here; a restart continues"
              + " where the last run stopped. Default: a temporary directory removed at exit.")
  Path dataDir;

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      description = "Audit API port (default 8080).")
  Integer httpPort;

  @Option(
      names = "--kafka-port",
      paramLabel = "PORT",
      description = "Kafka broker port (default: any free port).")
  Integer kafkaPort;

  @Option(
      names = "--postgres-port",
      paramLabel = "PORT",
      description = "PostgreSQL port (default: any free port).")
  Integer postgresPort;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Port of the combined Prometheus /metrics endpoint (default 9464; 0: any free port).")
  Integer metricsPort;

  @Option(
      names = "--flink-metrics-port",
      paramLabel = "PORT",
      description =
          "First port of the Flink Prometheus reporter (default 9249, range PORT..PORT+9; 0: no reporter).")
  Integer flinkMetricsPort;

  @Option(
      names = "--scorer",
      paramLabel = "NAME",
      description = "Moderation scorer (default: the built-in trained model).")
  String scorer;

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description = "Policy YAML (default: the built-in policy).")
  Path policy;

  /** The environment the stack's GENGUARD_* keys come from (tests give their own). */
  Map<String, String> environment = System.getenv();

  StackConfig toConfig() {
    if (dataDir != null && dataDir.toString().isBlank()) {
      throw new IllegalArgumentException(
          "--data-dir is empty; name a directory, or leave the flag out for a temporary one");
    }
    // Before anything starts: an invalid file would otherwise fail the stack once Kafka and
    // PostgreSQL are up (exit 1); refused with its line, a usage error.
    // The environment's file too, unless --policy overrides it (named by its key).
    if (policy != null) {
      PolicyFiles.load(policy);
    } else {
      String file = environment.get(StackConfig.POLICY_FILE);
      if (file != null && !file.isBlank()) {
        PolicyFiles.load(StackConfig.POLICY_FILE, Path.of(file.strip()));
      }
    }
    // The imported classifier's folder and label map too, as score and audit replay check theirs:
    // else a folder that is missing or incomplete, or a label map that does not fit its labels,
    // failed the stack once Kafka and PostgreSQL were up (exit 1).
    String named = scorer != null ? scorer : environment.get(StackConfig.MODERATION_SCORER);
    if (named != null && named.strip().equals(OnnxClassifierScorer.NAME)) {
      ScorerConfig classifier = ScorerConfig.fromEnvironment(named, environment);
      ScorerConfig.requireClassifier(ScorerConfig.CLASSIFIER_DIR, classifier);
    }
    // Checked here so that the error names the flag, not the environment key it overrides.
    port("--http-port", httpPort);
    port("--kafka-port", kafkaPort);
    port("--postgres-port", postgresPort);
    port("--metrics-port", metricsPort);
    port("--flink-metrics-port", flinkMetricsPort);
    StackConfig config = StackConfig.fromEnvironment(environment);
    if (dataDir != null) {
      config = config.withDataDir(dataDir);
    }
    config =
        config.withPorts(
            kafkaPort == null ? config.kafkaPort() : kafkaPort,
            postgresPort == null ? config.postgresPort() : postgresPort,
            httpPort == null ? config.httpPort() : httpPort);
    config =
        config.withMetricsPorts(
            metricsPort == null ? config.metricsPort() : metricsPort,
            flinkMetricsPort == null ? config.flinkMetricsPort() : flinkMetricsPort);
    if (scorer != null) {
      config = config.withModerationScorer(ScorerFactory.configured("--scorer", scorer));
    }
    if (policy != null) {
      config = config.withPolicyFile(policy);
    }
    return config;
  }

  private static void port(String flag, Integer value) {
    if (value != null) {
      StackConfig.requirePort(flag + " " + value, value);
    }
  }
}
