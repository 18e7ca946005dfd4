package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.events.v1.BiasMetric;
import io.genguard.moderation.job.KafkaMessage;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A campaign group's state is cleared once the job's event time is the retention past its latest
 * decision, its published totals stay final, and a verdict that comes after that is not counted
 * (never totals restarted at 1, which the audit store would drop and then read as the latest).
 * Driven in Flink's operator test harness: event time by watermarks, processing time set by hand.
 */
class CampaignRetirementTest {
  private static final long RETENTION = Duration.ofDays(7).toMillis();
  private static final long EMIT = 1_000;
  private static final long DAY_ONE = Instant.parse("2026-12-01T09:00:00Z").toEpochMilli();
  private static final long LAST_DECISION = DAY_ONE + Duration.ofHours(2).toMillis();
  private static final List<String> CATEGORIES = AnalysisSettings.DEFAULT_CATEGORIES;
  private static final String CAMPAIGN = "bias-20261201-090000-abcdef";

  private final List<KeyedOneInputStreamOperatorTestHarness<String, ?, KafkaMessage>> harnesses =
      new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (KeyedOneInputStreamOperatorTestHarness<String, ?, KafkaMessage> harness : harnesses) {
      harness.close();
    }
  }

  @Test
  void shouldClearACampaignGroupsStateOnceEventTimeIsTheRetentionPastItsLastDecision()
      throws Exception {
    var harness = open(CampaignGroupAggregator.operator(EMIT, RETENTION, CATEGORIES), null);
    harness.processElement(verdict(0, DAY_ONE, true), DAY_ONE);
    harness.processElement(verdict(2, LAST_DECISION, false), LAST_DECISION);
    harness.setProcessingTime(EMIT);
    harness.processWatermark(LAST_DECISION + RETENTION - 1);

    assertThat(keysOf(harness, "totals")).as("a millisecond short of the retention: kept").isOne();
    assertThat(keysOf(harness, "counted-samples")).isOne();

    harness.processWatermark(LAST_DECISION + RETENTION);

    assertThat(keysOf(harness, "totals")).as("retired").isZero();
    assertThat(keysOf(harness, "counted-samples")).isZero();
    assertThat(keysOf(harness, "timer")).isZero();
    assertThat(keysOf(harness, "retire-at")).isZero();
    assertThat(keysOf(harness, "retired-count")).as("only the marker is kept").isOne();
    assertThat(harness.numEventTimeTimers()).isZero();
    assertThat(harness.numProcessingTimeTimers()).isZero();
    assertThat(published(harness)).extracting(BiasMetric::getCount).containsExactly(2L);
  }

  @Test
  void shouldLeaveTheFinalTotalsOfARetiredGroupAsTheyWereWhenALateSampleArrives() throws Exception {
    var harness = open(CampaignGroupAggregator.operator(0, RETENTION, CATEGORIES), null);
    harness.processElement(verdict(0, DAY_ONE, true), DAY_ONE);
    harness.processElement(verdict(2, LAST_DECISION, false), LAST_DECISION);
    harness.processWatermark(LAST_DECISION + RETENTION);

    // The campaign resumed after the retention (or a sample redriven from a dead-letter topic).
    long resumed = LAST_DECISION + RETENTION + Duration.ofHours(1).toMillis();
    harness.processElement(verdict(4, resumed, true), resumed);
    harness.setProcessingTime(Duration.ofDays(30).toMillis());

    assertThat(published(harness))
        .as("published once per verdict while the group was counting, and never again")
        .extracting(BiasMetric::getCount)
        .containsExactly(1L, 2L);
    assertThat(keysOf(harness, "totals")).as("the late sample opened no new totals").isZero();
    assertThat(keysOf(harness, "counted-samples")).isZero();
    assertThat(harness.numEventTimeTimers()).isZero();
  }

  @Test
  void shouldPublishAPendingPublicationWhenTheGroupRetires() throws Exception {
    var harness = open(CampaignGroupAggregator.operator(EMIT, RETENTION, CATEGORIES), null);
    harness.processElement(verdict(0, DAY_ONE, true), DAY_ONE);
    // A backlog read after downtime: event time passes the retention before the emit interval.
    harness.processWatermark(DAY_ONE + RETENTION);

    assertThat(published(harness)).extracting(BiasMetric::getCount).containsExactly(1L);
    assertThat(harness.numProcessingTimeTimers()).as("the publication timer is gone").isZero();
    assertThat(keysOf(harness, "totals")).isZero();
  }

  @Test
  void shouldPostponeTheRetirementWhileTheCampaignGoesOn() throws Exception {
    var harness = open(CampaignGroupAggregator.operator(0, RETENTION, CATEGORIES), null);
    harness.processElement(verdict(0, DAY_ONE, true), DAY_ONE);
    long resumed = DAY_ONE + RETENTION - Duration.ofHours(1).toMillis();
    harness.processElement(verdict(2, resumed, false), resumed);
    harness.processWatermark(DAY_ONE + RETENTION);

    assertThat(keysOf(harness, "totals")).as("resumed within the retention").isOne();

    harness.processWatermark(resumed + RETENTION);

    assertThat(keysOf(harness, "totals")).isZero();
    assertThat(published(harness)).extracting(BiasMetric::getCount).containsExactly(1L, 2L);
  }

  @Test
  void shouldKeepTheGroupsWhenTheInputEndsAndRetireThemAfterTheRestore() throws Exception {
    var drained = open(CampaignGroupAggregator.operator(0, RETENTION, CATEGORIES), null);
    drained.processElement(verdict(0, DAY_ONE, true), DAY_ONE);
    // A bounded source's end, or flink stop --drain: the retention has not passed.
    drained.processWatermark(Long.MAX_VALUE);

    assertThat(keysOf(drained, "totals")).isOne();

    OperatorSubtaskState savepoint = drained.snapshot(1, 1);
    var restored = open(CampaignGroupAggregator.operator(0, RETENTION, CATEGORIES), savepoint);

    assertThat(restored.numEventTimeTimers()).as("retirement scheduled again on restore").isOne();

    restored.processElement(verdict(2, DAY_ONE + 1, false), DAY_ONE + 1);
    restored.processWatermark(DAY_ONE + 1 + RETENTION);

    assertThat(keysOf(restored, "totals")).isZero();
    assertThat(published(restored)).extracting(BiasMetric::getCount).containsExactly(2L);
  }

  @Test
  void shouldRetireTheGroupsOfASavepointOfTheBuildBeforeAndReadItsSevenCategoriesUnderEight()
      throws Exception {
    // The build before kept totals of seven categories, no retirement timer, and a pending
    // publication; the next build counts one category more.
    var before = open(new KeyedProcessOperator<>(new BuildBeforeRetirement()), null);
    before.processElement(verdict(0, DAY_ONE, true), DAY_ONE);
    before.processElement(verdict(2, LAST_DECISION, true), LAST_DECISION);
    OperatorSubtaskState savepoint = before.snapshot(1, 1);
    List<String> eight = new ArrayList<>(CATEGORIES);
    eight.add("extremism");

    var after = open(CampaignGroupAggregator.operator(EMIT, RETENTION, eight), savepoint);
    after.setProcessingTime(EMIT);

    assertThat(published(after))
        .as("the restored publication timer publishes the restored totals, padded")
        .singleElement()
        .satisfies(
            metric -> {
              assertThat(metric.getCount()).isEqualTo(2);
              assertThat(metric.getCategoryCounts())
                  .containsEntry("hate", 2L)
                  .containsEntry("extremism", 0L);
            });
    assertThat(after.numEventTimeTimers()).as("retirement scheduled on restore").isOne();

    after.processWatermark(LAST_DECISION + RETENTION);

    assertThat(keysOf(after, "totals")).isZero();
    assertThat(keysOf(after, "counted-samples")).isZero();
  }

  private KeyedOneInputStreamOperatorTestHarness<String, VerdictFacts, KafkaMessage> open(
      OneInputStreamOperator<VerdictFacts, KafkaMessage> operator, OperatorSubtaskState state)
      throws Exception {
    var harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            operator, CampaignGroupAggregator::key, Types.STRING);
    harnesses.add(harness);
    harness.setProcessingTime(0);
    if (state != null) {
      harness.initializeState(state);
    }
    harness.open();
    return harness;
  }

  private static long keysOf(
      KeyedOneInputStreamOperatorTestHarness<String, ?, KafkaMessage> harness, String state) {
    try (var keys =
        harness
            .getOperator()
            .<String>getKeyedStateBackend()
            .getKeys(state, VoidNamespace.INSTANCE)) {
      return keys.count();
    }
  }

  private static List<BiasMetric> published(
      KeyedOneInputStreamOperatorTestHarness<String, ?, KafkaMessage> harness) {
    return harness.extractOutputValues().stream()
        .map(message -> Topics.BIAS_METRICS.codec().decode(message.value))
        .toList();
  }

  private static VerdictFacts verdict(int sample, long decidedAt, boolean unsafe) {
    VerdictFacts verdict = new VerdictFacts();
    verdict.requestId = "request-" + sample;
    verdict.verdictId = "verdict-" + sample;
    verdict.tenantId = VerdictFixtures.CAMPAIGN_TENANT;
    verdict.campaignId = CAMPAIGN;
    verdict.campaignGroup = "control";
    verdict.campaignSample = Integer.toString(sample);
    verdict.model = "echo/echo@1";
    verdict.decidedAt = decidedAt;
    verdict.unsafeScore = unsafe ? 0.97 : 0.03;
    verdict.unsafe = unsafe;
    verdict.decision = unsafe ? "BLOCK" : "RELEASE";
    verdict.categoryFlags = unsafe ? 1 << CATEGORIES.indexOf("hate") : 0;
    return verdict;
  }

  /**
   * The campaign totals as the build before retirement kept them (the same state names and types,
   * seven categories), with their publication pending.
   */
  static final class BuildBeforeRetirement
      extends KeyedProcessFunction<String, VerdictFacts, KafkaMessage> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<GroupCounts> totals;
    private transient MapState<String, Boolean> counted;
    private transient ValueState<Long> pendingTimer;

    @Override
    public void open(OpenContext openContext) {
      totals =
          getRuntimeContext()
              .getState(new ValueStateDescriptor<>("totals", Types.POJO(GroupCounts.class)));
      counted =
          getRuntimeContext()
              .getMapState(
                  new MapStateDescriptor<>("counted-samples", Types.STRING, Types.BOOLEAN));
      pendingTimer = getRuntimeContext().getState(new ValueStateDescriptor<>("timer", Types.LONG));
    }

    @Override
    public void processElement(VerdictFacts verdict, Context context, Collector<KafkaMessage> out)
        throws Exception {
      counted.put("s:" + verdict.campaignSample, true);
      GroupCounts counts = totals.value();
      if (counts == null) {
        counts = GroupCounts.empty(CATEGORIES.size());
      }
      counts.add(verdict);
      totals.update(counts);
      if (pendingTimer.value() == null) {
        context.timerService().registerProcessingTimeTimer(EMIT);
        pendingTimer.update(EMIT);
      }
    }
  }
}
