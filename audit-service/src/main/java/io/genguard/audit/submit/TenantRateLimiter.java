package io.genguard.audit.submit;

import io.genguard.schemas.TenantIds;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many generation requests each tenant may submit through the API: a token bucket per tenant
 * that holds at most {@code burst} requests and refills at {@code perSecond}. A tenant that submits
 * faster is refused until its bucket refills, so one tenant cannot fill the generators' queue ahead
 * of every other tenant. A tenant may have its own allowance, from configuration ({@link
 * #parseAllowances}) or set while running ({@link #setStored}, which wins); 0 requests a second
 * means no limit.
 *
 * <p>The buckets live in this process unless they are shared ({@link #shareThrough}, {@link
 * SharedRateBuckets}: one bucket per tenant for every process sharing the database). A shared
 * bucket that cannot be reached (the database is down or slow) is replaced by this process's own
 * for that request, so submissions go on at the rate per process, and {@link #sharedFailures}
 * counts how often.
 *
 * <p>At most {@value #MAX_TENANTS} tenants are tracked in this process. A bucket that has refilled
 * is the same as none, so those are dropped when the map is full; if every tracked tenant submitted
 * within the last {@code burst / perSecond} seconds, a tenant not yet tracked waits until one
 * refills.
 */
public final class TenantRateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(TenantRateLimiter.class);

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
  private SharedBuckets shared;
  private boolean sharedAnswered;
  private long sharedFailures;
  private long sharedFailureLoggedAt;

  /** Buckets kept outside this process, one per tenant for every process that shares them. */
  public interface SharedBuckets {
    /**
     * Takes one request from {@code tenant}'s shared bucket, which holds {@code allowance}.
     *
     * @return 0 if the tenant may submit now, else the nanoseconds until it may (more than 0)
     */
    long take(String tenant, Allowance allowance) throws Exception;

    /**
     * Requests {@code tenant} may submit now (a fraction: part of the next one), not taking any.
     */
    double tokensLeft(String tenant, Allowance allowance) throws Exception;
  }

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
   * Counts every tenant's allowance in {@code buckets} from now on, shared with every process that
   * uses the same ones (null: in this process again).
   */
  public synchronized void shareThrough(SharedBuckets buckets) {
    shared = buckets;
    sharedAnswered = false;
  }

  /**
   * A tenant's allowance and the shared buckets that count it (null: this process), read at once.
   */
  private record Counted(Allowance allowance, SharedBuckets through) {}

  private synchronized Counted counted(String tenant) {
    return new Counted(allowance(tenant), shared);
  }

  /**
   * Takes one request from the tenant's allowance: from its shared bucket if there is one and it
   * answers, else from this process's.
   *
   * @return 0 if the tenant may submit now, else the nanoseconds until it may (more than 0)
   */
  public long tryTake(String tenant) {
    Counted counted = counted(tenant);
    Allowance allowance = counted.allowance();
    SharedBuckets through = counted.through();
    if (allowance.unlimited()) {
      return 0;
    }
    if (through != null) {
      try {
        long wait = through.take(tenant, allowance);
        synchronized (this) {
          sharedAnswered = true;
          if (wait > 0) {
            refused++;
          }
        }
        return wait;
      } catch (Exception e) {
        sharedFailed(e);
      }
    }
    return takeHere(tenant, allowance);
  }

  private synchronized void sharedFailed(Exception e) {
    sharedAnswered = false;
    sharedFailures++;
    long now = nanoTime.getAsLong();
    if (sharedFailures == 1 || now - sharedFailureLoggedAt >= TimeUnit.MINUTES.toNanos(1)) {
      sharedFailureLoggedAt = now;
      LOG.warn(
          "The shared submission-rate buckets did not answer ({}); this process counts the"
              + " tenants' rates on its own until they do ({} such requests so far)",
          e.toString(),
          sharedFailures);
    }
  }

  private synchronized long takeHere(String tenant, Allowance allowance) {
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

  /**
   * Requests {@code tenant} may submit now, as the shared buckets or this process count them (a
   * fraction is part of the next request); empty when it has no limit.
   *
   * @throws Exception when the shared buckets do not answer
   */
  public java.util.OptionalDouble tokensLeft(String tenant) throws Exception {
    Counted counted = counted(tenant);
    Allowance allowance = counted.allowance();
    SharedBuckets through = counted.through();
    if (allowance.unlimited()) {
      return java.util.OptionalDouble.empty();
    }
    if (through != null) {
      return java.util.OptionalDouble.of(through.tokensLeft(tenant, allowance));
    }
    synchronized (this) {
      Bucket bucket = buckets.get(tenant);
      long now = nanoTime.getAsLong();
      return java.util.OptionalDouble.of(
          bucket == null ? allowance.burst() : Math.min(allowance.burst(), bucket.tokensAt(now)));
    }
  }

  /** Whether the tenants' allowances are counted in shared buckets ({@link #shareThrough}). */
  public synchronized boolean shared() {
    return shared != null;
  }

  /**
   * Requests whose tenant's allowance was counted in this process because the shared buckets did
   * not answer, since the start.
   */
  public synchronized long sharedFailures() {
    return sharedFailures;
  }

  /**
   * Whether {@code tenant}'s allowance is being counted now: in the shared buckets while they
   * answer, else in this process (false also for unlimited ones).
   */
  public synchronized boolean tracks(String tenant) {
    return (sharedAnswered && !allowance(tenant).unlimited()) || buckets.containsKey(tenant);
  }

  /** Tenants tracked now (for tests). */
  synchronized int tracked() {
    return buckets.size();
  }
}
