package io.genguard.bias.submit;

import java.time.Duration;

/** A request the pipeline did not accept, with whether trying again can help. */
public final class SubmissionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why a submission failed. */
  public enum Kind {
    /** The API refused the request as invalid (400): the same request will fail again. */
    REJECTED,
    /** The API wants a (valid) bearer token. */
    UNAUTHORIZED,
    /** The API could not be reached or failed (connection refused, timeout, 5xx): transient. */
    UNAVAILABLE,
    /**
     * The tenant is over its submission rate (429): nothing was submitted, and the same request is
     * accepted after {@link SubmissionException#retryAfter()}.
     */
    THROTTLED
  }

  private final Kind kind;
  private final Duration retryAfter;

  public SubmissionException(Kind kind, String message, Throwable cause) {
    this(kind, message, cause, Duration.ZERO);
  }

  public SubmissionException(Kind kind, String message, Throwable cause, Duration retryAfter) {
    super(message, cause);
    this.kind = kind;
    this.retryAfter = retryAfter;
  }

  public Kind kind() {
    return kind;
  }

  /** How long to wait before sending the request again ({@link Kind#THROTTLED}); else zero. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
