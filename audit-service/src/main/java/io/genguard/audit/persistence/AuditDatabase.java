package io.genguard.audit.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

/** The audit database: a connection pool and the schema migrations. */
public final class AuditDatabase implements AutoCloseable {
  private final HikariDataSource dataSource;

  private AuditDatabase(HikariDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Connects and migrates the schema to the latest version. */
  public static AuditDatabase connect(String jdbcUrl, String user, String password, int poolSize) {
    return connect(jdbcUrl, user, password, poolSize, true);
  }

  /**
   * Connects; migrates the schema only when {@code migrate} (a verifier reading someone else's
   * database must not change it).
   */
  public static AuditDatabase connect(
      String jdbcUrl, String user, String password, int poolSize, boolean migrate) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setPoolName("genguard-audit");
    // Batched inserts become multi-row inserts: far fewer round trips.
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    HikariDataSource dataSource = new HikariDataSource(config);
    if (!migrate) {
      return new AuditDatabase(dataSource);
    }
    try {
      Flyway.configure()
          .dataSource(dataSource)
          .locations("classpath:db/migration")
          .load()
          .migrate();
    } catch (RuntimeException e) {
      dataSource.close();
      throw new IllegalStateException(
          "Cannot migrate the audit database at " + jdbcUrl + ": " + e.getMessage(), e);
    }
    return new AuditDatabase(dataSource);
  }

  public javax.sql.DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
