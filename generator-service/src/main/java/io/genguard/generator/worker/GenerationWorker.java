package io.genguard.generator.worker;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.PoolRouting;
import io.genguard.schemas.BatchOffsetLookup;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.EventTooLargeException;
import io.genguard.schemas.Topics;
import io.genguard.schemas.UnreadableBatches;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One generation worker: a consumer in the generator group over gen.requests and a transactional
 * producer. Consume-transform-produce: a micro-batch's outputs, failures and dead letters are
 * written and its input offsets committed in one Kafka transaction, so after a crash the batch is
 * either wholly visible to read_committed consumers or re-read and re-generated (with the same
 * seeds and event ids), never half-done or doubled.
 *
 * <p>Invariant: offsets are committed only inside a transaction that also holds every event for the
 * records below them. Records polled beyond the current batch wait in {@code pending} and are
 * dropped (to be re-read from the committed offset) when their partition is revoked or a
 * transaction aborts.
 *
 * <p>No Kafka failure ends the thread: a commit that timed out is retried, a producer left unusable
 * is replaced, the consumer then re-reading from the group's committed offsets, and a poll that
 * fails (an ACL change, a corrupt record, a broker away) is logged and tried again after a growing
 * pause, the requests already taken into the batch being served first. A record batch the consumer
 * refuses as corrupt (its CRC does not match) is copied without the check and its records (a
 * damaged transaction marker: its offset) dead-lettered, with the offset past them, in one
 * transaction ({@link #deadLetterUnreadable}); where that cannot be done, the poll is retried as
 * above. Only what leaves the consumer unable to poll ever again ends it: another member took over
 * its static group membership ({@link FencedInstanceIdException}), the consumer is closed, or the
 * thread is interrupted. The service's {@code genguard.generator.workers.running} gauge then drops
 * below {@link GeneratorMetrics#WORKERS_CONFIGURED}.
 *
 * <p>A worker of a pool that answers only some backends (the GPU pool) holds while one of them
 * cannot serve, its model not loading: it reads nothing further and commits nothing, its requests
 * waiting in Kafka (partitions paused, polled so that it stays in the group) until the backend's
 * own retries load the model. Such a pool reads in a group of its own and leaves every other
 * request to the main pool, so holding delays nobody else. A pool that also answers other backends
 * cannot hold: their requests share the partitions; there a request for a backend that cannot serve
 * fails at once, with the reason.
 */
public final class GenerationWorker implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(GenerationWorker.class);
  private static final Duration IDLE_POLL = Duration.ofMillis(200);

  /** Wait before trying again after Kafka refused a new producer or the committed offsets. */
  private static final Duration RECOVERY_BACKOFF = Duration.ofSeconds(1);

  /** The first pause after a failed poll; it doubles with each failed poll in a row. */
  private static final Duration FIRST_POLL_BACKOFF = Duration.ofMillis(500);

  /** The longest pause between failed polls. */
  private static final Duration MAX_POLL_BACKOFF = Duration.ofSeconds(30);

  /** Poll of a holding worker: how often it asks again whether its backends can serve. */
  private static final Duration HOLD_POLL = Duration.ofSeconds(1);

  /** How long the copy of a record batch that failed Kafka's checks may take to read. */
  private static final Duration SALVAGE_READ = Duration.ofSeconds(10);

  private final String name;
  private final Consumer<byte[], byte[]> consumer;
  private final Supplier<Producer<byte[], byte[]>> producerFactory;
  private final BatchProcessor processor;
  private final GeneratorMetrics metrics;

  /** Outcomes of the batch being written (outcome, code), counted once its transaction commits. */
  private final List<String[]> uncounted = new ArrayList<>();

  /** Tokens and latency of the batch being written, counted once its transaction commits. */
  private final List<BatchProcessor.Usage> unrecordedUsage = new ArrayList<>();

  private final int maxBatchSize;
  private final Duration maxBatchWait;
  private final Clock clock;
  private final AtomicBoolean running = new AtomicBoolean(true);

  /** Released by {@link #stop}, so that a pause ends at once. */
  private final CountDownLatch stopRequested = new CountDownLatch(1);

  /** Polls that failed in a row; the next poll waits first ({@link #pollBackoff}). */
  private int failedPolls;

  private final AtomicLong lag;
  private final AtomicLong holdingGauge;
  private final Deque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();
  private final Runnable beforeSubscribe;
  private final PoolRouting routing;

  /**
   * Makes a consumer that reads a record batch without Kafka's CRC check (given false) or with it
   * (given true; see {@link #deadLetterUnreadable}), or null where none is made (the batch then
   * stays until someone seeks past it).
   */
  private final Function<Boolean, Consumer<byte[], byte[]>> batchReaders;

  private final BatchOffsetLookup offsetLookup;

  /**
   * The partition, and its position, where the last poll failed because the data there failed the
   * consumer's checks; null when it did not.
   */
  private TopicPartition unreadable;

  private long unreadablePosition;

  /**
   * The offset of the batch that failed the checks at {@link #unreadable}: Kafka's consumer names
   * it, and it may lie past the position (the batches between yield no record: transaction markers,
   * aborted transactions).
   */
  private long unreadableBatch;

  private Producer<byte[], byte[]> producer;

  /** Whether the worker holds its requests in Kafka (see the class comment). */
  private volatile boolean holding;

  /** The batch being filled by polls; a rebalance inside one of them may take records away. */
  private List<ConsumerRecord<byte[], byte[]>> filling = new ArrayList<>();

  /**
   * @param producerFactory makes a transactional producer (called again whenever one is left
   *     unusable: fenced, or failed in a way that allows no further call)
   * @param beforeSubscribe runs on the worker thread before it joins the group (model warm-up)
   * @param routing which requests this worker's pool answers; the others it commits past without an
   *     event (another pool answers them). Records that do not decode it dead-letters whatever the
   *     routing.
   */
  public GenerationWorker(
      String name,
      Consumer<byte[], byte[]> consumer,
      Supplier<Producer<byte[], byte[]>> producerFactory,
      BatchProcessor processor,
      GeneratorMetrics metrics,
      int maxBatchSize,
      Duration maxBatchWait,
      Clock clock,
      Runnable beforeSubscribe,
      PoolRouting routing) {
    this(
        name,
        consumer,
        producerFactory,
        processor,
        metrics,
        maxBatchSize,
        maxBatchWait,
        clock,
        beforeSubscribe,
        routing,
        null,
        null);
  }

  /**
   * @param batchReaders makes a consumer (no group, a fetch of one record batch, read_committed),
   *     without the CRC check where given false, that copies a record batch the worker's consumer
   *     refuses as corrupt, so that the worker dead-letters its records and goes on, and with it
   *     where given true, that tells where a record-less damaged batch ends ({@link
   *     UnreadableBatches#recordLessEnd}); null to leave such a batch where it is
   * @param offsetLookup whether the brokers look a fetch's offset up by where batches begin (Kafka
   *     4.1 or newer), which telling where a record-less damaged batch over several offsets ends
   *     needs; null to leave such a batch where it is
   */
  public GenerationWorker(
      String name,
      Consumer<byte[], byte[]> consumer,
      Supplier<Producer<byte[], byte[]>> producerFactory,
      BatchProcessor processor,
      GeneratorMetrics metrics,
      int maxBatchSize,
      Duration maxBatchWait,
      Clock clock,
      Runnable beforeSubscribe,
      PoolRouting routing,
      Function<Boolean, Consumer<byte[], byte[]>> batchReaders,
      BatchOffsetLookup offsetLookup) {
    this.batchReaders = batchReaders;
    this.offsetLookup = offsetLookup;
    this.routing = routing;
    this.name = name;
    this.consumer = consumer;
    this.producerFactory = producerFactory;
    this.processor = processor;
    this.metrics = metrics;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchWait = maxBatchWait;
    this.clock = clock;
    this.lag = metrics.lagOf(name);
    this.holdingGauge = metrics.holdingOf(name);
    this.beforeSubscribe = beforeSubscribe;
  }

  /** Asks the worker to finish its current batch, commit it and stop. Returns at once. */
  public void stop() {
    running.set(false);
    stopRequested.countDown();
    consumer.wakeup();
  }

  @Override
  public void run() {
    try {
      beforeSubscribe.run();
      startProducer();
      consumer.subscribe(List.of(Topics.GENERATION_REQUESTS.name()), new DropPendingOnRevoke());
      while (running.get()) {
        if (holdWhileNotReady()) {
          continue;
        }
        List<ConsumerRecord<byte[], byte[]>> batch = nextBatch();
        if (!batch.isEmpty()) {
          processInTransaction(batch);
        }
      }
    } catch (WakeupException e) {
      if (running.get()) {
        LOG.error("Worker {} woken up unexpectedly", name, e);
      }
    } catch (CannotPollAgain e) {
      if (running.get()) {
        LOG.error(
            "Worker {} stopped for good: {}; its partitions move to other workers",
            name,
            e.getMessage(),
            e.getCause());
      } else {
        LOG.info("Worker {} stopping: {}", name, e.getMessage());
      }
    } catch (RuntimeException e) {
      LOG.error(
          "Worker {} stopped on an unexpected error; its partitions move to other workers",
          name,
          e);
    } finally {
      closeQuietly();
    }
  }

  /**
   * In a pool that answers only some backends, holds while one of them cannot serve: seeks back to
   * the first record not served (pending ones included), pauses every partition and polls once,
   * which returns nothing but keeps the worker in the group. Resumes when all can serve again.
   *
   * @return whether the worker holds (nothing was read to serve)
   */
  private boolean holdWhileNotReady() {
    if (routing.onlyBackends().isEmpty()) {
      return false;
    }
    Optional<String> reason = processor.whyNotReady(routing.onlyBackends());
    if (reason.isEmpty()) {
      if (holding) {
        holding = false;
        holdingGauge.set(0);
        consumer.resume(consumer.paused());
        LOG.info("Worker {} reads gen.requests again: its backends can serve", name);
      }
      return false;
    }
    if (!holding) {
      holding = true;
      holdingGauge.set(1);
      LOG.error(
          "Worker {} leaves its requests in Kafka until its backends can serve ({}); it reads"
              + " again once they can (a model that loads late, or after the restart the reason"
              + " asks for)",
          name,
          reason.get());
      rewind(List.of());
    }
    consumer.pause(consumer.assignment());
    ConsumerRecords<byte[], byte[]> records;
    try {
      records = poll(HOLD_POLL, "");
    } catch (WakeupException e) {
      running.set(false);
      return true;
    }
    if (records == null) {
      // A failed poll while holding: paused again after the back-off, like one while reading.
      pause(pollBackoff());
      return true;
    }
    failedPolls = 0;
    // Records of a partition assigned inside that poll, before it could be paused: read again
    // later, from the first of them.
    for (TopicPartition partition : records.partitions()) {
      consumer.seek(partition, records.records(partition).get(0).offset());
      consumer.pause(List.of(partition));
    }
    updateLag();
    return true;
  }

  /** Up to maxBatchSize records: what is pending, then polls until full or maxBatchWait passed. */
  private List<ConsumerRecord<byte[], byte[]>> nextBatch() {
    List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(maxBatchSize);
    filling = batch;
    while (batch.size() < maxBatchSize && !pending.isEmpty()) {
      batch.add(pending.poll());
    }
    long fillDeadline = batch.isEmpty() ? 0 : fillDeadline(clock.millis());
    while (batch.size() < maxBatchSize && running.get()) {
      if (failedPolls > 0) {
        if (!batch.isEmpty()) {
          // Serve what is pending before pausing for the next poll.
          break;
        }
        if (unreadable != null && deadLetterUnreadable()) {
          LOG.info("Worker {} polls again after {} failed poll(s)", name, failedPolls);
          failedPolls = 0;
        } else {
          pause(pollBackoff());
        }
        if (!running.get()) {
          break;
        }
      }
      boolean waitingForFirst = batch.isEmpty();
      Duration timeout =
          waitingForFirst
              ? IDLE_POLL
              : Duration.ofMillis(Math.max(0, fillDeadline - clock.millis()));
      ConsumerRecords<byte[], byte[]> records;
      try {
        records =
            poll(
                timeout,
                batch.isEmpty()
                    ? ""
                    : "serving the " + batch.size() + " request(s) already taken, ");
      } catch (WakeupException e) {
        // Closing: serve what was already taken, then stop.
        running.set(false);
        break;
      }
      if (records == null) {
        // Polled records stay in the batch: their offsets are past the consumer's position, so
        // dropping them would commit past them unserved. Served now, they commit with their
        // events in the batch's transaction as usual (or, if it aborts, are read again).
        break;
      }
      if (failedPolls > 0) {
        LOG.info("Worker {} polls again after {} failed poll(s)", name, failedPolls);
        failedPolls = 0;
      }
      updateLag();
      for (ConsumerRecord<byte[], byte[]> record : records) {
        if (batch.size() < maxBatchSize) {
          batch.add(record);
        } else {
          pending.add(record);
        }
      }
      if (batch.isEmpty()) {
        return batch;
      }
      if (waitingForFirst) {
        fillDeadline = fillDeadline(clock.millis());
      }
      if (clock.millis() >= fillDeadline) {
        break;
      }
    }
    return batch;
  }

  /**
   * When a batch whose first request came at {@code now} stops filling. Saturates instead of
   * overflowing: a wrapped sum would lie in the past, and batches would then not wait at all.
   */
  private long fillDeadline(long now) {
    long wait;
    try {
      wait = Math.max(0, maxBatchWait.toMillis());
    } catch (ArithmeticException e) {
      wait = Long.MAX_VALUE;
    }
    return now > Long.MAX_VALUE - wait ? Long.MAX_VALUE : now + wait;
  }

  private void processInTransaction(List<ConsumerRecord<byte[], byte[]>> batch) {
    metrics.batch(batch.size());
    uncounted.clear();
    unrecordedUsage.clear();
    List<ProducerRecord<byte[], byte[]>> events = new ArrayList<>();
    List<GenerationRequest> requests = new ArrayList<>();
    List<ConsumerRecord<byte[], byte[]>> sources = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record : batch) {
      if (DeadLetters.sentBackForAnotherStage(record.headers(), routing.deadLetterStage())) {
        // Sent back for the other pool, which could not read it the first time; this pool read
        // it then, and answered it if it was its share.
        uncounted.add(new String[] {"left", "sent_back_for_other_pool"});
        continue;
      }
      GenerationRequest request;
      try {
        request = Topics.GENERATION_REQUESTS.codec().decode(record.value());
      } catch (EventDecodingException e) {
        // Every pool, a side pool included, under its own stage: pools of different builds may
        // decode different schemas, and a record the main pool decodes only to leave it (a side
        // pool's backend) would otherwise end nowhere. The dead letter's event id is that of the
        // source position, so a second copy from another pool is recorded once; a redrive sends
        // each pool's copy back for that pool alone.
        events.add(deadLetter(record, e));
        continue;
      }
      if (routing.answers(request)) {
        requests.add(request);
        sources.add(record);
      } else {
        uncounted.add(new String[] {"left", "other_pool"});
      }
    }
    // Generation happens before the transaction opens, so a slow backend never holds one open.
    List<BatchProcessor.Result> results = processor.process(requests);
    for (int i = 0; i < results.size(); i++) {
      events.add(event(results.get(i), sources.get(i)));
      if (results.get(i).usage() != null) {
        unrecordedUsage.add(results.get(i).usage());
      }
    }
    try {
      producer.beginTransaction();
      for (ProducerRecord<byte[], byte[]> event : events) {
        producer.send(event);
      }
      producer.sendOffsetsToTransaction(nextOffsets(batch), consumer.groupMetadata());
      commitTransaction(batch.size());
      // Counted once written: a batch that is aborted and read again counts only when it lands.
      for (String[] outcome : uncounted) {
        metrics.outcome(outcome[0], outcome[1]);
      }
      unrecordedUsage.forEach(metrics::generated);
    } catch (ProducerFencedException
        | InvalidProducerEpochException
        | OutOfOrderSequenceException
        | AuthorizationException
        | UnsupportedVersionException
        | IllegalStateException e) {
      // The producer cannot continue: a newer instance took over its transactional id, or it is
      // broken, or in a state that allows no further call. Start a new one.
      LOG.warn(
          "Worker {} lost its producer ({}); re-reading the batch with a new one",
          name,
          e.toString());
      replaceProducer(batch);
    } catch (KafkaException e) {
      LOG.warn(
          "Worker {} could not commit a batch of {} ({}); aborting and re-reading it",
          name,
          batch.size(),
          e.toString());
      try {
        producer.abortTransaction();
        rewind(batch);
      } catch (KafkaException | IllegalStateException abortFailure) {
        // The real client refuses to abort after a commit timed out, for one.
        LOG.warn(
            "Worker {} could not abort the transaction either ({}); re-reading from the committed"
                + " offsets with a new producer",
            name,
            abortFailure.toString());
        replaceProducer(batch);
      }
    }
  }

  /**
   * Polls once. A failure the consumer can get past (an ACL change, a corrupt record, a broker
   * away) is logged and counted in {@link #failedPolls}, and gives null; one it cannot get past
   * ends the worker ({@link CannotPollAgain}); a wake-up (a stop) is thrown as it is.
   *
   * @param serving what the worker does before its next poll, for the log line ("" if nothing)
   */
  private ConsumerRecords<byte[], byte[]> poll(Duration timeout, String serving) {
    try {
      return consumer.poll(timeout);
    } catch (WakeupException e) {
      throw e;
    } catch (FencedInstanceIdException e) {
      throw new CannotPollAgain(
          "another consumer joined the group with this worker's group.instance.id (a second"
              + " process with the same GENGUARD_GENERATOR_INSTANCE_ID?) ("
              + e
              + "); give every process its own instance id and restart this one",
          e);
    } catch (InterruptException e) {
      throw new CannotPollAgain("its thread was interrupted while polling", e);
    } catch (KafkaException e) {
      failedPolls++;
      noteUnreadable(e);
      LOG.warn(
          "Worker {} could not poll {} ({}; {} in a row); {}polling again in {} ms",
          name,
          Topics.GENERATION_REQUESTS.name(),
          e,
          failedPolls,
          serving,
          pollBackoff().toMillis());
      return null;
    } catch (IllegalStateException e) {
      throw new CannotPollAgain("its consumer can no longer poll (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Notes the partition and position where a poll failed because the data there failed the
   * consumer's checks ({@link #unreadable}); forgets an earlier one otherwise.
   */
  private void noteUnreadable(KafkaException e) {
    unreadable = null;
    try {
      TopicPartition partition = UnreadableBatches.partitionOf(e, consumer.assignment());
      if (partition != null) {
        unreadablePosition = consumer.position(partition, Duration.ofSeconds(5));
        unreadableBatch =
            Math.max(unreadablePosition, UnreadableBatches.failedBatchOffset(e, partition));
        unreadable = partition;
      }
    } catch (KafkaException | IllegalStateException positionUnknown) {
      LOG.debug("Worker {}: no position after {}", name, e.toString(), positionUnknown);
    }
  }

  /**
   * Moves past a record batch of {@link #unreadable} that the consumer refuses (its CRC does not
   * match: changed on the broker's disk or on the way), so that one damaged batch does not stop its
   * partition for good. A second consumer copies exactly the batch the consumer names as failing
   * ({@link #unreadableBatch}), and nothing behind it, without the CRC check, and every record of
   * it becomes a dead letter with its bytes as they were read, in one transaction with the
   * partition's offset past the batch: nothing is skipped without its dead letter, which {@code dlq
   * redrive} can send again. A batch of one offset that holds no record without the check (a
   * transaction marker, or a record of an aborted transaction, or one whose damage made it read as
   * either) becomes a dead letter of that offset without key or value, so no request is generated
   * for it; no request depends on the marker, whose transaction the broker's aborted-transaction
   * index decides ({@link UnreadableBatches.Copy#isMarkerAt}). One that holds no record over
   * several offsets (a batch of an aborted transaction, or one that compaction emptied) becomes a
   * dead letter without key or value for each offset up to where the next batch begins ({@link
   * UnreadableBatches#recordLessEnd}: its own claim of where it ends lies within the damaged
   * bytes), but only where the brokers look a fetch's offset up by where batches begin (Kafka 4.1
   * or newer, {@link BatchOffsetLookup}); on older ones it stays, as before. Where the batch cannot
   * be copied (it does not even parse, or its end cannot be told, or it is not read in time) or the
   * transaction fails, nothing moves and the poll is retried after the back-off, as before.
   *
   * @return whether the partition moved past the batch
   */
  private boolean deadLetterUnreadable() {
    TopicPartition partition = unreadable;
    long position = unreadablePosition;
    long batchOffset = unreadableBatch;
    unreadable = null;
    if (batchReaders == null || producer == null) {
      return false;
    }
    try {
      if (!consumer.assignment().contains(partition) || consumer.position(partition) != position) {
        // Moved since (a rebalance, a rewind): the next poll says again whether it is damaged.
        return false;
      }
    } catch (KafkaException | IllegalStateException e) {
      return false;
    }
    UnreadableBatches.Copy copy;
    try (Consumer<byte[], byte[]> reader = batchReaders.apply(false)) {
      copy =
          UnreadableBatches.readBatchWithoutChecks(
              reader, partition, batchOffset, SALVAGE_READ, running::get);
    } catch (KafkaException | IllegalStateException e) {
      LOG.error(
          "Worker {}: the record batch at {}@{} fails Kafka's checks and cannot be read without"
              + " them either ({}); it stays there, and the partition with it, until someone seeks"
              + " past it",
          name,
          partition,
          batchOffset,
          e.toString());
      return false;
    }
    List<ConsumerRecord<byte[], byte[]>> copies = copy.records();
    long spanEnd = -1;
    Optional<String> noLookup = Optional.empty();
    if (copies.isEmpty() && copy.end() > batchOffset + 1) {
      noLookup =
          offsetLookup == null
              ? Optional.of("the worker was given no way to ask the brokers' version")
              : offsetLookup.whyNot(SALVAGE_READ);
      if (noLookup.isEmpty()) {
        try (Consumer<byte[], byte[]> checked = batchReaders.apply(true)) {
          spanEnd =
              UnreadableBatches.recordLessEnd(
                  checked, partition, batchOffset, copy.end(), SALVAGE_READ, running::get);
        } catch (KafkaException | IllegalStateException e) {
          LOG.debug("Worker {}: no end of {}@{}", name, partition, batchOffset, e);
        }
      }
    }
    // A marker whose damage made it claim several offsets ends where the next batch begins.
    boolean marker = copy.isMarkerAt(batchOffset) || spanEnd == batchOffset + 1;
    if (copies.isEmpty() && !marker && spanEnd < 0) {
      LOG.error(
          "Worker {}: the record batch at {}@{} fails Kafka's checks and its copy without them"
              + " holds no record ({}); it stays there, and the partition with it, until someone"
              + " seeks past it",
          name,
          partition,
          batchOffset,
          copy.end() == batchOffset
              ? "none read in " + SALVAGE_READ.toSeconds() + " s"
              : "it claims offsets "
                  + batchOffset
                  + " to "
                  + (copy.end() - 1)
                  + ", and where it ends cannot be told"
                  + noLookup.map(why -> ": " + why).orElse(""));
      return false;
    }
    if (marker) {
      copies =
          List.of(
              UnreadableBatches.markerPlaceholder(
                  partition, batchOffset, clock.millis(), new RecordHeaders()));
    } else if (copies.isEmpty()) {
      copies =
          UnreadableBatches.placeholders(
              partition, batchOffset, spanEnd, clock.millis(), RecordHeaders::new);
    }
    String reason =
        marker
            ? UnreadableBatches.markerReason(partition, batchOffset, "generated", "the generator")
            : spanEnd > 0
                ? UnreadableBatches.spanReason(
                    partition, batchOffset, spanEnd, "generated", "the generator")
                : "Kafka's consumer refused the record batch holding this record ("
                    + partition
                    + " from offset "
                    + batchOffset
                    + "): it fails its CRC check or does not parse, so its bytes changed after"
                    + " they were written (a disk or broker fault); kept as read without the"
                    + " check, they may differ from what the client sent";
    long next = copies.get(copies.size() - 1).offset() + 1;
    uncounted.clear();
    List<ProducerRecord<byte[], byte[]>> letters = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> copied : copies) {
      letters.add(deadLetter(copied, new CorruptRecordException(reason), "corrupt_record"));
    }
    try {
      producer.beginTransaction();
      for (ProducerRecord<byte[], byte[]> letter : letters) {
        producer.send(letter);
      }
      producer.sendOffsetsToTransaction(
          Map.of(partition, new OffsetAndMetadata(next)), consumer.groupMetadata());
      commitTransaction(letters.size());
    } catch (KafkaException | IllegalStateException e) {
      LOG.warn(
          "Worker {} could not dead-letter the damaged record batch at {}@{} ({}); it stays, and"
              + " is tried again after the back-off",
          name,
          partition,
          batchOffset,
          e.toString());
      try {
        producer.abortTransaction();
      } catch (KafkaException | IllegalStateException abortFailure) {
        closeProducer();
        startProducer();
      }
      return false;
    }
    for (String[] outcome : uncounted) {
      metrics.outcome(outcome[0], outcome[1]);
    }
    consumer.seek(partition, next);
    if (marker) {
      LOG.error(
          "Worker {}: the record batch at {}@{} fails Kafka's checks and holds no record without"
              + " them, only that offset: a transaction marker (whose transaction the broker's"
              + " index decides), or a record that cannot be told from one, which is never"
              + " generated; dead-lettered to {} as an offset without key or value, and reads on"
              + " from offset {}",
          name,
          partition,
          batchOffset,
          Topics.GENERATION_REQUESTS_DLQ.name(),
          next);
      return true;
    }
    LOG.error(
        "Worker {} dead-lettered {} record(s) of a damaged record batch at {}@{} (offsets {} to {})"
            + " to {}, and reads on from offset {}",
        name,
        letters.size(),
        partition,
        batchOffset,
        copies.get(0).offset(),
        next - 1,
        Topics.GENERATION_REQUESTS_DLQ.name(),
        next);
    return true;
  }

  /**
   * The pause before the next poll after {@link #failedPolls} failed ones: {@link
   * #FIRST_POLL_BACKOFF}, doubled for each further failure, at most {@link #MAX_POLL_BACKOFF}.
   */
  private Duration pollBackoff() {
    int doublings = Math.min(Math.max(0, failedPolls - 1), 16);
    long millis = FIRST_POLL_BACKOFF.toMillis() << doublings;
    return Duration.ofMillis(Math.min(millis, MAX_POLL_BACKOFF.toMillis()));
  }

  /**
   * Commits the open transaction. A commit that timed out (after max.block.ms) may still complete
   * on the broker, and the client then allows only the same call again (see {@code
   * KafkaProducer#commitTransaction}), so it is retried until it returns or fails otherwise. A stop
   * ends the retries: the new producer of this worker's successor settles the transaction.
   */
  private void commitTransaction(int batchSize) {
    while (true) {
      try {
        producer.commitTransaction();
        return;
      } catch (TimeoutException e) {
        if (!running.get()) {
          throw e;
        }
        LOG.warn(
            "Worker {} timed out committing a batch of {} ({}); retrying the commit",
            name,
            batchSize,
            e.toString());
      }
    }
  }

  /**
   * Makes a transactional producer and initializes its transactions (which fences any earlier
   * producer of this worker and settles its open transaction). Retries until it works or the worker
   * is stopped; on stop, leaves {@code producer} null.
   */
  private void startProducer() {
    while (running.get()) {
      try {
        if (producer == null) {
          producer = producerFactory.get();
        }
        producer.initTransactions();
        return;
      } catch (TimeoutException e) {
        // The same producer may call initTransactions again after a timeout.
        LOG.warn(
            "Worker {} timed out initializing its producer's transactions ({}); retrying",
            name,
            e.toString());
      } catch (KafkaException | IllegalStateException e) {
        LOG.warn(
            "Worker {} could not start a transactional producer ({}); trying a new one in {}",
            name,
            e.toString(),
            RECOVERY_BACKOFF);
        closeProducer();
        pause(RECOVERY_BACKOFF);
      }
    }
    closeProducer();
  }

  /**
   * Replaces a producer that can no longer be used, then re-reads from the group's committed
   * offsets. Whether the failed transaction committed may be unknown here, so the batch start could
   * be wrong either way; the committed offsets are not, once the new producer has settled that
   * transaction (and a read_committed consumer's offset fetch waits for open ones anyway).
   */
  private void replaceProducer(List<ConsumerRecord<byte[], byte[]>> batch) {
    closeProducer();
    startProducer();
    if (producer != null) {
      rewindToCommitted(batch);
    }
  }

  /**
   * The output or failure of one request. An event too large to write (the processor keeps outputs
   * and failure reasons within the limit, but not a request's own ids) becomes a dead letter of the
   * request instead: thrown, it would stop the worker, and every worker after it, on this record.
   *
   * <p>The request's outcome is noted here, once the event to write is known, so a request that
   * ends as a dead letter counts as that alone and not also as the failure it could not be; it is
   * counted when the transaction commits.
   */
  private ProducerRecord<byte[], byte[]> event(
      BatchProcessor.Result result, ConsumerRecord<byte[], byte[]> source) {
    String requestId =
        result.succeeded() ? result.output().getRequestId() : result.failure().getRequestId();
    int idBytes = requestId.getBytes(StandardCharsets.UTF_8).length;
    if (idBytes > RequestValidator.MAX_REQUEST_ID_BYTES) {
      // It keys the answer, which echoes it too: key and value could pass Kafka's request size
      // (max.request.size) though each is within the event limit, and the broker's refusal would
      // abort every transaction of this batch, and of every retry of it, for good.
      return deadLetter(
          source,
          new IllegalArgumentException(
              "requestId has "
                  + idBytes
                  + " bytes (UTF-8), more than the limit of "
                  + RequestValidator.MAX_REQUEST_ID_BYTES
                  + ": it would key the request's answer, so none is written; use a short unique"
                  + " id such as a UUID"),
          "request_id_too_long");
    }
    ProducerRecord<byte[], byte[]> event;
    try {
      event =
          result.succeeded()
              ? record(
                  Topics.GENERATION_OUTPUTS.name(),
                  result.output().getRequestId(),
                  Topics.GENERATION_OUTPUTS.codec().encode(result.output()))
              : record(
                  Topics.GENERATION_FAILURES.name(),
                  result.failure().getRequestId(),
                  Topics.GENERATION_FAILURES.codec().encode(result.failure()));
    } catch (EventTooLargeException e) {
      return deadLetter(source, e, "too_large");
    }
    uncounted.add(
        result.succeeded()
            ? new String[] {"output", "ok"}
            : new String[] {"failure", result.failure().getCode()});
    return event;
  }

  private ProducerRecord<byte[], byte[]> deadLetter(
      ConsumerRecord<byte[], byte[]> record, Exception error) {
    return deadLetter(record, error, "undecodable");
  }

  private ProducerRecord<byte[], byte[]> deadLetter(
      ConsumerRecord<byte[], byte[]> record, Exception error, String why) {
    uncounted.add(new String[] {"dead_letter", why});
    LOG.warn(
        "Dead-lettering the record at {}-{}@{}: {}",
        record.topic(),
        record.partition(),
        record.offset(),
        error.getMessage());
    DeadLetter letter = DeadLetters.of(record, routing.deadLetterStage(), error, clock.instant());
    // The dead letter and its record key are both cut to size: a record the broker accepted may
    // still be too big to copy whole.
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS_DLQ.name(),
        DeadLetters.recordKey(record.key()),
        Topics.GENERATION_REQUESTS_DLQ.codec().encode(letter));
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
    return new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
  }

  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(
      List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record : batch) {
      TopicPartition partition = new TopicPartition(record.topic(), record.partition());
      OffsetAndMetadata next = new OffsetAndMetadata(record.offset() + 1);
      offsets.merge(partition, next, (a, b) -> a.offset() >= b.offset() ? a : b);
    }
    return offsets;
  }

  /**
   * Seeks every partition of the batch (and of pending records) back to its first unserved record.
   */
  private void rewind(List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, Long> first = firstUnserved(batch);
    pending.clear();
    Set<TopicPartition> assigned = consumer.assignment();
    first.forEach(
        (partition, offset) -> {
          if (assigned.contains(partition)) {
            consumer.seek(partition, offset);
          }
        });
  }

  /**
   * Seeks every partition of the batch (and of pending records) to the group's committed offset, or
   * to its first unserved record where the group has none. Retries while the offsets cannot be
   * fetched: seeking nowhere would skip the batch.
   */
  private void rewindToCommitted(List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, Long> first = firstUnserved(batch);
    Set<TopicPartition> owned = new HashSet<>(first.keySet());
    owned.retainAll(consumer.assignment());
    while (running.get()) {
      try {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(owned);
        pending.clear();
        for (TopicPartition partition : owned) {
          OffsetAndMetadata offset = committed.get(partition);
          consumer.seek(partition, offset == null ? first.get(partition) : offset.offset());
        }
        return;
      } catch (TimeoutException e) {
        LOG.warn(
            "Worker {} could not fetch its committed offsets ({}); retrying", name, e.toString());
      } catch (WakeupException e) {
        throw e;
      } catch (KafkaException e) {
        LOG.warn(
            "Worker {} could not fetch its committed offsets ({}); retrying in {}",
            name,
            e.toString(),
            RECOVERY_BACKOFF);
        pause(RECOVERY_BACKOFF);
      }
    }
  }

  private Map<TopicPartition, Long> firstUnserved(List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record : batch) {
      first.merge(
          new TopicPartition(record.topic(), record.partition()), record.offset(), Math::min);
    }
    for (ConsumerRecord<byte[], byte[]> record : pending) {
      first.merge(
          new TopicPartition(record.topic(), record.partition()), record.offset(), Math::min);
    }
    return first;
  }

  /** Waits {@code duration}, or until {@link #stop} is called. */
  private void pause(Duration duration) {
    try {
      stopRequested.await(duration.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.set(false);
    }
  }

  private void updateLag() {
    long total = 0;
    for (TopicPartition partition : consumer.assignment()) {
      OptionalLong partitionLag = consumer.currentLag(partition);
      if (partitionLag.isPresent()) {
        total += partitionLag.getAsLong();
      }
    }
    lag.set(total + pending.size());
  }

  private void closeProducer() {
    try {
      if (producer != null) {
        producer.close(Duration.ofSeconds(2));
      }
    } catch (RuntimeException e) {
      LOG.debug("Closing producer of {} failed", name, e);
    }
    producer = null;
  }

  private void closeQuietly() {
    closeProducer();
    try {
      // Static members stay in the group on close unless told otherwise; leave so that the
      // partitions move at once instead of after the session timeout.
      consumer.close(
          org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(3))
              .withGroupMembershipOperation(
                  org.apache.kafka.clients.consumer.CloseOptions.GroupMembershipOperation
                      .LEAVE_GROUP));
    } catch (RuntimeException e) {
      LOG.debug("Closing consumer of {} failed", name, e);
    }
    lag.set(0);
    holdingGauge.set(0);
    LOG.info("Worker {} stopped", name);
  }

  /** Why the consumer can never poll again, so the worker ends; the message says why. */
  private static final class CannotPollAgain extends RuntimeException {
    CannotPollAgain(String why, RuntimeException cause) {
      super(why, cause);
    }
  }

  /** Forgets polled-but-unserved records of partitions this worker no longer owns. */
  private final class DropPendingOnRevoke implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      pending.removeIf(
          record -> partitions.contains(new TopicPartition(record.topic(), record.partition())));
      // Records of a revoked partition already in the batch being filled go too: the new owner
      // serves them from the committed offset.
      filling.removeIf(
          record -> partitions.contains(new TopicPartition(record.topic(), record.partition())));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (holding) {
        consumer.pause(partitions);
      }
      LOG.info("Worker {} now serves {}{}", name, partitions, holding ? " (holding)" : "");
    }
  }
}
