package io.genguard.schemas;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
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
 * upgrade is seen within it without a restart; a failure to ask holds for {@link
 * #RECHECK_AFTER_FAILURE}, so that the threads at a damaged batch (each generator worker, each gate
 * stream thread) do not each wait for the cluster in turn.
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

  /**
   * How long a failure to ask the cluster is kept before it is asked again: short, as the cluster
   * may answer again soon, but long enough that threads waiting their turn take the failure instead
   * of each waiting out the timeout again.
   */
  public static final Duration RECHECK_AFTER_FAILURE = Duration.ofSeconds(30);

  /** The finalized features of the cluster, as {@link Admin#describeFeatures} tells them. */
  @FunctionalInterface
  public interface Features {
    Map<String, FinalizedVersionRange> finalized(Duration timeout) throws Exception;
  }

  private final Features features;
  private final Clock clock;
  private Optional<String> answer;
  private Instant askAgainAt;

  public BatchOffsetLookup(Features features, Clock clock) {
    this.features = features;
    this.clock = clock;
  }

  /**
   * One that asks the cluster of {@code clientProperties} (a service's client settings) with an
   * admin client of {@code clientId}, made for each question and closed after it. The admin
   * client's own timeouts ({@code default.api.timeout.ms}, {@code request.timeout.ms}) are the
   * question's, and its close waits at most that long too: before, the close waited for the call in
   * flight up to the admin default of 60 s, whatever the question's timeout.
   */
  public static BatchOffsetLookup ofCluster(
      Map<String, Object> clientProperties, String clientId, Clock clock) {
    Map<String, Object> adminProperties =
        ClientProperties.forClient(clientProperties, AdminClientConfig.configNames());
    adminProperties.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
    return new BatchOffsetLookup(
        timeout -> {
          int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
          Map<String, Object> properties = new HashMap<>(adminProperties);
          properties.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
          properties.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, millis);
          Admin admin = Admin.create(properties);
          try {
            return admin
                .describeFeatures()
                .featureMetadata()
                .get(millis, TimeUnit.MILLISECONDS)
                .finalizedFeatures();
          } finally {
            admin.close(timeout);
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
   * do. Asks the cluster at most once per {@link #RECHECK} while it answers, and once per {@link
   * #RECHECK_AFTER_FAILURE} while it cannot be asked (the failure, with its exception's class and
   * message, is the answer meanwhile).
   */
  public synchronized Optional<String> whyNot(Duration timeout) {
    Instant now = clock.instant();
    if (answer != null && now.isBefore(askAgainAt)) {
      return answer;
    }
    Map<String, FinalizedVersionRange> finalized;
    try {
      finalized = features.finalized(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while asking the cluster for its " + METADATA_VERSION);
    } catch (Exception e) {
      answer =
          Optional.of(
              "the cluster's "
                  + METADATA_VERSION
                  + " could not be read ("
                  + failure(e, timeout)
                  + "; asked again after "
                  + RECHECK_AFTER_FAILURE.toSeconds()
                  + " s)");
      // From when it failed: the threads that waited meanwhile take this failure.
      askAgainAt = clock.instant().plus(RECHECK_AFTER_FAILURE);
      return answer;
    }
    answer = whyNot(finalized);
    askAgainAt = now.plus(RECHECK);
    return answer;
  }

  /**
   * What went wrong: the exception's class and message, the admin call's own failure rather than
   * the future's wrapper, and a wait that ran out (a {@code TimeoutException} has no message) said
   * so.
   */
  private static String failure(Exception e, Duration timeout) {
    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof java.util.concurrent.TimeoutException && cause.getMessage() == null) {
      return "no answer within " + timeout.toMillis() + " ms: " + cause;
    }
    return cause.toString();
  }
}
