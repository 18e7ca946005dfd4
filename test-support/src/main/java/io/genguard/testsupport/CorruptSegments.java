package io.genguard.testsupport;

import io.genguard.infra.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Damages a record batch on an embedded broker's disk, as a disk or broker fault would: one byte of
 * a record changes, so that the batch's CRC no longer matches and every Kafka consumer refuses it.
 * For a broker of the test's own ({@link OwnBroker}), whose log files it can reach.
 */
public final class CorruptSegments {
  private CorruptSegments() {}

  /**
   * A producer that sends each record without lingering: a send awaited before the next puts each
   * record in a batch of its own, as {@link #damage} needs.
   */
  public static KafkaProducer<byte[], byte[]> unbatchedProducer(String servers) {
    return new KafkaProducer<>(unbatched(servers));
  }

  /**
   * A transactional producer with {@code transactionalId} that sends each record without lingering,
   * for a test that writes transactions one by one and then damages their markers ({@link
   * #damageMarker}).
   */
  public static KafkaProducer<byte[], byte[]> transactionalProducer(
      String servers, String transactionalId) {
    Map<String, Object> properties = unbatched(servers);
    properties.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return new KafkaProducer<>(properties);
  }

  /**
   * A transactional producer with {@code transactionalId} that lingers a second, so that records
   * sent one after the other without waiting (then flushed) share one record batch: a batch of
   * several offsets, which an abort leaves without a record for a read_committed consumer.
   */
  public static KafkaProducer<byte[], byte[]> batchingTransactionalProducer(
      String servers, String transactionalId) {
    Map<String, Object> properties = unbatched(servers);
    properties.put(ProducerConfig.LINGER_MS_CONFIG, 1_000);
    properties.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return new KafkaProducer<>(properties);
  }

  /** The properties of a producer of byte arrays that does not linger. */
  private static Map<String, Object> unbatched(String servers) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    properties.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return properties;
  }

  /** The offset {@code group} committed on {@code partition}, or -1 where it committed none. */
  public static long committedOffset(
      Map<String, Object> adminProperties, String group, TopicPartition partition)
      throws InterruptedException, ExecutionException {
    try (Admin admin = Admin.create(adminProperties)) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      OffsetAndMetadata offset = offsets.get(partition);
      return offset == null ? -1 : offset.offset();
    }
  }

  /** The first log segment of {@code partition} on {@code broker}. */
  public static Path firstSegment(EmbeddedKafkaBroker broker, TopicPartition partition) {
    return broker.logDir().resolve(partition.toString()).resolve("00000000000000000000.log");
  }

  /**
   * Changes the first byte of the first occurrence of {@code marker} (UTF-8) in {@code segment} to
   * 'D', on disk, and returns the marker as it reads now. Put the record to damage in a batch of
   * its own (a send awaited before the next one, no linger) so that only it is refused.
   *
   * @throws IllegalStateException where the segment does not hold the marker
   */
  public static String damage(Path segment, String marker) {
    try {
      byte[] content = Files.readAllBytes(segment);
      int at = indexOf(content, marker.getBytes(StandardCharsets.UTF_8));
      if (at < 0) {
        throw new IllegalStateException(segment + " does not hold " + marker);
      }
      try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap(new byte[] {(byte) 'D'}), at);
        channel.force(true);
      }
      return "D" + marker.substring(1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Changes one byte of the transaction marker (control batch) at {@code offset} in {@code
   * segment}, on disk: the lowest byte of its coordinator epoch, the last field of its record, so
   * that the batch still parses and reads as the same marker without the check, but its CRC no
   * longer matches and every Kafka consumer refuses it.
   *
   * @throws IllegalStateException where the segment holds no control batch at the offset
   */
  public static void damageMarker(Path segment, long offset) {
    changeMarker(
        segment,
        offset,
        (channel, position, batch) -> {
          // The lowest byte of its coordinator epoch (the record ends with its value, version and
          // coordinator epoch, and a header count of 0).
          int at = position + batch.sizeInBytes() - 2;
          ByteBuffer read = ByteBuffer.allocate(1);
          channel.read(read, at);
          channel.write(ByteBuffer.wrap(new byte[] {(byte) (read.get(0) ^ 1)}), at);
        });
  }

  /**
   * The last offset of the record batch that begins at {@code offset} in {@code segment}, as its
   * header says; -1 where no batch begins there.
   */
  public static long lastOffsetOfBatch(Path segment, long offset) {
    for (MutableRecordBatch batch : batches(segment)) {
      if (batch.baseOffset() == offset) {
        return batch.lastOffset();
      }
    }
    return -1;
  }

  /**
   * Changes the last offset delta of the transaction marker (control batch) at {@code offset} in
   * {@code segment}, on disk, to {@code lastOffsetDelta}: a damage within its CRC after which the
   * marker of one offset claims to span the offsets up to {@code offset + lastOffsetDelta}, the
   * healthy batches behind it among them, and every Kafka consumer refuses it.
   *
   * @throws IllegalStateException where the segment holds no control batch at the offset
   */
  public static void damageMarkerSpan(Path segment, long offset, int lastOffsetDelta) {
    // baseOffset (8), batchLength (4), partitionLeaderEpoch (4), magic (1), crc (4), attributes
    // (2), then lastOffsetDelta (4).
    changeMarker(
        segment,
        offset,
        (channel, position, batch) ->
            channel.write(ByteBuffer.allocate(4).putInt(0, lastOffsetDelta), position + 23));
  }

  /** A change on disk of a control batch that begins at byte {@code position} of a segment. */
  private interface MarkerChange {
    void apply(FileChannel channel, int position, MutableRecordBatch batch) throws IOException;
  }

  /**
   * Applies {@code change} to the transaction marker (control batch) at {@code offset} in {@code
   * segment}, on disk, waiting a little for the marker to be written.
   *
   * @throws IllegalStateException where the segment holds no control batch at the offset
   */
  private static void changeMarker(Path segment, long offset, MarkerChange change) {
    // The coordinator writes a transaction's markers after its commit or abort returns: wait a
    // little for the one at the offset. The segment is read as a copy, not through FileRecords,
    // whose close truncates its file to the length it read and fails on one the broker appended
    // to meanwhile.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      int position = 0;
      for (MutableRecordBatch batch : batches(segment)) {
        if (batch.isControlBatch() && batch.baseOffset() == offset) {
          try (FileChannel channel =
              FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            change.apply(channel, position, batch);
            channel.force(true);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return;
        }
        position += batch.sizeInBytes();
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            segment + " holds no transaction marker at offset " + offset);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for the marker at " + offset, e);
      }
    }
  }

  /** The record batches of {@code segment}, read from a copy of it (see {@link #changeMarker}). */
  private static Iterable<MutableRecordBatch> batches(Path segment) {
    try {
      return MemoryRecords.readableRecords(ByteBuffer.wrap(Files.readAllBytes(segment))).batches();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int indexOf(byte[] content, byte[] wanted) {
    outer:
    for (int i = 0; i + wanted.length <= content.length; i++) {
      for (int j = 0; j < wanted.length; j++) {
        if (content[i + j] != wanted[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
