package io.genguard.schemas;

/** Bytes on a topic that are not a valid event of the expected type; the message says why. */
public final class EventDecodingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EventDecodingException(String message, Throwable cause) {
    super(message, cause);
  }

  public EventDecodingException(String message) {
    super(message);
  }
}
