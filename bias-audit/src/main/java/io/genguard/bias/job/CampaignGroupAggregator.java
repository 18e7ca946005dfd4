package io.genguard.bias.job;

import io.genguard.events.v1.BiasMetric;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.LogText;
import io.genguard.schemas.Topics;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.SimpleTimerService;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>State: the totals, the samples already counted (bounded by the campaign's size), the pending
 * publication timer and the retirement timer; all checkpointed, so a restart neither loses nor
 * double-counts.
 *
 * <p>Retirement. Nothing in the verdicts says a campaign has ended (a campaign can be resumed at
 * any time), so a group is retired once the job's event time (the verdicts' decision time) is the
 * retention past the latest decision it counted: a pending publication goes out at once, the totals
 * and the counted samples are cleared, and only the final count is kept, as a marker. A verdict of
 * a retired group is not counted, but counted in {@value #RETIRED_CAMPAIGN_VERDICTS} and logged:
 * the published totals stay final. Counting it from no state instead would publish totals from 1
 * again, whose ids (tenant, campaign, group, count) the audit store already holds, so they would be
 * dropped, and then totals of the late samples alone, higher in count than the stored ones and so
 * read as the group's latest figures. The marker (a key and a number per campaign group) is kept
 * for good: dropping it would allow exactly that.
 */
final class CampaignGroupAggregator
    extends KeyedProcessFunction<String, VerdictFacts, KafkaMessage> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(CampaignGroupAggregator.class);

  /** Verdicts of a retired campaign group, not added to its final totals. */
  static final String RETIRED_CAMPAIGN_VERDICTS = "retired_campaign_verdicts";

  /** The state of the totals: a key has it from its first verdict until it retires. */
  static final String TOTALS = "totals";

  private static final long LOG_INTERVAL_MS = 60_000;

  private final long emitIntervalMillis;
  private final long retentionMillis;
  private final List<String> categories;
  private final RestoredCategories restored;
  private transient ValueState<GroupCounts> totals;
  private transient MapState<String, Boolean> counted;
  private transient ValueState<Long> pendingTimer;
  private transient ValueState<Long> retireAt;
  private transient ValueState<Long> retiredCount;
  private transient EventCodec<BiasMetric> codec;
  private transient Counter retiredVerdicts;
  private transient long loggedAt;
  private transient long unlogged;

  /**
   * @param emitIntervalMillis totals are published at most this often per group; 0 on every verdict
   * @param retentionMillis a group retires once event time is this far past its latest decision
   * @param categories the categories counted, in order
   */
  CampaignGroupAggregator(long emitIntervalMillis, long retentionMillis, List<String> categories) {
    this.emitIntervalMillis = emitIntervalMillis;
    this.retentionMillis = retentionMillis;
    this.categories = List.copyOf(categories);
    this.restored = new RestoredCategories(categories, "campaign totals");
  }

  /** The operator that runs an aggregator of these settings (see {@link Operator}). */
  static Operator operator(long emitIntervalMillis, long retentionMillis, List<String> categories) {
    return new Operator(
        new CampaignGroupAggregator(emitIntervalMillis, retentionMillis, categories));
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
            .getState(new ValueStateDescriptor<>(TOTALS, Types.POJO(GroupCounts.class)));
    counted =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("counted-samples", Types.STRING, Types.BOOLEAN));
    pendingTimer = getRuntimeContext().getState(new ValueStateDescriptor<>("timer", Types.LONG));
    retireAt = getRuntimeContext().getState(new ValueStateDescriptor<>("retire-at", Types.LONG));
    retiredCount =
        getRuntimeContext().getState(new ValueStateDescriptor<>("retired-count", Types.LONG));
    codec = Topics.BIAS_METRICS.codec();
    retiredVerdicts =
        getRuntimeContext()
            .getMetricGroup()
            .addGroup("genguard")
            .counter(RETIRED_CAMPAIGN_VERDICTS);
    loggedAt = Long.MIN_VALUE;
  }

  @Override
  public void processElement(VerdictFacts verdict, Context context, Collector<KafkaMessage> out)
      throws Exception {
    Long retired = retiredCount.value();
    if (retired != null) {
      notCounted(verdict, retired, context.timerService());
      return;
    }
    String unit =
        verdict.campaignSample != null ? "s:" + verdict.campaignSample : "r:" + verdict.requestId;
    if (counted.contains(unit)) {
      return;
    }
    counted.put(unit, true);
    GroupCounts counts = totals.value();
    counts = counts == null ? GroupCounts.empty(categories.size()) : restored.fit(counts);
    counts.add(verdict);
    totals.update(counts);
    scheduleRetirement(context.timerService(), counts);
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
    if (context.timeDomain() == TimeDomain.EVENT_TIME) {
      retireIfDue(timestamp, context, out);
      return;
    }
    pendingTimer.clear();
    GroupCounts counts = totals.value();
    if (counts != null) {
      out.collect(publish(context.getCurrentKey(), restored.fit(counts), timestamp));
    }
  }

  /**
   * Schedules the retirement of the current key if it has totals but no retirement timer: state
   * restored from a build before retirement, or from a job stopped with {@code --drain}.
   */
  void scheduleRetirementIfMissing(TimerService timers) throws IOException {
    GroupCounts counts = totals.value();
    if (counts != null) {
      scheduleRetirement(timers, counts);
    }
  }

  /**
   * One timer per group: at the retention past its latest decision when scheduled, moved on when it
   * fires early (newer decisions counted meanwhile), so a verdict costs no timer change.
   */
  private void scheduleRetirement(TimerService timers, GroupCounts counts) throws IOException {
    if (retireAt.value() == null) {
      long at = retirementTime(counts);
      timers.registerEventTimeTimer(at);
      retireAt.update(at);
    }
  }

  private long retirementTime(GroupCounts counts) {
    long last = counts.lastDecidedAt;
    return last > Long.MAX_VALUE - retentionMillis ? Long.MAX_VALUE : last + retentionMillis;
  }

  private void retireIfDue(long timestamp, OnTimerContext context, Collector<KafkaMessage> out)
      throws Exception {
    retireAt.clear();
    GroupCounts counts = totals.value();
    if (counts == null) {
      return;
    }
    TimerService timers = context.timerService();
    if (timers.currentWatermark() == Long.MAX_VALUE) {
      // The end of the input (a bounded source, or flink stop --drain), not the passing of the
      // retention: keep the group; a job restored from here schedules its retirement again.
      return;
    }
    long due = retirementTime(counts);
    if (due > timestamp) {
      timers.registerEventTimeTimer(due);
      retireAt.update(due);
      return;
    }
    String[] parts = keyParts(context.getCurrentKey());
    Long pending = pendingTimer.value();
    if (pending != null) {
      timers.deleteProcessingTimeTimer(pending);
      out.collect(
          publish(context.getCurrentKey(), restored.fit(counts), timers.currentProcessingTime()));
    }
    LOG.info(
        "Campaign {} group {} of tenant {} retired with {} sample(s) counted: no verdict decided"
            + " within {} h of its last ({}); its totals are final",
        LogText.quoted(parts[1]),
        LogText.quoted(parts[2]),
        LogText.quoted(parts[0]),
        counts.count,
        Duration.ofMillis(retentionMillis).toHours(),
        Instant.ofEpochMilli(counts.lastDecidedAt));
    retiredCount.update(counts.count);
    totals.clear();
    counted.clear();
    pendingTimer.clear();
  }

  private void notCounted(VerdictFacts verdict, long finalCount, TimerService timers) {
    retiredVerdicts.inc();
    unlogged++;
    long now = timers.currentProcessingTime();
    if (loggedAt != Long.MIN_VALUE && now - loggedAt < LOG_INTERVAL_MS) {
      return;
    }
    LOG.warn(
        "{} verdict(s) of retired campaign groups not counted ({} {} so far); the latest: campaign"
            + " {} group {} of tenant {}, sample {}, request {}, decided at {}. The group retired"
            + " after {} h without a decision (GENGUARD_BIAS_CAMPAIGN_RETENTION_HOURS) and its"
            + " totals stay final at {}; the campaign's report, computed from the audit store,"
            + " counts the verdict, and its stream cross-check differs for the group (see"
            + " bias-audit/README.md, campaign totals)",
        unlogged,
        RETIRED_CAMPAIGN_VERDICTS,
        retiredVerdicts.getCount(),
        LogText.quoted(verdict.campaignId),
        LogText.quoted(verdict.campaignGroup),
        LogText.quoted(verdict.tenantId),
        LogText.quoted(verdict.campaignSample),
        LogText.quoted(verdict.requestId),
        Instant.ofEpochMilli(verdict.decidedAt),
        Duration.ofMillis(retentionMillis).toHours(),
        finalCount);
    loggedAt = now;
    unlogged = 0;
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

  /**
   * Runs the aggregator, as {@code process} would, and on open schedules the retirement of every
   * group restored without a retirement timer, which would otherwise never retire unless another of
   * its verdicts came: each group of a savepoint taken before retirement existed, or by {@code
   * flink stop --drain}.
   */
  static final class Operator extends KeyedProcessOperator<String, VerdictFacts, KafkaMessage> {
    private static final long serialVersionUID = 1L;

    /** The timer service KeyedProcessOperator gives its function, whose timers are restored. */
    private static final String USER_TIMERS = "user-timers";

    Operator(CampaignGroupAggregator aggregator) {
      super(aggregator);
    }

    @Override
    public void open() throws Exception {
      super.open();
      TimerService timers =
          new SimpleTimerService(
              getInternalTimerService(USER_TIMERS, VoidNamespaceSerializer.INSTANCE, this));
      List<String> keys;
      try (Stream<String> restored =
          this.<String>getKeyedStateBackend().getKeys(TOTALS, VoidNamespace.INSTANCE)) {
        keys = restored.toList();
      }
      CampaignGroupAggregator aggregator = (CampaignGroupAggregator) getUserFunction();
      for (String key : keys) {
        setCurrentKey(key);
        aggregator.scheduleRetirementIfMissing(timers);
      }
    }
  }
}
