package io.genguard.bias.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.BiasMetric;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A LIVE metric's id names its window's end (forty-second session): two windows of one model and
 * group that start together, as an open 10-minute window from before a restore and a 5-minute one
 * after it when {@code GENGUARD_BIAS_WINDOW_SECONDS} changed, had one id, and the audit store,
 * which records each id once, kept the first and dropped the other.
 */
class LiveMetricIdTest {
  private static final List<String> CATEGORIES = List.of("hate", "violence");
  private static final Instant START = Instant.parse("2026-12-06T10:00:00Z");

  @Test
  void shouldGiveTwoWindowsThatStartTogetherTwoIds() {
    EventCodec<BiasMetric> codec = Topics.BIAS_METRICS.codec();
    BiasMetric tenMinutes = decode(codec, window(Duration.ofMinutes(10), 40));
    BiasMetric fiveMinutes = decode(codec, window(Duration.ofMinutes(5), 25));

    assertThat(tenMinutes.getWindowStart()).isEqualTo(fiveMinutes.getWindowStart());
    assertThat(tenMinutes.getEventId()).isNotEqualTo(fiveMinutes.getEventId());
  }

  @Test
  void shouldGiveTheSameWindowTheSameIdOnEveryReplay() {
    EventCodec<BiasMetric> codec = Topics.BIAS_METRICS.codec();

    assertThat(decode(codec, window(Duration.ofMinutes(5), 25)).getEventId())
        .isEqualTo(decode(codec, window(Duration.ofMinutes(5), 25)).getEventId());
  }

  private static LiveGroupWindow window(Duration length, long count) {
    LiveGroupWindow window = new LiveGroupWindow();
    window.model = "echo/echo@1";
    window.group = "religion:x";
    window.windowStart = START.toEpochMilli();
    window.windowEnd = START.plus(length).toEpochMilli();
    window.counts = GroupCounts.empty(CATEGORIES.size());
    window.counts.model = window.model;
    window.counts.count = count;
    window.counts.releaseCount = count;
    return window;
  }

  private static BiasMetric decode(EventCodec<BiasMetric> codec, LiveGroupWindow window) {
    return codec.decode(BiasMetrics.live(codec, window, CATEGORIES, window.windowEnd).value);
  }
}
