package io.genguard.bias.analysis;

import java.util.Map;
import java.util.Objects;

/**
 * One judged output as the statistics see it, with the ids that link a figure back to its rows.
 *
 * @param requestId the generation request (the audit store's key for everything about it)
 * @param verdictId the moderation verdict that judged the output
 * @param group the campaign group (or detected group) the output belongs to
 * @param unsafeScore overall unsafe probability, 0..1
 * @param decision RELEASE, REVIEW or BLOCK
 * @param categoryScores category id to probability, 0..1
 */
public record Observation(
    String requestId,
    String verdictId,
    String group,
    double unsafeScore,
    String decision,
    Map<String, Double> categoryScores) {

  public Observation {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(decision, "decision");
    if (!(unsafeScore >= 0 && unsafeScore <= 1)) {
      throw new IllegalArgumentException(
          "unsafeScore of " + requestId + " must be in [0, 1], was " + unsafeScore);
    }
    categoryScores = Map.copyOf(categoryScores);
  }

  public double categoryScore(String category) {
    return categoryScores.getOrDefault(category, 0.0);
  }
}
