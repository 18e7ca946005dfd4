package io.genguard.moderation.gate;

import java.time.Duration;
import java.util.Map;

/**
 * How long the release gate keeps what it knows.
 *
 * @param decisionRetention how long a decided request's marker is kept to ignore late duplicates;
 *     also how long a verdict waits for its output before the gate forgets it (the audit log keeps
 *     the verdict)
 * @param verdictTimeout how long an output waits for its verdict before the gate holds it for
 *     review; the verdict, if it comes later, still decides, unless a person decided first
 */
public record GateTimings(Duration decisionRetention, Duration verdictTimeout) {
  public static final String DECISION_RETENTION_HOURS = "GENGUARD_GATE_DECISION_RETENTION_HOURS";
  public static final String VERDICT_TIMEOUT_SECONDS = "GENGUARD_GATE_VERDICT_TIMEOUT_SECONDS";

  public static final GateTimings DEFAULTS =
      new GateTimings(Duration.ofDays(7), Duration.ofMinutes(15));

  /** Ten years: longer is a typo, not a retention. */
  public static final long LONGEST_RETENTION_HOURS = 10 * 366 * 24;

  /** The longest pause between two sweeps of the store. */
  private static final Duration LONGEST_SWEEP = Duration.ofMinutes(10);

  public GateTimings {
    if (decisionRetention.toHours() < 1) {
      throw new IllegalArgumentException(DECISION_RETENTION_HOURS + " must be at least 1");
    }
    if (verdictTimeout.toSeconds() < 1 || verdictTimeout.compareTo(decisionRetention) > 0) {
      throw new IllegalArgumentException(
          VERDICT_TIMEOUT_SECONDS
              + " must be at least 1 and at most the decision retention ("
              + decisionRetention.toSeconds()
              + " s), was "
              + verdictTimeout.toSeconds());
    }
  }

  /** The defaults, overridden by the GENGUARD_GATE_* keys above; blank values count as unset. */
  public static GateTimings fromEnvironment(Map<String, String> env) {
    return new GateTimings(
        Duration.ofHours(
            number(
                env,
                DECISION_RETENTION_HOURS,
                DEFAULTS.decisionRetention.toHours(),
                LONGEST_RETENTION_HOURS)),
        Duration.ofSeconds(
            number(
                env,
                VERDICT_TIMEOUT_SECONDS,
                DEFAULTS.verdictTimeout.toSeconds(),
                LONGEST_RETENTION_HOURS * 3600)));
  }

  /**
   * How far the generator's clock may run ahead of the gate's before {@link #decisionHorizon} stops
   * being safe.
   */
  public static final Duration CLOCK_SKEW_ALLOWANCE = Duration.ofMinutes(10);

  /**
   * How old an output may be, by its {@code generatedAt}, for the gate to decide it: the decision
   * retention less {@link #CLOCK_SKEW_ALLOWANCE}. A request is decided after its output was
   * generated, and its marker is kept for the retention from that decision, so for a younger output
   * the gate still knows whether it decided the request; for an older one it may have decided and
   * forgotten it, and deciding again could release it twice.
   */
  public Duration decisionHorizon() {
    return decisionHorizon(decisionRetention);
  }

  /**
   * {@link #decisionHorizon} of a gate that keeps its decisions for {@code decisionRetention}: for
   * whoever sends the gate an output and knows only that setting (the audit service).
   */
  public static Duration decisionHorizon(Duration decisionRetention) {
    return decisionRetention.minus(CLOCK_SKEW_ALLOWANCE);
  }

  /**
   * The longest an output without a verdict waits for its gate outcome: the verdict timeout, then
   * at most one sweep. A check that an output got its outcome must wait longer than this (and, on a
   * store of millions of markers, which a sweep reads in pieces a second apart, about 2 s more a
   * million: not counted here).
   */
  public Duration longestWaitForOutcome() {
    return verdictTimeout.plus(sweepInterval());
  }

  /**
   * How often the gate sweeps its store for outputs past the verdict timeout and entries past the
   * retention: half the timeout, at least a second, at most ten minutes.
   */
  Duration sweepInterval() {
    Duration half = verdictTimeout.dividedBy(2);
    if (half.compareTo(Duration.ofSeconds(1)) < 0) {
      return Duration.ofSeconds(1);
    }
    return half.compareTo(LONGEST_SWEEP) > 0 ? LONGEST_SWEEP : half;
  }

  private static long number(Map<String, String> env, String key, long fallback, long most) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    long number;
    try {
      number = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
    if (number < 1 || number > most) {
      throw new IllegalArgumentException(
          key + " must be between 1 and " + most + ", was " + value.trim());
    }
    return number;
  }
}
