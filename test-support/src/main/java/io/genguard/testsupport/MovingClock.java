package io.genguard.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A UTC clock a test moves by hand: it stands still until told to advance or to jump, or, once told
 * to tick, moves on by a step after every read (for code that must not read the time twice).
 */
public final class MovingClock extends Clock {
  private volatile Instant now;
  private volatile Duration tick = Duration.ZERO;

  public MovingClock(Instant start) {
    this.now = start;
  }

  public void advance(Duration duration) {
    now = now.plus(duration);
  }

  public void set(Instant instant) {
    now = instant;
  }

  /** From now on every read moves the clock on by {@code step} after it (zero: stand still). */
  public void tickOnEveryRead(Duration step) {
    tick = step;
  }

  @Override
  public synchronized Instant instant() {
    Instant read = now;
    now = read.plus(tick);
    return read;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
