package io.genguard.bias.job;

import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds bias.metrics events. Ids are deterministic in what they count (a campaign group's total at
 * a given count, a live group's window), so a replay after a restart produces the same ids and the
 * audit store records each once.
 */
final class BiasMetrics {
  private BiasMetrics() {}

  /**
   * A campaign group's running totals of one tenant's verdicts (the id names the tenant, so the
   * totals of two tenants naming the same campaign are two figures); a null tenant for totals kept
   * from before the tenant was part of the key (their id is the one such totals had then).
   */
  static KafkaMessage campaign(
      EventCodec<BiasMetric> codec,
      String tenantId,
      String campaignId,
      String group,
      GroupCounts counts,
      List<String> categories,
      long now) {
    BiasMetric metric =
        metric(
            tenantId == null
                ? EventIds.nameBased(
                    "bias-metric", "CAMPAIGN", campaignId, group, Long.toString(counts.count))
                : EventIds.nameBased(
                    "bias-metric",
                    "CAMPAIGN",
                    tenantId,
                    campaignId,
                    group,
                    Long.toString(counts.count)),
            BiasScope.CAMPAIGN,
            tenantId,
            campaignId,
            group,
            counts.firstDecidedAt,
            counts.lastDecidedAt,
            counts,
            categories,
            now);
    return KafkaMessage.outgoing(
        Topics.BIAS_METRICS.name(),
        campaignId.getBytes(StandardCharsets.UTF_8),
        codec.encode(metric));
  }

  /**
   * A live group's window. Its id names both bounds: windows of two lengths meet after {@code
   * GENGUARD_BIAS_WINDOW_SECONDS} changed across a restore, and two that start together (an open
   * 10-minute window from before and a 5-minute one after) had one id until the forty-second
   * session, so the audit store kept whichever came first and dropped the other as a repeat.
   * Metrics stored under those earlier ids stay as they are (the audit store takes any id).
   */
  static KafkaMessage live(
      EventCodec<BiasMetric> codec, LiveGroupWindow window, List<String> categories, long now) {
    BiasMetric metric =
        metric(
            liveId(window.model, window.group, window.windowStart, window.windowEnd),
            BiasScope.LIVE,
            null,
            null,
            window.group,
            window.windowStart,
            window.windowEnd,
            window.counts,
            categories,
            now);
    String key = window.model + "@" + window.windowStart;
    return KafkaMessage.outgoing(
        Topics.BIAS_METRICS.name(), key.getBytes(StandardCharsets.UTF_8), codec.encode(metric));
  }

  /** The id of a live group's window. */
  static String liveId(String model, String group, long windowStart, long windowEnd) {
    return EventIds.nameBased(
        "bias-metric", "LIVE", model, group, Long.toString(windowStart), Long.toString(windowEnd));
  }

  private static BiasMetric metric(
      String eventId,
      BiasScope scope,
      String tenantId,
      String campaignId,
      String group,
      long start,
      long end,
      GroupCounts counts,
      List<String> categories,
      long now) {
    // Counts restored from a build with fewer categories have none for the newer ones: 0 (none
    // counted before the upgrade); those of categories this build no longer counts are left out.
    Map<String, Long> categoryCounts = new LinkedHashMap<>();
    for (int c = 0; c < categories.size(); c++) {
      categoryCounts.put(categories.get(c), counts.categoryCount(c));
    }
    return BiasMetric.newBuilder()
        .setEventId(eventId)
        .setScope(scope)
        .setCampaignId(campaignId)
        .setTenantId(tenantId)
        .setModel(counts.model == null ? "unknown" : counts.model)
        .setGroup(group)
        .setWindowStart(Instant.ofEpochMilli(start))
        .setWindowEnd(Instant.ofEpochMilli(end))
        .setCount(counts.count)
        .setUnsafeCount(counts.unsafeCount)
        .setUnsafeScoreSum(counts.unsafeScoreSum)
        .setBlockCount(counts.blockCount)
        .setReviewCount(counts.reviewCount)
        .setReleaseCount(counts.releaseCount)
        .setCategoryCounts(categoryCounts)
        .setComputedAt(Instant.ofEpochMilli(now))
        .build();
  }
}
