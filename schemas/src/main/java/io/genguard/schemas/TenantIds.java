package io.genguard.schemas;

import java.util.regex.Pattern;

/**
 * What a tenant id may be, wherever one comes in (the API, tokens, retention, campaign specs): 1-64
 * letters, digits, '.', '_' or '-', starting with a letter or digit. Safe in logs, metric labels
 * and file names.
 */
public final class TenantIds {
  /** A valid tenant id, whole. */
  public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** The rule in words, for error messages. */
  public static final String RULE =
      "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

  private TenantIds() {}

  /** Whether {@code tenantId} is a valid tenant id; false for null. */
  public static boolean isValid(String tenantId) {
    return tenantId != null && PATTERN.matcher(tenantId).matches();
  }
}
