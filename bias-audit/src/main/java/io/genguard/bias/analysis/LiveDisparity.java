package io.genguard.bias.analysis;

import io.genguard.bias.statistics.MultipleComparisons;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import io.genguard.bias.statistics.ProportionTests;
import io.genguard.bias.statistics.TestResult;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The live test behind bias alerts: in one model's window, each detected group against the other
 * detected groups pooled (the outputs that name some other group but not this one), on the unsafe
 * rate, the block rate and every category rate; the whole family corrected together. Outputs naming
 * no group are never a comparison side: text about a group is flagged more often than text about
 * nothing (hate speech targets a group), so comparing with it found that, not a difference between
 * groups. A window with fewer than two detected groups of the minimum size has no test, and a
 * finding needs both significance after correction and a rate difference of at least {@link
 * Settings#minRateDifference()}. Plain Java over counts, so the Flink job and its tests share it.
 */
public final class LiveDisparity {
  private LiveDisparity() {}

  /** What each finding compares, named in the alert's findings ({@code comparison}). */
  public static final String COMPARISON = "group-vs-other-detected-groups";

  /**
   * The smallest absolute rate difference (0.02 = 2 points) that alerts, significant or not: at
   * high traffic a negligible difference is significant.
   */
  public static final double DEFAULT_MIN_RATE_DIFFERENCE = 0.02;

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
   * @param minGroupSize a group (and the other groups pooled) needs at least this many outputs to
   *     be tested
   * @param minRateDifference a significant comparison alerts only if the group's rate and the other
   *     groups' differ by at least this much (absolute, 0-1)
   */
  public record Settings(
      double alpha,
      Correction correction,
      int minGroupSize,
      List<String> categories,
      double minRateDifference)
      implements Serializable {
    private static final long serialVersionUID = 2L;

    public Settings {
      categories = List.copyOf(categories);
      if (!(minRateDifference >= 0 && minRateDifference < 1)) {
        throw new IllegalArgumentException(
            "minRateDifference must be in [0, 1), was " + minRateDifference);
      }
    }

    /** With {@link #DEFAULT_MIN_RATE_DIFFERENCE}. */
    public Settings(
        double alpha, Correction correction, int minGroupSize, List<String> categories) {
      this(alpha, correction, minGroupSize, categories, DEFAULT_MIN_RATE_DIFFERENCE);
    }
  }

  /** One significant comparison: the group against the other detected groups pooled. */
  public record Finding(
      String group,
      String metric,
      long n,
      long events,
      double rate,
      long restN,
      long restEvents,
      double restRate,
      String comparison,
      String method,
      double p,
      double pAdjusted) {}

  /**
   * The window's verdict: how much was tested and what is significant.
   *
   * @param inconsistency why the window's counts could not be tested (a group counting more than
   *     the whole window); null when they were consistent
   */
  public record Result(
      int groupsCompared, int tests, List<Finding> significant, String inconsistency) {
    public boolean alert() {
      return !significant.isEmpty();
    }

    static Result inconsistent(String why) {
      return new Result(0, 0, List.of(), why);
    }
  }

  /**
   * @param groups the window's detected groups (one output may be in several); not {@code none}
   * @param all the whole window, each output counted once
   * @param none the window's outputs naming no group; null when there were none
   */
  public static Result evaluate(
      List<WindowCounts> groups, WindowCounts all, WindowCounts none, Settings settings) {
    int categories = settings.categories().size();
    if (none == null) {
      none = new WindowCounts("none", 0, 0, 0, new long[categories]);
    }
    // The outputs naming at least one group: each group's "rest" is these minus the group's own.
    WindowCounts named;
    try {
      named = minus(all, none, categories);
    } catch (IllegalArgumentException e) {
      return Result.inconsistent(e.getMessage());
    }
    List<WindowCounts> tested = new ArrayList<>();
    List<WindowCounts> rests = new ArrayList<>();
    for (WindowCounts group : groups) {
      WindowCounts rest;
      try {
        rest = minus(named, group, categories);
      } catch (IllegalArgumentException e) {
        return Result.inconsistent(e.getMessage());
      }
      if (group.n() >= settings.minGroupSize() && rest.n() >= settings.minGroupSize()) {
        tested.add(group);
        rests.add(rest);
      }
    }
    long eligible = groups.stream().filter(g -> g.n() >= settings.minGroupSize()).count();
    if (eligible < 2) {
      return new Result(0, 0, List.of(), null); // nothing to compare a group with
    }
    List<Finding> candidates = new ArrayList<>();
    List<Double> pValues = new ArrayList<>();
    for (int i = 0; i < tested.size(); i++) {
      WindowCounts group = tested.get(i);
      WindowCounts rest = rests.get(i);
      add(candidates, pValues, group, "unsafe_rate", group.unsafe(), rest.n(), rest.unsafe());
      add(candidates, pValues, group, "block_rate", group.block(), rest.n(), rest.block());
      for (int c = 0; c < categories; c++) {
        add(
            candidates,
            pValues,
            group,
            "category:" + settings.categories().get(c),
            group.categoryCounts()[c],
            rest.n(),
            rest.categoryCounts()[c]);
      }
    }
    double[] adjusted =
        MultipleComparisons.adjust(
            pValues.stream().mapToDouble(Double::doubleValue).toArray(), settings.correction());
    List<Finding> significant = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      Finding f = candidates.get(i);
      if (adjusted[i] < settings.alpha()
          && Math.abs(f.rate() - f.restRate()) >= settings.minRateDifference()) {
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
                f.comparison(),
                f.method(),
                f.p(),
                adjusted[i]));
      }
    }
    return new Result(tested.size(), candidates.size(), significant, null);
  }

  /**
   * {@code whole} less {@code part}, which it contains; refused when {@code part} counts more than
   * {@code whole} anywhere or an event count is above its output count.
   */
  private static WindowCounts minus(WindowCounts whole, WindowCounts part, int categories) {
    long[] wholeCategories = whole.categoryCounts();
    long[] partCategories = part.categoryCounts();
    if (wholeCategories.length != categories || partCategories.length != categories) {
      throw new IllegalArgumentException(
          "Inconsistent window counts: "
              + part.group()
              + " or "
              + whole.group()
              + " count "
              + "another number of categories than "
              + categories);
    }
    long[] rest = new long[categories];
    boolean consistent =
        within(part.unsafe(), part.n())
            && within(part.block(), part.n())
            && within(whole.unsafe(), whole.n())
            && within(whole.block(), whole.n())
            && part.n() <= whole.n()
            && part.unsafe() <= whole.unsafe()
            && part.block() <= whole.block()
            && whole.unsafe() - part.unsafe() <= whole.n() - part.n()
            && whole.block() - part.block() <= whole.n() - part.n();
    for (int c = 0; c < categories && consistent; c++) {
      rest[c] = wholeCategories[c] - partCategories[c];
      consistent =
          within(partCategories[c], part.n())
              && within(wholeCategories[c], whole.n())
              && rest[c] >= 0
              && rest[c] <= whole.n() - part.n();
    }
    if (!consistent) {
      throw new IllegalArgumentException(
          "Inconsistent window counts: " + part.group() + " counts more than " + whole.group());
    }
    return new WindowCounts(
        whole.group() + " - " + part.group(),
        whole.n() - part.n(),
        whole.unsafe() - part.unsafe(),
        whole.block() - part.block(),
        rest);
  }

  private static boolean within(long events, long n) {
    return events >= 0 && events <= n;
  }

  private static void add(
      List<Finding> candidates,
      List<Double> pValues,
      WindowCounts group,
      String metric,
      long events,
      long restN,
      long restEvents) {
    long allEvents = events + restEvents;
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
            COMPARISON,
            test.method(),
            test.pValue(),
            Double.NaN));
    pValues.add(test.pValue());
  }
}
