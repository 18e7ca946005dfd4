package io.genguard.bias.job;

import java.util.Arrays;

/**
 * Running counts of one group (a campaign group, or a detected group in a live window). A Flink
 * POJO; category counts are indexed like the job's category list. Counts restored from a build with
 * another list are read by position and fitted to this build's ({@link RestoredCategories}).
 */
public class GroupCounts {
  public String model;
  public long count;
  public long unsafeCount;
  public double unsafeScoreSum;
  public long blockCount;
  public long reviewCount;
  public long releaseCount;
  public long[] categoryCounts;
  public long firstDecidedAt = Long.MAX_VALUE;
  public long lastDecidedAt = Long.MIN_VALUE;

  public GroupCounts() {}

  static GroupCounts empty(int categories) {
    GroupCounts counts = new GroupCounts();
    counts.categoryCounts = new long[categories];
    return counts;
  }

  /** The count of category {@code c}; 0 for a category these counts were not kept for. */
  long categoryCount(int c) {
    return c < categoryCounts.length ? categoryCounts[c] : 0;
  }

  /**
   * Pads the category counts with zeros, or trims them, to {@code categories} counts; returns how
   * many there were.
   */
  int fitTo(int categories) {
    int had = categoryCounts == null ? 0 : categoryCounts.length;
    if (had != categories) {
      categoryCounts =
          categoryCounts == null ? new long[categories] : Arrays.copyOf(categoryCounts, categories);
    }
    return had;
  }

  void add(VerdictFacts verdict) {
    if (model == null) {
      model = verdict.model;
    }
    count++;
    unsafeCount += verdict.unsafe ? 1 : 0;
    unsafeScoreSum += verdict.unsafeScore;
    switch (verdict.decision) {
      case "BLOCK" -> blockCount++;
      case "REVIEW" -> reviewCount++;
      default -> releaseCount++;
    }
    for (int c = 0; c < categoryCounts.length; c++) {
      if ((verdict.categoryFlags & (1 << c)) != 0) {
        categoryCounts[c]++;
      }
    }
    firstDecidedAt = Math.min(firstDecidedAt, verdict.decidedAt);
    lastDecidedAt = Math.max(lastDecidedAt, verdict.decidedAt);
  }

  /** The sum of both, with as many category counts as these have. */
  GroupCounts merge(GroupCounts other) {
    GroupCounts merged = empty(categoryCounts.length);
    merged.model = model != null ? model : other.model;
    merged.count = count + other.count;
    merged.unsafeCount = unsafeCount + other.unsafeCount;
    merged.unsafeScoreSum = unsafeScoreSum + other.unsafeScoreSum;
    merged.blockCount = blockCount + other.blockCount;
    merged.reviewCount = reviewCount + other.reviewCount;
    merged.releaseCount = releaseCount + other.releaseCount;
    for (int c = 0; c < categoryCounts.length; c++) {
      merged.categoryCounts[c] = categoryCounts[c] + other.categoryCount(c);
    }
    merged.firstDecidedAt = Math.min(firstDecidedAt, other.firstDecidedAt);
    merged.lastDecidedAt = Math.max(lastDecidedAt, other.lastDecidedAt);
    return merged;
  }
}
