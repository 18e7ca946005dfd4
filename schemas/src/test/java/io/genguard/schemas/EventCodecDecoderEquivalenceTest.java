package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * {@link EventCodec#decode} reads bodies with its own array decoder ({@link BoundedDecoder}); these
 * tests pin that it decodes exactly what Avro's stock binary decoder decodes, for every event type
 * and every released writer schema with random field values, and that damaged bytes still fail as
 * {@link EventDecodingException}.
 */
class EventCodecDecoderEquivalenceTest {
  private static final int EVENTS_PER_SCHEMA = 100;

  @Test
  void decodesRandomEventsOfEveryTypeAndSchemaVersionAsAvroDoes() throws IOException {
    Random random = new Random(48);
    int compared = 0;
    for (Topic<String, ? extends SpecificRecord> topic : Topics.all()) {
      EventCodec<? extends SpecificRecord> codec = topic.codec();
      List<Schema> writers = new ArrayList<>(codec.history());
      writers.add(codec.schema());
      for (Schema writer : writers) {
        for (int i = 0; i < EVENTS_PER_SCHEMA; i++) {
          byte[] bytes = singleObject(writer, RandomRecords.of(writer, random));
          assertSameEvent(
              codec,
              codec.decode(bytes),
              avroDecode(codec, writer, bytes),
              codec.type().getSimpleName() + " written with " + writer);
          compared++;
        }
      }
    }
    assertThat(compared).isGreaterThan(14 * EVENTS_PER_SCHEMA);
  }

  @Test
  void decodesTheBiggestAllowedEventWithMultiByteText() {
    EventCodec<GenerationOutput> codec = Topics.GENERATION_OUTPUTS.codec();
    GenerationOutput base = EventCodecDecodeBenchmark.output();
    String unit = "Grüße 👋 ";
    StringBuilder text = new StringBuilder();
    int size = 0;
    while (size < EventCodec.MAX_EVENT_BYTES) {
      int gap = EventCodec.MAX_EVENT_BYTES - size;
      if (gap > 1000) {
        text.append(unit.repeat(gap / 20));
      } else {
        text.append('x');
      }
      base.setText(text.toString());
      size = codec.encode(base).length;
    }
    assertThat(size).isEqualTo(EventCodec.MAX_EVENT_BYTES);

    byte[] bytes = codec.encode(base);
    GenerationOutput decoded = codec.decode(bytes);
    assertThat(decoded.getText()).isEqualTo(base.getText());
    assertThat(decoded).isEqualTo(base).isEqualTo(avroDecode(codec, codec.schema(), bytes));
  }

  @Test
  void rejectsEveryTruncationOfRandomEvents() {
    Random random = new Random(7);
    EventCodec<GenerationOutput> codec = Topics.GENERATION_OUTPUTS.codec();
    for (int i = 0; i < 20; i++) {
      byte[] bytes = singleObject(codec.schema(), RandomRecords.of(codec.schema(), random));
      for (int length = 10; length < bytes.length; length++) {
        byte[] truncated = Arrays.copyOf(bytes, length);
        assertThatThrownBy(() -> codec.decode(truncated))
            .as("the first %d of %d bytes", length, bytes.length)
            .isInstanceOf(EventDecodingException.class)
            .hasMessageContaining("Corrupt GenerationOutput body");
      }
    }
  }

  /** Flipped bytes either fail as EventDecodingException or decode to what Avro decodes. */
  @Test
  void damagedBytesFailCleanlyOrDecodeAsAvroDoes() {
    Random random = new Random(11);
    EventCodec<GenerationRequest> codec = Topics.GENERATION_REQUESTS.codec();
    int rejected = 0;
    for (int i = 0; i < 1000; i++) {
      byte[] bytes = singleObject(codec.schema(), RandomRecords.of(codec.schema(), random));
      int at = 10 + random.nextInt(bytes.length - 10);
      bytes[at] = (byte) random.nextInt(256);
      Throwable failure = catchThrowable(() -> codec.decode(bytes));
      if (failure == null) {
        assertSameEvent(
            codec, codec.decode(bytes), avroDecode(codec, codec.schema(), bytes), "damaged");
      } else {
        assertThat(failure).isInstanceOf(EventDecodingException.class);
        rejected++;
      }
    }
    assertThat(rejected).isPositive();
  }

  /**
   * A writer with fields the reader lacks, of every kind, makes the resolving reader skip them, and
   * a blocking encoder writes collections in blocks that carry their byte size (negative counts):
   * both read as Avro's decoder reads them, and to the last byte. No released schema has a field
   * the current one lacks, and the codec's encoder writes plain counts, so the other tests never
   * reach these paths (found by the forty-eighth session's third review).
   */
  @Test
  void skipsFieldsTheReaderLacksAndReadsSizedBlocksAsAvroDoes() throws IOException {
    EventCodec<GenerationOutput> codec = Topics.GENERATION_OUTPUTS.codec();
    Schema reader = codec.schema();
    Schema writer = withFieldsTheReaderLacks(reader);
    Random random = new Random(4848);
    int compared = 0;
    for (Schema written : List.of(reader, writer)) {
      for (boolean sizedBlocks : new boolean[] {false, true}) {
        for (int i = 0; i < 200; i++) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          BinaryEncoder encoder =
              sizedBlocks
                  ? EncoderFactory.get().blockingBinaryEncoder(out, null)
                  : EncoderFactory.get().binaryEncoder(out, null);
          new GenericDatumWriter<GenericData.Record>(written, GenericData.get())
              .write(RandomRecords.of(written, random), encoder);
          encoder.flush();
          byte[] body = out.toByteArray();
          SpecificDatumReader<GenerationOutput> read =
              new SpecificDatumReader<>(written, reader, SpecificData.getForClass(codec.type()));
          BoundedDecoder ours = new BoundedDecoder(body, 0, body.length);
          GenerationOutput decoded = read.read(null, ours);
          BinaryDecoder avro = DecoderFactory.get().binaryDecoder(body, null);
          GenerationOutput expected = read.read(null, avro);
          String what =
              (written == reader ? "the reader's schema" : "a writer with more fields")
                  + (sizedBlocks ? ", sized blocks" : "");
          assertThat(avro.isEnd()).as(what).isTrue();
          assertThat(ours.remaining()).as(what).isZero();
          assertSameEvent(codec, decoded, expected, what);
          compared++;
        }
      }
    }
    assertThat(compared).isEqualTo(800);
  }

  /** The record's schema with fields of every kind before and after its own. */
  private static Schema withFieldsTheReaderLacks(Schema reader) {
    Schema inner =
        Schema.createRecord(
            "ExtraRecord",
            null,
            "io.genguard.test",
            false,
            List.of(
                new Schema.Field("d", Schema.create(Schema.Type.DOUBLE)),
                new Schema.Field("f", Schema.create(Schema.Type.FLOAT)),
                new Schema.Field("b", Schema.create(Schema.Type.BOOLEAN)),
                new Schema.Field("i", Schema.create(Schema.Type.INT)),
                new Schema.Field(
                    "nested",
                    Schema.createArray(Schema.createMap(Schema.create(Schema.Type.BYTES))))));
    List<Schema.Field> fields = new ArrayList<>();
    fields.add(new Schema.Field("xString", Schema.create(Schema.Type.STRING)));
    fields.add(new Schema.Field("xBytes", Schema.create(Schema.Type.BYTES)));
    fields.add(new Schema.Field("xArray", Schema.createArray(Schema.create(Schema.Type.STRING))));
    fields.add(new Schema.Field("xMap", Schema.createMap(Schema.create(Schema.Type.LONG))));
    for (Schema.Field field : reader.getFields()) {
      fields.add(new Schema.Field(field, field.schema()));
    }
    fields.add(
        new Schema.Field("xFixed", Schema.createFixed("ExtraFixed", null, "io.genguard.test", 4)));
    fields.add(new Schema.Field("xRecord", inner));
    fields.add(
        new Schema.Field(
            "xEnum", Schema.createEnum("ExtraEnum", null, "io.genguard.test", List.of("A", "B"))));
    fields.add(
        new Schema.Field(
            "xUnion",
            Schema.createUnion(
                Schema.create(Schema.Type.NULL),
                Schema.create(Schema.Type.STRING),
                Schema.createArray(Schema.create(Schema.Type.INT)))));
    return Schema.createRecord(
        reader.getName(), reader.getDoc(), reader.getNamespace(), false, fields);
  }

  @Test
  void rejectsOverlongVarints() {
    EventCodec<GenerationRequest> codec = Topics.GENERATION_REQUESTS.codec();
    byte[] header = Arrays.copyOf(codec.encode(EventCodecTest.request()), 10);
    byte[] hostile = Arrays.copyOf(header, 30);
    Arrays.fill(hostile, 10, 30, (byte) 0xFF);

    assertThatThrownBy(() -> codec.decode(hostile))
        .isInstanceOf(EventDecodingException.class)
        .hasMessageContaining("Corrupt GenerationRequest body")
        .hasMessageContaining("Invalid long encoding");
  }

  @Test
  void countsTheBytesLeftExactly() throws IOException {
    byte[] bytes = {9, 9, 2, 'a', 0, 0, 0, 0, 0, 0, (byte) 0xF0, 0x3F, 5, 9};
    BoundedDecoder decoder = new BoundedDecoder(bytes, 2, bytes.length - 3);

    assertThat(decoder.readString()).isEqualTo("a");
    assertThat(decoder.remaining()).isEqualTo(9);
    assertThat(decoder.readDouble()).isEqualTo(1.0);
    assertThat(decoder.readInt()).isEqualTo(-3);
    assertThat(decoder.remaining()).isZero();
    assertThatThrownBy(decoder::readBoolean).isInstanceOf(IOException.class);
  }

  /**
   * Generated {@code equals} compares primitive doubles with {@code !=}, so an event holding NaN
   * never equals itself: compare field by field (NaN equal to NaN), and the bytes each encodes to.
   */
  @SuppressWarnings("unchecked")
  private static <T extends SpecificRecord> void assertSameEvent(
      EventCodec<T> codec, Object actual, Object expected, String what) {
    assertThat(actual)
        .as(what)
        .usingRecursiveComparison()
        .withEqualsForType(Double::equals, Double.class)
        .withEqualsForType(Float::equals, Float.class)
        .isEqualTo(expected);
    assertThat(codec.encode((T) actual)).as(what).isEqualTo(codec.encode((T) expected));
  }

  /** What Avro's stock decoder reads from the body, resolving the writer against the reader. */
  private static Object avroDecode(EventCodec<?> codec, Schema writer, byte[] bytes) {
    SpecificDatumReader<Object> reader =
        new SpecificDatumReader<>(writer, codec.schema(), SpecificData.getForClass(codec.type()));
    try {
      BinaryDecoder in = DecoderFactory.get().binaryDecoder(bytes, 10, bytes.length - 10, null);
      Object event = reader.read(null, in);
      assertThat(in.isEnd()).as("Avro read the whole body").isTrue();
      return event;
    } catch (IOException e) {
      throw new AssertionError("Avro could not read what EventCodec decoded", e);
    }
  }

  /** Single-object encoding of a generic record written with the given schema. */
  private static byte[] singleObject(Schema writer, GenericData.Record record) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(new byte[] {(byte) 0xC3, 0x01});
      out.write(
          ByteBuffer.allocate(8)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putLong(SchemaNormalization.parsingFingerprint64(writer))
              .array());
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericData.Record>(writer, GenericData.get()).write(record, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Random values for any schema: extremes, non-ASCII text, every union branch, empty and full. */
  private static final class RandomRecords {
    private static final String[] TEXTS = {"", "a", "Grüße 👋", "日本語のテキスト", "\u0000\u007F", "x"};

    static GenericData.Record of(Schema schema, Random random) {
      return (GenericData.Record) value(schema, random, 0);
    }

    private static Object value(Schema schema, Random random, int depth) {
      switch (schema.getType()) {
        case RECORD:
          GenericData.Record record = new GenericData.Record(schema);
          for (Schema.Field field : schema.getFields()) {
            record.put(field.pos(), value(field.schema(), random, depth + 1));
          }
          return record;
        case ENUM:
          List<String> symbols = schema.getEnumSymbols();
          return new GenericData.EnumSymbol(schema, symbols.get(random.nextInt(symbols.size())));
        case ARRAY:
          List<Object> items = new ArrayList<>();
          for (int i = random.nextInt(depth > 3 ? 1 : 5); i > 0; i--) {
            items.add(value(schema.getElementType(), random, depth + 1));
          }
          return items;
        case MAP:
          Map<String, Object> entries = new HashMap<>();
          for (int i = random.nextInt(depth > 3 ? 1 : 5); i > 0; i--) {
            entries.put(text(random), value(schema.getValueType(), random, depth + 1));
          }
          return entries;
        case UNION:
          List<Schema> branches = schema.getTypes();
          return value(branches.get(random.nextInt(branches.size())), random, depth + 1);
        case FIXED:
          byte[] fixed = new byte[schema.getFixedSize()];
          random.nextBytes(fixed);
          return new GenericData.Fixed(schema, fixed);
        case STRING:
          return text(random);
        case BYTES:
          byte[] bytes = new byte[random.nextInt(40)];
          random.nextBytes(bytes);
          return ByteBuffer.wrap(bytes);
        case INT:
          int[] ints = {0, -1, 1, 63, -64, 64, Integer.MAX_VALUE, Integer.MIN_VALUE};
          return random.nextBoolean() ? ints[random.nextInt(ints.length)] : random.nextInt();
        case LONG:
          long[] longs = {0, -1, 1, 1L << 35, Long.MAX_VALUE, Long.MIN_VALUE};
          return random.nextBoolean() ? longs[random.nextInt(longs.length)] : random.nextLong();
        case FLOAT:
          return random.nextBoolean() ? Float.NaN : random.nextFloat() * 1e6f - 5e5f;
        case DOUBLE:
          double[] doubles = {0.0, -0.0, Double.NaN, Double.MAX_VALUE, Double.NEGATIVE_INFINITY};
          return random.nextBoolean()
              ? doubles[random.nextInt(doubles.length)]
              : random.nextGaussian() * 1e9;
        case BOOLEAN:
          return random.nextBoolean();
        case NULL:
          return null;
        default:
          throw new IllegalArgumentException("no random values for " + schema);
      }
    }

    private static String text(Random random) {
      if (random.nextInt(3) > 0) {
        return TEXTS[random.nextInt(TEXTS.length)];
      }
      StringBuilder text = new StringBuilder();
      for (int i = random.nextInt(60); i > 0; i--) {
        int codePoint;
        do {
          codePoint = random.nextInt(4) == 0 ? random.nextInt(0x110000) : random.nextInt(0x80);
        } while (Character.getType(codePoint) == Character.SURROGATE);
        text.appendCodePoint(codePoint);
      }
      return text.toString();
    }
  }
}
