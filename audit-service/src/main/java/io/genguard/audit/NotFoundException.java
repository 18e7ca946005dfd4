package io.genguard.audit;

/**
 * Nothing the caller may see has this id (HTTP 404); other tenants' data is reported the same way.
 */
public final class NotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(message);
  }
}
