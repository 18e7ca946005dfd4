package io.genguard.audit.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/** Runs work in one database transaction: commit on success, roll back on any failure. */
public final class Transactions {
  private Transactions() {}

  /** Work that needs a connection inside a transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * Runs {@code work} in a transaction of a connection from {@code dataSource}: commits what it
   * did, or rolls it back when it throws (an Error too), and throws its error on. A rollback or the
   * reset of auto-commit that fails as well (the connection was lost: "Connection is closed") is
   * kept as suppressed by the work's error, which says what went wrong.
   */
  public static <T> T inTransaction(DataSource dataSource, Work<T> work) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      T result;
      try {
        result = work.run(connection);
        connection.commit();
      } catch (Throwable e) {
        // Precise rethrow: only the work's and commit's SQLException, or an unchecked one. Auto-
        // commit is reset only after the rollback: resetting it first would commit the work.
        try {
          connection.rollback();
          connection.setAutoCommit(true);
        } catch (SQLException | RuntimeException undoFailed) {
          e.addSuppressed(undoFailed);
        }
        throw e;
      }
      connection.setAutoCommit(true);
      return result;
    }
  }
}
