package io.genguard.bias.job;

import io.genguard.schemas.LogText;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which models a live window counts under their own key (keyed by the window's start, ahead
 * of the live windows keyed by model). A verdict's model ({@link DecodeVerdicts#modelKey}:
 * backend/name@version) comes as it is from moderation.verdicts, so a writer of that topic other
 * than GenGuard's moderation job could name a new model in every verdict, each a keyed window with
 * its {@code *} and {@code none} rows, and downstream {@code bias_metric} rows and collector gauges
 * (until the forty-sixth session, without a bound).
 *
 * <p>The first {@code maxModels} models a window meets keep their key for that window; the verdicts
 * of any further model of the window count under {@value LiveGroupWindow#UNKNOWN_MODEL} instead
 * (published like a model, never tested for disparities), counted in {@value
 * #POOLED_LIVE_MODEL_VERDICTS} and logged at most once a minute per subtask, the line naming the
 * models pooled since the previous one (at most {@value #LOGGED_MODELS} of them, each cut to
 * {@value #LOGGED_MODEL_CHARS} characters). The bound is per window, not per job: a model retired
 * by an upgrade (its old version) stops taking room in the next window, so upgrades never fill it.
 *
 * <p>State: the models of each window and their number, cleared one window length after the window
 * closed, so a verdict late by up to a window still meets its window's decision. A verdict later
 * still (its window's state gone) is pooled without being recorded: the live windows drop it as
 * late anyway, and it cannot open a new key.
 *
 * <p>All live verdicts of one window pass through the subtask holding that window's key; the live
 * windows themselves are keyed by model, which a deployment has a handful of, so this adds no
 * narrower point than they already have.
 */
final class LiveModelAdmission extends KeyedProcessFunction<Long, VerdictFacts, VerdictFacts> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(LiveModelAdmission.class);

  /** Live verdicts counted under {@value LiveGroupWindow#UNKNOWN_MODEL}: their window was full. */
  static final String POOLED_LIVE_MODEL_VERDICTS = "pooled_live_model_verdicts";

  private static final long LOG_INTERVAL_MS = 60_000;

  /** Most pooled models one log line names. */
  static final int LOGGED_MODELS = 10;

  /** Most characters of a pooled model's name a log line shows (quoted). */
  static final int LOGGED_MODEL_CHARS = 100;

  private final long windowMillis;
  private final int maxModels;
  private transient MapState<String, Boolean> models;
  private transient ValueState<Integer> modelCount;
  private transient Counter pooled;
  private transient long loggedAt;
  private transient long unlogged;
  private transient Set<String> unloggedModels;
  private transient boolean unloggedModelsLeftOut;

  /**
   * @param windowMillis the live windows' length
   * @param maxModels the most models one window counts under their own key
   */
  LiveModelAdmission(long windowMillis, int maxModels) {
    this.windowMillis = windowMillis;
    this.maxModels = maxModels;
  }

  /** The key: the start of the live window (of {@code windowMillis}) the verdict counts in. */
  static long windowStart(VerdictFacts verdict, long windowMillis) {
    return TimeWindow.getWindowStartWithOffset(verdict.decidedAt, 0, windowMillis);
  }

  @Override
  public void open(OpenContext openContext) {
    models =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>("live-window-models", Types.STRING, Types.BOOLEAN));
    modelCount =
        getRuntimeContext()
            .getState(new ValueStateDescriptor<>("live-window-model-count", Types.INT));
    pooled =
        getRuntimeContext()
            .getMetricGroup()
            .addGroup("genguard")
            .counter(POOLED_LIVE_MODEL_VERDICTS);
    loggedAt = Long.MIN_VALUE;
    unloggedModels = new LinkedHashSet<>();
  }

  @Override
  public void processElement(VerdictFacts verdict, Context context, Collector<VerdictFacts> out)
      throws Exception {
    long start = context.getCurrentKey();
    long forgetAt = start + 2 * windowMillis - 1;
    String problem = null;
    if (!models.contains(verdict.model)) {
      Integer count = modelCount.value();
      if (count == null && forgetAt <= context.timerService().currentWatermark()) {
        problem = "its window closed more than a window length ago and its models are forgotten";
      } else if (count != null && count >= maxModels) {
        problem =
            "the window already counts "
                + count
                + " models, the most GENGUARD_BIAS_LIVE_MAX_MODELS allows";
      } else {
        if (count == null) {
          context.timerService().registerEventTimeTimer(forgetAt);
        }
        models.put(verdict.model, true);
        modelCount.update(count == null ? 1 : count + 1);
      }
    }
    if (problem != null) {
      pool(verdict, start, problem, context.timerService().currentProcessingTime());
    }
    out.collect(verdict);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext context, Collector<VerdictFacts> out) {
    models.clear();
    modelCount.clear();
  }

  private void pool(VerdictFacts verdict, long windowStart, String problem, long now) {
    pooled.inc();
    unlogged++;
    String model = verdict.model;
    verdict.model = LiveGroupWindow.UNKNOWN_MODEL;
    String shown = LogText.quoted(model, LOGGED_MODEL_CHARS);
    if (!unloggedModels.contains(shown)) {
      if (unloggedModels.size() < LOGGED_MODELS) {
        unloggedModels.add(shown);
      } else {
        unloggedModelsLeftOut = true;
      }
    }
    if (loggedAt != Long.MIN_VALUE && now - loggedAt < LOG_INTERVAL_MS) {
      return;
    }
    LOG.warn(
        "{} live verdict(s) counted under model {} ({} {} so far), of the models {}{}; the latest:"
            + " model {}, request {}, window from {}: {}. Look for a producer of"
            + " moderation.verdicts other than the moderation job, or raise"
            + " GENGUARD_BIAS_LIVE_MAX_MODELS if that many models serve",
        unlogged,
        LiveGroupWindow.UNKNOWN_MODEL,
        POOLED_LIVE_MODEL_VERDICTS,
        pooled.getCount(),
        String.join(", ", unloggedModels),
        unloggedModelsLeftOut ? " and more (the first " + LOGGED_MODELS + " named)" : "",
        LogText.quoted(model),
        LogText.quoted(verdict.requestId),
        Instant.ofEpochMilli(windowStart),
        problem);
    loggedAt = now;
    unlogged = 0;
    unloggedModels.clear();
    unloggedModelsLeftOut = false;
  }
}
