package io.genguard.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DatumReader;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one event type with Avro single-object encoding (magic {@code C3 01}, the
 * 8-byte CRC-64-AVRO fingerprint of the writer schema, then the binary body), so no schema registry
 * is needed: every schema version ever released ships in this module under {@code
 * schema-history/<Type>/v<N>.avsc} and the decoder resolves old writers against the current reader.
 */
public final class EventCodec<T extends SpecificRecord> {
  /**
   * Largest payload any GenGuard event may have; larger bytes are rejected before decoding. Kept
   * under Kafka's default {@code message.max.bytes} (1 MiB plus overhead) so that every event a
   * producer can write, a broker with default settings accepts.
   */
  public static final int MAX_EVENT_BYTES = 1_000_000;

  /** Magic {@code C3 01}, then the 8-byte little-endian fingerprint of the writer schema. */
  private static final int HEADER_BYTES = 10;

  private static final byte MAGIC_0 = (byte) 0xC3;
  private static final byte MAGIC_1 = (byte) 0x01;

  static {
    // Avro trusts length prefixes in the body; cap them so hostile bytes cannot make us allocate
    // gigabytes. Avro reads these once, so they may come too late; BoundedDecoder does not rely on
    // them.
    setIfAbsent("org.apache.avro.limits.string.maxLength", Integer.toString(MAX_EVENT_BYTES));
    setIfAbsent("org.apache.avro.limits.bytes.maxLength", Integer.toString(MAX_EVENT_BYTES));
    setIfAbsent("org.apache.avro.limits.collectionItems.maxLength", "100000");
  }

  private final Class<T> type;
  private final Schema schema;
  private final List<Schema> history;
  private final BinaryMessageEncoder<T> encoder;

  /** A reader per released writer schema, by fingerprint; read-only after construction. */
  private final Map<Long, SpecificDatumReader<T>> readers = new HashMap<>();

  private EventCodec(Class<T> type) {
    this.type = type;
    this.schema = SpecificData.get().getSchema(type);
    SpecificData model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.history = loadHistory(type);
    readers.put(
        SchemaNormalization.parsingFingerprint64(schema),
        new SpecificDatumReader<>(schema, schema, model));
    for (Schema old : history) {
      readers.put(
          SchemaNormalization.parsingFingerprint64(old),
          new SpecificDatumReader<>(old, schema, model));
    }
  }

  /** A codec for the given generated event class. */
  public static <T extends SpecificRecord> EventCodec<T> of(Class<T> type) {
    return new EventCodec<>(type);
  }

  public Class<T> type() {
    return type;
  }

  /** The schema this build writes. */
  public Schema schema() {
    return schema;
  }

  /** Every released schema of this type, oldest first (the current one included once released). */
  public List<Schema> history() {
    return history;
  }

  /**
   * Encodes the event.
   *
   * @throws EventTooLargeException when the encoding exceeds {@link #MAX_EVENT_BYTES}, which every
   *     reader would refuse
   */
  public byte[] encode(T event) {
    Objects.requireNonNull(event, "event");
    try {
      ByteBuffer buffer = encoder.encode(event);
      if (buffer.remaining() > MAX_EVENT_BYTES) {
        throw new EventTooLargeException(type.getSimpleName(), buffer.remaining());
      }
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not encode " + type.getSimpleName(), e);
    }
  }

  /**
   * Decodes bytes written by this or any released schema version.
   *
   * @throws EventDecodingException naming what is wrong: empty, too large, not single-object
   *     encoded, an unknown writer schema, or a corrupt body
   */
  public T decode(byte[] bytes) {
    return decodeWith(bytes, readers);
  }

  /**
   * A reader of one string field of this type's events, for a caller that needs only that field
   * (the gate's request id of a stored output): it decodes no other field's value, skipping the
   * rest of the body (text included) without building strings or records, and accepts exactly the
   * bytes {@link #decode} does when they are well formed, giving the value {@code decode} would.
   *
   * @throws IllegalArgumentException when a released schema version lacks {@code field} as a string
   */
  public StringField stringField(String field) {
    return new StringField(field);
  }

  /** Reads one string field of this codec's events: see {@link #stringField}. */
  public final class StringField {
    private final String field;

    /** A reader per released writer schema, by fingerprint; read-only after construction. */
    private final Map<Long, GenericDatumReader<GenericRecord>> fieldReaders = new HashMap<>();

    private StringField(String field) {
      Schema projected =
          Schema.createRecord(
              schema.getName(),
              null,
              schema.getNamespace(),
              false,
              List.of(new Schema.Field(field, Schema.create(Schema.Type.STRING))));
      List<Schema> writers = new ArrayList<>(history);
      writers.add(schema);
      for (Schema writer : writers) {
        Schema.Field written = writer.getField(field);
        if (written == null || written.schema().getType() != Schema.Type.STRING) {
          throw new IllegalArgumentException(
              type.getSimpleName()
                  + " has no string field "
                  + field
                  + " in every released schema; read the whole event with decode");
        }
        fieldReaders.put(
            SchemaNormalization.parsingFingerprint64(writer),
            new GenericDatumReader<>(writer, projected, GenericData.get()));
      }
      this.field = field;
    }

    /**
     * The field's value in the event {@code bytes} holds.
     *
     * @throws EventDecodingException as {@link #decode} does for bytes it refuses (the skipped
     *     fields' values are not checked beyond their lengths and indexes)
     */
    public String read(byte[] bytes) {
      return decodeWith(bytes, fieldReaders).get(field).toString();
    }
  }

  private <R> R decodeWith(byte[] bytes, Map<Long, ? extends DatumReader<R>> byFingerprint) {
    String name = type.getSimpleName();
    if (bytes == null || bytes.length == 0) {
      throw new EventDecodingException("Empty payload where a " + name + " was expected");
    }
    if (bytes.length > MAX_EVENT_BYTES) {
      throw new EventDecodingException(
          name + " payload of " + bytes.length + " bytes exceeds the limit of " + MAX_EVENT_BYTES);
    }
    if (bytes.length < HEADER_BYTES || bytes[0] != MAGIC_0 || bytes[1] != MAGIC_1) {
      throw new EventDecodingException(
          "Not an Avro single-object encoded "
              + name
              + ": "
              + (bytes.length < HEADER_BYTES
                  ? "only " + bytes.length + " bytes"
                  : String.format("header bytes 0x%02X 0x%02X", bytes[0], bytes[1])));
    }
    long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    DatumReader<R> reader = byFingerprint.get(fingerprint);
    if (reader == null) {
      throw new EventDecodingException(
          "Unknown writer schema for "
              + name
              + " (fingerprint "
              + fingerprint
              + "); is the producer newer"
              + " than this consumer, or writing another type?");
    }
    BoundedDecoder body = new BoundedDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES);
    R event;
    try {
      event = reader.read(null, body);
    } catch (IOException | AvroRuntimeException | IllegalArgumentException e) {
      throw new EventDecodingException("Corrupt " + name + " body: " + describe(e), e);
    } catch (RuntimeException e) {
      // Avro may fail on hostile bodies in other ways (bad enum or union indexes).
      throw new EventDecodingException("Corrupt " + name + " body: " + describe(e), e);
    }
    if (body.remaining() > 0) {
      throw new EventDecodingException(
          "Corrupt " + name + " body: " + body.remaining() + " bytes after the end of the event");
    }
    return event;
  }

  /** Fingerprint (CRC-64-AVRO of the parsing canonical form) of the current schema. */
  public long fingerprint() {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  private static String describe(Exception e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  private static List<Schema> loadHistory(Class<?> type) {
    List<Schema> schemas = new ArrayList<>();
    for (int version = 1; ; version++) {
      String path = "/schema-history/" + type.getSimpleName() + "/v" + version + ".avsc";
      try (InputStream in = EventCodec.class.getResourceAsStream(path)) {
        if (in == null) {
          return List.copyOf(schemas);
        }
        schemas.add(new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException("Could not read " + path, e);
      }
    }
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
