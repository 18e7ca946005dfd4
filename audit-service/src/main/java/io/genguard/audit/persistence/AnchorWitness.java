package io.genguard.audit.persistence;

import io.genguard.audit.persistence.AnchorLog.AnchorLine;
import io.genguard.audit.persistence.ChainVerifier.Anchor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A second copy of every anchor line, in a Kafka topic: a witness kept by another system than the
 * audit database and the disk the anchor file is on. The file alone cannot show that its newest
 * lines were cut off together with the newest records, and whoever holds the signing key can write
 * a new file that agrees with a rewritten chain; against the witness both show ({@link #check}), as
 * long as the topic is not writable by the same hands.
 *
 * <p>The topic has one partition (the lines' order is the witness) and keeps its records forever.
 * Each record's value is one line of the anchor file, byte for byte, its key the line's seq. After
 * every anchoring round the service sends the lines the topic does not hold yet, oldest first
 * ({@link #catchUp}): a line that could not be sent (Kafka down) goes out in a later round, and at
 * start the witness reads the topic's last line to know where it stands. One topic witnesses one
 * anchor file: give every audit service that anchors its own topic.
 */
public final class AnchorWitness implements AutoCloseable, MeterBinder {
  /** Seq of the newest line the witness topic holds. */
  public static final String SEQ_METRIC = "genguard.audit.anchor.witness.seq";

  /** Longest a witness line may be: a real one has about 250 characters. */
  private static final int MAX_RECORD_BYTES = AnchorLog.MAX_LINE_CHARS * 4;

  private final Map<String, Object> kafka;
  private final String topic;
  private final Path anchorFile;
  private final Duration timeout;
  private final KafkaProducer<String, String> producer;
  // -1 until read from the topic; written under the lock, read by the gauge.
  private volatile long witnessedSeq = -1;
  // Where the last round stopped reading the anchor file; written under the lock.
  private AnchorLog.Position read = AnchorLog.Position.START;

  /**
   * @param kafka client properties of the cluster that keeps the witness
   * @param topic the witness topic ({@code GENGUARD_AUDIT_ANCHOR_WITNESS_TOPIC})
   * @param anchorFile the anchor file it witnesses
   * @param timeout how long one send or read may take
   */
  public AnchorWitness(Map<String, Object> kafka, String topic, Path anchorFile, Duration timeout) {
    this.kafka = Map.copyOf(kafka);
    this.topic = topic;
    this.anchorFile = anchorFile;
    this.timeout = timeout;
    Map<String, Object> producerProperties = new HashMap<>(kafka);
    producerProperties.put(ProducerConfig.ACKS_CONFIG, "all");
    producerProperties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerProperties.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
    int millis = (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE);
    // Kafka wants delivery >= linger + request timeout.
    producerProperties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, millis);
    producerProperties.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(millis, 30_000));
    producerProperties.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    this.producer =
        new KafkaProducer<>(producerProperties, new StringSerializer(), new StringSerializer());
  }

  public String topic() {
    return topic;
  }

  /**
   * Creates the topic (one partition, records kept forever) when it does not exist.
   *
   * @throws IllegalStateException if it exists with more than one partition, or cannot be created
   */
  public void ensureTopic() {
    try (Admin admin = Admin.create(kafka)) {
      try {
        admin
            .createTopics(
                List.of(
                    new NewTopic(topic, Optional.of(1), Optional.empty())
                        .configs(
                            Map.of(
                                TopicConfig.RETENTION_MS_CONFIG, "-1",
                                TopicConfig.RETENTION_BYTES_CONFIG, "-1",
                                TopicConfig.CLEANUP_POLICY_CONFIG,
                                    TopicConfig.CLEANUP_POLICY_DELETE))))
            .all()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException(
              "Cannot create the anchor witness topic " + topic + ": " + e.getCause(), e);
        }
      }
      TopicDescription description =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic);
      if (description.partitions().size() != 1) {
        throw new IllegalStateException(
            "The anchor witness topic "
                + topic
                + " has "
                + description.partitions().size()
                + " partitions; it needs exactly one, since the order of its lines is part of"
                + " the evidence");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Cannot describe the anchor witness topic " + topic, e);
    }
  }

  /**
   * Sends the anchor file's lines that the topic does not hold yet, oldest first, each acknowledged
   * by every in-sync replica before the next.
   *
   * @return how many lines were sent
   * @throws IllegalStateException if the topic's last line is not an anchor line (something else
   *     writes the topic: nothing is added after it until that is looked at)
   */
  public synchronized int catchUp() throws IOException {
    return catchUp(Long.MAX_VALUE);
  }

  /**
   * As {@link #catchUp()}, but reads the anchor file only when {@code anchoredSeq} (the anchor
   * log's newest seq) is past what the witness holds: a round with nothing new costs no read of a
   * file that grows for years.
   */
  public synchronized int catchUp(long anchoredSeq) throws IOException {
    if (witnessedSeq < 0) {
      witnessedSeq = lastWitnessedSeq();
    }
    if (anchoredSeq <= witnessedSeq || !Files.exists(anchorFile)) {
      return 0;
    }
    int[] sent = {0};
    // Only the bytes after the last line read are read again: the file grows for years.
    read =
        AnchorLog.readFrom(
            anchorFile,
            read,
            line -> {
              if (line.anchor().seq() > witnessedSeq) {
                send(line);
                witnessedSeq = line.anchor().seq();
                sent[0]++;
              }
            });
    return sent[0];
  }

  private void send(AnchorLine line) throws IOException {
    try {
      producer
          .send(new ProducerRecord<>(topic, 0, Long.toString(line.anchor().seq()), line.text()))
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while sending an anchor line to " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException(
          "Cannot send anchor line "
              + line.line()
              + " (seq "
              + line.anchor().seq()
              + ") to the witness topic "
              + topic
              + ": "
              + (e.getCause() == null ? e : e.getCause()),
          e);
    }
  }

  /** Every line the witness topic holds, compactly ({@link #readLines}). */
  public WitnessLines readAll() {
    return readLines(kafka, topic, timeout);
  }

  /** The newest seq the topic held when last read or sent to; -1 before the first round. */
  public long witnessedSeq() {
    return witnessedSeq;
  }

  private long lastWitnessedSeq() {
    List<Witnessed> last = new ArrayList<>();
    read(kafka, topic, timeout, true, last::add);
    if (last.isEmpty()) {
      return 0;
    }
    Witnessed newest = last.get(last.size() - 1);
    return AnchorLog.parse(newest.source(topic), 1, newest.text()).anchor().seq();
  }

  /**
   * Every line the witness topic holds, oldest first.
   *
   * @throws IllegalStateException if the topic does not exist or cannot be read within {@code
   *     timeout}
   */
  public static List<Witnessed> read(Map<String, Object> kafka, String topic, Duration timeout) {
    List<Witnessed> lines = new ArrayList<>();
    read(kafka, topic, timeout, false, lines::add);
    return List.copyOf(lines);
  }

  /**
   * Every line the witness topic holds, oldest first, kept compactly as they are read ({@link
   * WitnessLines}): what {@link #check} compares, in little memory however long the topic.
   *
   * @throws IllegalStateException if the topic does not exist or cannot be read within {@code
   *     timeout}
   */
  public static WitnessLines readLines(Map<String, Object> kafka, String topic, Duration timeout) {
    WitnessLines lines = new WitnessLines(topic);
    read(kafka, topic, timeout, false, lines::accept);
    return lines;
  }

  private static void read(
      Map<String, Object> kafka,
      String topic,
      Duration timeout,
      boolean lastOnly,
      java.util.function.Consumer<Witnessed> sink) {
    Map<String, Object> properties = new HashMap<>(kafka);
    properties.remove(ConsumerConfig.GROUP_ID_CONFIG);
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // Reading must not create the topic: a missing witness is a finding.
    properties.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    properties.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1 << 20);
    properties.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
      List<PartitionInfo> partitions = consumer.partitionsFor(topic, timeout);
      if (partitions == null || partitions.isEmpty()) {
        throw new IllegalStateException("The anchor witness topic " + topic + " does not exist");
      }
      List<TopicPartition> assigned =
          partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(assigned);
      Map<TopicPartition, Long> ends = consumer.endOffsets(assigned, timeout);
      if (lastOnly) {
        ends.forEach((partition, end) -> consumer.seek(partition, Math.max(0, end - 1)));
      } else {
        consumer.seekToBeginning(assigned);
      }
      while (assigned.stream().anyMatch(p -> consumer.position(p, timeout) < ends.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "Reading the anchor witness topic " + topic + " took longer than " + timeout);
        }
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          if (record.offset() < ends.get(new TopicPartition(record.topic(), record.partition()))) {
            sink.accept(
                new Witnessed(
                    record.partition(),
                    record.offset(),
                    record.value() == null ? "" : record.value(),
                    partitions.size()));
          }
        }
      }
    }
  }

  /**
   * One record of the witness topic.
   *
   * @param partitions how many partitions the topic has (one, unless someone changed it)
   */
  public record Witnessed(int partition, long offset, String text, int partitions) {
    String source(String topic) {
      return "Anchor witness topic " + topic + " partition " + partition + " offset " + offset;
    }
  }

  /**
   * What comparing the anchor file with its witness found.
   *
   * @param witnessed anchor lines in the witness topic (a line sent twice counted once)
   * @param matched of these, lines the file holds byte for byte
   * @param notYetWitnessed file lines newer than the witness's newest (sent in the next round, or
   *     the witness is behind: see {@link #SEQ_METRIC})
   * @param problems each names the line and what is wrong; empty when the two agree
   */
  public record WitnessCheck(
      String topic, int witnessed, int matched, int notYetWitnessed, List<String> problems) {
    public boolean valid() {
      return problems.isEmpty();
    }

    public String summary() {
      if (valid()) {
        return "Anchor witness OK: the topic "
            + topic
            + " holds "
            + witnessed
            + " line(s), each in the anchor file as written"
            + (notYetWitnessed == 0
                ? ""
                : "; " + notYetWitnessed + " newer file line(s) not witnessed yet");
      }
      return "Anchor witness in "
          + topic
          + " does not agree with the anchor file ("
          + problems.size()
          + " problem(s)):\n  "
          + String.join("\n  ", problems);
    }
  }

  /**
   * The lines of a witness topic as {@link #check} compares them: each anchor line once, in seq
   * order, compactly ({@link AnchorIndex}: offsets as places), with what is wrong with the records
   * that are not (another writer, more than one partition), found as they are read.
   */
  public static final class WitnessLines {
    private final String topic;
    private final AnchorIndex lines = new AnchorIndex();
    private final Problems problems = new Problems();
    private boolean partitionsReported;

    public WitnessLines(String topic) {
      this.topic = topic;
    }

    /** The topic's next record. */
    public void accept(Witnessed record) {
      if (record.partitions() != 1 && !partitionsReported) {
        partitionsReported = true;
        problems.add(
            "the topic has "
                + record.partitions()
                + " partitions; a witness has one, since the order of its lines is evidence");
      }
      if (record.text().length() > MAX_RECORD_BYTES) {
        problems.add(
            "offset "
                + record.offset()
                + " holds "
                + record.text().length()
                + " characters, not an anchor line: something else writes the topic");
        return;
      }
      AnchorLine line;
      try {
        line = AnchorLog.parse(record.source(topic), 1, record.text());
      } catch (IllegalArgumentException e) {
        problems.add(
            "offset "
                + record.offset()
                + " is not an anchor line ("
                + e.getMessage()
                + "): something else writes the topic");
        return;
      }
      int last = lines.size() - 1;
      if (last >= 0) {
        if (lines.sameText(last, line.text())) {
          return; // sent again after a send whose acknowledgement was lost
        }
        if (line.anchor().seq() <= lines.seq(last)) {
          problems.add(
              "offset "
                  + record.offset()
                  + " (seq "
                  + line.anchor().seq()
                  + ") does not follow the line before it (seq "
                  + lines.seq(last)
                  + "): something else writes the topic");
          return;
        }
      }
      lines.add(record.offset(), line);
    }

    /** The anchor lines, once each, in seq order. */
    public AnchorIndex lines() {
      return lines;
    }
  }

  /**
   * Compares an anchor file with the lines its witness holds ({@link #check(String, AnchorIndex,
   * WitnessLines)}).
   */
  public static WitnessCheck check(String topic, AnchorLog.Anchors file, List<Witnessed> witness) {
    WitnessLines lines = new WitnessLines(topic);
    witness.forEach(lines::accept);
    return check(topic, file.index(), lines);
  }

  /**
   * Compares an anchor file with the lines its witness holds: every witnessed line must be in the
   * file as written, in the same order, and every file line older than the newest witnessed one
   * must have been witnessed. Lines newer than the witness's newest are counted, not faulted (the
   * next round sends them). A witness with no line while the file has some fails, as an emptied
   * topic would otherwise pass.
   *
   * @param file the file's lines, line numbers as places ({@link AnchorLog#index})
   */
  public static WitnessCheck check(String topic, AnchorIndex file, WitnessLines witness) {
    Problems problems = witness.problems.copy();
    AnchorIndex lines = witness.lines();
    int matched = 0;
    for (int w = 0; w < lines.size(); w++) {
      long seq = lines.seq(w);
      int first = file.first(seq);
      boolean inFile = false;
      for (int f = first; f >= 0 && f < file.size() && file.seq(f) == seq && !inFile; f++) {
        inFile = lines.sameText(w, file, f);
      }
      if (inFile) {
        matched++;
      } else if (first >= 0) {
        problems.add(
            "file line "
                + file.place(first)
                + " (seq "
                + seq
                + ") is not the line witnessed at offset "
                + lines.place(w)
                + ": it was rewritten after it was witnessed");
      } else {
        problems.add(
            "seq "
                + seq
                + ", witnessed at offset "
                + lines.place(w)
                + ", is not in the anchor file: lines were removed from it");
      }
    }
    long newestWitnessed = lines.isEmpty() ? 0 : lines.seq(lines.size() - 1);
    int notYet = 0;
    for (int f = 0; f < file.size(); f++) {
      if (lines.first(file.seq(f)) >= 0) {
        continue; // matched, or a rewrite reported above
      }
      if (file.seq(f) > newestWitnessed) {
        notYet++;
      } else {
        problems.add(
            "file line "
                + file.place(f)
                + " (seq "
                + file.seq(f)
                + ") was never witnessed, though newer lines were: it was inserted");
      }
    }
    if (lines.isEmpty() && !file.isEmpty() && problems.isEmpty()) {
      problems.add(
          "the topic holds no anchor line, while the file has "
              + file.size()
              + ": the witness was emptied, or never ran");
    }
    return new WitnessCheck(topic, lines.size(), matched, notYet, problems.list());
  }

  /** The heads the witness holds, to check the chain against them as well as the file's. */
  public static List<Anchor> anchors(String topic, List<Witnessed> witness) {
    List<Anchor> anchors = new ArrayList<>();
    for (Witnessed record : witness) {
      try {
        anchors.add(AnchorLog.parse(record.source(topic), 1, record.text()).anchor());
      } catch (IllegalArgumentException e) {
        // reported by check
      }
    }
    return anchors;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder(SEQ_METRIC, this, witness -> Math.max(0, witness.witnessedSeq()))
        .description(
            "Seq of the newest anchor line in the witness topic; alert when it stays behind "
                + AnchorLog.SEQ_METRIC)
        .register(registry);
  }

  @Override
  public void close() {
    producer.close(timeout);
  }
}
