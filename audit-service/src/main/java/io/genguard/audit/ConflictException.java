package io.genguard.audit;

/**
 * The call is valid but the resource is in a state that does not allow it (HTTP 409), e.g. a review
 * another reviewer has claimed.
 */
public final class ConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConflictException(String message) {
    super(message);
  }
}
