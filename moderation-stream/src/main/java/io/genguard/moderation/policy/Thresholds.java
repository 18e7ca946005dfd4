package io.genguard.moderation.policy;

/**
 * Score thresholds for one category: at or above {@code review} a person must look, at or above
 * {@code block} the output is quarantined. Both are probabilities, review at most block.
 */
public record Thresholds(double review, double block) {
  public Thresholds {
    if (!(review >= 0 && review <= 1) || !(block >= 0 && block <= 1)) {
      throw new IllegalArgumentException(
          "thresholds must be probabilities in 0..1, got review " + review + ", block " + block);
    }
    if (review > block) {
      throw new IllegalArgumentException(
          "review threshold "
              + review
              + " is above block threshold "
              + block
              + "; review must be <= block");
    }
  }
}
