package io.genguard.audit.security;

/** The caller is known but may not do this (HTTP 403); the message says what would be allowed. */
public final class ForbiddenException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ForbiddenException(String message) {
    super(message);
  }
}
