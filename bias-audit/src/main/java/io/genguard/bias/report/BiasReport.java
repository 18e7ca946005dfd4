package io.genguard.bias.report;

import java.util.List;
import java.util.Map;

/**
 * A bias report: the document persisted in PostgreSQL and exported as JSON (exactly this record),
 * CSV and HTML. Numbers that the data cannot determine are null, never NaN. Every figure carries
 * the request ids of the rows behind it; {@link #rows()} links each request id to its verdict.
 *
 * @param formatVersion version of this document's layout
 * @param status COMPLETE (every planned sample judged) or PARTIAL
 * @param method how the figures were computed, in words
 * @param parameters the numbers behind {@code method}
 * @param untestedPairs pairs of groups a tested metric could not compare (e.g. neither has an
 *     event): not tests, not in the family; empty in documents written before 2026-12-06
 */
public record BiasReport(
    int formatVersion,
    String reportId,
    String generatedAt,
    String status,
    Campaign campaign,
    String method,
    Parameters parameters,
    SampleSizes sampleSizes,
    Headline headline,
    List<GroupFigures> groups,
    List<MetricDisparity> disparities,
    List<Test> tests,
    List<UntestedPair> untestedPairs,
    FourFifths fourFifths,
    List<Row> rows,
    List<Missing> missing,
    List<StreamCheck> streamCheck,
    List<String> limits) {

  public static final int FORMAT_VERSION = 1;

  public BiasReport {
    untestedPairs = untestedPairs == null ? List.of() : untestedPairs;
  }

  /** What was audited and how the campaign was built. */
  public record Campaign(
      String campaignId,
      String name,
      String design,
      String backend,
      String model,
      String tenant,
      List<String> groups,
      List<String> templates,
      int samplesPerGroup,
      int plannedSamples,
      String createdAt,
      String specSha256,
      List<Map<String, String>> dataSources) {}

  /** The parameters of the method. */
  public record Parameters(
      double unsafeThreshold,
      double categoryThreshold,
      double alpha,
      String correction,
      double confidence,
      int bootstrapIterations,
      long bootstrapSeed,
      double fourFifthsThreshold,
      int familySize) {}

  /**
   * Sample sizes, and what they can detect.
   *
   * @param recommendedPerGroup samples per group to detect a 5-point unsafe-rate difference from
   *     this campaign's pooled rate with 90% power, family-wise alpha over this campaign's family
   * @param minimumDetectableDifference the smallest unsafe-rate increase this campaign's smallest
   *     group detects with 90% power
   */
  public record SampleSizes(
      int planned,
      int analysed,
      Map<String, Long> perGroup,
      int recommendedPerGroup,
      String recommendationBasis,
      Double minimumDetectableDifference) {}

  /**
   * The answer first.
   *
   * @param notCompared why some groups were compared with none: the groups without any judged
   *     output and what became of their samples; null when every group had one (and in reports
   *     stored before this field)
   */
  public record Headline(
      boolean disparityDetected,
      int significantTests,
      int testsRun,
      Double unsafeRateDifference,
      Double unsafeRateDifferenceLow,
      Double unsafeRateDifferenceHigh,
      String highestUnsafeGroup,
      String lowestUnsafeGroup,
      boolean fourFifthsFlag,
      String summary,
      String notCompared) {}

  /**
   * One group's figures. The flat rate fields repeat the main figures in the shape the audit UI
   * charts ({@code unsafeRateInterval} is [low, high]).
   */
  public record GroupFigures(
      String group,
      long n,
      Double unsafeRate,
      List<Double> unsafeRateInterval,
      Double releaseRate,
      Double reviewRate,
      Double blockRate,
      Double meanUnsafeScore,
      List<Figure> figures) {}

  /**
   * One figure of one group.
   *
   * @param events outputs a rate counts; null for the mean score
   * @param requestIds the rows behind the figure: a rate's events, or every row of a mean
   */
  public record Figure(
      String metric,
      String label,
      Double estimate,
      Double low,
      Double high,
      Long events,
      List<String> requestIds) {}

  /** Disparity of one metric across groups, with its intervals and the omnibus test. */
  public record MetricDisparity(
      String metric,
      String label,
      boolean tested,
      boolean testable,
      Double difference,
      Double differenceLow,
      Double differenceHigh,
      Double ratio,
      Double ratioLow,
      Double ratioHigh,
      String highestGroup,
      String lowestGroup,
      String omnibusMethod,
      Double omnibusStatistic,
      double omnibusP) {}

  /** One test of the corrected family. */
  public record Test(
      String metric,
      String groupA,
      String groupB,
      Double estimateA,
      Double estimateB,
      Double difference,
      String method,
      Double statistic,
      double p,
      double pAdjusted,
      boolean significant) {}

  /** A pair of groups not tested on a metric, and why (the data cannot show a difference). */
  public record UntestedPair(String metric, String groupA, String groupB, String reason) {}

  /** The four-fifths rule on release rates. */
  public record FourFifths(
      Double ratio,
      Double low,
      Double high,
      double threshold,
      boolean flagged,
      boolean flaggedWithConfidence,
      String lowestGroup,
      String highestGroup) {}

  /**
   * One analysed sample: the request, its verdict and the output text (shortened; null where the
   * report keeps no text for the row, see {@code ReportBuilder.TEXT_ROWS}).
   */
  public record Row(
      int sampleIndex,
      String group,
      int slot,
      int templateIndex,
      String term,
      String requestId,
      String verdictId,
      String decision,
      double unsafeScore,
      boolean unsafe,
      List<String> flaggedCategories,
      List<String> detectedGroups,
      String model,
      String text) {}

  /** A planned sample without a verdict. */
  public record Missing(
      int sampleIndex, String group, String state, List<String> requestIds, String reason) {}

  /**
   * The Flink job's running totals for a group (bias.metrics, CAMPAIGN scope) next to the report's
   * own count from the audit store: two independent paths that must agree once a campaign settles.
   */
  public record StreamCheck(
      String group,
      long reportCount,
      long reportUnsafe,
      Long streamCount,
      Long streamUnsafe,
      boolean agrees) {}
}
