package io.genguard.moderation.gate;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the gate knows about one request: the encoded output and verdict while it waits for the
 * other, and after a decision only the outcome (so duplicates can be recognised without keeping the
 * text).
 *
 * @param state where the request stands
 * @param outputId the output the entry is about, once known
 * @param output encoded GenerationOutput, kept until decided
 * @param verdict encoded ModerationVerdict, kept until decided; absent in a HELD entry that the
 *     verdict timeout held
 * @param sinceMillis when the entry reached its state: the first half's arrival while WAITING, the
 *     hold, the final decision (for the verdict timeout and the retention); 0 in entries written
 *     before it was kept for WAITING and HELD ones
 * @param outcomeEventId in a final entry, the event id of the outcome the gate wrote (what a
 *     restatement names, so that a release can be taken down by it); null before that, and in final
 *     entries written before it was kept (format 1)
 * @param outcomeBasis that outcome's basis (a GateBasis name); null exactly when outcomeEventId is
 * @param requestTenant the tenant of the request, from its gen.requests event: an output or verdict
 *     under another tenant is not this request's (a copy re-published under another tenant); null
 *     while the request has not come, and in entries written before it was kept (formats 1 and 2)
 */
record GateEntry(
    State state,
    String outputId,
    byte[] output,
    byte[] verdict,
    long sinceMillis,
    String outcomeEventId,
    String outcomeBasis,
    String requestTenant) {
  /**
   * 3: the request's tenant follows format 2; 2: the outcome's event id (a kind byte: 0 none, 1 a
   * UUID in 16 bytes, 2 a string) and basis follow; 1 ends with sinceMillis. All are read; a gate
   * writes 3 unless told to write 1 or 2, which a gate from before format 2 or 3 can still read (so
   * that it can be rolled back to), without the request's tenant.
   */
  static final int FORMAT = 3;

  /** An entry that has no outcome yet (or one written before the outcome was kept). */
  GateEntry(State state, String outputId, byte[] output, byte[] verdict, long sinceMillis) {
    this(state, outputId, output, verdict, sinceMillis, null, null, null);
  }

  /** An entry that does not know its request's tenant. */
  GateEntry(
      State state,
      String outputId,
      byte[] output,
      byte[] verdict,
      long sinceMillis,
      String outcomeEventId,
      String outcomeBasis) {
    this(state, outputId, output, verdict, sinceMillis, outcomeEventId, outcomeBasis, null);
  }

  enum State {
    /** Output or verdict still missing. */
    WAITING,
    /**
     * Held until a person approves or rejects: a REVIEW verdict, or no verdict within the timeout
     * (then the verdict, if it comes, decides too).
     */
    HELD,
    RELEASED,
    QUARANTINED,
    /**
     * The audit service erased the request (audit.erasures): its output, held or still to come, is
     * quarantined without its text, and nothing of it is kept. Last, so that the ordinals of
     * entries written before it still read.
     */
    ERASED;

    boolean isFinal() {
      return this == RELEASED || this == QUARANTINED || this == ERASED;
    }
  }

  static GateEntry empty() {
    return new GateEntry(State.WAITING, null, null, null, 0L);
  }

  /**
   * The output, the clock started if this is the first half (an entry that holds only its request's
   * tenant started the clock for forgetting it, not for the verdict timeout).
   */
  GateEntry withOutput(String id, byte[] bytes, long now) {
    return new GateEntry(state, id, bytes, verdict, firstHalf(now), null, null, requestTenant);
  }

  private long firstHalf(long now) {
    return sinceMillis == 0 || (output == null && verdict == null) ? now : sinceMillis;
  }

  /** The verdict, the clock started if this is the first half. */
  GateEntry withVerdict(byte[] bytes, long now) {
    return new GateEntry(state, outputId, output, bytes, firstHalf(now), null, null, requestTenant);
  }

  /**
   * The request's tenant, from gen.requests, with the halves that came under another tenant left
   * out ({@code output} and {@code verdict} say whether each stays); the clock started if nothing
   * is left to start it.
   */
  GateEntry withRequestTenant(String tenant, boolean keepOutput, boolean keepVerdict, long now) {
    byte[] keptOutput = keepOutput ? output : null;
    byte[] keptVerdict = keepVerdict ? verdict : null;
    return new GateEntry(
        state,
        keptOutput == null ? null : outputId,
        keptOutput,
        keptVerdict,
        sinceMillis == 0 || (keptOutput == null && keptVerdict == null) ? now : sinceMillis,
        null,
        null,
        tenant);
  }

  GateEntry held(long now) {
    return new GateEntry(State.HELD, outputId, output, verdict, now, null, null, requestTenant);
  }

  /**
   * Erased before an output was decided (audit.erasures): nothing of the request kept but the
   * marker and its request's tenant, so that a copy of its output under another tenant is still not
   * taken for the request's. Where the gate has not read the request (the erasure came first, or
   * the request before the gate read gen.requests), the tenant is the erasure notice's, which the
   * audit service writes from its record of the request; a blank one (a request the audit service
   * knows only from dead letters, whose tenant it does not know) leaves the tenant unknown.
   */
  GateEntry erased(long now, String noticeTenant) {
    String tenant =
        requestTenant != null || noticeTenant == null || noticeTenant.isBlank()
            ? requestTenant
            : noticeTenant;
    return new GateEntry(State.ERASED, null, null, null, now, null, null, tenant);
  }

  /** Held because no verdict came in time: a verdict that comes now still decides. */
  boolean heldWithoutVerdict() {
    return state == State.HELD && verdict == null;
  }

  /** Still waiting, with the clock started now (entries written before it was kept). */
  GateEntry clockStarted(long now) {
    return new GateEntry(state, outputId, output, verdict, now, null, null, requestTenant);
  }

  /**
   * Final: drop the payloads, keep what recognises a duplicate (the decided output's id) and names
   * the outcome written.
   */
  GateEntry decided(
      State finalState, String decidedOutputId, long now, String eventId, String basis) {
    return new GateEntry(
        finalState, decidedOutputId, null, null, now, eventId, basis, requestTenant);
  }

  static Serde<GateEntry> serde() {
    return serde(FORMAT);
  }

  /**
   * @param writeFormat the format entries are written in: 3; 2 without the request's tenant (an
   *     output or verdict under another tenant is then not told apart); or 1 without the outcome's
   *     event id and basis either (restatements then name no outcome)
   */
  static Serde<GateEntry> serde(int writeFormat) {
    if (writeFormat < 1 || writeFormat > FORMAT) {
      throw new IllegalArgumentException(
          "gate entry format must be 1, 2 or " + FORMAT + ", was " + writeFormat);
    }
    Serializer<GateEntry> serializer =
        (topic, entry) -> entry == null ? null : entry.toBytes(writeFormat);
    Deserializer<GateEntry> deserializer =
        (topic, bytes) -> bytes == null ? null : fromBytes(bytes);
    return Serdes.serdeFrom(serializer, deserializer);
  }

  /**
   * The entry in {@code format}: the layout {@link #fromBytes} reads (big-endian, as {@code
   * DataOutputStream} writes), into an array sized exactly once (every string encoded first), so
   * that an entry with its output and verdict is not copied as a buffer grows.
   */
  byte[] toBytes(int format) {
    byte[] outputIdBytes = utf8(outputId);
    UUID outcomeUuid = format >= 2 ? asUuid(outcomeEventId) : null;
    byte[] outcomeIdBytes =
        format >= 2 && outcomeEventId != null && outcomeUuid == null ? utf8(outcomeEventId) : null;
    byte[] basisBytes = format >= 2 ? utf8(outcomeBasis) : null;
    byte[] tenantBytes = format >= 3 ? utf8(requestTenant) : null;
    int size = 2 + sized(outputIdBytes) + sized(output) + sized(verdict) + Long.BYTES;
    if (format >= 2) {
      size +=
          1
              + (outcomeEventId == null
                  ? 0
                  : outcomeUuid != null ? 2 * Long.BYTES : sized(outcomeIdBytes))
              + sized(basisBytes);
    }
    if (format >= 3) {
      size += sized(tenantBytes);
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put((byte) format);
    out.put((byte) state.ordinal());
    putBytes(out, outputIdBytes);
    putBytes(out, output);
    putBytes(out, verdict);
    out.putLong(sinceMillis);
    if (format >= 2) {
      // The outcome's event id: a name-based UUID as the gate makes them in 16 bytes (a marker is
      // kept for every request decided within the retention), any other id as a string.
      if (outcomeEventId == null) {
        out.put((byte) 0);
      } else if (outcomeUuid != null) {
        out.put((byte) 1);
        out.putLong(outcomeUuid.getMostSignificantBits());
        out.putLong(outcomeUuid.getLeastSignificantBits());
      } else {
        out.put((byte) 2);
        putBytes(out, outcomeIdBytes);
      }
      putBytes(out, basisBytes);
    }
    if (format >= 3) {
      putBytes(out, tenantBytes);
    }
    if (out.hasRemaining()) {
      throw new IllegalStateException(
          "Gate entry sized " + size + " bytes but written in " + out.position());
    }
    return out.array();
  }

  private static byte[] utf8(String value) {
    return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
  }

  /** The bytes {@link #putBytes} writes for {@code value}: its length, then it. */
  private static int sized(byte[] value) {
    return Integer.BYTES + (value == null ? 0 : value.length);
  }

  private static void putBytes(ByteBuffer out, byte[] value) {
    if (value == null) {
      out.putInt(-1);
    } else {
      out.putInt(value.length);
      out.put(value);
    }
  }

  /**
   * Reads an entry the gate wrote, in either format; anything else (cut short, a length or state it
   * never writes, bytes left over, an outcome without its basis) is refused as corrupt, saying what
   * is wrong, rather than read as something it is not.
   */
  private static GateEntry fromBytes(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int format = in.readByte();
      if (format < 1 || format > FORMAT) {
        throw new IllegalStateException("Unknown gate entry format " + format);
      }
      int ordinal = in.readByte();
      if (ordinal < 0 || ordinal >= State.values().length) {
        throw corrupt("unknown state " + ordinal);
      }
      State state = State.values()[ordinal];
      String outputId = readString(in);
      byte[] output = readBytes(in);
      byte[] verdict = readBytes(in);
      long since = in.readLong();
      GateEntry entry;
      if (format == 1) {
        entry = new GateEntry(state, outputId, output, verdict, since);
      } else {
        String outcomeEventId = readOutcomeEventId(in);
        String outcomeBasis = readString(in);
        if ((outcomeEventId == null) != (outcomeBasis == null)) {
          throw corrupt("an outcome event id without its basis, or a basis without its id");
        }
        String requestTenant = format >= 3 ? readString(in) : null;
        entry =
            new GateEntry(
                state,
                outputId,
                output,
                verdict,
                since,
                outcomeEventId,
                outcomeBasis,
                requestTenant);
      }
      if (in.available() > 0) {
        throw corrupt(in.available() + " bytes after the end of a format " + format + " entry");
      }
      return entry;
    } catch (java.io.EOFException e) {
      throw corrupt("cut short (" + bytes.length + " bytes)");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static IllegalStateException corrupt(String what) {
    return new IllegalStateException("Corrupt gate entry: " + what);
  }

  private static String readOutcomeEventId(DataInputStream in) throws IOException {
    int kind = in.readByte();
    return switch (kind) {
      case 0 -> null;
      case 1 -> new UUID(in.readLong(), in.readLong()).toString();
      case 2 -> readString(in);
      default -> throw new IllegalStateException("Unknown outcome event id kind " + kind);
    };
  }

  /** The id as a UUID when it is one in its canonical lowercase form (so it reads back equal). */
  private static UUID asUuid(String id) {
    if (id == null || id.length() != 36) {
      return null;
    }
    try {
      UUID uuid = UUID.fromString(id);
      return uuid.toString().equals(id) ? uuid : null;
    } catch (IllegalArgumentException notOne) {
      return null;
    }
  }

  private static String readString(DataInputStream in) throws IOException {
    byte[] bytes = readBytes(in);
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length == -1) {
      return null;
    }
    if (length < 0 || length > in.available()) {
      // Checked before allocating: a corrupt length must not ask for gigabytes.
      throw corrupt("a length of " + length + " with " + in.available() + " bytes left");
    }
    byte[] value = new byte[length];
    in.readFully(value);
    return value;
  }
}
