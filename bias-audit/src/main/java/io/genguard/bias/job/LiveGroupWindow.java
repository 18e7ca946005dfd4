package io.genguard.bias.job;

/** One detected group's counts in one model's tumbling window. A Flink POJO. */
public class LiveGroupWindow {
  /** The pseudo-group of every verdict of the window, counted once each. */
  public static final String ALL = "*";

  /** Verdicts in which moderation found no demographic group. */
  public static final String NONE = "none";

  /**
   * Verdicts naming a group that is not one of the identity lexicon's ({@code axis:group}), each
   * counted once however many such groups it names. Moderation detects groups with the lexicon
   * only, so only a writer of moderation.verdicts other than GenGuard's moderation job names one;
   * counting each such string under its own key would let that writer grow the window state and the
   * published rows without bound.
   */
  public static final String UNKNOWN_GROUP = "unknown-group";

  /**
   * The model key of live verdicts whose window already counted {@code
   * GENGUARD_BIAS_LIVE_MAX_MODELS} other models ({@link LiveModelAdmission}), pooled whatever model
   * they name. No verdict's own model has this key ({@link DecodeVerdicts#modelKey} always has a
   * slash, or is {@code unknown}). Published like a model, never tested for disparities.
   */
  public static final String UNKNOWN_MODEL = "unknown-model";

  public String model;
  public String group;
  public long windowStart;
  public long windowEnd;
  public GroupCounts counts;

  public LiveGroupWindow() {}
}
