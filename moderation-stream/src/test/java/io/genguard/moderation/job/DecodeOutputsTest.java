package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.moderation.fixtures.Events;
import org.junit.jupiter.api.Test;

class DecodeOutputsTest {
  @Test
  void shouldJudgeAnOutputWhoseFieldsItsVerdictCanCopy() {
    GenerationOutput output =
        GenerationOutput.newBuilder(
                Events.output("r".repeat(DecodeOutputs.MAX_FIELD_BYTES), "Hello."))
            .setOutputId("o".repeat(DecodeOutputs.MAX_FIELD_BYTES))
            .build();

    assertThat(DecodeOutputs.oversizedField(output)).isNull();
  }

  @Test
  void shouldRefuseAnIdOrModelFieldLongerThanAVerdictMayCopyNamingIt() {
    // Within the event limit, but keyed and copied by its verdict: a 600 KB request id made the
    // verdict's record pass Kafka's request size, failing the job's transaction on every restart.
    GenerationOutput longId = Events.output("r".repeat(600_000), "Hello.");
    assertThat(DecodeOutputs.oversizedField(longId))
        .isEqualTo(
            "The output's requestId has 600000 bytes (UTF-8); the moderation job accepts at most"
                + " 1024, since its verdict copies it");

    GenerationOutput longModel =
        GenerationOutput.newBuilder(Events.output("r1", "Hello."))
            .setModel(
                ModelRef.newBuilder(Events.output("r1", "Hello.").getModel())
                    .setName("m".repeat(700))
                    .setVersion("é".repeat(513))
                    .build())
            .build();
    assertThat(DecodeOutputs.oversizedField(longModel))
        .as("counted in UTF-8 bytes: 513 two-byte characters")
        .startsWith("The output's model.version has 1026 bytes");
  }
}
