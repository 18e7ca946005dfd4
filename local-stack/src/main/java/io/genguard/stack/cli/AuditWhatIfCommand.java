package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.explain.PolicyWhatIf;
import io.genguard.audit.explain.PolicyWhatIf.Judged;
import io.genguard.audit.explain.PolicyWhatIf.Outcome;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit what-if}: what a candidate policy file would have decided on outputs the
 * audit store already holds, against what was decided, before the file is deployed ({@link
 * PolicyWhatIf}). Reads the store; writes nothing.
 */
@Command(
    name = "what-if",
    mixinStandardHelpOptions = true,
    description =
        "Judge recorded outputs under a candidate policy file and show which decisions it would"
            + " change (exit 0 = compared, 3 = nothing could be compared). Writes nothing.")
final class AuditWhatIfCommand implements Callable<Integer> {
  @Mixin AuditStoreOptions database;

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      required = true,
      description = "The candidate policy file (refused with its line when it is not valid).")
  Path candidate;

  @Option(
      names = "--request",
      paramLabel = "ID",
      description = "A request whose verdicts to judge (repeatable). Default: the newest verdicts.")
  List<String> requests = new ArrayList<>();

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "100",
      description =
          "Without --request: how many of the newest verdicts (default 100, at most 10000).")
  int limit;

  @Option(
      names = "--key-dir",
      paramLabel = "DIR",
      description =
          "The provenance key directory the moderation job used (default with --stack-dir: its"
              + " keys/).")
  Path keyDir;

  @Option(
      names = "--json",
      description = "Print one JSON object per changed or incomparable verdict, then the summary.")
  boolean json;

  private final ObjectMapper mapper = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    if (limit < 1 || limit > AuditReplayCommand.MAX_LIMIT) {
      throw new IllegalArgumentException(
          "--limit must be from 1 to " + AuditReplayCommand.MAX_LIMIT + ", got " + limit);
    }
    Path keys = AuditReplayCommand.keyDirectory(keyDir, database);
    List<String[]> recorded;
    try (AuditDatabase db = database.connect(false)) {
      recorded = AuditReplayCommand.recorded(db, requests, limit);
    }
    if (recorded.isEmpty()) {
      throw new IllegalArgumentException(
          requests.isEmpty()
              ? "The audit store holds no verdict to compare"
              : "No verdict recorded for " + String.join(", ", requests));
    }
    Map<String, Integer> transitions = new TreeMap<>();
    Map<String, Integer> changedByTenant = new TreeMap<>();
    int same = 0;
    int changed = 0;
    int notComparable = 0;
    String policy;
    try (PolicyWhatIf whatIf = new PolicyWhatIf(candidate, keys)) {
      policy =
          whatIf.policy().policyId()
              + " "
              + whatIf.policy().version()
              + " (SHA-256 "
              + whatIf.policy().sha256()
              + ")";
      for (String[] row : recorded) {
        ModerationVerdict verdict = CanonicalJson.toRecord(row[0], ModerationVerdict.class);
        GenerationOutput output =
            row[1] == null ? null : CanonicalJson.toRecord(row[1], GenerationOutput.class);
        Judged judged = whatIf.judge(verdict, output);
        switch (judged.outcome()) {
          case SAME -> same++;
          case CHANGED -> {
            changed++;
            transitions.merge(judged.recorded() + " -> " + judged.candidate(), 1, Integer::sum);
            changedByTenant.merge(judged.tenantId(), 1, Integer::sum);
          }
          case NOT_COMPARABLE -> notComparable++;
        }
        if (judged.outcome() != Outcome.SAME) {
          print(judged);
        }
      }
    }
    if (json) {
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("policy", policy);
      summary.put("verdicts", recorded.size());
      summary.put("same", same);
      summary.put("changed", changed);
      summary.put("notComparable", notComparable);
      summary.put("transitions", transitions);
      summary.put("changedByTenant", changedByTenant);
      System.out.println(mapper.writeValueAsString(summary));
    } else {
      List<String> moves = new ArrayList<>();
      transitions.forEach((move, count) -> moves.add(move + ": " + count));
      System.out.println(
          "Judged "
              + recorded.size()
              + " recorded verdicts under "
              + policy
              + ": "
              + same
              + " the same, "
              + changed
              + " changed"
              + (moves.isEmpty() ? "" : " (" + String.join(", ", moves) + ")")
              + ", "
              + notComparable
              + " not comparable");
      if (!changedByTenant.isEmpty()) {
        List<String> tenants = new ArrayList<>();
        changedByTenant.forEach((tenant, count) -> tenants.add(tenant + ": " + count));
        System.out.println("Changed by tenant: " + String.join(", ", tenants));
      }
    }
    return same + changed > 0 ? 0 : 3;
  }

  private void print(Judged judged) throws Exception {
    if (json) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("verdictId", judged.verdictId());
      row.put("requestId", judged.requestId());
      row.put("tenantId", judged.tenantId());
      row.put("outcome", judged.outcome().name());
      row.put("recorded", judged.recorded().name());
      row.put("candidate", judged.candidate() == null ? null : judged.candidate().name());
      row.put("detail", judged.detail());
      System.out.println(mapper.writeValueAsString(row));
      return;
    }
    System.out.println(
        judged.outcome() == Outcome.CHANGED
            ? "CHANGED request "
                + judged.requestId()
                + " (tenant "
                + judged.tenantId()
                + "): "
                + judged.recorded()
                + " -> "
                + judged.candidate()
                + ": "
                + judged.detail()
            : "NOT_COMPARABLE request " + judged.requestId() + ": " + judged.detail());
  }
}
