package io.genguard.bias.job;

import java.time.Instant;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live verdicts that reached their window after it had closed, so that no LIVE metric or alert
 * counts them: counted in the metric {@value #LATE_LIVE_VERDICTS} (group {@code genguard}, one per
 * verdict) and logged, at most once a minute per subtask with the count since the last line,
 * instead of being dropped silently.
 */
final class LateLiveVerdicts extends ProcessFunction<VerdictFacts, Void> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(LateLiveVerdicts.class);

  /**
   * Late live verdicts, each whole and once: the live windows are keyed by model and count every
   * group of a verdict in one aggregate, so the one window subtask that holds its model counts it
   * under all of its groups or drops it here.
   */
  static final OutputTag<VerdictFacts> LATE =
      new OutputTag<>("late-live-verdicts", TypeInformation.of(VerdictFacts.class));

  /** Live verdicts missing from the LIVE metrics because their window had closed. */
  static final String LATE_LIVE_VERDICTS = "late_live_verdicts";

  private static final long LOG_INTERVAL_MS = 60_000;

  private final long windowMillis;
  private transient Counter late;
  private transient long loggedAt;
  private transient long unlogged;

  LateLiveVerdicts(long windowMillis) {
    this.windowMillis = windowMillis;
  }

  @Override
  public void open(OpenContext openContext) {
    late = getRuntimeContext().getMetricGroup().addGroup("genguard").counter(LATE_LIVE_VERDICTS);
    loggedAt = Long.MIN_VALUE;
  }

  @Override
  public void processElement(VerdictFacts verdict, Context context, Collector<Void> out) {
    late.inc();
    unlogged++;
    long now = context.timerService().currentProcessingTime();
    if (loggedAt != Long.MIN_VALUE && now - loggedAt < LOG_INTERVAL_MS) {
      return;
    }
    long windowStart = TimeWindow.getWindowStartWithOffset(verdict.decidedAt, 0, windowMillis);
    LOG.warn(
        "{} live verdict(s) arrived after their window had closed and are missing from the LIVE"
            + " metrics and alerts ({} {} so far); the latest: request {}, model {}, decided at {},"
            + " window from {}, event time already at {}. A partition that stopped delivering"
            + " while others went on, or verdicts delayed longer than"
            + " GENGUARD_BIAS_OUT_OF_ORDERNESS_MS (see bias-audit/README.md, live windows)",
        unlogged,
        LATE_LIVE_VERDICTS,
        late.getCount(),
        verdict.requestId,
        verdict.model,
        Instant.ofEpochMilli(verdict.decidedAt),
        Instant.ofEpochMilli(windowStart),
        Instant.ofEpochMilli(context.timerService().currentWatermark()));
    loggedAt = now;
    unlogged = 0;
  }
}
