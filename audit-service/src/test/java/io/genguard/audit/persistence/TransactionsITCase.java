package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A transaction's work fails: what it did is rolled back, and its own error is the one thrown. */
class TransactionsITCase {
  private static AuditDatabase database;

  @BeforeAll
  static void connect() throws SQLException {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("transactions_it");
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    execute("create table transactions_probe (note text not null)");
  }

  @AfterAll
  static void close() {
    database.close();
  }

  /**
   * The forty-eighth session's reports: when the connection was lost during the work (here an
   * administrator ends it), the rollback failed too ("Connection is closed") and its error was
   * thrown instead of the work's, which said what happened.
   */
  @Test
  void shouldThrowTheWorksErrorWhenTheConnectionIsLostWithTheRollbacksFailureSuppressed() {
    AtomicReference<SQLException> thrownByTheWork = new AtomicReference<>();

    Throwable failure =
        catchThrowable(
            () ->
                Transactions.inTransaction(
                    database.dataSource(),
                    connection -> {
                      try (Statement statement = connection.createStatement()) {
                        statement.execute("insert into transactions_probe values ('lost')");
                        endConnection(backendPid(statement));
                        statement.execute("insert into transactions_probe values ('lost again')");
                      } catch (SQLException e) {
                        thrownByTheWork.set(e);
                        throw e;
                      }
                      return null;
                    }));

    assertThat((Throwable) thrownByTheWork.get()).as("the work failed").isNotNull();
    assertThat(failure).isSameAs(thrownByTheWork.get());
    assertThat(failure.getSuppressed())
        .as("the rollback's failure, kept with it")
        .anySatisfy(
            suppressed -> assertThat(suppressed).hasMessageContaining("Connection is closed"));
  }

  /**
   * The forty-ninth session: an Error from the work (an assertion, a stack overflow) was not rolled
   * back, and resetting auto-commit on the way out committed what the work had done.
   */
  @Test
  void shouldRollBackWhatTheWorkDidWhenItThrowsAnError() throws SQLException {
    Throwable failure =
        catchThrowable(
            () ->
                Transactions.inTransaction(
                    database.dataSource(),
                    connection -> {
                      try (Statement statement = connection.createStatement()) {
                        statement.execute("insert into transactions_probe values ('half done')");
                      }
                      throw new AssertionError("the work stopped half way");
                    }));

    assertThat(failure).isInstanceOf(AssertionError.class);
    assertThat(
            TestSql.count(
                database.dataSource(),
                "select count(*) from transactions_probe where note = 'half done'"))
        .isZero();
  }

  private static int backendPid(Statement statement) throws SQLException {
    try (ResultSet rs = statement.executeQuery("select pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Ends the connection of backend {@code pid} from another connection, as an administrator does,
   * and waits until it has ended.
   */
  private static void endConnection(int pid) throws SQLException {
    assertThat(
            TestSql.count(
                database.dataSource(),
                "select count(*) filter (where ended) from (select pg_terminate_backend("
                    + pid
                    + ", 10000) ended) t"))
        .as("ended within 10 s")
        .isOne();
  }

  private static void execute(String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
