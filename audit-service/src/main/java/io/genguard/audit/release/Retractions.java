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
import io.genguard.audit.query.RequestIds;
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
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
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

  /** How a caller of the API names the tenant whose release comes down (its 409's words). */
  public static final String TENANT_IN_THE_BODY = "\"tenantId\" in the body";

  /** How a caller of the API reads a request's story, given its id (its 409's words). */
  public static final UnaryOperator<String> STORY_IN_THE_API =
      requestId -> "GET /api/v1/requests/" + requestId;

  private final DataSource dataSource;
  private final Clock clock;
  private final String namingTheTenant;
  private final UnaryOperator<String> showingTheStory;

  public Retractions(DataSource dataSource, Clock clock) {
    this(dataSource, clock, TENANT_IN_THE_BODY);
  }

  /**
   * @param namingTheTenant how this caller names the tenant whose release comes down, said when a
   *     request id several tenants released under is named without one (the API's {@link
   *     #TENANT_IN_THE_BODY}; the command line's flag)
   */
  public Retractions(DataSource dataSource, Clock clock, String namingTheTenant) {
    this(dataSource, clock, namingTheTenant, STORY_IN_THE_API);
  }

  /**
   * @param namingTheTenant as above
   * @param showingTheStory how this caller reads a request's story, given its id, said when a
   *     request with nothing released is refused (the API's {@link #STORY_IN_THE_API}; the command
   *     line's command)
   */
  public Retractions(
      DataSource dataSource,
      Clock clock,
      String namingTheTenant,
      UnaryOperator<String> showingTheStory) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.namingTheTenant = namingTheTenant;
    this.showingTheStory = showingTheStory;
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
   * A release a bulk takedown selected.
   *
   * @param tenantId the tenant whose release it is (two tenants may use one request id); of a call
   *     naming request ids, the caller's (null: an admin's, the only tenant's release); of a call
   *     naming releases, the tenant named
   */
  public record Selected(String requestId, String tenantId) {}

  /** A release a bulk takedown left, with why (e.g. another call took it down meanwhile). */
  public record Skipped(String requestId, String tenantId, String reason) {}

  /**
   * What a bulk takedown did, or would do.
   *
   * @param requestIds the requests selected, oldest release first (at most {@link #MAX_BULK}); a
   *     request id two tenants released under is there once per tenant ({@code releases} says
   *     whose)
   * @param more whether more match than one call takes
   * @param retracted those taken down (none on a dry run)
   * @param skipped those taken down or erased by another call meanwhile, with why, by request id:
   *     of a request id skipped for two tenants, the first tenant's reason ({@code skippedReleases}
   *     has each); kept for the clients that read it
   * @param releases the releases selected, as {@code requestIds}, each with its tenant
   * @param skippedReleases those skipped, each with its tenant and why
   */
  public record Bulk(
      boolean dryRun,
      List<String> requestIds,
      boolean more,
      List<Retracted> retracted,
      Map<String, String> skipped,
      List<Selected> releases,
      List<Skipped> skippedReleases) {
    public Bulk {
      requestIds = List.copyOf(requestIds);
      retracted = List.copyOf(retracted);
      releases = List.copyOf(releases);
      skippedReleases = List.copyOf(skippedReleases);
    }

    Bulk(
        boolean dryRun,
        List<Selected> releases,
        boolean more,
        List<Retracted> retracted,
        List<Skipped> skippedReleases) {
      this(
          dryRun,
          releases.stream().map(Selected::requestId).toList(),
          more,
          retracted,
          byRequest(skippedReleases),
          releases,
          skippedReleases);
    }

    private static Map<String, String> byRequest(List<Skipped> skippedReleases) {
      Map<String, String> skipped = new LinkedHashMap<>();
      for (Skipped one : skippedReleases) {
        skipped.putIfAbsent(one.requestId(), one.reason());
      }
      return Collections.unmodifiableMap(skipped);
    }
  }

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
    List<Selected> selected = new ArrayList<>();
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
          " and exists (select 1 from moderation_verdict v where v.verdict_id = g.verdict_id"
              + " and v.tenant_id = g.tenant_id");
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
      sql.append(" and v.tenant_id = s.tenant_id and v.output_id = s.output_id")
          .append(" and v.policy_sha256 = ?)");
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
          selected.add(new Selected(rs.getString(1), rs.getString(2)));
        }
      }
    }
    boolean more = selected.size() > MAX_BULK;
    int taken = Math.min(MAX_BULK, selected.size());
    // Each selected release is taken down as the tenant it names: two tenants may use one request
    // id, and the selection chose this tenant's release.
    List<Selected> releases = List.copyOf(selected.subList(0, taken));
    if (dryRun) {
      return new Bulk(true, releases, more, List.of(), List.of());
    }
    ObjectNode recorded =
        new Selection(
                tenant,
                selection.decidedFrom(),
                selection.decidedBefore(),
                selection.policySha256(),
                selection.includeReviewed())
            .json();
    return retractEach(releases, more, why, caller, recorded);
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
   * Takes down the released outputs of the requests named, each as {@link #retract} would, in its
   * own transaction, with the reason and how it was chosen in its action. A request not released,
   * retracted already or not visible to the caller is skipped, with why; so is one two tenants
   * released under when an admin of no tenant calls ({@link #retractReleases} names the tenant). A
   * dry run says which would come down.
   *
   * @param requestIds 1 to {@link #MAX_BULK} request ids; a repeated one counts once
   */
  public Bulk retractEach(List<String> requestIds, String reason, boolean dryRun, Caller caller)
      throws SQLException {
    String why = dryRun ? null : reason(reason);
    List<String> named = named(requestIds);
    return retractNamed(
        named.stream().map(id -> new Selected(id, caller.tenantId())).toList(),
        JsonNodeFactory.instance.objectNode().put("requestIds", named.size()),
        why,
        dryRun,
        caller);
  }

  /**
   * As {@link #retractEach(List, String, boolean, Caller)}, of releases each named with its tenant
   * (for example those a what-if run showed a corrected policy would hold: each item names its
   * tenant): of a request id two tenants released under, the named tenant's release comes down.
   *
   * @param releases 1 to {@link #MAX_BULK} releases, each a request id and a tenant; a repeated one
   *     counts once
   * @throws InvalidInputException when one names no tenant, or is malformed
   * @throws io.genguard.audit.security.ForbiddenException when a tenant's admin names another
   *     tenant
   */
  public Bulk retractReleases(List<Selected> releases, String reason, boolean dryRun, Caller caller)
      throws SQLException {
    String why = dryRun ? null : reason(reason);
    List<Selected> named = namedReleases(releases);
    for (Selected release : named) {
      caller.scope(release.tenantId());
    }
    return retractNamed(
        named,
        JsonNodeFactory.instance.objectNode().put("releases", named.size()),
        why,
        dryRun,
        caller);
  }

  /** The releases a call names, each taken down (or, on a dry run, checked) as its tenant. */
  private Bulk retractNamed(
      List<Selected> named, ObjectNode recorded, String why, boolean dryRun, Caller caller)
      throws SQLException {
    if (!dryRun) {
      // Each takedown checks its request under the chain lock and skips it with the same words a
      // dry run would; checking first as well would only ask every question twice.
      Bulk attempted = retractEach(named, false, why, caller, recorded);
      Set<Selected> skipped =
          attempted.skippedReleases().stream()
              .map(one -> new Selected(one.requestId(), one.tenantId()))
              .collect(Collectors.toSet());
      return new Bulk(
          false,
          attempted.releases().stream().filter(one -> !skipped.contains(one)).toList(),
          false,
          attempted.retracted(),
          attempted.skippedReleases());
    }
    List<Skipped> skipped = new ArrayList<>();
    List<Selected> releasable = new ArrayList<>();
    try (Connection connection = dataSource.getConnection()) {
      for (Selected release : named) {
        Optional<String> notNow =
            whyNot(connection, release.requestId(), release.tenantId(), caller);
        if (notNow.isPresent()) {
          skipped.add(new Skipped(release.requestId(), release.tenantId(), notNow.get()));
        } else {
          releasable.add(release);
        }
      }
    }
    return new Bulk(true, releasable, false, List.of(), skipped);
  }

  /**
   * Takes down each release, as the tenant it names (null: the only one), in its own transaction.
   * Package-private for the tests, which pass releases another call took down meanwhile.
   */
  Bulk retractEach(
      List<Selected> releases, boolean more, String why, Caller caller, ObjectNode selection)
      throws SQLException {
    // Every action of the call names it, so one query finds them all.
    selection.put("call", EventIds.random());
    List<Retracted> retracted = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    for (Selected release : releases) {
      try {
        retracted.add(retract(release.requestId(), release.tenantId(), why, caller, selection));
      } catch (ConflictException | NotFoundException e) {
        // another call took it down or erased it first
        skipped.add(new Skipped(release.requestId(), release.tenantId(), e.getMessage()));
      }
    }
    return new Bulk(false, releases, more, retracted, skipped);
  }

  /** The ids a call names, each once, in its order; refused when none, too many or malformed. */
  private static List<String> named(List<String> requestIds) {
    if (requestIds == null || requestIds.isEmpty() || requestIds.size() > MAX_BULK) {
      throw new InvalidInputException(
          "requestIds must name 1 to " + MAX_BULK + " requests, e.g. [\"req-1\", \"req-2\"]");
    }
    LinkedHashSet<String> once = new LinkedHashSet<>();
    for (String id : requestIds) {
      once.add(requestId("requestIds", id));
    }
    return List.copyOf(once);
  }

  /**
   * {@code id} if it can be a stored request id ({@link RequestIds}); refused, saying why, if not.
   */
  private static String requestId(String what, String id) {
    return RequestIds.require(what, id);
  }

  /**
   * The releases a call names, each once, in its order; refused when none, too many, malformed or
   * without a tenant.
   */
  private static List<Selected> namedReleases(List<Selected> releases) {
    if (releases == null || releases.isEmpty() || releases.size() > MAX_BULK) {
      throw new InvalidInputException(
          "releases must name 1 to "
              + MAX_BULK
              + " releases, e.g. [{\"requestId\": \"req-1\", \"tenantId\": \"acme\"}]");
    }
    LinkedHashSet<Selected> once = new LinkedHashSet<>();
    for (Selected release : releases) {
      if (release == null) {
        throw new InvalidInputException(
            "releases holds null: each names a request id and the tenant whose release comes"
                + " down, e.g. {\"requestId\": \"req-1\", \"tenantId\": \"acme\"}");
      }
      String requestId = requestId("releases", release.requestId());
      if (release.tenantId() == null) {
        throw new InvalidInputException(
            "releases names request '"
                + requestId
                + "' without a tenantId: each names the tenant whose release comes down, e.g."
                + " {\"requestId\": \"req-1\", \"tenantId\": \"acme\"} (requestIds names"
                + " request ids alone)");
      }
      once.add(
          new Selected(
              requestId, InvalidInputException.tenantOrNull("tenantId", release.tenantId())));
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
  private Released releasable(
      Connection connection, String requestId, String tenantId, Caller caller) throws SQLException {
    visible(connection, requestId, caller);
    List<OnRecord> releases = releases(connection, requestId, tenantId);
    if (tenantId == null && releases.size() > 1) {
      // Every tenant with a release on record counts, one retracted already or restated without
      // its outcome too: a takedown names the release a person chose, and "the only one left"
      // would take down another tenant's when the one meant is down already.
      List<String> tenants =
          releases.stream().map(release -> release.released().tenantId()).toList();
      // The tenants as a list too (the answer's "tenants", as the story's 409 has them), for a
      // caller of every tenant alone: a tenant's caller always names its own tenant here.
      throw new ConflictException(
          "Request "
              + requestId
              + " was released for more than one tenant ("
              + String.join(", ", tenants)
              + "), which use the same request id: name the tenant whose release comes down"
              + " ("
              + namingTheTenant
              + ")",
          caller.tenantId() == null ? tenants : List.of());
    }
    Optional<Released> found =
        releases.stream()
            .filter(OnRecord::takeable)
            .findFirst()
            .or(() -> releases.stream().filter(OnRecord::named).findFirst())
            .map(OnRecord::released);
    if (found.isEmpty()) {
      throw new ConflictException(
          releases.stream().anyMatch(release -> !release.named())
              ? "Request "
                  + requestId
                  + " was released, as the release gate restated, but the restatement names no"
                  + " released outcome (the gate decided it before it kept them), so no"
                  + " retraction can name what it takes down: take it down where it was published,"
                  + " by its request id"
              : nothingReleased(connection, requestId, tenantId, caller));
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

  /**
   * Why a request with no release the tenant could take down has nothing to take down. The story
   * ({@code GET /api/v1/requests/ID}, or how the caller reads it) is pointed to only where the
   * request id is one tenant's: of an id two tenants use, the story is one tenant's, so a tenant's
   * admin whose tenant it is not would be sent to a 404 (found by the forty-ninth session's
   * takedowns fix). A tenant's caller hears nothing of other tenants (whether another uses the
   * request id is not its to learn): its story is its own tenant's, so it is pointed to where its
   * tenant has records the story reads.
   */
  private String nothingReleased(
      Connection connection, String requestId, String tenantId, Caller caller) throws SQLException {
    String whose = tenantId == null ? "" : " for tenant " + tenantId;
    String message =
        "Request "
            + requestId
            + " has no released output on record"
            + whose
            + ", so there is nothing to take down (an outcome the gate wrote may not"
            + " have reached the audit store yet: ";
    if (caller.tenantId() != null) {
      // Its own records alone decide (those its story reads: not its actions' records).
      try (PreparedStatement select =
          connection.prepareStatement(
              "select exists (select 1 from audit_log where request_id = ? and tenant_id = ?"
                  + " and event_type <> '"
                  + ActionLog.EVENT_TYPE
                  + "')")) {
        select.setString(1, requestId);
        select.setString(2, caller.tenantId());
        try (ResultSet rs = select.executeQuery()) {
          rs.next();
          return message
              + (rs.getBoolean(1)
                  ? showingTheStory.apply(requestId) + " shows what it holds)"
                  : "try again in a moment)");
        }
      }
    }
    try (PreparedStatement select =
        connection.prepareStatement(
            "select count(distinct tenant_id) > 1 from audit_log where request_id = ?")) {
      select.setString(1, requestId);
      try (ResultSet rs = select.executeQuery()) {
        rs.next();
        if (rs.getBoolean(1)) {
          return message
              + "try again in a moment; "
              + (tenantId == null
                  ? "more than one tenant uses this request id)"
                  : "another tenant uses this request id too, and only tenant "
                      + tenantId
                      + "'s release is what this takedown takes down)");
        }
      }
    }
    return message + showingTheStory.apply(requestId) + " shows what it holds)";
  }

  /**
   * Whether the caller may act on the request: an admin of every tenant on any the chain holds
   * records of; a tenant's admin on one the chain holds records of its tenant under, also when
   * another tenant uses the same request id (its own release is what it takes down; the answers
   * name no other tenant's).
   *
   * @throws NotFoundException when the chain holds no record of the request the caller may see
   */
  private static void visible(Connection connection, String requestId, Caller caller)
      throws SQLException {
    if (caller.tenantId() == null) {
      RequestOwner.visibleTenant(connection, requestId, null);
      return;
    }
    try (PreparedStatement select =
        connection.prepareStatement(
            "select 1 from audit_log where request_id = ? and tenant_id = ? limit 1")) {
      select.setString(1, requestId);
      select.setString(2, caller.tenantId());
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next()) {
          throw new NotFoundException(
              "The audit chain holds no record of request '"
                  + requestId
                  + "' that this token may see");
        }
      }
    }
  }

  /** Why the request's output cannot be taken down now: {@link #retract}'s refusal, if any. */
  private Optional<String> whyNot(
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
   * The event id of the {@code ContentRetraction} that takes down the released outcome {@code
   * releasedEventId}: one per release, whoever takes it down, so an action can name it before the
   * notice is written.
   */
  public static String retractionEventId(String releasedEventId) {
    return EventIds.nameBased("retraction", releasedEventId);
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
            .setEventId(retractionEventId(released.eventId()))
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
    return releases(connection, requestId, tenantId).stream()
        .filter(OnRecord::named)
        .findFirst()
        .map(OnRecord::released);
  }

  /**
   * A tenant's release of a request as the query tables show it.
   *
   * @param released its outcome; a null event id when only a restatement that names none shows it
   * @param retracted whether a retraction of it is on record
   */
  private record OnRecord(Released released, boolean retracted) {
    /** Whether the release names its outcome, so a retraction can name what it takes down. */
    boolean named() {
      return released.eventId() != null;
    }

    /** Whether a takedown could take it down now. */
    boolean takeable() {
      return named() && !retracted;
    }
  }

  /**
   * Each tenant's release of the request on record, by tenant: its outcome's record, or else the
   * gate's restatement of it (one that names the outcome before one that does not), the earliest.
   *
   * @param tenantId only this tenant's; null for every tenant's
   */
  private static List<OnRecord> releases(Connection connection, String requestId, String tenantId)
      throws SQLException {
    List<OnRecord> releases = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select distinct on (tenant_id) event_id, tenant_id, output_id, exists (select 1 from"
                + " content_retraction r where r.released_event_id = released.event_id)"
                + " from (select event_id, tenant_id, output_id, decided_at, 0 as rank"
                + " from gate_outcome where request_id = ? and outcome = 'RELEASED'"
                + " union all select outcome_event_id, tenant_id, output_id, decided_at,"
                + " case when outcome_event_id is null then 2 else 1 end from gate_restatement"
                + " where request_id = ? and decision = 'RELEASED') released"
                + " where ?::text is null or tenant_id = ?::text"
                + " order by tenant_id, rank, decided_at")) {
      select.setString(1, requestId);
      select.setString(2, requestId);
      select.setString(3, tenantId);
      select.setString(4, tenantId);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          releases.add(
              new OnRecord(
                  new Released(rs.getString(1), requestId, rs.getString(2), rs.getString(3)),
                  rs.getBoolean(4)));
        }
      }
    }
    return releases;
  }

  /** The output id a retraction names when the audit store no longer knows the released output. */
  public static final String OUTPUT_UNKNOWN = "unknown";

  /**
   * As {@link #releasedNotRetracted}, of each tenant, and when the query rows are gone (retention
   * removed the request's content before), the {@code content.released} outcome the chain still
   * names: its record keeps its event id, request and tenant without its content, so the retraction
   * names the released outcome but not the output ({@value #OUTPUT_UNKNOWN}). For an erasure, which
   * retracts what was released whatever is left of it.
   *
   * @param tenantId the tenant whose release it is (the erasing tenant's); null for every tenant's
   *     (an admin's erasure, which removes every tenant's records under the request id)
   * @return the releases not retracted yet, by tenant: none, or one (of a tenant's erasure, or of
   *     the only tenant that released), or one per tenant that released under the request id
   */
  public static List<Released> releasedNotRetractedOnRecord(
      Connection connection, String requestId, String tenantId) throws SQLException {
    Map<String, Released> byTenant = new LinkedHashMap<>();
    for (OnRecord release : releases(connection, requestId, tenantId)) {
      if (release.named()) {
        byTenant.put(release.released().tenantId(), release.released());
      }
    }
    try (PreparedStatement select =
        connection.prepareStatement(
            "select distinct on (tenant_id) event_id, tenant_id from audit_log where request_id = ?"
                + " and event_type = 'ReleaseGateOutcome' and source_topic = ?"
                + " and (?::text is null or tenant_id = ?::text) order by tenant_id, seq")) {
      select.setString(1, requestId);
      select.setString(2, Topics.CONTENT_RELEASED.name());
      select.setString(3, tenantId);
      select.setString(4, tenantId);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          // Only a tenant whose release the query tables no longer show.
          byTenant.putIfAbsent(
              rs.getString(2),
              new Released(rs.getString(1), requestId, rs.getString(2), OUTPUT_UNKNOWN));
        }
      }
    }
    List<Released> notRetracted = new ArrayList<>();
    for (Released released : byTenant.values()) {
      if (find(connection, released.eventId()).isEmpty()) {
        notRetracted.add(released);
      }
    }
    return notRetracted;
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
