package io.genguard.audit;

import java.util.List;

/**
 * The call is valid but the resource is in a state that does not allow it (HTTP 409), e.g. a review
 * another reviewer has claimed.
 */
public final class ConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The tenants the caller may choose among (the answer's {@code tenants}); empty when none. */
  private final List<String> tenants;

  public ConflictException(String message) {
    this(message, List.of());
  }

  /**
   * A conflict the caller resolves by naming one of {@code tenants} (two tenants use one request
   * id): the answer lists them in {@code tenants}, so that a client (the compliance UI) can offer
   * them rather than read them out of the message.
   */
  public ConflictException(String message, List<String> tenants) {
    super(message);
    this.tenants = List.copyOf(tenants);
  }

  /** The tenants the caller may name, in the order the message names them; empty when none. */
  public List<String> tenants() {
    return tenants;
  }
}
