package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the bias job takes from a verdict: a field it keys its figures by or copies into them that
 * is longer than {@link DecodeVerdicts#MAX_FIELD_BYTES} makes a dead letter, not a metric Kafka
 * refuses on every restart.
 */
class DecodeVerdictsTest {
  private static final Instant DECIDED = Instant.parse("2026-12-06T10:00:00Z");

  private OneInputStreamOperatorTestHarness<KafkaMessage, VerdictFacts> harness;

  @BeforeEach
  void open() throws Exception {
    harness =
        ProcessFunctionTestHarnesses.forProcessFunction(
            new DecodeVerdicts(0.5, 0.5, List.of("hate", "violence")));
  }

  @AfterEach
  void close() throws Exception {
    harness.close();
  }

  @Test
  void shouldDeadLetterAVerdictWhoseCampaignIdIsLongerThanTheJobTakesInsteadOfCountingIt()
      throws Exception {
    // Within the event limit; as a campaign metric's key and value it passed Kafka's request size.
    String campaignId = "c".repeat(530_000);
    ModerationVerdict verdict =
        VerdictFixtures.verdict(
            "huge-campaign",
            true,
            DECIDED,
            List.of(),
            VerdictFixtures.campaign(campaignId, "control", 0));

    harness.processElement(message(verdict, 41), DECIDED.toEpochMilli());

    assertThat(harness.extractOutputValues()).as("counted in no figure").isEmpty();
    DeadLetter letter = onlyDeadLetter();
    assertThat(letter.getStage()).isEqualTo(DecodeVerdicts.STAGE);
    assertThat(letter.getSourceTopic()).isEqualTo(Topics.MODERATION_VERDICTS.name());
    assertThat(letter.getSourceOffset()).isEqualTo(41);
    assertThat(letter.getReason())
        .startsWith(
            "The verdict's campaign.id has 530000 bytes (UTF-8); the bias-aggregation job accepts"
                + " at most 1024");
  }

  @Test
  void shouldDeadLetterAVerdictWithAnOversizedModelTenantOrGroupNamingTheField() throws Exception {
    ModerationVerdict longModel =
        VerdictFixtures.verdict(
            "long-model",
            false,
            DECIDED,
            List.of(),
            Map.of(),
            new ModelRef("m".repeat(400_000), "1", "echo"));
    ModerationVerdict longTenant =
        VerdictFixtures.verdict(
            "long-tenant",
            false,
            DECIDED,
            List.of(),
            Map.of(),
            VerdictFixtures.ECHO,
            "t".repeat(2_000));
    ModerationVerdict longGroup =
        VerdictFixtures.verdict(
            "long-group", false, DECIDED, List.of("religion:muslim", "g".repeat(1_025)), Map.of());

    assertThat(DecodeVerdicts.oversizedField(longModel)).isEqualTo("model.name");
    assertThat(DecodeVerdicts.oversizedField(longTenant)).isEqualTo("tenantId");
    assertThat(DecodeVerdicts.oversizedField(longGroup)).isEqualTo("groups[1]");
    harness.processElement(message(longModel, 1), DECIDED.toEpochMilli());
    harness.processElement(message(longTenant, 2), DECIDED.toEpochMilli());
    harness.processElement(message(longGroup, 3), DECIDED.toEpochMilli());

    assertThat(harness.extractOutputValues()).isEmpty();
    assertThat(harness.getSideOutput(DecodeVerdicts.DEAD_LETTERS)).hasSize(3);
  }

  @Test
  void shouldCountAVerdictWhoseFieldsAreAtTheLimit() throws Exception {
    String campaignId = "é".repeat(DecodeVerdicts.MAX_FIELD_BYTES / 2);
    ModerationVerdict verdict =
        VerdictFixtures.verdict(
            "at-the-limit",
            true,
            DECIDED,
            List.of("religion:muslim"),
            VerdictFixtures.campaign(campaignId, "control", 3));

    assertThat(DecodeVerdicts.oversizedField(verdict)).isNull();
    harness.processElement(message(verdict, 7), DECIDED.toEpochMilli());

    assertThat(harness.getSideOutput(DecodeVerdicts.DEAD_LETTERS)).isNull();
    assertThat(harness.extractOutputValues())
        .singleElement()
        .satisfies(facts -> assertThat(facts.campaignId).isEqualTo(campaignId));
  }

  /**
   * The forty-second session's fix: an OpenAI-compatible server's {@code system_fingerprint} (the
   * version of its outputs) was part of the live windows' key, so answers from two deployments of
   * one model fell in two windows per group, each below the minimum a test needs.
   */
  @Test
  void shouldCountAServedModelUnderOneLiveKeyWhateverFingerprintTheServerReports()
      throws Exception {
    harness.processElement(
        message(served("fp-a", new ModelRef("gpt-4o-mini", "fp_44709d6fcb", "openai")), 1),
        DECIDED.toEpochMilli());
    harness.processElement(
        message(served("fp-b", new ModelRef("gpt-4o-mini", "fp_0ba0d124f1", "openai")), 2),
        DECIDED.toEpochMilli());
    harness.processElement(
        message(served("fp-none", new ModelRef("gpt-4o-mini", "unknown", "openai")), 3),
        DECIDED.toEpochMilli());
    // A version of the deployment's own (a DJL model file's digest) is another model.
    harness.processElement(
        message(served("djl-1", new ModelRef("gpt2", "sha256:1111", "djl")), 4),
        DECIDED.toEpochMilli());
    harness.processElement(
        message(served("djl-2", new ModelRef("gpt2", "sha256:2222", "djl")), 5),
        DECIDED.toEpochMilli());

    List<VerdictFacts> facts = harness.extractOutputValues();
    assertThat(facts)
        .extracting(f -> f.model)
        .containsExactly(
            "openai/gpt-4o-mini",
            "openai/gpt-4o-mini",
            "openai/gpt-4o-mini",
            "djl/gpt2@sha256:1111",
            "djl/gpt2@sha256:2222");
    List<String> liveKeys = facts.stream().map(LiveWindowFunctions::model).toList();
    assertThat(liveKeys.subList(0, 3)).as("one window per model").containsOnly(liveKeys.get(0));
    assertThat(liveKeys.get(3)).isNotEqualTo(liveKeys.get(4));
  }

  private static ModerationVerdict served(String requestId, ModelRef model) {
    return VerdictFixtures.verdict(
        requestId, false, DECIDED, List.of("religion:muslim"), Map.of(), model);
  }

  private DeadLetter onlyDeadLetter() {
    assertThat(harness.getSideOutput(DecodeVerdicts.DEAD_LETTERS)).hasSize(1);
    KafkaMessage out = harness.getSideOutput(DecodeVerdicts.DEAD_LETTERS).peek().getValue();
    assertThat(out.topic).isEqualTo(Topics.MODERATION_VERDICTS_DLQ.name());
    return Topics.MODERATION_VERDICTS_DLQ.codec().decode(out.value);
  }

  private static KafkaMessage message(ModerationVerdict verdict, long offset) {
    KafkaMessage message = new KafkaMessage();
    message.topic = Topics.MODERATION_VERDICTS.name();
    message.partition = 0;
    message.offset = offset;
    message.key = verdict.getRequestId().getBytes(StandardCharsets.UTF_8);
    message.value = Topics.MODERATION_VERDICTS.codec().encode(verdict);
    return message;
  }
}
