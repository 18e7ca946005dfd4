package io.genguard.bias.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;

/**
 * The bias audit's own PostgreSQL schema ({@value #SCHEMA}): campaigns, their planned samples and
 * submissions, reports and live alerts, migrated by Flyway from {@code classpath:db/bias-audit}
 * with its history table in the same schema, so it never touches the audit service's migrations.
 */
public final class BiasAuditDatabase implements AutoCloseable {
  public static final String SCHEMA = "bias_audit";

  /** Where this build's migrations of the schema are. */
  private static final String LOCATIONS = "classpath:db/bias-audit";

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

  /**
   * Refuses, saying what to do, when this build has migrations of the {@value #SCHEMA} schema that
   * the database behind {@code dataSource} lacks (or it has no such schema): for the commands that
   * read or write campaigns but must not migrate (the bias-aggregation job does, after the audit
   * service, in the upgrade order of docs/OPERATIONS.md). Reads the Flyway history; changes
   * nothing.
   *
   * @param command the command as its user typed it, for the message ("genguard audit status")
   */
  public static void requireCurrentSchema(DataSource dataSource, String command) {
    MigrationInfoService info =
        Flyway.configure()
            .dataSource(dataSource)
            .schemas(SCHEMA)
            .locations(LOCATIONS)
            .load()
            .info();
    MigrationInfo[] pending = info.pending();
    if (pending.length == 0) {
      return;
    }
    String latest = pending[pending.length - 1].getVersion().getVersion();
    MigrationInfo current = info.current();
    if (current == null) {
      throw new IllegalStateException(
          command
              + " needs the "
              + SCHEMA
              + " schema (version "
              + latest
              + "), but the database has none: no bias campaign was started there and no"
              + " bias-aggregation job ran against it. Start a campaign with genguard audit"
              + " campaign, or start the bias-aggregation job, which create it; this command"
              + " does not.");
    }
    throw new IllegalStateException(
        command
            + " needs the "
            + SCHEMA
            + " schema at version "
            + latest
            + " (this build's), but the database's is at version "
            + current.getVersion().getVersion()
            + ". This command does not migrate it: upgrade the bias-aggregation job first, which"
            + " migrates it (docs/OPERATIONS.md, \"Upgrading past a schema change\"), or use the"
            + " genguard build that matches the database.");
  }

  private static void migrate(org.flywaydb.core.api.configuration.FluentConfiguration flyway) {
    try {
      flyway.schemas(SCHEMA).createSchemas(true).locations(LOCATIONS).load().migrate();
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
