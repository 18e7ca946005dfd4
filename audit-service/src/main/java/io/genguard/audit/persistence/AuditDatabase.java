package io.genguard.audit.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;

/** The audit database: a connection pool and the schema migrations. */
public final class AuditDatabase implements AutoCloseable {
  /** Where this build's migrations are. */
  private static final String LOCATIONS = "classpath:db/migration";

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
      Flyway.configure().dataSource(dataSource).locations(LOCATIONS).load().migrate();
    } catch (RuntimeException e) {
      dataSource.close();
      throw new IllegalStateException(
          "Cannot migrate the audit database at " + jdbcUrl + ": " + e.getMessage(), e);
    }
    return new AuditDatabase(dataSource);
  }

  /**
   * Refuses, saying what to do, when this build has migrations the database lacks (it is behind, or
   * holds no audit schema at all): for the commands that need this build's schema but must not
   * migrate it, since the audit service does, first in the upgrade order (docs/OPERATIONS.md,
   * "Upgrading past a schema change"). Reads the Flyway history and changes nothing. A database
   * ahead of this build passes: its migrations only add.
   *
   * @param command the command as its user typed it, for the message ("genguard audit token list")
   */
  public void requireCurrentSchema(String command) {
    MigrationInfoService info =
        Flyway.configure().dataSource(dataSource).locations(LOCATIONS).load().info();
    MigrationInfo[] pending = info.pending();
    if (pending.length == 0) {
      return;
    }
    String url = dataSource.getJdbcUrl();
    MigrationInfo current = info.current();
    String latest = pending[pending.length - 1].getVersion().getVersion();
    if (current == null) {
      throw new IllegalStateException(
          command
              + " needs the audit schema (version "
              + latest
              + "), but "
              + url
              + " holds none (no migration applied): is it the audit store? The audit service"
              + " creates the schema when it starts; this command does not.");
    }
    String first = pending[0].getVersion().getVersion();
    throw new IllegalStateException(
        command
            + " needs the audit schema at version "
            + latest
            + " (this build's), but "
            + url
            + " is at version "
            + current.getVersion().getVersion()
            + " and lacks "
            + (first.equals(latest) ? "V" + latest : "V" + first + " to V" + latest)
            + ". This command does not migrate the database: upgrade the audit service first,"
            + " which migrates it (docs/OPERATIONS.md, \"Upgrading past a schema change\"), or"
            + " use the genguard build that matches the database.");
  }

  public javax.sql.DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
