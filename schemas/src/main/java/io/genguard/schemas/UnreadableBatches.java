package io.genguard.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A record batch that the Kafka consumer refuses because it fails its checks (its CRC no longer
 * matches: changed on the broker's disk or on the way) stops its partition for good: every poll
 * fails at the same position, and neither Kafka Streams' nor Flink's handlers see it (they handle
 * records, and this is not one yet). What the generator and the release gate share to get past one
 * without losing it: which partition a failed poll names, and a copy of the batch read without the
 * check, so that its records become dead letters with the offset past them.
 */
public final class UnreadableBatches {
  /**
   * How the Kafka consumer says that the data at a partition's position failed its checks (a record
   * batch whose CRC does not match, one that does not parse): "... from &lt;partition&gt;. If
   * needed, please seek past the record to continue consumption."
   */
  private static final String PREFIX = "Received exception when fetching the next record from ";

  private static final String SUFFIX =
      ". If needed, please seek past the record to continue consumption.";

  /** How long {@link #readBatchWithoutChecks} waits between polls that read nothing. */
  private static final Duration POLL_PAUSE = Duration.ofMillis(20);

  private UnreadableBatches() {}

  /**
   * The partition among {@code assignment} that a failed poll names as holding data that failed the
   * consumer's checks; null where the failure is another one.
   */
  public static TopicPartition partitionOf(
      KafkaException failure, Collection<TopicPartition> assignment) {
    String message = failure.getMessage();
    if (message == null || !message.startsWith(PREFIX) || !message.endsWith(SUFFIX)) {
      return null;
    }
    String named = message.substring(PREFIX.length(), message.length() - SUFFIX.length());
    for (TopicPartition partition : assignment) {
      if (partition.toString().equals(named)) {
        return partition;
      }
    }
    return null;
  }

  /**
   * The offset of the record batch that a failed poll ({@link #partitionOf}) names as failing its
   * CRC check on {@code partition}; -1 where it names none. Kafka's consumer names the batch
   * ("Record batch for partition &lt;partition&gt; at offset &lt;offset&gt; is invalid, cause:
   * ..."), which may lie past the position: the batches between yield no record (transaction
   * markers, aborted transactions), and the consumer's position stays before them.
   */
  public static long failedBatchOffset(KafkaException failure, TopicPartition partition) {
    Throwable cause = failure.getCause();
    String prefix = "Record batch for partition " + partition + " at offset ";
    if (cause == null || cause.getMessage() == null || !cause.getMessage().startsWith(prefix)) {
      return -1;
    }
    String rest = cause.getMessage().substring(prefix.length());
    int end = rest.indexOf(" is invalid");
    if (end <= 0) {
      return -1;
    }
    try {
      return Long.parseLong(rest.substring(0, end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Settings of a consumer that copies one record batch the consumer with {@code clientProperties}
   * refused: no group, no CRC check, read_committed, and fetches of one byte, which the broker
   * answers with exactly the first record batch (it always returns at least one whole batch).
   */
  public static Map<String, Object> readerProperties(
      Map<String, Object> clientProperties, String clientId) {
    Map<String, Object> properties =
        ClientProperties.forClient(clientProperties, ConsumerConfig.configNames());
    properties.remove(ConsumerConfig.GROUP_ID_CONFIG);
    properties.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    properties.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
    properties.remove(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG);
    properties.remove(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG);
    properties.remove(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG);
    properties.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    properties.put(ConsumerConfig.CHECK_CRCS_CONFIG, false);
    properties.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1);
    properties.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1);
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return properties;
  }

  /**
   * The records of the batch at {@code position} of {@code partition}, from the position on, read
   * by {@code reader} (made with {@link #readerProperties}) without the check, as they are now;
   * empty where it reads no record within {@code timeout} (a batch of a transaction marker, whose
   * position moves without a record) or once {@code goOn} says no more. Past a batch that yields no
   * record it may read the records of the batch behind it ({@link #readBatchWithoutChecks} does
   * not).
   *
   * @throws KafkaException where the batch cannot be read even without the check (it does not
   *     parse)
   */
  public static List<ConsumerRecord<byte[], byte[]>> readWithoutChecks(
      Consumer<byte[], byte[]> reader,
      TopicPartition partition,
      long position,
      Duration timeout,
      BooleanSupplier goOn) {
    List<ConsumerRecord<byte[], byte[]>> copies = new ArrayList<>();
    reader.assign(List.of(partition));
    reader.seek(partition, position);
    long deadline = System.nanoTime() + timeout.toNanos();
    long end = position;
    while (copies.isEmpty()
        && end == position
        && System.nanoTime() - deadline < 0
        && goOn.getAsBoolean()) {
      for (ConsumerRecord<byte[], byte[]> record :
          reader.poll(Duration.ofMillis(500)).records(partition)) {
        if (record.offset() >= position) {
          copies.add(record);
        }
      }
      end = reader.position(partition);
    }
    return copies;
  }

  /**
   * What {@code reader} (made with {@link #readerProperties}) reads without the check from the
   * batch at {@code position} of {@code partition}, and nothing behind it: its records from the
   * position on, and the offset it ends before. A batch that yields no record (a transaction
   * marker, or one whose transaction the broker says was aborted) gives no record and the offset
   * after it; one not read within {@code timeout}, or once {@code goOn} says no more, gives no
   * record and the position.
   *
   * <p>Each poll is one round of the consumer's fetch loop ({@link Duration#ZERO}), which hands on
   * at most the one batch a fetch of one byte returns: a longer poll goes on past a batch that
   * yields no record and returns the records of the batch behind it, which are not the damaged
   * one's.
   *
   * @throws KafkaException where the batch cannot be read even without the check (it does not
   *     parse)
   */
  public static Copy readBatchWithoutChecks(
      Consumer<byte[], byte[]> reader,
      TopicPartition partition,
      long position,
      Duration timeout,
      BooleanSupplier goOn) {
    reader.assign(List.of(partition));
    reader.seek(partition, position);
    return pollRounds(
        timeout,
        goOn,
        () -> {
          List<ConsumerRecord<byte[], byte[]>> copies = new ArrayList<>();
          for (ConsumerRecord<byte[], byte[]> record :
              reader.poll(Duration.ZERO).records(partition)) {
            if (record.offset() >= position) {
              copies.add(record);
            }
          }
          if (!copies.isEmpty()) {
            long first = copies.get(0).offset();
            if (first > position) {
              // Something before them yielded no record: only that is the batch at the position.
              return new Copy(List.of(), first);
            }
            return new Copy(copies, copies.get(copies.size() - 1).offset() + 1);
          }
          long end = reader.position(partition);
          return end != position ? new Copy(List.of(), end) : null;
        },
        new Copy(List.of(), position));
  }

  /**
   * The first answer of {@code round} (null: none yet) in rounds {@link #POLL_PAUSE} apart, the
   * consumer loop of {@link #readBatchWithoutChecks} and {@link #recordLessEnd}; {@code none} where
   * none comes within {@code timeout}, once {@code goOn} says no more, or once the thread is
   * interrupted (its interrupt flag set again).
   */
  private static <T> T pollRounds(
      Duration timeout, BooleanSupplier goOn, Supplier<T> round, T none) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0 && goOn.getAsBoolean()) {
      T answer = round.get();
      if (answer != null) {
        return answer;
      }
      try {
        Thread.sleep(POLL_PAUSE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return none;
  }

  /**
   * Settings of a consumer as {@code readerProperties} ({@link #readerProperties}), but with the
   * CRC check: {@link #recordLessEnd} reads with it to tell the damaged batch from the ones behind.
   */
  public static Map<String, Object> checkingReaderProperties(Map<String, Object> readerProperties) {
    Map<String, Object> properties = new HashMap<>(readerProperties);
    properties.put(ConsumerConfig.CHECK_CRCS_CONFIG, true);
    return properties;
  }

  /**
   * Where the record-less damaged batch at {@code position} of {@code partition} ends for sure,
   * where its copy without the check ({@link #readBatchWithoutChecks}) ends at {@code claimedEnd}
   * beyond the offset past it; -1 where that cannot be told (within {@code timeout} for each read,
   * or before {@code goOn} says no more).
   *
   * <p>Where such a batch ends, the consumer takes from its last offset delta, which lies within
   * the CRC, so its damage may have changed it: a record-less batch spans several offsets as a
   * batch of an aborted transaction does (or one that compaction emptied), but it may as well be a
   * transaction marker of one offset that now claims the healthy batches behind it. The offsets
   * where batches begin lie outside the CRC, and a broker of Kafka 4.1 or newer (KAFKA-18989) looks
   * a fetch's offset up by them first: it answers a fetch from an offset at which a batch begins
   * with that batch, and one from an offset between two batches' beginnings with the earlier one
   * only where that one's last offset (as its header now says) reaches it. So, read by {@code
   * checked} (made with {@link #checkingReaderProperties}), a fetch from an offset before the next
   * batch's beginning fails on the damaged batch again, and one from that beginning on reads
   * another batch: the first offset that reads another batch, found by halving, is where the next
   * batch begins, or {@code claimedEnd} where none begins before it. Nothing that the offsets up to
   * it hold is read by anyone with the check: the damaged batch, and compaction's gaps. A claim
   * reaching past the partition's last stable offset is not told (-1).
   *
   * <p>Only for brokers of Kafka 4.1 or newer, as {@link BatchOffsetLookup} tells: one of 3.x or
   * 4.0 answers a fetch from any offset up to the damaged batch's claimed end with that batch, so
   * this returns {@code claimedEnd} though healthy batches begin before it.
   */
  public static long recordLessEnd(
      Consumer<byte[], byte[]> checked,
      TopicPartition partition,
      long position,
      long claimedEnd,
      Duration timeout,
      BooleanSupplier goOn) {
    checked.assign(List.of(partition));
    Long stable = checked.endOffsets(List.of(partition), timeout).get(partition);
    if (stable == null || claimedEnd > stable) {
      return -1;
    }
    long damaged = position;
    long other = claimedEnd;
    while (other - damaged > 1) {
      long middle = damaged + (other - damaged) / 2;
      Meets meets = meetsDamagedBatch(checked, partition, middle, position, timeout, goOn);
      if (meets == Meets.UNTOLD) {
        return -1;
      }
      if (meets == Meets.DAMAGED_BATCH) {
        damaged = middle;
      } else {
        other = middle;
      }
    }
    return other;
  }

  /** What a fetch from an offset inside or past a damaged batch meets. */
  private enum Meets {
    /** The damaged batch. */
    DAMAGED_BATCH,
    /** Another batch. */
    OTHER_BATCH,
    /** Not told: the fetch fails otherwise or reads nothing in time. */
    UNTOLD
  }

  /**
   * Whether a fetch of {@code partition} from {@code offset} by {@code checked} fails on the
   * damaged batch at {@code batch} (one that begins there or before, which holds {@code batch}) or
   * reads another batch; untold where it fails otherwise or reads nothing in time.
   */
  private static Meets meetsDamagedBatch(
      Consumer<byte[], byte[]> checked,
      TopicPartition partition,
      long offset,
      long batch,
      Duration timeout,
      BooleanSupplier goOn) {
    checked.seek(partition, offset);
    return pollRounds(
        timeout,
        goOn,
        () -> {
          try {
            if (!checked.poll(Duration.ZERO).records(partition).isEmpty()
                || checked.position(partition) != offset) {
              return Meets.OTHER_BATCH;
            }
            return null;
          } catch (KafkaException e) {
            // The damaged batch, where the position lies inside it too (a committed offset or a
            // reset there): no batch that ends before the position answers a fetch from past it.
            long failed = failedBatchOffset(e, partition);
            if (partitionOf(e, List.of(partition)) != null && failed >= 0 && failed <= batch) {
              return Meets.DAMAGED_BATCH;
            }
            return Meets.UNTOLD;
          }
        },
        Meets.UNTOLD);
  }

  /**
   * The reason for the dead letters of the offsets {@code first} to {@code end - 1} of {@code
   * partition}, which the damaged batch at {@code first} (it fails Kafka's checks and yields no
   * record without them) spans as far as {@link #recordLessEnd} can tell.
   *
   * @param neverDone what the reader then never does with such a record ("released")
   * @param reader who reads on past it ("the gate")
   */
  public static String spanReason(
      TopicPartition partition, long first, long end, String neverDone, String reader) {
    return "Kafka's consumer refused the record batch at "
        + partition
        + " offset "
        + first
        + ": it fails its CRC check, so its bytes changed after they were written (a disk or"
        + " broker fault), and read without the check it holds no record over offsets "
        + first
        + " to "
        + (end - 1)
        + " (the next batch begins at "
        + end
        + "): a batch of an aborted transaction, or one that compaction emptied, or records that"
        + " its damage made read as either, which are then never "
        + neverDone
        + "; each offset is dead-lettered without key or value; "
        + reader
        + " reads on from offset "
        + end;
  }

  /**
   * Records with neither key nor value at the offsets {@code first} to {@code end - 1} of {@code
   * partition} ({@link #markerPlaceholder}), each with headers of its own from {@code headers},
   * standing for a record-less damaged batch over them.
   */
  public static List<ConsumerRecord<byte[], byte[]>> placeholders(
      TopicPartition partition, long first, long end, long timestamp, Supplier<Headers> headers) {
    List<ConsumerRecord<byte[], byte[]>> placeholders = new ArrayList<>();
    for (long offset = first; offset < end; offset++) {
      placeholders.add(markerPlaceholder(partition, offset, timestamp, headers.get()));
    }
    return placeholders;
  }

  /**
   * The reason for the dead letter of the one-offset batch at {@code offset} of {@code partition}
   * that fails Kafka's checks and yields no record without them ({@link Copy#isMarkerAt}): a
   * transaction marker, or a record of an aborted transaction, or a record that its damage made
   * read as either.
   *
   * @param neverDone what the reader then never does with such a record ("released")
   * @param reader who reads on past it ("the gate")
   */
  public static String markerReason(
      TopicPartition partition, long offset, String neverDone, String reader) {
    return "Kafka's consumer refused the record batch at "
        + partition
        + " offset "
        + offset
        + ": it fails its CRC check, so its bytes changed after they were written (a disk or"
        + " broker fault), and read without the check it holds no record, only this offset: a"
        + " transaction marker (whose transaction the broker's index decides, not the marker),"
        + " or a record of an aborted transaction, or a record that its damage made read as"
        + " either, which is then never "
        + neverDone
        + "; "
        + reader
        + " reads on from offset "
        + (offset + 1);
  }

  /**
   * A record with neither key nor value at {@code offset} of {@code partition}, standing for a
   * one-offset batch that yields no record ({@link Copy#isMarkerAt}), so that it can be
   * dead-lettered like a record and the offset past it committed with its dead letter.
   */
  public static ConsumerRecord<byte[], byte[]> markerPlaceholder(
      TopicPartition partition, long offset, long timestamp, Headers headers) {
    return new ConsumerRecord<>(
        partition.topic(),
        partition.partition(),
        offset,
        timestamp,
        TimestampType.NO_TIMESTAMP_TYPE,
        ConsumerRecord.NULL_SIZE,
        ConsumerRecord.NULL_SIZE,
        null,
        null,
        headers,
        Optional.empty());
  }

  /**
   * What {@link #readBatchWithoutChecks} read: {@code records} of the batch, and the offset {@code
   * end} that the batch ends before (the position where it read nothing).
   */
  public record Copy(List<ConsumerRecord<byte[], byte[]>> records, long end) {
    /**
     * Whether the batch read from {@code position} holds no record without the check and spans that
     * one offset only: a transaction marker (whose transaction the broker's aborted-transaction
     * index decides, not the marker), or a record of an aborted transaction, or a record that its
     * damage made read as either. No record's fate depends on it: with read_committed the consumer
     * takes which transactions were aborted from the fetch response, which the broker fills from
     * its index, and a fetch from the offset past it starts anew.
     */
    public boolean isMarkerAt(long position) {
      return records.isEmpty() && end == position + 1;
    }
  }
}
