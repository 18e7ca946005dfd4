package io.genguard.bias.job;

import io.genguard.bias.campaign.CampaignAttributes;
import io.genguard.schemas.LogText;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which campaign verdicts may become campaign state (keyed by tenant and campaign id, ahead
 * of {@link CampaignGroupAggregator}). A verdict's {@code campaign.group} and {@code
 * campaign.sample} come from a tenant's request: the audit API checks only that the campaign is an
 * open one of the tenant, so without this every new group name made a key kept for good (its
 * retirement marker) and every new sample value an entry in its group's counted samples.
 *
 * <p>A verdict is rejected when its group is not a name a campaign can plan ({@link
 * CampaignAttributes#groupProblem}: 1-64 characters, no control or format characters), when its
 * sample is not an index a campaign can plan ({@link CampaignAttributes#sampleProblem}: 0-49,999 in
 * shortest decimal form; also when it has none, which would be counted once per request id), or
 * when it names a new group of a campaign that already has {@code maxGroups} groups. A rejected
 * verdict counts in no figure (not in live traffic either: it is a campaign request, which the API
 * accepted only as one), is counted in {@value #REJECTED_CAMPAIGN_VERDICTS} and logged at most once
 * a minute per subtask. A group's counted samples are then at most {@code CampaignLimits.CEILING}
 * and a campaign's groups at most {@code maxGroups}.
 *
 * <p>State: the names of each campaign's admitted groups and their number, kept for good like the
 * aggregator's retirement markers (a group admitted once stays admitted).
 */
final class CampaignAdmission extends KeyedProcessFunction<String, VerdictFacts, VerdictFacts> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(CampaignAdmission.class);

  /** Campaign verdicts left out of every figure: an invalid group or sample, or too many groups. */
  static final String REJECTED_CAMPAIGN_VERDICTS = "rejected_campaign_verdicts";

  private static final long LOG_INTERVAL_MS = 60_000;

  private final int maxGroups;
  private transient MapState<String, Boolean> groups;
  private transient ValueState<Integer> groupCount;
  private transient Counter rejected;
  private transient long loggedAt;
  private transient long unlogged;

  /**
   * @param maxGroups the most groups one campaign (of one tenant) may have counted
   */
  CampaignAdmission(int maxGroups) {
    this.maxGroups = maxGroups;
  }

  /** The key: tenant and campaign id, joined as {@link CampaignGroupAggregator#key} joins them. */
  static String key(VerdictFacts verdict) {
    return verdict.tenantId + "\u0000" + verdict.campaignId;
  }

  @Override
  public void open(OpenContext openContext) {
    groups =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("campaign-groups", Types.STRING, Types.BOOLEAN));
    groupCount = getRuntimeContext().getState(new ValueStateDescriptor<>("group-count", Types.INT));
    rejected =
        getRuntimeContext()
            .getMetricGroup()
            .addGroup("genguard")
            .counter(REJECTED_CAMPAIGN_VERDICTS);
    loggedAt = Long.MIN_VALUE;
  }

  @Override
  public void processElement(VerdictFacts verdict, Context context, Collector<VerdictFacts> out)
      throws Exception {
    String problem = CampaignAttributes.groupProblem(verdict.campaignGroup);
    if (problem == null) {
      problem = CampaignAttributes.sampleProblem(verdict.campaignSample);
    }
    if (problem == null && !groups.contains(verdict.campaignGroup)) {
      int count = groupCount.value() == null ? 0 : groupCount.value();
      if (count >= maxGroups) {
        problem =
            "the campaign already has "
                + count
                + " groups, the most GENGUARD_BIAS_CAMPAIGN_MAX_GROUPS allows";
      } else {
        groups.put(verdict.campaignGroup, true);
        groupCount.update(count + 1);
      }
    }
    if (problem == null) {
      out.collect(verdict);
      return;
    }
    reject(verdict, problem, context.timerService().currentProcessingTime());
  }

  private void reject(VerdictFacts verdict, String problem, long now) {
    rejected.inc();
    unlogged++;
    if (loggedAt != Long.MIN_VALUE && now - loggedAt < LOG_INTERVAL_MS) {
      return;
    }
    LOG.warn(
        "{} campaign verdict(s) rejected and counted in no figure ({} {} so far); the latest:"
            + " campaign {} of tenant {}, group {}, sample {}, request {}: {}",
        unlogged,
        REJECTED_CAMPAIGN_VERDICTS,
        rejected.getCount(),
        LogText.quoted(verdict.campaignId),
        LogText.quoted(verdict.tenantId),
        LogText.quoted(verdict.campaignGroup),
        LogText.quoted(verdict.campaignSample),
        LogText.quoted(verdict.requestId),
        problem);
    loggedAt = now;
    unlogged = 0;
  }
}
