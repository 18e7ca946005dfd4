package io.genguard.bias.job;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Verdicts as moderation writes them, for the job's tests. */
final class VerdictFixtures {
  static final ModelRef ECHO = new ModelRef("echo", "1", "echo");

  /** The tenant campaign requests run as by default (a campaign's target.tenant). */
  static final String CAMPAIGN_TENANT = "bias-audit";

  private VerdictFixtures() {}

  static ModerationVerdict verdict(
      String requestId,
      boolean unsafe,
      Instant decidedAt,
      List<String> groups,
      Map<String, String> attributes) {
    return verdict(requestId, unsafe, decidedAt, groups, attributes, ECHO);
  }

  static ModerationVerdict verdict(
      String requestId,
      boolean unsafe,
      Instant decidedAt,
      List<String> groups,
      Map<String, String> attributes,
      ModelRef model) {
    return verdict(requestId, unsafe, decidedAt, groups, attributes, model, CAMPAIGN_TENANT);
  }

  static ModerationVerdict verdict(
      String requestId,
      boolean unsafe,
      Instant decidedAt,
      List<String> groups,
      Map<String, String> attributes,
      ModelRef model,
      String tenantId) {
    Map<String, Double> categories = new HashMap<>();
    categories.put("hate", unsafe ? 0.97 : 0.02);
    categories.put("violence", 0.01);
    return ModerationVerdict.newBuilder()
        .setEventId(EventIds.nameBased("verdict-event", requestId))
        .setVerdictId(EventIds.nameBased("verdict", requestId))
        .setOutputId(EventIds.nameBased("output", requestId))
        .setRequestId(requestId)
        .setTenantId(tenantId)
        .setOutputSha256("00".repeat(32))
        .setDecision(unsafe ? Decision.BLOCK : Decision.RELEASE)
        .setReasons(List.of())
        .setUnsafeScore(unsafe ? 0.97 : 0.03)
        .setCategoryScores(categories)
        .setGroups(groups)
        .setPolicyId("test")
        .setPolicyVersion("1")
        .setScorerVersions(Map.of("test", "1"))
        .setModel(model)
        .setAttributes(attributes)
        .setDecidedAt(decidedAt)
        .build();
  }

  static Map<String, String> campaign(String id, String group, int sample) {
    return Map.of(
        "campaign.id", id, "campaign.group", group, "campaign.sample", Integer.toString(sample));
  }

  /**
   * The record at offset {@code index} of moderation.verdicts partition 0, keyed {@code k<index>},
   * as the job's Kafka source hands it on.
   */
  static KafkaMessage message(long index, byte[] value) {
    KafkaMessage message = new KafkaMessage();
    message.topic = Topics.MODERATION_VERDICTS.name();
    message.partition = 0;
    message.offset = index;
    message.key = ("k" + index).getBytes(StandardCharsets.UTF_8);
    message.value = value;
    return message;
  }
}
