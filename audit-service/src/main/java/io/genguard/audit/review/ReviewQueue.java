package io.genguard.audit.review;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.query.JsonRows;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The review queue: outputs the release gate held for review, oldest first. A reviewer may claim an
 * item (others then cannot decide it until the claim expires; a claim belongs to the token that
 * made it, its {@code claimedTokenId}, not to the name the token was issued to, which two tokens
 * may share), and approves or rejects it with a note, naming the verdict the item showed (its
 * {@code verdictId}, empty when it had none): a decision made on another verdict than the item
 * holds now (a late verdict reached the output since the reviewer read it) is refused, so nobody
 * approves in view of reasons they never saw. A decision is one transaction: the item is marked
 * DECIDED, the ReviewDecision goes into the outbox for review.decisions, and the action is appended
 * to the audit chain with the reviewer. The release gate is asked to release or quarantine the
 * output, and its outcome closes the item as RELEASED or QUARANTINED when it is ingested. A verdict
 * that reaches the gate before the decision decides instead (an output held because no verdict came
 * in time): a late BLOCK quarantines what a person approved, and a late RELEASE of what a person
 * rejected is taken down when its outcome is ingested, which closes the item as RETRACTED ({@link
 * io.genguard.audit.release.RejectedReleases}).
 */
public final class ReviewQueue {
  private static final Logger LOG = LoggerFactory.getLogger(ReviewQueue.class);
  public static final int MAX_NOTE = 2000;
  public static final int MAX_PAGE = 200;
  public static final Set<String> STATES =
      Set.of("PENDING", "DECIDED", "RELEASED", "QUARANTINED", "RETRACTED");

  /** How many characters of the output an item shows ({@code excerpt}). */
  public static final int EXCERPT_CHARACTERS = 280;

  // The excerpt is only the start of the output, which whoever wrote the prompt controls: an item
  // also says how long the whole text is (textLength, characters as PostgreSQL counts them, like
  // the excerpt), so a reader can tell what the excerpt leaves out, and on what its hold rests
  // (holdBasis: VERDICT_TIMEOUT when no verdict came in time and the item has none). Its verdictId
  // ('' none) is what a decision sends back, so that one made before a late verdict reached the
  // item is refused (lateVerdictId: a verdict that reached a decided item, which keeps the one it
  // was decided on).
  private static final String ITEM =
      "select r.request_id, r.output_id, r.tenant_id, r.state, r.held_at, r.verdict_id,"
          + " r.late_verdict_id,"
          + " r.claimed_by, r.claimed_token_id, r.claim_expires_at, r.review_id, r.action, r.note, r.decided_by, r.decided_at,"
          + " v.decision, v.unsafe_score, v.category_scores, v.reasons, v.groups, v.policy_id, v.policy_version,"
          + " g.basis as hold_basis,"
          + " left(o.text, "
          + EXCERPT_CHARACTERS
          + ") as excerpt, char_length(o.text) as text_length"
          + " from review_item r"
          // Each join also by the tenant: under a request id two tenants share, the pipeline
          // gives both outputs one output id (and one verdict id under one policy version).
          + " left join moderation_verdict v on v.verdict_id = r.verdict_id"
          + " and v.tenant_id = r.tenant_id"
          + " left join gate_outcome g on g.event_id = r.gate_event_id"
          + " and g.tenant_id = r.tenant_id"
          + " left join generation_output o on o.output_id = r.output_id"
          + " and o.tenant_id = r.tenant_id";

  private final DataSource dataSource;
  private final ReviewOutbox outbox;
  private final Clock clock;
  private final Duration claimDuration;
  private final Duration expiry;
  private final ReadTimeout readTimeout;
  private final AtomicLong expired = new AtomicLong();

  public ReviewQueue(
      DataSource dataSource, ReviewOutbox outbox, Clock clock, Duration claimDuration) {
    this(dataSource, outbox, clock, claimDuration, Duration.ZERO, ReadTimeout.DEFAULT);
  }

  /**
   * @param expiry how long a held item may wait for a decision before {@link #expire} rejects it;
   *     zero = no deadline
   * @param readTimeout how long the query of a page of the queue, or of one item, may run ({@link
   *     QueryTimedOutException} beyond it)
   */
  public ReviewQueue(
      DataSource dataSource,
      ReviewOutbox outbox,
      Clock clock,
      Duration claimDuration,
      Duration expiry,
      ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.readTimeout = readTimeout;
    this.outbox = outbox;
    this.clock = clock;
    this.claimDuration = claimDuration;
    this.expiry = expiry;
  }

  /** One page of the queue and the cursor of the next (null on the last page). */
  public record Page(ArrayNode items, String nextCursor) {}

  /** What a decision did. */
  public record Decided(
      String reviewId,
      String requestId,
      String outputId,
      String tenantId,
      ReviewAction action,
      String reviewer,
      Instant decidedAt) {}

  /**
   * Items in {@code state} that the caller may see (restricted to {@code tenant} if not null),
   * within the read timeout.
   *
   * @throws QueryTimedOutException when the page's query ran longer
   */
  public Page list(String state, String tenant, Cursor after, int limit) throws SQLException {
    if (!STATES.contains(state)) {
      throw new InvalidInputException(
          "state '" + state + "' is not one of " + STATES.stream().sorted().toList());
    }
    if (limit < 1 || limit > MAX_PAGE) {
      throw new InvalidInputException("limit must be between 1 and " + MAX_PAGE + ", was " + limit);
    }
    StringBuilder sql = new StringBuilder(ITEM).append(" where r.state = ?");
    if (tenant != null) {
      sql.append(" and r.tenant_id = ?");
    }
    // Two tenants may hold an item under one request id, at one time: the tenant breaks the tie, so
    // that a page boundary between them loses neither. A cursor from before the tenant was added
    // goes on after every item of its time and request id, as it did.
    if (after != null && after.tenant() != null) {
      sql.append(" and (r.held_at, r.request_id, r.tenant_id) > (?, ?, ?)");
    } else if (after != null) {
      sql.append(" and (r.held_at, r.request_id) > (?, ?)");
    }
    sql.append(" order by r.held_at, r.request_id, r.tenant_id limit ?");
    return readTimeout.read(
        dataSource,
        connection -> {
          ArrayNode items = JsonNodeFactory.instance.arrayNode();
          String next = null;
          try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
            int parameter = 1;
            statement.setString(parameter++, state);
            if (tenant != null) {
              statement.setString(parameter++, tenant);
            }
            if (after != null) {
              statement.setObject(parameter++, after.timeColumn());
              statement.setString(parameter++, after.id());
              if (after.tenant() != null) {
                statement.setString(parameter++, after.tenant());
              }
            }
            statement.setInt(parameter, limit + 1);
            try (ResultSet rs = statement.executeQuery()) {
              while (rs.next()) {
                if (items.size() == limit) {
                  ObjectNode last = (ObjectNode) items.get(limit - 1);
                  next =
                      new Cursor(
                              Instant.parse(last.get("heldAt").asText()),
                              last.get("requestId").asText(),
                              last.get("tenantId").asText())
                          .encode();
                  break;
                }
                items.add(withDeadline(JsonRows.row(rs)));
              }
            }
          }
          return new Page(items, next);
        });
  }

  /**
   * The queue item of a request, if the caller may see it; within the read timeout.
   *
   * @throws QueryTimedOutException when it ran longer
   */
  public ObjectNode get(String requestId, Caller caller) throws SQLException {
    return get(requestId, null, caller);
  }

  /**
   * The queue item of a request of {@code tenant} (null: the caller's own; for a caller of no
   * tenant, the only tenant that holds an item under the request id), if the caller may see it;
   * within the read timeout.
   *
   * @throws ConflictException when a caller of no tenant named none and several tenants hold an
   *     item under the request id
   * @throws QueryTimedOutException when it ran longer
   */
  public ObjectNode get(String requestId, String tenant, Caller caller) throws SQLException {
    return readTimeout.read(
        dataSource,
        connection -> {
          String itemTenant = itemTenant(connection, requestId, tenant, caller);
          try (PreparedStatement statement =
              connection.prepareStatement(ITEM + " where r.request_id = ? and r.tenant_id = ?")) {
            statement.setString(1, requestId);
            statement.setString(2, itemTenant);
            try (ResultSet rs = statement.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString("tenant_id"))) {
                throw notFound(requestId);
              }
              return withDeadline(JsonRows.row(rs));
            }
          }
        });
  }

  /**
   * Adds {@code expiresAt} to a PENDING item when held items have a deadline: when {@link #expire}
   * will reject it if no one decides it first (later if a reviewer's claim runs past it).
   */
  private ObjectNode withDeadline(ObjectNode item) {
    if (!expiry.isZero() && "PENDING".equals(item.path("state").asText())) {
      item.put("expiresAt", Instant.parse(item.path("heldAt").asText()).plus(expiry).toString());
    }
    return item;
  }

  /** Claims an item for the caller for the claim duration (renews the caller's own claim). */
  public ObjectNode claim(String requestId, Caller caller) throws SQLException {
    return claim(requestId, null, caller);
  }

  /**
   * Claims the item of a request of {@code tenant} (null: as {@link #get(String, String, Caller)}
   * finds it) for the caller for the claim duration (renews the caller's own claim).
   */
  public ObjectNode claim(String requestId, String tenant, Caller caller) throws SQLException {
    Instant now = now();
    Instant until = now.plus(claimDuration);
    Locked claimed =
        Transactions.inTransaction(
            dataSource,
            connection -> {
              Locked item = lockChainThenOpen(connection, requestId, tenant, caller, now);
              try (PreparedStatement update =
                  connection.prepareStatement(
                      "update review_item set claimed_by = ?, claimed_token_id = ?, claimed_at = ?,"
                          + " claim_expires_at = ? where request_id = ? and tenant_id = ?")) {
                update.setString(1, caller.name());
                update.setString(2, claimant(caller));
                update.setObject(3, utc(now));
                update.setObject(4, utc(until));
                update.setString(5, requestId);
                update.setString(6, item.tenantId());
                update.executeUpdate();
              }
              ActionLog.Action action =
                  ActionLog.Action.of("review.claim", item.tenantId(), requestId, requestId);
              action.details().put("claimExpiresAt", until.toString());
              ActionLog.record(connection, caller, action, now);
              return item;
            });
    return get(requestId, claimed.tenantId(), caller);
  }

  /** Gives up the caller's claim on an item. */
  public ObjectNode unclaim(String requestId, Caller caller) throws SQLException {
    return unclaim(requestId, null, caller);
  }

  /** Gives up the caller's claim on the item of a request of {@code tenant} (null: as in get). */
  public ObjectNode unclaim(String requestId, String tenant, Caller caller) throws SQLException {
    Instant now = now();
    Locked unclaimed =
        Transactions.inTransaction(
            dataSource,
            connection -> {
              Locked item = lockChainThenOpen(connection, requestId, tenant, caller, now);
              if (item.claimant() == null || item.claimExpired()) {
                throw new ConflictException(
                    "Request " + requestId + " is not claimed; nothing to give up");
              }
              try (PreparedStatement update =
                  connection.prepareStatement(
                      "update review_item set claimed_by = null, claimed_token_id = null,"
                          + " claimed_at = null, claim_expires_at = null"
                          + " where request_id = ? and tenant_id = ?")) {
                update.setString(1, requestId);
                update.setString(2, item.tenantId());
                update.executeUpdate();
              }
              ActionLog.record(
                  connection,
                  caller,
                  ActionLog.Action.of("review.unclaim", item.tenantId(), requestId, requestId),
                  now);
              return item;
            });
    return get(requestId, unclaimed.tenantId(), caller);
  }

  /** As below, naming no verdict read (the expiry's rejections; a client that names none). */
  public Decided decide(String requestId, ReviewAction action, String note, Caller caller)
      throws SQLException {
    return decide(requestId, null, action, note, null, caller);
  }

  /** As below, for the item of the caller's own tenant (or the only tenant's, for an admin). */
  public Decided decide(
      String requestId, ReviewAction action, String note, String readVerdictId, Caller caller)
      throws SQLException {
    return decide(requestId, null, action, note, readVerdictId, caller);
  }

  /**
   * Approves or rejects a held output. Allowed when the item is PENDING and not claimed by someone
   * else (an unclaimed item is claimed and decided in one step: one-click review).
   *
   * <p>{@code readVerdictId} is the item's {@code verdictId} as the caller read it ('' when it had
   * none). When it is given and the item holds another verdict now, the decision is refused (409):
   * a verdict reached the output since. An approval must give it when the output was ever held
   * because no verdict came in time (a late verdict may reach it at any time); otherwise it may be
   * left out (null), as by clients from before it existed. The decision sent to the gate names the
   * verdict the item holds, and the gate does not release on an approval made on another.
   *
   * <p>{@code tenant} names the tenant whose item it is (two tenants may use one request id); null:
   * the caller's own, or for a caller of no tenant the only tenant that holds an item under the
   * request id (409 when several do).
   */
  public Decided decide(
      String requestId,
      String tenant,
      ReviewAction action,
      String note,
      String readVerdictId,
      Caller caller)
      throws SQLException {
    String cleanNote = note(note);
    Instant now = now().truncatedTo(ChronoUnit.MILLIS); // the event keeps milliseconds
    Decided decided =
        Transactions.inTransaction(
            dataSource,
            connection -> {
              Locked item = lockChainThenOpen(connection, requestId, tenant, caller, now);
              requireReadVerdict(requestId, action, readVerdictId, item);
              String reviewId = EventIds.random();
              ReviewDecision decision =
                  ReviewDecision.newBuilder()
                      .setEventId(EventIds.nameBased("review-decision", reviewId))
                      .setReviewId(reviewId)
                      .setRequestId(requestId)
                      .setOutputId(item.outputId())
                      .setTenantId(item.tenantId())
                      .setAction(action)
                      .setReviewer(caller.name())
                      .setNote(cleanNote)
                      .setDecidedAt(now)
                      .setVerdictId(item.verdictId())
                      .build();
              try (PreparedStatement update =
                  connection.prepareStatement(
                      "update review_item set state = 'DECIDED', review_id = ?, action = ?,"
                          + " note = ?, decided_by = ?, decided_at = ?"
                          + " where request_id = ? and tenant_id = ?")) {
                update.setString(1, reviewId);
                update.setString(2, action.name());
                update.setString(3, cleanNote);
                update.setString(4, caller.describe());
                update.setObject(5, utc(now));
                update.setString(6, requestId);
                update.setString(7, item.tenantId());
                update.executeUpdate();
              }
              ReviewOutbox.enqueue(
                  connection, reviewId, requestId, Topics.REVIEW_DECISIONS, decision, now);
              ActionLog.Action audit =
                  ActionLog.Action.of(
                      "review." + action.name().toLowerCase(Locale.ROOT),
                      item.tenantId(),
                      requestId,
                      reviewId);
              // What the decision was made on: the verdict ('' none), the hold's basis and the
              // verdict's policy version ('' none).
              audit
                  .details()
                  .put("outputId", item.outputId())
                  .put("note", cleanNote)
                  .put("verdictId", item.verdictId())
                  .put("holdBasis", item.holdBasis())
                  .put("policyVersion", item.policyVersion());
              ActionLog.record(connection, caller, audit, now);
              return new Decided(
                  reviewId,
                  requestId,
                  item.outputId(),
                  item.tenantId(),
                  action,
                  caller.name(),
                  now);
            });
    outbox.nudge();
    return decided;
  }

  /** Who rejects the items that waited too long (the reviewer of their decisions). */
  public static final String EXPIRY_REVIEWER = "review-expiry";

  /**
   * Rejects the PENDING items held longer ago than the expiry (oldest first, at most {@code
   * limit}), as a reviewer named {@value #EXPIRY_REVIEWER} would: the gate quarantines them, so
   * nothing is released without a person's review. An item under a reviewer's live claim is left to
   * that reviewer until the claim lapses; one decided meanwhile (another replica's sweep, a
   * reviewer) is skipped. An item that cannot be rejected (a deadlock, a lock timeout) is logged
   * and left to the next sweep, and the others are still rejected; only a lost database connection
   * ends the sweep. Each rejection counts in {@link #expired} as it is made.
   *
   * @return the decisions made (none without an expiry)
   */
  public List<Decided> expire(int limit) throws SQLException {
    if (expiry.isZero()) {
      return List.of();
    }
    Instant now = now();
    List<String[]> due = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select =
            connection.prepareStatement(
                "select request_id, tenant_id from review_item where state = 'PENDING'"
                    + " and held_at < ? and (claim_expires_at is null or claim_expires_at <= ?)"
                    + " order by held_at, request_id, tenant_id limit ?")) {
      select.setObject(1, utc(now.minus(expiry)));
      select.setObject(2, utc(now));
      select.setInt(3, limit);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          due.add(new String[] {rows.getString(1), rows.getString(2)});
        }
      }
    }
    String note =
        "Not reviewed within "
            + expiry.toHours()
            + " hours of being held (GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS); rejected unreviewed, so"
            + " it is never released";
    List<Decided> decided = new ArrayList<>();
    for (String[] item : due) {
      String requestId = item[0];
      try {
        decided.add(
            decide(
                requestId,
                item[1],
                ReviewAction.REJECT,
                note,
                null,
                Caller.system(EXPIRY_REVIEWER)));
        // Counted as it is made: a later item's failure does not hide it from the metric.
        expired.incrementAndGet();
      } catch (ConflictException | NotFoundException e) {
        // Decided or claimed since the select: not this sweep's to decide.
      } catch (SQLException | RuntimeException e) {
        if (e instanceof SQLException sql && connectionLost(sql)) {
          // Every further item would wait for a connection in vain: the next sweep goes on.
          LOG.warn(
              "Expiring overdue reviews stopped after {} rejection(s): no database connection",
              decided.size());
          throw sql;
        }
        LOG.warn(
            "Could not reject overdue review item {} (the next sweep tries again): {}",
            requestId,
            e.toString());
      }
    }
    return decided;
  }

  /** Whether the failure is the connection's rather than one item's. */
  private static boolean connectionLost(SQLException e) {
    return e instanceof SQLTransientConnectionException
        || (e.getSQLState() != null && e.getSQLState().startsWith("08"));
  }

  /** How long a held item may wait for a decision (zero: no deadline). */
  public Duration expiry() {
    return expiry;
  }

  /** Items rejected by {@link #expire} since the start. */
  public long expired() {
    return expired.get();
  }

  /**
   * A PENDING item, locked: its verdict ('' none), the basis of its hold and the verdict's policy
   * version ('' none), and whether the gate ever held its output for want of a verdict.
   */
  private record Locked(
      String outputId,
      String tenantId,
      String claimant,
      String claimedBy,
      boolean claimExpired,
      String verdictId,
      String holdBasis,
      String policyVersion,
      boolean heldWithoutVerdict) {}

  /**
   * Refuses a decision made on another verdict than the item holds, and an approval that does not
   * say what it was made on where a verdict may have come since it was read.
   */
  private static void requireReadVerdict(
      String requestId, ReviewAction action, String readVerdictId, Locked item) {
    if (readVerdictId == null) {
      if (action == ReviewAction.APPROVE && item.heldWithoutVerdict()) {
        throw new InvalidInputException(
            "Approving request "
                + requestId
                + " needs the verdictId its review item showed (\"\" when it showed none): the"
                + " gate held it because no verdict came in time, and a verdict may have reached it"
                + " since; read GET /api/v1/reviews/"
                + requestId
                + " and send its verdictId with the decision");
      }
      return;
    }
    if (!readVerdictId.equals(item.verdictId())) {
      throw new ConflictException(
          "A verdict reached this output since you opened it: reload. Request "
              + requestId
              + " was read "
              + (readVerdictId.isEmpty() ? "with no verdict" : "with verdict " + readVerdictId)
              + " and is now held on "
              + (item.verdictId().isEmpty() ? "no verdict" : "verdict " + item.verdictId())
              + (item.holdBasis() == null ? "" : " (" + item.holdBasis() + ")")
              + "; read it again (GET /api/v1/reviews/"
              + requestId
              + ") and decide under what it holds now");
    }
  }

  /**
   * Takes the chain lock, then locks the item ({@link #lockOpen}). Every writer that appends to the
   * chain and changes review items takes the locks in this order (the ingestor's writer, an
   * erasure, a retention run): a call that locked the item first and then waited for the chain, for
   * its action record, would deadlock with a writer that holds the chain and waits for the item.
   * The call needs the chain before it can commit anyway.
   */
  private Locked lockChainThenOpen(
      Connection connection, String requestId, String tenant, Caller caller, Instant now)
      throws SQLException {
    ChainAppender.lock(connection);
    return lockOpen(
        connection, requestId, itemTenant(connection, requestId, tenant, caller), caller, now);
  }

  /**
   * The tenant whose item under the request id a call acts on: the one named ({@code tenant}), else
   * the caller's own, else (a caller of no tenant) the only tenant that holds an item under it. Two
   * tenants may use one request id, and each has its own item.
   *
   * @throws io.genguard.audit.security.ForbiddenException when a caller of a tenant names another
   * @throws NotFoundException when no tenant holds an item under the request id
   * @throws ConflictException when the caller named none and several tenants hold one
   */
  private static String itemTenant(
      Connection connection, String requestId, String tenant, Caller caller) throws SQLException {
    String scoped = caller.scope(tenant);
    if (scoped != null) {
      return scoped;
    }
    List<String> tenants = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select tenant_id from review_item where request_id = ? order by tenant_id")) {
      select.setString(1, requestId);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          tenants.add(rs.getString(1));
        }
      }
    }
    if (tenants.isEmpty()) {
      throw notFound(requestId);
    }
    if (tenants.size() > 1) {
      throw new ConflictException(
          "Request "
              + requestId
              + " has a review item of more than one tenant ("
              + String.join(", ", tenants)
              + "), which use the same request id: name the tenant whose item it is (the"
              + " \"tenant\" query parameter)",
          // As a list too (the answer's "tenants"), as the story's 409 has them: a caller of
          // every tenant alone gets here (a tenant's caller acts on its own tenant's item).
          caller.tenantId() == null ? tenants : List.of());
    }
    return tenants.get(0);
  }

  /** Locks a PENDING item of the tenant that the caller may see and act on, or throws. */
  private Locked lockOpen(
      Connection connection, String requestId, String tenant, Caller caller, Instant now)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select r.output_id, r.tenant_id, r.state, r.claimed_by, r.claimed_token_id,"
                + " r.claim_expires_at, r.decided_by, r.action, r.verdict_id, g.basis as hold_basis,"
                + " coalesce(v.policy_version, '') as policy_version, exists (select 1 from"
                + " gate_outcome t where t.request_id = r.request_id and t.tenant_id = r.tenant_id"
                + " and t.outcome = 'HELD_FOR_REVIEW'"
                + " and t.basis = 'VERDICT_TIMEOUT') as held_without_verdict"
                + " from review_item r left join gate_outcome g on g.event_id = r.gate_event_id"
                + " and g.tenant_id = r.tenant_id"
                + " left join moderation_verdict v on v.verdict_id = r.verdict_id"
                + " and v.tenant_id = r.tenant_id"
                + " where r.request_id = ? and r.tenant_id = ? for update of r")) {
      select.setString(1, requestId);
      select.setString(2, tenant);
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next() || !caller.canSee(rs.getString("tenant_id"))) {
          throw notFound(requestId);
        }
        String state = rs.getString("state");
        if (!state.equals("PENDING") && rs.getString("action") == null) {
          throw new ConflictException(
              "Request "
                  + requestId
                  + " is no longer held for review (the release gate decided it; now "
                  + state
                  + "); reload the queue");
        }
        if (!state.equals("PENDING")) {
          throw new ConflictException(
              "Request "
                  + requestId
                  + " was already reviewed ("
                  + rs.getString("action")
                  + " by "
                  + rs.getString("decided_by")
                  + "; now "
                  + state
                  + "); reload the queue");
        }
        OffsetDateTime expires = rs.getObject("claim_expires_at", OffsetDateTime.class);
        boolean expired = expires == null || !expires.toInstant().isAfter(now);
        String claimant = rs.getString("claimed_token_id");
        if (claimant != null && !expired && !claimant.equals(claimant(caller))) {
          throw new ConflictException(
              "Request "
                  + requestId
                  + " is claimed by "
                  + rs.getString("claimed_by")
                  + " (token "
                  + claimant
                  + ") until "
                  + expires.toInstant()
                  + "; pick another item or wait for the claim to expire");
        }
        return new Locked(
            rs.getString("output_id"),
            rs.getString("tenant_id"),
            claimant,
            rs.getString("claimed_by"),
            expired,
            rs.getString("verdict_id"),
            rs.getString("hold_basis"),
            rs.getString("policy_version"),
            rs.getBoolean("held_without_verdict"));
      }
    }
  }

  private static String note(String note) {
    if (note == null) {
      return "";
    }
    String trimmed = note.strip();
    if (trimmed.length() > MAX_NOTE) {
      throw new InvalidInputException(
          "note has " + trimmed.length() + " characters; the limit is " + MAX_NOTE);
    }
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      if (Character.isISOControl(c) && c != '\n' && c != '\t') {
        throw new InvalidInputException(
            "note contains a control character (code "
                + (int) c
                + "); send plain text (new lines and tabs are fine)");
      }
    }
    return trimmed;
  }

  private static String claimant(Caller caller) {
    return caller.tokenId() != null ? caller.tokenId() : "system:" + caller.name();
  }

  private static NotFoundException notFound(String requestId) {
    return new NotFoundException(
        "No review item for request '"
            + requestId
            + "' that this token may see;"
            + " list the queue with GET /api/v1/reviews");
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private static OffsetDateTime utc(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
