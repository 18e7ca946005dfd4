package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static final EventCodec<DeadLetter> CODEC = Topics.GENERATION_REQUESTS_DLQ.codec();

  /** A key and a value the broker accepts with its defaults (1 MB together), neither an event. */
  private static final byte[] HUGE_KEY = filled(400_000, 'k');

  private static final byte[] HUGE_PAYLOAD = filled(600_000, 'p');

  @Test
  void shouldKeepADeadLetterOfAHugeKeyAndPayloadWithinTheEventLimit() {
    DeadLetter letter = undecodable(HUGE_KEY, HUGE_PAYLOAD, "Not an Avro event");

    byte[] value = CODEC.encode(letter);
    byte[] recordKey = DeadLetters.recordKey(HUGE_KEY);

    assertThat(value.length + recordKey.length)
        .as("dead-letter record key + value, bytes")
        .isLessThanOrEqualTo(EventCodec.MAX_EVENT_BYTES);
    assertThat(CODEC.decode(value)).as("consumers can still read it").isEqualTo(letter);
    assertThat(recordKey).isEqualTo(Arrays.copyOf(HUGE_KEY, DeadLetters.MAX_KEY_BYTES));
    assertThat(bytes(letter.getKey())).isEqualTo(recordKey);
    byte[] keptPayload = bytes(letter.getPayload());
    assertThat(keptPayload).isEqualTo(Arrays.copyOf(HUGE_PAYLOAD, keptPayload.length));
    assertThat(letter.getReason())
        .startsWith("Not an Avro event")
        .contains("first 1024 of 400000 key bytes")
        .contains("first " + keptPayload.length + " of 600000 payload bytes")
        .contains(Topics.GENERATION_REQUESTS.name() + "-2@7");
  }

  @Test
  void shouldKeepAShortKeyAndPayloadWholeAndTheReasonAsItIs() {
    byte[] key = "r-1".getBytes(StandardCharsets.UTF_8);
    byte[] payload = "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8);

    DeadLetter letter = undecodable(key, payload, "Not an Avro event");

    assertThat(bytes(letter.getKey())).isEqualTo(key);
    assertThat(bytes(letter.getPayload())).isEqualTo(payload);
    assertThat(letter.getReason()).isEqualTo("Not an Avro event");
    assertThat(DeadLetters.recordKey(key)).isEqualTo(key);
  }

  @Test
  void shouldLeaveAMissingKeyMissing() {
    DeadLetter letter = undecodable(null, new byte[] {1}, "Not an Avro event");

    assertThat(letter.getKey()).isNull();
    assertThat(DeadLetters.recordKey(null)).isNull();
  }

  @Test
  void shouldShortenAReasonThatWouldNotFitInAnEvent() {
    String hugeMessage = "x".repeat(EventCodec.MAX_EVENT_BYTES + 1);

    DeadLetter letter = undecodable(null, HUGE_PAYLOAD, hugeMessage);

    assertThat(CODEC.encode(letter).length).isLessThanOrEqualTo(EventCodec.MAX_EVENT_BYTES);
    assertThat(letter.getReason()).startsWith("xxxx").contains("more chars");
  }

  private static DeadLetter undecodable(byte[] key, byte[] payload, String message) {
    return DeadLetters.of(
        Topics.GENERATION_REQUESTS.name(),
        2,
        7L,
        key,
        payload,
        "generator",
        new EventDecodingException(message),
        NOW);
  }

  private static byte[] filled(int length, char fill) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) fill);
    return bytes;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  @Test
  void aStageSkipsOnlyRecordsSentBackForAnotherNamedStage() {
    RecordHeaders none = new RecordHeaders();
    assertThat(DeadLetters.sentBackForAnotherStage(none, "moderation")).isFalse();
    assertThat(DeadLetters.sentBackForAnotherStage(null, "moderation")).isFalse();

    RecordHeaders forGate = new RecordHeaders();
    forGate.add(DeadLetters.REDRIVEN_FROM, "gen.outputs.dlq-0@4".getBytes(StandardCharsets.UTF_8));
    forGate.add(DeadLetters.REDRIVEN_FOR, "gate".getBytes(StandardCharsets.UTF_8));
    assertThat(DeadLetters.sentBackForAnotherStage(forGate, "moderation")).isTrue();
    assertThat(DeadLetters.sentBackForAnotherStage(forGate, "gate")).isFalse();

    // A header that names no stage is read as usual: skipping could lose a record.
    RecordHeaders empty = new RecordHeaders();
    empty.add(DeadLetters.REDRIVEN_FOR, new byte[0]);
    assertThat(DeadLetters.sentBackForAnotherStage(empty, "moderation")).isFalse();
    RecordHeaders nullValue = new RecordHeaders();
    nullValue.add(DeadLetters.REDRIVEN_FOR, null);
    assertThat(DeadLetters.sentBackForAnotherStage(nullValue, "moderation")).isFalse();
  }
}
