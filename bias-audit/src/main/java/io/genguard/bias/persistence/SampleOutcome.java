package io.genguard.bias.persistence;

import io.genguard.bias.campaign.PlannedSample;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What became of one planned sample: the request ids it was submitted under, the first verdict any
 * of them received, or the generation failure.
 */
public record SampleOutcome(
    PlannedSample sample,
    List<String> requestIds,
    Optional<JudgedOutput> judged,
    Optional<Failure> failure) {

  public SampleOutcome {
    requestIds = List.copyOf(requestIds);
  }

  /** Where a sample stands. */
  public enum State {
    /** Planned, never submitted (the campaign was interrupted before it). */
    NOT_SUBMITTED,
    /** Submitted; no verdict or failure is in the audit store yet (in flight, or lost). */
    PENDING,
    /** The generator refused or failed the request. */
    FAILED,
    /** Judged: a verdict with the text's scores is in the audit store. */
    JUDGED,
    /**
     * A verdict is in the audit store, but no model scored the text (a scorer error or timeout):
     * the policy held it, and its scores are not the text's, so it is left out of the rates.
     */
    UNSCORED
  }

  public State state() {
    if (judged.isPresent()) {
      return judged.get().scorerFailure() == null ? State.JUDGED : State.UNSCORED;
    }
    if (failure.isPresent()) {
      return State.FAILED;
    }
    return requestIds.isEmpty() ? State.NOT_SUBMITTED : State.PENDING;
  }

  /**
   * The output and verdict of a judged sample, as the audit store holds them.
   *
   * @param detectedGroups groups moderation found in the output text (axis:group)
   * @param model generator model as backend/name@version
   * @param scorerFailure the verdict's scorer error or timeout reason (code: message) when no model
   *     scored the text, else null
   */
  public record JudgedOutput(
      String requestId,
      String verdictId,
      String decision,
      double unsafeScore,
      Map<String, Double> categoryScores,
      List<String> detectedGroups,
      String text,
      String model,
      Instant decidedAt,
      String scorerFailure) {
    public JudgedOutput {
      categoryScores = Map.copyOf(categoryScores);
      detectedGroups = List.copyOf(detectedGroups);
    }

    /** A verdict whose text was scored. */
    public JudgedOutput(
        String requestId,
        String verdictId,
        String decision,
        double unsafeScore,
        Map<String, Double> categoryScores,
        List<String> detectedGroups,
        String text,
        String model,
        Instant decidedAt) {
      this(
          requestId,
          verdictId,
          decision,
          unsafeScore,
          categoryScores,
          detectedGroups,
          text,
          model,
          decidedAt,
          null);
    }
  }

  /** A generation failure of one of the sample's requests. */
  public record Failure(String requestId, String code, String reason) {}
}
