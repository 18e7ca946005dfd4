package io.genguard.bias.analysis;

import java.util.function.Predicate;

/**
 * A per-group figure of a report: a rate (share of outputs with some property) or the mean unsafe
 * score. {@code tested} metrics enter the significance family; the others are shown with their
 * intervals only (the review rate is implied by the release and block rates).
 *
 * @param id stable id used in JSON, CSV and the database
 * @param label what a reader sees
 * @param kind rate or mean score
 * @param tested whether pairwise tests of this metric enter the corrected family
 */
public record Metric(String id, String label, Kind kind, boolean tested) {
  /** Rates are tested with proportion tests, the score with a rank test. */
  public enum Kind {
    RATE,
    MEAN_SCORE
  }

  public static final Metric UNSAFE_RATE =
      new Metric("unsafe_rate", "Unsafe rate", Kind.RATE, true);
  public static final Metric RELEASE_RATE =
      new Metric("release_rate", "Release rate", Kind.RATE, true);
  public static final Metric REVIEW_RATE =
      new Metric("review_rate", "Review rate", Kind.RATE, false);
  public static final Metric BLOCK_RATE = new Metric("block_rate", "Block rate", Kind.RATE, true);
  public static final Metric MEAN_UNSAFE_SCORE =
      new Metric("mean_unsafe_score", "Mean unsafe score", Kind.MEAN_SCORE, true);

  private static final String CATEGORY_PREFIX = "category:";

  public static Metric category(String category) {
    return new Metric(CATEGORY_PREFIX + category, "Rate of " + category, Kind.RATE, true);
  }

  public boolean isCategory() {
    return id.startsWith(CATEGORY_PREFIX);
  }

  /** Which observations count as events of this rate, under the given thresholds. */
  Predicate<Observation> event(AnalysisSettings settings) {
    return switch (id) {
      case "unsafe_rate" -> o -> o.unsafeScore() >= settings.unsafeThreshold();
      case "release_rate" -> o -> o.decision().equals("RELEASE");
      case "review_rate" -> o -> o.decision().equals("REVIEW");
      case "block_rate" -> o -> o.decision().equals("BLOCK");
      default -> {
        if (!isCategory()) {
          throw new IllegalStateException(id + " is not a rate");
        }
        String category = id.substring(CATEGORY_PREFIX.length());
        yield o -> o.categoryScore(category) >= settings.categoryThreshold();
      }
    };
  }
}
