package io.genguard.audit.ingest;

import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every GenGuard topic (committed transactions only) and persists each event through the
 * {@link AuditWriter}. Offsets are committed only after the database transaction commits, and the
 * writer skips event ids it already has, so a crash at any point neither loses nor duplicates an
 * audit record. Bytes that do not decode are recorded as dead letters of stage "audit" (with the
 * same id the producing stage's dead letter would have), never skipped silently.
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
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    props.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1);
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.writer = writer;
    this.clock = clock;
    this.threadName = threadName;
    Topics.all().forEach(topic -> topicsByName.put(topic.name(), topic));
  }

  public void start() {
    consumer.subscribe(List.copyOf(topicsByName.keySet()));
    thread = new Thread(this::run, threadName);
    thread.start();
  }

  /** Events persisted by this ingestor since start (duplicates not counted). */
  public long persistedCount() {
    return persisted.get();
  }

  private void run() {
    try {
      while (running.get()) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          continue;
        }
        List<IncomingEvent> batch = new ArrayList<>(records.count());
        for (ConsumerRecord<byte[], byte[]> record : records) {
          batch.add(decode(record));
        }
        persistWithRetry(batch);
        consumer.commitSync();
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

  private IncomingEvent decode(ConsumerRecord<byte[], byte[]> record) {
    Topic<String, ?> topic = topicsByName.get(record.topic());
    try {
      return new IncomingEvent(
          record.topic(),
          record.partition(),
          record.offset(),
          topic.codec().decode(record.value()));
    } catch (EventDecodingException e) {
      return new IncomingEvent(
          record.topic(),
          record.partition(),
          record.offset(),
          DeadLetters.of(
              record.topic(),
              record.partition(),
              record.offset(),
              record.key(),
              record.value(),
              "audit",
              e,
              clock.instant()));
    }
  }

  /** The database may be briefly away; keep the batch (and the offsets) until it is written. */
  private void persistWithRetry(List<IncomingEvent> batch) throws InterruptedException {
    long backoff = 100;
    while (true) {
      try {
        persisted.addAndGet(writer.write(batch));
        return;
      } catch (SQLException e) {
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

  /** Stops after the batch in progress is written and committed. */
  @Override
  public void close() {
    running.set(false);
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
