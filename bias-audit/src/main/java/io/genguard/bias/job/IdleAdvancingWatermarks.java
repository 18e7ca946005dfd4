package io.genguard.bias.job;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * Bounded-out-of-orderness watermarks on decision time that keep moving when traffic stops: after
 * {@code idleAdvance} without a verdict, the watermark follows the wall clock (minus the allowed
 * lateness), so the last window of a quiet system still closes and its alert is not held back until
 * the next verdict arrives. Decision times are stamped by moderation moments before the verdict
 * reaches this job, so a verdict arriving after such an advance is late only if it was delayed
 * longer than the allowed lateness (Flink counts it in numLateRecordsDropped).
 */
final class IdleAdvancingWatermarks implements WatermarkGenerator<VerdictFacts> {
  private final long outOfOrderness;
  private final long idleAdvance;
  private final LongSupplier clock;
  private long maxTimestamp = Long.MIN_VALUE;
  private long lastEventAt;
  private long emitted = Long.MIN_VALUE;

  IdleAdvancingWatermarks(Duration outOfOrderness, Duration idleAdvance, LongSupplier clock) {
    this.outOfOrderness = outOfOrderness.toMillis();
    this.idleAdvance = idleAdvance.toMillis();
    this.clock = clock;
    this.lastEventAt = clock.getAsLong();
  }

  @Override
  public void onEvent(VerdictFacts event, long eventTimestamp, WatermarkOutput output) {
    maxTimestamp = Math.max(maxTimestamp, eventTimestamp);
    lastEventAt = clock.getAsLong();
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput output) {
    long candidate =
        maxTimestamp == Long.MIN_VALUE ? Long.MIN_VALUE : maxTimestamp - outOfOrderness - 1;
    long now = clock.getAsLong();
    if (idleAdvance > 0 && now - lastEventAt >= idleAdvance && maxTimestamp != Long.MIN_VALUE) {
      candidate = Math.max(candidate, now - outOfOrderness - 1);
    }
    if (candidate > emitted) {
      emitted = candidate;
      output.emitWatermark(new Watermark(candidate));
    }
  }
}
