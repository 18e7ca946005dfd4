package io.genguard.bias.analysis;

import io.genguard.bias.statistics.Interval;
import io.genguard.bias.statistics.TestResult;
import java.util.List;
import java.util.Optional;

/**
 * Everything a disparity analysis found: per-group estimates with intervals and the rows behind
 * them, disparity measures with intervals, the corrected family of pairwise tests and the verdict
 * on whether any disparity is significant.
 *
 * @param settings how it was computed
 * @param groups the groups compared, in report order
 * @param metrics one entry per metric, in report order
 * @param tests the pairwise tests of the corrected family
 * @param untested pairs of a tested metric that could not differ and were not tested (not in the
 *     family)
 * @param disparityDetected whether any test of the family is significant after correction
 * @param fourFifths the four-fifths rule on release rates
 */
public record AnalysisResult(
    AnalysisSettings settings,
    List<String> groups,
    List<MetricResult> metrics,
    List<PairwiseTest> tests,
    List<UntestedPair> untested,
    boolean disparityDetected,
    FourFifths fourFifths) {

  public AnalysisResult {
    groups = List.copyOf(groups);
    metrics = List.copyOf(metrics);
    tests = List.copyOf(tests);
    untested = List.copyOf(untested);
  }

  public Optional<MetricResult> metric(String id) {
    return metrics.stream().filter(m -> m.metric().id().equals(id)).findFirst();
  }

  public List<PairwiseTest> significantTests() {
    return tests.stream().filter(PairwiseTest::significant).toList();
  }

  /**
   * One metric across groups.
   *
   * @param testable false when the data cannot show a difference (no events at all, every output an
   *     event, fewer than two non-empty groups); such metrics stay out of the family
   * @param omnibus chi-square (rates) or Kruskal-Wallis (scores) across all groups, uncorrected
   */
  public record MetricResult(
      Metric metric,
      List<GroupEstimate> perGroup,
      Disparity disparity,
      TestResult omnibus,
      boolean testable) {
    public MetricResult {
      perGroup = List.copyOf(perGroup);
    }

    public Optional<GroupEstimate> group(String name) {
      return perGroup.stream().filter(g -> g.group().equals(name)).findFirst();
    }
  }

  /**
   * One group's value of one metric.
   *
   * @param n outputs of the group
   * @param events outputs counted by a rate; -1 for the mean score
   * @param estimate the rate or mean; NaN for an empty group
   * @param interval Wilson interval (rates) or bootstrap percentile interval (mean score)
   * @param rowIds request ids of the rows behind the figure: the events of a rate, every row of a
   *     mean
   */
  public record GroupEstimate(
      String group, long n, long events, double estimate, Interval interval, List<String> rowIds) {
    public GroupEstimate {
      rowIds = List.copyOf(rowIds);
    }
  }

  /**
   * Demographic-parity measures over the non-empty groups (Fairlearn's difference and ratio).
   *
   * @param difference max minus min of the group estimates
   * @param ratio min over max (1 when every group is 0)
   */
  public record Disparity(
      double difference,
      Interval differenceInterval,
      double ratio,
      Interval ratioInterval,
      String highestGroup,
      String lowestGroup) {}

  /**
   * One test of the corrected family.
   *
   * @param difference estimate of A minus estimate of B
   * @param pAdjusted p-value after the family's correction
   * @param significant {@code pAdjusted < alpha}
   */
  public record PairwiseTest(
      String metricId,
      String groupA,
      String groupB,
      double estimateA,
      double estimateB,
      double difference,
      TestResult test,
      double pAdjusted,
      boolean significant) {}

  /**
   * A pair of groups not tested on a metric because the data cannot show a difference between them
   * (e.g. neither has an event): not a test, and not in the family.
   *
   * @param reason why, in words
   */
  public record UntestedPair(String metricId, String groupA, String groupB, String reason) {}

  /**
   * The four-fifths rule (US EEOC Uniform Guidelines, 29 CFR 1607.4(D)) applied to the favourable
   * outcome of moderation, release: flagged when the lowest group's release rate is under 80% of
   * the highest group's.
   *
   * @param flaggedWithConfidence the whole interval of the ratio lies under the threshold
   */
  public record FourFifths(
      double ratio,
      Interval ratioInterval,
      double threshold,
      boolean flagged,
      boolean flaggedWithConfidence,
      String lowestGroup,
      String highestGroup) {}
}
