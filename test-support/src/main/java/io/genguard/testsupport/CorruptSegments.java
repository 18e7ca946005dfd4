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
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.FileLogInputStream;
import org.apache.kafka.common.record.FileRecords;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Damages a record batch on an embedded broker's disk, as a disk or broker fault would: one byte of
 * a record changes, so that the batch's CRC no longer matches and every Kafka consumer refuses it.
 * For a broker of the test's own ({@link EmbeddedKafkaBroker#start}), whose log files it can reach.
 */
public final class CorruptSegments {
  private CorruptSegments() {}

  /**
   * A producer that sends each record without lingering: a send awaited before the next puts each
   * record in a batch of its own, as {@link #damage} needs.
   */
  public static KafkaProducer<byte[], byte[]> unbatchedProducer(String servers) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            servers,
            ProducerConfig.LINGER_MS_CONFIG,
            0,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ByteArraySerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ByteArraySerializer.class));
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
    try (FileRecords records = FileRecords.open(segment.toFile(), false)) {
      for (FileLogInputStream.FileChannelRecordBatch batch : records.batches()) {
        if (batch.isControlBatch() && batch.baseOffset() == offset) {
          // The record ends with its value (version, coordinator epoch) and a header count of 0.
          int at = batch.position() + batch.sizeInBytes() - 2;
          ByteBuffer read = ByteBuffer.allocate(1);
          try (FileChannel channel =
              FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.read(read, at);
            channel.write(ByteBuffer.wrap(new byte[] {(byte) (read.get(0) ^ 1)}), at);
            channel.force(true);
          }
          return;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException(segment + " holds no transaction marker at offset " + offset);
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
