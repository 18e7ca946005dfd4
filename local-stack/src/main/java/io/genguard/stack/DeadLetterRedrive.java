package io.genguard.stack;

import io.genguard.bias.job.DecodeVerdicts;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.DecodeOutputs;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.KeptDeadLetters;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends dead letters back to the topic they came from, once the reason they died is gone: the
 * records a stage could not decode (a producer ahead of a consumer's schemas, say) and that this
 * build's schemas decode. Anything else stays where it is and is counted by why: a dead letter that
 * keeps only part of its record, one a stage refused for what it said (a review of a request not
 * held, or a field longer than the stage takes: the stage's own check, {@link #oversizedForStage}),
 * one that still does not decode.
 *
 * <p>Reads the dead-letter topic from where the last run of the same group stopped to its end at
 * the start of the run, and commits that position only after the broker acknowledged every record
 * sent, so an interrupted run sends some records again: the audit store and the release gate
 * recognise a record they already have by its event id. Each record sent back names the stage it is
 * for ({@link DeadLetters#REDRIVEN_FOR}): the moderation and bias jobs skip records sent back for
 * another stage, which they read the first time, so a verdict is not scored or counted twice; a
 * record two stages dead-lettered goes back once for each.
 *
 * <p>A dead letter that still does not decode stays, but the run does not commit past it: in each
 * partition the committed position stays at the first such letter, so that a run of a build that
 * decodes it (after an upgrade) reads it again. The run still reads the rest of the topic and sends
 * back what it can; the commit's metadata names how far it read and which letters before that still
 * did not decode, so the next run passes over the letters between that it already sent or kept for
 * good and sends nothing twice.
 */
public final class DeadLetterRedrive {
  /** Header on a sent-back record: the dead letter it came from (topic-partition@offset). */
  public static final String HEADER = DeadLetters.REDRIVEN_FROM;

  /** Default consumer group: a second run goes on where the last one stopped. */
  public static final String DEFAULT_GROUP = "genguard-dlq-redrive";

  /** How long a run waits for records up to the end it saw at the start before it gives up. */
  static final Duration STALL = Duration.ofSeconds(30);

  /** Why a dead letter stays whose record this build's schemas do not decode either. */
  static final String STILL_UNDECODABLE = "still does not decode";

  /**
   * Marks a commit held back at a letter that still does not decode; its metadata then reads
   * "{@value} read-to=OFFSET undecodable=OFFSET,OFFSET,...".
   */
  static final String HELD_MARK = "genguard-dlq-redrive/1";

  /**
   * Most characters of a held commit's metadata (the broker's offset.metadata.max.bytes defaults to
   * 4096): when the letters that still do not decode would need more, the commit says it read only
   * up to the first letter it could not list, and the next run reads on normally from there.
   */
  static final int MAX_METADATA = 3_000;

  private DeadLetterRedrive() {}

  /**
   * What a run did.
   *
   * @param read dead letters read
   * @param sent records sent back to the source topic (in a dry run: that would have been)
   * @param kept dead letters left where they are, by why
   * @param examples the first dead letters of each reason: topic-partition@offset and the reason
   * @param heldAt per partition where a letter still does not decode, the first such letter
   *     (topic-partition@offset): the group's position stays there (in a dry run: would), so the
   *     next run reads it again
   * @param passedOver letters an earlier run of the group already sent back or kept for good,
   *     between where it held its position and where it read to: not read again
   */
  public record Result(
      String deadLetterTopic,
      String sourceTopic,
      boolean dryRun,
      long read,
      long sent,
      Map<String, Long> kept,
      Map<String, List<String>> examples,
      List<String> heldAt,
      long passedOver) {}

  /** A run's settings. */
  public record Settings(
      Map<String, Object> kafkaProperties,
      String deadLetterTopic,
      String stage,
      String group,
      boolean dryRun,
      boolean fromBeginning) {}

  /** The input topic whose dead letters {@code deadLetterTopic} holds; a clear error otherwise. */
  public static Topic<String, ?> sourceOf(String deadLetterTopic) {
    for (Topic<String, ?> topic : Topics.eventTopics()) {
      if (topic.deadLetterTopic().filter(deadLetterTopic::equals).isPresent()) {
        return topic;
      }
    }
    throw new IllegalArgumentException(
        "'"
            + deadLetterTopic
            + "' is not a dead-letter topic; GenGuard's are "
            + Topics.deadLetterTopics().stream().map(Topic::name).toList());
  }

  public static Result run(Settings settings) throws InterruptedException {
    Topic<String, ?> source = sourceOf(settings.deadLetterTopic());
    return run(settings, source.codec()::decode);
  }

  /**
   * With {@code decoder} for the source topic's records in place of this build's codec (tests: a
   * build whose schemas do not decode a record yet).
   */
  static Result run(Settings settings, Function<byte[], ? extends SpecificRecord> decoder)
      throws InterruptedException {
    Topic<String, ?> source = sourceOf(settings.deadLetterTopic());
    Topic<String, DeadLetter> deadLetters =
        Topics.deadLetterTopics().stream()
            .filter(topic -> topic.name().equals(settings.deadLetterTopic()))
            .findFirst()
            .orElseThrow();
    Properties consumerProps = new Properties();
    consumerProps.putAll(settings.kafkaProperties());
    consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, settings.group());
    consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Properties producerProps = new Properties();
    producerProps.putAll(settings.kafkaProperties());
    producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
    producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    KeptDeadLetters kept = new KeptDeadLetters();
    long read = 0;
    long sent = 0;
    long passedOver = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer =
            settings.dryRun()
                ? null
                : new KafkaProducer<>(
                    producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<PartitionInfo> infos =
          consumer.partitionsFor(settings.deadLetterTopic(), Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException(
            "The broker has no topic "
                + settings.deadLetterTopic()
                + " (is it the right cluster?)");
      }
      List<TopicPartition> partitions =
          infos.stream().map(info -> new TopicPartition(info.topic(), info.partition())).toList();
      consumer.assign(partitions);
      Map<TopicPartition, HeldPosition> held = new HashMap<>();
      ConsumerPositions.resume(consumer, partitions, settings.fromBeginning())
          .forEach(
              (partition, committed) ->
                  HeldPosition.parse(committed).ifPresent(h -> held.put(partition, h)));
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      // Per partition, in offset order: the letters of this run that still do not decode.
      Map<TopicPartition, List<Long>> undecodable = new HashMap<>();
      Set<String> sentSources = new HashSet<>();
      long lastProgress = System.nanoTime();
      while (!ConsumerPositions.reachedEnd(consumer, end)) {
        List<Future<?>> sends = new ArrayList<>();
        int polled = 0;
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          polled++;
          TopicPartition partition = new TopicPartition(record.topic(), record.partition());
          if (record.offset() >= end.get(partition)) {
            continue; // arrived during the run: the next run takes it
          }
          HeldPosition earlier = held.get(partition);
          if (earlier != null && earlier.handled(record.offset())) {
            passedOver++; // sent back or kept for good by the run that held the position
            continue;
          }
          read++;
          String where = record.topic() + "-" + record.partition() + "@" + record.offset();
          DeadLetter letter;
          try {
            letter = deadLetters.codec().decode(record.value());
          } catch (EventDecodingException e) {
            kept.keep(
                "not a dead letter: this build's DeadLetter schema does not decode it", where);
            continue;
          }
          String refusal = refusal(letter, source, decoder, settings.stage(), sentSources);
          if (refusal != null) {
            kept.keep(refusal, where);
            if (refusal.equals(STILL_UNDECODABLE)) {
              undecodable.computeIfAbsent(partition, p -> new ArrayList<>()).add(record.offset());
            }
            continue;
          }
          sent++;
          if (producer != null) {
            ProducerRecord<byte[], byte[]> back =
                new ProducerRecord<>(
                    source.name(), bytes(letter.getKey()), bytes(letter.getPayload()));
            back.headers().add(HEADER, where.getBytes(StandardCharsets.UTF_8));
            // Only the stage that could not read it reads it again; the others already did.
            back.headers()
                .add(DeadLetters.REDRIVEN_FOR, letter.getStage().getBytes(StandardCharsets.UTF_8));
            sends.add(producer.send(back));
          }
        }
        if (polled > 0) {
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > STALL.toNanos()) {
          throw new IllegalStateException(
              "No dead letters came for "
                  + STALL.toSeconds()
                  + " s before the end the topic had at the start; nothing after the last"
                  + " acknowledged batch was committed, so running again goes on from there");
        }
        for (Future<?> send : sends) {
          try {
            send.get(60, TimeUnit.SECONDS);
          } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                "Kafka did not acknowledge a record sent back to "
                    + source.name()
                    + "; this batch's position is not committed, so running again sends it again: "
                    + e,
                e);
          }
        }
        if (!settings.dryRun()) {
          Map<TopicPartition, OffsetAndMetadata> position = new HashMap<>();
          for (TopicPartition partition : partitions) {
            position.put(
                partition,
                commitFor(
                    Math.min(consumer.position(partition), end.get(partition)),
                    undecodable.getOrDefault(partition, List.of()),
                    held.get(partition)));
          }
          consumer.commitSync(position);
        }
      }
      List<String> heldAt = new ArrayList<>();
      for (TopicPartition partition : partitions) {
        OffsetAndMetadata last =
            commitFor(
                Math.min(consumer.position(partition), end.get(partition)),
                undecodable.getOrDefault(partition, List.of()),
                held.get(partition));
        if (!last.metadata().isEmpty()) {
          heldAt.add(partition.topic() + "-" + partition.partition() + "@" + last.offset());
        }
      }
      return new Result(
          settings.deadLetterTopic(),
          source.name(),
          settings.dryRun(),
          read,
          sent,
          kept.counts(),
          kept.examples(),
          heldAt,
          passedOver);
    }
  }

  /**
   * The position to commit in a partition this run read up to {@code position}: there, or, when
   * letters that still do not decode were kept, the first of them, with the metadata that lets the
   * next run pass over the letters after it that were already handled. Letters of {@code earlier}
   * (the position the run started from, when an earlier run held it) that this run has not reached
   * yet stay as that run left them, so a run stopped halfway loses nothing.
   *
   * @param undecodable this run's letters that still do not decode, in offset order
   */
  static OffsetAndMetadata commitFor(long position, List<Long> undecodable, HeldPosition earlier) {
    List<Long> pending = new ArrayList<>(undecodable);
    long readTo = position;
    if (earlier != null && earlier.readTo() > position) {
      readTo = earlier.readTo();
      earlier.undecodable().stream().filter(o -> o >= position).sorted().forEach(pending::add);
    }
    if (pending.isEmpty()) {
      return new OffsetAndMetadata(readTo);
    }
    StringBuilder listed = new StringBuilder();
    long handledTo = readTo;
    for (long offset : pending) {
      String next = (listed.length() == 0 ? "" : ",") + offset;
      if (HELD_MARK.length() + 64 + listed.length() + next.length() > MAX_METADATA) {
        handledTo = offset; // not listed: the next run reads on normally from here
        break;
      }
      listed.append(next);
    }
    return new OffsetAndMetadata(
        pending.get(0), HELD_MARK + " read-to=" + handledTo + " undecodable=" + listed);
  }

  /**
   * A position a run held back at a letter that still did not decode: it read up to {@code readTo},
   * and of the letters before that only {@code undecodable} still need reading.
   */
  record HeldPosition(long readTo, Set<Long> undecodable) {
    /** Whether the run that held the position already sent or kept for good the letter there. */
    boolean handled(long offset) {
      return offset < readTo && !undecodable.contains(offset);
    }

    /** The held position {@code committed} describes; empty for a plain commit or none. */
    static Optional<HeldPosition> parse(OffsetAndMetadata committed) {
      if (committed == null || committed.metadata() == null) {
        return Optional.empty();
      }
      String[] parts = committed.metadata().split(" ");
      if (parts.length != 3
          || !parts[0].equals(HELD_MARK)
          || !parts[1].startsWith("read-to=")
          || !parts[2].startsWith("undecodable=")) {
        return Optional.empty();
      }
      try {
        long readTo = Long.parseLong(parts[1].substring("read-to=".length()));
        Set<Long> offsets = new HashSet<>();
        for (String offset : parts[2].substring("undecodable=".length()).split(",")) {
          offsets.add(Long.parseLong(offset));
        }
        return Optional.of(new HeldPosition(readTo, Set.copyOf(offsets)));
      } catch (NumberFormatException e) {
        return Optional.empty(); // not ours after all: read everything from the position
      }
    }
  }

  /** Why this dead letter stays where it is, or null to send it back. */
  static String refusal(
      DeadLetter letter,
      Topic<String, ?> source,
      Function<byte[], ? extends SpecificRecord> decoder,
      String stage,
      Set<String> sentSources) {
    if (stage != null && !stage.equals(letter.getStage())) {
      return "another stage (" + letter.getStage() + ")";
    }
    if (!letter.getSourceTopic().equals(source.name())) {
      return "from another topic (" + letter.getSourceTopic() + ")";
    }
    if (!letter.getErrorClass().equals(EventDecodingException.class.getName())) {
      return "refused for what it says, not for its bytes ("
          + letter.getErrorClass()
          + "): sending it back would fail the same way";
    }
    if (letter.getPayload() == null || !DeadLetters.isWhole(letter)) {
      return "the dead letter keeps only part of the record: read the source record at its"
          + " offset";
    }
    SpecificRecord event;
    try {
      event = decoder.apply(bytes(letter.getPayload()));
    } catch (EventDecodingException e) {
      return STILL_UNDECODABLE;
    }
    for (String id : List.of("requestId", "outputId")) {
      Schema.Field field = event.getSchema().getField(id);
      if (field != null) {
        Object value = event.get(field.pos());
        if (value != null
            && value.toString().getBytes(StandardCharsets.UTF_8).length
                > DeadLetters.MAX_KEY_BYTES) {
          return "an id over " + DeadLetters.MAX_KEY_BYTES + " bytes, which the gate refuses";
        }
      }
    }
    String oversized = oversizedForStage(letter.getStage(), event);
    if (oversized != null) {
      return oversized;
    }
    String position =
        letter.getSourcePartition() + "@" + letter.getSourceOffset() + " " + letter.getStage();
    if (!sentSources.add(position)) {
      // The stage dead-lettered the same record twice (it read it again after a restart): once.
      // Two stages that dead-lettered it each get their own copy, marked for them.
      return "the same source record and stage as a dead letter sent back earlier in this run";
    }
    return null;
  }

  /**
   * Why the stage the record would go back to refuses it again for the length of a field, with the
   * check that stage itself applies (the moderation job's on an output, the bias job's on a
   * verdict), or null. Those stages dead-letter such a record as not decodable, so without this the
   * copy sent back would come back as a new dead letter, to be sent back by the next run, forever.
   */
  static String oversizedForStage(String stage, SpecificRecord event) {
    String field = null;
    int limit = 0;
    if (stage.equals(DecodeOutputs.STAGE) && event instanceof GenerationOutput output) {
      field = DecodeOutputs.oversizedFieldName(output);
      limit = DecodeOutputs.MAX_FIELD_BYTES;
    } else if (stage.equals(DecodeVerdicts.STAGE) && event instanceof ModerationVerdict verdict) {
      field = DecodeVerdicts.oversizedField(verdict);
      limit = DecodeVerdicts.MAX_FIELD_BYTES;
    }
    if (field == null) {
      return null;
    }
    return "refused by stage "
        + stage
        + " for what it holds (its "
        + field
        + " is over "
        + limit
        + " bytes): sending it back would fail the same way";
  }

  private static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return null;
    }
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }
}
