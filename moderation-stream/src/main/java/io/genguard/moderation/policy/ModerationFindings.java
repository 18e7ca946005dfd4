package io.genguard.moderation.policy;

import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.bias.PrejudiceFrames;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.MinorSexualization;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.ThreatPatterns;
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
 * @param threats sentences that state a threat of violence ({@link ThreatPatterns}); empty when
 *     none was found or the text was not checked
 * @param sexualizedMinors sentences that describe a child in sexual terms ({@link
 *     MinorSexualization}); empty when none was found or the text was not checked
 * @param framedPrejudice sentences that state a generalization about a group inside an endorsing
 *     frame ({@link PrejudiceFrames}); empty when none was found or the text was not checked
 */
public record ModerationFindings(
    String tenantId,
    ContentScores scores,
    ScorerFailure scorerFailure,
    BiasFindings bias,
    ProvenanceFindings provenance,
    List<TextScreening.Finding> screening,
    List<ThreatPatterns.Match> threats,
    List<MinorSexualization.Match> sexualizedMinors,
    List<PrejudiceFrames.Match> framedPrejudice) {
  public ModerationFindings {
    screening = List.copyOf(screening);
    threats = List.copyOf(threats);
    sexualizedMinors = List.copyOf(sexualizedMinors);
    framedPrejudice = List.copyOf(framedPrejudice);
  }

  /** Findings of a text checked for threats only. */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening,
      List<ThreatPatterns.Match> threats) {
    this(
        tenantId,
        scores,
        scorerFailure,
        bias,
        provenance,
        screening,
        threats,
        List.of(),
        List.of());
  }

  /** Findings of a text not checked by any of the rules (threats, minors, frames). */
  public ModerationFindings(
      String tenantId,
      ContentScores scores,
      ScorerFailure scorerFailure,
      BiasFindings bias,
      ProvenanceFindings provenance,
      List<TextScreening.Finding> screening) {
    this(tenantId, scores, scorerFailure, bias, provenance, screening, List.of());
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
