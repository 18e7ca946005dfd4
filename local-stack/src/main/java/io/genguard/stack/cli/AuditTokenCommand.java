package io.genguard.stack.cli;

import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.security.ApiTokens;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code genguard audit token create|list|revoke}: API tokens, straight in the audit database. They
 * never migrate it (the audit service does, first in the upgrade order) and refuse a database whose
 * schema is behind this build's.
 */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description =
        "Create, list and revoke API tokens (an admin's command: it needs database access).",
    subcommands = {
      AuditTokenCommand.Create.class,
      AuditTokenCommand.ListTokens.class,
      AuditTokenCommand.Revoke.class
    })
final class AuditTokenCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Name a subcommand: create, list or revoke");
  }

  /** Who runs the command, as recorded in the audit log. */
  static Caller operator() {
    return Caller.system("cli:" + System.getProperty("user.name", "unknown"));
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Create a token and print it once on stdout (only its SHA-256 is stored).")
  static final class Create implements Callable<Integer> {
    @Mixin AuditStoreOptions database;

    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "submitter, reviewer, compliance or admin.")
    String role;

    @Option(
        names = "--tenant",
        paramLabel = "TENANT",
        description =
            "The only tenant the token may see; required for submitter and reviewer, omit for a global"
                + " compliance or admin token.")
    String tenant;

    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "Who the token is for (recorded as the reviewer and in the audit log).")
    String name;

    @Option(
        names = "--valid-days",
        paramLabel = "DAYS",
        description = "Expire after this many days (default: never).")
    Integer validDays;

    @Override
    public Integer call() throws Exception {
      Role parsed = Role.parse(role);
      if (validDays != null && (validDays < 1 || validDays > ApiTokens.MAX_VALID_DAYS)) {
        throw new IllegalArgumentException(
            "--valid-days must be between 1 and "
                + ApiTokens.MAX_VALID_DAYS
                + ", was "
                + validDays);
      }
      // Refused before connecting (the audit API answers them with a 400): a usage error, exit 2.
      try {
        ApiTokens.requireValid(
            parsed, tenant, name, validDays == null ? null : Duration.ofDays(validDays));
      } catch (InvalidInputException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      try (AuditDatabase db = database.connectCurrent("genguard audit token create")) {
        ApiTokens.IssuedToken issued =
            new ApiTokens(db.dataSource(), java.time.Clock.systemUTC())
                .create(
                    parsed,
                    tenant,
                    name,
                    validDays == null ? null : Duration.ofDays(validDays),
                    operator());
        Progress.say(
            "Created "
                + parsed.name().toLowerCase()
                + " token "
                + issued.info().tokenId()
                + " for "
                + name
                + (tenant == null ? " (all tenants)" : " (tenant " + tenant + ")")
                + ". It is printed once below; store it now.");
        System.out.println(issued.token());
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List tokens (never their secrets).")
  static final class ListTokens implements Callable<Integer> {
    @Mixin AuditStoreOptions database;

    @Override
    public Integer call() throws Exception {
      try (AuditDatabase db = database.connectCurrent("genguard audit token list")) {
        System.out.printf(
            "%-14s %-11s %-12s %-24s %-22s %s%n",
            "TOKEN ID", "ROLE", "TENANT", "NAME", "CREATED", "STATUS");
        ApiTokens tokens = new ApiTokens(db.dataSource(), java.time.Clock.systemUTC());
        // A page at a time, as the API lists them: printed, not all held at once.
        Cursor after = null;
        do {
          ApiTokens.Page page = tokens.list(operator(), after, ApiTokens.MAX_PAGE);
          for (ApiTokens.TokenInfo token : page.items()) {
            String status =
                token.revokedAt() != null
                    ? "revoked " + token.revokedAt()
                    : token.expiresAt() != null ? "expires " + token.expiresAt() : "active";
            System.out.printf(
                "%-14s %-11s %-12s %-24s %-22s %s%n",
                token.tokenId(),
                token.role().name().toLowerCase(),
                token.tenantId() == null ? "(all)" : token.tenantId(),
                token.name(),
                token.createdAt().toString().substring(0, 19) + "Z",
                status);
          }
          after = Cursor.decode("nextCursor", page.nextCursor());
        } while (after != null);
      }
      return 0;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = "Revoke a token; it stops working at once.")
  static final class Revoke implements Callable<Integer> {
    @Mixin AuditStoreOptions database;

    @Parameters(
        index = "0",
        paramLabel = "TOKEN_ID",
        description = "The token's id (see audit token list).")
    String tokenId;

    @Override
    public Integer call() throws Exception {
      try (AuditDatabase db = database.connectCurrent("genguard audit token revoke")) {
        new ApiTokens(db.dataSource(), java.time.Clock.systemUTC()).revoke(tokenId, operator());
        Progress.say("Revoked token " + tokenId);
      } catch (NotFoundException e) {
        // An id the store does not know is input the user gave: a usage error (exit 2), as an
        // unknown campaign of audit status is.
        throw new IllegalArgumentException(
            "No token with id '" + tokenId + "'; see audit token list", e);
      }
      return 0;
    }
  }
}
