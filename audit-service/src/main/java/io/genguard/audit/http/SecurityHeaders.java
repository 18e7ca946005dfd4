package io.genguard.audit.http;

import io.javalin.http.Context;
import java.util.Map;

/**
 * Response headers that keep browsers safe with this service: no MIME sniffing, no framing, no
 * referrer, API responses never cached, and a content security policy under which the UI runs only
 * its own scripts (no inline script, so injected markup cannot execute).
 */
final class SecurityHeaders {
  /** The compliance UI: own scripts and styles only; data from this origin only. */
  static final String UI_CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

  /** A stored bias report page: self-contained, inline styles and SVG allowed, never scripts. */
  static final String REPORT_CSP =
      "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:;"
          + " font-src data:; frame-ancestors 'self'";

  static final Map<String, String> UI =
      Map.of(
          "Content-Security-Policy", UI_CSP,
          "X-Content-Type-Options", "nosniff",
          "X-Frame-Options", "DENY",
          "Referrer-Policy", "no-referrer",
          "Cache-Control", "no-cache");

  private SecurityHeaders() {}

  static void apply(Context ctx) {
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Referrer-Policy", "no-referrer");
    if (ctx.path().startsWith("/api/")) {
      ctx.header("Cache-Control", "no-store");
      ctx.header("X-Frame-Options", "DENY");
      ctx.header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }
  }
}
