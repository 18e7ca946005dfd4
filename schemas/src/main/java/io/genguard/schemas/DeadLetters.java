package io.genguard.schemas;

import io.genguard.events.v1.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds dead-letter events that keep the original bytes, the reason and the source position. */
public final class DeadLetters {
  private DeadLetters() {}

  /**
   * A dead letter for a record that could not be decoded or processed.
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
    return DeadLetter.newBuilder()
        // Deterministic: a redelivered record yields the same dead letter, which the audit store
        // then records once.
        .setEventId(
            EventIds.nameBased(
                "dlq", sourceTopic, Integer.toString(partition), Long.toString(offset)))
        .setSourceTopic(sourceTopic)
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .setKey(key == null ? null : ByteBuffer.wrap(key))
        .setPayload(payload == null ? null : ByteBuffer.wrap(truncate(payload)))
        .setStage(stage)
        .setReason(error.getMessage() == null ? error.getClass().getName() : error.getMessage())
        .setErrorClass(error.getClass().getName())
        .setFailedAt(now)
        .build();
  }

  /** Keeps dead letters themselves under the event size limit; the source offset has the rest. */
  private static byte[] truncate(byte[] payload) {
    int limit = EventCodec.MAX_EVENT_BYTES / 2;
    if (payload.length <= limit) {
      return payload;
    }
    byte[] head = new byte[limit];
    System.arraycopy(payload, 0, head, 0, limit);
    return head;
  }
}
