package io.genguard.audit.submit;

import io.genguard.schemas.TenantIds;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How many generation requests each tenant may submit through the API: a token bucket per tenant
 * that holds at most {@code burst} requests and refills at {@code perSecond}. A tenant that submits
 * faster is refused until its bucket refills, so one tenant cannot fill the generators' queue ahead
 * of every other tenant. A tenant may have its own allowance, from configuration ({@link
 * #parseAllowances}) or set while running ({@link #setStored}, which wins); 0 requests a second
 * means no limit. The buckets live in this process: with several audit-service instances behind a
 * load balancer, each allows the rate on its own.
 *
 * <p>At most {@value #MAX_TENANTS} tenants are tracked. A bucket that has refilled is the same as
 * none, so those are dropped when the map is full; if every tracked tenant submitted within the
 * last {@code burst / perSecond} seconds, a tenant not yet tracked waits until one refills.
 */
public final class TenantRateLimiter {
  /** Most tenants whose buckets are kept at once. */
  public static final int MAX_TENANTS = 10_000;

  /** Highest rate or burst an allowance may name. */
  public static final int MAX_RATE = 1_000_000;

  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final Allowance standard;
  private final Map<String, Allowance> own;
  private final int maxTenants;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets = new HashMap<>();
  private Map<String, Allowance> stored = Map.of();
  private long refused;

  /**
   * What a tenant may submit.
   *
   * @param perSecond requests a second on average; 0 = no limit
   * @param burst requests at once after a pause (at least 1)
   */
  public record Allowance(int perSecond, int burst) {
    public Allowance {
      if (perSecond < 0 || burst < 1) {
        throw new IllegalArgumentException(
            "rate must be at least 0 and burst at least 1, were " + perSecond + " and " + burst);
      }
    }

    boolean unlimited() {
      return perSecond == 0;
    }
  }

  /** Tokens as of {@code atNanos}; a token is one request. */
  private static final class Bucket {
    final Allowance allowance;
    double tokens;
    long atNanos;

    Bucket(Allowance allowance, long atNanos) {
      this.allowance = allowance;
      this.tokens = allowance.burst();
      this.atNanos = atNanos;
    }

    double tokensAt(long now) {
      double refilled = (double) (now - atNanos) * allowance.perSecond() / NANOS_PER_SECOND;
      return Math.min(allowance.burst(), tokens + Math.max(0, refilled));
    }

    boolean fullAt(long now) {
      return tokensAt(now) >= allowance.burst();
    }

    long nanosUntil(double wanted, long now) {
      double missing = wanted - tokensAt(now);
      return Math.max(1, (long) Math.ceil(missing * NANOS_PER_SECOND / allowance.perSecond()));
    }
  }

  /**
   * @param perSecond requests a second a tenant may submit on average; 0 = no limit
   * @param burst requests a tenant may submit at once after a pause (at least 1)
   */
  public TenantRateLimiter(int perSecond, int burst) {
    this(new Allowance(perSecond, burst), Map.of());
  }

  /**
   * @param standard what a tenant without its own allowance may submit
   * @param own tenants with their own allowance
   */
  public TenantRateLimiter(Allowance standard, Map<String, Allowance> own) {
    this(standard, own, MAX_TENANTS, System::nanoTime);
  }

  TenantRateLimiter(
      Allowance standard, Map<String, Allowance> own, int maxTenants, LongSupplier nanoTime) {
    this.standard = standard;
    this.own = Map.copyOf(own);
    this.maxTenants = maxTenants;
    this.nanoTime = nanoTime;
  }

  TenantRateLimiter(int perSecond, int burst, int maxTenants, LongSupplier nanoTime) {
    this(new Allowance(perSecond, burst), Map.of(), maxTenants, nanoTime);
  }

  /** No limit. */
  public static TenantRateLimiter unlimited() {
    return new TenantRateLimiter(0, 1);
  }

  /**
   * What {@code tenant} may submit: its stored allowance, else its configured one, else the
   * default.
   */
  public synchronized Allowance allowance(String tenant) {
    Allowance set = stored.get(tenant);
    return set != null ? set : own.getOrDefault(tenant, standard);
  }

  /** Where a tenant's allowance comes from. */
  public enum Source {
    /** Set while running ({@link #setStored}). */
    SET,
    /** The tenant's own from configuration. */
    CONFIGURED,
    /** The default. */
    STANDARD
  }

  /** Where {@code tenant}'s allowance comes from. */
  public synchronized Source source(String tenant) {
    return stored.containsKey(tenant)
        ? Source.SET
        : own.containsKey(tenant) ? Source.CONFIGURED : Source.STANDARD;
  }

  /** What a tenant without an allowance of its own may submit. */
  public Allowance standard() {
    return standard;
  }

  /** Tenants' allowances from configuration. */
  public Map<String, Allowance> configured() {
    return own;
  }

  /**
   * Replaces the allowances set while running (they win over configured ones). A tenant whose
   * allowance changes keeps the requests it has left, up to its new burst.
   */
  public synchronized void setStored(Map<String, Allowance> allowances) {
    stored = Map.copyOf(allowances);
  }

  /**
   * Tenants' own allowances from their written form, {@code tenant=rate} or {@code
   * tenant=rate/burst}, comma-separated (blank: none); without a burst, a tenant may submit twice
   * its rate at once (at least 1, at most {@value #MAX_RATE}).
   *
   * @param key names the setting in errors
   * @throws IllegalArgumentException naming the entry and what is wrong with it
   */
  public static Map<String, Allowance> parseAllowances(String key, String spec) {
    Map<String, Allowance> parsed = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return parsed;
    }
    for (String entry : spec.split(",", -1)) {
      String trimmed = entry.trim();
      String[] parts = trimmed.split("=", -1);
      String shown = trimmed.length() > 80 ? trimmed.substring(0, 80) + "..." : trimmed;
      if (parts.length != 2 || !TenantIds.isValid(parts[0].trim())) {
        throw new IllegalArgumentException(
            key
                + ": '"
                + shown
                + "' is not tenant=rate or tenant=rate/burst, with a tenant id that is "
                + TenantIds.RULE);
      }
      String tenant = parts[0].trim();
      String[] numbers = parts[1].trim().split("/", -1);
      try {
        if (numbers.length > 2) {
          throw new NumberFormatException();
        }
        int rate = Integer.parseInt(numbers[0].trim());
        int burst = numbers.length == 2 ? Integer.parseInt(numbers[1].trim()) : defaultBurst(rate);
        if (rate < 0 || burst < 1) {
          throw new IllegalArgumentException(
              key + ": '" + shown + "': the rate must be at least 0 and the burst at least 1");
        }
        if (rate > MAX_RATE || burst > MAX_RATE) {
          throw new IllegalArgumentException(
              key + ": '" + shown + "' asks for more than " + MAX_RATE);
        }
        if (parsed.put(tenant, new Allowance(rate, burst)) != null) {
          throw new IllegalArgumentException(
              key + ": tenant '" + tenant + "' is given twice; give each tenant once");
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            key
                + ": '"
                + shown
                + "' needs whole numbers, tenant=rate or tenant=rate/burst (e.g. acme=200/400)");
      }
    }
    return parsed;
  }

  /**
   * The burst of a tenant given only a rate: twice the rate, at least 1, at most {@value
   * #MAX_RATE}.
   */
  public static int defaultBurst(int perSecond) {
    return (int) Math.min(MAX_RATE, Math.max(1, 2L * perSecond));
  }

  /**
   * Takes one request from the tenant's allowance.
   *
   * @return 0 if the tenant may submit now, else the nanoseconds until it may (more than 0)
   */
  public synchronized long tryTake(String tenant) {
    Allowance allowance = allowance(tenant);
    if (allowance.unlimited()) {
      return 0;
    }
    long now = nanoTime.getAsLong();
    Bucket bucket = buckets.get(tenant);
    if (bucket != null && !bucket.allowance.equals(allowance)) {
      Bucket changed = new Bucket(allowance, now);
      changed.tokens = Math.min(allowance.burst(), bucket.tokensAt(now));
      bucket = changed;
      buckets.put(tenant, bucket);
    }
    if (bucket == null) {
      if (buckets.size() >= maxTenants && !dropRefilled(now)) {
        refused++;
        return nanosUntilFirstRefilled(now);
      }
      bucket = new Bucket(allowance, now);
      buckets.put(tenant, bucket);
    }
    bucket.tokens = bucket.tokensAt(now);
    bucket.atNanos = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    refused++;
    return bucket.nanosUntil(1, now);
  }

  /** Drops the buckets that have refilled (as good as untracked); whether any was dropped. */
  private boolean dropRefilled(long now) {
    boolean dropped = false;
    for (Iterator<Bucket> it = buckets.values().iterator(); it.hasNext(); ) {
      if (it.next().fullAt(now)) {
        it.remove();
        dropped = true;
      }
    }
    return dropped;
  }

  private long nanosUntilFirstRefilled(long now) {
    long soonest = Long.MAX_VALUE;
    for (Bucket bucket : buckets.values()) {
      soonest = Math.min(soonest, bucket.nanosUntil(bucket.allowance.burst(), now));
    }
    return soonest;
  }

  /** Requests refused since the start, all tenants together. */
  public synchronized long refused() {
    return refused;
  }

  /** Whether {@code tenant}'s allowance is being counted now (false also for unlimited ones). */
  public synchronized boolean tracks(String tenant) {
    return buckets.containsKey(tenant);
  }

  /** Tenants tracked now (for tests). */
  synchronized int tracked() {
    return buckets.size();
  }
}
