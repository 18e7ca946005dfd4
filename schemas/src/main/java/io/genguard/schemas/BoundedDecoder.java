package io.genguard.schemas;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.avro.InvalidNumberEncodingException;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * An Avro binary decoder over one payload held in an array, which checks every length prefix
 * against the bytes left before allocating anything, and reads strings as strict UTF-8.
 *
 * <p>Avro's own {@code org.apache.avro.limits.*} checks are JVM-wide and read once; they do not
 * apply if anything decoded Avro before {@link EventCodec} set them. Here a string or bytes value
 * can never be longer than what is left of the payload, and a collection block can never hold more
 * items than bytes are left (every element of every GenGuard schema takes at least one byte), so a
 * hostile prefix fails at once, whatever the JVM's settings.
 *
 * <p>It reads the array directly rather than through Avro's {@code DirectBinaryDecoder} over a
 * {@code ByteArrayInputStream}, which pays a synchronized {@code read()} per byte; numbers decode
 * exactly as that decoder does (at most 5 varint bytes for an int and 10 for a long, a boolean true
 * only for byte 1, little-endian IEEE floats). Not thread-safe: one per payload.
 */
final class BoundedDecoder extends Decoder {
  private final byte[] buf;
  private final int limit;
  private int pos;

  /** Strict: malformed input is an error, not U+FFFD. Made only for a string that is not ASCII. */
  private CharsetDecoder strictUtf8;

  /** Decodes {@code length} bytes of {@code buf} from {@code offset}. */
  BoundedDecoder(byte[] buf, int offset, int length) {
    if (offset < 0 || length < 0 || offset > buf.length - length) {
      throw new IllegalArgumentException(
          "bytes " + offset + ".." + (offset + length) + " of an array of " + buf.length);
    }
    this.buf = buf;
    this.pos = offset;
    this.limit = offset + length;
  }

  /** Bytes of the payload not yet decoded: after a whole event, those after its end. */
  int remaining() {
    return limit - pos;
  }

  private int take(int count, String what) throws IOException {
    if (count < 0 || count > limit - pos) {
      throw new EOFException(
          "a " + what + " of " + count + " bytes where only " + (limit - pos) + " bytes are left");
    }
    int start = pos;
    pos += count;
    return start;
  }

  private int nextByte() throws IOException {
    if (pos >= limit) {
      throw new EOFException("the body ends in the middle of a value");
    }
    return buf[pos++] & 0xFF;
  }

  private int length(String what) throws IOException {
    long length = readLong();
    int left = limit - pos;
    if (length < 0 || length > left) {
      throw new IOException(
          "a " + what + " of " + length + " bytes where only " + left + " bytes are left");
    }
    return (int) length;
  }

  private long items(long items) throws IOException {
    int left = limit - pos;
    if (items < 0 || items > left) {
      throw new IOException(
          "a block of " + items + " items where only " + left + " bytes are left");
    }
    return items;
  }

  /** A block count; a negative count is followed by the block's size in bytes, unused here. */
  private long itemCount() throws IOException {
    long count = readLong();
    if (count < 0) {
      readLong();
      count = -count;
    }
    return items(count);
  }

  /** Skips whole blocks that carry their size; returns the count of the first that does not. */
  private long skipItems() throws IOException {
    long count = readLong();
    while (count < 0) {
      skip(length("block"));
      count = readLong();
    }
    return items(count);
  }

  private void skip(int length) {
    pos += length;
  }

  private String utf8(int start, int length) throws IOException {
    int end = start + length;
    for (int i = start; i < end; i++) {
      if (buf[i] < 0) {
        return strictUtf8(start, length);
      }
    }
    // Pure ASCII, which is valid UTF-8 and decodes to the same characters.
    return new String(buf, start, length, StandardCharsets.ISO_8859_1);
  }

  private String strictUtf8(int start, int length) throws IOException {
    if (strictUtf8 == null) {
      strictUtf8 =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
    try {
      return strictUtf8.decode(ByteBuffer.wrap(buf, start, length)).toString();
    } catch (CharacterCodingException e) {
      throw new IOException("a string that is not valid UTF-8", e);
    }
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = length("string");
    int start = take(length, "string");
    utf8(start, length);
    return new Utf8(Arrays.copyOfRange(buf, start, start + length));
  }

  @Override
  public String readString() throws IOException {
    int length = length("string");
    return utf8(take(length, "string"), length);
  }

  @Override
  public void skipString() throws IOException {
    skip(length("string"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int length = length("bytes value");
    int start = take(length, "bytes value");
    return ByteBuffer.wrap(Arrays.copyOfRange(buf, start, start + length));
  }

  @Override
  public void skipBytes() throws IOException {
    skip(length("bytes value"));
  }

  @Override
  public long readArrayStart() throws IOException {
    return itemCount();
  }

  @Override
  public long arrayNext() throws IOException {
    return itemCount();
  }

  @Override
  public long skipArray() throws IOException {
    return skipItems();
  }

  @Override
  public long readMapStart() throws IOException {
    return itemCount();
  }

  @Override
  public long mapNext() throws IOException {
    return itemCount();
  }

  @Override
  public long skipMap() throws IOException {
    return skipItems();
  }

  @Override
  public void readNull() {
    // A null takes no bytes.
  }

  @Override
  public boolean readBoolean() throws IOException {
    return nextByte() == 1;
  }

  @Override
  public int readInt() throws IOException {
    int zigZag = 0;
    for (int shift = 0; shift < 32; shift += 7) {
      int b = nextByte();
      zigZag |= (b & 0x7F) << shift;
      if (b < 0x80) {
        return (zigZag >>> 1) ^ -(zigZag & 1);
      }
    }
    throw new InvalidNumberEncodingException("Invalid int encoding");
  }

  @Override
  public long readLong() throws IOException {
    long zigZag = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = nextByte();
      zigZag |= (b & 0x7FL) << shift;
      if (b < 0x80) {
        return (zigZag >>> 1) ^ -(zigZag & 1);
      }
    }
    throw new InvalidNumberEncodingException("Invalid long encoding");
  }

  private int littleEndianInt(int at) {
    return (buf[at] & 0xFF)
        | (buf[at + 1] & 0xFF) << 8
        | (buf[at + 2] & 0xFF) << 16
        | (buf[at + 3] & 0xFF) << 24;
  }

  @Override
  public float readFloat() throws IOException {
    return Float.intBitsToFloat(littleEndianInt(take(4, "float")));
  }

  @Override
  public double readDouble() throws IOException {
    int at = take(8, "double");
    long low = littleEndianInt(at) & 0xFFFFFFFFL;
    long high = littleEndianInt(at + 4);
    return Double.longBitsToDouble(low | high << 32);
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    System.arraycopy(buf, take(length, "fixed value"), bytes, start, length);
  }

  @Override
  public void skipFixed(int length) throws IOException {
    take(length, "fixed value");
  }

  @Override
  public int readEnum() throws IOException {
    return readInt();
  }

  @Override
  public int readIndex() throws IOException {
    return readInt();
  }
}
