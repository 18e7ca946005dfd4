package io.genguard.audit.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The other content read under the id of a request's recorded events ({@code event_id_conflict},
 * migration V32), as a request's story and its evidence bundle show it. A request's conflicts are
 * the rows that name the request, and the rows read under the id of one of its records (a forged
 * event naming another request, read first, is the record; the genuine one, kept as a conflict,
 * names this one, or the other way round). The rows are not on the hash chain: nothing proves them,
 * they say that a record was contested.
 */
public final class EventIdConflicts {
  /** Why a row's content is not shown to a tenant's token: it names another tenant. */
  public static final String WITHHELD_OTHER_TENANT =
      "withheld from a tenant's token: the other content, or the record it contests, names"
          + " another tenant; a global token sees it";

  private static final String COLUMNS =
      "select c.event_id, c.event_type, c.request_id, c.tenant_id, c.source_topic,"
          + " c.source_partition, c.source_offset, c.seen_at, c.after_resend,"
          + " encode(c.payload_sha256, 'hex') as payload_sha256,"
          + " encode(c.recorded_payload_sha256, 'hex') as recorded_payload_sha256,"
          + " a.seq as recorded_seq, a.request_id as recorded_request_id,"
          + " a.tenant_id as recorded_tenant_id, ";

  private static final String FROM =
      " from event_id_conflict c join audit_log a on a.event_id = c.event_id";

  /**
   * Both halves answered by an index: event_id_conflict's on request_id, then audit_log's on
   * request_id and event_id_conflict's primary key.
   */
  private static final String WHERE =
      " where c.request_id = ? union all "
          + "%1$s"
          + " where a.request_id = ? and c.request_id is distinct from ?"
          + " order by seen_at, event_id, payload_sha256";

  private static final String AS_JSON = COLUMNS + "c.payload::jsonb as payload" + FROM;
  private static final String AS_TEXT = COLUMNS + "c.payload" + FROM;

  private EventIdConflicts() {}

  /**
   * A request's conflicts, oldest first: each with the contested record's seq, request and tenant,
   * both contents' SHA-256 (hex), whether it was read after the request's flow was sent again
   * ({@code afterResend}, migration V33: an answer given again or a verdict judged again, rather
   * than a forgery; false for rows kept before V33) and the other content ({@code payload}: JSON in
   * the story, its canonical JSON text in a bundle; null once an erasure removed it, or when it was
   * read after its record's content was removed; retention deletes the row). For a tenant's token
   * ({@code tenant} not null) a row whose content or contested record names another tenant keeps
   * its id, type, hashes, source and time, without that content, request and tenant ({@code
   * withheld} says why).
   *
   * @param canonicalText the payload as its canonical JSON text (a bundle), else as JSON
   */
  public static ArrayNode of(
      Connection connection, String requestId, String tenant, boolean canonicalText)
      throws SQLException {
    String select = canonicalText ? AS_TEXT : AS_JSON;
    ArrayNode rows;
    try (PreparedStatement statement =
        connection.prepareStatement(select + String.format(WHERE, select))) {
      statement.setString(1, requestId);
      statement.setString(2, requestId);
      statement.setString(3, requestId);
      try (ResultSet rs = statement.executeQuery()) {
        rows = JsonRows.all(rs);
      }
    }
    if (tenant != null) {
      for (JsonNode node : rows) {
        ObjectNode row = (ObjectNode) node;
        if (!tenant.equals(row.path("tenantId").asText(null))) {
          row.putNull("payload");
          row.putNull("requestId");
          row.putNull("tenantId");
          row.put("withheld", WITHHELD_OTHER_TENANT);
        }
        if (!tenant.equals(row.path("recordedTenantId").asText(null))) {
          row.putNull("recordedRequestId");
          row.putNull("recordedTenantId");
          row.put("withheld", WITHHELD_OTHER_TENANT);
        }
      }
    }
    return rows;
  }
}
