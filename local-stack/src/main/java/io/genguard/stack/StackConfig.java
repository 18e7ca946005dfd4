package io.genguard.stack;

import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.schemas.ContentRetention;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of the embedded stack. Defaults, then GENGUARD_* environment keys, then command-line
 * flags (which the CLI applies with the {@code with*} methods).
 *
 * @param dataDir where Kafka, PostgreSQL, Flink and Kafka Streams keep their state; empty means a
 *     temporary directory removed at exit
 * @param kafkaPort broker port, 0 for a free one
 * @param postgresPort PostgreSQL port, 0 for a free one
 * @param httpPort audit API port
 * @param partitions partitions per topic (all topics the same, for co-partitioning)
 * @param generatorWorkers generator worker threads
 * @param moderationParallelism Flink parallelism of the moderation job
 * @param moderationScorer which scorer the moderation job uses (see ModerationScorers)
 * @param policyFile policy YAML, or empty for the built-in default policy
 * @param external Kafka and PostgreSQL to use instead of starting embedded ones (tests, or running
 *     the services against real infrastructure)
 * @param metricsPort port of the combined Prometheus endpoint ({@code /metrics}), 0 for a free one
 * @param flinkMetricsPort first port of the Flink Prometheus reporter's range (this port to this
 *     port + 9, one per MiniCluster), 0 to run Flink without the reporter
 * @param contentRetention how long the broker keeps the topics that carry requests' content ({@link
 *     ContentRetention#KEY})
 */
public record StackConfig(
    Optional<Path> dataDir,
    int kafkaPort,
    int postgresPort,
    int httpPort,
    int partitions,
    int generatorWorkers,
    int moderationParallelism,
    String moderationScorer,
    Optional<Path> policyFile,
    Optional<ExternalInfrastructure> external,
    int metricsPort,
    int flinkMetricsPort,
    ContentRetention contentRetention) {

  /** Servers that already run elsewhere. */
  public record ExternalInfrastructure(
      String kafkaBootstrapServers, String jdbcUrl, String jdbcUser, String jdbcPassword) {
    @Override
    public String toString() {
      return "ExternalInfrastructure[kafka=" + kafkaBootstrapServers + ", jdbcUrl=" + jdbcUrl + "]";
    }
  }

  public static final String DATA_DIR = "GENGUARD_STATE_DIR";
  public static final String KAFKA_PORT = "GENGUARD_KAFKA_PORT";
  public static final String POSTGRES_PORT = "GENGUARD_POSTGRES_PORT";
  public static final String HTTP_PORT = "GENGUARD_HTTP_PORT";
  public static final String PARTITIONS = "GENGUARD_PARTITIONS";
  public static final String GENERATOR_WORKERS = "GENGUARD_GENERATOR_WORKERS";
  public static final String MODERATION_PARALLELISM = "GENGUARD_MODERATION_PARALLELISM";
  public static final String MODERATION_SCORER = "GENGUARD_MODERATION_SCORER";
  public static final String POLICY_FILE = "GENGUARD_POLICY_FILE";
  public static final String METRICS_PORT = "GENGUARD_METRICS_PORT";
  public static final String FLINK_METRICS_PORT = "GENGUARD_FLINK_METRICS_PORT";

  public StackConfig {
    Objects.requireNonNull(contentRetention, ContentRetention.KEY);
    port(KAFKA_PORT, kafkaPort);
    port(POSTGRES_PORT, postgresPort);
    port(HTTP_PORT, httpPort);
    port(METRICS_PORT, metricsPort);
    port(FLINK_METRICS_PORT, flinkMetricsPort);
    atLeastOne(PARTITIONS, partitions);
    atLeastOne(GENERATOR_WORKERS, generatorWorkers);
    atLeastOne(MODERATION_PARALLELISM, moderationParallelism);
  }

  public static StackConfig defaults() {
    return new StackConfig(
        Optional.empty(),
        0,
        0,
        8080,
        4,
        2,
        1,
        "default",
        Optional.empty(),
        Optional.empty(),
        9464,
        9249,
        ContentRetention.defaults());
  }

  public static StackConfig fromEnvironment(Map<String, String> env) {
    StackConfig d = defaults();
    return new StackConfig(
        text(env, DATA_DIR).map(Path::of),
        integer(env, KAFKA_PORT, d.kafkaPort()),
        integer(env, POSTGRES_PORT, d.postgresPort()),
        integer(env, HTTP_PORT, d.httpPort()),
        integer(env, PARTITIONS, d.partitions()),
        integer(env, GENERATOR_WORKERS, d.generatorWorkers()),
        integer(env, MODERATION_PARALLELISM, d.moderationParallelism()),
        text(env, MODERATION_SCORER)
            .map(name -> ScorerFactory.configured(MODERATION_SCORER, name))
            .orElse(d.moderationScorer()),
        text(env, POLICY_FILE).map(Path::of),
        Optional.empty(),
        integer(env, METRICS_PORT, d.metricsPort()),
        integer(env, FLINK_METRICS_PORT, d.flinkMetricsPort()),
        ContentRetention.fromEnvironment(env));
  }

  public StackConfig withDataDir(Path dir) {
    return new StackConfig(
        Optional.ofNullable(dir),
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        generatorWorkers,
        moderationParallelism,
        moderationScorer,
        policyFile,
        external,
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withPorts(int kafka, int postgres, int http) {
    return new StackConfig(
        dataDir,
        kafka,
        postgres,
        http,
        partitions,
        generatorWorkers,
        moderationParallelism,
        moderationScorer,
        policyFile,
        external,
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withModerationScorer(String scorer) {
    return new StackConfig(
        dataDir,
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        generatorWorkers,
        moderationParallelism,
        scorer,
        policyFile,
        external,
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withPolicyFile(Path file) {
    return new StackConfig(
        dataDir,
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        generatorWorkers,
        moderationParallelism,
        moderationScorer,
        Optional.ofNullable(file),
        external,
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withGeneratorWorkers(int workers) {
    return new StackConfig(
        dataDir,
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        workers,
        moderationParallelism,
        moderationScorer,
        policyFile,
        external,
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withModerationParallelism(int parallelism) {
    return new StackConfig(
        dataDir,
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        generatorWorkers,
        parallelism,
        moderationScorer,
        policyFile,
        external,
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withExternal(ExternalInfrastructure infrastructure) {
    return new StackConfig(
        dataDir,
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        generatorWorkers,
        moderationParallelism,
        moderationScorer,
        policyFile,
        Optional.ofNullable(infrastructure),
        metricsPort,
        flinkMetricsPort,
        contentRetention);
  }

  public StackConfig withMetricsPorts(int metrics, int flink) {
    return new StackConfig(
        dataDir,
        kafkaPort,
        postgresPort,
        httpPort,
        partitions,
        generatorWorkers,
        moderationParallelism,
        moderationScorer,
        policyFile,
        external,
        metrics,
        flink,
        contentRetention);
  }

  /** A key's value, trimmed; a blank one is unset (GENGUARD_STATE_DIR= is not the current dir). */
  private static Optional<String> text(Map<String, String> env, String key) {
    String value = env.get(key);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static int integer(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }

  private static void port(String key, int value) {
    requirePort(key + "=" + value, value);
  }

  /**
   * Refuses a port outside 0-65535 (0 = any free port), naming the setting as the user wrote it
   * ({@code GENGUARD_HTTP_PORT=70000} or {@code --http-port 70000}).
   */
  public static void requirePort(String setting, int value) {
    if (value < 0 || value > 65535) {
      throw new IllegalArgumentException(
          setting + " is not a TCP port (0-65535, 0 = any free port)");
    }
  }

  private static void atLeastOne(String key, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(key + "=" + value + " must be at least 1");
    }
  }
}
