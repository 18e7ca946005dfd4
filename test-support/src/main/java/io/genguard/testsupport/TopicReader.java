package io.genguard.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads what the system under test wrote to a topic, as a consumer downstream would see it: every
 * partition from the beginning, committed transactions only, no consumer group (nothing is
 * committed, so a test reading twice sees the same). Only the records whose key a test names are
 * kept, as their value bytes, for the topic's codec to decode.
 */
public final class TopicReader {
  private static final Duration POLL = Duration.ofMillis(200);

  private TopicReader() {}

  /**
   * The first {@code atLeast} records keyed one of {@code keys} (and any read in the same poll).
   *
   * @throws AssertionError when fewer came within {@code timeout}, saying how many did
   */
  public static List<byte[]> until(
      Map<?, ?> client, String topic, Collection<String> keys, int atLeast, Duration timeout) {
    List<byte[]> found = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = fromTheBeginning(client, topic)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (found.size() < atLeast) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              found.size()
                  + " of "
                  + atLeast
                  + " records keyed "
                  + keys
                  + " on "
                  + topic
                  + " within "
                  + timeout);
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          if (keys.contains(record.key())) {
            found.add(record.value());
          }
        }
      }
    }
    return found;
  }

  /**
   * Every record keyed one of {@code keys}, read until the topic has been quiet for {@code quiet}
   * after the first of them (so a duplicate written soon after would show), or until {@code
   * timeout}: what was found by then, perhaps nothing.
   */
  public static List<byte[]> untilQuiet(
      Map<?, ?> client, String topic, Collection<String> keys, Duration quiet, Duration timeout) {
    List<byte[]> found = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = fromTheBeginning(client, topic)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      long lastRecord = System.nanoTime();
      while (System.nanoTime() < deadline
          && (found.isEmpty() || System.nanoTime() - lastRecord < quiet.toNanos())) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          lastRecord = System.nanoTime();
          if (keys.contains(record.key())) {
            found.add(record.value());
          }
        }
      }
    }
    return found;
  }

  private static KafkaConsumer<String, byte[]> fromTheBeginning(Map<?, ?> client, String topic) {
    Properties props = new Properties();
    props.putAll(client);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    try {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      return consumer;
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }
}
