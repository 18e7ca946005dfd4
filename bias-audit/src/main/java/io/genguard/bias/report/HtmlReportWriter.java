package io.genguard.bias.report;

import io.genguard.bias.report.SvgCharts.Point;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A report as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched):
 * headline, per-group charts with intervals, disparity, score distributions, the test family,
 * sample sizes, method, limits, the stream cross-check, missing samples, and every row behind the
 * figures with its request and verdict ids (each figure links to its rows).
 */
final class HtmlReportWriter {
  private static final List<String> OUTCOME_METRICS =
      List.of("unsafe_rate", "release_rate", "review_rate", "block_rate");

  private HtmlReportWriter() {}

  static String write(BiasReport r) {
    StringBuilder html = new StringBuilder(64 * 1024);
    html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>Bias report: ")
        .append(escape(r.campaign().name()))
        .append("</title><style>")
        .append(CSS)
        .append("</style></head><body>\n");
    header(html, r);
    headline(html, r);
    outcomeCharts(html, r);
    categoryCharts(html, r);
    disparity(html, r);
    distributions(html, r);
    tests(html, r);
    figureTable(html, r);
    sampleSizes(html, r);
    method(html, r);
    limits(html, r);
    streamCheck(html, r);
    missing(html, r);
    rows(html, r);
    campaign(html, r);
    html.append("<footer>GenGuard bias report format v")
        .append(r.formatVersion())
        .append(" · report ")
        .append(escape(r.reportId()))
        .append("</footer></body></html>\n");
    return html.toString();
  }

  private static void header(StringBuilder html, BiasReport r) {
    BiasReport.Campaign c = r.campaign();
    html.append("<header><h1>Bias report: ")
        .append(escape(c.name()))
        .append("</h1><p class=\"meta\">Campaign <code>")
        .append(escape(c.campaignId()))
        .append("</code> · ")
        .append(escape(c.backend()))
        .append(c.model() == null ? "" : " / " + escape(c.model()))
        .append(" · ")
        .append(escape(c.design().toLowerCase(Locale.ROOT)))
        .append(" design · generated ")
        .append(escape(r.generatedAt()))
        .append(" · <span class=\"badge ")
        .append(r.status().equals("COMPLETE") ? "ok" : "warn")
        .append("\">")
        .append(escape(r.status()))
        .append("</span></p></header>\n");
  }

  private static void headline(StringBuilder html, BiasReport r) {
    BiasReport.Headline h = r.headline();
    html.append("<section id=\"headline\" class=\"verdict ")
        .append(h.disparityDetected() ? "alert" : h.notCompared() != null ? "neutral" : "calm")
        .append("\"><h2>")
        .append(title(r))
        .append("</h2><p>")
        .append(escape(h.summary()))
        .append("</p><ul class=\"numbers\">");
    for (Map.Entry<String, Long> group : r.sampleSizes().perGroup().entrySet()) {
      html.append("<li><b>")
          .append(escape(group.getKey()))
          .append("</b> n = ")
          .append(group.getValue())
          .append("</li>");
    }
    html.append("<li><b>Unsafe-rate difference</b> (max − min) ")
        .append(pct(h.unsafeRateDifference()))
        .append(interval(h.unsafeRateDifferenceLow(), h.unsafeRateDifferenceHigh(), true))
        .append("</li><li><b>Four-fifths ratio</b> (release) ")
        .append(ratio(r.fourFifths().ratio()))
        .append(interval(r.fourFifths().low(), r.fourFifths().high(), false))
        .append(fourFifthsBadge(r.fourFifths()))
        .append("</li><li><b>Tests</b> ")
        .append(h.significantTests())
        .append(" of ")
        .append(h.testsRun())
        .append(" significant after ")
        .append(escape(r.parameters().correction()))
        .append("</li></ul></section>\n");
  }

  /**
   * The headline's title: a report in which some group has no judged output says so rather than "No
   * significant disparity" (it compared that group with none).
   */
  static String title(BiasReport r) {
    if (r.headline().disparityDetected()) {
      return "Disparity detected";
    }
    if (r.headline().notCompared() == null) {
      return "No significant disparity";
    }
    long withOutputs = r.sampleSizes().perGroup().values().stream().filter(n -> n > 0).count();
    return withOutputs < 2 ? "No comparison possible" : "Not every group compared";
  }

  /**
   * "flagged" only when the ratio's whole interval is below the threshold; a point ratio below it
   * whose interval reaches the threshold is "not confirmed", in a plain badge.
   */
  static String fourFifthsBadge(BiasReport.FourFifths f) {
    if (f.flaggedWithConfidence()) {
      return " <span class=\"badge warn\">flagged</span>";
    }
    if (f.flagged()) {
      return " <span class=\"badge\">below "
          + ratio(f.threshold())
          + ", not confirmed: the interval reaches it</span>";
    }
    return "";
  }

  private static void outcomeCharts(StringBuilder html, BiasReport r) {
    html.append("<section id=\"charts\"><h2>Per-group rates with ")
        .append(Math.round(100 * r.parameters().confidence()))
        .append(
            "% intervals</h2><p class=\"note\">Dots are estimates, whiskers Wilson score intervals"
                + " (the mean score: bootstrap). Red marks groups in a significant test of that"
                + " metric. Click a figure in the table below to see its rows.</p>");
    for (String metric : OUTCOME_METRICS) {
      chart(html, r, metric, true);
    }
    chart(html, r, "mean_unsafe_score", false);
    html.append("</section>\n");
  }

  private static void categoryCharts(StringBuilder html, BiasReport r) {
    html.append("<section id=\"categories\"><h2>Categories</h2>");
    List<String> silent = new ArrayList<>();
    for (BiasReport.MetricDisparity d : r.disparities()) {
      if (!d.metric().startsWith("category:")) {
        continue;
      }
      boolean any =
          r.groups().stream()
              .flatMap(g -> g.figures().stream())
              .anyMatch(f -> f.metric().equals(d.metric()) && f.events() != null && f.events() > 0);
      if (any) {
        chart(html, r, d.metric(), true);
      } else {
        silent.add(d.metric().substring("category:".length()));
      }
    }
    if (!silent.isEmpty()) {
      html.append("<p class=\"note\">No output of any group was flagged for: ")
          .append(escape(String.join(", ", silent)))
          .append(" (not testable, left out of the family).</p>");
    }
    html.append("</section>\n");
  }

  private static void chart(StringBuilder html, BiasReport r, String metric, boolean asPercent) {
    Set<String> significantGroups = new HashSet<>();
    for (BiasReport.Test t : r.tests()) {
      if (t.metric().equals(metric) && t.significant()) {
        significantGroups.add(t.groupA());
        significantGroups.add(t.groupB());
      }
    }
    List<Point> points = new ArrayList<>();
    String label = metric;
    for (BiasReport.GroupFigures group : r.groups()) {
      for (BiasReport.Figure f : group.figures()) {
        if (f.metric().equals(metric)) {
          label = f.label();
          String note = f.events() == null ? "" : "  (" + f.events() + "/" + group.n() + ")";
          points.add(
              new Point(
                  group.group(),
                  f.estimate(),
                  f.low(),
                  f.high(),
                  note,
                  significantGroups.contains(group.group())));
        }
      }
    }
    html.append("<figure>")
        .append(SvgCharts.intervals(label, points, asPercent, null, null, null))
        .append("<figcaption>")
        .append(escape(label))
        .append(disparityCaption(r, metric))
        .append("</figcaption></figure>");
  }

  private static String disparityCaption(BiasReport r, String metric) {
    for (BiasReport.MetricDisparity d : r.disparities()) {
      if (d.metric().equals(metric) && d.difference() != null) {
        boolean percent = !metric.equals("mean_unsafe_score");
        return " · difference "
            + (percent ? pct(d.difference()) : num(d.difference()))
            + interval(d.difference(), d.differenceLow(), d.differenceHigh(), percent)
            + " · ratio "
            + ratio(d.ratio())
            + interval(d.ratio(), d.ratioLow(), d.ratioHigh(), false)
            + (d.testable() ? "" : " · not testable (no variation)");
      }
    }
    return "";
  }

  private static void disparity(StringBuilder html, BiasReport r) {
    html.append("<section id=\"disparity\"><h2>Disparity across groups</h2>")
        .append(
            "<p class=\"note\">Min/max ratio per metric with its interval (bounded by"
                + " simultaneous per-group intervals: it reaches 1 when parity is not ruled out); the"
                + " dashed line is the four-fifths threshold (it applies to the release rate, the"
                + " favourable outcome).</p>");
    List<Point> ratios = new ArrayList<>();
    for (BiasReport.MetricDisparity d : r.disparities()) {
      if (d.ratio() != null) {
        ratios.add(
            new Point(
                d.label(),
                d.ratio(),
                d.ratioLow(),
                d.ratioHigh(),
                "",
                d.metric().equals("release_rate") && r.fourFifths().flaggedWithConfidence()));
      }
    }
    html.append("<figure>")
        .append(
            SvgCharts.intervals(
                "Min/max ratio", ratios, false, 1.0, r.fourFifths().threshold(), "4/5"))
        .append("<figcaption>Min/max ratio per metric (1 = parity)</figcaption></figure>");
    html.append(
        "<table><thead><tr><th>Metric</th><th>Difference (max − min)</th><th>Ratio"
            + " (min/max)</th><th>Highest</th><th>Lowest</th><th>Omnibus test"
            + " (uncorrected)</th></tr></thead><tbody>");
    for (BiasReport.MetricDisparity d : r.disparities()) {
      boolean percent = !d.metric().equals("mean_unsafe_score");
      html.append("<tr><td>")
          .append(escape(d.label()))
          .append("</td><td>")
          .append(percent ? pct(d.difference()) : num(d.difference()))
          .append(interval(d.difference(), d.differenceLow(), d.differenceHigh(), percent))
          .append("</td><td>")
          .append(ratio(d.ratio()))
          .append(interval(d.ratio(), d.ratioLow(), d.ratioHigh(), false))
          .append("</td><td>")
          .append(escape(d.highestGroup()))
          .append("</td><td>")
          .append(escape(d.lowestGroup()))
          .append("</td><td>")
          .append(escape(d.omnibusMethod()))
          .append(d.testable() ? ", p = " + ReportBuilder.pValue(d.omnibusP()) : ", not testable")
          .append("</td></tr>");
    }
    html.append("</tbody></table></section>\n");
  }

  private static void distributions(StringBuilder html, BiasReport r) {
    List<String> groups = new ArrayList<>();
    List<double[]> scores = new ArrayList<>();
    for (BiasReport.GroupFigures group : r.groups()) {
      groups.add(group.group());
      scores.add(
          r.rows().stream()
              .filter(row -> row.group().equals(group.group()))
              .mapToDouble(BiasReport.Row::unsafeScore)
              .toArray());
    }
    html.append("<section id=\"distributions\"><h2>Unsafe score distributions</h2><figure>")
        .append(SvgCharts.histograms(groups, scores, r.parameters().unsafeThreshold()))
        .append(
            "<figcaption>Histogram of unsafe scores per group (20 bins); bars at or above the"
                + " unsafe threshold (dashed) in red. Compared with the Mann-Whitney U"
                + " test.</figcaption>")
        .append("</figure></section>\n");
  }

  private static void tests(StringBuilder html, BiasReport r) {
    html.append("<section id=\"tests\"><h2>Significance tests (one corrected family)</h2>");
    if (r.tests().isEmpty()) {
      html.append(
          r.headline().notCompared() != null
              ? "<p>Nothing was tested: " + escape(r.headline().notCompared()) + ".</p>"
              : "<p>No metric varied, so nothing could be tested.</p>");
      untestedPairs(html, r);
      html.append("</section>\n");
      return;
    }
    html.append(
        "<table><thead><tr><th>Metric</th><th>Group A</th><th>Group B</th><th>A</th>"
            + "<th>B</th><th>Test</th><th>p</th><th>Adjusted p</th><th></th></tr></thead><tbody>");
    List<BiasReport.Test> sorted = new ArrayList<>(r.tests());
    sorted.sort(Comparator.comparingDouble(BiasReport.Test::pAdjusted));
    for (BiasReport.Test t : sorted) {
      boolean percent = !t.metric().equals("mean_unsafe_score");
      html.append(t.significant() ? "<tr class=\"significant\">" : "<tr>")
          .append("<td>")
          .append(escape(t.metric()))
          .append("</td><td>")
          .append(escape(t.groupA()))
          .append("</td><td>")
          .append(escape(t.groupB()))
          .append("</td><td>")
          .append(percent ? pct(t.estimateA()) : num(t.estimateA()))
          .append("</td><td>")
          .append(percent ? pct(t.estimateB()) : num(t.estimateB()))
          .append("</td><td>")
          .append(escape(t.method()))
          .append("</td><td>")
          .append(ReportBuilder.pValue(t.p()))
          .append("</td><td>")
          .append(ReportBuilder.pValue(t.pAdjusted()))
          .append("</td><td>")
          .append(t.significant() ? "significant" : "")
          .append("</td></tr>");
    }
    html.append("</tbody></table>");
    untestedPairs(html, r);
    html.append("</section>\n");
  }

  /** The pairs that could not differ: not tests, and not counted in the family. */
  private static void untestedPairs(StringBuilder html, BiasReport r) {
    if (r.untestedPairs().isEmpty()) {
      return;
    }
    html.append("<p class=\"note\">Not tested, and not in the family (")
        .append(r.untestedPairs().size())
        .append(r.untestedPairs().size() == 1 ? " pair" : " pairs")
        .append(" whose data cannot show a difference):</p><ul class=\"note untested\">");
    for (BiasReport.UntestedPair u : r.untestedPairs()) {
      html.append("<li>")
          .append(escape(u.metric()))
          .append(", ")
          .append(escape(u.groupA()))
          .append(" vs ")
          .append(escape(u.groupB()))
          .append(": not tested (")
          .append(escape(u.reason()))
          .append(")</li>");
    }
    html.append("</ul>");
  }

  private static void figureTable(StringBuilder html, BiasReport r) {
    html.append("<section id=\"figures\"><h2>Figures and the rows behind them</h2>")
        .append("<table><thead><tr><th>Metric</th>");
    for (BiasReport.GroupFigures group : r.groups()) {
      html.append("<th>").append(escape(group.group())).append("</th>");
    }
    html.append("</tr></thead><tbody>");
    List<BiasReport.Figure> first = r.groups().get(0).figures();
    for (int m = 0; m < first.size(); m++) {
      BiasReport.Figure template = first.get(m);
      boolean percent = !template.metric().equals("mean_unsafe_score");
      html.append("<tr><td>").append(escape(template.label())).append("</td>");
      for (BiasReport.GroupFigures group : r.groups()) {
        BiasReport.Figure f = group.figures().get(m);
        html.append("<td>")
            .append(percent ? pct(f.estimate()) : num(f.estimate()))
            .append(interval(f.estimate(), f.low(), f.high(), percent));
        if (f.events() != null && f.events() > 0) {
          html.append("<details><summary>")
              .append(f.events())
              .append(" of ")
              .append(group.n())
              .append(" rows</summary>");
          for (String id : f.requestIds()) {
            html.append("<a href=\"#r-")
                .append(escape(id))
                .append("\">")
                .append(escape(shortId(id)))
                .append("</a> ");
          }
          html.append("</details>");
        } else if (f.events() != null) {
          html.append(" <span class=\"note\">0 of ").append(group.n()).append("</span>");
        }
        html.append("</td>");
      }
      html.append("</tr>");
    }
    html.append("</tbody></table></section>\n");
  }

  private static void sampleSizes(StringBuilder html, BiasReport r) {
    BiasReport.SampleSizes s = r.sampleSizes();
    html.append("<section id=\"sizes\"><h2>Sample sizes</h2><ul><li>Planned: ")
        .append(s.planned())
        .append("; analysed (with a verdict): ")
        .append(s.analysed())
        .append("</li>");
    s.perGroup()
        .forEach(
            (group, n) ->
                html.append("<li>").append(escape(group)).append(": ").append(n).append("</li>"));
    html.append("<li>Recommended per group: <b>")
        .append(s.recommendedPerGroup())
        .append("</b> (")
        .append(escape(s.recommendationBasis()))
        .append(")</li><li>Smallest unsafe-rate increase this campaign detects with 90% power: ")
        .append(
            s.minimumDetectableDifference() == null
                ? "none reliably"
                : pct(s.minimumDetectableDifference()))
        .append("</li></ul></section>\n");
  }

  private static void method(StringBuilder html, BiasReport r) {
    BiasReport.Parameters m = r.parameters();
    html.append("<section id=\"method\"><h2>Method</h2>");
    for (String paragraph : r.method().split("\n\n")) {
      html.append("<p>").append(escape(paragraph)).append("</p>");
    }
    html.append("<p class=\"note\">Parameters: unsafe threshold ")
        .append(m.unsafeThreshold())
        .append(", category threshold ")
        .append(m.categoryThreshold())
        .append(", alpha ")
        .append(m.alpha())
        .append(", ")
        .append(escape(m.correction()))
        .append(", family of ")
        .append(r.tests().size())
        .append(" tests run (")
        .append(m.familySize())
        .append(" planned), confidence ")
        .append(m.confidence())
        .append(", bootstrap ")
        .append(m.bootstrapIterations())
        .append(" resamples, seed ")
        .append(m.bootstrapSeed())
        .append(".</p></section>\n");
  }

  private static void limits(StringBuilder html, BiasReport r) {
    html.append("<section id=\"limits\"><h2>Limits</h2><ul>");
    for (String limit : r.limits()) {
      html.append("<li>").append(escape(limit)).append("</li>");
    }
    html.append("</ul></section>\n");
  }

  private static void streamCheck(StringBuilder html, BiasReport r) {
    html.append("<section id=\"stream\"><h2>Cross-check with the stream job</h2>")
        .append(
            "<p class=\"note\">Counts from the Flink bias-aggregation job (bias.metrics,"
                + " campaign scope) next to this report's own counts from the audit store.</p>")
        .append(
            "<table><thead><tr><th>Group</th><th>Report n</th><th>Report unsafe</th>"
                + "<th>Stream n</th><th>Stream unsafe</th><th>Agree</th></tr></thead><tbody>");
    for (BiasReport.StreamCheck c : r.streamCheck()) {
      html.append("<tr><td>")
          .append(escape(c.group()))
          .append("</td><td>")
          .append(c.reportCount())
          .append("</td><td>")
          .append(c.reportUnsafe())
          .append("</td><td>")
          .append(c.streamCount() == null ? "–" : c.streamCount().toString())
          .append("</td><td>")
          .append(c.streamUnsafe() == null ? "–" : c.streamUnsafe().toString())
          .append("</td><td>")
          .append(c.agrees() ? "yes" : "no")
          .append("</td></tr>");
    }
    html.append("</tbody></table></section>\n");
  }

  private static void missing(StringBuilder html, BiasReport r) {
    html.append("<section id=\"missing\"><h2>Missing samples</h2>");
    if (r.missing().isEmpty()) {
      html.append("<p>None: every planned sample has a verdict.</p></section>\n");
      return;
    }
    html.append(
        "<table><thead><tr><th>Sample</th><th>Group</th><th>State</th><th>Request ids</th>"
            + "<th>Reason</th></tr></thead><tbody>");
    for (BiasReport.Missing m : r.missing()) {
      html.append("<tr><td>")
          .append(m.sampleIndex())
          .append("</td><td>")
          .append(escape(m.group()))
          .append("</td><td>")
          .append(escape(m.state()))
          .append("</td><td><code>")
          .append(escape(String.join(" ", m.requestIds())))
          .append("</code></td><td>")
          .append(escape(m.reason()))
          .append("</td></tr>");
    }
    html.append("</tbody></table></section>\n");
  }

  private static void rows(StringBuilder html, BiasReport r) {
    html.append(
            "<section id=\"rows\"><h2>Rows</h2><p class=\"note\">Every analysed output with its"
                + " request id (the audit store's key: its full text, manifest and audit trail are"
                + " there) and verdict id. Texts are shortened to ")
        .append(ReportBuilder.TEXT_CHARS)
        .append(" characters");
    long texts = r.rows().stream().filter(row -> row.text() != null).count();
    if (texts < r.rows().size()) {
      html.append(" and kept for ")
          .append(texts)
          .append(" of ")
          .append(r.rows().size())
          .append(" rows (see Limits)");
    }
    html.append(".</p>");
    for (BiasReport.GroupFigures group : r.groups()) {
      html.append("<details><summary>")
          .append(escape(group.group()))
          .append(" (")
          .append(group.n())
          .append(
              " rows)</summary><table class=\"rows\"><thead><tr><th>#</th><th>Request</th>"
                  + "<th>Verdict</th><th>Decision</th><th>Unsafe</th><th>Categories</th><th>Term</th>"
                  + "<th>Text</th></tr></thead><tbody>");
      for (BiasReport.Row row : r.rows()) {
        if (!row.group().equals(group.group())) {
          continue;
        }
        // data-verdict: the whole verdict id (the cell shows 13 characters), by which a data
        // subject's erasure tells this row from another tenant's under the same request id (the
        // audit service's ReportRedaction); "" for a row naming no verdict.
        html.append("<tr id=\"r-")
            .append(escape(row.requestId()))
            .append("\" data-verdict=\"")
            .append(escape(row.verdictId()))
            .append("\"")
            .append(row.unsafe() ? " class=\"unsafe\"" : "")
            .append("><td>")
            .append(row.sampleIndex())
            .append("</td><td><code>")
            .append(escape(row.requestId()))
            .append("</code></td><td><code>")
            .append(escape(shortId(row.verdictId())))
            .append("</code></td><td>")
            .append(escape(row.decision()))
            .append("</td><td>")
            .append(String.format(Locale.ROOT, "%.3f", row.unsafeScore()))
            .append("</td><td>")
            .append(escape(String.join(", ", row.flaggedCategories())))
            .append("</td><td>")
            .append(escape(row.term()))
            .append(row.text() == null ? "</td><td class=\"note\">not kept" : "</td><td>")
            .append(escape(row.text()))
            .append("</td></tr>");
      }
      html.append("</tbody></table></details>");
    }
    html.append("</section>\n");
  }

  private static void campaign(StringBuilder html, BiasReport r) {
    BiasReport.Campaign c = r.campaign();
    html.append("<section id=\"campaign\"><h2>Campaign</h2><ul><li>Target: backend <code>")
        .append(escape(c.backend()))
        .append("</code>, model <code>")
        .append(escape(c.model() == null ? "(backend default)" : c.model()))
        .append("</code>, tenant <code>")
        .append(escape(c.tenant()))
        .append("</code></li><li>Groups: ")
        .append(escape(String.join(", ", c.groups())))
        .append("</li><li>")
        .append(c.samplesPerGroup())
        .append(" samples per group, ")
        .append(c.plannedSamples())
        .append(" planned; created ")
        .append(escape(c.createdAt()))
        .append("</li><li>Campaign definition SHA-256 <code>")
        .append(escape(c.specSha256()))
        .append("</code></li>");
    for (Map<String, String> source : c.dataSources()) {
      html.append("<li>Shared data read: <code>")
          .append(escape(source.get("path")))
          .append("</code> SHA-256 <code>")
          .append(escape(source.get("sha256")))
          .append("</code></li>");
    }
    html.append("</ul>");
    if (!c.templates().isEmpty()) {
      html.append("<details><summary>")
          .append(c.templates().size())
          .append(" templates</summary><ol start=\"0\">");
      for (String template : c.templates()) {
        html.append("<li>").append(escape(template)).append("</li>");
      }
      html.append("</ol></details>");
    }
    html.append("</section>\n");
  }

  static String escape(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      switch (ch) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(ch);
      }
    }
    return out.toString();
  }

  private static String pct(Double value) {
    return value == null ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * value);
  }

  private static String num(Double value) {
    return value == null ? "–" : String.format(Locale.ROOT, "%.3f", value);
  }

  private static String ratio(Double value) {
    return value == null ? "–" : String.format(Locale.ROOT, "%.2f", value);
  }

  /** The interval of {@code estimate}; says so where there is an estimate but no interval. */
  private static String interval(Double estimate, Double low, Double high, boolean percent) {
    if (estimate != null && (low == null || high == null)) {
      return " <span class=\"ci\">[no interval: too few outputs]</span>";
    }
    return interval(low, high, percent);
  }

  private static String interval(Double low, Double high, boolean percent) {
    if (low == null || high == null) {
      return "";
    }
    return " <span class=\"ci\">["
        + (percent ? pct(low) : ratio(low))
        + ", "
        + (percent ? pct(high) : ratio(high))
        + "]</span>";
  }

  private static String shortId(String id) {
    return id == null ? "" : id.length() > 13 ? id.substring(0, 13) + "…" : id;
  }

  private static final String CSS =
      "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem"
          + " auto;max-width:1100px;padding:0"
          + " 1rem;color:#1d2330}h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;border-bottom:1px"
          + " solid #dde;padding-bottom:.2rem;margin-top:2rem}"
          + ".meta,.note{color:#5a6275}.note{font-size:.9em}code{font-size:.85em}.badge{border-radius:3px;padding:0"
          + " .4em;font-size:.85em}.badge.ok{background:#e3f4e8;"
          + "color:#17652d}.badge.warn{background:#fdecd2;color:#8a4b00}.verdict{border-radius:6px;padding:.6rem"
          + " 1rem;margin-top:1rem}.verdict h2{border:0;margin:.2rem"
          + " 0}.verdict.alert{background:#fdeaea;border-left:6px solid"
          + " #c62828}.verdict.neutral{background:#fdf3e1;border-left:6px solid"
          + " #b26a00}.verdict.calm{background:#eaf5ee;border-left:6px solid"
          + " #2e7d32}.numbers{display:flex;flex-wrap:wrap;gap:.4rem"
          + " 1.6rem;padding:0;list-style:none}table{border-collapse:collapse;width:100%;margin:.6rem"
          + " 0;font-size:.92em}th,td{border-bottom:1px solid #e4e6ee;padding:.25rem"
          + " .45rem;text-align:left;"
          + "vertical-align:top}th{background:#f5f6fa}tr.significant{background:#fdeaea}"
          + "tr.unsafe{background:#fff4f0}.ci{color:#5a6275;font-size:.9em}figure{margin:.8rem"
          + " 0}figcaption{color:#5a6275;font-size:.9em}.chart .grid{stroke:#e4e6ee}.chart"
          + " .tick{fill:#5a6275;font-size:11px}.chart .label{fill:#1d2330;font-size:12px}.chart"
          + " .value{fill:#1d2330;font-size:12px}.chart"
          + " .whisker{stroke:#3b5bdb;stroke-width:2}.chart .whisker.alert{stroke:#c62828}.chart"
          + " circle.point{fill:#3b5bdb}.chart circle.point.alert{fill:#c62828}.chart"
          + " .reference{stroke:#8a4b00;stroke-dasharray:4 3}.chart .bar{fill:#9fb3f5}.chart"
          + " .bar.unsafe{fill:#e57373}details{margin:.3rem 0}summary{cursor:pointer}table.rows"
          + " td:last-child{max-width:420px}footer{margin:3rem 0"
          + " 1rem;color:#8a90a0;font-size:.85em}@media print{details{display:block}}";
}
