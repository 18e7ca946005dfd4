package io.genguard.stack.cli;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.persistence.AuditDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Where the audit store is: a JDBC URL (flags, or the audit service's own environment keys), or the
 * data directory of a running embedded stack, whose PostgreSQL records its port in postmaster.pid.
 */
final class AuditStoreOptions {
  @Option(
      names = "--stack-dir",
      paramLabel = "DIR",
      description =
          "Data directory of a running embedded stack (its --data-dir, or the 'state:' path it printed);"
              + " its PostgreSQL is found there.")
  Path stackDir;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      description =
          "PostgreSQL JDBC URL of the audit store, e.g. jdbc:postgresql://localhost:5432/genguard"
              + " (default: "
              + AuditConfig.JDBC_URL
              + ", unless --stack-dir names the store).")
  String jdbcUrl;

  /** The environment the default URL comes from (tests give their own). */
  static java.util.function.UnaryOperator<String> environment = System::getenv;

  @Option(
      names = "--jdbc-user",
      paramLabel = "USER",
      defaultValue = "${env:" + AuditConfig.JDBC_USER + ":-postgres}",
      description = "Database user (default: " + AuditConfig.JDBC_USER + ", else postgres).")
  String jdbcUser;

  @Option(
      names = "--jdbc-password",
      paramLabel = "PASSWORD",
      arity = "0..1",
      interactive = true,
      defaultValue = "${env:" + AuditConfig.JDBC_PASSWORD + ":-postgres}",
      description =
          "Database password; give the flag without a value to be asked for it (default: "
              + AuditConfig.JDBC_PASSWORD
              + ", else postgres).")
  String jdbcPassword;

  /** Connects; migrates the schema only when asked (verification never changes the database). */
  AuditDatabase connect(boolean migrate) {
    return AuditDatabase.connect(url(), jdbcUser, jdbcPassword, 2, migrate);
  }

  /**
   * Connects without migrating, and refuses when the audit schema lacks a migration of this build:
   * for commands that need the current schema but must not change it (the audit service migrates
   * it, first in the upgrade order of docs/OPERATIONS.md).
   *
   * @param command the command as its user typed it, for the message
   */
  AuditDatabase connectCurrent(String command) {
    AuditDatabase db = connect(false);
    try {
      db.requireCurrentSchema(command);
      return db;
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  private String resolved;

  /** The store's JDBC URL: the stack's, the flag's, or else the environment's. */
  String url() {
    if (resolved != null) {
      return resolved;
    }
    if (stackDir != null) {
      // The stack named is the store, whatever the environment's URL says: a takedown or a
      // verification must not reach another database without a word.
      if (jdbcUrl != null && !jdbcUrl.isBlank()) {
        throw new IllegalArgumentException(
            "--stack-dir and --jdbc-url name two audit stores; give one of them");
      }
      jdbcUrl = embeddedUrl(stackDir);
    } else if (jdbcUrl == null) {
      jdbcUrl = environment.apply(AuditConfig.JDBC_URL);
    }
    if (jdbcUrl == null || jdbcUrl.isBlank()) {
      throw new IllegalArgumentException(
          "No audit database: pass --jdbc-url jdbc:postgresql://HOST:PORT/DB (or set "
              + AuditConfig.JDBC_URL
              + "), or --stack-dir DIR of a running embedded stack");
    }
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "--jdbc-url '"
              + jdbcUrl
              + "' is not a PostgreSQL JDBC URL; it must start"
              + " with jdbc:postgresql://");
    }
    resolved = jdbcUrl;
    return resolved;
  }

  /** The JDBC URL of the embedded PostgreSQL (database genguard) running on {@code stackDir}. */
  static String embeddedUrl(Path stackDir) {
    Path pid = stackDir.resolve("postgres").resolve("postmaster.pid");
    List<String> lines;
    try {
      lines = Files.readAllLines(pid);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "No running PostgreSQL under "
              + stackDir
              + " ("
              + pid
              + " is missing):"
              + " is a stack running with --data-dir "
              + stackDir
              + "? Or pass --jdbc-url",
          e);
    }
    // postmaster.pid lines: pid, data directory, start time, port, ... (PostgreSQL's documented
    // layout)
    if (lines.size() < 4 || !lines.get(3).trim().matches("\\d{1,5}")) {
      throw new IllegalArgumentException(pid + " does not name a port; pass --jdbc-url instead");
    }
    return "jdbc:postgresql://127.0.0.1:" + lines.get(3).trim() + "/genguard";
  }
}
