package io.genguard.audit.http;

import io.genguard.audit.security.Caller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * How often each tenant may call a route that writes to the audit chain on every call (a token
 * bucket per tenant, in memory): {@code burst} calls at once, then one more per {@code every}. One
 * tenant's loop then takes only its own budget, not the chain's growth or the others' turns. Global
 * callers (the operator's staff) share one budget of their own. Kept per service instance; a
 * restart refills every bucket.
 */
final class TenantBudget {
  /** The tenant key of global callers. */
  private static final String GLOBAL = "";

  private final int burst;
  private final Duration every;
  private final Clock clock;
  private final Map<String, Bucket> buckets = new HashMap<>();

  TenantBudget(int burst, Duration every, Clock clock) {
    if (burst < 1 || every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("burst must be positive and every longer than zero");
    }
    this.burst = burst;
    this.every = every;
    this.clock = clock;
  }

  int burst() {
    return burst;
  }

  Duration every() {
    return every;
  }

  /**
   * Takes one call from the caller's tenant's budget.
   *
   * @return 0 when the call may go ahead; otherwise the whole seconds until it may (Retry-After),
   *     and nothing is taken
   */
  synchronized long take(Caller caller) {
    Instant now = clock.instant();
    String key = caller.tenantId() == null ? GLOBAL : caller.tenantId();
    Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(burst, now));
    long everyNanos = every.toNanos();
    long refilled = Math.max(0, Duration.between(bucket.at, now).toNanos()) / everyNanos;
    if (refilled > 0) {
      bucket.tokens = (int) Math.min(burst, bucket.tokens + refilled);
      bucket.at = bucket.at.plusNanos(refilled * everyNanos);
    }
    if (bucket.tokens == burst) {
      bucket.at = now; // a full bucket starts refilling from its next call
    }
    if (bucket.tokens > 0) {
      bucket.tokens--;
      return 0;
    }
    long waitNanos = everyNanos - Math.max(0, Duration.between(bucket.at, now).toNanos());
    return Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
  }

  /**
   * Gives back a call {@link #take} allowed that recorded nothing after all (the route's one slot
   * was busy, or the request was not found), so that retrying as a 429 asks does not spend the
   * tenant's budget. Never more than the burst.
   */
  synchronized void giveBack(Caller caller) {
    Bucket bucket = buckets.get(caller.tenantId() == null ? GLOBAL : caller.tenantId());
    if (bucket != null && bucket.tokens < burst) {
      bucket.tokens++;
    }
  }

  private static final class Bucket {
    private int tokens;
    private Instant at;

    private Bucket(int tokens, Instant at) {
      this.tokens = tokens;
      this.at = at;
    }
  }
}
