package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.SystemLimitException;
import org.junit.jupiter.api.Test;

/** Bytes built to break the decoder: each must become an {@link EventDecodingException}. */
class EventCodecHostileBytesTest {
  private static final List<String> AVRO_LIMITS =
      List.of(
          SystemLimitException.MAX_STRING_LENGTH_PROPERTY,
          SystemLimitException.MAX_BYTES_LENGTH_PROPERTY,
          SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY);

  private final EventCodec<GenerationRequest> codec = Topics.GENERATION_REQUESTS.codec();

  @Test
  void rejectsTrailingBytesAfterAValidEvent() {
    byte[] valid = codec.encode(EventCodecTest.request());
    byte[] padded = concat(valid, new byte[] {0, 0, 0});

    assertThatThrownBy(() -> codec.decode(padded))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Corrupt GenerationRequest body")
        .hasMessageContaining("3 bytes after the end of the event");
  }

  @Test
  void rejectsInvalidUtf8InAString() {
    byte[] valid = codec.encode(EventCodecTest.request());
    // eventId "e-1" is the first field: length 3 (zig-zag 06), then its bytes at 11..13.
    assertThat(Arrays.copyOfRange(valid, 10, 14)).containsExactly(6, 'e', '-', '1');
    byte[] invalid = valid.clone();
    invalid[11] = (byte) 0xC3; // a lead byte followed by an ASCII byte is not UTF-8
    invalid[12] = (byte) 0x28;

    assertThatThrownBy(() -> codec.decode(invalid))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Corrupt GenerationRequest body")
        .hasMessageContaining("UTF-8");
  }

  @Test
  void roundTripsAnEventWithEveryKindOfCollection() {
    Map<String, Double> scores = new HashMap<>();
    scores.put("violence", 0.1);
    scores.put("hate", Double.NaN);
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder()
            .setEventId("e-1")
            .setVerdictId("v-1")
            .setOutputId("o-1")
            .setRequestId("r-1")
            .setTenantId("acme")
            .setOutputSha256(ContentHash.sha256Hex("Grüße 👋"))
            .setDecision(Decision.REVIEW)
            .setReasons(
                List.of(
                    Reason.newBuilder()
                        .setCode("category.review")
                        .setDecision(Decision.REVIEW)
                        .setCategory("violence")
                        .setScore(0.6)
                        .setThreshold(0.5)
                        .setMessage("Grüße 👋 über dem Schwellenwert")
                        .build(),
                    Reason.newBuilder()
                        .setCode("scorer.error")
                        .setDecision(Decision.REVIEW)
                        .setMessage("")
                        .build()))
            .setUnsafeScore(0.6)
            .setCategoryScores(scores)
            .setGroups(List.of("gender:women", "religion:muslim"))
            .setPolicyId("default")
            .setPolicyVersion("3")
            .setScorerVersions(Map.of("toxicity", "1", "bias", "2"))
            .setAttributes(Map.of())
            .setDecidedAt(Instant.parse("2026-11-25T10:00:00Z"))
            .build();
    EventCodec<ModerationVerdict> verdicts = Topics.MODERATION_VERDICTS.codec();

    assertThat(verdicts.decode(verdicts.encode(verdict))).isEqualTo(verdict);
  }

  /**
   * Avro reads its {@code org.apache.avro.limits.*} properties once, when it first checks a length.
   * If anything in the JVM decoded Avro before EventCodec was loaded, the limits EventCodec sets
   * never apply, and a length prefix may claim up to 2 GiB: decode must bound lengths itself.
   */
  @Test
  void boundsLengthPrefixesEvenIfAvroReadItsLimitsBeforeEventCodecSetThem() throws Exception {
    byte[] valid = codec.encode(EventCodecTest.request());
    byte[] header = Arrays.copyOf(valid, 10);
    // A string claiming 8 MB (bounded, so that this test allocates little even without the fix).
    byte[] longString = concat(header, zigZag(8L * EventCodec.MAX_EVENT_BYTES), new byte[] {'x'});
    // No attributes and time 0: the body ends with the empty map (00) and the time (00).
    GenerationRequest bare = EventCodecTest.request();
    bare.setAttributes(Map.of());
    bare.setSubmittedAt(Instant.EPOCH);
    byte[] bareBytes = codec.encode(bare);
    assertThat(Arrays.copyOfRange(bareBytes, bareBytes.length - 2, bareBytes.length))
        .containsExactly(0, 0);
    // The attributes map claiming 2 million entries.
    byte[] bigMap =
        concat(
            Arrays.copyOf(bareBytes, bareBytes.length - 2), zigZag(2_000_000), new byte[] {2, 'k'});

    Map<String, String> saved = new HashMap<>();
    for (String limit : AVRO_LIMITS) {
      saved.put(limit, System.getProperty(limit));
      System.clearProperty(limit);
    }
    reloadAvroLimits();
    try {
      assertThatThrownBy(() -> codec.decode(longString))
          .isInstanceOf(EventDecodingException.class)
          .hasMessageContaining("Corrupt GenerationRequest body")
          .hasMessageContaining("string of " + 8L * EventCodec.MAX_EVENT_BYTES + " bytes");
      assertThatThrownBy(() -> codec.decode(bigMap))
          .isInstanceOf(EventDecodingException.class)
          .hasMessageContaining("Corrupt GenerationRequest body")
          .hasMessageContaining("2000000 items");
    } finally {
      saved.forEach(
          (limit, value) -> {
            if (value == null) {
              System.clearProperty(limit);
            } else {
              System.setProperty(limit, value);
            }
          });
      reloadAvroLimits();
    }
  }

  @Test
  void rejectsNegativeAndOverlongLengths() {
    byte[] header = Arrays.copyOf(codec.encode(EventCodecTest.request()), 10);
    for (long length : new long[] {-1, -5, Integer.MAX_VALUE, 1L << 40, Long.MAX_VALUE}) {
      byte[] hostile = concat(header, zigZag(length), new byte[] {'x'});
      assertThatThrownBy(() -> codec.decode(hostile))
          .as("string length %d", length)
          .isInstanceOf(EventDecodingException.class)
          .hasMessageContaining("Corrupt GenerationRequest body");
    }
  }

  private static void reloadAvroLimits() throws Exception {
    Method reset = SystemLimitException.class.getDeclaredMethod("resetLimits");
    reset.setAccessible(true);
    reset.invoke(null);
  }

  private static byte[] zigZag(long value) {
    long z = (value << 1) ^ (value >> 63);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
