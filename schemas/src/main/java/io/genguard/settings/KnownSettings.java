package io.genguard.settings;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The names of every {@code GENGUARD_*} environment variable GenGuard reads, and the check that a
 * process's environment holds no other: a misspelt key (the batch size of the moderation job with
 * its last letter missing) would otherwise be ignored and its default used, with nothing said. Each
 * entry point (the services, the Flink jobs' {@code main}, {@code ./genguard}) calls {@link #check}
 * first.
 *
 * <p>An unknown name is refused unless {@value #UNKNOWN_SETTINGS} is {@code warn}, which a rolling
 * upgrade may need while the environment already carries a newer version's keys. A name whose value
 * is blank is left alone: blank reads as unset everywhere, so it cannot change anything. The list
 * is the resource {@code known-settings.txt} beside this class.
 */
public final class KnownSettings {
  /** {@code refuse} (the default) or {@code warn}. */
  public static final String UNKNOWN_SETTINGS = "GENGUARD_UNKNOWN_SETTINGS";

  private static final String PREFIX = "GENGUARD_";
  private static final String RESOURCE = "known-settings.txt";

  /** Suggestions are offered up to this many single-character edits away. */
  private static final int MAX_SUGGESTION_DISTANCE = 3;

  private static final Set<String> NAMES = load();

  private KnownSettings() {}

  /** Every known name, sorted. */
  public static Set<String> names() {
    return NAMES;
  }

  /**
   * The {@code GENGUARD_*} names in {@code env} with a non-blank value that are not known, leaving
   * out Kubernetes service links ({@link #isServiceLink}).
   */
  public static Set<String> unknown(Map<String, String> env) {
    Set<String> unknown = new TreeSet<>();
    env.forEach(
        (name, value) -> {
          if (name.startsWith(PREFIX)
              && value != null
              && !value.isBlank()
              && !NAMES.contains(name)
              && !isServiceLink(name, value)) {
            unknown.add(name);
          }
        });
    return unknown;
  }

  /**
   * Whether a variable is one Kubernetes sets for a Service of the namespace (a Service named
   * {@code genguard-audit} gives every pod {@code GENGUARD_AUDIT_SERVICE_HOST}, {@code
   * GENGUARD_AUDIT_SERVICE_PORT[_NAME]}, {@code GENGUARD_AUDIT_PORT=tcp://...} and {@code
   * GENGUARD_AUDIT_PORT_8080_TCP[_PROTO|_PORT|_ADDR]}): not a setting anyone wrote, so not refused.
   * A bare {@code ..._PORT} counts only with a {@code tcp://}, {@code udp://} or {@code sctp://}
   * value, so a misspelt port setting with a number is still refused.
   */
  public static boolean isServiceLink(String name, String value) {
    if (SERVICE_LINK.matcher(name).matches()) {
      return true;
    }
    return name.endsWith("_PORT") && SERVICE_LINK_VALUE.matcher(value).lookingAt();
  }

  private static final Pattern SERVICE_LINK =
      Pattern.compile(
          "GENGUARD_[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?"
              + "|PORT_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)");

  private static final Pattern SERVICE_LINK_VALUE = Pattern.compile("(tcp|udp|sctp)://");

  /**
   * Refuses an environment with unknown {@code GENGUARD_*} names, or, where {@value
   * #UNKNOWN_SETTINGS} is {@code warn}, returns one warning per name for the caller to log.
   *
   * @return the warnings (empty when every name is known)
   * @throws IllegalArgumentException naming each unknown variable (never its value, which may be a
   *     secret) and the known name it most likely meant
   */
  public static List<String> check(Map<String, String> env) {
    String mode = env.getOrDefault(UNKNOWN_SETTINGS, "").strip().toLowerCase(Locale.ROOT);
    if (!mode.isEmpty() && !mode.equals("refuse") && !mode.equals("warn")) {
      throw new IllegalArgumentException(
          UNKNOWN_SETTINGS + "='" + env.get(UNKNOWN_SETTINGS) + "' must be refuse or warn");
    }
    List<String> problems = new ArrayList<>();
    for (String name : unknown(env)) {
      problems.add(describe(name));
    }
    if (problems.isEmpty()) {
      return List.of();
    }
    if (mode.equals("warn")) {
      return problems.stream().map(p -> p + "; ignored (" + UNKNOWN_SETTINGS + "=warn)").toList();
    }
    throw new IllegalArgumentException(
        String.join("; ", problems)
            + ". GenGuard refuses GENGUARD_* variables it does not know, so that a misspelt key"
            + " cannot silently fall back to its default; correct or unset "
            + (problems.size() == 1 ? "it" : "them")
            + ", or set "
            + UNKNOWN_SETTINGS
            + "=warn to start anyway");
  }

  /** The nearest known name, if one is at most a few edits away. */
  static String suggestion(String name) {
    String best = null;
    int bestDistance = MAX_SUGGESTION_DISTANCE + 1;
    for (String known : NAMES) {
      int distance = distance(name, known, bestDistance);
      if (distance < bestDistance) {
        best = known;
        bestDistance = distance;
      }
    }
    return best;
  }

  private static String describe(String name) {
    String suggestion = suggestion(name);
    return name
        + " is not a GenGuard setting"
        + (suggestion == null ? "" : " (did you mean " + suggestion + "?)");
  }

  /** Levenshtein distance of {@code a} and {@code b}, or {@code limit} once it reaches it. */
  private static int distance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) >= limit) {
      return limit;
    }
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      int rowMinimum = current[0];
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
        rowMinimum = Math.min(rowMinimum, current[j]);
      }
      if (rowMinimum >= limit) {
        return limit;
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return Math.min(previous[b.length()], limit);
  }

  private static Set<String> load() {
    InputStream in = KnownSettings.class.getResourceAsStream(RESOURCE);
    if (in == null) {
      throw new IllegalStateException(RESOURCE + " is missing from the classpath");
    }
    Set<String> names = new TreeSet<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        String name = line.strip();
        if (name.isEmpty() || name.startsWith("#")) {
          continue;
        }
        if (!name.matches("GENGUARD_[A-Z0-9_]*[A-Z0-9]") || !names.add(name)) {
          throw new IllegalStateException(RESOURCE + ": bad or repeated name '" + name + "'");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Collections.unmodifiableSet(names);
  }
}
