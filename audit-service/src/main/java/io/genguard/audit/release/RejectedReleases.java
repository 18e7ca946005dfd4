package io.genguard.audit.release;

import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.RetractionBasis;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes down what the release gate released after a person had rejected it. The gate decides an
 * output it held because no verdict came in time (basis VERDICT_TIMEOUT) on the verdict if one
 * still comes, so that outputs come out by themselves once the moderation job recovers; a
 * reviewer's REJECT sent meanwhile (still in the outbox or on {@code review.decisions}) then finds
 * the output released, and the gate ignores it. The audit writer calls {@link #takeDown} in the
 * transaction that records such a release, under the chain lock: the release is retracted as an
 * admin's takedown would be (a {@code requests.retract} action by {@value #CALLER} with {@link
 * #REASON}, a row of {@code content_retraction}, a {@code ContentRetraction} in the outbox for
 * {@code content.retractions}), and the review item reads RETRACTED rather than RELEASED.
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
   * before they close the review items.
   *
   * @param releasedRequestIds the requests the batch's RELEASED outcomes and restatements name
   * @return the retractions recorded (none for most batches)
   */
  public static List<Retractions.Retracted> takeDown(
      Connection connection, Collection<String> releasedRequestIds, Instant now)
      throws SQLException {
    if (releasedRequestIds.isEmpty()) {
      return List.of();
    }
    List<Rejected> rejected = rejected(connection, releasedRequestIds);
    if (rejected.isEmpty()) {
      return List.of();
    }
    Instant at = now.truncatedTo(ChronoUnit.MICROS);
    Caller caller = Caller.system(CALLER);
    List<Retractions.Retracted> retracted = new ArrayList<>();
    for (Rejected item : rejected) {
      Optional<Retractions.Released> released =
          Retractions.releasedNotRetracted(connection, item.requestId());
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
        continue;
      }
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
      String actionId = ActionLog.record(connection, caller, action, at);
      retracted.add(
          Retractions.record(connection, released.get(), RetractionBasis.TAKEDOWN, actionId, at));
      try (PreparedStatement update =
          connection.prepareStatement(
              "update review_item set state = 'RETRACTED' where request_id = ?")) {
        update.setString(1, item.requestId());
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
    }
    return List.copyOf(retracted);
  }

  /** A review item decided with REJECT and not closed yet. */
  private record Rejected(String requestId, String reviewId, String decidedBy) {}

  /** The items of the requests decided with REJECT and still open, locked, in request order. */
  private static List<Rejected> rejected(Connection connection, Collection<String> requestIds)
      throws SQLException {
    List<Rejected> found = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select request_id, review_id, decided_by from review_item where request_id = any(?)"
                + " and state = 'DECIDED' and action = 'REJECT' order by request_id for update")) {
      Array ids = connection.createArrayOf("text", requestIds.stream().distinct().toArray());
      select.setArray(1, ids);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          found.add(new Rejected(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
    }
    return found;
  }
}
