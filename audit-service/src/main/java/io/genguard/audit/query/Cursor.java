package io.genguard.audit.query;

import io.genguard.audit.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * An opaque keyset-pagination cursor: the sort time and id of the last row of a page. Pages are
 * stable under inserts (no OFFSET), and a cursor is just data: it is decoded, validated and bound
 * as parameters, never pasted into SQL.
 *
 * @param time sort time of the last row (microsecond precision, as stored)
 * @param id id of the last row, the tie-breaker
 * @param tenant the last row's tenant, the last tie-breaker where two tenants may use one id (the
 *     review queue's request ids); null in the cursors of other lists, and in the review queue's
 *     cursors from before the forty-ninth session
 */
public record Cursor(Instant time, String id, String tenant) {
  /**
   * Longest cursor: the review queue's holds a request id of up to {@link RequestIds#MAX_BYTES}
   * bytes and a tenant, in base64.
   */
  public static final int MAX_ENCODED = 2048;

  /**
   * The form of the ids the API's rows carry and its paths and parameters take, but for request ids
   * ({@link RequestIds}): 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or
   * digit.
   */
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  /** The instants a query parameter or cursor may name: years 1 to 9999. */
  public static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");

  public static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

  /**
   * Refuses an instant outside years 1 to 9999, which PostgreSQL or Java's date types cannot hold
   * for every comparison the queries make.
   *
   * @throws InvalidInputException naming the parameter
   */
  public static Instant inRange(String name, Instant value) {
    if (value != null && (value.isBefore(EARLIEST) || value.isAfter(LATEST))) {
      throw new InvalidInputException(
          name + " '" + value + "' is outside the years 1 to 9999 this API searches");
    }
    return value;
  }

  /**
   * The separator of an id and its tenant: no tenant has it ({@link #ID}), so the last one is it (a
   * request id may hold '/').
   */
  private static final char TENANT = '/';

  /** A cursor of a list whose ids are unique: no tenant. */
  public Cursor(Instant time, String id) {
    this(time, id, null);
  }

  public String encode() {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, time);
    String key = tenant == null ? id : id + TENANT + tenant;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((micros + ":" + key).getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a cursor a previous page returned; null or blank means the first page. */
  public static Cursor decode(String name, String encoded) {
    return decode(name, encoded, false);
  }

  /**
   * Decodes a cursor of a list ordered by time, id and tenant (the review queue): one with a
   * tenant, or one from before the tenant was added (its tenant null); null or blank means the
   * first page. Its id is a request id, so any id {@link RequestIds} takes.
   */
  public static Cursor decodeWithTenant(String name, String encoded) {
    return decode(name, encoded, true);
  }

  private static Cursor decode(String name, String encoded, boolean withTenant) {
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
      Instant time = Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
      String id = text.substring(colon + 1);
      String tenant = null;
      int slash = id.lastIndexOf(TENANT);
      if (withTenant && slash >= 0) {
        tenant = id.substring(slash + 1);
        id = id.substring(0, slash);
        if (!ID.matcher(tenant).matches()) {
          throw new InvalidInputException(invalid);
        }
      }
      // What the API's rows carry: an id of the API's form (the review queue's, any request id:
      // RequestIds) and a time PostgreSQL can compare (a NUL or a year 300000 would otherwise
      // reach the database and come back as a 500).
      boolean rowId = withTenant ? RequestIds.whyNot(id) == null : ID.matcher(id).matches();
      if (!rowId || time.isBefore(EARLIEST) || time.isAfter(LATEST)) {
        throw new InvalidInputException(invalid);
      }
      return new Cursor(time, id, tenant);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new InvalidInputException(invalid);
    }
  }

  public OffsetDateTime timeColumn() {
    return OffsetDateTime.ofInstant(time, ZoneOffset.UTC);
  }
}
