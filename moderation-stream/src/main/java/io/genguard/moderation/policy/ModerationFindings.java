package io.genguard.moderation.policy;

import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.TextScreening;
import java.util.List;

/**
 * Everything known about one text that policy decides on. Made with {@link #builder}, which names
 * each finding it is given, or {@link #scored} for scores alone.
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

  /** Scores with no other findings: the common case in tests and the batch command. */
  public static ModerationFindings scored(String tenantId, ContentScores scores) {
    return builder(tenantId).scores(scores).build();
  }

  /**
   * Findings to fill in by name: whatever is not set is absent (null, false, no screening findings,
   * {@link RuleFindings#NONE}). Four of the fields are nullable strings and two are booleans, which
   * a positional call could swap without the compiler noticing.
   */
  public static Builder builder(String tenantId) {
    return new Builder(tenantId);
  }

  /** Builds {@link ModerationFindings} one named field at a time. */
  public static final class Builder {
    private final String tenantId;
    private ContentScores scores;
    private ScorerFailure scorerFailure;
    private BiasFindings bias;
    private ProvenanceFindings provenance;
    private List<TextScreening.Finding> screening = List.of();
    private RuleFindings rules = RuleFindings.NONE;
    private String manifestReason;
    private String watermarkReason;
    private boolean manifestKeyUnknown;
    private String watermarkClaimMismatch;
    private String backend;
    private boolean watermarkRepetitive;

    private Builder(String tenantId) {
      this.tenantId = tenantId;
    }

    public Builder scores(ContentScores value) {
      scores = value;
      return this;
    }

    public Builder scorerFailure(ScorerFailure value) {
      scorerFailure = value;
      return this;
    }

    public Builder bias(BiasFindings value) {
      bias = value;
      return this;
    }

    public Builder provenance(ProvenanceFindings value) {
      provenance = value;
      return this;
    }

    public Builder screening(List<TextScreening.Finding> value) {
      screening = value;
      return this;
    }

    public Builder rules(RuleFindings value) {
      rules = value;
      return this;
    }

    public Builder manifestReason(String value) {
      manifestReason = value;
      return this;
    }

    public Builder watermarkReason(String value) {
      watermarkReason = value;
      return this;
    }

    public Builder manifestKeyUnknown(boolean value) {
      manifestKeyUnknown = value;
      return this;
    }

    public Builder watermarkClaimMismatch(String value) {
      watermarkClaimMismatch = value;
      return this;
    }

    public Builder backend(String value) {
      backend = value;
      return this;
    }

    public Builder watermarkRepetitive(boolean value) {
      watermarkRepetitive = value;
      return this;
    }

    public ModerationFindings build() {
      return new ModerationFindings(
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
          backend,
          watermarkRepetitive);
    }
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
