package io.genguard.bias.report;

import java.util.List;
import java.util.Locale;

/**
 * A report as one CSV table: a {@code headline} row (the verdict in {@code metric}, the summary
 * sentence in {@code method}, the significant tests of tests run in {@code events} of {@code n}), a
 * {@code status} row (COMPLETE or PARTIAL in {@code metric}, the analysed samples of the planned in
 * {@code events} of {@code n}, the generation time in {@code method}), a {@code limit} row per
 * limit (its text in {@code method}), a {@code group} row per group and metric (estimate, interval,
 * events and the request ids behind it), a {@code disparity} row per metric, a {@code test} row per
 * test of the corrected family, and an {@code untested} row per pair that could not differ (not in
 * the family). RFC 4180 quoting; request ids joined with spaces.
 */
final class CsvReportWriter {
  static final List<String> HEADER =
      List.of(
          "campaign_id",
          "report_id",
          "section",
          "metric",
          "group",
          "group_b",
          "n",
          "events",
          "estimate",
          "ci_low",
          "ci_high",
          "difference",
          "ratio",
          "method",
          "statistic",
          "p_value",
          "p_adjusted",
          "significant",
          "request_ids");

  private CsvReportWriter() {}

  static String write(BiasReport report) {
    StringBuilder csv = new StringBuilder();
    line(csv, HEADER);
    String campaign = report.campaign().campaignId();
    String id = report.reportId();
    BiasReport.Headline headline = report.headline();
    line(
        csv,
        List.of(
            campaign,
            id,
            "headline",
            HtmlReportWriter.title(report).toLowerCase(Locale.ROOT).replace(' ', '_'),
            "",
            "",
            Integer.toString(headline.testsRun()),
            Integer.toString(headline.significantTests()),
            "",
            "",
            "",
            "",
            "",
            text(headline.summary()),
            "",
            "",
            "",
            Boolean.toString(headline.disparityDetected()),
            ""));
    line(
        csv,
        List.of(
            campaign,
            id,
            "status",
            report.status(),
            "",
            "",
            Integer.toString(report.sampleSizes().planned()),
            Integer.toString(report.sampleSizes().analysed()),
            "",
            "",
            "",
            "",
            "",
            report.generatedAt(),
            "",
            "",
            "",
            "",
            ""));
    for (String limit : report.limits()) {
      line(
          csv,
          List.of(
              campaign,
              id,
              "limit",
              "",
              "",
              "",
              "",
              "",
              "",
              "",
              "",
              "",
              "",
              text(limit),
              "",
              "",
              "",
              "",
              ""));
    }
    for (BiasReport.GroupFigures group : report.groups()) {
      for (BiasReport.Figure f : group.figures()) {
        line(
            csv,
            List.of(
                campaign,
                id,
                "group",
                f.metric(),
                text(group.group()),
                "",
                Long.toString(group.n()),
                f.events() == null ? "" : f.events().toString(),
                num(f.estimate()),
                num(f.low()),
                num(f.high()),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                String.join(" ", f.requestIds())));
      }
    }
    for (BiasReport.MetricDisparity d : report.disparities()) {
      line(
          csv,
          List.of(
              campaign,
              id,
              "disparity",
              d.metric(),
              text(nullable(d.highestGroup())),
              text(nullable(d.lowestGroup())),
              "",
              "",
              "",
              num(d.differenceLow()),
              num(d.differenceHigh()),
              num(d.difference()),
              num(d.ratio()),
              d.omnibusMethod(),
              num(d.omnibusStatistic()),
              num(d.omnibusP()),
              "",
              "",
              ""));
    }
    for (BiasReport.Test t : report.tests()) {
      line(
          csv,
          List.of(
              campaign,
              id,
              "test",
              t.metric(),
              text(t.groupA()),
              text(t.groupB()),
              "",
              "",
              num(t.estimateA()) + "|" + num(t.estimateB()),
              "",
              "",
              num(t.difference()),
              "",
              t.method(),
              num(t.statistic()),
              num(t.p()),
              num(t.pAdjusted()),
              Boolean.toString(t.significant()),
              ""));
    }
    for (BiasReport.UntestedPair u : report.untestedPairs()) {
      line(
          csv,
          List.of(
              campaign,
              id,
              "untested",
              u.metric(),
              text(u.groupA()),
              text(u.groupB()),
              "",
              "",
              "",
              "",
              "",
              "",
              "",
              "not tested: " + u.reason(),
              "",
              "",
              "",
              "",
              ""));
    }
    return csv.toString();
  }

  private static void line(StringBuilder csv, List<String> cells) {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        csv.append(',');
      }
      csv.append(quote(cells.get(i)));
    }
    csv.append("\r\n");
  }

  static String quote(String cell) {
    if (cell.indexOf(',') < 0
        && cell.indexOf('"') < 0
        && cell.indexOf('\n') < 0
        && cell.indexOf('\r') < 0) {
      return cell;
    }
    return '"' + cell.replace("\"", "\"\"") + '"';
  }

  /**
   * Free text (group names come from the campaign file) that a spreadsheet would run as a formula
   * when it starts with = + - @ (or a tab or carriage return) gets a leading apostrophe (OWASP CSV
   * injection); numbers are written by {@link #num} and keep their sign.
   */
  static String text(String cell) {
    return !cell.isEmpty() && "=+-@\t\r".indexOf(cell.charAt(0)) >= 0 ? "'" + cell : cell;
  }

  private static String num(Double value) {
    return value == null ? "" : String.format(Locale.ROOT, "%.6g", value);
  }

  private static String num(double value) {
    return String.format(Locale.ROOT, "%.6g", value);
  }

  private static String nullable(String value) {
    return value == null ? "" : value;
  }
}
