package io.genguard.moderation.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.CarriedAttributes;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictBytesTest {
  @Test
  void keepsTheOutputsAttributesWhenTheyFit() {
    GenerationOutput output =
        GenerationOutput.newBuilder(Events.output("v1", "Hello."))
            .setAttributes(Map.of("channel", "web"))
            .build();
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(Events.verdict(output, Decision.RELEASE))
            .setAttributes(output.getAttributes())
            .build();
    assertThat(Topics.MODERATION_VERDICTS.codec().decode(VerdictBytes.encode(verdict)))
        .isEqualTo(verdict);
  }

  @Test
  void leavesOutAttributesThatWouldPushTheVerdictOverTheEventLimit() {
    // The output fits (its text is short); its verdict adds scores and reasons to the same
    // attributes and would not.
    GenerationOutput bare =
        GenerationOutput.newBuilder(Events.output("v2", "Hello."))
            .setAttributes(Map.of("context", ""))
            .build();
    int room = EventCodec.MAX_EVENT_BYTES - Topics.GENERATION_OUTPUTS.codec().encode(bare).length;
    Map<String, String> attributes = Map.of("context", "a".repeat(room - 8));
    GenerationOutput output = GenerationOutput.newBuilder(bare).setAttributes(attributes).build();
    assertThat(Topics.GENERATION_OUTPUTS.codec().encode(output).length)
        .isLessThanOrEqualTo(EventCodec.MAX_EVENT_BYTES);
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder(Events.verdict(output, Decision.REVIEW))
            .setAttributes(attributes)
            .build();

    byte[] bytes = VerdictBytes.encode(verdict);

    ModerationVerdict written = Topics.MODERATION_VERDICTS.codec().decode(bytes);
    assertThat(written.getAttributes().keySet()).containsOnly(CarriedAttributes.OMITTED);
    assertThat(written.getAttributes().get(CarriedAttributes.OMITTED))
        .startsWith("1 attributes (" + (room - 8 + "context".length()) + " bytes) left out");
    assertThat(written.getDecision()).isEqualTo(Decision.REVIEW);
    assertThat(written.getReasons()).isEqualTo(verdict.getReasons());
  }
}
