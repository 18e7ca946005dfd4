package io.genguard.bias.analysis;

import io.genguard.bias.statistics.MultipleComparisons;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import io.genguard.bias.statistics.ProportionTests;
import io.genguard.bias.statistics.TestResult;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The live test behind bias alerts: in one model's window, each detected group against the rest of
 * that window's traffic (one-vs-rest, so the family grows with the number of groups, not with its
 * square), on the unsafe rate, the block rate and every category rate; the whole family corrected
 * together. Plain Java over counts, so the Flink job and its tests share it.
 */
public final class LiveDisparity {
  private LiveDisparity() {}

  /**
   * Counts of one group in one window.
   *
   * @param categoryCounts per category of {@code categories}, in that order
   */
  public record WindowCounts(
      String group, long n, long unsafe, long block, long[] categoryCounts) {}

  /**
   * Alert settings.
   *
   * @param minGroupSize a group (and the rest) needs at least this many outputs to be tested
   */
  public record Settings(
      double alpha, Correction correction, int minGroupSize, List<String> categories)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    public Settings {
      categories = List.copyOf(categories);
    }
  }

  /** One significant comparison. */
  public record Finding(
      String group,
      String metric,
      long n,
      long events,
      double rate,
      long restN,
      long restEvents,
      double restRate,
      String method,
      double p,
      double pAdjusted) {}

  /** The window's verdict: how much was tested and what is significant. */
  public record Result(int groupsCompared, int tests, List<Finding> significant) {
    public boolean alert() {
      return !significant.isEmpty();
    }
  }

  /**
   * @param groups the window's groups (one output may be in several)
   * @param all the whole window, each output counted once
   */
  public static Result evaluate(List<WindowCounts> groups, WindowCounts all, Settings settings) {
    List<Finding> candidates = new ArrayList<>();
    List<Double> pValues = new ArrayList<>();
    int compared = 0;
    for (WindowCounts group : groups) {
      long restN = all.n() - group.n();
      if (group.n() < settings.minGroupSize() || restN < settings.minGroupSize()) {
        continue;
      }
      compared++;
      add(candidates, pValues, group, "unsafe_rate", group.unsafe(), all.unsafe(), restN);
      add(candidates, pValues, group, "block_rate", group.block(), all.block(), restN);
      for (int c = 0; c < settings.categories().size(); c++) {
        add(
            candidates,
            pValues,
            group,
            "category:" + settings.categories().get(c),
            group.categoryCounts()[c],
            all.categoryCounts()[c],
            restN);
      }
    }
    double[] adjusted =
        MultipleComparisons.adjust(
            pValues.stream().mapToDouble(Double::doubleValue).toArray(), settings.correction());
    List<Finding> significant = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      if (adjusted[i] < settings.alpha()) {
        Finding f = candidates.get(i);
        significant.add(
            new Finding(
                f.group(),
                f.metric(),
                f.n(),
                f.events(),
                f.rate(),
                f.restN(),
                f.restEvents(),
                f.restRate(),
                f.method(),
                f.p(),
                adjusted[i]));
      }
    }
    return new Result(compared, candidates.size(), significant);
  }

  private static void add(
      List<Finding> candidates,
      List<Double> pValues,
      WindowCounts group,
      String metric,
      long events,
      long allEvents,
      long restN) {
    long restEvents = allEvents - events;
    if (restEvents < 0 || events > group.n() || restEvents > restN) {
      throw new IllegalArgumentException(
          "Inconsistent window counts for group " + group.group() + " and " + metric);
    }
    long total = group.n() + restN;
    if (allEvents == 0 || allEvents == total) {
      return; // no variation: cannot differ, stays out of the family
    }
    TestResult test = ProportionTests.compare(events, group.n(), restEvents, restN);
    candidates.add(
        new Finding(
            group.group(),
            metric,
            group.n(),
            events,
            (double) events / group.n(),
            restN,
            restEvents,
            (double) restEvents / restN,
            test.method(),
            test.pValue(),
            Double.NaN));
    pValues.add(test.pValue());
  }
}
