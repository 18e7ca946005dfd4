package io.genguard.provenance;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses key lists of the form {@code id1:base64,id2:base64} (environment variables and key files)
 * into ids and bytes. Error messages name the variable and the key id, never the key material. Only
 * canonical base64 is accepted ({@link CanonicalBase64}).
 *
 * <p>Where the caller allows it (manifest verification keys), an entry may end in {@value
 * #NOT_AFTER}{@code INSTANT}, e.g. {@code old:base64:notAfter=2026-12-31T00:00:00Z}: the instant
 * (ISO-8601, as {@link Instant#parse} reads it) after which the key no longer signs. Base64 has no
 * ':', so the first ':' after the key ends it.
 */
public final class KeyEntries {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** What introduces an entry's not-after instant, after the key and a ':'. */
  public static final String NOT_AFTER = "notAfter=";

  private KeyEntries() {}

  /**
   * One parsed entry: an id, its decoded bytes, and its not-after instant (null when it has none).
   */
  public record Entry(String id, byte[] bytes, Instant notAfter) {
    public Entry(String id, byte[] bytes) {
      this(id, bytes, null);
    }

    @Override
    public String toString() {
      return "Entry[id="
          + id
          + ", bytes=<redacted>"
          + (notAfter == null ? "" : ", notAfter=" + notAfter)
          + "]";
    }
  }

  /**
   * Parses {@code source}, comma- or whitespace-separated key ids (a revocation list: ids only, no
   * keys); blank gives none.
   *
   * @param what what the list configures, for error messages
   * @throws IllegalArgumentException on an id that is not one (a key, a date or a typo)
   */
  public static Set<String> parseIds(String source, String what) {
    Set<String> ids = new LinkedHashSet<>();
    if (source == null) {
      return ids;
    }
    for (String raw : source.split("[,\\s]+")) {
      if (raw.isEmpty()) {
        continue;
      }
      if (!ID.matcher(raw).matches()) {
        throw new IllegalArgumentException(
            what
                + " holds '"
                + (raw.length() > 64 ? raw.substring(0, 64) + "..." : raw)
                + "', which is not a key id (letters, digits, '.', '_', '-'; at most 64); list"
                + " ids only, separated by commas");
      }
      ids.add(raw);
    }
    return ids;
  }

  /**
   * Parses {@code source} (comma- or newline-separated {@code id:base64} entries), refusing a
   * not-after date.
   *
   * @param what what the list configures, for error messages, e.g. "GENGUARD_WATERMARK_KEYS"
   */
  public static List<Entry> parse(String source, String what) {
    return parse(source, what, false);
  }

  /**
   * Parses {@code source} (comma- or newline-separated {@code id:base64} entries, each optionally
   * followed by {@code :notAfter=INSTANT} when {@code notAfterAllowed}).
   *
   * @param what what the list configures, for error messages, e.g. "GENGUARD_VERIFICATION_KEYS"
   */
  public static List<Entry> parse(String source, String what, boolean notAfterAllowed) {
    if (source == null || source.isBlank()) {
      throw new IllegalArgumentException(what + " is empty; expected id:base64[,id:base64...]");
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    int position = 0;
    for (String raw : source.split("[,\\n]")) {
      position++;
      String entry = raw.strip();
      if (entry.isEmpty() || entry.startsWith("#")) {
        continue;
      }
      int colon = entry.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(
            what + " entry " + position + " has no key id; expected id:base64");
      }
      String id = requireValidId(entry.substring(0, colon).strip(), what);
      String key = entry.substring(colon + 1);
      Instant notAfter = null;
      int end = key.indexOf(':');
      if (end >= 0) {
        notAfter = notAfter(key.substring(end + 1).strip(), id, what, notAfterAllowed);
        key = key.substring(0, end);
      }
      byte[] bytes;
      try {
        bytes = CanonicalBase64.decode(key.strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            what + " entry for key id '" + id + "' is " + e.getMessage());
      }
      if (entries.put(id, new Entry(id, bytes, notAfter)) != null) {
        throw new IllegalArgumentException(what + " lists key id '" + id + "' twice");
      }
    }
    if (entries.isEmpty()) {
      throw new IllegalArgumentException(what + " has no entries; expected id:base64[,id:base64]");
    }
    return new ArrayList<>(entries.values());
  }

  /**
   * The instant of an entry's {@code notAfter=INSTANT} suffix. Messages quote the instant only:
   * whatever else follows the key may be key material pasted in the wrong place.
   */
  private static Instant notAfter(String suffix, String id, String what, boolean notAfterAllowed) {
    if (!suffix.startsWith(NOT_AFTER)) {
      throw new IllegalArgumentException(
          what
              + " entry for key id '"
              + id
              + "' has something other than "
              + NOT_AFTER
              + "INSTANT after its key; expected id:base64"
              + (notAfterAllowed ? "[:" + NOT_AFTER + "2026-12-31T00:00:00Z]" : ""));
    }
    if (!notAfterAllowed) {
      throw new IllegalArgumentException(
          what
              + " entry for key id '"
              + id
              + "' has a not-after date, which only manifest verification keys take;"
              + " expected id:base64");
    }
    String written = suffix.substring(NOT_AFTER.length()).strip();
    try {
      return Instant.parse(written);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          what
              + " entry for key id '"
              + id
              + "' has "
              + NOT_AFTER
              + quoted(written)
              + ", which is not an ISO-8601 UTC instant such as 2026-12-31T00:00:00Z");
    }
  }

  /** A malformed date as a message shows it, cut to 40 characters. */
  private static String quoted(String written) {
    return "'" + (written.length() <= 40 ? written : written.substring(0, 40) + "...") + "'";
  }

  /** Whether {@code id} is a valid key id (see {@link #requireValidId}). */
  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** Checks a key id: 1-64 characters of letters, digits, dot, dash or underscore. */
  public static String requireValidId(String id, String what) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          what
              + " id '"
              + id
              + "' is not valid; use 1-64 letters, digits, '.', '_' or '-', starting with a letter"
              + " or digit");
    }
    return id;
  }
}
