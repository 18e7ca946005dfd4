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
  private final String read;
  private final String advice;

  public QueryTimedOutException(Duration limit, SQLException cause) {
    this(limit, cause, null, null);
  }

  private QueryTimedOutException(Duration limit, Throwable cause, String read, String advice) {
    super("A read was cancelled after " + limit.toMillis() + " ms (statement_timeout)", cause);
    this.limit = limit;
    this.read = read;
    this.advice = advice;
  }

  /** The timeout the statement ran into. */
  public Duration limit() {
    return limit;
  }

  /**
   * The same timeout, told to the client as the read {@code read} (e.g. "Checking the API token")
   * with {@code advice} on what to do, instead of a search's "narrow it".
   */
  public QueryTimedOutException as(String read, String advice) {
    return new QueryTimedOutException(limit, getCause(), read, advice);
  }

  /** What timed out, as the client is told; null for a caller's query. */
  public String read() {
    return read;
  }

  /** What the client may do; null for a caller's query. */
  public String advice() {
    return advice;
  }
}
