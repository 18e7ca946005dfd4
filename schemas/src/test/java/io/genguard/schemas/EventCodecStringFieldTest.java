package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.RandomData;
import org.junit.jupiter.api.Test;

/**
 * {@link EventCodec#stringField} reads the value {@link EventCodec#decode} gives, for events of
 * every released schema version, and refuses what {@code decode} refuses.
 */
class EventCodecStringFieldTest {
  private static final int RANDOM_EVENTS = 300;

  @Test
  void readsTheRequestIdOfAnOutputOfEveryReleasedVersionAsDecodeDoes() {
    assertSameAsDecode(Topics.GENERATION_OUTPUTS.codec(), GenerationOutput::getRequestId);
  }

  @Test
  void readsTheRequestIdOfAVerdictOfEveryReleasedVersionAsDecodeDoes() {
    assertSameAsDecode(Topics.MODERATION_VERDICTS.codec(), ModerationVerdict::getRequestId);
  }

  @Test
  void readsTheRequestIdOfAPlumbingSizedOutput() {
    EventCodec<GenerationOutput> codec = Topics.GENERATION_OUTPUTS.codec();
    GenerationOutput output = EventCodecDecodeBenchmark.output();
    assertThat(codec.stringField("requestId").read(codec.encode(output)))
        .isEqualTo(output.getRequestId());
  }

  @Test
  void refusesWhatDecodeRefuses() {
    EventCodec<GenerationOutput> codec = Topics.GENERATION_OUTPUTS.codec();
    EventCodec<GenerationOutput>.StringField requestId = codec.stringField("requestId");
    byte[] bytes = codec.encode(EventCodecDecodeBenchmark.output());
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 5);
    byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);
    byte[] verdict = Topics.MODERATION_VERDICTS.codec().encode(EventCodecDecodeBenchmark.verdict());
    for (byte[] refused : new byte[][] {new byte[0], truncated, trailing, verdict}) {
      assertThatThrownBy(() -> codec.decode(refused)).isInstanceOf(EventDecodingException.class);
      assertThatThrownBy(() -> requestId.read(refused))
          .isInstanceOf(EventDecodingException.class)
          .hasMessageContaining("GenerationOutput");
    }
  }

  @Test
  void refusesAFieldThatIsNotAStringInEveryReleasedVersion() {
    EventCodec<GenerationOutput> codec = Topics.GENERATION_OUTPUTS.codec();
    assertThatThrownBy(() -> codec.stringField("generatedAt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GenerationOutput has no string field generatedAt");
    assertThatThrownBy(() -> codec.stringField("noSuchField"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static <T extends SpecificRecord> void assertSameAsDecode(
      EventCodec<T> codec, Function<T, String> requestIdOf) {
    EventCodec<T>.StringField requestId = codec.stringField("requestId");
    int version = 0;
    for (Schema writer : codec.history()) {
      version++;
      BinaryMessageEncoder<Object> encoder = new BinaryMessageEncoder<>(GenericData.get(), writer);
      int n = 0;
      for (Object datum :
          new RandomData(GenericData.get(), writer, RANDOM_EVENTS, version, false)) {
        byte[] bytes = bytes(encoder, datum);
        assertThat(requestId.read(bytes))
            .as("%s v%d, random event %d", codec.type().getSimpleName(), version, n++)
            .isEqualTo(requestIdOf.apply(codec.decode(bytes)));
      }
    }
  }

  private static byte[] bytes(BinaryMessageEncoder<Object> encoder, Object datum) {
    try {
      ByteBuffer buffer = encoder.encode(datum);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
