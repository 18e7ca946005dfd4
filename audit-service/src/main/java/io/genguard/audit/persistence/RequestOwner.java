package io.genguard.audit.persistence;

import io.genguard.audit.NotFoundException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A request the audit chain holds records of, and the tenant they name (null if none does): what
 * decides whether a caller may see or act on a request by its records alone (its evidence, its
 * erasure), even after retention removed its query rows.
 */
public record RequestOwner(String requestId, String tenantId) {

  /**
   * The request, if the chain holds records of it that {@code tenantScope} may see: a scoped caller
   * sees a request only when every record that names a tenant names its own (null scope: any).
   */
  public static Optional<RequestOwner> find(
      Connection connection, String requestId, String tenantScope) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "select count(*), min(tenant_id), max(tenant_id) from audit_log where request_id = ?")) {
      query.setString(1, requestId);
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        String lowest = rs.getString(2);
        boolean shown =
            rs.getLong(1) > 0
                && (tenantScope == null
                    || (tenantScope.equals(lowest) && tenantScope.equals(rs.getString(3))));
        return shown ? Optional.of(new RequestOwner(requestId, lowest)) : Optional.empty();
      }
    }
  }

  /**
   * The tenant of the request's records, for a caller of {@code tenantScope} about to act on it.
   *
   * @throws NotFoundException when the chain holds no record of it that the scope may see
   */
  public static String visibleTenant(Connection connection, String requestId, String tenantScope)
      throws SQLException {
    return find(connection, requestId, tenantScope)
        .orElseThrow(
            () ->
                new NotFoundException(
                    "The audit chain holds no record of request '"
                        + requestId
                        + "' that this token may see"))
        .tenantId();
  }
}
