package io.genguard.audit.retention;

import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.schemas.ClientProperties;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * By when Kafka drops its copies of what an erasure removed from the audit store. An erasure cannot
 * delete single records from a topic; the request-data topics ({@link Topics#requestDataTopics()})
 * keep a record until the segment holding it is older than their retention, so the answer is read
 * from the broker: per topic its {@code retention.ms}, {@code segment.ms} (a segment takes records
 * for that long, and is dropped when its newest record is past the retention) and {@code
 * file.delete.delay.ms}, plus the broker's {@code log.retention.check.interval.ms}. A record
 * written before the erasure is gone by the erasure's time plus the longest of those sums. A topic
 * that keeps records forever (retention.ms -1, or compaction without deletion) or a broker that
 * does not answer gives no time, with the reason. Read at most once a minute, and at most {@link
 * #TIMEOUT} long, so an erasure never waits on a broker that is down.
 */
public final class KafkaCopies implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final Duration FRESH = Duration.ofMinutes(1);
  private static final String CHECK_INTERVAL = "log.retention.check.interval.ms";
  private static final String CLEANER_BACKOFF = "log.cleaner.backoff.ms";

  /**
   * By when the request-data topics drop the copies of a request's records.
   *
   * @param goneBy the time, or null when the topics keep records forever or the broker did not say
   * @param basis what the time rests on: the topic that keeps records longest and its settings, or
   *     why there is no time
   */
  public record Bound(Instant goneBy, String basis) {}

  /**
   * How long the topics keep a record, as the broker said at {@code readAt}.
   *
   * @param longest the longest a record stays, or null with the reason in {@code basis}
   */
  public record Stay(Duration longest, String basis, Instant readAt) {
    /** By when the topics drop a record written before {@code writtenBefore}. */
    public Bound boundFor(Instant writtenBefore) {
      return new Bound(longest == null ? null : writtenBefore.plus(longest), basis);
    }
  }

  private final Map<String, Object> kafkaProperties;
  private final Clock clock;
  private Admin admin;
  private Stay reading;

  public KafkaCopies(Map<String, Object> kafkaProperties, Clock clock) {
    this.kafkaProperties = Map.copyOf(kafkaProperties);
    this.clock = clock;
  }

  /**
   * How long the topics keep a record: the broker's answer of the last minute, or asked now (at
   * most {@link #TIMEOUT}). Ask before taking any lock.
   */
  public synchronized Stay stay() {
    Instant now = clock.instant();
    if (reading == null || reading.readAt().plus(FRESH).isBefore(now)) {
      reading = read(now);
    }
    return reading;
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close(TIMEOUT);
      admin = null;
    }
  }

  private Stay read(Instant now) {
    try {
      return measure(admin(), now);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Stay(null, "not known: interrupted while asking the broker", now);
    } catch (ExecutionException e) {
      return new Stay(null, "not known: the broker refused (" + e.getCause() + ")", now);
    } catch (TimeoutException e) {
      return new Stay(
          null, "not known: the broker did not answer within " + TIMEOUT.toSeconds() + " s", now);
    } catch (RuntimeException e) {
      return new Stay(null, "not known: " + e, now);
    }
  }

  private Admin admin() {
    if (admin == null) {
      Properties props = new Properties();
      props.putAll(ClientProperties.forClient(kafkaProperties, AdminClientConfig.configNames()));
      props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "genguard-erasure-kafka-copies");
      props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
      props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
      admin = Admin.create(props);
    }
    return admin;
  }

  private static Stay measure(Admin admin, Instant now)
      throws InterruptedException, ExecutionException, TimeoutException {
    Collection<Node> nodes =
        admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (nodes.isEmpty()) {
      return new Stay(null, "not known: the cluster named no broker", now);
    }
    ConfigResource broker =
        new ConfigResource(
            ConfigResource.Type.BROKER, Integer.toString(nodes.iterator().next().id()));
    List<ConfigResource> resources = new ArrayList<>();
    resources.add(broker);
    for (Topic<?, ?> topic : Topics.requestDataTopics()) {
      resources.add(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
    }
    ConfigResource changelog =
        new ConfigResource(ConfigResource.Type.TOPIC, ReleaseGateTopology.CHANGELOG_TOPIC);
    resources.add(changelog);
    Map<ConfigResource, Config> configs = describeExisting(admin, resources);
    Config brokerConfig = configs.remove(broker);
    if (brokerConfig == null) {
      return new Stay(null, "not known: the broker did not describe itself", now);
    }
    Duration longest = Duration.ZERO;
    String basis = "none of the request-data topics exists";
    for (var entry : configs.entrySet()) {
      String topic = entry.getKey().name();
      Config config = entry.getValue();
      long deleteDelay = millis(config, TopicConfig.FILE_DELETE_DELAY_MS_CONFIG);
      long[] terms;
      String settings;
      if (entry.getKey().equals(changelog)) {
        // The gate's state: a held text stays until compaction drops the entry a decision or an
        // erasure replaced it with.
        long lag = millis(config, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG);
        long backoff = millis(brokerConfig, CLEANER_BACKOFF);
        terms = new long[] {lag, deleteDelay, backoff};
        settings =
            " (the release gate's state): max.compaction.lag.ms "
                + lag
                + " + file.delete.delay.ms "
                + deleteDelay
                + " + the broker's "
                + CLEANER_BACKOFF
                + " "
                + backoff;
      } else {
        String cleanup = config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
        long retention = millis(config, TopicConfig.RETENTION_MS_CONFIG);
        if (retention < 0 || !cleanup.contains(TopicConfig.CLEANUP_POLICY_DELETE)) {
          return new Stay(
              null,
              topic
                  + " keeps records until deleted by hand (retention.ms "
                  + retention
                  + ", cleanup.policy "
                  + cleanup
                  + ")",
              now);
        }
        long segment = millis(config, TopicConfig.SEGMENT_MS_CONFIG);
        long check = millis(brokerConfig, CHECK_INTERVAL);
        terms = new long[] {retention, segment, deleteDelay, check};
        settings =
            ": retention.ms "
                + retention
                + " + segment.ms "
                + segment
                + " + file.delete.delay.ms "
                + deleteDelay
                + " + the broker's "
                + CHECK_INTERVAL
                + " "
                + check;
      }
      Duration stay;
      try {
        long sum = 0;
        for (long term : terms) {
          sum = Math.addExact(sum, term);
        }
        stay = Duration.ofMillis(sum);
      } catch (ArithmeticException e) {
        // max.compaction.lag.ms is Long.MAX_VALUE unless set: compaction whenever it comes.
        return new Stay(null, topic + " keeps records without a bound" + settings, now);
      }
      if (stay.compareTo(longest) > 0) {
        longest = stay;
        basis = topic + " (the longest of " + configs.size() + " topics)" + settings;
      }
    }
    return new Stay(longest, basis, now);
  }

  /** The configurations of those of {@code resources} that exist: a topic not there holds none. */
  private static Map<ConfigResource, Config> describeExisting(
      Admin admin, List<ConfigResource> resources)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<ConfigResource, Config> configs = new LinkedHashMap<>();
    var futures = admin.describeConfigs(resources).values();
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    for (ConfigResource resource : resources) {
      try {
        configs.put(
            resource,
            futures
                .get(resource)
                .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw e;
        }
      }
    }
    return configs;
  }

  private static long millis(Config config, String key) {
    ConfigEntry entry = config.get(key);
    if (entry == null || entry.value() == null) {
      throw new IllegalStateException("the broker did not report " + key);
    }
    try {
      return Long.parseLong(entry.value());
    } catch (NumberFormatException e) {
      throw new IllegalStateException(key + " is not a number: " + entry.value(), e);
    }
  }
}
