package io.genguard.audit.bias;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.query.JsonRows;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.ForbiddenException;
import io.genguard.schemas.EventIds;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Bias reports (persisted JSON, CSV and self-contained HTML, written by the bias-audit feature
 * through {@link #save}) and the per-group view of the bias.metrics the aggregation job writes.
 * Saving a report appends its SHA-256 digests to the audit chain, so a later edit of a stored
 * report is detectable against the chain.
 */
public final class BiasReports {
  public static final int MAX_PAGE = 100;

  /**
   * Largest report body accepted (each of JSON, CSV, HTML), in characters: 64 MiB. A bias report
   * keeps a row for every judged sample, so its size grows with the campaign: the largest campaign
   * the bias-audit command line allows (50,000 samples, {@code CampaignLimits.CEILING}) gives about
   * 24 MB of canonical JSON and 19 MB of HTML. (It was 8 MiB, which a campaign of 20,000 samples,
   * the default maximum, already exceeded.) PostgreSQL holds far more; the bound keeps one report
   * from taking the service's memory when it is read.
   */
  public static final int MAX_BODY_CHARS = 64 * 1024 * 1024;

  private final DataSource dataSource;
  private final Clock clock;
  private final ReadTimeout readTimeout;

  public BiasReports(DataSource dataSource, Clock clock) {
    this(dataSource, clock, ReadTimeout.DEFAULT);
  }

  /**
   * @param readTimeout how long each statement of a caller's read (a page of reports, a report's
   *     metadata, each piece of its body, the metrics) may run ({@link QueryTimedOutException}
   *     beyond it)
   */
  public BiasReports(DataSource dataSource, Clock clock, ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.readTimeout = readTimeout;
  }

  /** Report formats. */
  public enum Format {
    JSON,
    CSV,
    HTML;

    public static Format parse(String value) {
      if (value == null || value.isBlank()) {
        return JSON;
      }
      for (Format format : values()) {
        if (format.name().equalsIgnoreCase(value.trim())) {
          return format;
        }
      }
      throw new InvalidInputException("format '" + value + "' is not one of json, csv, html");
    }
  }

  /**
   * A report to store.
   *
   * @param reportId id, or null to generate one
   * @param campaignId campaign it reports on, or null (live monitoring)
   * @param tenantId tenant it belongs to, or null for a report over all tenants
   * @param title headline
   * @param kind e.g. CAMPAIGN or LIVE
   * @param model model it is about, if one
   * @param windowStart start of the period covered, if any
   * @param windowEnd end of the period covered, if any
   * @param summary headline numbers (shown in lists)
   * @param bodyJson the full report; the UI draws charts from its {@code groups} array (see README)
   * @param bodyCsv the per-group table as CSV
   * @param bodyHtml a self-contained HTML page (served with scripts disabled)
   */
  public record NewReport(
      String reportId,
      String campaignId,
      String tenantId,
      String title,
      String kind,
      String model,
      Instant windowStart,
      Instant windowEnd,
      JsonNode summary,
      JsonNode bodyJson,
      String bodyCsv,
      String bodyHtml) {}

  /** Stores a report and records it (with the digests of its bodies) in the audit chain. */
  public String save(NewReport report, Caller caller) throws SQLException {
    if (report.title() == null
        || report.title().isBlank()
        || report.kind() == null
        || report.kind().isBlank()) {
      throw new InvalidInputException("A bias report needs a title and a kind");
    }
    if (report.bodyJson() == null || report.bodyCsv() == null || report.bodyHtml() == null) {
      throw new InvalidInputException("A bias report needs all three bodies: JSON, CSV and HTML");
    }
    String json = CanonicalJson.write(report.bodyJson());
    for (String body : List.of(json, report.bodyCsv(), report.bodyHtml())) {
      if (body.length() > MAX_BODY_CHARS) {
        throw new InvalidInputException(
            "A report body has " + body.length() + " characters; the limit is " + MAX_BODY_CHARS);
      }
    }
    if (!caller.canSee(report.tenantId())) {
      throw new ForbiddenException(
          "A token of tenant '" + caller.tenantId() + "' may only store its own reports");
    }
    String id = report.reportId() == null ? EventIds.random() : report.reportId();
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "insert into bias_report (report_id, campaign_id, tenant_id, title, kind, model, window_start,"
                      + " window_end, summary, body_json, created_at, created_by)"
                      + " values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, '{}'::jsonb, ?, ?)")) {
            insert.setString(1, id);
            insert.setString(2, report.campaignId());
            insert.setString(3, report.tenantId());
            insert.setString(4, report.title());
            insert.setString(5, report.kind());
            insert.setString(6, report.model());
            insert.setObject(7, utc(report.windowStart()));
            insert.setObject(8, utc(report.windowEnd()));
            insert.setString(
                9,
                CanonicalJson.write(
                    report.summary() == null
                        ? JsonNodeFactory.instance.objectNode()
                        : report.summary()));
            insert.setObject(10, utc(now));
            insert.setString(11, caller.describe());
            insert.executeUpdate();
          }
          // Written a piece at a time, so the driver never holds a whole body's bytes; the jsonb
          // copy is made in the database from the JSON's pieces.
          ReportBodies.write(connection, id, Format.JSON, json);
          ReportBodies.write(connection, id, Format.CSV, report.bodyCsv());
          ReportBodies.write(connection, id, Format.HTML, report.bodyHtml());
          jsonFromPieces(connection, id);
          ActionLog.Action action =
              ActionLog.Action.of("bias_report.create", report.tenantId(), null, id);
          action
              .details()
              .put("title", report.title())
              .put("campaignId", report.campaignId())
              .put("jsonSha256", sha256(json))
              .put("csvSha256", sha256(report.bodyCsv()))
              .put("htmlSha256", sha256(report.bodyHtml()));
          ActionLog.record(connection, caller, action, now);
          return null;
        });
    return id;
  }

  /**
   * Sets the report's {@code body_json} (jsonb, for queries such as the erasure's lookup by request
   * id) from its JSON body's pieces, in the database.
   */
  public static void jsonFromPieces(Connection connection, String reportId) throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "update bias_report set body_json = (select string_agg(body, '' order by piece)"
                + " from bias_report_piece where report_id = ? and format = 'JSON')::jsonb"
                + " where report_id = ?")) {
      update.setString(1, reportId);
      update.setString(2, reportId);
      update.executeUpdate();
    }
  }

  /** One page of reports and the cursor of the next page. */
  public record Page(ArrayNode items, String nextCursor) {}

  /** Reports newest first, restricted to {@code tenant} when not null. */
  public Page list(String tenant, String campaignId, Cursor after, int limit) throws SQLException {
    if (limit < 1 || limit > MAX_PAGE) {
      throw new InvalidInputException("limit must be between 1 and " + MAX_PAGE + ", was " + limit);
    }
    StringBuilder sql =
        new StringBuilder(
            "select report_id, campaign_id, tenant_id, title, kind, model,"
                + " window_start, window_end, summary, created_at, created_by from bias_report where true");
    List<Object> parameters = new ArrayList<>();
    if (tenant != null) {
      sql.append(" and tenant_id = ?");
      parameters.add(tenant);
    }
    if (campaignId != null) {
      sql.append(" and campaign_id = ?");
      parameters.add(campaignId);
    }
    if (after != null) {
      sql.append(" and (created_at, report_id) < (?, ?)");
      parameters.add(after.timeColumn());
      parameters.add(after.id());
    }
    sql.append(" order by created_at desc, report_id desc limit ?");
    parameters.add(limit + 1);
    return readTimeout.read(
        dataSource,
        connection -> {
          ArrayNode items = JsonNodeFactory.instance.arrayNode();
          String next = null;
          try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < parameters.size(); i++) {
              statement.setObject(i + 1, parameters.get(i));
            }
            try (ResultSet rs = statement.executeQuery()) {
              while (rs.next()) {
                if (items.size() == limit) {
                  JsonNode last = items.get(limit - 1);
                  next =
                      new Cursor(
                              Instant.parse(last.get("createdAt").asText()),
                              last.get("reportId").asText())
                          .encode();
                  break;
                }
                items.add(JsonRows.row(rs));
              }
            }
          }
          return new Page(items, next);
        });
  }

  /**
   * Characters of a report body read from the database at a time when it is served: 1 Mi, at most
   * about 4 MiB of UTF-8 and 2 MiB of Java string per read, whatever the report's size.
   */
  static final int SERVE_CHUNK_CHARS = ReportBodies.PIECE_CHARS;

  /** A report's metadata without its body (the {@code report} of {@link #open}'s JSON). */
  public ObjectNode metadata(String reportId, Caller caller) throws SQLException {
    return readTimeout.read(
        dataSource,
        connection -> {
          try (PreparedStatement statement =
              connection.prepareStatement(
                  "select report_id, campaign_id, tenant_id, title, kind, model, window_start, window_end, summary,"
                      + " created_at, created_by from bias_report where report_id = ?")) {
            statement.setString(1, reportId);
            try (ResultSet rs = statement.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString("tenant_id"))) {
                throw notFound(reportId);
              }
              return JsonRows.row(rs);
            }
          }
        });
  }

  /**
   * A stored body the caller may see, to be written with {@link Body#writeTo}: opening it reads
   * only its length, so that a refusal (404) comes before anything is sent.
   */
  public Body open(String reportId, Format format, Caller caller) throws SQLException {
    return readTimeout.read(
        dataSource,
        connection -> {
          try (PreparedStatement statement =
              connection.prepareStatement(
                  "select tenant_id from bias_report where report_id = ?")) {
            statement.setString(1, reportId);
            try (ResultSet rs = statement.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString(1))) {
                throw notFound(reportId);
              }
            }
            long characters = ReportBodies.characters(connection, reportId, format);
            if (characters < 0) {
              throw notFound(reportId);
            }
            return new Body(reportId, format, (int) characters);
          }
        });
  }

  /**
   * A stored body, served a piece at a time ({@link ReportBodies}, each piece read by its key): a
   * report may have 64 MiB of each body ({@link #MAX_BODY_CHARS}), which would otherwise sit whole
   * in the heap (as the driver's bytes, a string and the answer) for as long as a client takes to
   * read it. Each piece is read on a connection of its own and the connection is given back before
   * the piece is written, so a client that reads slowly holds no database connection.
   */
  public final class Body {
    private final String reportId;
    private final Format format;
    private final int characters;

    private Body(String reportId, Format format, int characters) {
      this.reportId = reportId;
      this.format = format;
      this.characters = characters;
    }

    /** Its length in characters (code points, as PostgreSQL counts them). */
    public int characters() {
      return characters;
    }

    /**
     * Writes the body to {@code out}, a piece ({@link #SERVE_CHUNK_CHARS} characters) at a time.
     *
     * @throws IllegalStateException when the report is removed or changed while it is written (the
     *     caller must then cut the answer short rather than end it as if it were whole)
     */
    public void writeTo(Writer out) throws SQLException, IOException {
      int pieces = (characters + SERVE_CHUNK_CHARS - 1) / SERVE_CHUNK_CHARS;
      for (int piece = 0; piece < pieces; piece++) {
        int index = piece;
        String text =
            readTimeout.read(
                dataSource,
                connection -> {
                  try (PreparedStatement statement =
                      connection.prepareStatement(
                          "select body from bias_report_piece where report_id = ? and format = ?"
                              + " and piece = ?")) {
                    return ReportBodies.piece(statement, reportId, format, index);
                  }
                });
        int expected = Math.min(SERVE_CHUNK_CHARS, characters - piece * SERVE_CHUNK_CHARS);
        if (text == null || text.codePointCount(0, text.length()) != expected) {
          throw new IllegalStateException(
              "Bias report " + reportId + " was removed or changed while it was being served");
        }
        out.write(text);
      }
      out.flush();
    }
  }

  /** The tenant of the campaign a bias_metric row names: null without one or when unrecorded. */
  private static final String CAMPAIGN_TENANT =
      "(select c.tenant_id from campaign c where c.campaign_id = bias_metric.campaign_id)";

  /**
   * Per-group statistics from bias.metrics: LIVE windows are summed over the period, each once (a
   * window emitted before the forty-second session, whose ids name the window end, and again after
   * it, by a restore from an older savepoint, is stored under two ids); for a CAMPAIGN, the latest
   * figures per model and group count (the aggregation job re-emits running totals). Each group
   * carries n, rates and a Wilson 95% interval of its unsafe rate.
   *
   * <p>A campaign's figures are those of its own tenant's verdicts (the aggregation job counts each
   * tenant's verdicts naming a campaign apart, BiasMetric v2): figures of another tenant, or of a
   * campaign the audit service has no tenant for, are left out here and listed by {@link
   * #otherTenantFigures}. Figures from before metrics named their tenant count as before, where no
   * figure naming the campaign's tenant exists for that model and group.
   */
  public ArrayNode groupMetrics(
      String scope, String campaignId, String model, Instant from, Instant to) throws SQLException {
    String scopeValue = scope(scope);
    List<Object> parameters = new ArrayList<>();
    StringBuilder where = where(scopeValue, campaignId, model, from, to, parameters);
    String rows =
        scopeValue.equals("LIVE")
            ? "select distinct on (model, group_name, window_start, window_end) * from bias_metric"
                + where
                + " order by model, group_name, window_start, window_end, computed_at desc"
            : "select distinct on (campaign_id, model, group_name) * from bias_metric"
                + where
                + " and (tenant_id is null or tenant_id = "
                + CAMPAIGN_TENANT
                + ") order by campaign_id, model, group_name, tenant_id is null, computed_at desc";
    String sql =
        "select group_name, sum(count) as n, sum(unsafe_count) as unsafe, sum(unsafe_score_sum) as score_sum,"
            + " sum(block_count) as blocked, sum(review_count) as reviewed, sum(release_count) as released"
            + " from ("
            + rows
            + ") m group by group_name order by group_name limit 1000";
    return readTimeout.read(
        dataSource,
        connection -> {
          ArrayNode groups = JsonNodeFactory.instance.arrayNode();
          try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
              statement.setObject(i + 1, parameters.get(i));
            }
            try (ResultSet rs = statement.executeQuery()) {
              while (rs.next()) {
                long n = rs.getLong("n");
                long unsafe = rs.getLong("unsafe");
                ObjectNode group = groups.addObject();
                group.put("group", rs.getString("group_name"));
                group.put("n", n);
                group.put("unsafeRate", rate(unsafe, n));
                double[] interval = wilson(unsafe, n);
                group.putArray("unsafeRateInterval").add(interval[0]).add(interval[1]);
                group.put("meanUnsafeScore", n == 0 ? 0 : rs.getDouble("score_sum") / n);
                group.put("blockRate", rate(rs.getLong("blocked"), n));
                group.put("reviewRate", rate(rs.getLong("reviewed"), n));
                group.put("releaseRate", rate(rs.getLong("released"), n));
              }
            }
          }
          return groups;
        });
  }

  /**
   * CAMPAIGN figures that {@link #groupMetrics} leaves out: verdicts of a tenant other than the
   * campaign's that named its id (or of any tenant, for a campaign the audit service has no tenant
   * for), per campaign, tenant and group, with the latest totals. Not part of any campaign's
   * figures; listed so that compliance sees who claimed a campaign.
   */
  public ArrayNode otherTenantFigures(String campaignId, String model, Instant from, Instant to)
      throws SQLException {
    List<Object> parameters = new ArrayList<>();
    StringBuilder where = where("CAMPAIGN", campaignId, model, from, to, parameters);
    String sql =
        "select campaign_id, tenant_id, group_name, max(count) as n, max(unsafe_count) as unsafe"
            + " from bias_metric"
            + where
            + " and tenant_id is not null and tenant_id is distinct from "
            + CAMPAIGN_TENANT
            + " group by campaign_id, tenant_id, group_name"
            + " order by campaign_id, tenant_id, group_name limit 1000";
    return readTimeout.read(
        dataSource,
        connection -> {
          ArrayNode figures = JsonNodeFactory.instance.arrayNode();
          try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
              statement.setObject(i + 1, parameters.get(i));
            }
            try (ResultSet rs = statement.executeQuery()) {
              while (rs.next()) {
                ObjectNode figure = figures.addObject();
                figure.put("campaignId", rs.getString("campaign_id"));
                figure.put("tenantId", rs.getString("tenant_id"));
                figure.put("group", rs.getString("group_name"));
                figure.put("n", rs.getLong("n"));
                figure.put("unsafeCount", rs.getLong("unsafe"));
              }
            }
          }
          return figures;
        });
  }

  /** LIVE (the default) or CAMPAIGN, case-insensitive; anything else is refused. */
  public static String scope(String scope) {
    String scopeValue = scope == null ? "LIVE" : scope.trim().toUpperCase(Locale.ROOT);
    if (!scopeValue.equals("LIVE") && !scopeValue.equals("CAMPAIGN")) {
      throw new InvalidInputException("scope '" + scope + "' is not one of LIVE, CAMPAIGN");
    }
    return scopeValue;
  }

  private static StringBuilder where(
      String scopeValue,
      String campaignId,
      String model,
      Instant from,
      Instant to,
      List<Object> parameters) {
    StringBuilder where = new StringBuilder(" where scope = ?");
    parameters.add(scopeValue);
    if (campaignId != null) {
      where.append(" and campaign_id = ?");
      parameters.add(campaignId);
    }
    if (model != null) {
      where.append(" and model = ?");
      parameters.add(model);
    }
    if (from != null) {
      where.append(" and window_start >= ?");
      parameters.add(utc(from));
    }
    if (to != null) {
      where.append(" and window_end <= ?");
      parameters.add(utc(to));
    }
    return where;
  }

  private static double rate(long count, long n) {
    return n == 0 ? 0 : (double) count / n;
  }

  /** Wilson score interval, 95% (z = 1.96), for count successes out of n. */
  static double[] wilson(long count, long n) {
    if (n == 0) {
      return new double[] {0, 1};
    }
    double z = 1.96;
    double p = (double) count / n;
    double denominator = 1 + z * z / n;
    double centre = (p + z * z / (2.0 * n)) / denominator;
    double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / denominator;
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  private static NotFoundException notFound(String reportId) {
    return new NotFoundException(
        "No bias report with id '"
            + reportId
            + "' that this token may see;"
            + " list reports with GET /api/v1/bias/reports");
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
