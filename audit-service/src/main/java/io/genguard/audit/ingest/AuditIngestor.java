package io.genguard.audit.ingest;

import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.UnreadRecords;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.LogText;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every GenGuard topic (committed transactions only) and persists each event through the
 * {@link AuditWriter}. Offsets are committed only after the database transaction commits, and the
 * writer skips event ids it already has, so a crash at any point neither loses nor duplicates an
 * audit record. Bytes that do not decode are recorded as dead letters of stage "audit" (with the
 * same id the producing stage's dead letter would have), never skipped silently, and so is an event
 * that decodes but that the database refuses for what it holds ({@link #refuses}). A commit refused
 * because the group moved the partitions on (a write that outlasted max.poll.interval.ms) leaves
 * the batch to be re-read, and ingestion goes on. Records the broker deleted before they were read
 * (the audit service was down longer than the topic's retention) cannot be audited; the range is
 * recorded in the chain ({@link UnreadRecords}) before reading goes on.
 */
public final class AuditIngestor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditIngestor.class);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final AuditWriter writer;
  private final Clock clock;
  private final Map<String, Topic<String, ?>> topicsByName = new HashMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicLong persisted = new AtomicLong();
  private final String threadName;
  private final String groupId;
  private final AtomicLong neverAudited = new AtomicLong();
  private Thread thread;

  public AuditIngestor(
      Map<String, Object> kafkaProperties, String groupId, AuditWriter writer, Clock clock) {
    this(kafkaProperties, groupId, writer, clock, "audit-ingestor");
  }

  /**
   * @param threadName name of the ingestion thread; several ingestors of one group share the
   *     topics' partitions and write one chain (see {@link AuditWriter})
   */
  public AuditIngestor(
      Map<String, Object> kafkaProperties,
      String groupId,
      AuditWriter writer,
      Clock clock,
      String threadName) {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // "none": a partition never read starts at its first record (NoOffsetForPartitionException),
    // and a position the broker no longer has is recorded as a hole before reading goes on
    // (OffsetOutOfRangeException), instead of the consumer jumping over it silently.
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    props.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1);
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.writer = writer;
    this.clock = clock;
    this.threadName = threadName;
    this.groupId = groupId;
    Topics.all().forEach(topic -> topicsByName.put(topic.name(), topic));
  }

  public synchronized void start() {
    consumer.subscribe(List.copyOf(topicsByName.keySet()));
    thread = new Thread(this::run, threadName);
    thread.start();
  }

  /**
   * Records this ingestor found deleted by the broker before it read them, since start (each range
   * is recorded in the chain as {@value UnreadRecords#EVENT_TYPE}).
   */
  public long neverAuditedCount() {
    return neverAudited.get();
  }

  /** Events persisted by this ingestor since start (duplicates not counted). */
  public long persistedCount() {
    return persisted.get();
  }

  /**
   * Whether reading has ended without {@link #close} being called: an error stopped the thread (the
   * log says which, "Audit ingestion stopped"), and nothing of this ingestor's partitions is
   * audited until the service is started again. False before {@link #start}.
   */
  public boolean stoppedOnItsOwn() {
    return running.get() && stopped.getCount() == 0;
  }

  /** The name of this ingestor's thread. */
  public String name() {
    return threadName;
  }

  private void run() {
    try {
      while (running.get()) {
        ConsumerRecords<byte[], byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(200));
        } catch (NoOffsetForPartitionException e) {
          // Partitions this group never read: from their first record.
          consumer.seekToBeginning(assigned(e.partitions()));
          continue;
        } catch (OffsetOutOfRangeException e) {
          try {
            recordUnread(e.offsetOutOfRangePartitions());
          } catch (WakeupException stop) {
            throw stop;
          } catch (KafkaException unreachable) {
            // The partitions' ends could not be read (a broker away): the next poll finds the
            // same positions out of range and tries again.
            LOG.warn(
                "Cannot read where the partitions begin and end now: {}", unreachable.toString());
            Thread.sleep(1_000);
          }
          continue;
        }
        if (records.isEmpty()) {
          continue;
        }
        List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>(records.count());
        List<IncomingEvent> batch = new ArrayList<>(records.count());
        for (ConsumerRecord<byte[], byte[]> record : records) {
          read.add(record);
          batch.add(decode(record));
        }
        persistWithRetry(read, batch);
        try {
          consumer.commitSync();
        } catch (CommitFailedException | RebalanceInProgressException e) {
          // The group moved the partitions on (a database outage longer than
          // max.poll.interval.ms): whoever reads them next re-reads the batch, and the writer skips
          // what is already recorded. Keep polling rather than stop ingesting.
          LOG.warn(
              "Committing audit offsets failed ({}); the batch will be re-read and skipped where"
                  + " recorded",
              e.toString());
        }
      }
    } catch (WakeupException e) {
      if (running.get()) {
        throw e;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("Audit ingestion stopped: {}", e.toString(), e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
      stopped.countDown();
    }
  }

  private List<TopicPartition> assigned(Collection<TopicPartition> partitions) {
    Set<TopicPartition> assignment = consumer.assignment();
    return partitions.stream().filter(assignment::contains).toList();
  }

  /**
   * Positions the broker no longer has: records the range never read in the chain (retrying until
   * the database takes it, as events are), then goes on from the partition's first record as it was
   * when the range was drawn. Records the broker deleted meanwhile (while the range was being
   * written) put that position out of range in turn, and are recorded as a range of their own; a
   * seek to "the beginning" would pass over them at the next poll without a word.
   */
  private void recordUnread(Map<TopicPartition, Long> positions) throws InterruptedException {
    List<TopicPartition> partitions = assigned(positions.keySet());
    Map<TopicPartition, Long> beginnings = consumer.beginningOffsets(partitions);
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
    for (TopicPartition partition : partitions) {
      long position = positions.get(partition);
      long beginning = beginnings.get(partition);
      long end = ends.get(partition);
      UnreadRecords.Range range;
      if (position < beginning) {
        range =
            new UnreadRecords.Range(
                groupId,
                partition.topic(),
                partition.partition(),
                position,
                beginning,
                UnreadRecords.Cause.EXPIRED);
      } else if (position > end) {
        range =
            new UnreadRecords.Range(
                groupId,
                partition.topic(),
                partition.partition(),
                end,
                position,
                UnreadRecords.Cause.POSITION_PAST_END);
      } else {
        // In range again by now (a leader change): read on from where it was.
        consumer.seek(partition, position);
        continue;
      }
      LOG.error("Never audited: {}", range.describe());
      long backoff = 100;
      while (true) {
        try {
          UnreadRecords.record(writer.dataSource(), range, clock.instant())
              .filter(recorded -> recorded.cause() == UnreadRecords.Cause.EXPIRED)
              .ifPresent(recorded -> neverAudited.addAndGet(recorded.records()));
          break;
        } catch (SQLException e) {
          if (!running.get()) {
            throw new IllegalStateException(
                "Stopping before the range never audited was recorded; it will be found again", e);
          }
          LOG.warn("Recording the range never audited failed, retrying in {} ms", backoff, e);
          Thread.sleep(backoff);
          backoff = Math.min(backoff * 2, 5_000);
        }
      }
      consumer.seek(partition, beginning);
    }
  }

  private IncomingEvent decode(ConsumerRecord<byte[], byte[]> record) {
    Topic<String, ?> topic = topicsByName.get(record.topic());
    try {
      return new IncomingEvent(
          record.topic(),
          record.partition(),
          record.offset(),
          topic.codec().decode(record.value()));
    } catch (EventDecodingException e) {
      return deadLetter(record, e);
    }
  }

  /** The record as a dead letter of stage "audit", with its bytes and the reason. */
  private IncomingEvent deadLetter(ConsumerRecord<byte[], byte[]> record, Throwable reason) {
    return new IncomingEvent(
        record.topic(),
        record.partition(),
        record.offset(),
        DeadLetters.of(record, "audit", reason, clock.instant()));
  }

  /**
   * The database may be briefly away; keep the batch (and the offsets) until it is written. An
   * event the database refuses for what it holds (a NUL character, a time out of range, an id too
   * long to index, a unique key another record holds: {@link #refuses}), or a batch two of whose
   * events update one row in one statement, would be refused forever and stop ingestion; the batch
   * is then written one event at a time and an event still refused is recorded as a dead letter of
   * stage "audit", with the original bytes and the reason.
   */
  private void persistWithRetry(
      List<ConsumerRecord<byte[], byte[]>> read, List<IncomingEvent> batch)
      throws InterruptedException {
    try {
      persistWithRetry(batch);
    } catch (RefusedException refused) {
      LOG.warn(
          "{}; writing the batch of {} event(s) one at a time", refused.getMessage(), batch.size());
      for (int i = 0; i < batch.size(); i++) {
        IncomingEvent event = batch.get(i);
        try {
          persistWithRetry(List.of(event));
        } catch (RefusedException e) {
          ConsumerRecord<byte[], byte[]> record = read.get(i);
          LOG.error(
              "The audit store refused {} at {}-{} offset {}; recording it as a dead letter: {}",
              event.type(),
              record.topic(),
              record.partition(),
              record.offset(),
              e.getMessage());
          try {
            persistWithRetry(List.of(deadLetter(record, e)));
          } catch (RefusedException unrecordable) {
            throw new IllegalStateException(
                "The audit store refused even the dead letter of "
                    + record.topic()
                    + "-"
                    + record.partition()
                    + " offset "
                    + record.offset(),
                unrecordable);
          }
        }
      }
    }
  }

  private void persistWithRetry(List<IncomingEvent> batch)
      throws InterruptedException, RefusedException {
    long backoff = 100;
    while (true) {
      try {
        persisted.addAndGet(writer.write(batch));
        return;
      } catch (SQLException e) {
        if (refuses(writer, batch, e)) {
          throw new RefusedException(e);
        }
        if (!running.get()) {
          throw new IllegalStateException(
              "Stopping with an unwritten batch; it will be re-read", e);
        }
        LOG.warn("Audit write failed, retrying in {} ms: {}", backoff, e.getMessage());
        Thread.sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  /**
   * True when PostgreSQL refused the batch for what it holds, so a retry would be refused too: see
   * {@link #refusesForContent}, and a unique violation (23505) when none of the events the write
   * found new ({@link AuditWriter.FailedWriteException#freshEventIds}; the whole batch if it failed
   * before it knew) is in the audit log now. A unique violation is otherwise two writers given the
   * same events (a rebalance): PostgreSQL raises it only once the other writer has committed, so
   * some of them are then on record, and the retry skips them. Events on record before the write (a
   * batch re-read after a crash or a rebalance) say nothing either way, so they are not judged.
   * Whether any is on record unknown (the database away): not refused, retried.
   */
  static boolean refuses(AuditWriter writer, List<IncomingEvent> batch, SQLException e) {
    if (refusesForContent(e)) {
      return true;
    }
    if (!hasState(e, "23505")) {
      return false;
    }
    Collection<String> judged =
        e instanceof AuditWriter.FailedWriteException failed
            ? failed.freshEventIds()
            : batch.stream().map(IncomingEvent::eventId).toList();
    if (judged.isEmpty()) {
      // Nothing was new: the retry writes nothing.
      return false;
    }
    try {
      return writer.recorded(judged).isEmpty();
    } catch (SQLException unknown) {
      return false;
    }
  }

  private static boolean hasState(SQLException e, String state) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof SQLException sql && state.equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when PostgreSQL refused the data itself, so a retry would be refused too: cardinality
   * violations (class 21, e.g. two rows of one batch upserting one row: "ON CONFLICT DO UPDATE
   * command cannot affect row a second time"), data exceptions (22), integrity violations (23)
   * other than a unique violation (23505: two writers given the same event, whose retry skips it,
   * unless {@link #refuses} finds otherwise), program limits (54, e.g. an index row too large).
   * Errors of the service's own SQL or set-up (42: syntax, a missing table, a missing grant) are
   * the same for every event, so they are retried until someone fixes them, not dead-lettered.
   */
  static boolean refusesForContent(SQLException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        if (state.startsWith("21")
            || state.startsWith("22")
            || (state.startsWith("23") && !state.equals("23505"))
            || state.startsWith("54")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The audit store refused an event for what it holds. The message is PostgreSQL's first line for
   * the statement that failed, without the values that pgjdbc quotes in a batch's message (a prompt
   * does not belong in a log or a dead letter's reason), control characters replaced.
   */
  static final class RefusedException extends Exception {
    RefusedException(SQLException cause) {
      super(
          "The audit store refused the event (SQLState "
              + cause.getSQLState()
              + "): "
              + LogText.databaseRefusal(cause),
          cause);
    }
  }

  /**
   * Stops after the batch in progress is written and committed; one never started (its service's
   * start failed) closes its consumer at once.
   */
  @Override
  public void close() {
    running.set(false);
    synchronized (this) {
      if (thread == null) {
        if (stopped.getCount() > 0) {
          consumer.close(Duration.ofSeconds(5));
          stopped.countDown();
        }
        return;
      }
    }
    try {
      if (!stopped.await(15, TimeUnit.SECONDS)) {
        consumer.wakeup();
        stopped.await(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
