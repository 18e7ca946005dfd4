package io.genguard.provenance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Parses key lists of the form {@code id1:base64,id2:base64} (environment variables and key files)
 * into ids and bytes. Error messages name the variable and the key id, never the key material. Only
 * canonical base64 is accepted ({@link CanonicalBase64}).
 */
public final class KeyEntries {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private KeyEntries() {}

  /** One parsed entry: an id and its decoded bytes. */
  public record Entry(String id, byte[] bytes) {
    @Override
    public String toString() {
      return "Entry[id=" + id + ", bytes=<redacted>]";
    }
  }

  /**
   * Parses {@code source} (comma- or newline-separated {@code id:base64} entries).
   *
   * @param what what the list configures, for error messages, e.g. "GENGUARD_WATERMARK_KEYS"
   */
  public static List<Entry> parse(String source, String what) {
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
      byte[] bytes;
      try {
        bytes = CanonicalBase64.decode(entry.substring(colon + 1).strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            what + " entry for key id '" + id + "' is " + e.getMessage());
      }
      if (entries.put(id, new Entry(id, bytes)) != null) {
        throw new IllegalArgumentException(what + " lists key id '" + id + "' twice");
      }
    }
    if (entries.isEmpty()) {
      throw new IllegalArgumentException(what + " has no entries; expected id:base64[,id:base64]");
    }
    return new ArrayList<>(entries.values());
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
