package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.Reason;

/**
 * One ground for a decision, with the numbers behind it and a sentence a reviewer can read.
 *
 * @param code stable machine code, see {@link ReasonCodes}
 * @param decision what this reason alone calls for
 * @param category the category id it concerns, or null
 * @param score the score it is about, or null
 * @param threshold the threshold the score was compared with, or null
 * @param message human-readable explanation
 */
public record VerdictReason(
    String code,
    Decision decision,
    String category,
    Double score,
    Double threshold,
    String message) {
  /** The wire form in {@code ModerationVerdict.reasons}. */
  public Reason toAvro() {
    return Reason.newBuilder()
        .setCode(code)
        .setDecision(decision)
        .setCategory(category)
        .setScore(score)
        .setThreshold(threshold)
        .setMessage(message)
        .build();
  }

  /** Back from the wire form, e.g. a verdict read from the audit record. */
  public static VerdictReason fromAvro(Reason reason) {
    return new VerdictReason(
        reason.getCode(),
        reason.getDecision(),
        reason.getCategory(),
        reason.getScore(),
        reason.getThreshold(),
        reason.getMessage());
  }
}
