package io.genguard.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads what the system under test committed to some topics, poll by poll, and keeps every record
 * read, so that a test can await one record and then assert on all of them: committed transactions
 * only, each topic from its beginning, in a consumer group of its own. Values stay bytes, for the
 * topic's codec to decode. The ITCases of dead-lettered records (damaged, oversized) read with it.
 */
public final class CommittedReader implements AutoCloseable {
  private static final Duration POLL = Duration.ofMillis(500);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Set<String> topics = new LinkedHashSet<>();
  private final Map<String, List<ConsumerRecord<byte[], byte[]>>> read = new HashMap<>();

  /** A reader of {@code topics} on the brokers at {@code servers}. */
  public CommittedReader(String servers, String... topics) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    properties.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    consumer = new KafkaConsumer<>(properties);
    this.topics.addAll(List.of(topics));
    consumer.subscribe(List.copyOf(this.topics));
  }

  /**
   * Reads {@code topic} as well, from its beginning, from the next poll on: for a topic that does
   * not exist yet when the reader starts.
   */
  public void alsoRead(String topic) {
    topics.add(topic);
    consumer.subscribe(List.copyOf(topics));
  }

  /** One poll, half a second at most; returns this reader, to ask what it has read by now. */
  public CommittedReader poll() {
    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
      read.computeIfAbsent(record.topic(), topic -> new ArrayList<>()).add(record);
    }
    return this;
  }

  /** Every record read from {@code topic} so far, in the order read. */
  public List<ConsumerRecord<byte[], byte[]>> records(String topic) {
    return List.copyOf(read.getOrDefault(topic, List.of()));
  }

  /** The values of {@link #records(String) records(topic)}, each decoded. */
  public <T> List<T> values(String topic, Function<byte[], T> decode) {
    return records(topic).stream().map(record -> decode.apply(record.value())).toList();
  }

  @Override
  public void close() {
    consumer.close();
  }
}
