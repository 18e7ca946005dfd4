package io.genguard.provenance.manifest;

import io.genguard.provenance.text.LoneSurrogates;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Canonical JSON after RFC 8785 (JSON Canonicalization Scheme), so one manifest has exactly one
 * byte sequence to sign:
 *
 * <ul>
 *   <li>no whitespace; object members sorted by key, comparing UTF-16 code units ({@link
 *       String#compareTo}), duplicate keys impossible (maps);
 *   <li>strings: only {@code "}, {@code \} and control characters escaped ({@code \b \t \n \f \r},
 *       others as lower-case <code>&#92;u00XX</code>); everything else literal, output encoded as
 *       UTF-8; lone surrogates rejected;
 *   <li>numbers: ECMAScript {@code Number.prototype.toString} of the IEEE double (shortest digits
 *       that round-trip, plain notation for exponents -7 &lt; e &lt; 21, otherwise {@code 1e+21}
 *       style); integers must be within +-2^53 (I-JSON); NaN and infinities rejected;
 *   <li>literals {@code true}, {@code false}, {@code null}.
 * </ul>
 *
 * <p>Values: {@link Map} with String keys, {@link List}, {@link String}, {@link Boolean}, {@link
 * Integer}, {@link Long}, {@link Double}, {@link Float} and null.
 */
public final class CanonicalJson {
  /** Largest integer (2^53 - 1) that Long and Integer values may hold (I-JSON). */
  static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  private CanonicalJson() {}

  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    append(out, value);
    return out.toString();
  }

  private static void append(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof Map<?, ?> map) {
      TreeMap<String, Object> sorted = new TreeMap<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!(entry.getKey() instanceof String key)) {
          throw new IllegalArgumentException("JSON object keys must be strings: " + entry.getKey());
        }
        sorted.put(key, entry.getValue());
      }
      out.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> entry : sorted.entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        appendString(out, entry.getKey());
        out.append(':');
        append(out, entry.getValue());
      }
      out.append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        append(out, list.get(i));
      }
      out.append(']');
    } else if (value instanceof String string) {
      appendString(out, string);
    } else if (value instanceof Boolean bool) {
      out.append(bool ? "true" : "false");
    } else if (value instanceof Integer || value instanceof Long) {
      long number = ((Number) value).longValue();
      // Not Math.abs: that of Long.MIN_VALUE is itself, negative, and would pass.
      if (number < -MAX_SAFE_INTEGER || number > MAX_SAFE_INTEGER) {
        throw new IllegalArgumentException(
            "Integer "
                + number
                + " is outside +-2^53 and has no exact JSON number; send it as a string");
      }
      out.append(number);
    } else if (value instanceof Double || value instanceof Float) {
      out.append(formatNumber(((Number) value).doubleValue()));
    } else {
      throw new IllegalArgumentException(
          "Cannot write " + value.getClass().getName() + " as canonical JSON");
    }
  }

  private static void appendString(StringBuilder out, String string) {
    int loneSurrogate = LoneSurrogates.first(string);
    if (loneSurrogate >= 0) {
      throw new IllegalArgumentException("String has a lone surrogate at index " + loneSurrogate);
    }
    out.append('"');
    for (int i = 0; i < string.length(); i++) {
      char c = string.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** ECMAScript Number.prototype.toString(10) for a finite double (ECMA-262, 7.1.12.1). */
  static String formatNumber(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("JSON has no representation for " + value);
    }
    if (value == 0.0) {
      return "0"; // also -0
    }
    String sign = value < 0 ? "-" : "";
    double magnitude = Math.abs(value);
    BigDecimal exact = new BigDecimal(magnitude);
    BigDecimal shortest = null;
    // The fewest significant digits that read back as the same double; rounding the exact value
    // half-even picks the candidate closest to it, as ECMAScript requires.
    for (int precision = 1; precision <= 17; precision++) {
      BigDecimal candidate = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
      if (candidate.doubleValue() == magnitude) {
        shortest = candidate.stripTrailingZeros();
        break;
      }
    }
    if (shortest == null) {
      throw new IllegalStateException("No round-tripping decimal for " + value);
    }
    String digits = shortest.unscaledValue().toString();
    int k = digits.length();
    int n = k - shortest.scale(); // value = 0.digits * 10^n
    StringBuilder out = new StringBuilder(sign);
    if (k <= n && n <= 21) {
      out.append(digits).append("0".repeat(n - k));
    } else if (0 < n && n <= 21) {
      out.append(digits, 0, n).append('.').append(digits, n, k);
    } else if (-6 < n && n <= 0) {
      out.append("0.").append("0".repeat(-n)).append(digits);
    } else {
      int exponent = n - 1;
      out.append(digits.charAt(0));
      if (k > 1) {
        out.append('.').append(digits, 1, k);
      }
      out.append('e').append(exponent < 0 ? '-' : '+').append(Math.abs(exponent));
    }
    return out.toString();
  }
}
