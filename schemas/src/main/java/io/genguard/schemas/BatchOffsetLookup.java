package io.genguard.schemas;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FinalizedVersionRange;

/**
 * Whether the Kafka cluster's brokers answer a fetch from an offset where a record batch begins
 * with that batch, which {@link UnreadableBatches#recordLessEnd} needs to tell where a damaged
 * record-less batch over several offsets ends. Brokers of Kafka 4.1 and later look a fetch's offset
 * up by where batches begin (KAFKA-18989); those of 3.x and 4.0 answer with the first batch whose
 * last offset, as its header now says, reaches it, so a damaged batch that claims the healthy
 * batches behind it answers for them too, and the halving would take their records for its own.
 *
 * <p>Told by the cluster's finalized {@code metadata.version} feature: the controllers finalize a
 * level only once every broker supports it, and refuse a broker that does not, so a level of
 * 4.1-IV0 or later means that every broker runs Kafka 4.1 or later. A cluster in a rolling upgrade,
 * or upgraded but not yet finalized ({@code kafka-features.sh upgrade --release-version 4.1}), a
 * ZooKeeper cluster (no such feature), or one that cannot be asked, is taken as not looking offsets
 * up so: such a batch waits, as before. An answer of the cluster holds for {@link #RECHECK}, so an
 * upgrade is seen within it without a restart; a failure to ask is not kept.
 */
public final class BatchOffsetLookup {
  /** The feature whose finalized level tells the brokers' version. */
  public static final String METADATA_VERSION = "metadata.version";

  /**
   * The {@code metadata.version} feature level of Kafka 4.1-IV0 ({@code
   * MetadataVersion.IBP_4_1_IV0.featureLevel()} in kafka-server-common, which the services do not
   * depend on; a test of the generator checks it against that).
   */
  public static final short KAFKA_4_1_LEVEL = 26;

  /** How long an answer of the cluster is kept before it is asked again. */
  public static final Duration RECHECK = Duration.ofMinutes(5);

  /** The finalized features of the cluster, as {@link Admin#describeFeatures} tells them. */
  @FunctionalInterface
  public interface Features {
    Map<String, FinalizedVersionRange> finalized(Duration timeout) throws Exception;
  }

  private final Features features;
  private final Clock clock;
  private Optional<String> answer;
  private Instant answeredAt;

  public BatchOffsetLookup(Features features, Clock clock) {
    this.features = features;
    this.clock = clock;
  }

  /**
   * One that asks the cluster of {@code clientProperties} (a service's client settings) with an
   * admin client of {@code clientId}, made for each question and closed after it.
   */
  public static BatchOffsetLookup ofCluster(
      Map<String, Object> clientProperties, String clientId, Clock clock) {
    Map<String, Object> adminProperties =
        ClientProperties.forClient(clientProperties, AdminClientConfig.configNames());
    adminProperties.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
    return new BatchOffsetLookup(
        timeout -> {
          try (Admin admin = Admin.create(adminProperties)) {
            return admin
                .describeFeatures()
                .featureMetadata()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .finalizedFeatures();
          }
        },
        clock);
  }

  /**
   * Why the brokers of a cluster with the {@code finalized} features may not look a fetch's offset
   * up by where batches begin; empty where they do (Kafka 4.1 or later on every broker).
   */
  public static Optional<String> whyNot(Map<String, FinalizedVersionRange> finalized) {
    FinalizedVersionRange range = finalized.get(METADATA_VERSION);
    if (range == null) {
      return Optional.of(
          "the cluster finalizes no "
              + METADATA_VERSION
              + " (a ZooKeeper cluster, Kafka 3.x), and only Kafka 4.1 or newer looks a fetch's"
              + " offset up by where record batches begin");
    }
    if (range.maxVersionLevel() < KAFKA_4_1_LEVEL) {
      return Optional.of(
          "the cluster's finalized "
              + METADATA_VERSION
              + " is level "
              + range.maxVersionLevel()
              + ", below 4.1-IV0 (level "
              + KAFKA_4_1_LEVEL
              + "), and only Kafka 4.1 or newer looks a fetch's offset up by where record batches"
              + " begin (finalize it after the upgrade: kafka-features.sh upgrade --release-version 4.1)");
    }
    return Optional.empty();
  }

  /**
   * Why the cluster's brokers may not look a fetch's offset up by where batches begin (as {@link
   * #whyNot(Map)}, or that the cluster could not be asked within {@code timeout}); empty where they
   * do. Asks the cluster at most once per {@link #RECHECK} while it answers.
   */
  public synchronized Optional<String> whyNot(Duration timeout) {
    Instant now = clock.instant();
    if (answer != null && now.isBefore(answeredAt.plus(RECHECK))) {
      return answer;
    }
    Map<String, FinalizedVersionRange> finalized;
    try {
      finalized = features.finalized(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while asking the cluster for its " + METADATA_VERSION);
    } catch (Exception e) {
      return Optional.of(
          "the cluster's " + METADATA_VERSION + " could not be read (" + e.getMessage() + ")");
    }
    answer = whyNot(finalized);
    answeredAt = now;
    return answer;
  }
}
