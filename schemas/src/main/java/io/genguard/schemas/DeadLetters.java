package io.genguard.schemas;

import io.genguard.events.v1.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Builds dead-letter events that keep the original bytes (up to a size budget), the reason and the
 * source position.
 *
 * <p>Invariant: a dead-letter record, its key from {@link #recordKey} and its value from {@link
 * #of}, always fits under Kafka's default {@code max.request.size} (1 MiB), whatever the source
 * record held. A dead letter that cannot be written would fail its transaction, and the stage that
 * wrote it would re-read the same record and fail again, forever.
 */
public final class DeadLetters {
  /**
   * Most bytes of the source key a dead letter keeps, and the most a dead-letter record's own key
   * has. Request ids are far shorter: a longer key is itself what went wrong, and the source offset
   * leads to all of it.
   */
  public static final int MAX_KEY_BYTES = 1024;

  /**
   * Most bytes of source key and payload together that a dead letter keeps: half the event limit,
   * which leaves room for the record key, the reason and the record overhead.
   */
  static final int MAX_KEPT_BYTES = EventCodec.MAX_EVENT_BYTES / 2;

  /** Longest reason kept, in chars (at most 3 UTF-8 bytes each). */
  static final int MAX_REASON_CHARS = 4096;

  /** How a reason says the dead letter keeps only part of the key or payload. */
  private static final String CUT = " [this dead letter keeps only ";

  /**
   * Header on a record sent back from a dead-letter topic: the dead letter
   * (topic-partition@offset).
   */
  public static final String REDRIVEN_FROM = "genguard-redriven-from";

  /**
   * Header on a record sent back from a dead-letter topic: the stage whose dead letter it was, the
   * one stage meant to read it again. Every consumer of the source topic sees the record again;
   * those that read it the first time skip it ({@link #sentBackForAnotherStage}) instead of
   * counting or scoring it twice.
   */
  public static final String REDRIVEN_FOR = "genguard-redriven-for";

  private DeadLetters() {}

  /**
   * Whether {@code stage} should skip this record: it was sent back from a dead-letter topic for
   * another stage, so {@code stage} read it the first time. A record without the header, or with a
   * header that names no stage, is read as usual (reading twice is what idempotent consumers
   * already tolerate; skipping a record a stage never read would lose it).
   */
  public static boolean sentBackForAnotherStage(Headers headers, String stage) {
    Header header = headers == null ? null : headers.lastHeader(REDRIVEN_FOR);
    if (header == null || header.value() == null || header.value().length == 0) {
      return false;
    }
    return !stage.equals(new String(header.value(), StandardCharsets.UTF_8));
  }

  /**
   * A dead letter for a record that could not be decoded or processed. It keeps at most the first
   * {@value #MAX_KEY_BYTES} bytes of the key and as much of the payload as fits in the rest of its
   * budget; the reason then says what was cut.
   *
   * @param stage the component that gave up (generator, moderation, gate, audit)
   */
  public static DeadLetter of(
      String sourceTopic,
      int partition,
      long offset,
      byte[] key,
      byte[] payload,
      String stage,
      Throwable error,
      Instant now) {
    byte[] keptKey = key == null ? null : head(key, MAX_KEY_BYTES);
    int payloadBudget = MAX_KEPT_BYTES - (keptKey == null ? 0 : keptKey.length);
    byte[] keptPayload = payload == null ? null : head(payload, payloadBudget);
    List<String> cuts = new ArrayList<>();
    if (key != null && keptKey.length < key.length) {
      cuts.add("the first " + keptKey.length + " of " + key.length + " key bytes");
    }
    if (payload != null && keptPayload.length < payload.length) {
      cuts.add("the first " + keptPayload.length + " of " + payload.length + " payload bytes");
    }
    String reason =
        shorten(error.getMessage() == null ? error.getClass().getName() : error.getMessage());
    if (!cuts.isEmpty()) {
      reason +=
          CUT
              + String.join(" and ", cuts)
              + "; the source record "
              + sourceTopic
              + "-"
              + partition
              + "@"
              + offset
              + " has them all]";
    }
    return DeadLetter.newBuilder()
        // Deterministic: a redelivered record yields the same dead letter, which the audit store
        // then records once. The stage is not in it (ids already on record stay as they are), so
        // when two stages give up on one record the audit store keeps the copy it reads first;
        // DeadLetterRecovery reads other stages' dead letters in place of the audit's own.
        .setEventId(
            EventIds.nameBased(
                "dlq", sourceTopic, Integer.toString(partition), Long.toString(offset)))
        .setSourceTopic(sourceTopic)
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .setKey(keptKey == null ? null : ByteBuffer.wrap(keptKey))
        .setPayload(keptPayload == null ? null : ByteBuffer.wrap(keptPayload))
        .setStage(stage)
        .setReason(reason)
        .setErrorClass(error.getClass().getName())
        .setFailedAt(now)
        .build();
  }

  /**
   * Whether the dead letter keeps its record's key and payload whole, as {@link #of} says in the
   * reason when it cut them.
   */
  public static boolean isWhole(DeadLetter letter) {
    return isWhole(letter.getReason());
  }

  /** Whether a dead letter with this reason keeps its record whole. */
  public static boolean isWhole(String reason) {
    return !reason.contains(CUT);
  }

  /** A dead letter for a consumer record, with its position, key and bytes ({@link #of}). */
  public static DeadLetter of(
      ConsumerRecord<byte[], byte[]> record, String stage, Throwable error, Instant now) {
    return of(
        record.topic(),
        record.partition(),
        record.offset(),
        record.key(),
        record.value(),
        stage,
        error,
        now);
  }

  /**
   * The key for the dead-letter record itself: the source key cut to {@value #MAX_KEY_BYTES} bytes,
   * like the copy inside the dead letter, so that key and value together stay under Kafka's default
   * {@code max.request.size}. Shorter keys (every request id) come back unchanged, so dead letters
   * of one request still share a partition. Null stays null.
   */
  public static byte[] recordKey(byte[] sourceKey) {
    return sourceKey == null ? null : head(sourceKey, MAX_KEY_BYTES);
  }

  private static byte[] head(byte[] bytes, int limit) {
    return bytes.length <= limit ? bytes : Arrays.copyOf(bytes, limit);
  }

  private static String shorten(String reason) {
    if (reason.length() <= MAX_REASON_CHARS) {
      return reason;
    }
    int end = MAX_REASON_CHARS;
    if (Character.isHighSurrogate(reason.charAt(end - 1))) {
      end--; // never split a surrogate pair
    }
    return reason.substring(0, end) + "… (" + (reason.length() - end) + " more chars)";
  }
}
