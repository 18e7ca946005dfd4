package io.genguard.bias.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportBuilder;
import io.genguard.bias.report.ReportExporter;
import io.genguard.bias.report.ReportFormat;
import io.genguard.bias.submit.CampaignProgress;
import io.genguard.schemas.EventIds;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Bias reports for the audit API and UI (and the command line): generate a campaign's report from
 * the audit store, persist it, list, fetch and export it as JSON, CSV or HTML; campaign progress
 * and live alerts. Needs the {@code bias_audit} schema ({@link BiasAuditDatabase#migrate}) in the
 * audit service's database. Thread-safe.
 *
 * <p>A report's {@code document_sha256} is the SHA-256 of the UTF-8 bytes of its JSON document as
 * written, kept verbatim in {@code document_text} beside the queryable jsonb copy (which drops
 * whitespace and reorders keys). The JSON export is that text byte for byte, and a report read back
 * is parsed from it, so its export hashes to {@code document_sha256}. Reports stored before {@code
 * document_text} existed are read from the jsonb copy: readable, but their export does not
 * reproduce their hash.
 */
public final class BiasReportStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DataSource dataSource;
  private final AnalysisSettings settings;
  private final Clock clock;
  private final CampaignRepository campaigns;
  private final AuditStoreReader auditStore;

  public BiasReportStore(DataSource dataSource, AnalysisSettings settings, Clock clock) {
    this.dataSource = dataSource;
    this.settings = settings;
    this.clock = clock;
    this.campaigns = new CampaignRepository(dataSource);
    this.auditStore = new AuditStoreReader(dataSource);
  }

  /** A report in lists: what a UI shows before opening it. */
  public record ReportSummary(
      String reportId,
      String campaignId,
      Instant createdAt,
      boolean complete,
      int samplesPlanned,
      int samplesAnalysed,
      boolean disparityDetected,
      boolean fourFifthsFlag,
      String summary) {}

  /**
   * Computes the campaign's report from what the audit store holds now, persists it and returns it.
   * A campaign still in flight gets a PARTIAL report that lists what is missing.
   *
   * @throws IllegalArgumentException for an unknown campaign id
   */
  public BiasReport generate(String campaignId) {
    CampaignRecord campaign =
        campaigns
            .find(campaignId)
            .orElseThrow(() -> new IllegalArgumentException("No campaign with id " + campaignId));
    BiasReport report =
        ReportBuilder.build(
            "report-" + EventIds.random(),
            campaign,
            auditStore.outcomes(campaignId),
            auditStore.streamMetrics(campaignId),
            auditStore.otherTenantRequests(campaignId),
            settings,
            clock.instant());
    persist(report);
    return report;
  }

  /** Reports, newest first. */
  public List<ReportSummary> list(int limit) {
    return summaries(
        "select report_id, campaign_id, created_at, complete, samples_planned, samples_analysed,"
            + " disparity_detected, four_fifths_flag, headline->>'summary' from bias_audit.report"
            + " order by created_at desc limit ?",
        null,
        limit);
  }

  /** One campaign's reports, newest first. */
  public List<ReportSummary> listForCampaign(String campaignId) {
    return summaries(
        "select report_id, campaign_id, created_at, complete, samples_planned, samples_analysed,"
            + " disparity_detected, four_fifths_flag, headline->>'summary' from bias_audit.report"
            + " where campaign_id = ? order by created_at desc limit ?",
        campaignId,
        1000);
  }

  public Optional<BiasReport> get(String reportId) {
    return stored(STORED + " where report_id = ?", reportId).map(StoredDocument::report);
  }

  /** The newest report of a campaign. */
  public Optional<BiasReport> latest(String campaignId) {
    return stored(STORED + " where campaign_id = ? order by created_at desc limit 1", campaignId)
        .map(StoredDocument::report);
  }

  /**
   * A stored report in the given format, or empty for an unknown report id. JSON is the document
   * exactly as stored, whose SHA-256 is the report's {@code document_sha256} (for a report stored
   * before the exact text was kept: the jsonb document written out again, which does not reproduce
   * it).
   */
  public Optional<byte[]> export(String reportId, ReportFormat format) {
    return stored(STORED + " where report_id = ?", reportId)
        .map(
            document ->
                format == ReportFormat.JSON && document.exactText() != null
                    ? document.exactText().getBytes(StandardCharsets.UTF_8)
                    : ReportExporter.toBytes(document.report(), format));
  }

  /** Every campaign, newest first. */
  public List<CampaignRecord> campaigns() {
    return campaigns.list();
  }

  public Optional<CampaignRecord> campaign(String campaignId) {
    return campaigns.find(campaignId);
  }

  /** Where a campaign stands and exactly which samples are missing. */
  public CampaignProgress progress(String campaignId) {
    if (campaigns.find(campaignId).isEmpty()) {
      throw new IllegalArgumentException("No campaign with id " + campaignId);
    }
    return CampaignProgress.of(campaignId, auditStore.outcomes(campaignId));
  }

  /** The newest live bias alerts of the bias-aggregation job. */
  public List<LiveAlert> liveAlerts(int limit) {
    return LiveAlertRepository.newest(dataSource, limit);
  }

  private void persist(BiasReport report) {
    String document = ReportExporter.toJson(report);
    try (Connection connection = dataSource.getConnection();
        PreparedStatement insert =
            connection.prepareStatement(
                "insert into bias_audit.report (report_id, campaign_id, created_at, complete,"
                    + " samples_planned, samples_analysed, disparity_detected, four_fifths_flag,"
                    + " headline, document, document_sha256, document_text)"
                    + " values (?, ?, ?, ?, ?, ?, ?, ?, cast(? as jsonb), cast(? as jsonb), ?, ?)")) {
      insert.setString(1, report.reportId());
      insert.setString(2, report.campaign().campaignId());
      insert.setTimestamp(3, Timestamp.from(Instant.parse(report.generatedAt())));
      insert.setBoolean(4, report.status().equals("COMPLETE"));
      insert.setInt(5, report.sampleSizes().planned());
      insert.setInt(6, report.sampleSizes().analysed());
      insert.setBoolean(7, report.headline().disparityDetected());
      insert.setBoolean(8, report.fourFifths().flagged());
      insert.setString(9, JSON.writeValueAsString(report.headline()));
      insert.setString(10, document);
      insert.setString(11, sha256(document));
      insert.setString(12, document);
      insert.executeUpdate();
    } catch (SQLException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(
          "Cannot store report " + report.reportId() + ": " + e.getMessage(), e);
    }
  }

  /** The columns {@link #stored} reads: the exact text (null before V2) and the jsonb copy. */
  private static final String STORED =
      "select document_text, document::text from bias_audit.report";

  /**
   * A stored document: the text as written ({@code exactText}, null for a report stored before it
   * was kept) and the jsonb copy as text.
   */
  private record StoredDocument(String exactText, String jsonbText) {
    BiasReport report() {
      return ReportExporter.fromJson(exactText != null ? exactText : jsonbText);
    }
  }

  private Optional<StoredDocument> stored(String sql, String parameter) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select = connection.prepareStatement(sql)) {
      select.setString(1, parameter);
      try (ResultSet rows = select.executeQuery()) {
        return rows.next()
            ? Optional.of(new StoredDocument(rows.getString(1), rows.getString(2)))
            : Optional.empty();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot read report " + parameter + ": " + e.getMessage(), e);
    }
  }

  private List<ReportSummary> summaries(String sql, String campaignId, int limit) {
    List<ReportSummary> reports = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select = connection.prepareStatement(sql)) {
      int index = 1;
      if (campaignId != null) {
        select.setString(index++, campaignId);
      }
      select.setInt(index, limit);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          reports.add(
              new ReportSummary(
                  rows.getString(1),
                  rows.getString(2),
                  rows.getTimestamp(3).toInstant(),
                  rows.getBoolean(4),
                  rows.getInt(5),
                  rows.getInt(6),
                  rows.getBoolean(7),
                  rows.getBoolean(8),
                  rows.getString(9)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot list reports: " + e.getMessage(), e);
    }
    return reports;
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
