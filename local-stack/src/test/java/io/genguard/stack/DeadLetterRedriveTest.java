package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.job.DecodeVerdicts;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.moderation.job.DecodeOutputs;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.stack.DeadLetterRedrive.HeldPosition;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;

/**
 * Where a redrive commits when dead letters still do not decode, and what the next run reads; which
 * letters it keeps because the stage they would go back to refuses them again.
 */
class DeadLetterRedriveTest {
  @Test
  void shouldCommitWhereItReadToWhenEveryLetterWasHandled() {
    assertThat(DeadLetterRedrive.commitFor(12, List.of(), null))
        .isEqualTo(new OffsetAndMetadata(12));
  }

  @Test
  void shouldHoldThePositionAtTheFirstLetterThatStillDoesNotDecode() {
    OffsetAndMetadata commit = DeadLetterRedrive.commitFor(12, List.of(3L, 7L), null);

    assertThat(commit.offset()).isEqualTo(3);
    HeldPosition held = HeldPosition.parse(commit).orElseThrow();
    assertThat(held).isEqualTo(new HeldPosition(12, Set.of(3L, 7L)));
    assertThat(LongStream.range(3, 14).filter(offset -> !held.handled(offset)))
        .containsExactly(3L, 7L, 12L, 13L);
  }

  @Test
  void shouldKeepWhatTheEarlierRunLeftBeyondWhereThisOneGot() {
    HeldPosition earlier = new HeldPosition(12, Set.of(3L, 7L, 9L));

    // Read up to 8: 3 decodes now, 7 still does not; 9 is not reached yet.
    OffsetAndMetadata halfway = DeadLetterRedrive.commitFor(8, List.of(7L), earlier);
    assertThat(halfway.offset()).isEqualTo(7);
    assertThat(HeldPosition.parse(halfway)).contains(new HeldPosition(12, Set.of(7L, 9L)));

    // Read up to 5, and everything the earlier run left beyond it was handled: on to 12.
    assertThat(DeadLetterRedrive.commitFor(5, List.of(), new HeldPosition(12, Set.of(3L))))
        .isEqualTo(new OffsetAndMetadata(12));
  }

  @Test
  void shouldReadOnNormallyFromTheFirstLetterItCouldNotList() {
    List<Long> many = LongStream.range(1_000_000_000L, 1_000_001_000L).boxed().toList();

    OffsetAndMetadata commit = DeadLetterRedrive.commitFor(2_000_000_000L, many, null);

    assertThat(commit.metadata().length()).isLessThanOrEqualTo(DeadLetterRedrive.MAX_METADATA);
    HeldPosition held = HeldPosition.parse(commit).orElseThrow();
    assertThat(held.readTo()).isGreaterThan(many.get(0)).isLessThan(many.get(many.size() - 1));
    assertThat(held.undecodable())
        .allSatisfy(offset -> assertThat(offset).isLessThan(held.readTo()));
    assertThat(held.handled(held.readTo())).as("read again by the next run").isFalse();
  }

  @Test
  void shouldTreatAPlainOrForeignCommitAsNoHeldPosition() {
    assertThat(HeldPosition.parse(null)).isEmpty();
    assertThat(HeldPosition.parse(new OffsetAndMetadata(5))).isEmpty();
    assertThat(HeldPosition.parse(new OffsetAndMetadata(5, "someone else's"))).isEmpty();
    assertThat(
            HeldPosition.parse(
                new OffsetAndMetadata(5, DeadLetterRedrive.HELD_MARK + " read-to=x undecodable=5")))
        .isEmpty();
  }

  @Test
  void shouldKeepAnOutputTheModerationJobRefusesForAnOversizedFieldInsteadOfSendingItBack() {
    // The moderation job dead-letters it as not decodable; sent back, it came back as a new dead
    // letter, which the next run sent back again, forever.
    GenerationOutput longTenant = output("t".repeat(2_000));
    DeadLetter forModeration = letter(Topics.GENERATION_OUTPUTS, longTenant, DecodeOutputs.STAGE);

    assertThat(refusal(forModeration, Topics.GENERATION_OUTPUTS))
        .isEqualTo(
            "refused by stage moderation for what it holds (its tenantId is over 1024 bytes):"
                + " sending it back would fail the same way");
    assertThat(
            refusal(
                letter(Topics.GENERATION_OUTPUTS, output("acme"), DecodeOutputs.STAGE),
                Topics.GENERATION_OUTPUTS))
        .as("a tenant the job takes: sent back")
        .isNull();
    assertThat(
            refusal(
                letter(Topics.GENERATION_OUTPUTS, longTenant, "gate"), Topics.GENERATION_OUTPUTS))
        .as("the gate takes any tenant, and the moderation job skips a copy sent for the gate")
        .isNull();
  }

  @Test
  void shouldKeepAVerdictTheBiasJobRefusesForAnOversizedCampaignId() {
    ModerationVerdict verdict =
        ModerationVerdict.newBuilder()
            .setEventId("verdict-event-1")
            .setVerdictId("verdict-1")
            .setOutputId("output-1")
            .setRequestId("request-1")
            .setTenantId("acme")
            .setOutputSha256("00".repeat(32))
            .setDecision(Decision.RELEASE)
            .setReasons(List.of())
            .setUnsafeScore(0.1)
            .setCategoryScores(Map.of())
            .setGroups(List.of())
            .setPolicyId("default")
            .setPolicyVersion("1")
            .setScorerVersions(Map.of())
            .setAttributes(Map.of("campaign.id", "c".repeat(5_000)))
            .setDecidedAt(Instant.parse("2026-12-06T10:00:00Z"))
            .build();

    assertThat(
            refusal(
                letter(Topics.MODERATION_VERDICTS, verdict, DecodeVerdicts.STAGE),
                Topics.MODERATION_VERDICTS))
        .isEqualTo(
            "refused by stage bias-aggregation for what it holds (its campaign.id is over 1024"
                + " bytes): sending it back would fail the same way");
  }

  private static <T extends SpecificRecord> String refusal(
      DeadLetter letter, Topic<String, T> source) {
    return DeadLetterRedrive.refusal(letter, source, source.codec()::decode, null, new HashSet<>());
  }

  private static <T extends SpecificRecord> DeadLetter letter(
      Topic<String, T> source, T event, String stage) {
    return DeadLetters.of(
        source.name(),
        0,
        7,
        "request-1".getBytes(StandardCharsets.UTF_8),
        source.codec().encode(event),
        stage,
        new EventDecodingException("unknown schema fingerprint", null),
        Instant.parse("2026-12-06T10:00:00Z"));
  }

  private static GenerationOutput output(String tenantId) {
    return GenerationOutput.newBuilder()
        .setEventId("output-event-1")
        .setOutputId("output-1")
        .setRequestId("request-1")
        .setTenantId(tenantId)
        .setText("Hello.")
        .setModel(ModelRef.newBuilder().setName("echo").setVersion("1").setBackend("echo").build())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(5)
                .setTemperature(1)
                .setTopK(0)
                .setTopP(1)
                .build())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(1)
                .setOutputTokens(1)
                .setComputeMillis(1)
                .setDevice("cpu")
                .setEnergyJoules(0.0)
                .build())
        .setGeneratedAt(Instant.parse("2026-12-06T10:00:00Z"))
        .build();
  }
}
