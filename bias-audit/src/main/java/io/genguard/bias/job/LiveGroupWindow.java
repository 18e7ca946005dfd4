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

  public String model;
  public String group;
  public long windowStart;
  public long windowEnd;
  public GroupCounts counts;

  public LiveGroupWindow() {}
}
