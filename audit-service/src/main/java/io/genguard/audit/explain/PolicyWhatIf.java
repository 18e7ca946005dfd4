package io.genguard.audit.explain;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a candidate policy file would have decided on outputs already judged: each recorded output
 * is judged again under the candidate, with the models its verdict names, and the decision is
 * compared with the recorded one. For trying a policy change on real traffic before deploying it;
 * nothing is written. A verdict whose models or rules this build does not have cannot be compared
 * (a changed decision could then come from the models, not the policy). A verdict of the imported
 * classifier is judged with the classifier settings given ({@link VerdictReplay#VerdictReplay(Path,
 * Path, ScorerConfig)}), and is not comparable without them or with a classifier of another
 * version. Not thread-safe.
 */
public final class PolicyWhatIf implements AutoCloseable {
  /** How a recorded verdict compares with the candidate's. */
  public enum Outcome {
    SAME,
    CHANGED,
    NOT_COMPARABLE
  }

  /**
   * One recorded verdict and the candidate's decision on its output (null when not comparable).
   *
   * @param detail for CHANGED, the candidate's reasons for its decision; for NOT_COMPARABLE, why
   */
  public record Judged(
      String verdictId,
      String requestId,
      String tenantId,
      Outcome outcome,
      Decision recorded,
      Decision candidate,
      String detail) {
    /** As the API and {@code --json} show it. */
    public Map<String, Object> toMap() {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("verdictId", verdictId);
      row.put("requestId", requestId);
      row.put("tenantId", tenantId);
      row.put("outcome", outcome.name());
      row.put("recorded", recorded.name());
      row.put("candidate", candidate == null ? null : candidate.name());
      row.put("detail", detail);
      return row;
    }
  }

  /**
   * What a run found: counts, changed decisions by transition ("RELEASE -> REVIEW") and by tenant.
   */
  public record Summary(
      int verdicts,
      int same,
      int changed,
      int notComparable,
      Map<String, Integer> transitions,
      Map<String, Integer> changedByTenant) {
    public static Summary of(List<Judged> judged) {
      int same = 0;
      int changed = 0;
      Map<String, Integer> transitions = new TreeMap<>();
      Map<String, Integer> byTenant = new TreeMap<>();
      for (Judged one : judged) {
        if (one.outcome() == Outcome.SAME) {
          same++;
        } else if (one.outcome() == Outcome.CHANGED) {
          changed++;
          transitions.merge(one.recorded() + " -> " + one.candidate(), 1, Integer::sum);
          byTenant.merge(one.tenantId(), 1, Integer::sum);
        }
      }
      return new Summary(
          judged.size(), same, changed, judged.size() - same - changed, transitions, byTenant);
    }

    /** As the API and {@code --json} show it, after {@code policy}. */
    public Map<String, Object> toMap(Object policy) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("policy", policy);
      body.put("verdicts", verdicts);
      body.put("same", same);
      body.put("changed", changed);
      body.put("notComparable", notComparable);
      body.put("transitions", transitions);
      body.put("changedByTenant", changedByTenant);
      return body;
    }
  }

  /** A recorded verdict and the output it judged (null when no longer recorded). */
  public record Recorded(ModerationVerdict verdict, GenerationOutput output) {}

  private final PolicySet policy;
  private final Function<String, BatchModerator> newModerator;
  private final Map<String, BatchModerator> moderators = new HashMap<>();

  /**
   * Loads the candidate file, and each scorer's models for itself.
   *
   * @param candidate the policy file to try (refused with its line when it is not valid)
   * @param keyDirectory the provenance key directory the moderation job uses
   */
  public PolicyWhatIf(Path candidate, Path keyDirectory) {
    this(PolicyLoader.load(candidate), keyDirectory, null);
  }

  /**
   * The same with the imported classifier's settings the moderation job ran with.
   *
   * @param classifier the settings ({@link ScorerConfig#classifierFromEnvironment}), or null when
   *     none is configured here
   */
  public PolicyWhatIf(Path candidate, Path keyDirectory, ScorerConfig classifier) {
    this(PolicyLoader.load(candidate), keyDirectory, classifier);
  }

  /**
   * Loads each scorer's models for itself.
   *
   * @param keyDirectory the provenance key directory the moderation job uses
   */
  public PolicyWhatIf(PolicySet candidate, Path keyDirectory) {
    this(candidate, keyDirectory, null);
  }

  /**
   * Loads each scorer's models for itself, the imported classifier's with {@code classifier} (null:
   * none configured, its verdicts are not comparable).
   *
   * @param keyDirectory the provenance key directory the moderation job uses
   */
  public PolicyWhatIf(PolicySet candidate, Path keyDirectory, ScorerConfig classifier) {
    this(
        candidate,
        scorerName -> {
          // scorerOf names only scorers the factory knows.
          ContentScorer scorer = VerdictReplay.scorer(scorerName, classifier);
          try {
            return ModerationPipelines.over(scorer, candidate, keyDirectory);
          } catch (RuntimeException e) {
            scorer.close(); // nothing owns it yet
            throw e;
          }
        });
  }

  /**
   * @param newModerator a moderator under {@code candidate} for a scorer name; closed with this
   */
  public PolicyWhatIf(PolicySet candidate, Function<String, BatchModerator> newModerator) {
    this.policy = candidate;
    this.newModerator = newModerator;
  }

  /** The candidate policy, as loaded. */
  public PolicySet policy() {
    return policy;
  }

  /**
   * @param output the output as recorded, null when it is no longer recorded
   */
  public Judged judge(ModerationVerdict recorded, GenerationOutput output) {
    if (output == null) {
      return notComparable(
          recorded, "the output it judged is not in the audit store (removed by retention?)");
    }
    recorded = VerdictReplay.asThisBuildNames(recorded, output.getText());
    String scorer = VerdictReplay.scorerOf(recorded.getScorerVersions());
    if (scorer == null) {
      return notComparable(
          recorded, "no known scorer among the recorded versions " + recorded.getScorerVersions());
    }
    BatchModerator moderator;
    try {
      moderator = moderator(scorer);
    } catch (RuntimeException e) {
      return notComparable(
          recorded, "cannot build the " + scorer + " moderator here: " + e.getMessage());
    }
    ModerationVerdict again = moderator.moderate(List.of(output)).get(0);
    if (!again.getScorerVersions().equals(recorded.getScorerVersions())) {
      // The versions that differ, and that the recorded ones are not here (a model or rule
      // upgraded since, e.g. sentence-max 1.1.0 after 1.3.0); else every one recorded and here.
      String differ =
          VerdictReplay.modelsDiffer(recorded.getScorerVersions(), again.getScorerVersions());
      return notComparable(
          recorded,
          differ != null
              ? differ
              : "recorded with models and rules "
                  + recorded.getScorerVersions()
                  + ", this build has "
                  + again.getScorerVersions());
    }
    // Everything the policy does not decide must come out as recorded (scores, groups, provenance
    // findings: the job's keys), or a changed decision could come from here rather than the file.
    ObjectNode before = CanonicalJson.toTree(recorded);
    ObjectNode after = CanonicalJson.toTree(again);
    for (String decided : POLICY_FIELDS) {
      before.remove(decided);
      after.remove(decided);
    }
    if (!before.equals(after)) {
      return notComparable(
          recorded,
          "judged again, what the policy does not decide differs from the record ("
              + VerdictReplay.differences(before, after)
              + "): the models, rules or provenance keys here are not the job's");
    }
    boolean same = again.getDecision() == recorded.getDecision();
    return new Judged(
        recorded.getVerdictId(),
        recorded.getRequestId(),
        recorded.getTenantId(),
        same ? Outcome.SAME : Outcome.CHANGED,
        recorded.getDecision(),
        again.getDecision(),
        same ? null : reasons(again));
  }

  /** The verdict's fields a policy decides, or that name the policy or the moment. */
  private static final List<String> POLICY_FIELDS =
      List.of(
          "eventId",
          "verdictId",
          "decision",
          "reasons",
          "policyId",
          "policyVersion",
          "policySha256",
          "decidedAt");

  /** Judges each in order. */
  public List<Judged> judgeAll(List<Recorded> recorded) {
    List<Judged> judged = new ArrayList<>();
    for (Recorded one : recorded) {
      judged.add(judge(one.verdict(), one.output()));
    }
    return judged;
  }

  private static Judged notComparable(ModerationVerdict recorded, String why) {
    return new Judged(
        recorded.getVerdictId(),
        recorded.getRequestId(),
        recorded.getTenantId(),
        Outcome.NOT_COMPARABLE,
        recorded.getDecision(),
        null,
        why);
  }

  /** The reasons that called for the candidate's decision ("hate 0.62 >= 0.40 (REVIEW)", ...). */
  static String reasons(ModerationVerdict verdict) {
    List<String> parts = new ArrayList<>();
    for (Reason reason : verdict.getReasons()) {
      if (reason.getDecision() != verdict.getDecision()) {
        continue;
      }
      String subject = reason.getCategory() != null ? reason.getCategory() : reason.getCode();
      if (reason.getScore() != null && reason.getThreshold() != null) {
        parts.add(
            String.format(
                Locale.ROOT, "%s %.2f >= %.2f", subject, reason.getScore(), reason.getThreshold()));
      } else {
        parts.add(subject + ": " + reason.getMessage());
      }
    }
    return parts.isEmpty() ? "no reason calls for it" : String.join("; ", parts);
  }

  private BatchModerator moderator(String scorerName) {
    BatchModerator moderator = moderators.get(scorerName);
    if (moderator == null) {
      moderator = newModerator.apply(scorerName);
      moderators.put(scorerName, moderator);
    }
    return moderator;
  }

  @Override
  public void close() {
    moderators.values().forEach(BatchModerator::close);
  }
}
