package io.genguard.audit;

/**
 * An input the caller sent is not acceptable (HTTP 400); the message names it, says what is wrong
 * and what to send.
 */
public final class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }
}
