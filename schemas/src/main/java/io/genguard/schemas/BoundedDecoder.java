package io.genguard.schemas;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * A binary decoder over one bounded payload that checks every length prefix against the bytes left
 * before allocating anything, and reads strings as strict UTF-8.
 *
 * <p>Avro's own {@code org.apache.avro.limits.*} checks are JVM-wide and read once; they do not
 * apply if anything decoded Avro before {@link EventCodec} set them. Here a string or bytes value
 * can never be longer than what is left of the payload, and a collection block can never hold more
 * items than bytes are left (every element of every GenGuard schema takes at least one byte), so a
 * hostile prefix fails at once, whatever the JVM's settings.
 */
final class BoundedDecoder extends Decoder {
  private final BinaryDecoder in;
  private final ByteArrayInputStream source;

  /** Strict: malformed input is an error, not U+FFFD. One per event; decode() resets it. */
  private final CharsetDecoder strictUtf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);

  /**
   * @param source the payload; {@code in} must be a direct (non-buffering) decoder over it, so that
   *     {@code source.available()} is exactly the bytes not yet decoded
   */
  BoundedDecoder(BinaryDecoder in, ByteArrayInputStream source) {
    this.in = in;
    this.source = source;
  }

  private int length(String what) throws IOException {
    long length = in.readLong();
    int left = source.available();
    if (length < 0 || length > left) {
      throw new IOException(
          "a " + what + " of " + length + " bytes where only " + left + " bytes are left");
    }
    return (int) length;
  }

  private long items(long items) throws IOException {
    int left = source.available();
    if (items < 0 || items > left) {
      throw new IOException(
          "a block of " + items + " items where only " + left + " bytes are left");
    }
    return items;
  }

  private byte[] bytes(String what) throws IOException {
    byte[] bytes = new byte[length(what)];
    in.readFixed(bytes, 0, bytes.length);
    return bytes;
  }

  private String utf8(byte[] bytes) throws IOException {
    try {
      return strictUtf8.decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new IOException("a string that is not valid UTF-8", e);
    }
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    byte[] bytes = bytes("string");
    utf8(bytes);
    return new Utf8(bytes);
  }

  @Override
  public String readString() throws IOException {
    return utf8(bytes("string"));
  }

  @Override
  public void skipString() throws IOException {
    in.skipFixed(length("string"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    return ByteBuffer.wrap(bytes("bytes value"));
  }

  @Override
  public void skipBytes() throws IOException {
    in.skipFixed(length("bytes value"));
  }

  @Override
  public long readArrayStart() throws IOException {
    return items(in.readArrayStart());
  }

  @Override
  public long arrayNext() throws IOException {
    return items(in.arrayNext());
  }

  @Override
  public long skipArray() throws IOException {
    return items(in.skipArray());
  }

  @Override
  public long readMapStart() throws IOException {
    return items(in.readMapStart());
  }

  @Override
  public long mapNext() throws IOException {
    return items(in.mapNext());
  }

  @Override
  public long skipMap() throws IOException {
    return items(in.skipMap());
  }

  @Override
  public void readNull() throws IOException {
    in.readNull();
  }

  @Override
  public boolean readBoolean() throws IOException {
    return in.readBoolean();
  }

  @Override
  public int readInt() throws IOException {
    return in.readInt();
  }

  @Override
  public long readLong() throws IOException {
    return in.readLong();
  }

  @Override
  public float readFloat() throws IOException {
    return in.readFloat();
  }

  @Override
  public double readDouble() throws IOException {
    return in.readDouble();
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    in.readFixed(bytes, start, length);
  }

  @Override
  public void skipFixed(int length) throws IOException {
    in.skipFixed(length);
  }

  @Override
  public int readEnum() throws IOException {
    return in.readEnum();
  }

  @Override
  public int readIndex() throws IOException {
    return in.readIndex();
  }
}
