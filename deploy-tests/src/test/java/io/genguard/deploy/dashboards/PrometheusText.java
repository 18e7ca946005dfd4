package io.genguard.deploy.dashboards;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the Prometheus text exposition format (0.0.4) far enough to compare names and sum values.
 */
final class PrometheusText {
  private PrometheusText() {}

  /**
   * The names of all samples, e.g. {@code x_bucket}, {@code x_count} and {@code x_sum} of a
   * histogram.
   */
  static Set<String> sampleNames(String text) {
    Set<String> names = new TreeSet<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      names.add(name(line));
    }
    return names;
  }

  /** The sum of every sample of one name, across label sets. */
  static double sum(String text, String name) {
    double total = 0;
    for (String line : text.split("\n")) {
      if (!line.startsWith("#") && !line.isBlank() && name(line).equals(name)) {
        String rest =
            line.contains("{")
                ? line.substring(line.lastIndexOf('}') + 1)
                : line.substring(name.length());
        total +=
            Double.parseDouble(rest.trim().split("\\s+")[0]); // value, then an optional timestamp
      }
    }
    return total;
  }

  /**
   * The largest value of the samples of one name for each value of one of their labels (samples
   * without that label are left out).
   */
  static Map<String, Double> maxByLabel(String text, String name, String label) {
    Pattern labelValue = Pattern.compile("[{,]\\s*" + Pattern.quote(label) + "=\"([^\"]*)\"");
    Map<String, Double> values = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || line.isBlank() || !name(line).equals(name)) {
        continue;
      }
      int close = line.lastIndexOf('}');
      Matcher matcher = labelValue.matcher(line.substring(0, Math.max(close, 0)));
      if (close < 0 || !matcher.find()) {
        continue;
      }
      double value = Double.parseDouble(line.substring(close + 1).trim().split("\\s+")[0]);
      values.merge(matcher.group(1), value, Math::max);
    }
    return values;
  }

  private static String name(String line) {
    int end = 0;
    while (end < line.length()
        && line.charAt(end) != '{'
        && !Character.isWhitespace(line.charAt(end))) {
      end++;
    }
    return line.substring(0, end);
  }
}
