package io.genguard.moderation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class GateEntryTest {
  private final Serde<GateEntry> serde = GateEntry.serde();

  @Test
  void shouldKeepTheOutcomeOfAFinalEntry() {
    GateEntry decided =
        GateEntry.empty()
            .withOutput("out-1", new byte[] {1, 2}, 10L)
            .decided(
                GateEntry.State.RELEASED,
                "out-1",
                20L,
                "0b6f3a1c-2d4e-5f60-8172-93a4b5c6d7e8",
                "REVIEW");

    GateEntry read = roundTrip(decided);

    assertThat(read.state()).isEqualTo(GateEntry.State.RELEASED);
    assertThat(read.outputId()).isEqualTo("out-1");
    assertThat(read.output()).as("the payload is dropped once decided").isNull();
    assertThat(read.sinceMillis()).isEqualTo(20L);
    assertThat(read.outcomeEventId()).isEqualTo("0b6f3a1c-2d4e-5f60-8172-93a4b5c6d7e8");
    assertThat(read.outcomeBasis()).isEqualTo("REVIEW");
  }

  @Test
  void shouldKeepAnOutcomeEventIdThatIsNoCanonicalUuidAsItIs() {
    for (String id :
        new String[] {"evt-released", "0B6F3A1C-2D4E-5F60-8172-93A4B5C6D7E8", "1-2-3-4-5"}) {
      GateEntry decided =
          GateEntry.empty().decided(GateEntry.State.QUARANTINED, "out-2", 5L, id, "VERDICT");

      assertThat(roundTrip(decided).outcomeEventId()).isEqualTo(id);
    }
  }

  @Test
  void shouldKeepAMarkerSmall() {
    GateEntry decided = releasedOnVerdict();

    // format, state, output id (4 + 36), no output, no verdict, time; then the outcome: its kind
    // and a UUID's 16 bytes, its basis (4 + 7); then the request's tenant (none known: 4).
    assertThat(serde.serializer().serialize("store", decided))
        .hasSize(1 + 1 + 40 + 4 + 4 + 8 + 1 + 16 + 11 + 4);
  }

  @Test
  void shouldReadEntriesWrittenBeforeTheOutcomeWasKept() throws IOException {
    // Format 1: state, output id, output, verdict, since; nothing after.
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(buffer)) {
      out.writeByte(1);
      out.writeByte(GateEntry.State.QUARANTINED.ordinal());
      byte[] id = "out-9".getBytes(StandardCharsets.UTF_8);
      out.writeInt(id.length);
      out.write(id);
      out.writeInt(-1);
      out.writeInt(-1);
      out.writeLong(1234L);
    }

    GateEntry read = serde.deserializer().deserialize("store", buffer.toByteArray());

    assertThat(read.state()).isEqualTo(GateEntry.State.QUARANTINED);
    assertThat(read.outputId()).isEqualTo("out-9");
    assertThat(read.sinceMillis()).isEqualTo(1234L);
    assertThat(read.outcomeEventId()).isNull();
    assertThat(read.outcomeBasis()).isNull();
  }

  @Test
  void shouldWriteFormatOneWithoutTheOutcomeWhenToldTo() {
    GateEntry decided = releasedOnVerdict();
    Serde<GateEntry> formatOne = GateEntry.serde(1);

    byte[] bytes = formatOne.serializer().serialize("store", decided);

    assertThat(bytes[0]).as("what a gate from before format 2 reads").isEqualTo((byte) 1);
    assertThat(bytes).hasSize(1 + 1 + 40 + 4 + 4 + 8);
    GateEntry read = serde.deserializer().deserialize("store", bytes);
    assertThat(read.outputId()).isEqualTo("6f1d2c3b-4a59-5867-9786-a5b4c3d2e1f0");
    assertThat(read.outcomeEventId()).isNull();
    assertThatThrownBy(() -> GateEntry.serde(4)).hasMessageContaining("must be 1, 2 or 3, was 4");
  }

  @Test
  void shouldRefuseAnUnknownFormat() {
    assertThatThrownBy(() -> serde.deserializer().deserialize("store", new byte[] {9, 0}))
        .hasMessageContaining("Unknown gate entry format 9");
  }

  @Test
  void shouldRefuseACorruptEntrySayingWhatIsWrong() {
    byte[] good = GateEntry.serde(2).serializer().serialize("store", releasedOnVerdict());
    java.util.Map<String, byte[]> corrupt = new java.util.LinkedHashMap<>();
    corrupt.put("cut short", java.util.Arrays.copyOf(good, 52));
    corrupt.put("bytes after the end", java.util.Arrays.copyOf(good, good.length + 2));
    // Format 2's bytes read as format 1: the outcome would be lost without a word.
    byte[] asFormatOne = good.clone();
    asFormatOne[0] = 1;
    corrupt.put("bytes after the end of a format 1 entry", asFormatOne);
    byte[] unknownState = good.clone();
    unknownState[1] = 9;
    corrupt.put("unknown state 9", unknownState);
    byte[] negativeLength = good.clone();
    java.nio.ByteBuffer.wrap(negativeLength).putInt(2, -2);
    corrupt.put("a length of -2", negativeLength);
    byte[] hugeLength = good.clone();
    java.nio.ByteBuffer.wrap(hugeLength).putInt(2, Integer.MAX_VALUE);
    corrupt.put("a length of 2147483647", hugeLength);
    // The outcome's id left out (kind 0) while its basis is still there.
    byte[] basisOnly = new byte[good.length - 16];
    System.arraycopy(good, 0, basisOnly, 0, good.length - 28);
    System.arraycopy(good, good.length - 11, basisOnly, good.length - 27, 11);
    basisOnly[good.length - 28] = 0;
    corrupt.put("without its basis, or a basis without its id", basisOnly);

    corrupt.forEach(
        (what, bytes) ->
            assertThatThrownBy(() -> serde.deserializer().deserialize("store", bytes))
                .as(what)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("Corrupt gate entry")
                .hasMessageContaining(what));
    assertThat(serde.deserializer().deserialize("store", good).outcomeBasis())
        .as("the bytes it was made from still read")
        .isEqualTo("VERDICT");
  }

  @Test
  void shouldKeepTheRequestsTenantInFormatThreeAndLeaveItOutOfFormatTwo() {
    GateEntry waiting =
        GateEntry.empty()
            .withRequestTenant("acme", false, false, 10L)
            .withOutput("out-1", new byte[] {1, 2}, 20L);
    GateEntry decided =
        waiting.decided(GateEntry.State.QUARANTINED, "out-1", 30L, "evt-1", "VERDICT");

    assertThat(roundTrip(waiting).requestTenant()).isEqualTo("acme");
    assertThat(roundTrip(waiting).sinceMillis())
        .as("the output starts the verdict's clock, not the request")
        .isEqualTo(20L);
    assertThat(roundTrip(decided).requestTenant()).as("the marker keeps it").isEqualTo("acme");
    byte[] formatTwo = GateEntry.serde(2).serializer().serialize("store", decided);
    assertThat(formatTwo[0]).as("what a gate from before format 3 reads").isEqualTo((byte) 2);
    GateEntry read = serde.deserializer().deserialize("store", formatTwo);
    assertThat(read.requestTenant()).as("format 2 has no tenant").isNull();
    assertThat(read.outcomeEventId()).as("the rest of format 2 still reads").isEqualTo("evt-1");
  }

  @Test
  void shouldLeaveOutTheHalvesUnderAnotherTenantWhenTheRequestComes() {
    GateEntry waiting =
        GateEntry.empty().withOutput("out-1", new byte[] {1}, 10L).withVerdict(new byte[] {2}, 15L);

    GateEntry withoutOutput = waiting.withRequestTenant("acme", false, true, 20L);
    assertThat(withoutOutput.output()).isNull();
    assertThat(withoutOutput.outputId()).isNull();
    assertThat(withoutOutput.verdict()).containsExactly(2);
    assertThat(withoutOutput.sinceMillis()).as("the verdict's clock goes on").isEqualTo(10L);
    GateEntry empty = waiting.withRequestTenant("acme", false, false, 20L);
    assertThat(empty.output()).isNull();
    assertThat(empty.verdict()).isNull();
    assertThat(empty.sinceMillis()).as("nothing left: the request's clock").isEqualTo(20L);
  }

  @Test
  void shouldKeepTheRequestsTenantInAnErasedMarker() {
    GateEntry erased =
        GateEntry.empty()
            .withRequestTenant("acme", false, false, 10L)
            .withVerdict(new byte[] {2}, 15L)
            .erased(30L, "globex");

    assertThat(roundTrip(erased))
        .as("the request's tenant, read from gen.requests, before the notice's")
        .isEqualTo(
            new GateEntry(GateEntry.State.ERASED, null, null, null, 30L, null, null, "acme"));
    assertThat(roundTrip(GateEntry.empty().erased(30L, "acme")))
        .as("no request read: the erasure notice's tenant")
        .isEqualTo(
            new GateEntry(GateEntry.State.ERASED, null, null, null, 30L, null, null, "acme"));
    assertThat(roundTrip(GateEntry.empty().erased(30L, "")))
        .as("a notice that does not know the tenant (Retention.NO_TENANT): unknown, not \"\"")
        .isEqualTo(new GateEntry(GateEntry.State.ERASED, null, null, null, 30L, null, null, null));
  }

  /** A release marker with a UUID output id and a UUID outcome event id, as the gate makes them. */
  @Test
  void shouldWriteTheBytesTheGrowingBufferWrote() throws IOException {
    byte[] output = "an output, encoded".getBytes(StandardCharsets.UTF_8);
    byte[] verdict = new byte[70_000]; // past every size the old buffer grew through
    for (int i = 0; i < verdict.length; i++) {
      verdict[i] = (byte) (i * 31);
    }
    List<GateEntry> entries = new ArrayList<>();
    for (GateEntry.State state : GateEntry.State.values()) {
      for (String outputId : new String[] {null, "", "out-Ünïcode-文字"}) {
        for (byte[] payload : new byte[][] {null, new byte[0], output, verdict}) {
          entries.add(new GateEntry(state, outputId, payload, verdict, 42L));
          entries.add(new GateEntry(state, outputId, output, payload, -1L, null, null, "acme"));
        }
      }
      for (String eventId :
          new String[] {
            "0b6f3a1c-2d4e-5f60-8172-93a4b5c6d7e8",
            "0B6F3A1C-2D4E-5F60-8172-93A4B5C6D7E8",
            "evt-released",
            "",
            "ü".repeat(18)
          }) {
        entries.add(new GateEntry(state, "out-1", null, null, Long.MAX_VALUE, eventId, "VERDICT"));
        entries.add(
            new GateEntry(state, "out-1", output, null, 7L, eventId, "ERASURE", "tenant-ü"));
      }
    }
    entries.add(GateEntry.empty());
    entries.add(releasedOnVerdict());
    entries.add(GateEntry.empty().erased(9L, "acme"));

    for (int format = 1; format <= GateEntry.FORMAT; format++) {
      for (GateEntry entry : entries) {
        assertThat(GateEntry.serde(format).serializer().serialize("store", entry))
            .as("format %d of %s", format, entry)
            .isEqualTo(bytesAsTheGrowingBufferWroteThem(entry, format));
      }
    }
  }

  /** {@code GateEntry.toBytes} until the forty-ninth session: the reference for the bytes. */
  private static byte[] bytesAsTheGrowingBufferWroteThem(GateEntry entry, int format)
      throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(buffer)) {
      out.writeByte(format);
      out.writeByte(entry.state().ordinal());
      writeString(out, entry.outputId());
      writeBytes(out, entry.output());
      writeBytes(out, entry.verdict());
      out.writeLong(entry.sinceMillis());
      if (format >= 2) {
        String id = entry.outcomeEventId();
        UUID uuid = null;
        if (id != null && id.length() == 36) {
          try {
            uuid = UUID.fromString(id);
            uuid = uuid.toString().equals(id) ? uuid : null;
          } catch (IllegalArgumentException notOne) {
            uuid = null;
          }
        }
        if (id == null) {
          out.writeByte(0);
        } else if (uuid != null) {
          out.writeByte(1);
          out.writeLong(uuid.getMostSignificantBits());
          out.writeLong(uuid.getLeastSignificantBits());
        } else {
          out.writeByte(2);
          writeString(out, id);
        }
        writeString(out, entry.outcomeBasis());
      }
      if (format >= 3) {
        writeString(out, entry.requestTenant());
      }
    }
    return buffer.toByteArray();
  }

  private static void writeString(DataOutputStream out, String value) throws IOException {
    writeBytes(out, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  private static void writeBytes(DataOutputStream out, byte[] value) throws IOException {
    if (value == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(value.length);
      out.write(value);
    }
  }

  private static GateEntry releasedOnVerdict() {
    return GateEntry.empty()
        .decided(
            GateEntry.State.RELEASED,
            "6f1d2c3b-4a59-5867-9786-a5b4c3d2e1f0",
            20L,
            "0b6f3a1c-2d4e-5f60-8172-93a4b5c6d7e8",
            "VERDICT");
  }

  private GateEntry roundTrip(GateEntry entry) {
    return serde.deserializer().deserialize("store", serde.serializer().serialize("store", entry));
  }
}
