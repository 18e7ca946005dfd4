package io.genguard.moderation.policy;

import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.TextScreening;
import java.util.List;

/**
 * Everything known about one text that policy decides on.
 *
 * @param tenantId whose policy applies (null: the default)
 * @param scores the scorer's output, or null when it failed (then {@code scorerFailure} says why)
 * @param scorerFailure why there are no scores, or null
 * @param bias groups, targeting and stereotype signal, or null when not analyzed
 * @param provenance watermark and manifest findings, or null when not checked
 * @param screening problems with the text itself (empty, truncated, not UTF-8, not English)
 * @param rules the sentences the rules matched ({@link RuleFindings#NONE} when the text was not
 *     checked)
 * @param manifestReason why the manifest is INVALID when the check said more than its status (a
 *     manifest signed for another output or another tenant, by a retired key, or under a key this
 *     job does not know), else null
 * @param watermarkReason why the watermark is NOT_CHECKED when the check said (a key this job does
 *     not hold, parameters no watermark has), else null
 * @param manifestKeyUnknown the manifest is INVALID because this job holds no public key of the id
 *     it carries ({@code manifestReason} says which), not because anything was altered
 * @param watermarkClaimMismatch how the event's watermark claim differs from the watermark its
 *     valid manifest states (which the watermark was looked for with), else null
 * @param backend the backend the output names ({@code model.backend}; signed, and so to be trusted,
 *     only when the manifest is VALID), or null
 * @param watermarkRepetitive the watermark is TOO_SHORT because a long text repeats a few words,
 *     not because it is short ({@code watermarkReason} gives the counts)
 */
public record ModerationFindings(
    String tenantId,
    ContentScores scores,
    ScorerFailure scorerFailure,
    BiasFindings bias,
    ProvenanceFindings provenance,
    List<TextScreening.Finding> screening,
    RuleFindings rules,
    String manifestReason,
    String watermarkReason,
    boolean manifestKeyUnknown,
    String watermarkClaimMismatch,
    String backend,
    boolean watermarkRepetitive) {
  public ModerationFindings {
    screening = List.copyOf(screening);
    rules = rules == null ? RuleFindings.NONE : rules;
  }

  /** Findings that name no backend and whose text, if TOO_SHORT, is not a long repetitive one. */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening,
      RuleFindings rules,
      String manifestReason,
      String watermarkReason,
      boolean manifestKeyUnknown,
      String watermarkClaimMismatch) {
    this(
        tenantId,
        scores,
        scorerFailure,
        bias,
        provenance,
        screening,
        rules,
        manifestReason,
        watermarkReason,
        manifestKeyUnknown,
        watermarkClaimMismatch,
        null,
        false);
  }

  /** Findings whose manifest key was known and whose watermark claim was not contradicted. */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening,
      RuleFindings rules,
      String manifestReason,
      String watermarkReason) {
    this(
        tenantId,
        scores,
        scorerFailure,
        bias,
        provenance,
        screening,
        rules,
        manifestReason,
        watermarkReason,
        false,
        null);
  }

  /** Findings with no more to say about the watermark than its status. */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening,
      RuleFindings rules,
      String manifestReason) {
    this(tenantId, scores, scorerFailure, bias, provenance, screening, rules, manifestReason, null);
  }

  /** Findings with no more to say about the manifest than its status. */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening,
      RuleFindings rules) {
    this(tenantId, scores, scorerFailure, bias, provenance, screening, rules, null);
  }

  /** Findings of a text not checked by any of the rules. */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening) {
    this(tenantId, scores, scorerFailure, bias, provenance, screening, RuleFindings.NONE);
  }

  /** Scores with no other findings: the common case in tests and the batch command. */
  public static ModerationFindings scored(String tenantId, ContentScores scores) {
    return new ModerationFindings(tenantId, scores, null, null, null, List.of());
  }

  /** Why a scorer produced no scores. */
  public record ScorerFailure(Kind kind, String message) {
    /** Error: the scorer threw; timeout: it did not answer in time. */
    public enum Kind {
      ERROR,
      TIMEOUT
    }
  }
}
