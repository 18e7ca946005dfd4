package io.genguard.bias.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The bias audit's own PostgreSQL schema ({@value #SCHEMA}): campaigns, their planned samples and
 * submissions, reports and live alerts, migrated by Flyway from {@code classpath:db/bias-audit}
 * with its history table in the same schema, so it never touches the audit service's migrations.
 */
public final class BiasAuditDatabase implements AutoCloseable {
  public static final String SCHEMA = "bias_audit";

  private final HikariDataSource dataSource;

  private BiasAuditDatabase(HikariDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Connects with a small pool and migrates the schema to the latest version. */
  public static BiasAuditDatabase connect(
      String jdbcUrl, String user, String password, int poolSize) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setPoolName("genguard-bias-audit");
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    HikariDataSource dataSource;
    try {
      dataSource = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Cannot connect to the bias audit database at " + jdbcUrl + ": " + e.getMessage(), e);
    }
    try {
      migrate(dataSource);
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
    return new BiasAuditDatabase(dataSource);
  }

  /** Creates or upgrades the {@value #SCHEMA} schema in the database at {@code jdbcUrl}. */
  public static void migrate(String jdbcUrl, String user, String password) {
    migrate(Flyway.configure().dataSource(jdbcUrl, user, password));
  }

  /** Creates or upgrades the {@value #SCHEMA} schema in the database behind {@code dataSource}. */
  public static void migrate(DataSource dataSource) {
    migrate(Flyway.configure().dataSource(dataSource));
  }

  private static void migrate(org.flywaydb.core.api.configuration.FluentConfiguration flyway) {
    try {
      flyway
          .schemas(SCHEMA)
          .createSchemas(true)
          .locations("classpath:db/bias-audit")
          .load()
          .migrate();
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Cannot migrate the " + SCHEMA + " schema: " + e.getMessage(), e);
    }
  }

  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
