package io.genguard.audit.retention;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.bias.ReportBodies;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.security.Caller;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Removes an erased request's output text from the stored bias reports that sampled it: a report
 * keeps, for up to 2,000 of its rows, the first 400 characters of the row's output text
 * (bias-audit's {@code ReportBuilder.TEXT_ROWS}, {@code TEXT_CHARS}). The row keeps its ids,
 * decision and scores; its {@code text} becomes null, which a report writes as "not kept" (the HTML
 * cell says "erased"). In the audit service's reports ({@code bias_report}: the JSON body, its
 * jsonb copy and the HTML body, {@link ReportBodies}; the CSV holds no texts) the new digests are
 * recorded in the chain, as a {@value #ACTION} action per report in the erasure's transaction, so
 * the edit reads as what it is, not as tampering against the report's {@code bias_report.create}
 * digests. The bias-audit feature's own copies ({@code bias_audit.report}, when that schema is in
 * this database) get their document and its {@code document_sha256} rewritten; they have no digest
 * in the chain.
 *
 * <p>Retention ({@link Retention}) removes every text of a report in {@code bias_report} once the
 * report is older than its tenant's period ({@link #removeTexts}), recorded the same way; the
 * report keeps its figures and its rows' ids, decisions and scores, as the chain keeps a removed
 * record's ids and place. It does not reach {@code bias_audit.report}.
 */
final class ReportRedaction {
  static final String ACTION = "bias_report.redact";

  private static final ObjectMapper JSON = new ObjectMapper();

  private ReportRedaction() {}

  /**
   * Redacts the request's rows in every stored report; call in the erasure's transaction, with the
   * chain lock held.
   *
   * @param onlyTenant the tenant whose records alone the erasure removes (a data subject's): two
   *     tenants may use one request id, so another tenant's reports stay as they are, and in a
   *     report of no tenant (or of this one) a row of the request whose verdict is another tenant's
   *     keeps its text (its HTML row told by its whole verdict id, {@link KeptRows}); a row naming
   *     no verdict, or a verdict the store does not know, loses it, in a bias-audit report ({@code
   *     bias_audit.report}) of another tenant's campaign too. Null: every report's rows of the
   *     request (an erasure of the whole request). Before the fifty-first session a tenant's
   *     erasure redacted every tenant's rows.
   * @return the ids of the reports whose text of the request was removed
   */
  static List<String> redact(
      Connection connection, String requestId, String onlyTenant, Caller caller, Instant now)
      throws SQLException {
    Set<String> othersVerdicts = othersVerdicts(connection, requestId, onlyTenant);
    List<String> redacted = new ArrayList<>();
    List<String[]> found = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select report_id, tenant_id from bias_report where body_json -> 'rows' @>"
                + " jsonb_build_array(jsonb_build_object('requestId', ?::text))"
                + " and (?::text is null or tenant_id is null or tenant_id = ?)"
                + " order by created_at, report_id for update")) {
      select.setString(1, requestId);
      select.setString(2, onlyTenant);
      select.setString(3, onlyTenant);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          found.add(new String[] {rs.getString(1), rs.getString(2)});
        }
      }
    }
    // One report's bodies in the heap at a time.
    for (String[] report : found) {
      JsonNode body = parse(ReportBodies.read(connection, report[0], BiasReports.Format.JSON));
      KeptRows kept = new KeptRows();
      if (!withoutText(body, requestId, othersVerdicts, kept)) {
        continue;
      }
      String json = CanonicalJson.write(body);
      body = null;
      String html =
          withoutHtmlText(
              ReportBodies.read(connection, report[0], BiasReports.Format.HTML),
              requestId,
              "erased",
              kept);
      rewrite(connection, report[0], json, html);
      ActionLog.Action action = ActionLog.Action.of(ACTION, report[1], null, report[0]);
      action
          .details()
          .put("erasedRequestId", requestId)
          .put("jsonSha256", sha256(json))
          .put("csvSha256", ReportBodies.sha256(connection, report[0], BiasReports.Format.CSV))
          .put("htmlSha256", sha256(html));
      ActionLog.record(connection, caller, action, now);
      redacted.add(report[0]);
    }
    redactBiasAuditReports(connection, requestId, othersVerdicts, redacted);
    return redacted;
  }

  /**
   * The verdicts under the request id of tenants other than {@code onlyTenant} (none when it is
   * null): their rows in a report keep their texts.
   */
  private static Set<String> othersVerdicts(
      Connection connection, String requestId, String onlyTenant) throws SQLException {
    Set<String> verdicts = new HashSet<>();
    if (onlyTenant == null) {
      return verdicts;
    }
    try (PreparedStatement select =
        connection.prepareStatement(
            "select verdict_id from moderation_verdict where request_id = ? and tenant_id <> ?")) {
      select.setString(1, requestId);
      select.setString(2, onlyTenant);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          verdicts.add(rs.getString(1));
        }
      }
    }
    return verdicts;
  }

  /** Stores a report's changed JSON (its pieces and its jsonb copy) and HTML. */
  private static void rewrite(Connection connection, String reportId, String json, String html)
      throws SQLException {
    ReportBodies.write(connection, reportId, BiasReports.Format.JSON, json);
    ReportBodies.write(connection, reportId, BiasReports.Format.HTML, html);
    BiasReports.jsonFromPieces(connection, reportId);
  }

  /**
   * The bias-audit feature's stored reports, when its schema is in this database. {@code
   * bias_audit.report} has no tenant column, and a report of another tenant's campaign stored
   * before 2026-12-05 may hold the erased tenant's rows (bias-audit then matched verdicts to a
   * campaign's requests by request id alone), so every report's rows of the request are redacted
   * row by row, as a report of no tenant in {@code bias_report} is: a row keeps its text only when
   * its verdict is known to be another tenant's (the fifty-second session's review: skipping
   * another tenant's campaign left the erased tenant's text in such a report).
   */
  private static void redactBiasAuditReports(
      Connection connection, String requestId, Set<String> othersVerdicts, List<String> redacted)
      throws SQLException {
    try (PreparedStatement exists =
            connection.prepareStatement("select to_regclass('bias_audit.report') is not null");
        ResultSet rs = exists.executeQuery()) {
      rs.next();
      if (!rs.getBoolean(1)) {
        return;
      }
    }
    List<String[]> found = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select report_id, coalesce(document_text, document::text) from bias_audit.report"
                + " where document @> jsonb_build_object('rows',"
                + " jsonb_build_array(jsonb_build_object('requestId', ?::text))) for update")) {
      select.setString(1, requestId);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          found.add(new String[] {rs.getString(1), rs.getString(2)});
        }
      }
    }
    for (String[] report : found) {
      JsonNode document = parse(report[1]);
      if (!withoutText(document, requestId, othersVerdicts, new KeptRows())) {
        continue;
      }
      String text;
      try {
        text = JSON.writeValueAsString(document);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      try (PreparedStatement update =
          connection.prepareStatement(
              "update bias_audit.report set document = ?::jsonb, document_text = ?,"
                  + " document_sha256 = ? where report_id = ?")) {
        update.setString(1, text);
        update.setString(2, text);
        update.setString(3, sha256(text));
        update.setString(4, report[0]);
        update.executeUpdate();
      }
      if (!redacted.contains(report[0])) {
        redacted.add(report[0]);
      }
    }
  }

  /**
   * The rows of a request that keep their texts, as its HTML rows tell them: by the whole verdict
   * id a row carries ({@code data-verdict}, written by bias-audit's HtmlReportWriter since the
   * fifty-second session), or, in a row written before it, by its verdict cell, which shows the
   * verdict id's first 13 characters ({@link #shortId}).
   */
  private static final class KeptRows {
    /** Whole verdict ids of the rows kept. */
    final Set<String> verdicts = new HashSet<>();

    /**
     * Shortened ids of the rows kept and of no row removed: an old row whose cell shows one that a
     * removed row shows too (two verdict ids alike in their first 13 characters) cannot be told
     * from it and loses its text, the conservative side.
     */
    final Set<String> shortIds = new HashSet<>();
  }

  /**
   * Sets the text of the request's rows to null, except those of a verdict in {@code
   * othersVerdicts}; whether one had a text. {@code kept} gets the rows kept. A row naming no
   * verdict, or one the store does not know, loses its text: rows bias-audit writes always name
   * one, and in a report of the erased tenant such a row is that tenant's; in a report of no tenant
   * whose it is cannot be told, and the erasure does not leave the subject's text behind.
   */
  private static boolean withoutText(
      JsonNode report, String requestId, Set<String> othersVerdicts, KeptRows kept) {
    boolean changed = false;
    Set<String> removed = new HashSet<>();
    for (JsonNode row : report.path("rows")) {
      if (!(row instanceof ObjectNode fields)
          || !requestId.equals(row.path("requestId").asText(null))) {
        continue;
      }
      String verdictId = row.path("verdictId").asText(null);
      if (verdictId != null && othersVerdicts.contains(verdictId)) {
        kept.verdicts.add(verdictId);
        kept.shortIds.add(shortId(verdictId));
        continue;
      }
      removed.add(shortId(verdictId));
      if (row.hasNonNull("text")) {
        fields.putNull("text");
        changed = true;
      }
    }
    kept.shortIds.removeAll(removed);
    return changed;
  }

  /** A verdict id as bias-audit's HtmlReportWriter shows it: its first 13 characters. */
  private static String shortId(String id) {
    return id == null ? "" : id.length() > 13 ? id.substring(0, 13) + "\u2026" : id;
  }

  /**
   * The HTML report with the text cell (the last cell of {@code <tr id="r-ID">}, as bias-audit's
   * HtmlReportWriter writes them) of the request's rows, or of every row when {@code requestId} is
   * null, saying {@code note}; one pass over the page.
   */
  static String withoutHtmlText(String html, String requestId, String note) {
    return withoutHtmlText(html, requestId, note, new KeptRows());
  }

  /**
   * As {@link #withoutHtmlText(String, String, String)}, except the rows {@code kept}: a row
   * carrying its whole verdict id ({@code data-verdict}) by that id, an older row by its verdict
   * cell (the third, {@code <td><code>ID</code></td>}).
   */
  private static String withoutHtmlText(String html, String requestId, String note, KeptRows kept) {
    String start = requestId == null ? "<tr id=\"r-" : "<tr id=\"r-" + escape(requestId) + "\"";
    StringBuilder out = new StringBuilder(html.length());
    int from = 0;
    while (true) {
      int row = html.indexOf(start, from);
      int end = row < 0 ? -1 : html.indexOf("</td></tr>", row);
      if (end < 0) {
        break;
      }
      int cell = html.lastIndexOf("</td><td", end);
      if (kept(html, row, end, kept)) {
        out.append(html, from, end);
      } else if (cell > row && html.startsWith("</td><td>", cell)) {
        out.append(html, from, cell).append("</td><td class=\"note\">").append(note);
      } else {
        out.append(html, from, end);
      }
      from = end;
    }
    return out.append(html, from, html.length()).toString();
  }

  /** Whether the row between {@code row} and {@code end} is one of those {@code kept}. */
  private static boolean kept(String html, int row, int end, KeptRows kept) {
    if (kept.verdicts.isEmpty()) {
      return false;
    }
    String verdict = dataVerdict(html, row, end);
    return verdict != null
        ? kept.verdicts.contains(verdict)
        : kept.shortIds.contains(verdictCell(html, row, end));
  }

  private static final String DATA_VERDICT = " data-verdict=\"";

  /**
   * The unescaped whole verdict id the row's start tag carries ({@code data-verdict}, "" for a row
   * naming no verdict); null for a row written without it (before the fifty-second session).
   */
  private static String dataVerdict(String html, int row, int end) {
    int tagEnd = html.indexOf('>', row);
    if (tagEnd < 0 || tagEnd > end) {
      return null;
    }
    int attribute = html.indexOf(DATA_VERDICT, row);
    if (attribute < 0 || attribute > tagEnd) {
      return null;
    }
    int value = attribute + DATA_VERDICT.length();
    int close = html.indexOf('"', value);
    if (close < 0 || close > tagEnd) {
      return null;
    }
    return unescape(html.substring(value, close));
  }

  /**
   * The unescaped text of the verdict cell of the row between {@code row} and {@code end}, as
   * HtmlReportWriter writes it (the third cell, a code element); null when it has none.
   */
  private static String verdictCell(String html, int row, int end) {
    int first = html.indexOf("<td><code>", row);
    int second = first < 0 ? -1 : html.indexOf("<td><code>", first + 1);
    int close = second < 0 ? -1 : html.indexOf("</code>", second);
    if (close < 0 || close > end) {
      return null;
    }
    return unescape(html.substring(second + "<td><code>".length(), close));
  }

  private static String unescape(String text) {
    return text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
  }

  /** What the HTML report's text cells say once retention removed their texts. */
  static final String RETENTION_NOTE = "past retention";

  /** A stored report, by its key in the order retention goes through them. */
  record Stored(String reportId, OffsetDateTime createdAt) {}

  /**
   * The stored reports ({@code bias_report}) that a retention scope reaches and whose texts
   * retention has not removed yet: stored before {@code cutoff}, of {@code tenant} (scope TENANT)
   * or of no tenant or one not in {@code excluded} (scope DEFAULT), oldest first, after {@code
   * after} when not null, at most {@code limit}.
   */
  static List<Stored> keepingTexts(
      Connection connection,
      String scope,
      String tenant,
      List<String> excluded,
      Instant cutoff,
      Stored after,
      int limit)
      throws SQLException {
    List<Stored> found = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select report_id, created_at from bias_report where texts_removed_at is null"
                + " and created_at < ?"
                + (scope.equals("TENANT")
                    ? " and tenant_id = ?"
                    : " and (tenant_id is null or tenant_id <> all(?))")
                + " and (?::timestamptz is null or (created_at, report_id) > (?, ?))"
                + " order by created_at, report_id limit ?")) {
      query.setObject(1, OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC));
      if (scope.equals("TENANT")) {
        query.setString(2, tenant);
      } else {
        query.setArray(2, connection.createArrayOf("text", excluded.toArray()));
      }
      query.setObject(3, after == null ? null : after.createdAt());
      query.setObject(4, after == null ? null : after.createdAt());
      query.setString(5, after == null ? null : after.reportId());
      query.setInt(6, limit);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          found.add(new Stored(rs.getString(1), rs.getObject(2, OffsetDateTime.class)));
        }
      }
    }
    return found;
  }

  /**
   * Removes every output text a stored report keeps (each row's {@code text} becomes null, each
   * text cell of the HTML says {@value #RETENTION_NOTE}) and notes that retention did ({@code
   * texts_removed_at}); records the report's new digests in the chain as a {@value #ACTION} action
   * naming the retention ({@code retention}: scope, tenant, days, cutoff) and how many texts went.
   * Call in a transaction of its own for each report (a report may hold 64 MiB of each body, and
   * only this one's are read); takes the chain lock before the report's row, as an erasure does.
   *
   * @return how many rows lost their text: 0 when the report kept none (nothing is recorded), -1
   *     when the report is gone or another run removed its texts first
   */
  static int removeTexts(
      Connection connection, String reportId, ObjectNode retention, Caller caller, Instant now)
      throws SQLException {
    ChainAppender.lock(connection);
    String tenant;
    try (PreparedStatement select =
        connection.prepareStatement(
            "select tenant_id from bias_report where report_id = ? and texts_removed_at is null"
                + " for update")) {
      select.setString(1, reportId);
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next()) {
          return -1;
        }
        tenant = rs.getString(1);
      }
    }
    JsonNode body = parse(ReportBodies.read(connection, reportId, BiasReports.Format.JSON));
    int removed = 0;
    for (JsonNode row : body.path("rows")) {
      if (row instanceof ObjectNode fields && row.hasNonNull("text")) {
        fields.putNull("text");
        removed++;
      }
    }
    if (removed == 0) {
      try (PreparedStatement update =
          connection.prepareStatement(
              "update bias_report set texts_removed_at = ? where report_id = ?")) {
        update.setObject(1, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
        update.setString(2, reportId);
        update.executeUpdate();
      }
      return 0;
    }
    String json = CanonicalJson.write(body);
    body = null;
    String html =
        withoutHtmlText(
            ReportBodies.read(connection, reportId, BiasReports.Format.HTML), null, RETENTION_NOTE);
    rewrite(connection, reportId, json, html);
    try (PreparedStatement update =
        connection.prepareStatement(
            "update bias_report set texts_removed_at = ? where report_id = ?")) {
      update.setObject(1, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
      update.setString(2, reportId);
      update.executeUpdate();
    }
    String csvSha256 = ReportBodies.sha256(connection, reportId, BiasReports.Format.CSV);
    ActionLog.Action action = ActionLog.Action.of(ACTION, tenant, null, reportId);
    action.details().set("retention", retention);
    action
        .details()
        .put("textsRemoved", removed)
        .put("jsonSha256", sha256(json))
        .put("csvSha256", csvSha256)
        .put("htmlSha256", sha256(html));
    ActionLog.record(connection, caller, action, now);
    return removed;
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("A stored bias report does not parse: " + e.getMessage(), e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
  }
}
