package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.watch.UnfinishedFlows;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit unfinished}: the requests that got no answer and the outputs that got no
 * release-gate outcome within their deadline, as the audit service found them, as JSON; exit 4
 * while any is open.
 */
@Command(
    name = "unfinished",
    mixinStandardHelpOptions = true,
    description = {
      "List the requests without an answer and the outputs without a release-gate outcome past"
          + " their deadline, as the audit service recorded them (JSON).",
      "Exit 0 when none is open, 4 when some are."
    })
final class AuditUnfinishedCommand implements Callable<Integer> {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Option(
      names = "--state",
      defaultValue = "open",
      description = "open, answered (late), dismissed or all (default: ${DEFAULT-VALUE}).")
  String state;

  @Option(names = "--kind", description = "NO_ANSWER or NO_GATE_OUTCOME (default: both).")
  String kind;

  @Option(names = "--tenant", description = "Only this tenant's.")
  String tenant;

  @Option(
      names = "--limit",
      defaultValue = "100",
      description = "Most flows listed, 1-10000 (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(
      names = "--cursor",
      description = "The nextCursor of the previous listing, for the flows after it.")
  String cursor;

  @Mixin AuditStoreOptions store;

  @Override
  public Integer call() throws Exception {
    if (limit < 1 || limit > 10_000) {
      throw new IllegalArgumentException("--limit " + limit + " must be 1-10000");
    }
    UnfinishedFlows.Kind only;
    UnfinishedFlows.State listed;
    Cursor after;
    // Refused before the store is reached, as usage errors (the API answers them with a 400).
    try {
      only = UnfinishedFlows.kindOrNull(kind);
      listed = UnfinishedFlows.State.parse(state);
      // One of another listing (a search's, whose id is an event id) decodes too.
      after = UnfinishedFlows.requireListingCursor(Cursor.decode("--cursor", cursor));
    } catch (InvalidInputException e) {
      throw new IllegalArgumentException(
          (e.getMessage().startsWith("--") ? "" : "--") + e.getMessage(), e);
    }
    try (AuditDatabase db = store.connect(false)) {
      // The deadlines are the audit service's; listing needs none.
      ObjectNode flows =
          new UnfinishedFlows(db.dataSource(), Clock.systemUTC(), null)
              .list(tenant, only, listed, after, limit);
      System.out.println(JSON.writeValueAsString(flows));
      // The counts cover both kinds; the exit status answers for the kind asked about.
      long open = 0;
      for (UnfinishedFlows.Kind each : UnfinishedFlows.Kind.values()) {
        if (only == null || only == each) {
          open += flows.get("open").path(each.name()).asLong();
        }
      }
      return open == 0 ? 0 : 4;
    }
  }
}
