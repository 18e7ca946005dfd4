package io.genguard.moderation.policy;

import java.util.Locale;

/**
 * Numbers in reason texts, written exactly as {@code String.format(Locale.ROOT, ...)} writes them,
 * without a {@link java.util.Formatter} per reason: the moderation operator writes several numbers
 * into the reasons of every output, and the formatter (its pattern parsing and the decimal format
 * symbols it copies for each number under {@link Locale#ROOT}) was a tenth of the operator's time.
 */
public final class ReasonNumbers {
  private static final long[] POWERS_OF_TEN = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000};

  /** Beyond this the product {@code value * 10^digits} may be inexact by more than the margin. */
  private static final double LARGEST_FAST = 1e9;

  /**
   * How far from a rounding tie (x.5 after scaling) the scaled value must be for the fast path:
   * Formatter rounds the double's shortest decimal digits half up, which can differ from rounding
   * the binary value only within an ulp or so of a tie; the scaled values here (under 1e9) are
   * computed to within 1e-6 and their digits are within half an ulp of them.
   */
  private static final double TIE_MARGIN = 1e-4;

  private ReasonNumbers() {}

  /**
   * {@code String.format(Locale.ROOT, "%.<digits>f", value)}, for 0 to 6 digits: computed directly
   * for values whose magnitude times 10^digits is below 1e9 and that are not within a hair of a
   * rounding tie (scores, thresholds and z-scores nearly always), by the formatter otherwise.
   */
  public static String fixed(double value, int digits) {
    if (digits < 0 || digits >= POWERS_OF_TEN.length) {
      throw new IllegalArgumentException("digits must be 0 to 6, got " + digits);
    }
    if (Double.doubleToRawLongBits(value) < 0 && !Double.isNaN(value)) {
      // The formatter writes the sign of any negative value, -0.0 and those that round to zero
      // included ("-0.000").
      return "-" + fixed(-value, digits);
    }
    long scale = POWERS_OF_TEN[digits];
    double scaled = value * scale;
    if (!(scaled < LARGEST_FAST)) {
      // NaN, infinity, and values whose scaled form is too large for the product to be exact to
      // well within the tie margin (8750911.7584755 with 6 digits rounded the other way).
      return formatted(value, digits);
    }
    double floor = Math.floor(scaled);
    double fraction = scaled - floor;
    if (Math.abs(fraction - 0.5) < TIE_MARGIN) {
      return formatted(value, digits);
    }
    long units = (long) floor + (fraction > 0.5 ? 1 : 0);
    String whole = Long.toString(units / scale);
    if (digits == 0) {
      return whole;
    }
    String fractionDigits = Long.toString(units % scale);
    StringBuilder out = new StringBuilder(whole.length() + 1 + digits);
    out.append(whole).append('.');
    for (int i = fractionDigits.length(); i < digits; i++) {
      out.append('0');
    }
    return out.append(fractionDigits).toString();
  }

  /** {@code String.format(Locale.ROOT, "%,d", value)}: digits grouped by three with commas. */
  public static String grouped(long value) {
    String digits = Long.toString(value);
    int start = value < 0 ? 1 : 0;
    int length = digits.length() - start;
    if (length <= 3) {
      return digits;
    }
    StringBuilder out = new StringBuilder(digits.length() + length / 3);
    out.append(digits, 0, start);
    int firstGroup = length % 3 == 0 ? 3 : length % 3;
    out.append(digits, start, start + firstGroup);
    for (int i = start + firstGroup; i < digits.length(); i += 3) {
      out.append(',').append(digits, i, i + 3);
    }
    return out.toString();
  }

  private static String formatted(double value, int digits) {
    return String.format(Locale.ROOT, "%." + digits + "f", value);
  }
}
