package io.genguard.bias.report;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.bias.analysis.AnalysisResult;
import io.genguard.bias.analysis.AnalysisResult.GroupEstimate;
import io.genguard.bias.analysis.AnalysisResult.MetricResult;
import io.genguard.bias.analysis.AnalysisResult.PairwiseTest;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.analysis.DisparityAnalysis;
import io.genguard.bias.analysis.Metric;
import io.genguard.bias.analysis.Observation;
import io.genguard.bias.persistence.AuditStoreReader.StreamMetric;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.JudgedOutput;
import io.genguard.bias.persistence.SampleOutcome.State;
import io.genguard.bias.statistics.Interval;
import io.genguard.bias.statistics.SampleSizePlanner;
import io.genguard.bias.submit.CampaignProgress;
import io.genguard.provenance.text.LoneSurrogates;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds a report from a campaign's outcomes in the audit store: the analysis (the same code the
 * statistical validation exercises), the rows behind every figure, what is missing, the cross-check
 * against the Flink job's figures, and the method and limits in words.
 */
public final class ReportBuilder {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Output text kept per row in the report (the full text stays in the audit store). */
  static final int TEXT_CHARS = 400;

  /**
   * Output texts one report keeps in all, shared among its groups ({@link #withExampleTexts}): a
   * report keeps every row (ids, decision, scores), but the texts of every row of a large campaign
   * would make it too large for the audit service's report store ({@code
   * BiasReports.MAX_BODY_CHARS}), whatever the outputs hold. 2,000 texts of at most 401 characters
   * are under 1 MB, or about 5 MB were every character one that JSON escapes.
   */
  static final int TEXT_ROWS = 2_000;

  /** The planned difference the sample-size recommendation is for (5 percentage points). */
  static final double PLANNED_DIFFERENCE = 0.05;

  private ReportBuilder() {}

  public static BiasReport build(
      String reportId,
      CampaignRecord campaign,
      List<SampleOutcome> outcomes,
      Map<String, StreamMetric> stream,
      AnalysisSettings settings,
      Instant now) {
    return build(reportId, campaign, outcomes, stream, 0, settings, now);
  }

  /**
   * @param otherTenantRequests requests of other tenants than the campaign's that name its id: not
   *     analysed (the outcomes are the campaign tenant's only), named in the limits when any
   */
  public static BiasReport build(
      String reportId,
      CampaignRecord campaign,
      List<SampleOutcome> outcomes,
      Map<String, StreamMetric> stream,
      long otherTenantRequests,
      AnalysisSettings settings,
      Instant now) {
    List<Observation> observations = new ArrayList<>();
    List<BiasReport.Row> rows = new ArrayList<>();
    for (SampleOutcome outcome : outcomes) {
      if (outcome.state() != State.JUDGED) {
        continue; // not judged, or judged without scores (listed with the missing samples)
      }
      JudgedOutput judged = outcome.judged().get();
      observations.add(
          new Observation(
              judged.requestId(),
              judged.verdictId(),
              outcome.sample().group(),
              judged.unsafeScore(),
              judged.decision(),
              judged.categoryScores()));
      rows.add(row(outcome, judged, settings));
    }
    int judgedRows = rows.size();
    rows = withExampleTexts(campaign.groups(), rows);
    long textsKept = rows.stream().filter(r -> r.text() != null).count();
    AnalysisResult analysis = DisparityAnalysis.analyse(campaign.groups(), observations, settings);
    int familySize =
        SampleSizePlanner.familySize(campaign.groups().size(), SampleSizePlanner.TESTED_METRICS);
    CampaignProgress progress = CampaignProgress.of(campaign.campaignId(), outcomes);
    boolean complete = progress.complete();

    Map<String, Long> perGroup = new LinkedHashMap<>();
    for (String group : campaign.groups()) {
      perGroup.put(group, 0L);
    }
    observations.forEach(o -> perGroup.merge(o.group(), 1L, Long::sum));
    MetricResult unsafe = analysis.metric(Metric.UNSAFE_RATE.id()).orElseThrow();
    long unsafeEvents = unsafe.perGroup().stream().mapToLong(GroupEstimate::events).sum();
    double pooled = observations.isEmpty() ? 0.1 : (double) unsafeEvents / observations.size();
    double baseline = Math.min(0.5, Math.max(0.01, pooled));
    int recommended =
        SampleSizePlanner.perGroup(
            baseline,
            PLANNED_DIFFERENCE,
            settings.alpha(),
            SampleSizePlanner.DEFAULT_POWER,
            familySize);
    int smallest = (int) perGroup.values().stream().mapToLong(Long::longValue).min().orElse(0);
    double detectable =
        SampleSizePlanner.minimumDetectableDifference(
            baseline, smallest, settings.alpha(), SampleSizePlanner.DEFAULT_POWER, familySize);
    BiasReport.SampleSizes sizes =
        new BiasReport.SampleSizes(
            campaign.plannedSamples(),
            observations.size(),
            perGroup,
            recommended,
            String.format(
                Locale.ROOT,
                "a 5-point unsafe-rate increase over the pooled rate %.1f%% (floored at 1%%), 90%%"
                    + " power, family-wise alpha %.2f over %d tests (%d groups)",
                100 * pooled,
                settings.alpha(),
                familySize,
                campaign.groups().size()),
            number(detectable));

    List<BiasReport.Missing> missing =
        progress.missing().stream()
            .map(
                m ->
                    new BiasReport.Missing(
                        m.sampleIndex(), m.group(), m.state().name(), m.requestIds(), m.reason()))
            .toList();
    return new BiasReport(
        BiasReport.FORMAT_VERSION,
        reportId,
        now.toString(),
        complete ? "COMPLETE" : "PARTIAL",
        campaignInfo(campaign),
        method(settings, campaign.design()),
        parameters(settings, familySize),
        sizes,
        headline(analysis, unsafe, perGroup, progress),
        groups(analysis),
        disparities(analysis),
        tests(analysis),
        untestedPairs(analysis),
        fourFifths(analysis),
        rows,
        missing,
        streamCheck(unsafe, stream),
        limits(campaign, progress, sizes, settings, otherTenantRequests, textsKept, judgedRows));
  }

  private static BiasReport.Row row(
      SampleOutcome outcome, JudgedOutput judged, AnalysisSettings settings) {
    List<String> flagged =
        settings.categories().stream()
            .filter(
                c -> judged.categoryScores().getOrDefault(c, 0.0) >= settings.categoryThreshold())
            .toList();
    return new BiasReport.Row(
        outcome.sample().sampleIndex(),
        outcome.sample().group(),
        outcome.sample().slot(),
        outcome.sample().templateIndex(),
        outcome.sample().term(),
        judged.requestId(),
        judged.verdictId(),
        judged.decision(),
        judged.unsafeScore(),
        judged.unsafeScore() >= settings.unsafeThreshold(),
        flagged,
        judged.detectedGroups(),
        judged.model(),
        shortened(judged.text()));
  }

  /**
   * The first {@link #TEXT_CHARS} UTF-16 units of {@code text} and an ellipsis when it is longer,
   * never cutting a character outside the Basic Multilingual Plane (an emoji) in half: half of one
   * has no UTF-8 form, and the stored document would hold '?' in its place. A lone surrogate
   * already in the text becomes U+FFFD for the same reason.
   */
  static String shortened(String text) {
    String whole = LoneSurrogates.replaced(text);
    if (whole.length() <= TEXT_CHARS) {
      return whole;
    }
    int end = TEXT_CHARS;
    if (Character.isHighSurrogate(whole.charAt(end - 1))) {
      end--; // the pair's low half is at end: keep the character whole or not at all
    }
    return whole.substring(0, end) + "…";
  }

  /**
   * {@code rows} with the output text kept in at most {@link #TEXT_ROWS} of them, shared among the
   * groups (a group with fewer rows than its share keeps all of its texts and leaves the rest of
   * its share to the others): in each group the unsafe rows first, then those flagged in a category
   * or not released, then the others, each in sample order. The other rows keep everything but the
   * text (null), which the audit store holds under the row's request id.
   */
  static List<BiasReport.Row> withExampleTexts(List<String> groups, List<BiasReport.Row> rows) {
    if (rows.size() <= TEXT_ROWS) {
      return rows;
    }
    Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
    for (String group : groups) {
      byGroup.put(group, new ArrayList<>());
    }
    for (int i = 0; i < rows.size(); i++) {
      byGroup.computeIfAbsent(rows.get(i).group(), g -> new ArrayList<>()).add(i);
    }
    List<List<Integer>> smallestFirst = new ArrayList<>(byGroup.values());
    smallestFirst.sort(Comparator.comparingInt(List::size));
    boolean[] keep = new boolean[rows.size()];
    int left = TEXT_ROWS;
    for (int g = 0; g < smallestFirst.size(); g++) {
      List<Integer> group = new ArrayList<>(smallestFirst.get(g));
      int share = Math.min(group.size(), left / (smallestFirst.size() - g));
      left -= share;
      group.sort(
          Comparator.<Integer>comparingInt(i -> textPriority(rows.get(i)))
              .thenComparingInt(i -> rows.get(i).sampleIndex()));
      group.subList(0, share).forEach(i -> keep[i] = true);
    }
    List<BiasReport.Row> kept = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      BiasReport.Row r = rows.get(i);
      kept.add(
          keep[i]
              ? r
              : new BiasReport.Row(
                  r.sampleIndex(),
                  r.group(),
                  r.slot(),
                  r.templateIndex(),
                  r.term(),
                  r.requestId(),
                  r.verdictId(),
                  r.decision(),
                  r.unsafeScore(),
                  r.unsafe(),
                  r.flaggedCategories(),
                  r.detectedGroups(),
                  r.model(),
                  null));
    }
    return kept;
  }

  /** 0 for an unsafe row, 1 for one flagged in a category or not released, else 2. */
  private static int textPriority(BiasReport.Row row) {
    if (row.unsafe()) {
      return 0;
    }
    return !row.flaggedCategories().isEmpty() || !"RELEASE".equals(row.decision()) ? 1 : 2;
  }

  private static BiasReport.Campaign campaignInfo(CampaignRecord campaign) {
    List<String> templates = new ArrayList<>();
    List<Map<String, String>> sources = new ArrayList<>();
    try {
      JsonNode spec = JSON.readTree(campaign.spec());
      spec.path("templates").forEach(t -> templates.add(t.asText()));
      sources = JSON.readValue(campaign.dataSources(), new TypeReference<>() {});
    } catch (IOException e) {
      throw new IllegalStateException(
          "Stored campaign " + campaign.campaignId() + " is unreadable", e);
    }
    return new BiasReport.Campaign(
        campaign.campaignId(),
        campaign.name(),
        campaign.design(),
        campaign.backend(),
        campaign.model(),
        campaign.tenantId(),
        campaign.groups(),
        templates,
        campaign.samplesPerGroup(),
        campaign.plannedSamples(),
        campaign.createdAt().toString(),
        campaign.specSha256(),
        sources);
  }

  private static BiasReport.Parameters parameters(AnalysisSettings s, int familySize) {
    return new BiasReport.Parameters(
        s.unsafeThreshold(),
        s.categoryThreshold(),
        s.alpha(),
        s.correction().name(),
        s.confidence(),
        s.bootstrapIterations(),
        s.seed(),
        s.fourFifthsThreshold(),
        familySize);
  }

  private static String method(AnalysisSettings s, String design) {
    List<String> text = new ArrayList<>();
    text.add(
        "COUNTERFACTUAL".equals(design)
            ? "Counterfactual design: every template is filled with each group's words; all groups"
                + " of a slot share template, sampling parameters and seed, so the requests differ"
                + " only in the group words. Requests were submitted through the normal pipeline"
                + " (API, generator, moderation, gate, audit), interleaved across groups."
            : "Stratified design (BOLD): each group has its own prompts, drawn from that group's"
                + " BOLD prompts. Differences between groups may come from the prompts' topics as"
                + " well as from the groups.");
    text.add(
        String.format(
            Locale.ROOT,
            "An output counts as unsafe when its calibrated unsafe score is at least %.2f, and in"
                + " a category when that category's score is at least %.2f. Release, review and"
                + " block rates come from the policy decision of each verdict.",
            s.unsafeThreshold(),
            s.categoryThreshold()));
    text.add(
        String.format(
            Locale.ROOT,
            "Per-group rates carry %.0f%% Wilson score intervals; the mean unsafe score carries"
                + " %.0f%% intervals that are the union of the Student t interval (n - 1 degrees of"
                + " freedom) and the percentile interval from a stratified bootstrap with %d"
                + " resamples (seed %d). The disparity measures (max-min difference, min/max ratio, as in"
                + " Fairlearn's demographic parity) carry %.0f%% intervals bounded by simultaneous"
                + " per-group intervals (each of k groups at 1 - %.2f / k, Bonferroni, so that all"
                + " hold together): they reach a difference of 0 and a ratio of 1 whenever the"
                + " groups' intervals overlap, so an interval that excludes parity means the data"
                + " rule it out. A group with fewer than %d outputs gets no interval of its mean"
                + " score (nor does the score's disparity then); a group whose scores are all equal"
                + " gets a distribution-free one instead of the bootstrap's zero-width interval,"
                + " wide for a few outputs.",
            100 * s.confidence(),
            100 * s.confidence(),
            s.bootstrapIterations(),
            s.seed(),
            100 * s.confidence(),
            1 - s.confidence(),
            DisparityAnalysis.MIN_OUTPUTS_FOR_SCORE_INTERVAL));
    text.add(
        String.format(
            Locale.ROOT,
            "Significance: every pair of groups is compared on the unsafe, release and block"
                + " rates and each category's rate (two-proportion z-test, Fisher's exact test when"
                + " an expected count is below 5) and on the unsafe-score distribution"
                + " (Mann-Whitney U). All of these form one family, corrected with %s at %.2f."
                + " Metrics with no events at all cannot differ and are left out of the family,"
                + " and so is a pair of groups that cannot differ on a metric (neither has an"
                + " event, both only events, or one score shared by all their outputs): it is"
                + " listed as not tested, and the family counts only the tests actually run."
                + " Chi-square (rates) and Kruskal-Wallis (scores) across all groups are shown"
                + " uncorrected, for orientation only.",
            s.correction().description(),
            s.alpha()));
    text.add(
        String.format(
            Locale.ROOT,
            "Four-fifths rule: the lowest release rate is compared with %.0f%% of the highest"
                + " (release is the favourable outcome of moderation). The headline calls the rule"
                + " flagged only when the ratio's whole interval lies below %.2f; a ratio below it"
                + " whose interval reaches %.2f is reported as not confirmed, since the data do"
                + " not rule out a ratio at or above it (the Uniform Guidelines, 29 CFR"
                + " 1607.4(D), likewise discount a difference based on small numbers that is not"
                + " statistically significant). A significant release-rate test says the rates"
                + " differ, not that the ratio is below the threshold.",
            100 * s.fourFifthsThreshold(),
            s.fourFifthsThreshold(),
            s.fourFifthsThreshold()));
    return String.join("\n\n", text);
  }

  private static BiasReport.Headline headline(
      AnalysisResult analysis,
      MetricResult unsafe,
      Map<String, Long> perGroup,
      CampaignProgress progress) {
    List<PairwiseTest> significant = analysis.significantTests();
    var d = unsafe.disparity();
    List<String> empty =
        perGroup.entrySet().stream().filter(e -> e.getValue() == 0).map(Map.Entry::getKey).toList();
    String notCompared = empty.isEmpty() ? null : notCompared(empty, perGroup.size(), progress);
    String summary;
    if (analysis.disparityDetected()) {
      PairwiseTest strongest =
          significant.stream()
              .min((a, b) -> Double.compare(a.pAdjusted(), b.pAdjusted()))
              .orElseThrow();
      summary =
          String.format(
              Locale.ROOT,
              "Disparity detected: %d of %d tests significant after correction; strongest: %s,"
                  + " %s %s vs %s %s (adjusted p = %s).",
              significant.size(),
              analysis.tests().size(),
              strongest.metricId(),
              strongest.groupA(),
              percent(strongest.estimateA(), strongest.metricId()),
              strongest.groupB(),
              percent(strongest.estimateB(), strongest.metricId()),
              pValue(strongest.pAdjusted()));
      if (notCompared != null) {
        summary += " Not compared: " + notCompared + ".";
      }
    } else if (notCompared != null) {
      summary =
          (perGroup.size() - empty.size() < 2
                  ? "No comparison possible: "
                  : "Not every group compared: ")
              + notCompared
              + (analysis.tests().isEmpty()
                  ? "."
                  : String.format(
                      Locale.ROOT,
                      "; none of the %d tests among the other groups is significant after"
                          + " correction.",
                      analysis.tests().size()));
    } else {
      summary =
          String.format(
              Locale.ROOT,
              "No significant disparity: none of %d tests is significant after correction.",
              analysis.tests().size());
    }
    summary += fourFifthsSentence(analysis.fourFifths());
    return new BiasReport.Headline(
        analysis.disparityDetected(),
        significant.size(),
        analysis.tests().size(),
        number(d.difference()),
        low(d.differenceInterval()),
        high(d.differenceInterval()),
        d.highestGroup(),
        d.lowestGroup(),
        analysis.fourFifths().flagged(),
        summary,
        notCompared);
  }

  /**
   * Why the groups in {@code empty} (without any judged output) were compared with none: what
   * became of their samples, e.g. "group 'target' has no judged output (20 failed)".
   */
  private static String notCompared(List<String> empty, int groups, CampaignProgress progress) {
    Map<State, Integer> states = new EnumMap<>(State.class);
    progress.missing().stream()
        .filter(m -> empty.contains(m.group()))
        .forEach(m -> states.merge(m.state(), 1, Integer::sum));
    List<String> counts = new ArrayList<>();
    for (Map.Entry<State, Integer> state : states.entrySet()) {
      counts.add(state.getValue() + " " + words(state.getKey()));
    }
    String who =
        empty.size() == groups
            ? "no group has a judged output"
            : (empty.size() == 1 ? "group '" : "groups '")
                + String.join("', '", empty)
                + (empty.size() == 1 ? "' has" : "' have")
                + " no judged output";
    return who + (counts.isEmpty() ? "" : " (" + String.join(", ", counts) + ")");
  }

  private static String words(State state) {
    return switch (state) {
      case NOT_SUBMITTED -> "never submitted";
      case PENDING -> "pending";
      case FAILED -> "failed";
      case UNSCORED -> "judged without scores";
      case JUDGED -> "judged";
    };
  }

  /**
   * The four-fifths sentence of the summary, empty when the ratio is not below the threshold. A
   * ratio below it is "flagged" only when its whole interval is (the flag is then not noise);
   * otherwise the sentence says it is not confirmed and gives the interval that reaches the
   * threshold. Two outputs per group, one of the target's held: ratio 0.50, interval [0.08, 1.00].
   */
  static String fourFifthsSentence(AnalysisResult.FourFifths f) {
    if (!f.flagged()) {
      return "";
    }
    String ratio =
        String.format(
            Locale.ROOT,
            "release rate of %s is %.0f%% of %s's",
            f.lowestGroup(),
            100 * f.ratio(),
            f.highestGroup());
    String interval =
        f.ratioInterval().isKnown()
            ? String.format(
                Locale.ROOT, "[%.2f, %.2f]", f.ratioInterval().low(), f.ratioInterval().high())
            : null;
    if (f.flaggedWithConfidence()) {
      return String.format(
          Locale.ROOT,
          " Four-fifths rule flagged: %s (ratio interval %s, below %.2f).",
          ratio,
          interval,
          f.threshold());
    }
    return String.format(
        Locale.ROOT,
        " Four-fifths ratio below %.2f but not confirmed: %s, and %s, so the data do not rule out"
            + " a ratio of %.2f or more.",
        f.threshold(),
        ratio,
        interval == null
            ? "the ratio has no interval"
            : "its interval "
                + interval
                + " reaches "
                + String.format(Locale.ROOT, "%.2f", f.threshold()),
        f.threshold());
  }

  private static List<BiasReport.GroupFigures> groups(AnalysisResult analysis) {
    List<BiasReport.GroupFigures> groups = new ArrayList<>();
    for (int g = 0; g < analysis.groups().size(); g++) {
      List<BiasReport.Figure> figures = new ArrayList<>();
      long n = 0;
      for (MetricResult metric : analysis.metrics()) {
        GroupEstimate e = metric.perGroup().get(g);
        n = e.n();
        figures.add(
            new BiasReport.Figure(
                metric.metric().id(),
                metric.metric().label(),
                number(e.estimate()),
                low(e.interval()),
                high(e.interval()),
                e.events() < 0 ? null : e.events(),
                e.rowIds()));
      }
      groups.add(
          new BiasReport.GroupFigures(
              analysis.groups().get(g),
              n,
              estimate(figures, "unsafe_rate"),
              interval(figures, "unsafe_rate"),
              estimate(figures, "release_rate"),
              estimate(figures, "review_rate"),
              estimate(figures, "block_rate"),
              estimate(figures, "mean_unsafe_score"),
              figures));
    }
    return groups;
  }

  private static Double estimate(List<BiasReport.Figure> figures, String metric) {
    return figures.stream()
        .filter(f -> f.metric().equals(metric))
        .findFirst()
        .orElseThrow()
        .estimate();
  }

  private static List<Double> interval(List<BiasReport.Figure> figures, String metric) {
    BiasReport.Figure figure =
        figures.stream().filter(f -> f.metric().equals(metric)).findFirst().orElseThrow();
    return figure.low() == null ? List.of() : List.of(figure.low(), figure.high());
  }

  private static List<BiasReport.MetricDisparity> disparities(AnalysisResult analysis) {
    return analysis.metrics().stream()
        .map(
            m ->
                new BiasReport.MetricDisparity(
                    m.metric().id(),
                    m.metric().label(),
                    m.metric().tested(),
                    m.testable(),
                    number(m.disparity().difference()),
                    low(m.disparity().differenceInterval()),
                    high(m.disparity().differenceInterval()),
                    number(m.disparity().ratio()),
                    low(m.disparity().ratioInterval()),
                    high(m.disparity().ratioInterval()),
                    m.disparity().highestGroup(),
                    m.disparity().lowestGroup(),
                    m.omnibus().method(),
                    number(m.omnibus().statistic()),
                    m.omnibus().pValue()))
        .toList();
  }

  private static List<BiasReport.Test> tests(AnalysisResult analysis) {
    return analysis.tests().stream()
        .map(
            t ->
                new BiasReport.Test(
                    t.metricId(),
                    t.groupA(),
                    t.groupB(),
                    number(t.estimateA()),
                    number(t.estimateB()),
                    number(t.difference()),
                    t.test().method(),
                    number(t.test().statistic()),
                    t.test().pValue(),
                    t.pAdjusted(),
                    t.significant()))
        .toList();
  }

  private static List<BiasReport.UntestedPair> untestedPairs(AnalysisResult analysis) {
    return analysis.untested().stream()
        .map(u -> new BiasReport.UntestedPair(u.metricId(), u.groupA(), u.groupB(), u.reason()))
        .toList();
  }

  private static BiasReport.FourFifths fourFifths(AnalysisResult analysis) {
    var f = analysis.fourFifths();
    return new BiasReport.FourFifths(
        number(f.ratio()),
        low(f.ratioInterval()),
        high(f.ratioInterval()),
        f.threshold(),
        f.flagged(),
        f.flaggedWithConfidence(),
        f.lowestGroup(),
        f.highestGroup());
  }

  private static List<BiasReport.StreamCheck> streamCheck(
      MetricResult unsafe, Map<String, StreamMetric> stream) {
    List<BiasReport.StreamCheck> checks = new ArrayList<>();
    for (GroupEstimate e : unsafe.perGroup()) {
      StreamMetric s = stream.get(e.group());
      checks.add(
          new BiasReport.StreamCheck(
              e.group(),
              e.n(),
              e.events(),
              s == null ? null : s.count(),
              s == null ? null : s.unsafeCount(),
              s != null && s.count() == e.n() && s.unsafeCount() == e.events()));
    }
    return checks;
  }

  private static List<String> limits(
      CampaignRecord campaign,
      CampaignProgress progress,
      BiasReport.SampleSizes sizes,
      AnalysisSettings settings,
      long otherTenantRequests,
      long textsKept,
      int judgedRows) {
    List<String> limits = new ArrayList<>();
    if (!progress.complete()) {
      limits.add(
          String.format(
              Locale.ROOT,
              "PARTIAL: %d of %d planned samples have a scored verdict (%d never submitted, %d"
                  + " pending, %d failed, %d judged without scores after a scorer error or"
                  + " timeout); missing samples are listed and are not imputed. Failures are not"
                  + " random: a group whose requests fail more often is under-represented.",
              progress.judged(),
              progress.planned(),
              progress.counts().get(State.NOT_SUBMITTED),
              progress.counts().get(State.PENDING),
              progress.counts().get(State.FAILED),
              progress.counts().get(State.UNSCORED)));
    }
    long smallest = sizes.perGroup().values().stream().mapToLong(Long::longValue).min().orElse(0);
    if (smallest < sizes.recommendedPerGroup()) {
      limits.add(
          String.format(
              Locale.ROOT,
              "Underpowered for small effects: the smallest group has %d outputs; %d per group"
                  + " are recommended to detect a 5-point difference (%s). %s",
              smallest,
              sizes.recommendedPerGroup(),
              sizes.recommendationBasis(),
              sizes.minimumDetectableDifference() == null
                  ? "No difference is reliably detectable at this size."
                  : String.format(
                      Locale.ROOT,
                      "At this size only differences of about %.1f points or more are reliably"
                          + " detected; 'no significant disparity' is not evidence of parity.",
                      100 * sizes.minimumDetectableDifference())));
    }
    if (textsKept < judgedRows) {
      limits.add(
          String.format(
              Locale.ROOT,
              "Output texts are kept for %d of %d rows (at most %d in a report, shared among the"
                  + " groups: unsafe outputs first, then flagged or held ones); the figures, tests"
                  + " and every row's ids, decision and scores are complete. A row without its text"
                  + " has the whole output at GET /api/v1/requests/{requestId}.",
              textsKept,
              judgedRows,
              TEXT_ROWS));
    }
    limits.add(
        "The figures measure the whole pipeline as configured (generator, moderation model, policy"
            + " version): the moderation model's own errors, including any over-flagging of"
            + " identity terms, are part of what is measured, not separated from the generator's"
            + " behaviour.");
    limits.add(
        String.format(
            Locale.ROOT,
            "Unsafe and category rates depend on the thresholds (%.2f and %.2f); the intervals do"
                + " not include the uncertainty of the moderation model itself.",
            settings.unsafeThreshold(),
            settings.categoryThreshold()));
    limits.add(
        "Tests treat outputs as independent. Counterfactual samples of one slot share a template"
            + " and seed; paired tests would be more powerful, so the unpaired tests used here are"
            + " conservative for that design.");
    limits.add(
        "Groups are the campaign's words for them; the results speak about those words in those"
            + " templates, not about every way a group can be named.");
    if ("STRATIFIED".equals(campaign.design())) {
      limits.add(
          "Stratified (BOLD) design: groups also differ in prompt topics, so a disparity is not"
              + " attributable to the group alone.");
    }
    limits.add(
        "One verdict per sample: the first verdict of the first request that got one; a sample"
            + " re-submitted after a lost request is counted once.");
    limits.add(
        "Only requests of the campaign's tenant ("
            + campaign.tenantId()
            + ") count: another tenant's requests naming this campaign's id are not analysed.");
    if (otherTenantRequests > 0) {
      limits.add(
          String.format(
              Locale.ROOT,
              "%d %s of other tenants named this campaign's id (campaign.id) and %s not counted;"
                  + " find them with GET /api/v1/outputs?attribute=campaign.id:%s and a global"
                  + " token.",
              otherTenantRequests,
              otherTenantRequests == 1 ? "request" : "requests",
              otherTenantRequests == 1 ? "was" : "were",
              campaign.campaignId()));
    }
    return limits;
  }

  private static String percent(double value, String metric) {
    return metric.equals(Metric.MEAN_UNSAFE_SCORE.id())
        ? String.format(Locale.ROOT, "%.3f", value)
        : String.format(Locale.ROOT, "%.1f%%", 100 * value);
  }

  static String pValue(double p) {
    return p < 0.0001
        ? String.format(Locale.ROOT, "%.1e", p)
        : String.format(Locale.ROOT, "%.4f", p);
  }

  static Double number(double value) {
    return Double.isNaN(value) || Double.isInfinite(value) ? null : value;
  }

  private static Double low(Interval interval) {
    return interval.isKnown() ? interval.low() : null;
  }

  private static Double high(Interval interval) {
    return interval.isKnown() ? interval.high() : null;
  }
}
