package io.genguard.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes a test's input records and makes sure every one landed.
 *
 * <p>A plain {@code send} without looking at its future can lose input silently: on 2026-12-02 a CI
 * run's idempotent producer got NOT_LEADER_OR_FOLLOWER for a partition the admin client already
 * reported a leader for, then OUT_OF_ORDER_SEQUENCE_NUMBER on every retry (incoming sequence 0, the
 * partition's producer state already at 6; KAFKA-14884, KAFKA-18202), until the batch expired two
 * minutes later and the test waited four more for verdicts of outputs that were never written. Here
 * every send is awaited; records that failed are sent again by a new producer (a new producer id,
 * so no stale sequence), a few times, and the test fails with the cause if they still do not land.
 * A record may then exist twice, but only after a failure that would otherwise have lost it.
 */
public final class TestInput {
  /** Attempts per record, each with a fresh producer. */
  static final int ATTEMPTS = 4;

  private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);

  private TestInput() {}

  /** Sends every record to {@code bootstrapServers} and returns once each is acknowledged. */
  public static void sendAll(
      String bootstrapServers, List<ProducerRecord<byte[], byte[]>> records) {
    List<ProducerRecord<byte[], byte[]>> pending = records;
    Exception last = null;
    for (int attempt = 1; attempt <= ATTEMPTS && !pending.isEmpty(); attempt++) {
      List<ProducerRecord<byte[], byte[]>> failed = new ArrayList<>();
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(properties(bootstrapServers))) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(pending.size());
        for (ProducerRecord<byte[], byte[]> record : pending) {
          sent.add(producer.send(record));
        }
        for (int i = 0; i < sent.size(); i++) {
          try {
            sent.get(i).get(DELIVERY_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
          } catch (ExecutionException | TimeoutException e) {
            failed.add(pending.get(i));
            last = e;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while writing test input", e);
      }
      pending = failed;
    }
    if (!pending.isEmpty()) {
      throw new IllegalStateException(
          pending.size()
              + " of "
              + records.size()
              + " test records did not land in "
              + ATTEMPTS
              + " attempts",
          last);
    }
  }

  static Map<String, Object> properties(String bootstrapServers) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.ACKS_CONFIG, "all");
    properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) DELIVERY_TIMEOUT.toMillis());
    properties.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    return properties;
  }
}
