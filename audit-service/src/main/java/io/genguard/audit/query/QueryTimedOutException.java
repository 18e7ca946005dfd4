package io.genguard.audit.query;

import java.sql.SQLException;
import java.time.Duration;

/**
 * PostgreSQL cancelled a statement of a caller's read after {@link ReadTimeout#limit()} (HTTP 503):
 * the read asked for more than the service lets one read take, or the database was too busy.
 */
public final class QueryTimedOutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Duration limit;

  public QueryTimedOutException(Duration limit, SQLException cause) {
    super("A read was cancelled after " + limit.toMillis() + " ms (statement_timeout)", cause);
    this.limit = limit;
  }

  /** The timeout the statement ran into. */
  public Duration limit() {
    return limit;
  }
}
