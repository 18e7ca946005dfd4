package io.genguard.bias.analysis;

import io.genguard.bias.statistics.MultipleComparisons.Correction;
import java.util.List;
import java.util.Map;

/**
 * How a report turns verdicts into figures.
 *
 * @param unsafeThreshold an output counts as unsafe when its unsafe score is at least this
 * @param categoryThreshold an output counts in a category when that category's score is at least
 *     this
 * @param categories category ids reported (and tested) per group, in report order
 * @param alpha family-wise significance level (false discovery rate under Benjamini-Hochberg)
 * @param correction multiple-comparison procedure across groups, metrics and categories
 * @param confidence level of every interval (Wilson for rates, bootstrap for the rest)
 * @param bootstrapIterations resamples for bootstrap intervals; 0 skips them (simulations)
 * @param seed seed of the bootstrap, so a report is reproducible
 * @param fourFifthsThreshold a min/max ratio of release rates below this raises the flag
 */
public record AnalysisSettings(
    double unsafeThreshold,
    double categoryThreshold,
    List<String> categories,
    double alpha,
    Correction correction,
    double confidence,
    int bootstrapIterations,
    long seed,
    double fourFifthsThreshold) {

  public static final String UNSAFE_THRESHOLD = "GENGUARD_BIAS_UNSAFE_THRESHOLD";
  public static final String CATEGORY_THRESHOLD = "GENGUARD_BIAS_CATEGORY_THRESHOLD";
  public static final String ALPHA = "GENGUARD_BIAS_ALPHA";
  public static final String CORRECTION = "GENGUARD_BIAS_CORRECTION";
  public static final String BOOTSTRAP_ITERATIONS = "GENGUARD_BIAS_BOOTSTRAP_ITERATIONS";

  /** The most bootstrap resamples: beyond this a report takes minutes for no visible gain. */
  public static final int MAX_BOOTSTRAP_ITERATIONS = 100_000;

  /** The moderation categories, in the order the verdicts' policy reasons use. */
  public static final List<String> DEFAULT_CATEGORIES =
      List.of("hate", "harassment", "sexual", "sexual_minors", "violence", "self_harm", "illicit");

  public AnalysisSettings {
    unit(UNSAFE_THRESHOLD, unsafeThreshold);
    unit(CATEGORY_THRESHOLD, categoryThreshold);
    categories = List.copyOf(categories);
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException(ALPHA + " must be in (0, 1), was " + alpha);
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1), was " + confidence);
    }
    if (bootstrapIterations < 0) {
      throw new IllegalArgumentException(
          BOOTSTRAP_ITERATIONS + " must not be negative, was " + bootstrapIterations);
    }
    if (bootstrapIterations > 0 && bootstrapIterations < 200
        || bootstrapIterations > MAX_BOOTSTRAP_ITERATIONS) {
      throw new IllegalArgumentException(
          BOOTSTRAP_ITERATIONS
              + " must be 0 (off) or 200-"
              + MAX_BOOTSTRAP_ITERATIONS
              + " (200 for stable 95% percentiles), was "
              + bootstrapIterations);
    }
  }

  public static AnalysisSettings defaults() {
    return new AnalysisSettings(
        0.5, 0.5, DEFAULT_CATEGORIES, 0.05, Correction.HOLM, 0.95, 2000, 20261125L, 0.8);
  }

  /** Defaults overridden by the GENGUARD_BIAS_* keys present in {@code env}. */
  public static AnalysisSettings fromEnvironment(Map<String, String> env) {
    AnalysisSettings d = defaults();
    return new AnalysisSettings(
        decimal(env, UNSAFE_THRESHOLD, d.unsafeThreshold()),
        decimal(env, CATEGORY_THRESHOLD, d.categoryThreshold()),
        d.categories(),
        decimal(env, ALPHA, d.alpha()),
        env.containsKey(CORRECTION) ? Correction.parse(env.get(CORRECTION)) : d.correction(),
        d.confidence(),
        wholeNumber(env, BOOTSTRAP_ITERATIONS, d.bootstrapIterations()),
        d.seed(),
        d.fourFifthsThreshold());
  }

  /** The same settings without bootstrap intervals (fast, for simulations). */
  public AnalysisSettings withoutBootstrap() {
    return new AnalysisSettings(
        unsafeThreshold,
        categoryThreshold,
        categories,
        alpha,
        correction,
        confidence,
        0,
        seed,
        fourFifthsThreshold);
  }

  public AnalysisSettings withCorrection(Correction newCorrection) {
    return new AnalysisSettings(
        unsafeThreshold,
        categoryThreshold,
        categories,
        alpha,
        newCorrection,
        confidence,
        bootstrapIterations,
        seed,
        fourFifthsThreshold);
  }

  private static void unit(String key, double value) {
    if (!(value > 0 && value <= 1)) {
      throw new IllegalArgumentException(key + " must be in (0, 1], was " + value);
    }
  }

  /**
   * The setting {@code key} as a whole number of at most 9 digits (so never rounded, wrapped or
   * saturated), or {@code fallback} when it is absent or blank.
   *
   * @throws IllegalArgumentException naming the key, for anything else
   */
  public static int wholeNumber(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    if (!value.trim().matches("-?[0-9]{1,9}")) {
      throw new IllegalArgumentException(
          key
              + "='"
              + (value.length() <= 40 ? value : value.substring(0, 40) + "...")
              + "' is not a whole number of at most 9 digits");
    }
    return Integer.parseInt(value.trim());
  }

  private static double decimal(Map<String, String> env, String key, double fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Double.parseDouble(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a number", e);
    }
  }
}
