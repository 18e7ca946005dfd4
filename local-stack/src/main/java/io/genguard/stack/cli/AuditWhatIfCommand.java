package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.explain.PolicyWhatIf;
import io.genguard.audit.explain.PolicyWhatIf.Judged;
import io.genguard.audit.explain.PolicyWhatIf.Outcome;
import io.genguard.audit.explain.RecordedVerdicts;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

  @Mixin RecordedSelection selection;

  @Mixin ClassifierOptions classifierOptions;

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
    // Refused with its line before the store is read (a usage error, exit 2).
    PolicySet policySet = PolicyFiles.load(candidate);
    Path keys = AuditReplayCommand.keyDirectory(keyDir, database);
    ScorerConfig classifier = classifierOptions.classifier();
    List<RecordedVerdicts.Row> recorded;
    try (AuditDatabase db = database.connect(false)) {
      recorded = selection.load(db);
    }
    String policy;
    List<Judged> judged;
    try (PolicyWhatIf whatIf = new PolicyWhatIf(policySet, keys, classifier)) {
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
      System.out.println(mapper.writeValueAsString(counted.toMap(policy)));
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
      System.out.println(mapper.writeValueAsString(judged.toMap()));
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
