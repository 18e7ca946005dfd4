package io.genguard.audit.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.persistence.ActionLog;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** Read side of the audit store: a request's full story and counts. Parameterised SQL only. */
public final class AuditQueries {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The API actions on a request, oldest first, as a story lists them. */
  /**
   * The request's unfinished flows (io.genguard.audit.watch.UnfinishedFlows): its answer or its
   * gate outcome missing past the deadline, and whether it came late or was dismissed; the actions
   * that sent it again, in the chain's order. Both kinds are named so that the (kind, request_id)
   * index serves.
   */
  private static final String UNFINISHED =
      "select kind, recorded_at, found_at, answered_at, dismissed_at, dismissed_by, dismiss_action,"
          + " resent_count, resent_at, resend_action, array(select r.action_id"
          + " from unfinished_flow_resend r join audit_log l on l.event_id = r.action_id"
          + " where r.flow_event_id = f.event_id order by l.seq) as resend_actions"
          + " from unfinished_flow f where kind in ('NO_ANSWER', 'NO_GATE_OUTCOME')"
          + " and request_id = ? and (tenant_id = ? or tenant_id is null) order by found_at";

  /**
   * The request's released outputs taken down (io.genguard.audit.release.Retractions): why
   * (TAKEDOWN or ERASURE), by which action, and, while its action row is there, who and the reason.
   */
  private static final String RETRACTIONS =
      "select r.output_id, r.released_event_id, r.basis, r.action_id, r.retracted_at,"
          + " a.caller_name as retracted_by, a.details ->> 'reason' as reason"
          + " from content_retraction r left join api_action a on a.action_id = r.action_id"
          + " where r.request_id = ? and r.tenant_id = ? order by r.retracted_at";

  /**
   * The release gate's restatements of a decision whose outcome this store never got (it restates
   * when the audit service sends the output again): what it decided and when, the outcome it wrote
   * then (null in restatements from before the gate named it), whether that outcome is on record
   * since, and where its record is.
   */
  private static final String RESTATEMENTS =
      "select a.seq, a.recorded_at, r.output_id, r.decision, r.decided_at, r.outcome_event_id,"
          + " r.outcome_basis, u.event_id is null as outcome_on_record"
          + " from gate_restatement r join audit_log a on a.event_id = r.event_id"
          // Whether the outcome it stands for is on record: the one definition search and the
          // totals use too (view gate_restatement_unrecorded, V20).
          + " left join gate_restatement_unrecorded u on u.event_id = r.event_id"
          + " where r.request_id = ? and r.tenant_id = ? order by a.seq";

  /**
   * The API actions on the request for its tenant, and those for no tenant (an admin's of no
   * tenant, such as an erasure of every tenant's records under the id).
   */
  private static final String ACTIONS =
      "select action_id, action, caller_name, caller_role, caller_token_id, target, details,"
          + " acted_at from api_action where request_id = ? and (tenant_id = ? or tenant_id is null)"
          + " order by acted_at";

  /**
   * The tenants with a pipeline record under the request id (not an API action: a caller's action
   * on an id makes it no tenant's request). Two tenants may use one request id.
   */
  private static final String TENANTS =
      "select distinct tenant_id from audit_log where request_id = ? and tenant_id is not null"
          + " and event_type <> '"
          + ActionLog.EVENT_TYPE
          + "' order by tenant_id";

  private final DataSource dataSource;
  private final ReadTimeout readTimeout;

  public AuditQueries(DataSource dataSource) {
    this(dataSource, ReadTimeout.DEFAULT);
  }

  /**
   * @param readTimeout how long each statement of a story or of the totals may run ({@link
   *     QueryTimedOutException} beyond it)
   */
  public AuditQueries(DataSource dataSource, ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.readTimeout = readTimeout;
  }

  /**
   * How long each statement of a caller's read may run: these reads' and the API's others that have
   * no store of their own (an evidence bundle's).
   */
  public ReadTimeout readTimeout() {
    return readTimeout;
  }

  /** Everything recorded about one request, or empty if the request is unknown. */
  public Optional<ObjectNode> story(String requestId) throws SQLException {
    return story(requestId, null);
  }

  /**
   * Everything recorded about one request of one tenant (request, outputs, verdicts with reasons,
   * gate outcomes, reviews, the review-queue item, the API actions on it, its audit records' places
   * in the hash chain and the other content read under its records' ids, {@link EventIdConflicts}),
   * or empty if {@code tenant} has no record under the request id or the request is unknown. Two
   * tenants may use one request id: the story is {@code tenant}'s records alone (null: the only
   * tenant's with records under the id). Each of its statements may run at most the read timeout.
   *
   * @throws QueryTimedOutException when one ran longer
   * @throws io.genguard.audit.ConflictException when {@code tenant} is null and more than one
   *     tenant has records under the request id (naming them)
   */
  public Optional<ObjectNode> story(String requestId, String tenant) throws SQLException {
    return readTimeout.read(dataSource, connection -> story(connection, requestId, tenant));
  }

  private static Optional<ObjectNode> story(Connection connection, String requestId, String tenant)
      throws SQLException {
    // Whose story it is: every statement below reads that tenant's rows alone. Before the
    // forty-ninth session they read every tenant's under the id, the owner being whichever
    // tenant's row came first, so a tenant's token read another tenant's records.
    List<String> tenants = new ArrayList<>();
    for (JsonNode row : rows(connection, TENANTS, requestId)) {
      tenants.add(row.path("tenantId").asText());
    }
    Optional<String> whose = owner(requestId, tenants, tenant, "records", "whose story it is");
    if (whose.isEmpty()) {
      return Optional.empty();
    }
    String owner = whose.get();
    ObjectNode story = JSON.createObjectNode();
    ArrayNode requests =
        rows(
            connection,
            "select * from generation_request where request_id = ? and tenant_id = ?",
            requestId,
            owner);
    ArrayNode outputs =
        rows(
            connection,
            "select * from generation_output where request_id = ? and tenant_id = ?"
                + " order by generated_at",
            requestId,
            owner);
    ArrayNode verdicts =
        rows(
            connection,
            "select * from moderation_verdict where request_id = ? and tenant_id = ?"
                + " order by decided_at",
            requestId,
            owner);
    ArrayNode failures =
        rows(
            connection,
            "select * from generation_failure where request_id = ? and tenant_id = ?"
                + " order by failed_at",
            requestId,
            owner);
    ArrayNode outcomes =
        rows(
            connection,
            "select * from gate_outcome where request_id = ? and tenant_id = ? order by decided_at",
            requestId,
            owner);
    if (requests.isEmpty()
        && outputs.isEmpty()
        && verdicts.isEmpty()
        && failures.isEmpty()
        && outcomes.isEmpty()) {
      Optional<ObjectNode> removed = removedStory(connection, requestId, owner, tenant != null);
      if (removed.isPresent() || tenants.size() < 2) {
        return removed;
      }
      // A tenant the 409 names (two tenants use the id) whose records under it are chain records
      // only (the gate's restatement of its release, a review decision): its story, with what the
      // query tables hold of it, rather than a 404 that contradicts the 409. A request of one
      // tenant with no such rows yet is still on its way (404), as before.
    }
    ArrayNode reviews =
        rows(
            connection,
            "select * from review_decision where request_id = ? and tenant_id = ?"
                + " order by decided_at",
            requestId,
            owner);
    ArrayNode queue =
        rows(
            connection,
            "select request_id, output_id, state, held_at, claimed_by, claimed_token_id, claim_expires_at,"
                + " review_id, action,"
                + " note, decided_by, decided_at, verdict_id, late_verdict_id from review_item"
                + " where request_id = ? and tenant_id = ?",
            requestId,
            owner);
    ArrayNode actions = actions(connection, requestId, owner);
    ArrayNode unfinished = rows(connection, UNFINISHED, requestId, owner);
    story.put("requestId", requestId);
    story.put("tenantId", owner);
    story.set("request", requests.isEmpty() ? null : requests.get(0));
    story.set("outputs", outputs);
    story.set("failures", failures);
    story.set("verdicts", verdicts);
    story.set("gateOutcomes", outcomes);
    story.set("reviews", reviews);
    story.set("reviewItem", queue.isEmpty() ? null : queue.get(0));
    story.set("actions", actions);
    story.set("unfinished", unfinished);
    ArrayNode retractions = rows(connection, RETRACTIONS, requestId, owner);
    story.set("retractions", retractions);
    // Where the request's records sit in the hash chain: what an auditor checks against the
    // chain heads anchored outside the database.
    story.set(
        "auditRecords",
        rows(
            connection,
            "select seq, event_id, event_type, recorded_at, encode(hash, 'hex') as hash"
                + " from audit_log where request_id = ? and (tenant_id = ? or tenant_id is null)"
                + " order by seq",
            requestId,
            owner));
    ArrayNode restatements = rows(connection, RESTATEMENTS, requestId, owner);
    story.set("gateRestatements", restatements);
    // Other content read under the id of one of its records, or naming it under a recorded id:
    // not on the chain, but a reviewer must see that a record was contested.
    story.set("eventIdConflicts", EventIdConflicts.of(connection, requestId, owner, tenant, false));
    story.put(
        "status", retractions.isEmpty() ? status(outcomes, restatements, failures) : "RETRACTED");
    return Optional.of(story);
  }

  /**
   * The story of a request whose content retention or an erasure removed: no query rows are left,
   * but its audit records are, with the retention records that removed their content ({@code
   * removals}: scope, and for an erasure who asked and why). Status CONTENT_REMOVED. Empty when the
   * chain holds no removed record of the request of tenant {@code owner} (it is unknown, or still
   * on its way).
   *
   * @param tenantCaller whether a tenant's token asks (not shown other tenants' ids)
   */
  private static Optional<ObjectNode> removedStory(
      Connection connection, String requestId, String owner, boolean tenantCaller)
      throws SQLException {
    ArrayNode records =
        rows(
            connection,
            "select seq, event_id, event_type, recorded_at, encode(hash, 'hex') as hash, tenant_id,"
                + " payload is null as content_removed from audit_log where request_id = ?"
                + " and (tenant_id = ? or tenant_id is null) order by seq",
            requestId,
            owner);
    boolean removed = false;
    for (JsonNode record : records) {
      removed |= record.path("contentRemoved").asBoolean();
    }
    if (!removed) {
      return Optional.empty();
    }
    String tenant = tenantCaller ? owner : null;
    ObjectNode story = JSON.createObjectNode();
    story.put("requestId", requestId);
    story.put("tenantId", owner);
    story.putNull("request");
    for (String empty : List.of("outputs", "failures", "verdicts", "gateOutcomes", "reviews")) {
      story.putArray(empty);
    }
    story.putNull("reviewItem");
    story.set("actions", actions(connection, requestId, owner));
    story.set("unfinished", rows(connection, UNFINISHED, requestId, owner));
    story.set("retractions", rows(connection, RETRACTIONS, requestId, owner));
    ArrayNode removals =
        rows(
            connection,
            "select seq, recorded_at, payload::jsonb as removal from audit_log"
                + " where seq in (select tombstone_seq from audit_log where request_id = ?"
                + " and tenant_id = ?) and payload is not null order by seq",
            requestId,
            owner);
    if (tenant != null) {
      // A default-scope retention names the tenants with periods of their own: other customers'
      // ids, which a tenant's token does not get (as in its evidence bundle).
      for (JsonNode removal : removals) {
        if (removal.get("removal") instanceof ObjectNode payload) {
          payload.remove("excludedTenants");
        }
      }
    }
    story.set("removals", removals);
    story.set("auditRecords", records);
    story.set("eventIdConflicts", EventIdConflicts.of(connection, requestId, owner, tenant, false));
    story.put("status", "CONTENT_REMOVED");
    return Optional.of(story);
  }

  private static String status(ArrayNode outcomes, ArrayNode restatements, ArrayNode failures) {
    if (!failures.isEmpty()) {
      return "FAILED";
    }
    // A release is final, whether its outcome reached this store or only the gate's restatement
    // of it: an outcome after it (the gate quarantining a copy older than its memory of decisions)
    // does not take back what was published.
    for (var outcome : outcomes) {
      if (outcome.get("outcome").asText().equals("RELEASED")) {
        return "RELEASED";
      }
    }
    for (var restatement : restatements) {
      if (restatement.get("decision").asText().equals("RELEASED")) {
        return "RELEASED";
      }
    }
    // Otherwise the latest decision: an outcome on record, or the gate's restatement of one this
    // store never got (a review's quarantine lost after the hold arrived), as search shows it.
    JsonNode latest = outcomes.isEmpty() ? null : outcomes.get(outcomes.size() - 1);
    for (var restatement : restatements) {
      if (!restatement.path("outcomeOnRecord").asBoolean()
          && (latest == null || decidedAt(restatement).isAfter(decidedAt(latest)))) {
        latest = restatement;
      }
    }
    if (latest == null) {
      return "IN_PROGRESS";
    }
    return latest.has("outcome")
        ? latest.get("outcome").asText()
        // Restated: an erased request's output was quarantined.
        : latest.path("decision").asText().replace("ERASED", "QUARANTINED");
  }

  private static Instant decidedAt(JsonNode row) {
    return Instant.parse(row.path("decidedAt").asText());
  }

  /** Totals over the whole store. */
  public Map<String, Long> summary() throws SQLException {
    return summary(null);
  }

  /**
   * Totals over one tenant's data, or the whole store when {@code tenant} is null. Dead letters
   * belong to no tenant and are counted only in the whole-store summary. Released and quarantined
   * count the gate's outcomes on record, and the decisions it restated whose outcome is not on
   * record (it never reached this store: view gate_restatement_unrecorded). The statement may run
   * at most the read timeout.
   *
   * @throws QueryTimedOutException when it ran longer
   */
  public Map<String, Long> summary(String tenant) throws SQLException {
    return readTimeout.read(dataSource, connection -> summary(connection, tenant));
  }

  private static Map<String, Long> summary(Connection connection, String tenant)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(summarySql())) {
      for (int parameter = 1; parameter <= SUMMARY_PARAMETERS; parameter++) {
        statement.setString(parameter, tenant);
      }
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        Map<String, Long> counts = new LinkedHashMap<>();
        ResultSetMetaData meta = rs.getMetaData();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          counts.put(meta.getColumnLabel(i), rs.getLong(i));
        }
        return counts;
      }
    }
  }

  /** How many parameters {@link #summarySql()} has: each is the tenant, or null for all. */
  static final int SUMMARY_PARAMETERS = 21;

  /**
   * The totals' statement. Each count of one tenant reads only that tenant's rows, through an index
   * (migration V29 added those of audit_log and generation_failure): a tenant's summary costs what
   * its own data costs, not what every tenant's does (SummaryPlanITCase).
   */
  static String summarySql() {
    String mine = " (?::text is null or tenant_id = ?)";
    return "select"
        + " (select count(*) from generation_request where"
        + mine
        + ") as requests,"
        + " (select count(*) from generation_output where"
        + mine
        + ") as outputs,"
        + " (select count(*) from generation_failure where"
        + mine
        + ") as failures,"
        + " (select count(*) from moderation_verdict where"
        + mine
        + ") as verdicts,"
        + " (select count(*) from gate_outcome where outcome = 'RELEASED' and"
        + mine
        + ") + (select count(*) from gate_restatement_unrecorded where decision = 'RELEASED'"
        + " and"
        + mine
        + ") as released,"
        + " (select count(*) from gate_outcome where outcome = 'QUARANTINED' and"
        + mine
        + ") + (select count(*) from gate_restatement_unrecorded where decision <> 'RELEASED'"
        + " and"
        + mine
        + ") as quarantined,"
        + " (select count(*) from review_item where state = 'PENDING' and"
        + mine
        + ") as awaiting_review,"
        + " (select count(*) from dead_letter where ?::text is null) as dead_letters,"
        + " (select count(*) from audit_log where"
        + mine
        + ") as audit_records";
  }

  /**
   * Per-request completeness for a set of requests: how many have exactly one output, one verdict
   * and a final or held gate outcome. Used by the demo and the invariant tests.
   */
  public Completeness completeness(Collection<String> requestIds) throws SQLException {
    String sql =
        "with ids as (select unnest(?::text[]) as request_id),"
            + " per as (select ids.request_id,"
            + "   (select count(*) from generation_request r where r.request_id = ids.request_id) as requests,"
            + "   (select count(*) from generation_output o where o.request_id = ids.request_id) as outputs,"
            + "   (select count(*) from generation_failure f where f.request_id = ids.request_id) as failures,"
            + "   (select count(*) from moderation_verdict v where v.request_id = ids.request_id) as verdicts,"
            + "   (select count(*) from gate_outcome g where g.request_id = ids.request_id"
            + "      and g.outcome = 'RELEASED') as released,"
            + "   (select count(*) from gate_outcome g where g.request_id = ids.request_id"
            + "      and g.outcome = 'QUARANTINED') as quarantined,"
            + "   (select count(*) from gate_outcome g where g.request_id = ids.request_id"
            + "      and g.outcome = 'HELD_FOR_REVIEW') as held,"
            + "   (select count(*) from gate_outcome g join moderation_verdict v on v.verdict_id = g.verdict_id"
            + "      and v.tenant_id = g.tenant_id"
            + "      where g.request_id = ids.request_id and g.outcome = 'RELEASED' and g.basis = 'VERDICT'"
            + "      and v.decision <> 'RELEASE') as released_without_release_verdict"
            + "   from ids)"
            + " select count(*) filter (where requests = 1),"
            + "  coalesce(sum(outputs), 0), count(*) filter (where outputs = 1),"
            + "  coalesce(sum(failures), 0),"
            + "  coalesce(sum(verdicts), 0), count(*) filter (where verdicts = 1),"
            + "  count(*) filter (where released > 0), count(*) filter (where quarantined > 0),"
            + "  count(*) filter (where held > 0 and released = 0 and quarantined = 0),"
            + "  count(*) filter (where released + quarantined + held > 0),"
            + "  count(*) filter (where released > 1),"
            + "  coalesce(sum(released_without_release_verdict), 0)"
            + " from per";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      Array ids = connection.createArrayOf("text", requestIds.toArray());
      statement.setArray(1, ids);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return new Completeness(
            requestIds.size(),
            rs.getLong(1),
            rs.getLong(2),
            rs.getLong(3),
            rs.getLong(4),
            rs.getLong(5),
            rs.getLong(6),
            rs.getLong(7),
            rs.getLong(8),
            rs.getLong(9),
            rs.getLong(10),
            rs.getLong(11),
            rs.getLong(12));
      }
    }
  }

  /**
   * Counts over a set of requests.
   *
   * @param requested how many request ids were asked about
   * @param audited requests persisted exactly once
   * @param outputs output rows in total
   * @param withOneOutput requests with exactly one output
   * @param failures generation failures in total
   * @param verdicts verdict rows in total
   * @param withOneVerdict requests with exactly one verdict
   * @param released requests released
   * @param quarantined requests quarantined
   * @param awaitingReview requests held for review and not yet decided
   * @param gated requests with any gate outcome
   * @param releasedTwice requests released more than once (must be 0)
   * @param releasedWithoutReleaseVerdict released on a verdict that was not RELEASE (must be 0)
   */
  public record Completeness(
      long requested,
      long audited,
      long outputs,
      long withOneOutput,
      long failures,
      long verdicts,
      long withOneVerdict,
      long released,
      long quarantined,
      long awaitingReview,
      long gated,
      long releasedTwice,
      long releasedWithoutReleaseVerdict) {

    /** Every request generated, judged and gated (or failed with a recorded reason). */
    public boolean settled() {
      return audited == requested && gated + failures >= requested;
    }
  }

  /**
   * A verdict as the audit chain recorded it, with the output it judged.
   *
   * @param verdict the verdict's recorded payload (canonical JSON), null when retention removed it
   * @param output the output's recorded payload, null when retention removed it
   */
  public record RecordedVerdict(String verdict, String output) {}

  /**
   * The tenant whose rows an answer about a request reads, of {@code tenants} (those with {@code
   * what} under the request id): {@code tenant} when named and among them; the only one when none
   * is named; empty when none is (or the one named is not among them).
   *
   * @throws ConflictException when none is named and several are, naming them ({@code which}: what
   *     the caller should name, "whose story it is")
   */
  private static Optional<String> owner(
      String requestId, List<String> tenants, String tenant, String what, String which) {
    if (tenant != null) {
      return tenants.contains(tenant) ? Optional.of(tenant) : Optional.empty();
    }
    if (tenants.size() > 1) {
      throw new ConflictException(
          "Request "
              + requestId
              + " has "
              + what
              + " of more than one tenant ("
              + String.join(", ", tenants)
              + "), which use the same request id: name the tenant "
              + which
              + " (the \"tenant\" query parameter)",
          tenants);
    }
    return tenants.stream().findFirst();
  }

  /**
   * The newest verdict of one tenant's request and the output it judged, as {@link
   * #recordedVerdict} reads them: of {@code tenant}, or (null) of the only tenant with verdicts
   * under the request id, as the story picks its tenant ({@link #story(String, String)}).
   *
   * @throws ConflictException when {@code tenant} is null and several tenants have verdicts under
   *     the request id (naming them)
   */
  public Optional<RecordedVerdict> recordedVerdictOfOne(String requestId, String tenant)
      throws SQLException {
    List<String> tenants = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "select distinct tenant_id from moderation_verdict where request_id = ?"
                    + " order by tenant_id")) {
      statement.setString(1, requestId);
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          tenants.add(rs.getString(1));
        }
      }
    }
    Optional<String> owner =
        owner(requestId, tenants, tenant, "verdicts", "whose verdict is explained");
    return owner.isEmpty() ? Optional.empty() : recordedVerdict(requestId, owner.get());
  }

  /**
   * The newest verdict of a request and the output it judged, from their hash-chained records;
   * empty if the request has no verdict, or belongs to a tenant other than {@code tenant} (null:
   * any).
   */
  public Optional<RecordedVerdict> recordedVerdict(String requestId, String tenant)
      throws SQLException {
    String sql =
        "select v.payload as verdict, o.payload as output from moderation_verdict mv"
            + " join audit_log v on v.event_id = mv.event_id"
            + " left join generation_output go on go.output_id = mv.output_id"
            + " and go.tenant_id = mv.tenant_id"
            + " left join audit_log o on o.event_id = go.event_id"
            + " where mv.request_id = ? and (cast(? as text) is null or mv.tenant_id = ?)"
            + " order by mv.decided_at desc, v.seq desc limit 1";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, requestId);
      statement.setString(2, tenant);
      statement.setString(3, tenant);
      try (ResultSet rs = statement.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new RecordedVerdict(rs.getString("verdict"), rs.getString("output")));
      }
    }
  }

  /**
   * The API actions of a story ({@link #ACTIONS}): an action of no tenant (an admin's erasure of
   * every tenant's records under the id) lists each tenant's retraction in its details; the story
   * of {@code owner} keeps only {@code owner}'s, so a tenant reading its own story is not shown
   * another tenant's releases under the same request id.
   */
  private static ArrayNode actions(Connection connection, String requestId, String owner)
      throws SQLException {
    ArrayNode actions = rows(connection, ACTIONS, requestId, owner);
    for (JsonNode action : actions) {
      if (action.path("details").path("retractions") instanceof ArrayNode retractions) {
        for (int i = retractions.size() - 1; i >= 0; i--) {
          if (!owner.equals(retractions.get(i).path("tenantId").asText(null))) {
            retractions.remove(i);
          }
        }
      }
    }
    return actions;
  }

  private static ArrayNode rows(Connection connection, String sql, String... params)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        statement.setString(i + 1, params[i]);
      }
      try (ResultSet rs = statement.executeQuery()) {
        return JsonRows.all(rs);
      }
    }
  }
}
