package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventCodecTest {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private final EventCodec<GenerationRequest> codec = Topics.GENERATION_REQUESTS.codec();

  static GenerationRequest request() {
    return GenerationRequest.newBuilder()
        .setEventId("e-1")
        .setRequestId("r-1")
        .setTenantId("acme")
        .setPrompt("Write a friendly greeting")
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(40)
                .setTemperature(0.8)
                .setTopK(40)
                .setTopP(0.95)
                .setSeed(7L)
                .build())
        .setAttributes(Map.of("campaign.id", "c-1"))
        .setSubmittedAt(NOW)
        .build();
  }

  @Test
  void roundTripsAnEvent() {
    GenerationRequest request = request();
    byte[] bytes = codec.encode(request);
    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    assertThat(codec.decode(bytes)).isEqualTo(request);
  }

  @Test
  void rejectsEmptyPayload() {
    assertThatThrownBy(() -> codec.decode(new byte[0]))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Empty payload");
  }

  @Test
  void rejectsPlainJson() {
    byte[] json = "{\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> codec.decode(json))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Not an Avro single-object encoded GenerationRequest");
  }

  @Test
  void rejectsAnotherEventType() {
    byte[] deadLetterBytes =
        Topics.GENERATION_REQUESTS_DLQ
            .codec()
            .encode(
                DeadLetters.of(
                    "gen.requests",
                    0,
                    1L,
                    null,
                    new byte[] {1},
                    "test",
                    new IllegalStateException("x"),
                    NOW));
    assertThatThrownBy(() -> codec.decode(deadLetterBytes))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Unknown writer schema for GenerationRequest");
  }

  @Test
  void rejectsTruncatedBody() {
    byte[] bytes = codec.encode(request());
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 5);
    assertThatThrownBy(() -> codec.decode(truncated))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Corrupt GenerationRequest body");
  }

  @Test
  void rejectsHostileLengthPrefix() {
    // Valid header, then a string length prefix claiming ~1 GiB: must fail fast, not allocate.
    byte[] header = Arrays.copyOf(codec.encode(request()), 10);
    byte[] hostile = Arrays.copyOf(header, 16);
    // zig-zag varint for 2^30
    hostile[10] = (byte) 0x80;
    hostile[11] = (byte) 0x80;
    hostile[12] = (byte) 0x80;
    hostile[13] = (byte) 0x80;
    hostile[14] = (byte) 0x08;
    assertThatThrownBy(() -> codec.decode(hostile)).isInstanceOf(EventDecodingException.class);
  }

  @Test
  void rejectsOversizedPayload() {
    byte[] huge = new byte[EventCodec.MAX_EVENT_BYTES + 1];
    assertThatThrownBy(() -> codec.decode(huge))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("exceeds the limit");
  }

  @Test
  void refusesToEncodeAnEventNoReaderWouldAccept() {
    GenerationRequest fits =
        GenerationRequest.newBuilder(request())
            .setPrompt("p".repeat(EventCodec.MAX_EVENT_BYTES - 200))
            .build();
    assertThat(codec.encode(fits).length).isLessThanOrEqualTo(EventCodec.MAX_EVENT_BYTES);
    GenerationRequest over =
        GenerationRequest.newBuilder(request())
            .setAttributes(Map.of("big", "a".repeat(EventCodec.MAX_EVENT_BYTES)))
            .build();
    assertThatThrownBy(() -> codec.encode(over))
        .isInstanceOf(EventTooLargeException.class)
        .hasMessageContaining("GenerationRequest of 1000")
        .hasMessageContaining("exceeds the event limit of 1000000 bytes")
        .satisfies(
            e ->
                assertThat(((EventTooLargeException) e).bytes())
                    .isGreaterThan(EventCodec.MAX_EVENT_BYTES));
  }

  @Test
  void omittedAttributesSayWhatWasLeftOut() {
    Map<String, String> marker = CarriedAttributes.omitted(Map.of("ab", "cde", "f", ""));
    assertThat(marker)
        .containsOnlyKeys(CarriedAttributes.OMITTED)
        .containsValue(
            "2 attributes (6 bytes) left out: with them this event would exceed the 1000000-byte"
                + " event limit; the request and the output event keep them");
  }

  @Test
  void deadLetterIdsAreStableForTheSameSourceRecord() {
    var first =
        DeadLetters.of("t", 1, 9L, null, new byte[] {1}, "gate", new RuntimeException("a"), NOW);
    var again =
        DeadLetters.of("t", 1, 9L, null, new byte[] {1}, "gate", new RuntimeException("a"), NOW);
    var other =
        DeadLetters.of("t", 1, 10L, null, new byte[] {1}, "gate", new RuntimeException("a"), NOW);
    assertThat(first.getEventId()).isEqualTo(again.getEventId()).isNotEqualTo(other.getEventId());
  }
}
