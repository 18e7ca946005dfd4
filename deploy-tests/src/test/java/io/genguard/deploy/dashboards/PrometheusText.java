package io.genguard.deploy.dashboards;

import java.util.Set;
import java.util.TreeSet;

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
