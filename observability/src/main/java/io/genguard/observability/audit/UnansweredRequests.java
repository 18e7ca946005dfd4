package io.genguard.observability.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generation requests the audit store holds without an output or a failure: the pipeline's first
 * promise (every request gets exactly one answer) watched in production. Followed in memory from
 * the collector's first round on, from the audit log's records in seq order: a request waits until
 * its output or failure is recorded (one recorded first, by another ingestor, counts too). A
 * request still waiting after {@link #AFTER} is unanswered: lost before the generator read it (its
 * topic's retention ran out), or a generator that stopped serving its partition. Requests recorded
 * before the collector started are not followed; at most {@link #MOST} are followed at once.
 */
final class UnansweredRequests {
  /** How long a request may wait for its answer before it counts: the gate's verdict timeout. */
  static final Duration AFTER = Duration.ofMinutes(15);

  /** Most requests followed at once; beyond, new ones are not followed (and counted). */
  static final int MOST = 100_000;

  static final String SQL =
      "select event_type, request_id, recorded_at from audit_log where seq > ? and seq <= ?"
          + " and request_id is not null"
          + " and event_type in ('GenerationRequest', 'GenerationOutput', 'GenerationFailure')"
          + " order by seq";

  /** One record of a request's flow: the request itself, or its answer. */
  record Flow(boolean request, String requestId, Instant recordedAt) {}

  private final Map<String, Instant> waiting = new LinkedHashMap<>();
  private final Map<String, Boolean> answeredFirst =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > MOST;
        }
      };
  private long unfollowed;

  static List<Flow> read(Connection connection, long from, long to) throws SQLException {
    List<Flow> flows = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(SQL)) {
      statement.setLong(1, from);
      statement.setLong(2, to);
      statement.setFetchSize(5_000);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          flows.add(
              new Flow(
                  rows.getString(1).equals("GenerationRequest"),
                  rows.getString(2),
                  rows.getObject(3, OffsetDateTime.class).toInstant()));
        }
      }
    }
    return flows;
  }

  void apply(List<Flow> flows) {
    for (Flow flow : flows) {
      if (!flow.request()) {
        if (waiting.remove(flow.requestId()) == null) {
          answeredFirst.put(flow.requestId(), Boolean.TRUE);
        }
      } else if (answeredFirst.remove(flow.requestId()) == null
          && !waiting.containsKey(flow.requestId())) {
        if (waiting.size() < MOST) {
          waiting.put(flow.requestId(), flow.recordedAt());
        } else {
          unfollowed++;
        }
      }
    }
  }

  /** Requests waiting longer than {@link #AFTER} at {@code now}, and the oldest one's wait. */
  long[] unanswered(Instant now) {
    Instant before = now.minus(AFTER);
    long count = 0;
    long oldestMillis = 0;
    // Oldest first (the audit log's order), so the count stops at the first recent one.
    Iterator<Instant> recorded = waiting.values().iterator();
    while (recorded.hasNext()) {
      Instant at = recorded.next();
      if (!at.isBefore(before)) {
        break;
      }
      if (count == 0) {
        oldestMillis = Duration.between(at, now).toMillis();
      }
      count++;
    }
    return new long[] {count, oldestMillis};
  }

  long unfollowed() {
    return unfollowed;
  }
}
