package io.genguard.services.topics;

import io.genguard.schemas.ContentRetention;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.services.runtime.ServiceEnvironment;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates every topic of the catalogue (idempotently) and exits: a one-shot step before the
 * services start. GENGUARD_PARTITIONS (4) partitions each, all the same so that everything about
 * one request lands in the same partition number; GENGUARD_REPLICATION_FACTOR (1); the request-data
 * topics' retention, GENGUARD_CONTENT_RETENTION_HOURS (168, see {@link ContentRetention}), set
 * again on topics that exist.
 */
public final class ProvisionTopicsMain {
  public static final String PARTITIONS = "GENGUARD_PARTITIONS";
  public static final String REPLICATION_FACTOR = "GENGUARD_REPLICATION_FACTOR";

  private static final Logger LOG = LoggerFactory.getLogger(ProvisionTopicsMain.class);

  private ProvisionTopicsMain() {}

  public static void main(String[] args) {
    provision(System.getenv());
  }

  public static void provision(Map<String, String> env) {
    ServiceEnvironment environment = ServiceEnvironment.fromEnvironment(env);
    int partitions = positive(env, PARTITIONS, 4);
    int replication = positive(env, REPLICATION_FACTOR, 1);
    ContentRetention retention = ContentRetention.fromEnvironment(env);
    List<String> changes =
        TopicProvisioner.provisionCatalogue(
            environment.kafkaProperties(), partitions, (short) replication, retention);
    changes.forEach(change -> LOG.info("Topic configuration changed: {}", change));
    LOG.info(
        "Topics provisioned on {}: {} partitions, replication {}, request data kept {}",
        environment.kafkaBootstrapServers(),
        partitions,
        replication,
        retention);
  }

  private static int positive(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed < 1) {
        throw new IllegalArgumentException(key + "=" + value + " must be at least 1");
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }
}
