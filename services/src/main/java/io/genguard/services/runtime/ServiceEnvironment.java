package io.genguard.services.runtime;

import io.genguard.observability.MetricsConfig;
import io.genguard.settings.KnownSettings;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every service process needs besides its own settings: where Kafka is, where to keep local
 * state, and its metrics endpoint. Defaults, overridden by environment keys.
 *
 * @param kafkaBootstrapServers Kafka bootstrap servers
 * @param dataDir local state (generator model cache, release-gate state stores)
 * @param metrics the /metrics endpoint and collectors
 */
public record ServiceEnvironment(
    String kafkaBootstrapServers, Path dataDir, MetricsConfig metrics) {
  public static final String KAFKA_BOOTSTRAP_SERVERS = "GENGUARD_KAFKA_BOOTSTRAP_SERVERS";
  public static final String DATA_DIR = "GENGUARD_DATA_DIR";

  private static final Logger LOG = LoggerFactory.getLogger(ServiceEnvironment.class);

  public ServiceEnvironment {
    if (kafkaBootstrapServers == null || kafkaBootstrapServers.isBlank()) {
      throw new IllegalArgumentException(KAFKA_BOOTSTRAP_SERVERS + " must be set, e.g. kafka:9092");
    }
  }

  /**
   * Reads {@code env}, first refusing {@code GENGUARD_*} names no GenGuard process knows ({@link
   * KnownSettings}): every service starts here, so a misspelt key stops it instead of being
   * ignored.
   */
  public static ServiceEnvironment fromEnvironment(Map<String, String> env) {
    KnownSettings.check(env).forEach(LOG::warn);
    return new ServiceEnvironment(
        env.getOrDefault(KAFKA_BOOTSTRAP_SERVERS, "localhost:9092"),
        Path.of(env.getOrDefault(DATA_DIR, "/var/lib/genguard")),
        MetricsConfig.fromEnvironment(env));
  }

  /** Kafka client settings shared by every client of the service. */
  public Map<String, Object> kafkaProperties() {
    return Map.of("bootstrap.servers", kafkaBootstrapServers);
  }
}
