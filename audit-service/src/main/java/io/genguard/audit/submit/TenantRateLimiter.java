package io.genguard.audit.submit;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How many generation requests each tenant may submit through the API: a token bucket per tenant
 * that holds at most {@code burst} requests and refills at {@code perSecond}. A tenant that submits
 * faster is refused until its bucket refills, so one tenant cannot fill the generators' queue ahead
 * of every other tenant. The buckets live in this process: with several audit-service instances
 * behind a load balancer, each allows the rate on its own.
 *
 * <p>At most {@value #MAX_TENANTS} tenants are tracked. A bucket that has refilled is the same as
 * none, so those are dropped when the map is full; if every tracked tenant submitted within the
 * last {@code burst / perSecond} seconds, a tenant not yet tracked waits until one refills.
 */
public final class TenantRateLimiter {
  /** Most tenants whose buckets are kept at once. */
  public static final int MAX_TENANTS = 10_000;

  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final int perSecond;
  private final int burst;
  private final int maxTenants;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets = new HashMap<>();
  private long refused;

  /** Tokens as of {@code atNanos}; a token is one request. */
  private static final class Bucket {
    double tokens;
    long atNanos;

    Bucket(double tokens, long atNanos) {
      this.tokens = tokens;
      this.atNanos = atNanos;
    }
  }

  /**
   * @param perSecond requests a second a tenant may submit on average; 0 = no limit
   * @param burst requests a tenant may submit at once after a pause (at least 1)
   */
  public TenantRateLimiter(int perSecond, int burst) {
    this(perSecond, burst, MAX_TENANTS, System::nanoTime);
  }

  TenantRateLimiter(int perSecond, int burst, int maxTenants, LongSupplier nanoTime) {
    if (perSecond < 0 || burst < 1) {
      throw new IllegalArgumentException(
          "rate must be at least 0 and burst at least 1, were " + perSecond + " and " + burst);
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.maxTenants = maxTenants;
    this.nanoTime = nanoTime;
  }

  /** No limit. */
  public static TenantRateLimiter unlimited() {
    return new TenantRateLimiter(0, 1);
  }

  public int perSecond() {
    return perSecond;
  }

  public int burst() {
    return burst;
  }

  /**
   * Takes one request from the tenant's allowance.
   *
   * @return 0 if the tenant may submit now, else the nanoseconds until it may (more than 0)
   */
  public synchronized long tryTake(String tenant) {
    if (perSecond == 0) {
      return 0;
    }
    long now = nanoTime.getAsLong();
    Bucket bucket = buckets.get(tenant);
    if (bucket == null) {
      if (buckets.size() >= maxTenants && !dropRefilled(now)) {
        refused++;
        return nanosUntilFirstRefilled(now);
      }
      bucket = new Bucket(burst, now);
      buckets.put(tenant, bucket);
    }
    bucket.tokens = tokensAt(bucket, now);
    bucket.atNanos = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    refused++;
    return Math.max(1, (long) Math.ceil((1 - bucket.tokens) * NANOS_PER_SECOND / perSecond));
  }

  /** Requests refused since the start, all tenants together. */
  public synchronized long refused() {
    return refused;
  }

  private double tokensAt(Bucket bucket, long now) {
    double refilled = (double) (now - bucket.atNanos) * perSecond / NANOS_PER_SECOND;
    return Math.min(burst, bucket.tokens + Math.max(0, refilled));
  }

  /** Drops the buckets that have refilled (as good as untracked); whether any was dropped. */
  private boolean dropRefilled(long now) {
    boolean dropped = false;
    for (Iterator<Bucket> it = buckets.values().iterator(); it.hasNext(); ) {
      if (tokensAt(it.next(), now) >= burst) {
        it.remove();
        dropped = true;
      }
    }
    return dropped;
  }

  private long nanosUntilFirstRefilled(long now) {
    double missing = burst;
    for (Bucket bucket : buckets.values()) {
      missing = Math.min(missing, burst - tokensAt(bucket, now));
    }
    return Math.max(1, (long) Math.ceil(missing * NANOS_PER_SECOND / perSecond));
  }

  /** Tenants tracked now (for tests). */
  synchronized int tracked() {
    return buckets.size();
  }
}
