package io.genguard.deploy.dashboards;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the Prometheus text exposition format (0.0.4) far enough to compare names and labels and
 * sum values.
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

  /** One sample's name and labels. */
  record Series(String name, Map<String, String> labels) {}

  /** Every sample's name and labels (values unescaped). */
  static List<Series> series(String text) {
    List<Series> series = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String name = name(line);
      Map<String, String> labels = new TreeMap<>();
      int i = name.length();
      if (i < line.length() && line.charAt(i) == '{') {
        i++;
        while (i < line.length() && line.charAt(i) != '}') {
          int equals = line.indexOf('=', i);
          String label = line.substring(i, equals).trim();
          StringBuilder value = new StringBuilder();
          int j = equals + 2; // past ="
          while (line.charAt(j) != '"') {
            char c = line.charAt(j);
            if (c == '\\') {
              char escaped = line.charAt(++j);
              value.append(escaped == 'n' ? '\n' : escaped);
            } else {
              value.append(c);
            }
            j++;
          }
          labels.put(label, value.toString());
          i = j + 1;
          if (i < line.length() && line.charAt(i) == ',') {
            i++; // Flink's reporter ends the list with a comma too
          }
        }
      }
      series.add(new Series(name, labels));
    }
    return series;
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
