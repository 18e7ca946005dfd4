package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.junit.jupiter.api.Test;

class IdleAdvancingWatermarksTest {
  private final AtomicLong clock = new AtomicLong(1_000_000);
  private final List<Long> emitted = new ArrayList<>();
  private final WatermarkOutput output =
      new WatermarkOutput() {
        @Override
        public void emitWatermark(Watermark watermark) {
          emitted.add(watermark.getTimestamp());
        }

        @Override
        public void markIdle() {}

        @Override
        public void markActive() {}
      };

  @Test
  void shouldTrailTheNewestDecisionByTheAllowedLatenessWhileTrafficFlows() {
    IdleAdvancingWatermarks watermarks =
        new IdleAdvancingWatermarks(Duration.ofSeconds(5), Duration.ofSeconds(10), clock::get);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).as("nothing before the first verdict").isEmpty();
    watermarks.onEvent(new VerdictFacts(), 1_000_000, output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(1_000_000L - 5_000 - 1);
  }

  @Test
  void shouldFollowTheWallClockWhenTrafficStopsSoTheLastWindowCloses() {
    IdleAdvancingWatermarks watermarks =
        new IdleAdvancingWatermarks(Duration.ofSeconds(5), Duration.ofSeconds(10), clock::get);
    watermarks.onEvent(new VerdictFacts(), 1_000_000, output);
    clock.addAndGet(9_000);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(994_999L);
    clock.addAndGet(60_000);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(994_999L, 1_069_000L - 5_000 - 1);
  }

  @Test
  void shouldNeverAdvanceOnTheWallClockWhenDisabled() {
    IdleAdvancingWatermarks watermarks =
        new IdleAdvancingWatermarks(Duration.ofSeconds(5), Duration.ZERO, clock::get);
    watermarks.onEvent(new VerdictFacts(), 1_000_000, output);
    clock.addAndGet(600_000);
    watermarks.onPeriodicEmit(output);
    watermarks.onPeriodicEmit(output);
    assertThat(emitted).containsExactly(994_999L);
  }
}
