package io.genguard.generator.backend;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Why a backend could not serve a request. Transient failures (unreachable, overloaded, 5xx, 429)
 * are retried with backoff within the request's time budget; permanent ones are not.
 */
public final class BackendException extends Exception {
  private static final long serialVersionUID = 1L;

  private final FailureCode code;
  private final boolean transientFailure;
  private final transient Duration retryAfter;

  private BackendException(
      FailureCode code,
      boolean transientFailure,
      Duration retryAfter,
      String message,
      Throwable cause) {
    super(message, cause);
    this.code = code;
    this.transientFailure = transientFailure;
    this.retryAfter = retryAfter;
  }

  /** Worth another try later, e.g. connection refused, HTTP 5xx. */
  public static BackendException transientFailure(
      FailureCode code, String message, Throwable cause) {
    return new BackendException(code, true, null, message, cause);
  }

  /** Worth another try no sooner than {@code retryAfter} (HTTP 429 / 503 with Retry-After). */
  public static BackendException retryAfter(FailureCode code, Duration retryAfter, String message) {
    return new BackendException(code, true, retryAfter, message, null);
  }

  /** As {@link #retryAfter(FailureCode, Duration, String)}, with a cause for the log. */
  public static BackendException retryAfter(
      FailureCode code, Duration retryAfter, String message, Throwable cause) {
    return new BackendException(code, true, retryAfter, message, cause);
  }

  /** Retrying will not help, e.g. the server rejected the request or returned garbage. */
  public static BackendException permanent(FailureCode code, String message, Throwable cause) {
    return new BackendException(code, false, null, message, cause);
  }

  /**
   * A short random id that ties a failure's reason, which tenants see, to the operator log line
   * that holds its detail (paths, exception text).
   */
  public static String newErrorId() {
    return String.format("%08x", ThreadLocalRandom.current().nextInt());
  }

  public FailureCode code() {
    return code;
  }

  public boolean isTransient() {
    return transientFailure;
  }

  /** The server's requested wait, or null. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
