package io.genguard.bias.analysis;

import io.genguard.bias.analysis.AnalysisResult.Disparity;
import io.genguard.bias.analysis.AnalysisResult.FourFifths;
import io.genguard.bias.analysis.AnalysisResult.GroupEstimate;
import io.genguard.bias.analysis.AnalysisResult.MetricResult;
import io.genguard.bias.analysis.AnalysisResult.PairwiseTest;
import io.genguard.bias.analysis.AnalysisResult.UntestedPair;
import io.genguard.bias.statistics.Interval;
import io.genguard.bias.statistics.MultipleComparisons;
import io.genguard.bias.statistics.ProportionTests;
import io.genguard.bias.statistics.Proportions;
import io.genguard.bias.statistics.RankTests;
import io.genguard.bias.statistics.TestResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * Compares groups on every metric: per-group estimates with intervals, disparity (max-min
 * difference and min/max ratio) with intervals from simultaneous per-group intervals, pairwise
 * tests (proportion tests for rates, Mann-Whitney U for scores) corrected as one family across
 * groups, metrics and categories, and the four-fifths rule on release rates. Plain Java: reports,
 * the statistical validation and the live alert share it.
 *
 * <p>Disparity intervals: every non-empty group of a metric gets an interval at confidence 1 - (1 -
 * c) / k for k groups (Bonferroni), so that all k cover their groups' true values together with
 * probability at least c (Wilson for rates; for the mean score, the union of the Student t interval
 * and the bootstrap percentile interval of the mean); the difference and the ratio are then bounded
 * by the most and least favourable values those intervals allow. The interval of the difference
 * therefore reaches 0, and that of the ratio 1, whenever the groups' intervals overlap: parity is
 * not ruled out. (Until 2026-12-02 they were bootstrap percentile intervals of the max-min
 * difference itself, which a maximum of noisy estimates biases upward: they never contained 0, even
 * for identical groups.)
 *
 * <p>Bootstrap (the scores' intervals): each group is resampled on its own (stratified, so group
 * sizes stay fixed), B times; intervals are percentile intervals (Efron and Tibshirani 1993, ch.
 * 13), widened to the Student t interval with n - 1 degrees of freedom where that is wider (always
 * at a handful of outputs, where the percentile interval is far too narrow: until 2026-12-06 two
 * identical groups of 2 outputs "ruled out" parity in a third of campaigns).
 *
 * <p>Small or constant groups (the scores' intervals): resampling, like the normal approximation,
 * gives a group whose scores are all equal an interval of zero width, which would let two such
 * groups (or a single output per group) "rule out" parity on no evidence. So a group with fewer
 * than {@value #MIN_OUTPUTS_FOR_SCORE_INTERVAL} outputs gets no interval ({@link Interval#UNKNOWN},
 * null in a report), and then neither does the score's disparity; a group of n &ge; 2 equal scores
 * v gets the distribution-free interval [v p, v p + 1 - p] with p = (1 - c)^(1 / (n - 1)) for
 * confidence c, which holds for any score distribution on [0, 1] (why: {@code
 * constantScoreInterval}).
 */
public final class DisparityAnalysis {
  /**
   * Fewest outputs a group needs for an interval of its mean unsafe score: one output says nothing
   * about the spread of the scores.
   */
  public static final int MIN_OUTPUTS_FOR_SCORE_INTERVAL = 2;

  private DisparityAnalysis() {}

  /** The metrics a report shows, in order: outcome rates, the score, then each category. */
  public static List<Metric> metrics(AnalysisSettings settings) {
    List<Metric> metrics = new ArrayList<>();
    metrics.add(Metric.UNSAFE_RATE);
    metrics.add(Metric.RELEASE_RATE);
    metrics.add(Metric.REVIEW_RATE);
    metrics.add(Metric.BLOCK_RATE);
    metrics.add(Metric.MEAN_UNSAFE_SCORE);
    for (String category : settings.categories()) {
      metrics.add(Metric.category(category));
    }
    return metrics;
  }

  /**
   * Analyses the observations of {@code groups} (groups without observations are shown, empty).
   *
   * @throws IllegalArgumentException when fewer than two groups are named or an observation belongs
   *     to a group not named
   */
  public static AnalysisResult analyse(
      List<String> groups, List<Observation> observations, AnalysisSettings settings) {
    if (groups.size() < 2) {
      throw new IllegalArgumentException(
          "A disparity needs at least two groups to compare, got " + groups);
    }
    Map<String, List<Observation>> byGroup = new LinkedHashMap<>();
    for (String group : groups) {
      byGroup.put(group, new ArrayList<>());
    }
    for (Observation observation : observations) {
      List<Observation> list = byGroup.get(observation.group());
      if (list == null) {
        throw new IllegalArgumentException(
            "Observation "
                + observation.requestId()
                + " belongs to group '"
                + observation.group()
                + "', which is not one of "
                + groups);
      }
      list.add(observation);
    }
    List<List<Observation>> data = new ArrayList<>(byGroup.values());
    List<Metric> metrics = metrics(settings);
    Bootstrap bootstrap = new Bootstrap(data, settings);

    List<MetricResult> results = new ArrayList<>();
    List<PairwiseTest> unadjusted = new ArrayList<>();
    List<UntestedPair> untested = new ArrayList<>();
    for (int m = 0; m < metrics.size(); m++) {
      Metric metric = metrics.get(m);
      MetricResult result = describe(metric, groups, data, settings, bootstrap);
      results.add(result);
      if (metric.tested() && result.testable()) {
        unadjusted.addAll(pairwise(metric, groups, data, result, untested));
      }
    }
    List<PairwiseTest> tests = correct(unadjusted, settings);
    boolean detected = tests.stream().anyMatch(PairwiseTest::significant);
    MetricResult release = results.get(metrics.indexOf(Metric.RELEASE_RATE));
    return new AnalysisResult(
        settings, groups, results, tests, untested, detected, fourFifths(release, settings));
  }

  private static MetricResult describe(
      Metric metric,
      List<String> groups,
      List<List<Observation>> data,
      AnalysisSettings settings,
      Bootstrap bootstrap) {
    List<GroupEstimate> estimates = new ArrayList<>();
    double[] values = new double[groups.size()];
    Interval[] simultaneous = new Interval[groups.size()];
    double groupConfidence = simultaneousConfidence(data, settings.confidence());
    TestResult omnibus;
    boolean testable;
    if (metric.kind() == Metric.Kind.RATE) {
      Predicate<Observation> event = metric.event(settings);
      long[] events = new long[groups.size()];
      long[] trials = new long[groups.size()];
      for (int g = 0; g < groups.size(); g++) {
        List<Observation> rows = data.get(g);
        List<String> eventRows = rows.stream().filter(event).map(Observation::requestId).toList();
        events[g] = eventRows.size();
        trials[g] = rows.size();
        values[g] = Proportions.rate(events[g], trials[g]);
        estimates.add(
            new GroupEstimate(
                groups.get(g),
                trials[g],
                events[g],
                values[g],
                Proportions.wilson(events[g], trials[g], settings.confidence()),
                eventRows));
        simultaneous[g] = Proportions.wilson(events[g], trials[g], groupConfidence);
      }
      omnibus = ProportionTests.chiSquare(events, trials);
      long totalEvents = Arrays.stream(events).sum();
      long total = Arrays.stream(trials).sum();
      testable = nonEmpty(trials) >= 2 && totalEvents > 0 && totalEvents < total;
    } else {
      double[][] scores = new double[groups.size()][];
      long[] sizes = new long[groups.size()];
      for (int g = 0; g < groups.size(); g++) {
        List<Observation> rows = data.get(g);
        scores[g] = rows.stream().mapToDouble(Observation::unsafeScore).toArray();
        sizes[g] = rows.size();
        values[g] = rows.isEmpty() ? Double.NaN : Arrays.stream(scores[g]).average().orElseThrow();
        estimates.add(
            new GroupEstimate(
                groups.get(g),
                rows.size(),
                -1,
                values[g],
                bootstrap.groupMeanInterval(g, scores[g], settings.confidence()),
                rows.stream().map(Observation::requestId).toList()));
        simultaneous[g] = bootstrap.groupMeanInterval(g, scores[g], groupConfidence);
      }
      omnibus = RankTests.kruskalWallis(scores);
      testable =
          nonEmpty(sizes) >= 2
              && Arrays.stream(scores).flatMapToDouble(Arrays::stream).distinct().limit(2).count()
                  == 2;
    }
    return new MetricResult(
        metric, estimates, disparity(groups, values, simultaneous), omnibus, testable);
  }

  /**
   * The pairwise tests of one testable metric. A pair with a group without outputs is skipped. A
   * pair that cannot differ (for a rate, no event in either group or only events; for the score,
   * one score shared by every output of both) is not tested: it goes to {@code untested} with the
   * reason, and stays out of the family. Whether a pair can differ depends only on its margins (the
   * events of both groups together, the pooled scores), which a difference between the groups does
   * not change; such a test could never reject, and counting it would only enlarge the correction
   * (Tarone 1990).
   */
  private static List<PairwiseTest> pairwise(
      Metric metric,
      List<String> groups,
      List<List<Observation>> data,
      MetricResult result,
      List<UntestedPair> untested) {
    List<PairwiseTest> tests = new ArrayList<>();
    for (int a = 0; a < groups.size(); a++) {
      for (int b = a + 1; b < groups.size(); b++) {
        GroupEstimate ea = result.perGroup().get(a);
        GroupEstimate eb = result.perGroup().get(b);
        if (ea.n() == 0 || eb.n() == 0) {
          continue; // a group without outputs: the report's headline names it (not compared)
        }
        String why = cannotDiffer(metric, ea, eb, data, a, b);
        if (why != null) {
          untested.add(new UntestedPair(metric.id(), groups.get(a), groups.get(b), why));
          continue;
        }
        TestResult test;
        if (metric.kind() == Metric.Kind.RATE) {
          test = ProportionTests.compare(ea.events(), ea.n(), eb.events(), eb.n());
        } else {
          test =
              RankTests.mannWhitney(
                      data.get(a).stream().mapToDouble(Observation::unsafeScore).toArray(),
                      data.get(b).stream().mapToDouble(Observation::unsafeScore).toArray())
                  .test();
        }
        tests.add(
            new PairwiseTest(
                metric.id(),
                groups.get(a),
                groups.get(b),
                ea.estimate(),
                eb.estimate(),
                ea.estimate() - eb.estimate(),
                test,
                Double.NaN,
                false));
      }
    }
    return tests;
  }

  /**
   * Why groups {@code a} and {@code b} (both with outputs) cannot differ on {@code metric}; null
   * when they can.
   */
  private static String cannotDiffer(
      Metric metric,
      GroupEstimate ea,
      GroupEstimate eb,
      List<List<Observation>> data,
      int a,
      int b) {
    if (metric.kind() == Metric.Kind.RATE) {
      long events = ea.events() + eb.events();
      if (events == 0) {
        return "neither group has an event (0 of " + ea.n() + ", 0 of " + eb.n() + ")";
      }
      if (events == ea.n() + eb.n()) {
        return "every output of both groups is an event";
      }
      return null;
    }
    double first = data.get(a).get(0).unsafeScore();
    boolean allEqual =
        data.get(a).stream().allMatch(o -> o.unsafeScore() == first)
            && data.get(b).stream().allMatch(o -> o.unsafeScore() == first);
    return allEqual ? "every output of both groups has the score " + first : null;
  }

  private static List<PairwiseTest> correct(List<PairwiseTest> tests, AnalysisSettings settings) {
    double[] p = tests.stream().mapToDouble(t -> t.test().pValue()).toArray();
    double[] adjusted = MultipleComparisons.adjust(p, settings.correction());
    List<PairwiseTest> corrected = new ArrayList<>(tests.size());
    for (int i = 0; i < tests.size(); i++) {
      PairwiseTest t = tests.get(i);
      corrected.add(
          new PairwiseTest(
              t.metricId(),
              t.groupA(),
              t.groupB(),
              t.estimateA(),
              t.estimateB(),
              t.difference(),
              t.test(),
              adjusted[i],
              adjusted[i] < settings.alpha()));
    }
    return corrected;
  }

  /** The confidence of each group's interval so that all non-empty groups' hold together. */
  static double simultaneousConfidence(List<List<Observation>> data, double confidence) {
    long groups = Math.max(1, data.stream().filter(rows -> !rows.isEmpty()).count());
    return 1 - (1 - confidence) / groups;
  }

  private static Disparity disparity(List<String> groups, double[] values, Interval[] intervals) {
    int highest = -1;
    int lowest = -1;
    for (int g = 0; g < values.length; g++) {
      if (Double.isNaN(values[g])) {
        continue;
      }
      if (highest < 0 || values[g] > values[highest]) {
        highest = g;
      }
      if (lowest < 0 || values[g] < values[lowest]) {
        lowest = g;
      }
    }
    if (nonEmpty(values) < 2) {
      return new Disparity(Double.NaN, Interval.UNKNOWN, Double.NaN, Interval.UNKNOWN, null, null);
    }
    double difference = values[highest] - values[lowest];
    double ratio = ratio(values[lowest], values[highest]);
    double lowestLow = Double.POSITIVE_INFINITY;
    double lowestHigh = Double.POSITIVE_INFINITY;
    double highestLow = Double.NEGATIVE_INFINITY;
    double highestHigh = Double.NEGATIVE_INFINITY;
    boolean everyGroupBounded = true;
    for (int g = 0; g < values.length; g++) {
      Interval interval = intervals[g];
      if (interval != null && interval.isKnown()) {
        lowestLow = Math.min(lowestLow, interval.low());
        lowestHigh = Math.min(lowestHigh, interval.high());
        highestLow = Math.max(highestLow, interval.low());
        highestHigh = Math.max(highestHigh, interval.high());
      } else if (!Double.isNaN(values[g])) {
        // A group with a value but no interval (too few outputs) could lie anywhere: bounding the
        // disparity by the other groups alone would claim more than the data say.
        everyGroupBounded = false;
      }
    }
    if (!everyGroupBounded || lowestLow == Double.POSITIVE_INFINITY) {
      return new Disparity(
          difference,
          Interval.UNKNOWN,
          ratio,
          Interval.UNKNOWN,
          groups.get(highest),
          groups.get(lowest));
    }
    // Overlapping intervals allow every group the same value: difference 0, ratio 1.
    boolean overlap = highestLow <= lowestHigh;
    return new Disparity(
        difference,
        new Interval(overlap ? 0 : highestLow - lowestHigh, highestHigh - lowestLow),
        ratio,
        new Interval(ratio(lowestLow, highestHigh), overlap ? 1 : ratio(lowestHigh, highestLow)),
        groups.get(highest),
        groups.get(lowest));
  }

  private static FourFifths fourFifths(MetricResult release, AnalysisSettings settings) {
    Disparity d = release.disparity();
    boolean flagged = !Double.isNaN(d.ratio()) && d.ratio() < settings.fourFifthsThreshold();
    boolean confident =
        d.ratioInterval().isKnown() && d.ratioInterval().high() < settings.fourFifthsThreshold();
    return new FourFifths(
        d.ratio(),
        d.ratioInterval(),
        settings.fourFifthsThreshold(),
        flagged,
        confident,
        d.lowestGroup(),
        d.highestGroup());
  }

  /** min / max, defined as 1 (parity) when every group is at 0. */
  static double ratio(double min, double max) {
    return max == 0 ? 1.0 : min / max;
  }

  private static int nonEmpty(long[] sizes) {
    return (int) Arrays.stream(sizes).filter(n -> n > 0).count();
  }

  private static int nonEmpty(double[] values) {
    return (int) Arrays.stream(values).filter(v -> !Double.isNaN(v)).count();
  }

  /**
   * An interval, at {@code confidence}, for the mean of scores in [0, 1] of which {@code n} &ge; 2
   * were all observed to equal {@code value}: [v p, v p + 1 - p] with p = (1 - confidence)^(1 / (n
   * - 1)). A mean outside it needs P(score = v) below p (the rest of the mass at 0 or 1 moves the
   * mean at most that far), and the chance that n draws all hit any one value of probability below
   * p is at most p^(n - 1) = 1 - confidence, summed over all such values. Wide for a handful of
   * outputs (n = 3 at 97.5%: about 0.84 wide), narrow for many (n = 1,000: under 0.004).
   */
  private static Interval constantScoreInterval(double value, int n, double confidence) {
    if (n < MIN_OUTPUTS_FOR_SCORE_INTERVAL) {
      return Interval.UNKNOWN;
    }
    double v = Math.min(1, Math.max(0, value));
    double p = Math.pow(1 - confidence, 1.0 / (n - 1));
    return new Interval(v * p, Math.min(1, v * p + 1 - p));
  }

  /** Stratified bootstrap replicates of every group's mean unsafe score, drawn once. */
  private static final class Bootstrap {
    private final int iterations;

    /** [group][iteration] resampled mean unsafe score. */
    private final double[][] groupMeans;

    Bootstrap(List<List<Observation>> data, AnalysisSettings settings) {
      this.iterations = settings.bootstrapIterations();
      this.groupMeans = new double[data.size()][];
      SplittableRandom random = new SplittableRandom(settings.seed());
      for (int g = 0; g < data.size() && iterations > 0; g++) {
        double[] scores = data.get(g).stream().mapToDouble(Observation::unsafeScore).toArray();
        groupMeans[g] = scores.length == 0 ? null : resampledMeans(scores, random);
      }
    }

    private double[] resampledMeans(double[] scores, SplittableRandom random) {
      double[] means = new double[iterations];
      for (int i = 0; i < iterations; i++) {
        double total = 0;
        for (int j = 0; j < scores.length; j++) {
          total += scores[random.nextInt(scores.length)];
        }
        means[i] = total / scores.length;
      }
      return means;
    }

    /**
     * Interval of a group's mean: the union of the Student t interval (n - 1 degrees of freedom)
     * and the bootstrap percentile interval (the t interval alone when bootstrap is off). None
     * below {@link #MIN_OUTPUTS_FOR_SCORE_INTERVAL} outputs, and the distribution-free {@code
     * constantScoreInterval} when every score is the same (both would have zero width).
     *
     * <p>Why the union: the percentile interval of a mean is about mean &plusmn; z s / sqrt(n) with
     * the plug-in s, too narrow for a few outputs (of 2 outputs it is their [min, max], and two
     * identical groups of 2 "ruled out" parity in a third of campaigns, of 3 in a tenth, more with
     * more groups); the t interval widens it by the t quantile and the n - 1 variance, and at 2-3
     * outputs it spans most of [0, 1]. For many outputs the two agree, and the bootstrap's side
     * keeps a skewed distribution's longer tail.
     */
    Interval groupMeanInterval(int group, double[] scores, double confidence) {
      if (scores.length < MIN_OUTPUTS_FOR_SCORE_INTERVAL) {
        return Interval.UNKNOWN;
      }
      if (Arrays.stream(scores).allMatch(score -> score == scores[0])) {
        return constantScoreInterval(scores[0], scores.length, confidence);
      }
      Interval t = studentT(scores, confidence);
      if (iterations == 0) {
        return t;
      }
      Interval bootstrap = percentile(groupMeans[group], confidence);
      return new Interval(Math.min(t.low(), bootstrap.low()), Math.max(t.high(), bootstrap.high()));
    }

    /** mean &plusmn; t(n - 1) s / sqrt(n), within [0, 1]; n &ge; 2. */
    private static Interval studentT(double[] scores, double confidence) {
      int n = scores.length;
      double mean = Arrays.stream(scores).average().orElseThrow();
      double variance = Arrays.stream(scores).map(s -> (s - mean) * (s - mean)).sum() / (n - 1);
      // No random generator: the distribution is only asked for a quantile.
      double t =
          new TDistribution(null, n - 1).inverseCumulativeProbability(1 - (1 - confidence) / 2);
      double half = t * Math.sqrt(variance / n);
      return new Interval(Math.max(0, mean - half), Math.min(1, mean + half));
    }

    private Interval percentile(double[] replicates, double confidence) {
      if (iterations == 0) {
        return Interval.UNKNOWN;
      }
      double[] sorted = replicates.clone();
      Arrays.sort(sorted);
      double tail = (1 - confidence) / 2;
      return new Interval(quantile(sorted, tail), quantile(sorted, 1 - tail));
    }

    private static double quantile(double[] sorted, double q) {
      double position = q * (sorted.length - 1);
      int below = (int) Math.floor(position);
      int above = Math.min(sorted.length - 1, below + 1);
      double weight = position - below;
      return sorted[below] * (1 - weight) + sorted[above] * weight;
    }
  }
}
