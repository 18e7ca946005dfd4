package io.genguard.audit.release;

import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.events.v1.ReviewDecision;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes down what the release gate released after a person had rejected it. The gate decides an
 * output it held because no verdict came in time (basis VERDICT_TIMEOUT) on the verdict if one
 * still comes, so that outputs come out by themselves once the moderation job recovers; a
 * reviewer's REJECT sent meanwhile (still in the outbox or on {@code review.decisions}) then finds
 * the output released, and the gate ignores it. The audit writer calls {@link #takeDown} in the
 * transaction that records such a release, and {@link #takeDownOnRejection} in the one that records
 * a REJECT read after the release, both under the chain lock: the release is retracted as an
 * admin's takedown would be (a {@code requests.retract} action by {@value #CALLER} with {@link
 * #REASON}, a row of {@code content_retraction}, a {@code ContentRetraction} in the outbox for
 * {@code content.retractions}), and the review item reads RETRACTED rather than RELEASED. A release
 * a person approved (the gate released it on a review, or an APPROVE of the request is on record)
 * stays: the rejection then only conflicts with an approval, and a WARN says so.
 */
public final class RejectedReleases {
  private static final Logger LOG = LoggerFactory.getLogger(RejectedReleases.class);

  /** The caller the takedown's action names. */
  public static final String CALLER = "rejected-release-takedown";

  /** Why the release comes down, in the takedown's action. */
  public static final String REASON =
      "A reviewer rejected it before the release gate released it on a late verdict";

  private RejectedReleases() {}

  /**
   * Retracts the release of each of the requests whose review item a person decided with REJECT and
   * that the gate released anyway, and marks the item RETRACTED. Call inside the writer's
   * transaction, under the chain lock, after the batch's outcomes and restatements are inserted and
   * its decisions applied, and before the outcomes close the review items.
   *
   * @param releases the requests the batch's RELEASED outcomes and restatements name, with the
   *     tenant each names: only a release of the item's own tenant takes it down
   * @return the retractions recorded (none for most batches)
   */
  public static List<Retractions.Retracted> takeDown(
      Connection connection, Collection<Release> releases, Instant now) throws SQLException {
    if (releases.isEmpty()) {
      return List.of();
    }
    List<Retractions.Retracted> retracted = new ArrayList<>();
    for (Rejected item : decidedRejected(connection, releases)) {
      retract(connection, item, now).ifPresent(retracted::add);
    }
    return List.copyOf(retracted);
  }

  /**
   * Retracts the release of each of the requests these REJECT decisions name whose review item the
   * gate had closed as RELEASED when the decision was read (it released the output on a late
   * verdict first), and marks the item RETRACTED, with the decision if it had none. Call inside the
   * writer's transaction, under the chain lock, after the batch's outcomes and restatements closed
   * the review items.
   *
   * @param rejections the batch's REJECT decisions
   * @return the retractions recorded (none for most batches)
   */
  public static List<Retractions.Retracted> takeDownOnRejection(
      Connection connection, List<ReviewDecision> rejections, Instant now) throws SQLException {
    if (rejections.isEmpty()) {
      return List.of();
    }
    // A rejection decides its own tenant's item: another tenant's under the same request id is not
    // it.
    Map<Release, ReviewDecision> byRequest = new LinkedHashMap<>();
    for (ReviewDecision rejection : rejections) {
      byRequest.putIfAbsent(
          new Release(rejection.getTenantId(), rejection.getRequestId()), rejection);
    }
    List<Retractions.Retracted> retracted = new ArrayList<>();
    for (Release release : releasedUnlessApproved(connection, byRequest.keySet())) {
      ReviewDecision rejection = byRequest.get(release);
      Rejected item =
          new Rejected(
              release.tenantId(),
              release.requestId(),
              rejection.getReviewId(),
              rejection.getReviewer());
      Optional<Retractions.Retracted> taken = retract(connection, item, now);
      if (taken.isPresent()) {
        recordOnItem(connection, rejection);
        retracted.add(taken.get());
      }
    }
    return List.copyOf(retracted);
  }

  /**
   * Retracts the request's release on the rejection, unless no released outcome is on record to
   * name or a person approved the release.
   */
  private static Optional<Retractions.Retracted> retract(
      Connection connection, Rejected item, Instant now) throws SQLException {
    Optional<Retractions.Released> released =
        Retractions.releasedNotRetracted(connection, item.requestId(), item.tenantId());
    if (released.isEmpty()) {
      // A restatement from a gate that named no outcome: no retraction can name what it takes
      // down, so the item closes as RELEASED and a person has to act.
      LOG.warn(
          "Request {} was released by the release gate although {} rejected it (review {}),"
              + " but no released outcome of it is on record to retract: take it down where it"
              + " was published",
          item.requestId(),
          item.decidedBy(),
          item.reviewId());
      return Optional.empty();
    }
    if (approved(connection, item.tenantId(), item.requestId(), released.get().eventId())) {
      LOG.warn(
          "Request {}: {} rejected it (review {}), but a person approved it too and the release"
              + " gate released output {} (outcome {}); left released: take it down"
              + " (requests.retract) if the rejection stands",
          item.requestId(),
          item.decidedBy(),
          item.reviewId(),
          released.get().outputId(),
          released.get().eventId());
      return Optional.empty();
    }
    Instant at = now.truncatedTo(ChronoUnit.MICROS);
    ActionLog.Action action =
        ActionLog.Action.of(
            "requests.retract",
            released.get().tenantId(),
            item.requestId(),
            released.get().outputId());
    action
        .details()
        .put("reason", REASON)
        .put("outputId", released.get().outputId())
        .put("releasedEventId", released.get().eventId())
        .put("reviewId", item.reviewId())
        .put("rejectedBy", item.decidedBy());
    String actionId = ActionLog.record(connection, Caller.system(CALLER), action, at);
    Retractions.Retracted retracted =
        Retractions.record(connection, released.get(), RetractionBasis.TAKEDOWN, actionId, at);
    try (PreparedStatement update =
        connection.prepareStatement(
            "update review_item set state = 'RETRACTED' where request_id = ? and tenant_id = ?")) {
      update.setString(1, item.requestId());
      update.setString(2, item.tenantId());
      update.executeUpdate();
    }
    LOG.warn(
        "Request {}: the release gate released output {} (outcome {}) although {} rejected it"
            + " (review {}), on a verdict that came after the output was held; taken down"
            + " (action {}, a ContentRetraction on content.retractions)",
        item.requestId(),
        released.get().outputId(),
        released.get().eventId(),
        item.decidedBy(),
        item.reviewId(),
        actionId);
    return Optional.of(retracted);
  }

  /** A release the gate made of a tenant's request, as an outcome or restatement names it. */
  public record Release(String tenantId, String requestId) {}

  /** A review item decided with REJECT. */
  private record Rejected(String tenantId, String requestId, String reviewId, String decidedBy) {}

  /**
   * The items of the released requests decided with REJECT and still open, of the tenant the
   * release names (another tenant's release under the same request id leaves the item alone),
   * locked, in request order.
   */
  private static List<Rejected> decidedRejected(Connection connection, Collection<Release> releases)
      throws SQLException {
    List<Rejected> found = new ArrayList<>();
    List<Release> distinct = releases.stream().distinct().toList();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select r.tenant_id, r.request_id, r.review_id, r.decided_by from review_item r"
                + " join unnest(?::text[], ?::text[]) f (request_id, tenant_id)"
                + " on r.request_id = f.request_id and r.tenant_id = f.tenant_id"
                + " where r.state = 'DECIDED' and r.action = 'REJECT'"
                + " order by r.request_id for update of r")) {
      select.setArray(
          1, connection.createArrayOf("text", distinct.stream().map(Release::requestId).toArray()));
      select.setArray(
          2, connection.createArrayOf("text", distinct.stream().map(Release::tenantId).toArray()));
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          found.add(
              new Rejected(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        }
      }
    }
    return found;
  }

  /**
   * Of these requests of a tenant, those whose review item (of that tenant) the gate closed as
   * RELEASED without a person's approval on the item, locked, in request order.
   */
  private static List<Release> releasedUnlessApproved(
      Connection connection, Collection<Release> requests) throws SQLException {
    List<Release> found = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select r.tenant_id, r.request_id from review_item r"
                + " join unnest(?::text[], ?::text[]) f (request_id, tenant_id)"
                + " on r.request_id = f.request_id and r.tenant_id = f.tenant_id"
                + " where r.state = 'RELEASED' and (r.action is null or r.action = 'REJECT')"
                + " order by r.request_id for update of r")) {
      select.setArray(
          1, connection.createArrayOf("text", requests.stream().map(Release::requestId).toArray()));
      select.setArray(
          2, connection.createArrayOf("text", requests.stream().map(Release::tenantId).toArray()));
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          found.add(new Release(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return found;
  }

  /**
   * Whether a person approved the tenant's request: the release rests on a review (the gate
   * releases on a review only on an approval), or an APPROVE of it is on record.
   */
  private static boolean approved(
      Connection connection, String tenantId, String requestId, String releasedEventId)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select exists (select 1 from review_decision where request_id = ? and tenant_id = ?"
                + " and action = 'APPROVE') or exists (select 1 from gate_outcome where event_id = ? and basis"
                + " = 'REVIEW') or exists (select 1 from gate_restatement where outcome_event_id"
                + " = ? and outcome_basis = 'REVIEW')")) {
      select.setString(1, requestId);
      select.setString(2, tenantId);
      select.setString(3, releasedEventId);
      select.setString(4, releasedEventId);
      try (ResultSet rs = select.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /**
   * Marks the item decided with the rejection if it had no decision (the gate had closed it before
   * the decision was read), without the review id if another item holds it (review_item.review_id
   * is unique; another tenant's item under the same request id is another item).
   */
  private static void recordOnItem(Connection connection, ReviewDecision rejection)
      throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "update review_item set action = 'REJECT', review_id = case when exists (select 1"
                + " from review_item other where other.review_id = ?"
                + " and (other.request_id, other.tenant_id) <> (?, ?))"
                + " then null else ? end, decided_by = ?, note = ?, decided_at = ?"
                + " where request_id = ? and tenant_id = ? and action is null")) {
      update.setString(1, rejection.getReviewId());
      update.setString(2, rejection.getRequestId());
      update.setString(3, rejection.getTenantId());
      update.setString(4, rejection.getReviewId());
      update.setString(5, rejection.getReviewer());
      update.setString(6, rejection.getNote());
      update.setObject(7, AuditWriter.time(rejection.getDecidedAt()));
      update.setString(8, rejection.getRequestId());
      update.setString(9, rejection.getTenantId());
      update.executeUpdate();
    }
  }
}
