package io.genguard.audit.explain;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.util.List;

/**
 * Explains a recorded verdict for a reviewer: which words each of its category and
 * implicit-stereotype reasons rests on. {@link ReplayingExplanations} is the implementation the
 * audit service builds when it has the moderation job's keys ({@code
 * GENGUARD_AUDIT_EXPLAIN_KEY_DIR}); without one the explanation route answers that it cannot
 * explain. An implementation should explain a verdict only after judging the output again and
 * getting the same verdict, so the words are those of the models and policy that decided.
 */
public interface VerdictExplanations {
  /**
   * @param verdict the verdict as the audit chain recorded it
   * @param output the output it judged, from the audit chain
   */
  Explanation explain(ModerationVerdict verdict, GenerationOutput output);

  /**
   * Judges recorded outputs under a candidate policy file with the models their verdicts name
   * ({@link PolicyWhatIf}), with the models this implementation explains with.
   *
   * @param candidate the policy to try
   * @throws UnsupportedOperationException when this implementation cannot judge outputs again
   */
  default List<PolicyWhatIf.Judged> whatIf(
      io.genguard.moderation.policy.PolicySet candidate, List<PolicyWhatIf.Recorded> recorded) {
    throw new UnsupportedOperationException("These explanations cannot judge outputs again");
  }

  /** Whether there is an explanation. */
  enum Status {
    /** Reproduced, and its category and stereotype reasons explained (maybe with no words). */
    EXPLAINED,
    /** Not reproduced by the models and policy at hand, or not judged again: the detail says. */
    NOT_EXPLAINED,
    /** A RELEASE verdict: nothing was held. */
    NOTHING_TO_EXPLAIN
  }

  /**
   * One evidence word.
   *
   * @param word the word, lower-cased
   * @param scoreWithout the reason's score for the text with every occurrence of the word removed
   */
  record Word(String word, double scoreWithout) {}

  /**
   * The evidence of one reason, strongest first; empty when no single word lowers its score enough.
   */
  record ReasonWords(String code, String category, Double score, List<Word> evidence) {}

  /**
   * @param detail what was compared, or why there is no explanation
   * @param reasons per explained reason, in the verdict's order (empty unless EXPLAINED)
   */
  record Explanation(Status status, String detail, List<ReasonWords> reasons) {
    public static Explanation notExplained(String detail) {
      return new Explanation(Status.NOT_EXPLAINED, detail, List.of());
    }
  }
}
