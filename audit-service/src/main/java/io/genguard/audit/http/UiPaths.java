package io.genguard.audit.http;

import java.util.regex.Pattern;

/**
 * The paths the compliance UI's static files are served at: {@code /ui}, {@code /ui/} and {@code
 * /ui/NAME}, NAME one segment of letters, digits, '-' and '_' parts joined by dots ({@code
 * app.js}). The static file handler never sees another path: Jetty's resource handler answers an
 * alias (a trailing slash, an empty, dot or percent-encoded segment) with an exception that
 * Javalin, resolving it before any handler runs, turns into an empty 500, and it decodes an encoded
 * one ({@code /%75i/app.js}) into a UI file. Skipped, such a path is an unknown route: the API's
 * JSON 404.
 */
final class UiPaths {
  /** Where the UI is served, and its folder on the classpath. */
  static final String HOSTED_PATH = "/ui";

  private static final Pattern PLAIN =
      Pattern.compile(Pattern.quote(HOSTED_PATH) + "(/|/[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?");

  private UiPaths() {}

  /** Whether a request path as sent (still percent-encoded) is one a UI file is served at. */
  static boolean isPlain(String rawPath) {
    return rawPath != null && PLAIN.matcher(rawPath).matches();
  }
}
