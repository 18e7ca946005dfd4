package io.genguard.bias.job;

import io.genguard.events.v1.BiasMetric;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Running totals of one campaign group of one tenant (keyed by tenant, campaign id and group),
 * counting each campaign sample once (the first verdict of a sample wins, as in the reports),
 * published to bias.metrics at most once per emit interval, each metric naming its tenant.
 *
 * <p>The tenant is part of the key because any submitter can put a campaign id in its request's
 * attributes: verdicts of another tenant naming a campaign's id are counted apart, under their own
 * tenant, so they neither add to the campaign's totals nor take the place of its samples (a sample
 * index is counted once per tenant). The readers take a campaign's figures from its own tenant's
 * metrics and show the others as other tenants' (see the bias-audit README).
 *
 * <p>State: the totals, the samples already counted (bounded by the campaign's size) and the
 * pending publication timer; all checkpointed, so a restart neither loses nor double-counts.
 */
final class CampaignGroupAggregator
    extends KeyedProcessFunction<String, VerdictFacts, KafkaMessage> {
  private static final long serialVersionUID = 1L;

  private final long emitIntervalMillis;
  private final List<String> categories;
  private transient ValueState<GroupCounts> totals;
  private transient MapState<String, Boolean> counted;
  private transient ValueState<Long> pendingTimer;
  private transient EventCodec<BiasMetric> codec;

  CampaignGroupAggregator(long emitIntervalMillis, List<String> categories) {
    this.emitIntervalMillis = emitIntervalMillis;
    this.categories = List.copyOf(categories);
  }

  /**
   * The key: tenant, campaign id and group, joined by a separator that no tenant id contains (and
   * no attribute the API accepts).
   */
  static String key(VerdictFacts verdict) {
    return verdict.tenantId + "\u0000" + verdict.campaignId + "\u0000" + verdict.campaignGroup;
  }

  @Override
  public void open(OpenContext openContext) {
    totals =
        getRuntimeContext()
            .getState(new ValueStateDescriptor<>("totals", Types.POJO(GroupCounts.class)));
    counted =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("counted-samples", Types.STRING, Types.BOOLEAN));
    pendingTimer = getRuntimeContext().getState(new ValueStateDescriptor<>("timer", Types.LONG));
    codec = Topics.BIAS_METRICS.codec();
  }

  @Override
  public void processElement(VerdictFacts verdict, Context context, Collector<KafkaMessage> out)
      throws Exception {
    String unit =
        verdict.campaignSample != null ? "s:" + verdict.campaignSample : "r:" + verdict.requestId;
    if (counted.contains(unit)) {
      return;
    }
    counted.put(unit, true);
    GroupCounts counts = totals.value();
    if (counts == null) {
      counts = GroupCounts.empty(categories.size());
    }
    counts.add(verdict);
    totals.update(counts);
    long now = context.timerService().currentProcessingTime();
    if (emitIntervalMillis == 0) {
      out.collect(publish(context.getCurrentKey(), counts, now));
    } else if (pendingTimer.value() == null) {
      long at = now + emitIntervalMillis;
      context.timerService().registerProcessingTimeTimer(at);
      pendingTimer.update(at);
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext context, Collector<KafkaMessage> out)
      throws Exception {
    pendingTimer.clear();
    GroupCounts counts = totals.value();
    if (counts != null) {
      out.collect(publish(context.getCurrentKey(), counts, timestamp));
    }
  }

  private KafkaMessage publish(String key, GroupCounts counts, long now) {
    String[] parts = keyParts(key);
    return BiasMetrics.campaign(codec, parts[0], parts[1], parts[2], counts, categories, now);
  }

  /**
   * Tenant, campaign id and group of a key. A key of two parts (campaign id and group) is state
   * restored from a job of before the tenant was part of the key: its pending timer still fires
   * after an upgrade, and its totals are published as they were then, naming no tenant.
   */
  static String[] keyParts(String key) {
    int first = key.indexOf('\u0000');
    int second = key.indexOf('\u0000', first + 1);
    if (second < 0) {
      return new String[] {null, key.substring(0, first), key.substring(first + 1)};
    }
    return new String[] {
      key.substring(0, first), key.substring(first + 1, second), key.substring(second + 1)
    };
  }
}
