package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.AuditConfig;
import io.genguard.audit.ingest.DeadLetterRecovery;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.security.Caller;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit recover-dead-letters}: {@link DeadLetterRecovery} from the command line.
 */
@Command(
    name = "recover-dead-letters",
    mixinStandardHelpOptions = true,
    description =
        "Record what the audit service could not decode once this build can (after an upgrade"
            + " that brings the schema an event was written with): its own dead letters (stage"
            + " audit) become the events they are, in the chain and the query tables, and so do"
            + " other stages' dead letters of records the audit log has no event for (a dead"
            + " letter's id has no stage, so the audit's own copy may not have been kept); dead"
            + " letters whose event is on record (recovered before) are passed over, an event the"
            + " audit store refuses stays a dead letter (counted with the reason), and the run is"
            + " recorded as an action. Other content under a request's records read within"
            + " GENGUARD_AUDIT_RESEND_QUIET_SECONDS (default 3600) of the request's resend is kept"
            + " as after the resend, as the audit service keeps it. Prints one JSON object. Exit 0"
            + " = every dead letter read is recorded, 1 = some stay, 2 = a bad option or setting.")
final class AuditRecoverCommand implements Callable<Integer> {
  @Mixin AuditStoreOptions database;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description =
          "Most events to record, oldest first (default ${DEFAULT-VALUE}, at most 100000); dead"
              + " letters that stay (still undecodable, or refused) are read but not counted, up to"
              + " 1,000,000 a run; run again for the next ones.")
  int limit = 10_000;

  @Option(names = "--dry-run", description = "Say what would be recorded; record nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    // As the audit service reads it, with its range and words: a bad value is a usage error (exit
    // 2) before the store is reached, not an hour kept in its place.
    Duration resendQuiet = AuditConfig.resendQuiet(AuditStoreOptions.environment);
    DeadLetterRecovery.Result result;
    try (AuditDatabase db = database.connect(false)) {
      result =
          DeadLetterRecovery.recover(
              db.dataSource(),
              Clock.systemUTC(),
              Caller.system(
                  "audit recover-dead-letters (command line, user "
                      + System.getProperty("user.name")
                      + ")"),
              limit,
              dryRun,
              resendQuiet);
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    out.put("dry_run", result.dryRun());
    out.put("read", result.read());
    out.put("decoded", result.decoded());
    out.put("recorded", result.recorded());
    out.set("kept", json.valueToTree(result.kept()));
    out.set("examples", json.valueToTree(result.examples()));
    System.out.println(json.writeValueAsString(out));
    return result.kept().isEmpty() ? 0 : 1;
  }
}
