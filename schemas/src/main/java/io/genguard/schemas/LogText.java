package io.genguard.schemas;

import java.sql.SQLException;

/**
 * Untrusted text (a field of an event read from Kafka, an attribute, a name a request gave) made
 * safe for one log line: quoted, cut to a bound, and with every control character escaped, so an
 * embedded line break cannot start a forged log line and a megabyte of text cannot become a
 * megabyte of log.
 */
public final class LogText {
  /** Most characters of a value that {@link #quoted(String)} shows, escapes included. */
  public static final int MAX_CHARS = 200;

  private LogText() {}

  /**
   * The value in double quotes, at most {@value #MAX_CHARS} characters of it, escaped as {@link
   * #quoted(String, int)} says; {@code null} (unquoted) for null.
   */
  public static String quoted(String value) {
    return quoted(value, MAX_CHARS);
  }

  /**
   * The value in double quotes, its line breaks, tabs and other control characters (C0, DEL, C1),
   * the Unicode line and paragraph separators, lone surrogates, {@code "} and {@code \} escaped as
   * in Java ({@code \n}, {@code \"}, {@code \}{@code u2028}); cut once the escaped text reaches
   * {@code max} characters, followed then by how many characters of the value were left out, as in
   * {@code "abc"… (99997 more chars)}. {@code null} (unquoted) for null.
   */
  public static String quoted(String value, int max) {
    if (value == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(Math.min(value.length(), max) + 24).append('"');
    int limit = max + 1; // the opening quote
    int i = 0;
    while (i < value.length() && out.length() < limit) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        out.append(c).append(value.charAt(i + 1)); // a whole pair: printable as it is
        i += 2;
        continue;
      }
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (Character.isISOControl(c)
              || Character.isSurrogate(c)
              || c == '\u2028'
              || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
      i++;
    }
    out.append('"');
    if (i < value.length()) {
      out.append("… (").append(value.length() - i).append(" more chars)");
    }
    return out.toString();
  }

  /**
   * Why the database refused a statement, for one log line: PostgreSQL's first line for it (the
   * statement's own exception where a batch chains one), without the values pgjdbc quotes in a
   * batch's message ("(no message)" then: an event's or alert's content does not belong in a log),
   * control characters replaced by '?', at most 300 characters.
   */
  public static String databaseRefusal(SQLException refused) {
    SQLException statement =
        refused.getNextException() != null ? refused.getNextException() : refused;
    String message = statement.getMessage() == null ? "" : statement.getMessage();
    if (message.startsWith("Batch entry")) {
      return "(no message)";
    }
    int end = message.indexOf('\n');
    String line = end < 0 ? message : message.substring(0, end);
    StringBuilder clean = new StringBuilder(Math.min(line.length(), 300));
    for (int i = 0; i < line.length() && clean.length() < 300; i++) {
      char c = line.charAt(i);
      clean.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return clean.toString();
  }
}
