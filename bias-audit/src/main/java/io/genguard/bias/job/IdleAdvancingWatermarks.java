package io.genguard.bias.job;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.RelativeClock;

/**
 * The watermarks of one Kafka partition (one source split) on decision time: bounded out of
 * orderness while verdicts arrive, and, once the partition is quiet, either the wall clock or
 * idleness, so that the last window of a quiet system still closes, while neither a back-pressured
 * job nor a partition still reading a backlog is overtaken by the wall clock.
 *
 * <p>The source's watermark is the smallest of its partitions' (Flink keeps one generator per
 * split), so a partition read ahead of another (a backlog after downtime, a new consumer group)
 * does not make the other's verdicts late. "Quiet" is measured on the split's input activity clock,
 * which stops while the source is back-pressured or paused for watermark alignment: a slow job
 * never counts as a quiet partition. A partition quiet for {@code idleTimeout}:
 *
 * <ul>
 *   <li>follows the wall clock ({@code now - outOfOrderness}) when the idle advance is on and the
 *       last verdict it delivered reached the job within {@code outOfOrderness} of its decision: it
 *       was caught up, so the verdicts it has yet to deliver are decided from now on;
 *   <li>is marked idle otherwise (it delivered nothing, or it was still reading a backlog when it
 *       went quiet), once its own event-time watermark is out: it stops holding the other
 *       partitions back but advances nothing itself. If every partition is idle, event time stands
 *       still until the next verdict.
 * </ul>
 *
 * <p>Until every split of the reader has had {@code idleTimeout} to deliver its first verdict
 * ({@code warmingUp}), nothing is emitted: Flink registers a split's watermark only with its first
 * record, and a partition read later must not find the event time already past its verdicts.
 */
final class IdleAdvancingWatermarks<T> implements WatermarkGenerator<T> {
  private final long outOfOrderness;
  private final long idleTimeout;
  private final boolean followWallClock;
  private final RelativeClock activityClock;
  private final LongSupplier wallClock;
  private final BooleanSupplier warmingUp;
  private long maxTimestamp = Long.MIN_VALUE;
  private long lastActivityAt;
  private boolean caughtUp;
  private boolean idle;
  private long emitted = Long.MIN_VALUE;

  /**
   * @param outOfOrderness how late (by decision time) a verdict may arrive and still count
   * @param idleAdvance how long a partition must be quiet before it follows the wall clock or is
   *     marked idle; zero never follows the wall clock and marks a quiet partition idle after
   *     {@link DecisionTimeWatermarks#DEFAULT_IDLE_TIMEOUT}
   * @param activityClock the split's input activity clock (stops under back-pressure)
   * @param wallClock epoch milliseconds
   * @param warmingUp true while the reader's splits may still deliver their first record
   */
  IdleAdvancingWatermarks(
      Duration outOfOrderness,
      Duration idleAdvance,
      RelativeClock activityClock,
      LongSupplier wallClock,
      BooleanSupplier warmingUp) {
    this.outOfOrderness = outOfOrderness.toMillis();
    this.idleTimeout = DecisionTimeWatermarks.idleTimeout(idleAdvance).toMillis();
    this.followWallClock = !idleAdvance.isZero();
    this.activityClock = activityClock;
    this.wallClock = wallClock;
    this.warmingUp = warmingUp;
    this.lastActivityAt = activityClock.relativeTimeMillis();
  }

  @Override
  public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
    lastActivityAt = activityClock.relativeTimeMillis();
    if (eventTimestamp != Long.MIN_VALUE) {
      // Undecodable records (no decision time) show activity but say nothing about event time.
      maxTimestamp = Math.max(maxTimestamp, eventTimestamp);
      caughtUp = wallClock.getAsLong() - eventTimestamp <= outOfOrderness;
    }
    if (idle) {
      idle = false;
      output.markActive();
    }
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput output) {
    if (warmingUp.getAsBoolean()) {
      return;
    }
    long candidate =
        maxTimestamp == Long.MIN_VALUE ? Long.MIN_VALUE : maxTimestamp - outOfOrderness - 1;
    if (activityClock.relativeTimeMillis() - lastActivityAt >= idleTimeout) {
      if (followWallClock && caughtUp) {
        candidate = Math.max(candidate, wallClock.getAsLong() - outOfOrderness - 1);
      } else if (candidate <= emitted) {
        if (!idle) {
          idle = true;
          output.markIdle();
        }
        return;
      }
      // else: emit the partition's own event-time watermark first and go idle on the next round.
      // Flink leaves idle partitions out of the source's watermark, so a partition read whole
      // while the reader warmed up and marked idle at once would never close its windows.
    }
    if (candidate > emitted) {
      emitted = candidate;
      output.emitWatermark(new Watermark(candidate));
    }
  }
}
