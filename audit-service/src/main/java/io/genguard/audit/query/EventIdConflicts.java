package io.genguard.audit.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The other content read under the id of a request's recorded events ({@code event_id_conflict},
 * migration V32), as a request's story and its evidence bundle show it. A request's conflicts are
 * the rows that name the request, and the rows read under the id of one of its records (a forged
 * event naming another request, read first, is the record; the genuine one, kept as a conflict,
 * names this one, or the other way round). The rows are not on the hash chain: nothing proves them,
 * they say that a record was contested.
 */
public final class EventIdConflicts {
  /** Why part of a row is not shown to a tenant's token: it names another tenant. */
  public static final String WITHHELD_OTHER_TENANT =
      "withheld from a tenant's token: the other content, or the record it contests, names"
          + " another tenant (withheldFields lists what is not shown); a global token sees it";

  /**
   * What a tenant's token is not shown of other content that names another tenant: everything said
   * of that tenant's event (its content, request and tenant, its hash, where and when it was read),
   * so nothing is left that could confirm a guess of it or place it in the topic.
   */
  static final List<String> OTHER_CONTENT_FIELDS =
      List.of(
          "payload",
          "requestId",
          "tenantId",
          "payloadSha256",
          "sourcePartition",
          "sourceOffset",
          "seenAt");

  /**
   * What a tenant's token is not shown of a contested record that names another tenant: the
   * record's request and tenant, its content's hash and its place on the chain (seq).
   */
  static final List<String> CONTESTED_RECORD_FIELDS =
      List.of("recordedSeq", "recordedRequestId", "recordedTenantId", "recordedPayloadSha256");

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
   * request_id and event_id_conflict's primary key. With a tenant ({@code ?::text} not null), only
   * that tenant's conflicts, as the search's conflict flag counts them: other content that names
   * the request and the tenant (or no tenant), or that contests a record of the tenant (or of no
   * tenant) under the request id.
   */
  private static final String WHERE =
      " where c.request_id = ? and (cast(? as text) is null or c.tenant_id = ?"
          + " or c.tenant_id is null"
          + " or (a.request_id = c.request_id and (a.tenant_id = ? or a.tenant_id is null)))"
          + " union all "
          + "%1$s"
          + " where a.request_id = ? and c.request_id is distinct from ?"
          + " and (cast(? as text) is null or a.tenant_id = ? or a.tenant_id is null)"
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
   * ({@code tenant} not null) a row whose content names another tenant is shown without what it
   * says of that tenant's event ({@link #OTHER_CONTENT_FIELDS}), and one whose contested record
   * names another tenant without that record's request, tenant, hash and seq ({@link
   * #CONTESTED_RECORD_FIELDS}): null, {@code withheld} says why and {@code withheldFields} which.
   *
   * @param canonicalText the payload as its canonical JSON text (a bundle), else as JSON
   */
  public static ArrayNode of(
      Connection connection, String requestId, String tenant, boolean canonicalText)
      throws SQLException {
    return of(connection, requestId, tenant, tenant, canonicalText);
  }

  /**
   * The conflicts of {@code owner}'s records under a request id ({@link #of(Connection, String,
   * String, boolean)}), shown to a caller of {@code tenant}. Two tenants may use one request id:
   * before the fiftieth session the conflicts were read by request id alone, so one tenant's story
   * listed the other tenant's conflicts. Only {@code owner}'s are listed now: other content that
   * names the request and {@code owner}, or contests a record of {@code owner} under the id
   * (content or a record of no tenant, a global erasure notice's, counts for every tenant, as the
   * search's conflict flag counts it).
   *
   * @param owner the tenant whose records' conflicts are listed; null for every tenant's
   * @param tenant the caller's tenant (null: a global token), as above
   */
  public static ArrayNode of(
      Connection connection, String requestId, String owner, String tenant, boolean canonicalText)
      throws SQLException {
    String select = canonicalText ? AS_TEXT : AS_JSON;
    ArrayNode rows;
    try (PreparedStatement statement =
        connection.prepareStatement(select + String.format(WHERE, select))) {
      statement.setString(1, requestId);
      statement.setString(2, owner);
      statement.setString(3, owner);
      statement.setString(4, owner);
      statement.setString(5, requestId);
      statement.setString(6, requestId);
      statement.setString(7, owner);
      statement.setString(8, owner);
      try (ResultSet rs = statement.executeQuery()) {
        rows = JsonRows.all(rs);
      }
    }
    if (tenant != null) {
      for (JsonNode node : rows) {
        ObjectNode row = (ObjectNode) node;
        List<String> withheld = new ArrayList<>();
        if (!tenant.equals(row.path("tenantId").asText(null))) {
          withheld.addAll(OTHER_CONTENT_FIELDS);
        }
        if (!tenant.equals(row.path("recordedTenantId").asText(null))) {
          withheld.addAll(CONTESTED_RECORD_FIELDS);
        }
        if (!withheld.isEmpty()) {
          withheld.forEach(row::putNull);
          row.put("withheld", WITHHELD_OTHER_TENANT);
          withheld.forEach(row.putArray("withheldFields")::add);
        }
      }
    }
    return rows;
  }
}
