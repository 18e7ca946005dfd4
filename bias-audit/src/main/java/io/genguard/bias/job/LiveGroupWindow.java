package io.genguard.bias.job;

/** One detected group's counts in one model's tumbling window. A Flink POJO. */
public class LiveGroupWindow {
  /** The pseudo-group of every verdict of the window, counted once each. */
  public static final String ALL = "*";

  /** Verdicts in which moderation found no demographic group. */
  public static final String NONE = "none";

  public String model;
  public String group;
  public long windowStart;
  public long windowEnd;
  public GroupCounts counts;

  public LiveGroupWindow() {}
}
