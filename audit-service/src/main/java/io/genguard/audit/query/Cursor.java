package io.genguard.audit.query;

import io.genguard.audit.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;

/**
 * An opaque keyset-pagination cursor: the sort time and id of the last row of a page. Pages are
 * stable under inserts (no OFFSET), and a cursor is just data: it is decoded, validated and bound
 * as parameters, never pasted into SQL.
 *
 * @param time sort time of the last row (microsecond precision, as stored)
 * @param id id of the last row, the tie-breaker
 */
public record Cursor(Instant time, String id) {
  private static final int MAX_ENCODED = 512;

  public String encode() {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, time);
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((micros + ":" + id).getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a cursor a previous page returned; null or blank means the first page. */
  public static Cursor decode(String name, String encoded) {
    if (encoded == null || encoded.isBlank()) {
      return null;
    }
    String invalid =
        name
            + " is not a cursor this API returned; pass the 'nextCursor' of the previous"
            + " page unchanged, or leave it out for the first page";
    if (encoded.length() > MAX_ENCODED) {
      throw new InvalidInputException(invalid);
    }
    try {
      String text = new String(Base64.getUrlDecoder().decode(encoded), StandardCharsets.UTF_8);
      int colon = text.indexOf(':');
      if (colon <= 0 || colon == text.length() - 1) {
        throw new InvalidInputException(invalid);
      }
      long micros = Long.parseLong(text.substring(0, colon));
      return new Cursor(Instant.EPOCH.plus(micros, ChronoUnit.MICROS), text.substring(colon + 1));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new InvalidInputException(invalid);
    }
  }

  public OffsetDateTime timeColumn() {
    return OffsetDateTime.ofInstant(time, ZoneOffset.UTC);
  }
}
