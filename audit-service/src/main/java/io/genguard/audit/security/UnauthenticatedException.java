package io.genguard.audit.security;

/** No valid API token came with the call (HTTP 401). The message never contains the token. */
public final class UnauthenticatedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UnauthenticatedException(String message) {
    super(message);
  }
}
