package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.explain.RecordedVerdicts;
import io.genguard.audit.explain.VerdictReplay;
import io.genguard.audit.explain.VerdictReplay.Replayed;
import io.genguard.audit.explain.VerdictReplay.Result;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.pipeline.VerdictExplainer.Explained;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.WordOcclusion;
import io.genguard.stack.GenGuardStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code genguard audit replay}: judges recorded outputs again with this build's moderator (the
 * same code the moderation job runs) and compares each new verdict with the one the audit chain
 * recorded, field by field, all but its timestamp. A verdict reproduces only with the policy
 * version and the model versions it names; the output is read from its hash-chained record, so a
 * verified chain and a reproduced verdict together show why the gate decided as it did. What the
 * gate did on the verdict is checked too: a release needs a RELEASE verdict or an approving review.
 * With {@code --explain}, each reproduced verdict that held its output also gets the words its
 * category and implicit-stereotype reasons rest on, by occlusion with the same scorer ({@link
 * io.genguard.moderation.pipeline.VerdictExplainer}): only after reproduction, so the words are
 * those of the models that decided.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
        "Judge recorded outputs again with this build's moderator and compare with their recorded"
            + " verdicts (exit 0 = every replayable verdict reproduced, 1 = some differ, 3 = none"
            + " could be replayed).")
final class AuditReplayCommand implements Callable<Integer> {
  @Mixin AuditStoreOptions database;

  @Mixin RecordedSelection selection;

  @Mixin ClassifierOptions classifierOptions;

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description =
          "The policy file the moderation job ran with (default: the built-in policy); a verdict"
              + " made under another policy id or version is reported as not replayable.")
  Path policyFile;

  @Option(
      names = "--key-dir",
      paramLabel = "DIR",
      description =
          "The provenance key directory the moderation job used (default with --stack-dir: its"
              + " keys/): its watermark-keys and verification-keys files; keys in the environment"
              + " (GENGUARD_WATERMARK_KEYS, GENGUARD_VERIFICATION_KEYS) take precedence or add to"
              + " them, as in the job. A signing-keys file there is ignored.")
  Path keyDir;

  @Option(names = "--json", description = "Print one JSON object per verdict, then the summary.")
  boolean json;

  @Option(
      names = "--explain",
      description =
          "For each reproduced verdict that held its output (REVIEW or BLOCK), also name the words"
              + " each category and implicit-stereotype reason rests on: removed, they lower its"
              + " score the most (by occlusion, up to "
              + WordOcclusion.MAX_WORDS
              + " extra scorings a verdict).")
  boolean explain;

  private final ObjectMapper mapper = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    // Checked before the store is read, and replayed as checked: the file is not read again.
    PolicySet policy =
        policyFile == null ? PolicyLoader.loadDefault() : PolicyFiles.load(policyFile);
    Path keys = keyDirectory(keyDir, database);
    ScorerConfig classifier = classifierOptions.classifier();
    List<RecordedVerdicts.Row> recorded;
    try (AuditDatabase db = database.connect(false)) {
      recorded = selection.load(db);
    }
    List<Replayed> results = new ArrayList<>();
    try (VerdictReplay replay = VerdictReplay.under(policy, keys, classifier)) {
      for (RecordedVerdicts.Row row : recorded) {
        ModerationVerdict verdict = row.decoded().verdict();
        GenerationOutput output = row.decoded().output();
        // The decision as the hash-chained verdict has it, not as a query projection might.
        Replayed replayed =
            withGate(replay.replay(verdict, output), verdict.getDecision().name(), row.gate());
        results.add(replayed);
        print(replayed, explain ? replay.explain(replayed, verdict, output) : null);
      }
    }
    Map<Result, Integer> counts = new LinkedHashMap<>();
    for (Result r : Result.values()) {
      counts.put(r, 0);
    }
    results.forEach(r -> counts.merge(r.result(), 1, Integer::sum));
    String summary =
        String.format(
            "Replayed %d recorded verdicts: %d reproduced, %d differ, %d not replayable",
            results.size(),
            counts.get(Result.REPRODUCED),
            counts.get(Result.DIFFERS),
            counts.get(Result.NOT_REPLAYABLE));
    System.out.println(
        json
            ? mapper.writeValueAsString(
                Map.of(
                    "verdicts", results.size(),
                    "reproduced", counts.get(Result.REPRODUCED),
                    "differ", counts.get(Result.DIFFERS),
                    "notReplayable", counts.get(Result.NOT_REPLAYABLE)))
            : summary);
    if (counts.get(Result.DIFFERS) > 0) {
      return 1;
    }
    return counts.get(Result.REPRODUCED) > 0 ? 0 : 3;
  }

  /** The job's key directory: {@code keyDir}, else the stack's; refused when it does not exist. */
  static Path keyDirectory(Path keyDir, AuditStoreOptions database) {
    Path dir = keyDir;
    if (dir == null && database.stackDir != null) {
      dir = database.stackDir.resolve(GenGuardStack.KEY_DIRECTORY);
    }
    if (dir == null || !Files.isDirectory(dir)) {
      // A missing folder holds none of the job's keys, and a replay must use the job's keys.
      throw new IllegalArgumentException(
          (dir == null ? "No key directory" : "The key directory " + dir + " does not exist")
              + ": pass --key-dir DIR with the provenance keys the moderation job used (or"
              + " --stack-dir of an embedded stack)");
    }
    return dir;
  }

  /** Marks what the gate restated of a decision whose outcome the audit store never got. */
  private static final String RESTATED = " (restated)";

  /**
   * Adds what the gate did ("RELEASED VERDICT", "HELD_FOR_REVIEW VERDICT, RELEASED REVIEW APPROVE
   * by rita", "RELEASED VERDICT (restated)") to the result, and turns it into DIFFERS when the gate
   * released the output without a RELEASE verdict or an approving review. A restatement that names
   * no basis (UNNAMED) is checked against both: the verdict, or else the output's review.
   */
  static Replayed withGate(Replayed replayed, String decision, String gate) {
    if (gate == null) {
      return new Replayed(
          replayed.verdictId(),
          replayed.requestId(),
          replayed.result(),
          replayed.detail() + "; gate: no outcome recorded yet");
    }
    for (String outcome : gate.split(", ")) {
      String said =
          outcome.endsWith(RESTATED)
              ? outcome.substring(0, outcome.length() - RESTATED.length())
              : outcome;
      boolean released = said.startsWith("RELEASED ");
      boolean onVerdict =
          (said.equals("RELEASED VERDICT") || said.equals("RELEASED UNNAMED"))
              && "RELEASE".equals(decision);
      boolean onApproval =
          said.startsWith("RELEASED REVIEW APPROVE by ")
              || said.startsWith("RELEASED UNNAMED APPROVE by ");
      if (released && !onVerdict && !onApproval) {
        return new Replayed(
            replayed.verdictId(),
            replayed.requestId(),
            Result.DIFFERS,
            "the gate released the output ("
                + outcome
                + ") on a "
                + decision
                + " verdict without an approving review; gate: "
                + gate
                + "; verdict: "
                + replayed.detail());
      }
    }
    return new Replayed(
        replayed.verdictId(),
        replayed.requestId(),
        replayed.result(),
        replayed.detail() + "; gate: " + gate);
  }

  private void print(Replayed r, List<Explained> explained) throws Exception {
    if (json) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("verdictId", r.verdictId());
      row.put("requestId", r.requestId());
      row.put("result", r.result().name());
      row.put("detail", r.detail());
      if (explained != null) {
        List<Map<String, Object>> reasons = new ArrayList<>();
        for (Explained e : explained) {
          Map<String, Object> reason = new LinkedHashMap<>();
          reason.put("code", e.reason().getCode());
          reason.put("category", e.reason().getCategory());
          reason.put("score", e.reason().getScore());
          reason.put("evidence", e.words());
          reasons.add(reason);
        }
        row.put("explained", reasons);
      }
      System.out.println(mapper.writeValueAsString(row));
      return;
    }
    if (r.result() != Result.REPRODUCED) {
      System.out.println(
          r.result()
              + " verdict "
              + r.verdictId()
              + " (request "
              + r.requestId()
              + "): "
              + r.detail());
    }
    if (explained != null) {
      System.out.println(
          "EXPLAINED verdict " + r.verdictId() + " (request " + r.requestId() + "): " + r.detail());
      for (Explained e : explained) {
        System.out.println("  " + describe(e));
      }
    }
  }

  /** "harassment 1.00 rests on "bitch" (0.95 without), ..." for one reason. */
  static String describe(Explained e) {
    Double score = e.reason().getScore();
    String subject =
        (e.reason().getCategory() != null ? e.reason().getCategory() : e.reason().getCode())
            + (score == null ? "" : String.format(Locale.ROOT, " %.2f", score));
    if (e.words().isEmpty()) {
      return subject
          + ": no single word lowers it by the margin (words that only matter together do not"
          + " show)";
    }
    List<String> words = new ArrayList<>();
    for (WordOcclusion.Evidence word : e.words()) {
      words.add(
          String.format(Locale.ROOT, "\"%s\" (%.2f without)", word.word(), word.scoreWithout()));
    }
    return subject + " rests on " + String.join(", ", words);
  }
}
