package io.genguard.observability.kafka;

import io.genguard.observability.registry.RowGauges;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer lag of every stage, from the broker's point of view: for each consumer group, the sum
 * over partitions of (last stable offset - committed offset), per topic. It needs no access to the
 * clients themselves, so it covers the generator, the Flink job's source (which commits on each
 * checkpoint, so its lag includes up to one checkpoint interval), the release gate (Kafka Streams
 * application id) and the audit ingestor alike.
 *
 * <p>Read-committed end offsets are used because every GenGuard consumer reads committed data only;
 * with read-uncommitted ends an open transaction would show as lag.
 */
public final class ConsumerGroupLagCollector implements AutoCloseable {
  /** Records committed to a topic that a group has not yet committed past. */
  public static final String LAG = "genguard.kafka.consumer.group.lag";

  /** Failed collection rounds (broker unreachable, timeouts). */
  public static final String ERRORS = "genguard.kafka.lag.collector.errors";

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupLagCollector.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private final Admin admin;
  private final Predicate<String> groupFilter;
  private final RowGauges lag;
  private final Counter errors;
  private final ScheduledExecutorService scheduler;

  private ConsumerGroupLagCollector(
      Admin admin, Predicate<String> groupFilter, MeterRegistry registry, Duration interval) {
    this.admin = admin;
    this.groupFilter = groupFilter;
    this.lag =
        new RowGauges(
            registry,
            LAG,
            "Records committed to a topic that the consumer group has not yet consumed and committed",
            null);
    this.errors =
        Counter.builder(ERRORS)
            .description("Failed consumer-lag collection rounds")
            .register(registry);
    if (interval == null) {
      this.scheduler = null; // driven by collectOnce() (tests)
    } else {
      this.scheduler =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "genguard-lag-collector");
                thread.setDaemon(true);
                return thread;
              });
      scheduler.scheduleWithFixedDelay(
          this::collectQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Starts collecting every {@code interval}.
   *
   * @param kafkaProperties admin client settings: at least {@code bootstrap.servers}
   * @param groupFilter which consumer groups to report (e.g. those starting with "genguard")
   */
  public static ConsumerGroupLagCollector start(
      Map<String, Object> kafkaProperties,
      Predicate<String> groupFilter,
      MeterRegistry registry,
      Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive, was " + interval);
    }
    return new ConsumerGroupLagCollector(admin(kafkaProperties), groupFilter, registry, interval);
  }

  /** A collector that runs only when {@link #collectOnce()} is called. */
  static ConsumerGroupLagCollector manual(
      Map<String, Object> kafkaProperties, Predicate<String> groupFilter, MeterRegistry registry) {
    return new ConsumerGroupLagCollector(admin(kafkaProperties), groupFilter, registry, null);
  }

  private static Admin admin(Map<String, Object> kafkaProperties) {
    Map<String, Object> properties = new HashMap<>();
    kafkaProperties.forEach(
        (key, value) -> {
          if (AdminClientConfig.configNames().contains(key)
              || key.startsWith("sasl.")
              || key.startsWith("ssl.")) {
            properties.put(key, value);
          }
        });
    properties.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "genguard-lag-collector");
    properties.putIfAbsent(
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis());
    properties.putIfAbsent(
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis());
    return Admin.create(properties);
  }

  private void collectQuietly() {
    try {
      collectOnce();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      errors.increment();
      LOG.warn("Consumer lag collection failed: {}", e.toString());
    }
  }

  /** Reads lag from the broker now and publishes it. */
  void collectOnce() throws InterruptedException, ExecutionException, TimeoutException {
    lag.set(rows(collect()));
  }

  /** Lag per group and topic, read from the broker now. */
  Map<GroupTopic, Long> collect()
      throws InterruptedException, ExecutionException, TimeoutException {
    // All group types: the Flink source commits offsets under a group it never joins (a "simple"
    // group), Kafka Streams under its application id.
    Collection<GroupListing> listings =
        admin.listGroups().all().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    Map<String, Map<TopicPartition, OffsetAndMetadata>> committedByGroup = new TreeMap<>();
    for (GroupListing listing : listings) {
      if (!groupFilter.test(listing.groupId())) {
        continue;
      }
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(listing.groupId())
              .partitionsToOffsetAndMetadata()
              .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      committed.values().removeIf(java.util.Objects::isNull);
      committedByGroup.put(listing.groupId(), committed);
    }
    Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
    committedByGroup
        .values()
        .forEach(map -> map.keySet().forEach(tp -> wanted.put(tp, OffsetSpec.latest())));
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
        wanted.isEmpty()
            ? Map.of()
            : admin
                .listOffsets(wanted, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all()
                .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    Map<GroupTopic, Long> lagByGroupTopic = new TreeMap<>();
    committedByGroup.forEach(
        (group, committed) ->
            committed.forEach(
                (partition, offset) -> {
                  ListOffsetsResult.ListOffsetsResultInfo end = ends.get(partition);
                  if (end == null) {
                    return;
                  }
                  long behind = Math.max(0, end.offset() - offset.offset());
                  lagByGroupTopic.merge(
                      new GroupTopic(group, partition.topic()), behind, Long::sum);
                }));
    return lagByGroupTopic;
  }

  private static Map<Tags, Long> rows(Map<GroupTopic, Long> lagByGroupTopic) {
    Map<Tags, Long> rows = new LinkedHashMap<>();
    lagByGroupTopic.forEach(
        (key, value) -> rows.put(Tags.of("group", key.group(), "topic", key.topic()), value));
    return rows;
  }

  @Override
  public void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    admin.close(Duration.ofSeconds(5));
  }

  /** A consumer group and one topic it reads. */
  record GroupTopic(String group, String topic) implements Comparable<GroupTopic> {
    @Override
    public int compareTo(GroupTopic other) {
      int byGroup = group.compareTo(other.group);
      return byGroup != 0 ? byGroup : topic.compareTo(other.topic);
    }
  }
}
