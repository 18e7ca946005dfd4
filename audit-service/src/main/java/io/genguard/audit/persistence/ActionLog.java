package io.genguard.audit.persistence;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.security.Caller;
import io.genguard.schemas.EventIds;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Records a state-changing call and its caller as an {@value #EVENT_TYPE} record in the hash chain
 * (plus a row in api_action for queries), inside the transaction that makes the change: the change
 * and its audit record commit together or not at all.
 */
public final class ActionLog {
  public static final String EVENT_TYPE = "ApiAction";

  private ActionLog() {}

  /**
   * What was done.
   *
   * @param action dotted name, e.g. review.approve, token.create
   * @param tenantId tenant the action affects, null if none
   * @param requestId generation request it is about, if any
   * @param target id of the thing acted on (review, token, tenant), if any
   * @param details action-specific facts; never a secret
   */
  public record Action(
      String action, String tenantId, String requestId, String target, ObjectNode details) {
    public static Action of(String action, String tenantId, String requestId, String target) {
      return new Action(action, tenantId, requestId, target, JsonNodeFactory.instance.objectNode());
    }
  }

  /** Appends the action to the chain; returns its id. Call inside the caller's transaction. */
  public static String record(Connection connection, Caller caller, Action action, Instant now)
      throws SQLException {
    return record(connection, caller, action, now, EventIds.random());
  }

  /**
   * Appends the action to the chain under an id the caller made before ({@link EventIds#random}),
   * so that a caller whose transaction may be lost can tell afterwards whether this action
   * committed. Call inside the caller's transaction.
   */
  public static String record(
      Connection connection, Caller caller, Action action, Instant now, String actionId)
      throws SQLException {
    Instant at = now.truncatedTo(ChronoUnit.MICROS);
    ObjectNode payload = JsonNodeFactory.instance.objectNode();
    payload.put("actionId", actionId);
    payload.put("action", action.action());
    ObjectNode who = payload.putObject("caller");
    who.put("tokenId", caller.tokenId());
    who.put("name", caller.name());
    who.put("role", caller.role().name());
    who.put("tenantId", caller.tenantId());
    payload.put("tenantId", action.tenantId());
    payload.put("requestId", action.requestId());
    payload.put("target", action.target());
    payload.set("details", action.details());
    payload.put("at", at.toString());
    ChainAppender.append(
        connection,
        List.of(
            ChainRecord.ofService(
                actionId,
                EVENT_TYPE,
                action.tenantId(),
                action.requestId(),
                CanonicalJson.write(payload))),
        at);
    try (PreparedStatement insert =
        connection.prepareStatement(
            "insert into api_action (action_id, event_id, action, caller_token_id, caller_name, caller_role,"
                + " caller_tenant, tenant_id, request_id, target, details, acted_at)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)")) {
      insert.setString(1, actionId);
      insert.setString(2, actionId);
      insert.setString(3, action.action());
      insert.setString(4, caller.tokenId());
      insert.setString(5, caller.name());
      insert.setString(6, caller.role().name());
      insert.setString(7, caller.tenantId());
      insert.setString(8, action.tenantId());
      insert.setString(9, action.requestId());
      insert.setString(10, action.target());
      insert.setString(11, CanonicalJson.write(action.details()));
      insert.setObject(12, AuditWriter.time(at));
      insert.executeUpdate();
    }
    return actionId;
  }
}
