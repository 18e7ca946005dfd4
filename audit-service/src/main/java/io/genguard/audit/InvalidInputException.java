package io.genguard.audit;

import io.genguard.schemas.TenantIds;

/**
 * An input the caller sent is not acceptable (HTTP 400); the message names it, says what is wrong
 * and what to send.
 */
public final class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  /**
   * {@code tenantId} if it is null (none named) or a tenant id ({@link TenantIds}).
   *
   * @throws InvalidInputException naming {@code what} and quoting the value (cut) otherwise
   */
  public static String tenantOrNull(String what, String tenantId) {
    if (tenantId != null && !TenantIds.isValid(tenantId)) {
      throw new InvalidInputException(
          what
              + " '"
              + (tenantId.length() > 64 ? tenantId.substring(0, 64) + "..." : tenantId)
              + "' is not a tenant id ("
              + TenantIds.RULE
              + ")");
    }
    return tenantId;
  }

  /**
   * {@code text} if it is at most {@code max} characters of one line of plain text.
   *
   * @throws InvalidInputException naming {@code what} otherwise
   */
  public static String oneLine(String what, String text, int max) {
    if (text.length() > max) {
      throw new InvalidInputException(
          what + " has " + text.length() + " characters; the limit is " + max);
    }
    for (int i = 0; i < text.length(); i++) {
      if (Character.isISOControl(text.charAt(i))) {
        throw new InvalidInputException(
            what
                + " contains a control character (code "
                + (int) text.charAt(i)
                + "); send one line of plain text");
      }
    }
    return text;
  }
}
