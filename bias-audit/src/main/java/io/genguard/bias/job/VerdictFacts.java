package io.genguard.bias.job;

/**
 * What the bias job needs of one verdict, with the thresholds already applied. A Flink POJO (public
 * fields, no-arg constructor), so Flink serialises it without Kryo.
 */
public class VerdictFacts {
  public String requestId;
  public String verdictId;

  /**
   * The verdict's tenant (the request's, which the API binds to the submitting token's tenant). A
   * campaign counts only its own tenant's verdicts, so campaign totals are keyed by it too.
   */
  public String tenantId;

  /** Campaign id from the verdict's attributes, or null for live traffic. */
  public String campaignId;

  public String campaignGroup;

  /** The campaign sample index (attribute), the unit a campaign counts once; null if absent. */
  public String campaignSample;

  /** Generator model as backend/name@version. */
  public String model;

  public String[] detectedGroups;

  /** Decision time, epoch milliseconds: the event time of the live windows. */
  public long decidedAt;

  public double unsafeScore;
  public boolean unsafe;
  public String decision;

  /**
   * Bit i set when category i (of the job's category list) is at or above its threshold. Read by
   * position, like the counts of {@link GroupCounts}: no operator keeps verdicts in state (the
   * windows keep counts), and one restored in flight counts only under this build's categories.
   */
  public int categoryFlags;

  public VerdictFacts() {}
}
