package io.genguard.observability.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

class ConsumerGroupLagCollectorITCase {
  private static final String TOPIC = "observability.lag.it";
  private static final String AGE_TOPIC = "observability.lag.age.it";
  private static final String MARKER_TOPIC = "observability.lag.marker.it";
  private static final String UNREAD_TOPIC = "observability.lag.unread.it";
  private static final String PARTLY_TOPIC = "observability.lag.partly.it";

  /** Time enough to read the first unread records on a loaded machine (3 s in production). */
  private static final Duration GENEROUS = Duration.ofSeconds(60);

  @Test
  void shouldReportRecordsAGroupHasNotCommittedPastPerTopic() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(2, List.of(TOPIC));
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      records.add(
          new ProducerRecord<>(
              TOPIC,
              i % 2,
              ("k" + i).getBytes(StandardCharsets.UTF_8),
              ("v" + i).getBytes(StandardCharsets.UTF_8)));
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
    commit(
        "genguard-lag-it",
        Map.of(new TopicPartition(TOPIC, 0), 2L, new TopicPartition(TOPIC, 1), 5L));
    commit("other-team", Map.of(new TopicPartition(TOPIC, 0), 0L));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Instant now = Instant.parse("2026-12-06T10:00:00Z");

    try (ConsumerGroupLagCollector collector =
        ConsumerGroupLagCollector.manual(
            infra.kafkaClientProperties(),
            group -> group.startsWith("genguard"),
            registry,
            Clock.fixed(now, ZoneOffset.UTC))) {
      assertThat(registry.get(ConsumerGroupLagCollector.LAST_SUCCESS).gauge().value())
          .as("no round yet")
          .isZero();
      collector.collectOnce();
    }

    assertThat(registry.get(ConsumerGroupLagCollector.LAST_SUCCESS).gauge().value())
        .as("when the lag was read: a failing collector keeps its last values, and this ages")
        .isEqualTo(now.getEpochSecond());

    assertThat(
            registry
                .get(ConsumerGroupLagCollector.LAG)
                .tags("group", "genguard-lag-it", "topic", TOPIC)
                .gauge()
                .value())
        .as("5 records per partition; 3 behind on partition 0, none on partition 1")
        .isEqualTo(3);
    assertThat(registry.find(ConsumerGroupLagCollector.LAG).tag("group", "other-team").gauge())
        .as("groups outside the filter are not reported")
        .isNull();
  }

  @Test
  void shouldReportTheAgeOfTheOldestUnreadRecordAgainstTheTopicsRetention() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(2, List.of(AGE_TOPIC, MARKER_TOPIC));
    long base = 1_764_000_000_000L;
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      records.add(
          new ProducerRecord<>(
              AGE_TOPIC,
              i % 2,
              base + 1000L * i,
              ("k" + i).getBytes(StandardCharsets.UTF_8),
              ("v" + i).getBytes(StandardCharsets.UTF_8)));
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
    // Partition 0 holds the even records (offsets 0-4), partition 1 the odd ones.
    commit(
        "genguard-age-it",
        Map.of(new TopicPartition(AGE_TOPIC, 0), 2L, new TopicPartition(AGE_TOPIC, 1), 5L));
    commit("genguard-age-it-2", Map.of(new TopicPartition(AGE_TOPIC, 0), 0L));
    // A group whose only lag is a transaction's commit marker: nothing waits.
    long marker = sendInTransaction(infra);
    commit("genguard-age-it-3", Map.of(new TopicPartition(MARKER_TOPIC, 0), marker));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Clock tenMinutesLater = Clock.fixed(Instant.ofEpochMilli(base + 600_000), ZoneOffset.UTC);

    try (ConsumerGroupLagCollector collector =
        ConsumerGroupLagCollector.manual(
            infra.kafkaClientProperties(),
            group -> group.startsWith("genguard-age-it"),
            registry,
            tenMinutesLater,
            GENEROUS)) {
      collector.collectOnce();
    }

    assertThat(age(registry, "genguard-age-it", AGE_TOPIC))
        .as("offset 2 of partition 0 is the fifth record, written 4 s after the first")
        .isEqualTo(596.0);
    assertThat(age(registry, "genguard-age-it-2", AGE_TOPIC))
        .as("a second group behind on the same partition, from its first record")
        .isEqualTo(600.0);
    assertThat(lag(registry, "genguard-age-it-3", MARKER_TOPIC)).isEqualTo(1);
    assertThat(age(registry, "genguard-age-it-3", MARKER_TOPIC)).isZero();
    assertThat(
            registry
                .get(ConsumerGroupLagCollector.TOPIC_RETENTION)
                .tags("topic", AGE_TOPIC)
                .gauge()
                .value())
        .as("the broker's default week")
        .isEqualTo(604_800.0);
    assertThat(registry.get(ConsumerGroupLagCollector.AGE_UNREAD).counter().count()).isZero();
  }

  @Test
  void shouldNotReportAnAgeItCouldNotReadAsNothingWaiting() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(UNREAD_TOPIC));
    long base = 1_764_000_000_000L;
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      records.add(
          new ProducerRecord<>(
              UNREAD_TOPIC,
              0,
              base + 1000L * i,
              ("k" + i).getBytes(StandardCharsets.UTF_8),
              ("v" + i).getBytes(StandardCharsets.UTF_8)));
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
    commit("genguard-unread-it", Map.of(new TopicPartition(UNREAD_TOPIC, 0), 1L));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Clock tenMinutesLater = Clock.fixed(Instant.ofEpochMilli(base + 600_000), ZoneOffset.UTC);

    try (ConsumerGroupLagCollector collector =
        ConsumerGroupLagCollector.manual(
            infra.kafkaClientProperties(),
            group -> group.equals("genguard-unread-it"),
            registry,
            tenMinutesLater,
            Duration.ZERO)) {
      collector.collectOnce();
      assertThat(lag(registry, "genguard-unread-it", UNREAD_TOPIC)).isEqualTo(4);
      assertThat(age(registry, "genguard-unread-it", UNREAD_TOPIC))
          .as("no time to read the record: its age is unknown, not 0 (nothing waiting)")
          .isNaN();
      assertThat(unreadCount(registry)).isEqualTo(1.0);

      collector.readTimeout(GENEROUS);
      collector.collectOnce();
      assertThat(age(registry, "genguard-unread-it", UNREAD_TOPIC))
          .as("offset 1 is the second record, written 1 s after the first")
          .isEqualTo(599.0);
      assertThat(unreadCount(registry)).isEqualTo(1.0);

      collector.readTimeout(Duration.ZERO);
      collector.collectOnce();
      assertThat(age(registry, "genguard-unread-it", UNREAD_TOPIC))
          .as("the group has not moved: it still waits on the record read in the last round")
          .isEqualTo(599.0);
      assertThat(unreadCount(registry))
          .as("an age exact from the record read before at the same offset is not unknown")
          .isEqualTo(1.0);

      commit("genguard-unread-it", Map.of(new TopicPartition(UNREAD_TOPIC, 0), 3L));
      collector.collectOnce();
      assertThat(age(registry, "genguard-unread-it", UNREAD_TOPIC))
          .as("the group moved on: the record read before is not the one it waits on")
          .isNaN();
      assertThat(unreadCount(registry)).isEqualTo(2.0);
    }
  }

  @Test
  void shouldReportTheKnownAgeOfTheOtherPartitionsWhenOnePartitionCouldNotBeRead()
      throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(2, List.of(PARTLY_TOPIC));
    long base = 1_764_000_000_000L;
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      // Partition 1's records are 10 s younger than partition 0's.
      for (int partition = 0; partition < 2; partition++) {
        records.add(
            new ProducerRecord<>(
                PARTLY_TOPIC,
                partition,
                base + 10_000L * partition + 1000L * i,
                ("k" + i).getBytes(StandardCharsets.UTF_8),
                ("v" + i).getBytes(StandardCharsets.UTF_8)));
      }
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
    String group = "genguard-partly-it";
    TopicPartition first = new TopicPartition(PARTLY_TOPIC, 0);
    TopicPartition second = new TopicPartition(PARTLY_TOPIC, 1);
    commit(group, Map.of(first, 1L, second, 1L));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Clock tenMinutesLater = Clock.fixed(Instant.ofEpochMilli(base + 600_000), ZoneOffset.UTC);

    try (ConsumerGroupLagCollector collector =
        ConsumerGroupLagCollector.manual(
            infra.kafkaClientProperties(), group::equals, registry, tenMinutesLater, GENEROUS)) {
      collector.collectOnce();
      assertThat(age(registry, group, PARTLY_TOPIC))
          .as("offset 1 of partition 0, written 1 s after its first record")
          .isEqualTo(599.0);
      assertThat(unreadCount(registry)).isZero();

      // The group moves on partition 1 only; nothing can be read in this round.
      commit(group, Map.of(first, 1L, second, 2L));
      collector.readTimeout(Duration.ZERO);
      collector.collectOnce();
      assertThat(age(registry, group, PARTLY_TOPIC))
          .as(
              "partition 0 still waits on the record read before: its age is known, a lower"
                  + " bound of the topic's, not unknown")
          .isEqualTo(599.0);
      assertThat(unreadCount(registry))
          .as(
              "both partitions went unread, but only partition 1's age is unknown (the forty-seventh"
                  + " session's list: partition 0's exact age counted too)")
          .isEqualTo(1.0);

      // Now the only known partition moves too: no age of the topic is known.
      commit(group, Map.of(first, 2L, second, 2L));
      collector.collectOnce();
      assertThat(age(registry, group, PARTLY_TOPIC)).isNaN();
      assertThat(unreadCount(registry)).isEqualTo(3.0);
    }
  }

  private static double unreadCount(SimpleMeterRegistry registry) {
    return registry.get(ConsumerGroupLagCollector.AGE_UNREAD).counter().count();
  }

  private static double age(SimpleMeterRegistry registry, String group, String topic) {
    return registry
        .get(ConsumerGroupLagCollector.LAG_AGE)
        .tags("group", group, "topic", topic)
        .gauge()
        .value();
  }

  private static double lag(SimpleMeterRegistry registry, String group, String topic) {
    return registry
        .get(ConsumerGroupLagCollector.LAG)
        .tags("group", group, "topic", topic)
        .gauge()
        .value();
  }

  /** One record in a committed transaction on partition 0; returns the commit marker's offset. */
  private static long sendInTransaction(IntegrationInfrastructure infra) {
    Map<String, Object> properties = new HashMap<>(infra.kafkaClientProperties());
    properties.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "lag-age-it-" + System.nanoTime());
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
      producer.initTransactions();
      producer.beginTransaction();
      long offset;
      try {
        offset =
            producer
                .send(new ProducerRecord<>(MARKER_TOPIC, 0, new byte[] {1}, new byte[] {2}))
                .get()
                .offset();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      producer.commitTransaction();
      return offset + 1;
    }
  }

  private static void commit(String group, Map<TopicPartition, Long> offsets) {
    Map<String, Object> properties =
        new HashMap<>(IntegrationInfrastructure.get().kafkaClientProperties());
    properties.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    offsets.forEach((partition, offset) -> commits.put(partition, new OffsetAndMetadata(offset)));
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties)) {
      consumer.commitSync(commits);
    }
  }
}
