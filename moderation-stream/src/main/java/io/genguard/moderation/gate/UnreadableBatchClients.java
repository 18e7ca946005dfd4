package io.genguard.moderation.gate;

import io.genguard.schemas.BatchOffsetLookup;
import io.genguard.schemas.Topics;
import io.genguard.schemas.UnreadableBatches;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The release gate's Kafka clients, whose main consumer gets past a record batch that fails Kafka's
 * checks (its CRC no longer matches: changed on the broker's disk or on the way) instead of failing
 * the stream thread on every poll. Kafka Streams 4.2 hands no such failure to its
 * DeserializationExceptionHandler: the consumer throws it from poll, the stream thread dies, and a
 * replaced thread meets the same batch again (KAFKA-19430, open), so one damaged batch stopped
 * every partition of the thread for good.
 *
 * <p>Where a poll fails so, the consumer reads that one batch again without the check (a consumer
 * of no group, {@link UnreadableBatches#readerProperties}) and returns its records, marked with
 * {@link #UNREADABLE_HEADER} (the reason), in place of the poll's; its position moves past the
 * batch. The gate's processor dead-letters a marked record, never decides on it (an erasure notice
 * that decodes is applied as well, and one that does not fails the thread), and Kafka Streams
 * commits the offset past it in the same exactly-once transaction as the dead letter: nothing is
 * skipped without its dead letter, nothing is released because of the damage, and a transaction
 * that aborts reads the batch again. A damaged batch of one offset that holds no record without the
 * check (a transaction marker) is dead-lettered as that offset without key or value ({@link
 * #marker}), and one over several offsets as each of them up to where the next batch begins ({@link
 * #span}), the latter only where the brokers look a fetch's offset up by where batches begin (Kafka
 * 4.1 or newer, {@link BatchOffsetLookup}). Where the batch cannot be read even without the check
 * (it does not parse), or where a record-less one ends cannot be told (on older brokers too), or it
 * is a record-less one of audit.erasures, the poll fails as before, the thread is replaced and the
 * partition waits (fail closed).
 */
public final class UnreadableBatchClients implements KafkaClientSupplier {
  private static final Logger LOG = LoggerFactory.getLogger(UnreadableBatchClients.class);

  /**
   * Header of a record the consumer copied without Kafka's check, holding the reason. Removed from
   * every record read normally, so that only the consumer sets it.
   */
  public static final String UNREADABLE_HEADER = "genguard.unreadable-batch";

  /**
   * The counter of {@link #unreadableRecords} on a gate's /metrics ({@code
   * genguard_gate_unreadable_records_total}).
   */
  public static final String METER = "genguard.gate.unreadable.records";

  /** How long the copy of a batch that failed Kafka's checks may take to read. */
  private static final Duration COPY_READ = Duration.ofSeconds(10);

  private final Clock clock;
  private final AtomicLong handedOn = new AtomicLong();
  private final AtomicLong markers = new AtomicLong();
  private BatchOffsetLookup offsetLookup;

  public UnreadableBatchClients(Clock clock) {
    this.clock = clock;
  }

  /**
   * Whether the brokers of the cluster of {@code readerConfig} look a fetch's offset up by where
   * batches begin, asked with the first reader's settings and kept for every thread of the gate.
   */
  private synchronized BatchOffsetLookup offsetLookup(Map<String, Object> readerConfig) {
    if (offsetLookup == null) {
      offsetLookup =
          BatchOffsetLookup.ofCluster(
              readerConfig, ReleaseGateTopology.APPLICATION_ID + "-lookup", clock);
    }
    return offsetLookup;
  }

  /**
   * Records of damaged batches handed on to be dead-lettered since the start (a batch read again
   * after an aborted transaction counts again).
   */
  public long unreadableRecords() {
    return handedOn.get();
  }

  /**
   * Of {@link #unreadableRecords}, the one-offset batches without a record (transaction markers)
   * handed on as an offset without key or value.
   */
  public long unreadableMarkers() {
    return markers.get();
  }

  @Override
  public Admin getAdmin(Map<String, Object> config) {
    return Admin.create(config);
  }

  @Override
  public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Override
  public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
    Consumer<byte[], byte[]> main =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Map<String, Object> readerConfig =
        UnreadableBatches.readerProperties(
            config,
            config.getOrDefault("client.id", ReleaseGateTopology.APPLICATION_ID) + "-unchecked");
    return wrap(main, readerConfig);
  }

  @Override
  public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @Override
  public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @SuppressWarnings("unchecked")
  private Consumer<byte[], byte[]> wrap(
      Consumer<byte[], byte[]> main, Map<String, Object> readerConfig) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("poll")
              && args != null
              && args.length == 1
              && args[0] instanceof Duration timeout) {
            return poll(main, readerConfig, timeout);
          }
          return invoke(main, method, args);
        };
    return (Consumer<byte[], byte[]>)
        Proxy.newProxyInstance(
            UnreadableBatchClients.class.getClassLoader(),
            new Class<?>[] {Consumer.class},
            handler);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private ConsumerRecords<byte[], byte[]> poll(
      Consumer<byte[], byte[]> main, Map<String, Object> readerConfig, Duration timeout) {
    ConsumerRecords<byte[], byte[]> records;
    try {
      records = main.poll(timeout);
    } catch (WakeupException | InterruptException e) {
      throw e;
    } catch (KafkaException e) {
      TopicPartition partition = UnreadableBatches.partitionOf(e, main.assignment());
      if (partition == null) {
        throw e;
      }
      ConsumerRecords<byte[], byte[]> copies = copy(main, readerConfig, partition, e);
      if (copies == null) {
        throw e;
      }
      return copies;
    }
    for (ConsumerRecord<byte[], byte[]> record : records) {
      record.headers().remove(UNREADABLE_HEADER);
    }
    return records;
  }

  /**
   * The records of the batch at the main consumer's position of {@code partition} (or of the one
   * past it that Kafka names as failing), read without the check and marked, with the position
   * moved past them; null where none can be read.
   */
  private ConsumerRecords<byte[], byte[]> copy(
      Consumer<byte[], byte[]> main,
      Map<String, Object> readerConfig,
      TopicPartition partition,
      KafkaException failure) {
    long position;
    UnreadableBatches.Copy copy;
    try {
      // The batch that failed the check, where the consumer names it: the batches before it, from
      // the position on, yielded no record to the consumer with the check (transaction markers,
      // aborted transactions), whose position stays before them.
      position =
          Math.max(
              main.position(partition, Duration.ofSeconds(5)),
              UnreadableBatches.failedBatchOffset(failure, partition));
      try (Consumer<byte[], byte[]> reader =
          new KafkaConsumer<>(
              readerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        copy =
            UnreadableBatches.readBatchWithoutChecks(
                reader, partition, position, COPY_READ, () -> true);
      }
    } catch (KafkaException | IllegalStateException e) {
      LOG.error(
          "Release gate: the record batch at {} fails Kafka's checks ({}) and cannot be read"
              + " without them either ({}); it stays there, and the partition with it, until"
              + " someone seeks past it",
          partition,
          failure.getCause(),
          e.toString());
      return null;
    }
    List<ConsumerRecord<byte[], byte[]>> copies = copy.records();
    if (copies.isEmpty()) {
      boolean erasures = partition.topic().equals(Topics.AUDIT_ERASURES.name());
      if (copy.isMarkerAt(position) && !erasures) {
        return marker(main, partition, position, failure);
      }
      Optional<String> noLookup = Optional.empty();
      long end = -1;
      if (copy.end() > position + 1 && !erasures) {
        noLookup = offsetLookup(readerConfig).whyNot(COPY_READ);
        if (noLookup.isEmpty()) {
          end = recordLessEnd(readerConfig, partition, position, copy.end());
        }
      }
      if (end == position + 1) {
        // A marker whose damage made it claim several offsets: the next batch begins behind it.
        return marker(main, partition, position, failure);
      }
      if (end > 0) {
        return span(main, partition, position, end, failure);
      }
      LOG.error(
          "Release gate: the record batch at {}@{} fails Kafka's checks ({}) and its copy without"
              + " them holds no record ({}); it stays there, and the partition with it, until"
              + " someone seeks past it",
          partition,
          position,
          failure.getCause(),
          copy.end() == position
              ? "none read in " + COPY_READ.toSeconds() + " s"
              : copy.end() == position + 1 || erasures
                  ? "a transaction marker or a batch of an aborted transaction, or a record it"
                      + " could be: the gate never skips one of "
                      + Topics.AUDIT_ERASURES.name()
                  : "it claims offsets "
                      + position
                      + " to "
                      + (copy.end() - 1)
                      + ", and where it ends cannot be told"
                      + noLookup.map(why -> ": " + why).orElse(""));
      return null;
    }
    String reason =
        "Kafka's consumer refused the record batch holding this record ("
            + partition
            + " from offset "
            + position
            + "): it fails its CRC check or does not parse, so its bytes changed after they were"
            + " written (a disk or broker fault); kept as read without the check, they may differ"
            + " from what the client sent";
    List<ConsumerRecord<byte[], byte[]>> marked = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> copied : copies) {
      RecordHeaders headers = new RecordHeaders();
      headers.add(UNREADABLE_HEADER, reason.getBytes(StandardCharsets.UTF_8));
      // A damaged timestamp must not stop the stream thread (Kafka Streams fails on a negative
      // one).
      long timestamp = copied.timestamp() >= 0 ? copied.timestamp() : clock.millis();
      marked.add(
          new ConsumerRecord<>(
              copied.topic(),
              copied.partition(),
              copied.offset(),
              timestamp,
              copied.timestampType(),
              copied.serializedKeySize(),
              copied.serializedValueSize(),
              copied.key(),
              copied.value(),
              headers,
              copied.leaderEpoch()));
    }
    long next = copies.get(copies.size() - 1).offset() + 1;
    main.seek(partition, next);
    handedOn.addAndGet(marked.size());
    LOG.error(
        "Release gate: the record batch at {}@{} fails Kafka's checks ({}); its {} record(s)"
            + " (offsets {} to {}) go to the dead-letter topic, and the gate reads on from offset {}",
        partition,
        position,
        failure.getCause(),
        marked.size(),
        position,
        next - 1,
        next);
    return new ConsumerRecords<>(
        Map.of(partition, marked),
        Map.of(partition, new OffsetAndMetadata(next, Optional.empty(), "")));
  }

  /**
   * In place of the one-offset batch at {@code position} of {@code partition} that fails Kafka's
   * checks and yields no record without them: a transaction marker (or a record of an aborted
   * transaction, or one whose damage made it read as either). A record with neither key nor value
   * at its offset, marked, for the processor to dead-letter (so that the offset past it is
   * committed with that dead letter), with the main consumer's position moved past it.
   *
   * <p>No record's fate depends on the marker: with read_committed the consumer takes which
   * transactions were aborted from the fetch response, which the broker fills from its
   * aborted-transaction index (written when the marker was, and not read back from it), and a fetch
   * from the offset past the marker starts anew. The records of its transaction lie before it and
   * were decided so already; every read of them, after a restart as well, decides them so again.
   * What the gate cannot tell is whether the damage turned a record into what reads as a marker:
   * such a record is never released, and its dead letter names its offset. Not for audit.erasures,
   * where such a record would be an erasure notice whose loss would let its output be released:
   * there the partition waits, as before.
   */
  private ConsumerRecords<byte[], byte[]> marker(
      Consumer<byte[], byte[]> main,
      TopicPartition partition,
      long position,
      KafkaException failure) {
    String reason = UnreadableBatches.markerReason(partition, position, "released", "the gate");
    RecordHeaders headers = new RecordHeaders();
    headers.add(UNREADABLE_HEADER, reason.getBytes(StandardCharsets.UTF_8));
    ConsumerRecord<byte[], byte[]> placeholder =
        UnreadableBatches.markerPlaceholder(partition, position, clock.millis(), headers);
    main.seek(partition, position + 1);
    handedOn.incrementAndGet();
    markers.incrementAndGet();
    LOG.error(
        "Release gate: the record batch at {}@{} fails Kafka's checks ({}) and holds no record"
            + " without them, only that offset: a transaction marker, or a record that cannot be"
            + " told from one; it goes to the dead-letter topic as an offset without key or value,"
            + " and the gate reads on from offset {}",
        partition,
        position,
        failure.getCause(),
        position + 1);
    return new ConsumerRecords<>(
        Map.of(partition, List.of(placeholder)),
        Map.of(partition, new OffsetAndMetadata(position + 1, Optional.empty(), "")));
  }

  /**
   * Where the record-less damaged batch at {@code position} of {@code partition}, which claims to
   * end before {@code claimedEnd}, ends for sure ({@link UnreadableBatches#recordLessEnd}, read
   * with the check); -1 where that cannot be told.
   */
  private static long recordLessEnd(
      Map<String, Object> readerConfig, TopicPartition partition, long position, long claimedEnd) {
    try (Consumer<byte[], byte[]> checked =
        new KafkaConsumer<>(
            UnreadableBatches.checkingReaderProperties(readerConfig),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      return UnreadableBatches.recordLessEnd(
          checked, partition, position, claimedEnd, COPY_READ, () -> true);
    } catch (KafkaException | IllegalStateException e) {
      LOG.debug("Release gate: no end of the damaged batch at {}@{}", partition, position, e);
      return -1;
    }
  }

  /**
   * In place of the batch at {@code position} of {@code partition} that fails Kafka's checks and
   * yields no record without them over the offsets up to {@code end}, where the next batch begins
   * ({@link UnreadableBatches#recordLessEnd}): a batch of an aborted transaction, or one that
   * compaction emptied (or records that its damage made read as either). A record with neither key
   * nor value at each of its offsets, marked, for the processor to dead-letter, with the main
   * consumer's position moved to {@code end}. As for a marker ({@link #marker}), no record's fate
   * depends on the batch, and a record that its damage made read so is never released, its offset
   * in a dead letter; not for audit.erasures, where the partition waits.
   */
  private ConsumerRecords<byte[], byte[]> span(
      Consumer<byte[], byte[]> main,
      TopicPartition partition,
      long position,
      long end,
      KafkaException failure) {
    String reason = UnreadableBatches.spanReason(partition, position, end, "released", "the gate");
    List<ConsumerRecord<byte[], byte[]>> placeholders =
        UnreadableBatches.placeholders(
            partition,
            position,
            end,
            clock.millis(),
            () -> {
              RecordHeaders headers = new RecordHeaders();
              headers.add(UNREADABLE_HEADER, reason.getBytes(StandardCharsets.UTF_8));
              return headers;
            });
    main.seek(partition, end);
    handedOn.addAndGet(placeholders.size());
    LOG.error(
        "Release gate: the record batch at {}@{} fails Kafka's checks ({}) and holds no record"
            + " without them over offsets {} to {}, where the next batch begins; they go to the"
            + " dead-letter topic as offsets without key or value, and the gate reads on from"
            + " offset {}",
        partition,
        position,
        failure.getCause(),
        position,
        end - 1,
        end);
    return new ConsumerRecords<>(
        Map.of(partition, placeholders),
        Map.of(partition, new OffsetAndMetadata(end, Optional.empty(), "")));
  }
}
