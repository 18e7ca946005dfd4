package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.explain.PolicyWhatIf;
import io.genguard.audit.explain.PolicyWhatIf.Judged;
import io.genguard.audit.explain.PolicyWhatIf.Outcome;
import io.genguard.audit.explain.RecordedVerdicts;
import io.genguard.audit.persistence.AuditDatabase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    List<RecordedVerdicts.Row> recorded;
    try (AuditDatabase db = database.connect(false)) {
      recorded = RecordedVerdicts.load(db.dataSource(), requests, limit);
    }
    if (recorded.isEmpty()) {
      throw new IllegalArgumentException(
          requests.isEmpty()
              ? "The audit store holds no verdict to compare"
              : "No verdict recorded for " + String.join(", ", requests));
    }
    String policy;
    List<Judged> judged;
    try (PolicyWhatIf whatIf = new PolicyWhatIf(candidate, keys)) {
      policy =
          whatIf.policy().policyId()
              + " "
              + whatIf.policy().version()
              + " (SHA-256 "
              + whatIf.policy().sha256()
              + ")";
      judged = whatIf.judgeAll(recorded.stream().map(RecordedVerdicts.Row::decoded).toList());
    }
    for (Judged one : judged) {
      if (one.outcome() != Outcome.SAME) {
        print(one);
      }
    }
    PolicyWhatIf.Summary counted = PolicyWhatIf.Summary.of(judged);
    if (json) {
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("policy", policy);
      summary.put("verdicts", counted.verdicts());
      summary.put("same", counted.same());
      summary.put("changed", counted.changed());
      summary.put("notComparable", counted.notComparable());
      summary.put("transitions", counted.transitions());
      summary.put("changedByTenant", counted.changedByTenant());
      System.out.println(mapper.writeValueAsString(summary));
    } else {
      List<String> moves = new ArrayList<>();
      counted.transitions().forEach((move, count) -> moves.add(move + ": " + count));
      System.out.println(
          "Judged "
              + counted.verdicts()
              + " recorded verdicts under "
              + policy
              + ": "
              + counted.same()
              + " the same, "
              + counted.changed()
              + " changed"
              + (moves.isEmpty() ? "" : " (" + String.join(", ", moves) + ")")
              + ", "
              + counted.notComparable()
              + " not comparable");
      if (!counted.changedByTenant().isEmpty()) {
        List<String> tenants = new ArrayList<>();
        counted.changedByTenant().forEach((tenant, count) -> tenants.add(tenant + ": " + count));
        System.out.println("Changed by tenant: " + String.join(", ", tenants));
      }
    }
    return counted.same() + counted.changed() > 0 ? 0 : 3;
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
