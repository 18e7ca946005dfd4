package io.genguard.bias.submit;

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
    UNAVAILABLE
  }

  private final Kind kind;

  public SubmissionException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
