package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.RelativeClock;
import org.junit.jupiter.api.Test;

/**
 * One partition's watermarks: bounded out of orderness while verdicts arrive; once quiet, the wall
 * clock only for a partition that was caught up, idleness otherwise, and nothing while the job is
 * back-pressured (the activity clock stands still) or while the reader warms up.
 */
class IdleAdvancingWatermarksTest {
  private static final Duration LATENESS = Duration.ofSeconds(5);
  private static final Duration IDLE = Duration.ofSeconds(10);
  private static final long NOW = 1_000_000_000L;

  /** Wall clock, epoch milliseconds. */
  private final AtomicLong wall = new AtomicLong(NOW);

  /** The split's input activity clock: stands still while the source is back-pressured. */
  private final AtomicLong activity = new AtomicLong(0);

  private final AtomicBoolean warmingUp = new AtomicBoolean(false);
  private final List<String> emitted = new ArrayList<>();
  private final WatermarkOutput output =
      new WatermarkOutput() {
        @Override
        public void emitWatermark(Watermark watermark) {
          emitted.add(Long.toString(watermark.getTimestamp()));
        }

        @Override
        public void markIdle() {
          emitted.add("idle");
        }

        @Override
        public void markActive() {
          emitted.add("active");
        }
      };

  private IdleAdvancingWatermarks<String> watermarks(Duration idleAdvance) {
    RelativeClock clock =
        new RelativeClock() {
          @Override
          public long relativeTimeMillis() {
            return activity.get();
          }

          @Override
          public long relativeTimeNanos() {
            return activity.get() * 1_000_000;
          }
        };
    return new IdleAdvancingWatermarks<>(LATENESS, idleAdvance, clock, wall::get, warmingUp::get);
  }

  /** Time passes for the job, which reads on (not back-pressured). */
  private void elapse(Duration duration) {
    wall.addAndGet(duration.toMillis());
    activity.addAndGet(duration.toMillis());
  }

  @Test
  void shouldTrailTheNewestDecisionByTheAllowedLatenessWhileVerdictsArrive() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).as("nothing before the first verdict").isEmpty();
    watermarks.onEvent("verdict", NOW - 60_000, output);
    watermarks.onEvent("older verdict", NOW - 61_000, output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(Long.toString(NOW - 60_000 - 5_000 - 1));
  }

  @Test
  void shouldEmitNothingWhileTheReaderWarmsUpSoThatPartitionsReadLaterAreNotOvertaken() {
    warmingUp.set(true);
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    watermarks.onEvent("verdict", NOW, output);
    elapse(Duration.ofSeconds(30));
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).isEmpty();

    warmingUp.set(false);
    watermarks.onEvent("verdict", NOW + 30_000, output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(Long.toString(NOW + 30_000 - 5_000 - 1));
  }

  @Test
  void shouldFollowTheWallClockWhenACaughtUpPartitionGoesQuietSoTheLastWindowCloses() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    watermarks.onEvent("verdict decided a moment ago", NOW - 200, output);
    elapse(Duration.ofSeconds(9));
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(Long.toString(NOW - 200 - 5_000 - 1));

    elapse(Duration.ofSeconds(60));
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).last().isEqualTo(Long.toString(NOW + 69_000 - 5_000 - 1));
  }

  @Test
  void shouldNotFollowTheWallClockWhileTheJobIsBackPressured() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    watermarks.onEvent("verdict decided a moment ago", NOW - 200, output);
    // A minute passes, but the source is back-pressured all along: its activity clock stands
    // still, so the partition is not quiet and the verdicts still in Kafka stay on time.
    wall.addAndGet(60_000);
    activity.addAndGet(1_000);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(Long.toString(NOW - 200 - 5_000 - 1));
  }

  @Test
  void shouldMarkAPartitionQuietInTheMiddleOfABacklogIdleInsteadOfFollowingTheWallClock() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    // Catching up: the last verdict read was decided an hour before it was read.
    watermarks.onEvent("backlog verdict", NOW - 3_600_000, output);
    elapse(Duration.ofSeconds(30));
    watermarks.onPeriodicEmit(output);
    watermarks.onPeriodicEmit(output);
    watermarks.onPeriodicEmit(output);
    String own = Long.toString(NOW - 3_600_000 - 5_000 - 1);
    assertThat(emitted)
        .as("its own event-time watermark, then idle once; never the wall clock")
        .containsExactly(own, "idle");

    watermarks.onEvent("next backlog verdict", NOW - 3_599_000, output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted)
        .containsExactly(own, "idle", "active", Long.toString(NOW - 3_599_000 - 5_000 - 1));
  }

  @Test
  void shouldPublishItsOwnWatermarkBeforeGoingIdleWhenItsBacklogWasReadDuringTheWarmUp() {
    warmingUp.set(true);
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    watermarks.onEvent("the backlog's last verdict", NOW - 3_600_000, output);
    elapse(Duration.ofSeconds(30));
    warmingUp.set(false);
    watermarks.onPeriodicEmit(output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted)
        .as("an idle partition's watermark would not count, and its windows would never close")
        .containsExactly(Long.toString(NOW - 3_600_000 - 5_000 - 1), "idle");
  }

  @Test
  void shouldMarkAPartitionThatDeliveredNoVerdictIdleSoItHoldsNoOtherBack() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    elapse(Duration.ofSeconds(9));
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).isEmpty();
    elapse(Duration.ofSeconds(1));
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly("idle");
  }

  @Test
  void shouldIgnoreRecordsWithoutADecisionTimeButCountThemAsActivity() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(IDLE);
    watermarks.onEvent("verdict decided a moment ago", NOW - 200, output);
    elapse(Duration.ofSeconds(8));
    watermarks.onEvent("garbage", Long.MIN_VALUE, output);
    elapse(Duration.ofSeconds(8));
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(Long.toString(NOW - 200 - 5_000 - 1));
  }

  @Test
  void shouldNeverFollowTheWallClockWhenTheIdleAdvanceIsOff() {
    IdleAdvancingWatermarks<String> watermarks = watermarks(Duration.ZERO);
    watermarks.onEvent("verdict decided a moment ago", NOW - 200, output);
    watermarks.onPeriodicEmit(output);
    elapse(DecisionTimeWatermarks.DEFAULT_IDLE_TIMEOUT.plusMinutes(10));
    watermarks.onPeriodicEmit(output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(Long.toString(NOW - 200 - 5_000 - 1), "idle");
  }
}
