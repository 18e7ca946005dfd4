package io.genguard.moderation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class GateEntryTest {
  private final Serde<GateEntry> serde = GateEntry.serde();

  @Test
  void shouldKeepTheOutcomeOfAFinalEntry() {
    GateEntry decided =
        GateEntry.empty()
            .withOutput("out-1", new byte[] {1, 2}, 10L)
            .decided(GateEntry.State.RELEASED, "out-1", 20L, "evt-released", "REVIEW");

    GateEntry read = roundTrip(decided);

    assertThat(read.state()).isEqualTo(GateEntry.State.RELEASED);
    assertThat(read.outputId()).isEqualTo("out-1");
    assertThat(read.output()).as("the payload is dropped once decided").isNull();
    assertThat(read.sinceMillis()).isEqualTo(20L);
    assertThat(read.outcomeEventId()).isEqualTo("evt-released");
    assertThat(read.outcomeBasis()).isEqualTo("REVIEW");
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
  void shouldRefuseAnUnknownFormat() {
    assertThatThrownBy(() -> serde.deserializer().deserialize("store", new byte[] {9, 0}))
        .hasMessageContaining("Unknown gate entry format 9");
  }

  private GateEntry roundTrip(GateEntry entry) {
    return serde.deserializer().deserialize("store", serde.serializer().serialize("store", entry));
  }
}
