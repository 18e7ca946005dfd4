package io.genguard.provenance.text;

/**
 * Unpaired UTF-16 surrogates: a string that holds one has no UTF-8 form, and {@link
 * String#getBytes} and the Kafka and PostgreSQL encoders write '?' in its place, so two different
 * strings would share their bytes, their hash and their signature.
 */
public final class LoneSurrogates {
  private LoneSurrogates() {}

  /** The index of the first lone surrogate in {@code s}, or -1 when it has a UTF-8 form. */
  public static int first(String s) {
    return first(s, 0);
  }

  /** The index of the first lone surrogate at or after {@code from}, or -1. */
  public static int first(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@code s} with every lone surrogate replaced by U+FFFD, the Unicode replacement character, so
   * that it encodes to UTF-8 without loss; {@code s} itself when it has none. Always the same
   * length.
   */
  public static String replaced(String s) {
    int i = first(s);
    if (i < 0) {
      return s;
    }
    char[] repaired = s.toCharArray();
    for (; i >= 0; i = first(s, i + 1)) {
      repaired[i] = '\uFFFD';
    }
    return new String(repaired);
  }
}
