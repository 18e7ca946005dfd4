package io.genguard.bias.report;

import java.util.List;
import java.util.Locale;

/**
 * Inline SVG charts for the HTML report: no script, no external file, so the page stays
 * self-contained and prints as it displays.
 */
final class SvgCharts {
  private static final int WIDTH = 680;
  private static final int LABEL = 190;
  private static final int RIGHT = 110;
  private static final int ROW = 26;
  private static final int AXIS = 28;

  private SvgCharts() {}

  /**
   * One point with its interval.
   *
   * @param highlight drawn in the alert colour (e.g. the groups of a significant test)
   */
  record Point(
      String label, Double estimate, Double low, Double high, String note, boolean highlight) {}

  /**
   * Horizontal dot-and-whisker chart: one row per point, x from 0 to a rounded maximum (or to
   * {@code fixedMax}), an optional dashed reference line.
   */
  static String intervals(
      String title,
      List<Point> points,
      boolean asPercent,
      Double fixedMax,
      Double reference,
      String referenceLabel) {
    double max = fixedMax != null ? fixedMax : niceMax(points);
    int plot = WIDTH - LABEL - RIGHT;
    int height = points.size() * ROW + AXIS + 8;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg role=\"img\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" class=\"chart\"><title>%s</title>",
            WIDTH,
            height,
            WIDTH,
            height,
            HtmlReportWriter.escape(title)));
    int axisY = points.size() * ROW + 4;
    for (int i = 0; i <= 4; i++) {
      double value = max * i / 4;
      double x = LABEL + plot * i / 4.0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                  + "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>",
              x,
              x,
              axisY,
              x,
              axisY + 16,
              format(value, asPercent)));
    }
    if (reference != null && reference <= max) {
      double x = LABEL + plot * reference / max;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" class=\"reference\"/>"
                  + "<text x=\"%.1f\" y=\"10\" class=\"tick\" text-anchor=\"start\">%s</text>",
              x,
              x,
              axisY,
              x + 3,
              HtmlReportWriter.escape(referenceLabel)));
    }
    for (int i = 0; i < points.size(); i++) {
      Point p = points.get(i);
      double y = i * ROW + ROW / 2.0;
      String cls = p.highlight() ? "point alert" : "point";
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%.1f\" class=\"label\" text-anchor=\"end\">%s</text>",
              LABEL - 8,
              y + 4,
              HtmlReportWriter.escape(shorten(p.label(), 28))));
      if (p.estimate() == null) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%.1f\" class=\"tick\">no data</text>",
                LABEL + 4,
                y + 4));
        continue;
      }
      if (p.low() != null && p.high() != null) {
        double x1 = LABEL + plot * clamp(p.low() / max);
        double x2 = LABEL + plot * clamp(p.high() / max);
        svg.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"whisker %s\"/><line"
                    + " x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"whisker %s\"/><line"
                    + " x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"whisker %s\"/>",
                x1,
                y,
                x2,
                y,
                cls,
                x1,
                y - 5,
                x1,
                y + 5,
                cls,
                x2,
                y - 5,
                x2,
                y + 5,
                cls));
      }
      double x = LABEL + plot * clamp(p.estimate() / max);
      svg.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" class=\"%s\"><title>%s</title></circle>",
              x,
              y,
              cls,
              HtmlReportWriter.escape(p.label() + ": " + describe(p, asPercent))));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%.1f\" class=\"value\">%s</text>",
              WIDTH - RIGHT + 6,
              y + 4,
              HtmlReportWriter.escape(format(p.estimate(), asPercent) + p.note())));
    }
    svg.append("</svg>");
    return svg.toString();
  }

  /** Small-multiple histograms of unsafe scores in [0, 1], one strip per group, 20 bins. */
  static String histograms(List<String> groups, List<double[]> scores, double threshold) {
    int bins = 20;
    int strip = 56;
    int plot = WIDTH - LABEL - RIGHT;
    int height = groups.size() * (strip + 8) + AXIS;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg role=\"img\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" class=\"chart\"><title>Unsafe score distribution per"
                + " group</title>",
            WIDTH,
            height,
            WIDTH,
            height));
    for (int g = 0; g < groups.size(); g++) {
      int[] counts = new int[bins];
      for (double s : scores.get(g)) {
        counts[Math.min(bins - 1, (int) (s * bins))]++;
      }
      int top = 1;
      for (int c : counts) {
        top = Math.max(top, c);
      }
      int baseY = g * (strip + 8) + strip;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">%s (n=%d)</text>",
              LABEL - 8,
              baseY - strip / 2 + 4,
              HtmlReportWriter.escape(shorten(groups.get(g), 22)),
              scores.get(g).length));
      double width = plot / (double) bins;
      for (int b = 0; b < bins; b++) {
        double h = (strip - 4) * counts[b] / (double) top;
        String cls = (b + 0.5) / bins >= threshold ? "bar unsafe" : "bar";
        svg.append(
            String.format(
                Locale.ROOT,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
                    + " class=\"%s\"><title>%.2f-%.2f: %d</title></rect>",
                LABEL + b * width + 1,
                baseY - h,
                width - 2,
                h,
                cls,
                b / (double) bins,
                (b + 1) / (double) bins,
                counts[b]));
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>",
              LABEL,
              baseY,
              LABEL + plot,
              baseY));
    }
    int axisY = groups.size() * (strip + 8);
    for (int i = 0; i <= 4; i++) {
      double x = LABEL + plot * i / 4.0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%.2f</text>",
              x,
              axisY + 14,
              i / 4.0));
    }
    double tx = LABEL + plot * threshold;
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" class=\"reference\"/>",
            tx,
            tx,
            axisY));
    svg.append("</svg>");
    return svg.toString();
  }

  private static String describe(Point p, boolean asPercent) {
    String value = format(p.estimate(), asPercent);
    if (p.low() == null || p.high() == null) {
      return value;
    }
    return value + " [" + format(p.low(), asPercent) + ", " + format(p.high(), asPercent) + "]";
  }

  static String format(double value, boolean asPercent) {
    return asPercent
        ? String.format(Locale.ROOT, "%.1f%%", 100 * value)
        : String.format(Locale.ROOT, "%.3f", value);
  }

  private static double niceMax(List<Point> points) {
    double max = 0;
    for (Point p : points) {
      if (p.high() != null) {
        max = Math.max(max, p.high());
      } else if (p.estimate() != null) {
        max = Math.max(max, p.estimate());
      }
    }
    if (max <= 0) {
      return 0.1;
    }
    double[] steps = {0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0};
    for (double step : steps) {
      if (max <= step) {
        return step;
      }
    }
    return Math.ceil(max * 4) / 4;
  }

  private static double clamp(double fraction) {
    return Math.max(0, Math.min(1, fraction));
  }

  private static String shorten(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max - 1) + "…";
  }
}
