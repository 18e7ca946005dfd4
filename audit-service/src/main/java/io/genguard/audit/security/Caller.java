package io.genguard.audit.security;

import java.util.Objects;

/**
 * Who is calling: the token's public id and name, its role, and the tenant it is bound to (null for
 * a global compliance or admin token). Never holds the token secret.
 *
 * @param tokenId public id of the token (null for the service's own actions)
 * @param name who the token was issued to, recorded as the reviewer and in the audit log
 * @param role what the token may do
 * @param tenantId the only tenant the caller may see, or null for all tenants
 */
public record Caller(String tokenId, String name, Role role, String tenantId) {
  public Caller {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(role, "role");
    if (tenantId == null && !role.mayBeGlobal()) {
      throw new IllegalArgumentException("A " + role + " token must be bound to a tenant");
    }
  }

  /** The service itself (scheduled retention, command-line tools), global admin. */
  public static Caller system(String name) {
    return new Caller(null, name, Role.ADMIN, null);
  }

  public boolean isGlobal() {
    return tenantId == null;
  }

  /** Whether this caller may see data of {@code tenant} (null tenant: only global callers). */
  public boolean canSee(String tenant) {
    return tenantId == null || tenantId.equals(tenant);
  }

  public boolean has(Role wanted) {
    return role == wanted || role == Role.ADMIN;
  }

  /**
   * The tenant a query must be restricted to: the caller's own tenant, or for a global caller the
   * tenant it asked for (null = all).
   *
   * @throws ForbiddenException when a tenant-bound caller asks for another tenant
   */
  public String scope(String requestedTenant) {
    if (tenantId == null) {
      return requestedTenant;
    }
    if (requestedTenant != null && !requestedTenant.equals(tenantId)) {
      throw new ForbiddenException(
          "This token is for tenant '"
              + tenantId
              + "' and may not read tenant '"
              + requestedTenant
              + "'; leave the tenant out or use a token of that tenant");
    }
    return tenantId;
  }

  /** "name (token id)", for logs and audit records. */
  public String describe() {
    return tokenId == null ? name : name + " (" + tokenId + ")";
  }
}
