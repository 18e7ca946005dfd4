package io.genguard.testsupport;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** What tests ask the databases they run against, read directly with SQL. */
public final class TestSql {
  private TestSql() {}

  /** The number the query's first row and column holds, e.g. of {@code select count(*) ...}. */
  public static long count(DataSource dataSource, String sql) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
