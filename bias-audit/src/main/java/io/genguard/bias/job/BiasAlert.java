package io.genguard.bias.job;

/**
 * A live bias alert as it leaves the job (persisted as a {@code bias_audit.live_alert} row). A
 * Flink POJO; {@code findings} is the JSON list of significant comparisons.
 */
public class BiasAlert {
  public String alertId;
  public String model;
  public long windowStart;
  public long windowEnd;
  public int groupsCompared;
  public int tests;
  public String correction;
  public double alpha;
  public String findings;
  public long detectedAt;

  public BiasAlert() {}
}
