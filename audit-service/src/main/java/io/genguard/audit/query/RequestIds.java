package io.genguard.audit.query;

import io.genguard.audit.InvalidInputException;
import io.genguard.schemas.DeadLetters;
import java.nio.charset.StandardCharsets;

/**
 * What a request id named to the API's request, review and unfinished-flow routes may be: every id
 * the audit store can hold. The generator takes any request id that is not blank and has at most
 * {@link #MAX_BYTES} bytes in UTF-8 (spaces, '/', '%', commas, other scripts), so the narrower
 * {@link Cursor#ID} rule would leave such a request's output up for good. An id PostgreSQL text
 * cannot hold (a NUL character) or that is not well-formed Unicode (a lone surrogate, which no
 * UTF-8 event carries) names no stored request and is refused, as are blank and overlong ones.
 */
public final class RequestIds {
  /** Longest request id in UTF-8 bytes: the generator's limit (it keys every event). */
  public static final int MAX_BYTES = DeadLetters.MAX_KEY_BYTES;

  /** The rule in words, for error messages and help. */
  public static final String RULE =
      "any text the generator takes: not blank, at most "
          + MAX_BYTES
          + " bytes in UTF-8, no NUL character, well-formed Unicode";

  private RequestIds() {}

  /** Why {@code id} cannot be a stored request id, or null if it can be one. */
  public static String whyNot(String id) {
    if (id == null) {
      return "is missing";
    }
    if (id.isBlank()) {
      return "is blank, and no request has a blank id";
    }
    if (id.indexOf('\0') >= 0) {
      return "holds a NUL character, which no stored request id holds";
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < id.length()
          && Character.isLowSurrogate(id.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return "is not well-formed Unicode (a lone surrogate at character " + (i + 1) + ")";
      }
    }
    int bytes = id.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      return "has "
          + bytes
          + " bytes in UTF-8, more than "
          + MAX_BYTES
          + ", the longest request id the generator takes";
    }
    return null;
  }

  /**
   * {@code id} if it can be a stored request id; refused, naming {@code what} and quoting the id
   * ({@link #shown}) and why, if not.
   */
  public static String require(String what, String id) {
    String why = whyNot(id);
    if (why != null) {
      throw new InvalidInputException(
          what
              + (id == null ? "" : " " + shown(id))
              + " "
              + why
              + " (a request id is "
              + RULE
              + ")");
    }
    return id;
  }

  /**
   * {@code id} quoted for a message or log line: cut after 40 characters, its control characters
   * and lone surrogates written as {@code \\uXXXX}, so it stays one line of printable text.
   */
  public static String shown(String id) {
    String cut = id.length() > 40 ? id.substring(0, 40) : id;
    StringBuilder out = new StringBuilder("'");
    for (int i = 0; i < cut.length(); i++) {
      char c = cut.charAt(i);
      boolean pair =
          Character.isHighSurrogate(c)
              && i + 1 < cut.length()
              && Character.isLowSurrogate(cut.charAt(i + 1));
      if (pair) {
        out.append(c).append(cut.charAt(++i));
      } else if (Character.isISOControl(c)
          || Character.isSurrogate(c)
          || Character.getType(c) == Character.FORMAT
          || c == '\u2028'
          || c == '\u2029') {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append(cut.length() < id.length() ? "...'" : "'").toString();
  }
}
