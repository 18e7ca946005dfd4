package io.genguard.audit.query;

import io.genguard.audit.persistence.Transactions;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * How long each statement of a caller's read (the output search and its export's pages, a request's
 * story, the totals, the review queue, bias reports and metrics, the token list, the unfinished
 * flows, the token check of every call, the campaign check of a submission) may run in PostgreSQL.
 * The read runs in a transaction of its own with {@code statement_timeout} set for that transaction
 * only ({@code set_config(..., true)}, as {@code SET LOCAL} does), so the setting never stays on
 * the pooled connection; a statement that runs longer, or waits longer for a lock, is cancelled by
 * the database, its connection goes back to the pool, and the caller gets {@link
 * QueryTimedOutException}. A story is several statements, each with this limit.
 *
 * @param limit the longest a statement may run
 */
public record ReadTimeout(Duration limit) {
  /** Ten seconds: far above what a page, a story or a tenant's totals take on an indexed store. */
  public static final ReadTimeout DEFAULT = new ReadTimeout(Duration.ofSeconds(10));

  /** PostgreSQL's SQLState of a statement cancelled (statement_timeout among other causes). */
  static final String QUERY_CANCELED = "57014";

  public ReadTimeout {
    if (limit == null || limit.toMillis() < 1) {
      throw new IllegalArgumentException("a read's timeout must be at least 1 ms: " + limit);
    }
  }

  /**
   * Runs {@code work} in a transaction whose statements may each run at most {@link #limit}.
   *
   * @throws QueryTimedOutException when PostgreSQL cancelled one of them
   */
  public <T> T read(DataSource dataSource, Transactions.Work<T> work) throws SQLException {
    try {
      return Transactions.inTransaction(
          dataSource,
          connection -> {
            try (PreparedStatement timeout =
                connection.prepareStatement("select set_config('statement_timeout', ?, true)")) {
              timeout.setString(1, limit.toMillis() + "ms");
              timeout.execute();
            }
            return work.run(connection);
          });
    } catch (SQLException e) {
      if (QUERY_CANCELED.equals(e.getSQLState())) {
        throw new QueryTimedOutException(limit, e);
      }
      throw e;
    }
  }
}
