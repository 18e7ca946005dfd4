package io.genguard.audit.release;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.RequestOwner;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.review.ReviewOutbox;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Taking a released output down. The release gate's {@code content.released} is final; what was
 * published in error (a miss found later, a complaint, a policy that changed) or whose content was
 * erased after its release comes down through a {@link ContentRetraction} on {@code
 * content.retractions}, for whoever published it. The notice goes through the audit service's
 * outbox in the transaction that records why ({@code requests.retract} or {@code requests.erase}),
 * so it is sent exactly when the reason is on record; it comes back to the audit store from the
 * topic like every event, which shows it went out. One retraction per release: {@code
 * content_retraction} keeps it, keyed by the released outcome.
 */
public final class Retractions {
  /** Longest reason a takedown takes. */
  public static final int MAX_REASON = 2_000;

  private final DataSource dataSource;
  private final Clock clock;

  public Retractions(DataSource dataSource, Clock clock) {
    this.dataSource = dataSource;
    this.clock = clock;
  }

  /**
   * A retraction on record.
   *
   * @param releasedEventId the {@code content.released} outcome it retracts
   * @param actionId the action that retracted it, with its reason
   */
  public record Retracted(
      String requestId,
      String tenantId,
      String outputId,
      String releasedEventId,
      RetractionBasis basis,
      String actionId,
      Instant retractedAt) {}

  /** A released outcome as the audit store holds it. */
  public record Released(String eventId, String requestId, String tenantId, String outputId) {}

  /**
   * Takes the request's released output down, recording who asked and why.
   *
   * @throws NotFoundException when the chain holds no record of the request the caller may see
   * @throws ConflictException when nothing of it was released, as the audit store shows, or it was
   *     retracted already
   */
  public Retracted retract(String requestId, String reason, Caller caller) throws SQLException {
    return retract(requestId, null, reason, caller);
  }

  /**
   * As {@link #retract(String, String, Caller)}, of the release of one tenant: two tenants may use
   * one request id, and a caller of no tenant (an admin) must say whose release comes down when
   * both released one.
   *
   * @param tenantId the tenant whose release comes down; null for the caller's own (an admin: the
   *     only tenant that released under the request id)
   * @throws ConflictException also when the caller names no tenant and releases of several tenants
   *     are on record under the request id
   */
  public Retracted retract(String requestId, String tenantId, String reason, Caller caller)
      throws SQLException {
    return retract(requestId, caller.scope(tenantId), reason(reason), caller, null);
  }

  /**
   * @param selection the bulk call's selection, recorded in the action; null for a call on this
   *     request alone
   */
  private Retracted retract(
      String requestId, String tenantId, String why, Caller caller, ObjectNode selection)
      throws SQLException {
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          // The chain lock first, as an erasure takes it: one retraction of a release, and no
          // deadlock with an erasure of the same request.
          ChainAppender.lock(connection);
          Released released = releasable(connection, requestId, tenantId, caller);
          Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
          ActionLog.Action action =
              ActionLog.Action.of(
                  "requests.retract", released.tenantId(), requestId, released.outputId());
          action
              .details()
              .put("reason", why)
              .put("outputId", released.outputId())
              .put("releasedEventId", released.eventId());
          if (selection != null) {
            action.details().set("selection", selection);
          }
          String actionId = ActionLog.record(connection, caller, action, now);
          return record(connection, released, RetractionBasis.TAKEDOWN, actionId, now);
        });
  }

  /** Most outputs one bulk call takes down; the answer says when more match. */
  public static final int MAX_BULK = 1_000;

  /**
   * Which released outputs a bulk takedown selects: released from {@code decidedFrom} (inclusive)
   * to {@code decidedBefore} (exclusive), and not retracted yet; a release known only from the
   * gate's restatement counts by the decision time and basis the restatement gives.
   *
   * @param tenantId only this tenant's; null for all (a tenant's admin: its own, always)
   * @param policySha256 only those whose verdict was decided under this policy file; null for any
   * @param includeReviewed also those a person approved in review (basis REVIEW); by default only
   *     those the gate released on a verdict alone
   */
  public record Selection(
      String tenantId,
      Instant decidedFrom,
      Instant decidedBefore,
      String policySha256,
      boolean includeReviewed) {
    public Selection {
      if (decidedFrom == null || decidedBefore == null) {
        throw new InvalidInputException(
            "decidedFrom and decidedBefore are required: the released outputs to take down were"
                + " released from the one (inclusive) to the other (exclusive), e.g."
                + " {\"decidedFrom\": \"2026-12-05T09:00:00Z\", \"decidedBefore\":"
                + " \"2026-12-05T10:00:00Z\"}");
      }
      if (!decidedFrom.isBefore(decidedBefore)) {
        throw new InvalidInputException(
            "decidedFrom " + decidedFrom + " is not before decidedBefore " + decidedBefore);
      }
      if (policySha256 != null && !ContentHash.isSha256Hex(policySha256)) {
        throw new InvalidInputException(
            "policySha256 is not a policy file's SHA-256 (64 lowercase hex digits, as verdicts"
                + " carry it)");
      }
    }

    ObjectNode json() {
      ObjectNode json = JsonNodeFactory.instance.objectNode();
      json.put("tenantId", tenantId);
      json.put("decidedFrom", decidedFrom.toString());
      json.put("decidedBefore", decidedBefore.toString());
      json.put("policySha256", policySha256);
      json.put("includeReviewed", includeReviewed);
      return json;
    }
  }

  /**
   * What a bulk takedown did, or would do.
   *
   * @param requestIds the requests selected, oldest release first (at most {@link #MAX_BULK})
   * @param more whether more match than one call takes
   * @param retracted those taken down (none on a dry run)
   * @param skipped those taken down or erased by another call meanwhile, with why
   */
  public record Bulk(
      boolean dryRun,
      List<String> requestIds,
      boolean more,
      List<Retracted> retracted,
      Map<String, String> skipped) {}

  /**
   * Takes down every released output the selection names (an incident: a policy that released what
   * it should not have, for an hour), each in its own transaction with its own {@code
   * requests.retract} action that records the reason and the selection, so each request's evidence
   * proves its own takedown. A dry run only lists them.
   */
  public Bulk retractAll(Selection selection, String reason, boolean dryRun, Caller caller)
      throws SQLException {
    String why = dryRun ? null : reason(reason);
    String tenant = caller.scope(selection.tenantId());
    List<String> selected = new ArrayList<>();
    List<String> tenants = new ArrayList<>();
    List<Object> arguments = new ArrayList<>();
    // Released outcomes on record, and releases this store knows only from the gate's restatement
    // of them (by the outcome they name, when no record of that outcome came since).
    StringBuilder sql =
        new StringBuilder("select request_id, tenant_id from (select g.request_id, g.tenant_id,")
            .append(" g.decided_at")
            .append(" from gate_outcome g where g.outcome = 'RELEASED'");
    windowFilters(sql, arguments, "g", "event_id", "basis", selection, tenant);
    if (selection.policySha256() != null) {
      sql.append(
          " and exists (select 1 from moderation_verdict v where v.verdict_id = g.verdict_id");
      sql.append(" and v.policy_sha256 = ?)");
      arguments.add(selection.policySha256());
    }
    sql.append(" union all select s.request_id, s.tenant_id, s.decided_at")
        .append(" from gate_restatement_unrecorded s")
        .append(" where s.decision = 'RELEASED' and s.outcome_event_id is not null");
    windowFilters(sql, arguments, "s", "outcome_event_id", "outcome_basis", selection, tenant);
    if (selection.policySha256() != null) {
      sql.append(
          " and exists (select 1 from moderation_verdict v where v.request_id = s.request_id");
      sql.append(" and v.output_id = s.output_id and v.policy_sha256 = ?)");
      arguments.add(selection.policySha256());
    }
    sql.append(") released order by decided_at, request_id, tenant_id limit ?");
    arguments.add(MAX_BULK + 1);
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select = connection.prepareStatement(sql.toString())) {
      for (int i = 0; i < arguments.size(); i++) {
        select.setObject(i + 1, arguments.get(i));
      }
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          selected.add(rs.getString(1));
          tenants.add(rs.getString(2));
        }
      }
    }
    boolean more = selected.size() > MAX_BULK;
    int taken = Math.min(MAX_BULK, selected.size());
    List<String> requestIds = List.copyOf(selected.subList(0, taken));
    // Each selected release is taken down as the tenant it names: two tenants may use one request
    // id, and the selection chose this tenant's release.
    List<String> tenantIds = tenants.subList(0, taken);
    if (dryRun) {
      return new Bulk(true, requestIds, more, List.of(), Map.of());
    }
    ObjectNode recorded =
        new Selection(
                tenant,
                selection.decidedFrom(),
                selection.decidedBefore(),
                selection.policySha256(),
                selection.includeReviewed())
            .json();
    return retractEach(requestIds, tenantIds, more, why, caller, recorded, new LinkedHashMap<>());
  }

  /**
   * The window's conditions on one kind of release row ({@code alias}): released in the window, not
   * retracted, the tenant's, on a verdict alone unless reviewed ones are included.
   */
  private static void windowFilters(
      StringBuilder sql,
      List<Object> arguments,
      String alias,
      String eventIdColumn,
      String basisColumn,
      Selection selection,
      String tenant) {
    // Aliases and column names come from the constants of the caller, never from input.
    sql.append(" and ").append(alias).append(".decided_at >= ?");
    sql.append(" and ").append(alias).append(".decided_at < ?");
    arguments.add(utc(selection.decidedFrom()));
    arguments.add(utc(selection.decidedBefore()));
    sql.append(" and not exists (select 1 from content_retraction r where r.released_event_id = ")
        .append(alias)
        .append('.')
        .append(eventIdColumn)
        .append(')');
    if (tenant != null) {
      sql.append(" and ").append(alias).append(".tenant_id = ?");
      arguments.add(tenant);
    }
    if (!selection.includeReviewed()) {
      sql.append(" and ").append(alias).append('.').append(basisColumn).append(" = 'VERDICT'");
    }
  }

  /**
   * Takes down the released outputs of the requests named (for example those a what-if run showed a
   * corrected policy would hold), each as {@link #retract} would, in its own transaction, with the
   * reason and how it was chosen in its action. A request not released, retracted already or not
   * visible to the caller is skipped, with why. A dry run says which would come down.
   *
   * @param requestIds 1 to {@link #MAX_BULK} request ids; a repeated one counts once
   */
  public Bulk retractEach(List<String> requestIds, String reason, boolean dryRun, Caller caller)
      throws SQLException {
    String why = dryRun ? null : reason(reason);
    List<String> named = named(requestIds);
    if (!dryRun) {
      // Each takedown checks its request under the chain lock and skips it with the same words a
      // dry run would; checking first as well would only ask every question twice.
      ObjectNode recorded = JsonNodeFactory.instance.objectNode().put("requestIds", named.size());
      Bulk attempted =
          retractEach(
              named,
              Collections.nCopies(named.size(), caller.tenantId()),
              false,
              why,
              caller,
              recorded,
              new LinkedHashMap<>());
      return new Bulk(
          false,
          named.stream().filter(id -> !attempted.skipped().containsKey(id)).toList(),
          false,
          attempted.retracted(),
          attempted.skipped());
    }
    Map<String, String> skipped = new LinkedHashMap<>();
    List<String> releasable = new ArrayList<>();
    try (Connection connection = dataSource.getConnection()) {
      for (String requestId : named) {
        Optional<String> notNow = whyNot(connection, requestId, caller.tenantId(), caller);
        if (notNow.isPresent()) {
          skipped.put(requestId, notNow.get());
        } else {
          releasable.add(requestId);
        }
      }
    }
    return new Bulk(true, List.copyOf(releasable), false, List.of(), skipped);
  }

  /**
   * @param tenantIds for each request, the tenant whose release comes down (null: the only one)
   */
  private Bulk retractEach(
      List<String> requestIds,
      List<String> tenantIds,
      boolean more,
      String why,
      Caller caller,
      ObjectNode selection,
      Map<String, String> skipped)
      throws SQLException {
    // Every action of the call names it, so one query finds them all.
    selection.put("call", EventIds.random());
    List<Retracted> retracted = new ArrayList<>();
    for (int i = 0; i < requestIds.size(); i++) {
      String requestId = requestIds.get(i);
      try {
        retracted.add(retract(requestId, tenantIds.get(i), why, caller, selection));
      } catch (ConflictException | NotFoundException e) {
        skipped.put(requestId, e.getMessage()); // another call took it down or erased it first
      }
    }
    return new Bulk(false, List.copyOf(requestIds), more, retracted, skipped);
  }

  /** The ids a call names, each once, in its order; refused when none, too many or malformed. */
  private static List<String> named(List<String> requestIds) {
    if (requestIds == null || requestIds.isEmpty() || requestIds.size() > MAX_BULK) {
      throw new InvalidInputException(
          "requestIds must name 1 to " + MAX_BULK + " requests, e.g. [\"req-1\", \"req-2\"]");
    }
    LinkedHashSet<String> once = new LinkedHashSet<>();
    for (String id : requestIds) {
      if (id == null || !Cursor.ID.matcher(id).matches()) {
        throw new InvalidInputException(
            "requestIds holds "
                + (id == null
                    ? "null"
                    : "'" + (id.length() > 40 ? id.substring(0, 40) + "..." : id) + "'")
                + ", which is not a request id (1-128 letters, digits, '.', '_', ':' or '-')");
      }
      once.add(id);
    }
    return List.copyOf(once);
  }

  /**
   * The request's released outcome, when the caller may take it down now.
   *
   * @param tenantId the tenant whose release it is; null when the caller named none (an admin: the
   *     only tenant with a release under the request id)
   * @throws NotFoundException when the chain holds no record of the request the caller may see
   * @throws ConflictException when nothing of it was released, as the audit store shows, or it was
   *     retracted already, or the caller named no tenant and several tenants released under the
   *     request id
   */
  private static Released releasable(
      Connection connection, String requestId, String tenantId, Caller caller) throws SQLException {
    RequestOwner.visibleTenant(connection, requestId, caller.tenantId());
    if (tenantId == null) {
      List<String> tenants = releasedTenants(connection, requestId);
      if (tenants.size() > 1) {
        throw new ConflictException(
            "Request "
                + requestId
                + " was released for more than one tenant ("
                + String.join(", ", tenants)
                + "), which use the same request id: name the tenant whose release comes down"
                + " (\"tenantId\" in the body)");
      }
    }
    Optional<Released> found = released(connection, requestId, tenantId);
    if (found.isEmpty()) {
      throw new ConflictException(
          restatedWithoutOutcome(connection, requestId)
              ? "Request "
                  + requestId
                  + " was released, as the release gate restated, but the restatement names no"
                  + " released outcome (the gate decided it before it kept them), so no"
                  + " retraction can name what it takes down: take it down where it was published,"
                  + " by its request id"
              : "Request "
                  + requestId
                  + " has no released output on record, so there is nothing to take down (an"
                  + " outcome the gate wrote may not have reached the audit store yet: GET"
                  + " /api/v1/requests/"
                  + requestId
                  + " shows what it holds)");
    }
    Released released = found.get();
    Optional<Retracted> earlier = find(connection, released.eventId());
    if (earlier.isPresent()) {
      throw new ConflictException(
          "The released output "
              + released.outputId()
              + " of request "
              + requestId
              + " was retracted already at "
              + earlier.get().retractedAt()
              + " (action "
              + earlier.get().actionId()
              + ")");
    }
    return released;
  }

  /** Why the request's output cannot be taken down now: {@link #retract}'s refusal, if any. */
  private static Optional<String> whyNot(
      Connection connection, String requestId, String tenantId, Caller caller) throws SQLException {
    try {
      releasable(connection, requestId, tenantId, caller);
      return Optional.empty();
    } catch (ConflictException | NotFoundException refused) {
      return Optional.of(refused.getMessage());
    }
  }

  /**
   * The tenant's released outcome of the request that no retraction has taken down yet, if there is
   * one. Call inside the caller's transaction, before the content goes (an erasure removes the
   * query rows).
   *
   * @param tenantId the tenant whose release it is: another tenant's under the same request id is
   *     not it
   */
  public static Optional<Released> releasedNotRetracted(
      Connection connection, String requestId, String tenantId) throws SQLException {
    Optional<Released> released = released(connection, requestId, tenantId);
    return released.isPresent() && find(connection, released.get().eventId()).isEmpty()
        ? released
        : Optional.empty();
  }

  /**
   * Records the retraction of {@code released} and puts its notice in the outbox, in the caller's
   * transaction (after the action that says why).
   */
  public static Retracted record(
      Connection connection, Released released, RetractionBasis basis, String actionId, Instant now)
      throws SQLException {
    ContentRetraction notice =
        ContentRetraction.newBuilder()
            .setEventId(EventIds.nameBased("retraction", released.eventId()))
            .setRequestId(released.requestId())
            .setTenantId(released.tenantId())
            .setOutputId(released.outputId())
            .setReleasedEventId(released.eventId())
            .setBasis(basis)
            .setActionId(actionId)
            .setRetractedAt(now)
            .build();
    ReviewOutbox.enqueue(
        connection,
        notice.getEventId(),
        released.requestId(),
        Topics.CONTENT_RETRACTIONS,
        notice,
        now);
    try (PreparedStatement row =
        connection.prepareStatement(
            "insert into content_retraction (released_event_id, request_id, tenant_id, output_id,"
                + " basis, action_id, retracted_at) values (?, ?, ?, ?, ?, ?, ?)")) {
      row.setString(1, released.eventId());
      row.setString(2, released.requestId());
      row.setString(3, released.tenantId());
      row.setString(4, released.outputId());
      row.setString(5, basis.name());
      row.setString(6, actionId);
      row.setObject(7, utc(now));
      row.executeUpdate();
    }
    return new Retracted(
        released.requestId(),
        released.tenantId(),
        released.outputId(),
        released.eventId(),
        basis,
        actionId,
        now);
  }

  /**
   * The request's released outcome: its record, or else the one the gate's restatement of the
   * release names (the outcome never reached this store, so the restatement is what shows it).
   *
   * @param tenantId only this tenant's (two tenants may use one request id); null for any
   */
  private static Optional<Released> released(
      Connection connection, String requestId, String tenantId) throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select event_id, tenant_id, output_id from (select event_id, tenant_id, output_id,"
                + " decided_at, 0 as rank from gate_outcome where request_id = ? and outcome ="
                + " 'RELEASED' union all select outcome_event_id, tenant_id, output_id,"
                + " decided_at, 1 from gate_restatement where request_id = ? and decision ="
                + " 'RELEASED' and outcome_event_id is not null) released"
                + " where ?::text is null or tenant_id = ?::text"
                + " order by rank, decided_at limit 1")) {
      select.setString(1, requestId);
      select.setString(2, requestId);
      select.setString(3, tenantId);
      select.setString(4, tenantId);
      try (ResultSet rs = select.executeQuery()) {
        return rs.next()
            ? Optional.of(
                new Released(rs.getString(1), requestId, rs.getString(2), rs.getString(3)))
            : Optional.empty();
      }
    }
  }

  /** The tenants whose releases of the request are on record (outcomes or restatements). */
  private static List<String> releasedTenants(Connection connection, String requestId)
      throws SQLException {
    List<String> tenants = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select tenant_id from gate_outcome where request_id = ? and outcome = 'RELEASED'"
                + " union select tenant_id from gate_restatement where request_id = ?"
                + " and decision = 'RELEASED' order by 1")) {
      select.setString(1, requestId);
      select.setString(2, requestId);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          tenants.add(rs.getString(1));
        }
      }
    }
    return tenants;
  }

  /** Whether the gate restated a release of the request without naming its outcome. */
  private static boolean restatedWithoutOutcome(Connection connection, String requestId)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select 1 from gate_restatement where request_id = ? and decision = 'RELEASED'"
                + " and outcome_event_id is null")) {
      select.setString(1, requestId);
      try (ResultSet rs = select.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The output id a retraction names when the audit store no longer knows the released output. */
  public static final String OUTPUT_UNKNOWN = "unknown";

  /**
   * As {@link #releasedNotRetracted}, and when the query rows are gone (retention removed the
   * request's content before), the {@code content.released} outcome the chain still names: its
   * record keeps its event id, request and tenant without its content, so the retraction names the
   * released outcome but not the output ({@value #OUTPUT_UNKNOWN}). For an erasure, which retracts
   * what was released whatever is left of it.
   *
   * @param tenantId the tenant whose release it is (the erasing tenant's); null for any tenant's
   *     (an admin's erasure, which removes every tenant's records under the request id), the
   *     earliest
   */
  public static Optional<Released> releasedNotRetractedOnRecord(
      Connection connection, String requestId, String tenantId) throws SQLException {
    Optional<Released> released = released(connection, requestId, tenantId);
    if (released.isEmpty()) {
      try (PreparedStatement select =
          connection.prepareStatement(
              "select event_id, tenant_id from audit_log where request_id = ?"
                  + " and event_type = 'ReleaseGateOutcome' and source_topic = ?"
                  + " and (?::text is null or tenant_id = ?::text) order by seq limit 1")) {
        select.setString(1, requestId);
        select.setString(2, Topics.CONTENT_RELEASED.name());
        select.setString(3, tenantId);
        select.setString(4, tenantId);
        try (ResultSet rs = select.executeQuery()) {
          if (rs.next()) {
            released =
                Optional.of(
                    new Released(rs.getString(1), requestId, rs.getString(2), OUTPUT_UNKNOWN));
          }
        }
      }
    }
    return released.isPresent() && find(connection, released.get().eventId()).isEmpty()
        ? released
        : Optional.empty();
  }

  private static Optional<Retracted> find(Connection connection, String releasedEventId)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select request_id, tenant_id, output_id, basis, action_id, retracted_at"
                + " from content_retraction where released_event_id = ?")) {
      select.setString(1, releasedEventId);
      try (ResultSet rs = select.executeQuery()) {
        return rs.next()
            ? Optional.of(
                new Retracted(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getString(3),
                    releasedEventId,
                    RetractionBasis.valueOf(rs.getString(4)),
                    rs.getString(5),
                    rs.getObject(6, OffsetDateTime.class).toInstant()))
            : Optional.empty();
      }
    }
  }

  private static String reason(String reason) {
    if (reason == null || reason.isBlank()) {
      throw new InvalidInputException(
          "reason is required: why the released output comes down (e.g. \"hate missed by the"
              + " moderator, ticket T-1182\"); it stays in the chain");
    }
    return InvalidInputException.oneLine("reason", reason.strip(), MAX_REASON);
  }

  private static OffsetDateTime utc(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
