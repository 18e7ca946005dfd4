package io.genguard.audit.query;

import io.genguard.audit.InvalidInputException;
import io.genguard.schemas.TenantIds;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What to search judged outputs by; every field optional. Built only through {@link #parse}, which
 * checks each value against what it can be (an enum, a pattern, a number, an instant) and names the
 * parameter in its error, so nothing unexpected reaches the query; the values are then bound as
 * parameters anyway.
 *
 * @param tenant tenant id
 * @param decision verdict decision: RELEASE, REVIEW or BLOCK
 * @param outcome where the output is now: RELEASED, QUARANTINED, HELD_FOR_REVIEW or PENDING (no
 *     gate outcome yet)
 * @param category a category the verdict flagged (a reason in that category calling for REVIEW or
 *     BLOCK)
 * @param minScore with a category: the category's score is at least this
 * @param group a demographic group the output mentions (axis:group)
 * @param from decided at or after (inclusive)
 * @param to decided before (exclusive)
 * @param attribute an attribute the request was submitted with (e.g. the platform's user id: a data
 *     subject's outputs), or null
 * @param eventIdConflict which requests' outputs to keep by their event id conflicts (other content
 *     read under the id of one of the request's records, or naming the request under a recorded id:
 *     {@code event_id_conflict})
 */
public record SearchFilter(
    String tenant,
    String decision,
    String outcome,
    String category,
    Double minScore,
    String group,
    Instant from,
    Instant to,
    Attribute attribute,
    ConflictFilter eventIdConflict) {

  /**
   * Which outputs the {@code eventIdConflict} parameter keeps, by their request's event id
   * conflicts.
   */
  public enum ConflictFilter {
    /** Every output: the parameter absent, blank or {@code false}. */
    ANY,
    /** Outputs of requests with an event id conflict, read after a resend or not: {@code true}. */
    CONFLICT,
    /**
     * Outputs of requests with a conflict that no resend explains (a row not kept {@code
     * after_resend}, rows kept before migration V33 included): the possible forgeries, those that
     * raise GenGuardEventIdConflict; {@code unexplained}.
     */
    UNEXPLAINED
  }

  /** A filter without the event id conflict flag. */
  public SearchFilter(
      String tenant,
      String decision,
      String outcome,
      String category,
      Double minScore,
      String group,
      Instant from,
      Instant to,
      Attribute attribute) {
    this(
        tenant,
        decision,
        outcome,
        category,
        minScore,
        group,
        from,
        to,
        attribute,
        ConflictFilter.ANY);
  }

  /** A request attribute and the value it must have. */
  public record Attribute(String key, String value) {}

  /**
   * What an attribute key may be to be searched for (and so what a submission may name: a key
   * outside it could be stored but never found for a data subject's access request).
   */
  public static final Pattern ATTRIBUTE_KEY = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  private static final int MAX_ATTRIBUTE_VALUE = 256;

  public static final Set<String> DECISIONS = Set.of("RELEASE", "REVIEW", "BLOCK");
  public static final Set<String> OUTCOMES =
      Set.of("RELEASED", "QUARANTINED", "HELD_FOR_REVIEW", "PENDING", "RETRACTED");
  private static final Pattern CATEGORY = Pattern.compile("[a-z][a-z0-9_]{0,63}");
  private static final Pattern GROUP = Pattern.compile("[\\p{L}\\p{N}][\\p{L}\\p{N}_.:/ -]{0,127}");

  public static SearchFilter none() {
    return new SearchFilter(null, null, null, null, null, null, null, null, null);
  }

  /** Validates raw query parameters (null or blank = not given), without an attribute. */
  public static SearchFilter parse(
      String tenant,
      String decision,
      String outcome,
      String category,
      String minScore,
      String group,
      String from,
      String to) {
    return parse(tenant, decision, outcome, category, minScore, group, from, to, null);
  }

  /**
   * Validates raw query parameters (null or blank = not given); {@code attribute} is {@code
   * key:value}, split at the first colon.
   */
  public static SearchFilter parse(
      String tenant,
      String decision,
      String outcome,
      String category,
      String minScore,
      String group,
      String from,
      String to,
      String attribute) {
    return parse(tenant, decision, outcome, category, minScore, group, from, to, attribute, null);
  }

  /**
   * As {@link #parse(String, String, String, String, String, String, String, String, String)}, with
   * {@code eventIdConflict}: true, unexplained (only conflicts no resend explains) or false (null
   * or blank: false).
   */
  public static SearchFilter parse(
      String tenant,
      String decision,
      String outcome,
      String category,
      String minScore,
      String group,
      String from,
      String to,
      String attribute,
      String eventIdConflict) {
    String tenantValue = pattern("tenant", tenant, TenantIds.PATTERN, TenantIds.RULE);
    String decisionValue = oneOf("decision", decision, DECISIONS);
    String outcomeValue = oneOf("outcome", outcome, OUTCOMES);
    String categoryValue =
        blank(category)
            ? null
            : pattern(
                "category",
                category.toLowerCase(Locale.ROOT),
                CATEGORY,
                "a category id such as hate, harassment, sexual, violence, self_harm or illicit");
    Double minScoreValue = null;
    if (!blank(minScore)) {
      if (categoryValue == null) {
        throw new InvalidInputException(
            "minScore needs a category: add category=<id> (e.g. category=hate)");
      }
      try {
        minScoreValue = Double.parseDouble(minScore.trim());
      } catch (NumberFormatException e) {
        minScoreValue = Double.NaN;
      }
      if (!(minScoreValue >= 0 && minScoreValue <= 1)) {
        throw new InvalidInputException(
            "minScore '" + truncate(minScore) + "' is not a number between 0 and 1");
      }
    }
    String groupValue =
        pattern(
            "group",
            group,
            GROUP,
            "a group such as religion:muslim (letters, digits, _ . : / - and spaces)");
    Instant fromValue = instant("from", from);
    Instant toValue = instant("to", to);
    if (fromValue != null && toValue != null && !fromValue.isBefore(toValue)) {
      throw new InvalidInputException(
          "from (" + fromValue + ") must be before to (" + toValue + ")");
    }
    return new SearchFilter(
        tenantValue,
        decisionValue,
        outcomeValue,
        categoryValue,
        minScoreValue,
        groupValue,
        fromValue,
        toValue,
        attribute(attribute),
        conflictFilter(eventIdConflict));
  }

  /** The same filter restricted to one tenant (the caller's scope). */
  public SearchFilter withTenant(String scopedTenant) {
    return new SearchFilter(
        scopedTenant,
        decision,
        outcome,
        category,
        minScore,
        group,
        from,
        to,
        attribute,
        eventIdConflict);
  }

  private static ConflictFilter conflictFilter(String value) {
    if (blank(value)) {
      return ConflictFilter.ANY;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "false" -> ConflictFilter.ANY;
      case "true" -> ConflictFilter.CONFLICT;
      case "unexplained" -> ConflictFilter.UNEXPLAINED;
      default ->
          throw new InvalidInputException(
              "eventIdConflict '"
                  + truncate(value)
                  + "' is not valid: expected true (every conflict), unexplained (only those no"
                  + " resend explains) or false");
    };
  }

  private static Attribute attribute(String text) {
    if (blank(text)) {
      return null;
    }
    int colon = text.indexOf(':');
    String expected =
        "expected key:value, e.g. userId:u-123 (a key of letters, digits, _ . -; a value of at"
            + " most "
            + MAX_ATTRIBUTE_VALUE
            + " characters)";
    if (colon < 1
        || !ATTRIBUTE_KEY.matcher(text.substring(0, colon)).matches()
        || colon == text.length() - 1
        || text.length() - colon - 1 > MAX_ATTRIBUTE_VALUE
        || text.chars().anyMatch(Character::isISOControl)) {
      throw new InvalidInputException(
          "attribute '" + truncate(text) + "' is not valid: " + expected);
    }
    return new Attribute(text.substring(0, colon), text.substring(colon + 1));
  }

  private static String oneOf(String name, String value, Set<String> allowed) {
    if (blank(value)) {
      return null;
    }
    String upper = value.trim().toUpperCase(Locale.ROOT);
    if (!allowed.contains(upper)) {
      throw new InvalidInputException(
          name + " '" + truncate(value) + "' is not one of " + allowed.stream().sorted().toList());
    }
    return upper;
  }

  private static String pattern(String name, String value, Pattern pattern, String expected) {
    if (blank(value)) {
      return null;
    }
    String trimmed = value.trim();
    if (!pattern.matcher(trimmed).matches()) {
      throw new InvalidInputException(
          name + " '" + truncate(value) + "' is not valid: expected " + expected);
    }
    return trimmed;
  }

  private static Instant instant(String name, String value) {
    if (blank(value)) {
      return null;
    }
    Instant parsed;
    try {
      parsed = Instant.parse(value.trim());
    } catch (DateTimeParseException e) {
      throw new InvalidInputException(
          name
              + " '"
              + truncate(value)
              + "' is not an ISO-8601 UTC instant such as 2026-01-31T00:00:00Z");
    }
    return Cursor.inRange(name, parsed);
  }

  static boolean blank(String value) {
    return value == null || value.isBlank();
  }

  /** Echo at most 64 characters of a bad value back, so errors stay readable. */
  static String truncate(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }
}
