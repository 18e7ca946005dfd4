package io.genguard.audit.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * Work the audit writer does for the events it has just recorded, in their transaction and under
 * the chain lock, so that it commits with them or not at all (a redelivered event is not handed on
 * again).
 */
@FunctionalInterface
public interface RecordedEventsListener {
  /** Nothing to do. */
  RecordedEventsListener NONE = (connection, events, now) -> {};

  void recorded(Connection connection, List<IncomingEvent> events, Instant now) throws SQLException;
}
