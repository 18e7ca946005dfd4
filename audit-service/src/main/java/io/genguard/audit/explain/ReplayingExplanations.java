package io.genguard.audit.explain;

import io.genguard.audit.AuditConfig;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.pipeline.VerdictExplainer;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Explanations for reviewers from the audit record: the recorded output is judged again with the
 * moderation job's policy file and provenance keys ({@link VerdictReplay}), and only a verdict
 * reproduced field for field is explained. The embedded stack's audit service uses it with the
 * stack's key directory; a standalone one when {@code GENGUARD_AUDIT_EXPLAIN_KEY_DIR} is set. The
 * models load on the first explanation asked for. A verdict of the imported classifier ({@code
 * onnx-classifier}) is judged again only with the classifier settings the job runs with (the job's
 * own {@code GENGUARD_MODERATION_CLASSIFIER_*} keys in the audit service's environment), and only
 * when their version is the one the verdict recorded; otherwise the answer says why it is not
 * explained, and no other model's words are shown.
 */
public final class ReplayingExplanations implements VerdictExplanations, AutoCloseable {
  private final VerdictReplay replay;

  /**
   * @param policyFile the policy file the moderation job runs with, or null for the built-in one
   * @param keyDirectory the provenance key directory the job uses
   */
  public ReplayingExplanations(Path policyFile, Path keyDirectory) {
    this(policyFile, keyDirectory, null);
  }

  /**
   * @param policyFile the policy file the moderation job runs with, or null for the built-in one
   * @param keyDirectory the provenance key directory the job uses
   * @param classifier the imported classifier's settings the job runs with, or null when none is
   *     configured here (its verdicts are then not explained, and not comparable in the what-if);
   *     its folder must exist and hold the files the classifier loads, and the label map must fit
   *     the labels of its config.json (it loads later, on the first such verdict asked for)
   * @throws IllegalArgumentException for a policy file that does not load, a classifier folder that
   *     is missing or incomplete, naming {@value ScorerConfig#CLASSIFIER_DIR}, or a label map that
   *     does not fit, naming {@value ScorerConfig#CLASSIFIER_LABELS}
   */
  public ReplayingExplanations(Path policyFile, Path keyDirectory, ScorerConfig classifier) {
    if (policyFile != null) {
      PolicyLoader.load(policyFile); // an invalid file fails here, with its line
    }
    if (classifier != null) {
      // Here too, before the service serves, as the commands check theirs: else a folder that is
      // missing or incomplete, or a label map that does not fit its labels, showed only at the
      // first of its verdicts explained.
      ScorerConfig.requireClassifier(ScorerConfig.CLASSIFIER_DIR, classifier);
    }
    this.replay = new VerdictReplay(policyFile, keyDirectory, classifier);
  }

  /**
   * The explanations of an audit service's settings: its {@link AuditConfig#explainKeyDirectory()},
   * {@link AuditConfig#explainPolicyFile()} and {@link AuditConfig#explainClassifier()}.
   *
   * @throws IllegalStateException when explanations are off ({@code explainKeyDirectory} empty)
   */
  public static ReplayingExplanations of(AuditConfig config) {
    if (config.explainKeyDirectory().isEmpty()) {
      throw new IllegalStateException("Explanations are off: " + AuditConfig.EXPLAIN_KEY_DIR);
    }
    return new ReplayingExplanations(
        config.explainPolicyFile().isEmpty() ? null : Path.of(config.explainPolicyFile()),
        Path.of(config.explainKeyDirectory()),
        config.explainClassifier());
  }

  @Override
  public synchronized Explanation explain(ModerationVerdict verdict, GenerationOutput output) {
    if (verdict.getDecision() == Decision.RELEASE) {
      return new Explanation(Status.NOTHING_TO_EXPLAIN, "released: nothing was held", List.of());
    }
    VerdictReplay.Replayed replayed = replay.replay(verdict, output);
    List<VerdictExplainer.Explained> explained = replay.explain(replayed, verdict, output);
    if (explained == null) {
      // NOT_REPLAYABLE is mostly refused before scoring (models, classifier settings).
      return Explanation.notExplained(
          (replayed.result() == VerdictReplay.Result.NOT_REPLAYABLE
                  ? "the verdict was not reproduced ("
                  : "judged again, the verdict was not reproduced (")
              + replayed.result()
              + ": "
              + replayed.detail()
              + "), so this build's words would not explain it");
    }
    return new Explanation(
        Status.EXPLAINED,
        "judged again: " + replayed.detail() + "; explained by occlusion",
        reasonWords(explained));
  }

  @Override
  public synchronized List<PolicyWhatIf.Judged> whatIf(
      io.genguard.moderation.policy.PolicySet candidate, List<PolicyWhatIf.Recorded> recorded) {
    // The explanations' models, lent: one copy in memory, one caller at a time.
    try (PolicyWhatIf whatIf =
        new PolicyWhatIf(candidate, scorer -> replay.moderatorUnder(scorer, candidate))) {
      return whatIf.judgeAll(recorded);
    }
  }

  /** The moderator's evidence per reason in the API's terms. */
  public static List<ReasonWords> reasonWords(List<VerdictExplainer.Explained> explained) {
    List<ReasonWords> reasons = new ArrayList<>();
    for (VerdictExplainer.Explained e : explained) {
      reasons.add(
          new ReasonWords(
              e.reason().getCode(),
              e.reason().getCategory(),
              e.reason().getScore(),
              e.words().stream().map(w -> new Word(w.word(), w.scoreWithout())).toList()));
    }
    return reasons;
  }

  @Override
  public synchronized void close() {
    replay.close();
  }
}
