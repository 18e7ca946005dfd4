package io.genguard.deploy.promql;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The metric names a PromQL expression selects, and the label matchers beside them, as a small
 * scanner sees them: identifiers that are not function or aggregation calls, keywords, label names
 * (inside {@code {...}} and grouping clauses), durations, numbers, strings or Grafana variables
 * ({@code $var}, {@code ${var}}). Enough for the expressions of dashboards and alert rules; it does
 * not validate PromQL.
 */
public final class PromQlMetricNames {
  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "bool",
          "offset",
          "inf",
          "nan",
          "atan2",
          "group_left",
          "group_right");

  /** Aggregation operators: their grouping clause may stand between the name and the "(". */
  private static final Set<String> AGGREGATIONS =
      Set.of(
          "sum",
          "min",
          "max",
          "avg",
          "group",
          "stddev",
          "stdvar",
          "count",
          "count_values",
          "bottomk",
          "topk",
          "quantile",
          "limitk",
          "limit_ratio");

  /** Keywords followed by a parenthesised list of label names. */
  private static final Set<String> GROUPING =
      Set.of("by", "without", "on", "ignoring", "group_left", "group_right");

  private PromQlMetricNames() {}

  /** One label matcher of a selector, e.g. {@code basis="VERDICT"} or {@code group!~"a|b"}. */
  public record Matcher(String label, String operator, String value) {}

  /** A metric name with the label matchers written beside it ({@code name{...}}), if any. */
  public record Selector(String metric, List<Matcher> matchers) {
    /** The value an {@code =} matcher requires of {@code label}, or null. */
    public String equality(String label) {
      for (Matcher matcher : matchers) {
        if (matcher.label().equals(label) && matcher.operator().equals("=")) {
          return matcher.value();
        }
      }
      return null;
    }
  }

  public static Set<String> of(String expression) {
    Set<String> names = new TreeSet<>();
    for (Selector selector : selectors(expression)) {
      names.add(selector.metric());
    }
    return names;
  }

  /** Every metric selector of the expression, in order, each with its label matchers. */
  public static List<Selector> selectors(String expression) {
    List<Selector> selectors = new ArrayList<>();
    String text = expression;
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(text, i);
      } else if (c == '{') {
        i = skipBalanced(text, i, '{', '}');
      } else if (c == '[') {
        i = skipBalanced(text, i, '[', ']');
      } else if (c == '$') {
        i = skipVariable(text, i);
      } else if (Character.isDigit(c)
          || (c == '.' && i + 1 < text.length() && Character.isDigit(text.charAt(i + 1)))) {
        i = skipNumber(text, i);
      } else if (Character.isLetter(c) || c == '_' || c == ':') {
        int end = i;
        while (end < text.length() && isIdentifierPart(text.charAt(end))) {
          end++;
        }
        String identifier = text.substring(i, end);
        int next = skipSpaces(text, end);
        boolean call = next < text.length() && text.charAt(next) == '(';
        if (call && GROUPING.contains(identifier)) {
          i = skipBalanced(text, next, '(', ')');
          continue;
        }
        if (!call
            && !KEYWORDS.contains(identifier)
            && !GROUPING.contains(identifier)
            && !AGGREGATIONS.contains(identifier)) {
          if (next < text.length() && text.charAt(next) == '{') {
            int close = skipBalanced(text, next, '{', '}');
            selectors.add(new Selector(identifier, matchers(text.substring(next + 1, close - 1))));
            i = close;
            continue;
          }
          selectors.add(new Selector(identifier, List.of()));
        }
        i = end;
      } else {
        i++;
      }
    }
    return selectors;
  }

  /** The matchers between a selector's braces: {@code label op "value"}, separated by commas. */
  private static List<Matcher> matchers(String body) {
    List<Matcher> matchers = new ArrayList<>();
    int i = 0;
    while (true) {
      i = skipSpaces(body, i);
      if (i >= body.length()) {
        return matchers;
      }
      int labelEnd = i;
      while (labelEnd < body.length() && isIdentifierPart(body.charAt(labelEnd))) {
        labelEnd++;
      }
      String label = body.substring(i, labelEnd);
      int operatorStart = skipSpaces(body, labelEnd);
      int operatorEnd = operatorStart;
      while (operatorEnd < body.length() && "=!~".indexOf(body.charAt(operatorEnd)) >= 0) {
        operatorEnd++;
      }
      String operator = body.substring(operatorStart, operatorEnd);
      int valueStart = skipSpaces(body, operatorEnd);
      if (label.isEmpty()
          || !Set.of("=", "!=", "=~", "!~").contains(operator)
          || valueStart >= body.length()
          || "\"'`".indexOf(body.charAt(valueStart)) < 0) {
        throw new IllegalArgumentException("Cannot read the label matchers {" + body + "}");
      }
      int valueEnd = skipString(body, valueStart);
      matchers.add(
          new Matcher(label, operator, unquote(body.substring(valueStart + 1, valueEnd - 1))));
      i = skipSpaces(body, valueEnd);
      if (i < body.length() && body.charAt(i) == ',') {
        i++;
      }
    }
  }

  private static String unquote(String value) {
    return value.replace("\\\"", "\"").replace("\\\\", "\\");
  }

  private static boolean isIdentifierPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == ':';
  }

  private static int skipSpaces(String text, int from) {
    int i = from;
    while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int skipString(String text, int from) {
    char quote = text.charAt(from);
    int i = from + 1;
    while (i < text.length() && text.charAt(i) != quote) {
      i += text.charAt(i) == '\\' && quote != '`' ? 2 : 1;
    }
    return i + 1;
  }

  private static int skipBalanced(String text, int from, char open, char close) {
    int depth = 0;
    int i = from;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(text, i);
        continue;
      }
      if (c == open) {
        depth++;
      } else if (c == close && --depth == 0) {
        return i + 1;
      }
      i++;
    }
    throw new IllegalArgumentException("Unbalanced '" + open + "' at " + from + " in: " + text);
  }

  private static int skipVariable(String text, int from) {
    int i = from + 1;
    if (i < text.length() && text.charAt(i) == '{') {
      return skipBalanced(text, i, '{', '}');
    }
    while (i < text.length() && isIdentifierPart(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int skipNumber(String text, int from) {
    int i = from;
    while (i < text.length()) {
      char c = text.charAt(i);
      boolean exponentSign =
          (c == '+' || c == '-') && (text.charAt(i - 1) == 'e' || text.charAt(i - 1) == 'E');
      if (Character.isLetterOrDigit(c) || c == '.' || exponentSign) {
        i++;
      } else {
        break;
      }
    }
    return i;
  }
}
