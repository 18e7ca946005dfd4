package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * How long {@code publish}'s Ctrl-C waits for the batch under way: as long as the run gets on, so a
 * batch on a slow disk ends with its counts printed (before the forty-fourth session's fix it
 * waited 10 s in all, and the JVM stopped mid-batch, without counts, leaving a temporary file).
 */
class PublishStopTest {
  @Test
  void shouldWaitPastTheStallLimitWhileTheRunGetsOn() throws Exception {
    CountDownLatch printed = new CountDownLatch(1);
    AtomicLong progress = new AtomicLong();
    ScheduledExecutorService run = Executors.newSingleThreadScheduledExecutor();
    try {
      // A record applied every 40 ms, the counts printed after 1.2 s: four times the stall limit.
      run.scheduleAtFixedRate(progress::incrementAndGet, 40, 40, TimeUnit.MILLISECONDS);
      run.schedule(printed::countDown, 1_200, TimeUnit.MILLISECONDS);

      assertThat(
              PublishCommand.awaitWhileProgressing(printed, progress::get, Duration.ofMillis(300)))
          .as("the counts printed")
          .isTrue();
      assertThat(printed.getCount()).isZero();
    } finally {
      run.shutdownNow();
    }
  }

  @Test
  void shouldGiveUpOnARunThatGetsNoFurther() throws Exception {
    CountDownLatch printed = new CountDownLatch(1);
    long started = System.nanoTime();

    assertThat(PublishCommand.awaitWhileProgressing(printed, () -> 7, Duration.ofMillis(300)))
        .isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }
}
