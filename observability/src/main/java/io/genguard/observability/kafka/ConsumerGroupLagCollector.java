package io.genguard.observability.kafka;

import io.genguard.observability.registry.RowGauges;
import io.genguard.schemas.ClientProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
 *
 * <p>For each partition a group is behind on, a consumer of no group also reads the first unread
 * record for its timestamp ({@link #LAG_AGE}), and the topics' {@code retention.ms} is published
 * beside it ({@link #TOPIC_RETENTION}): a group whose oldest unread record nears the retention is
 * about to lose records to the broker unread (GenGuardUnreadNearRetention). Measured under the
 * plumbing benchmark's backlog: 166-464 ms a round for 12-26 lagging group partitions.
 */
public final class ConsumerGroupLagCollector implements AutoCloseable {
  /** Records committed to a topic that a group has not yet committed past. */
  public static final String LAG = "genguard.kafka.consumer.group.lag";

  /**
   * Age of the oldest record a group has not committed past, per group and topic (the most over its
   * partitions; 0 when it is not behind): how close its unread records are to the topic's
   * retention, after which the broker deletes them unread. When a lagging partition's record cannot
   * be read within the read timeout, the age computed from the timestamp last read at the same
   * committed offset stands in (the group still waits on that record); with none, the group and
   * topic read the oldest age known of their other partitions, a lower bound, and NaN (unknown,
   * never 0) when no partition's record age is known; {@link #AGE_UNREAD} counts each partition
   * whose age is unknown.
   */
  public static final String LAG_AGE = "genguard.kafka.consumer.group.lag.age";

  /** Retention of each topic a reported group reads ({@code retention.ms}; none when forever). */
  public static final String TOPIC_RETENTION = "genguard.kafka.topic.retention";

  /**
   * Lagging group partitions whose oldest unread record could not be read within the read timeout
   * in a round (a loaded broker or machine) and whose age is therefore unknown (their group and
   * topic's age a lower bound, or NaN). A partition whose age came from the record last read at the
   * same committed offset is not counted: that age is exact (until the forty-eighth session it was,
   * so GenGuardLagAgeUnread could fire while every age was right).
   */
  public static final String AGE_UNREAD = "genguard.kafka.lag.age.unread";

  /** Failed collection rounds (broker unreachable, timeouts). */
  public static final String ERRORS = "genguard.kafka.lag.collector.errors";

  /**
   * When the last collection round succeeded, epoch seconds (0 before the first). A failed round
   * leaves the lag gauges at their last values: this is how stale they are
   * (GenGuardLagCollectorStale).
   */
  public static final String LAST_SUCCESS = "genguard.kafka.lag.collector.last.success.timestamp";

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupLagCollector.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  /** Longest a round spends reading the first unread records of lagging partitions. */
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

  /**
   * The timestamp last read per lagging group partition, and at which committed offset: while the
   * group has not moved, it waits on the same record.
   */
  private final Map<GroupPartition, long[]> lastRead = new HashMap<>();

  private final Admin admin;
  private final Predicate<String> groupFilter;
  private final RowGauges lag;
  private final RowGauges lagAge;
  private final RowGauges retention;
  private final KafkaConsumer<byte[], byte[]> reader;
  private final Clock clock;
  private final Counter errors;
  private final Counter ageUnread;
  private volatile Duration readTimeout;
  private final AtomicReference<Double> lastSuccess = new AtomicReference<>(0.0);
  private final ScheduledExecutorService scheduler;

  private ConsumerGroupLagCollector(
      Admin admin,
      KafkaConsumer<byte[], byte[]> reader,
      Predicate<String> groupFilter,
      MeterRegistry registry,
      Duration interval,
      Clock clock,
      Duration readTimeout) {
    this.admin = admin;
    this.readTimeout = readTimeout;
    this.reader = reader;
    this.clock = clock;
    this.groupFilter = groupFilter;
    this.lagAge =
        new RowGauges(
            registry,
            LAG_AGE,
            "Age of the oldest record the consumer group has not consumed and committed (0 when"
                + " not behind; a lower bound when a partition's could not be read, NaN when none"
                + " could)",
            "seconds");
    this.retention =
        new RowGauges(
            registry,
            TOPIC_RETENTION,
            "How long the topic keeps records (retention.ms) before the broker deletes them, read"
                + " or not",
            "seconds");
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
    this.ageUnread =
        Counter.builder(AGE_UNREAD)
            .description(
                "Lagging group partitions whose oldest unread record could not be read in time"
                    + " and whose age is unknown (none read before at the same offset)")
            .register(registry);
    Gauge.builder(LAST_SUCCESS, lastSuccess, AtomicReference::get)
        .description("When the consumer-lag collector last completed a round (Unix time)")
        .baseUnit("seconds")
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
    return new ConsumerGroupLagCollector(
        admin(kafkaProperties),
        reader(kafkaProperties),
        groupFilter,
        registry,
        interval,
        Clock.systemUTC(),
        READ_TIMEOUT);
  }

  /** A collector that runs only when {@link #collectOnce()} is called. */
  static ConsumerGroupLagCollector manual(
      Map<String, Object> kafkaProperties, Predicate<String> groupFilter, MeterRegistry registry) {
    return manual(kafkaProperties, groupFilter, registry, Clock.systemUTC());
  }

  static ConsumerGroupLagCollector manual(
      Map<String, Object> kafkaProperties,
      Predicate<String> groupFilter,
      MeterRegistry registry,
      Clock clock) {
    return manual(kafkaProperties, groupFilter, registry, clock, READ_TIMEOUT);
  }

  /**
   * @param readTimeout longest a round spends reading the first unread records (3 s in {@link
   *     #start}; tests on a loaded machine allow more)
   */
  static ConsumerGroupLagCollector manual(
      Map<String, Object> kafkaProperties,
      Predicate<String> groupFilter,
      MeterRegistry registry,
      Clock clock,
      Duration readTimeout) {
    return new ConsumerGroupLagCollector(
        admin(kafkaProperties),
        reader(kafkaProperties),
        groupFilter,
        registry,
        null,
        clock,
        readTimeout);
  }

  /** Changes the read timeout of later rounds (tests). */
  void readTimeout(Duration readTimeout) {
    this.readTimeout = readTimeout;
  }

  /**
   * A consumer of no group that reads the first unread record of a lagging partition for its
   * timestamp: small fetches, committed records only, as the groups read them.
   */
  private static KafkaConsumer<byte[], byte[]> reader(Map<String, Object> kafkaProperties) {
    Map<String, Object> properties =
        ClientProperties.forClient(kafkaProperties, ConsumerConfig.configNames());
    properties.remove(ConsumerConfig.GROUP_ID_CONFIG);
    properties.put(ConsumerConfig.CLIENT_ID_CONFIG, "genguard-lag-age-reader");
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 * 1024);
    properties.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 4 * 1024 * 1024);
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis());
    return new KafkaConsumer<>(
        properties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static Admin admin(Map<String, Object> kafkaProperties) {
    Map<String, Object> properties =
        ClientProperties.forClient(kafkaProperties, AdminClientConfig.configNames());
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

  /** Reads lag, the age of the oldest unread records and the topics' retention now; publishes. */
  void collectOnce() throws InterruptedException, ExecutionException, TimeoutException {
    Map<GroupTopic, Long> behind = new TreeMap<>();
    Map<GroupPartition, Long> unread = new HashMap<>();
    collect(behind, unread);
    long started = System.nanoTime();
    Map<GroupTopic, Double> ages = ages(behind.keySet(), unread);
    LOG.debug(
        "Lag round: the oldest unread record of {} lagging group partition(s) read in {} ms",
        unread.size(),
        (System.nanoTime() - started) / 1_000_000);
    Map<String, Double> retentions =
        retentions(behind.keySet().stream().map(GroupTopic::topic).collect(Collectors.toSet()));
    lag.set(rows(behind));
    lagAge.set(rows(ages));
    Map<Tags, Double> retentionRows = new LinkedHashMap<>();
    retentions.forEach((topic, seconds) -> retentionRows.put(Tags.of("topic", topic), seconds));
    retention.set(retentionRows);
    lastSuccess.set(clock.millis() / 1000.0);
  }

  /** Lag per group and topic, read from the broker now. */
  Map<GroupTopic, Long> collect()
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<GroupTopic, Long> behind = new TreeMap<>();
    collect(behind, new HashMap<>());
    return behind;
  }

  /**
   * Fills {@code lagByGroupTopic} with each group's lag per topic and {@code unread} with the
   * committed offset of every partition a group is behind on.
   */
  private void collect(Map<GroupTopic, Long> lagByGroupTopic, Map<GroupPartition, Long> unread)
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
                  if (behind > 0) {
                    unread.put(new GroupPartition(group, partition), offset.offset());
                  }
                }));
  }

  /**
   * Per group and topic, the age of the oldest record it has not read: the timestamp of the first
   * committed record at or after each lagging partition's committed offset, the oldest of the
   * topic's partitions; a group and topic not behind reads 0, and so does a partition whose lag is
   * only transaction markers or aborted records. A partition whose record cannot be read within the
   * read timeout takes the timestamp last read at the same committed offset; with none its group
   * and topic read the oldest age known of their other partitions (a lower bound: the unknown one
   * may wait on older records), and NaN when no partition's record age is known (unknown: not 0,
   * which says nothing waits); each partition whose age is unknown is counted ({@link
   * #AGE_UNREAD}), not one whose age the last read at the same offset gives exactly.
   */
  private Map<GroupTopic, Double> ages(
      Collection<GroupTopic> reported, Map<GroupPartition, Long> unread) {
    Map<GroupTopic, Double> ages = new TreeMap<>();
    reported.forEach(key -> ages.put(key, 0.0));
    // Several groups may lag on one partition at different offsets: one offset per partition a
    // round.
    Map<TopicPartition, TreeSet<Long>> wanted = new HashMap<>();
    unread.forEach(
        (key, offset) -> wanted.computeIfAbsent(key.partition(), p -> new TreeSet<>()).add(offset));
    Map<TopicPartition, Map<Long, Long>> timestamps = new HashMap<>();
    Map<TopicPartition, Set<Long>> unreadable = new HashMap<>();
    long now = clock.millis();
    while (!wanted.isEmpty()) {
      Map<TopicPartition, Long> round = new HashMap<>();
      wanted.forEach((partition, offsets) -> round.put(partition, offsets.pollFirst()));
      wanted.values().removeIf(TreeSet::isEmpty);
      Set<TopicPartition> timedOut = new HashSet<>();
      timestamps(round, timedOut)
          .forEach(
              (partition, timestamp) ->
                  timestamps
                      .computeIfAbsent(partition, p -> new HashMap<>())
                      .put(round.get(partition), timestamp));
      timedOut.forEach(
          partition ->
              unreadable
                  .computeIfAbsent(partition, p -> new HashSet<>())
                  .add(round.get(partition)));
    }
    Set<GroupTopic> unknown = new HashSet<>();
    Set<GroupTopic> known = new HashSet<>();
    unread.forEach(
        (key, offset) -> {
          GroupTopic groupTopic = new GroupTopic(key.group(), key.partition().topic());
          Long timestamp = timestamps.getOrDefault(key.partition(), Map.of()).get(offset);
          if (unreadable.getOrDefault(key.partition(), Set.of()).contains(offset)) {
            long[] last = lastRead.get(key);
            if (last != null && last[0] == offset) {
              // The group still waits on the record read before: its age is exact.
              timestamp = last[1];
            } else {
              ageUnread.increment();
              unknown.add(groupTopic);
            }
          }
          if (timestamp != null) {
            known.add(groupTopic);
            lastRead.put(key, new long[] {offset, timestamp});
            ages.merge(groupTopic, Math.max(0, now - timestamp) / 1000.0, Math::max);
          }
        });
    // Partitions no group lags on any more: nothing to remember.
    lastRead.keySet().retainAll(unread.keySet());
    // The age known from the other partitions is a lower bound, which an alert may still fire on
    // (until the forty-seventh session's review one unknown partition made it NaN); a partition
    // with only transaction markers (0) is no record age known.
    Set<GroupTopic> noneKnown = new TreeSet<>(unknown);
    noneKnown.removeAll(known);
    noneKnown.forEach(groupTopic -> ages.put(groupTopic, Double.NaN));
    if (!unknown.isEmpty()) {
      LOG.warn(
          "Lag round: the oldest unread record of a partition of {} could not be read within {} ms;"
              + " their age is a lower bound, or unknown (NaN) for {}",
          new TreeSet<>(unknown),
          readTimeout.toMillis(),
          noneKnown);
    }
    return ages;
  }

  /**
   * The timestamp of the first committed record at or after each partition's offset. A partition
   * whose reader passes the last stable offset without a record (its lag is only transaction
   * markers or aborted records) has none: nothing there is waiting. A partition neither read nor
   * passed within the read timeout has none either, and goes into {@code timedOut}.
   */
  private Map<TopicPartition, Long> timestamps(
      Map<TopicPartition, Long> offsets, Set<TopicPartition> timedOut) {
    Map<TopicPartition, Long> found = new HashMap<>();
    reader.assign(offsets.keySet());
    offsets.forEach(reader::seek);
    Map<TopicPartition, Long> ends = reader.endOffsets(offsets.keySet());
    Set<TopicPartition> open = new HashSet<>(offsets.keySet());
    long deadline = System.nanoTime() + readTimeout.toNanos();
    while (!open.isEmpty() && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> record : reader.poll(Duration.ofMillis(100))) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (open.remove(partition)) {
          found.put(partition, record.timestamp());
          // Enough of this partition: the next poll reads the others.
          reader.pause(List.of(partition));
        }
      }
      open.removeIf(partition -> reader.position(partition) >= ends.getOrDefault(partition, 0L));
    }
    timedOut.addAll(open);
    reader.resume(reader.paused());
    reader.assign(List.of());
    return found;
  }

  /** retention.ms of each topic, in seconds; a topic that keeps records forever is left out. */
  private Map<String, Double> retentions(Collection<String> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (topics.isEmpty()) {
      return Map.of();
    }
    List<ConfigResource> resources =
        topics.stream()
            .sorted()
            .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic))
            .toList();
    Map<ConfigResource, Config> configs =
        admin.describeConfigs(resources).all().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    Map<String, Double> retentions = new TreeMap<>();
    configs.forEach(
        (resource, config) -> {
          ConfigEntry entry = config.get(TopicConfig.RETENTION_MS_CONFIG);
          if (entry != null && entry.value() != null) {
            long millis = Long.parseLong(entry.value());
            if (millis >= 0) {
              retentions.put(resource.name(), millis / 1000.0);
            }
          }
        });
    return retentions;
  }

  private static <N extends Number> Map<Tags, N> rows(Map<GroupTopic, N> lagByGroupTopic) {
    Map<Tags, N> rows = new LinkedHashMap<>();
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
    reader.close(Duration.ofSeconds(5));
  }

  /** A consumer group and one partition it reads. */
  record GroupPartition(String group, TopicPartition partition) {}

  /** A consumer group and one topic it reads. */
  record GroupTopic(String group, String topic) implements Comparable<GroupTopic> {
    @Override
    public int compareTo(GroupTopic other) {
      int byGroup = group.compareTo(other.group);
      return byGroup != 0 ? byGroup : topic.compareTo(other.topic);
    }
  }
}
