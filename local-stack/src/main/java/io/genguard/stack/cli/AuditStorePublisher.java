package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.security.Caller;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportExporter;
import io.genguard.bias.report.ReportFormat;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Makes campaigns and reports of the bias audit visible in the audit service's API and UI ({@code
 * /api/v1/bias/campaigns}, {@code /api/v1/bias/reports}) through the audit service's own stores,
 * which also record each in the audit chain (with the reports' SHA-256 digests).
 */
final class AuditStorePublisher {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Campaigns campaigns;
  private final BiasReports reports;
  private final Caller caller;

  AuditStorePublisher(DataSource dataSource, String who) {
    this.campaigns = new Campaigns(dataSource, Clock.systemUTC());
    this.reports = new BiasReports(dataSource, Clock.systemUTC());
    this.caller = Caller.system(who);
  }

  /**
   * Records the campaign as RUNNING unless the audit store has it already.
   *
   * @throws IllegalStateException when the audit store lists a campaign of that id under another
   *     tenant: the API would refuse every request of this one
   */
  void registerCampaign(CampaignRecord campaign) throws SQLException {
    if (listedFor(campaign.campaignId(), campaign.tenantId()).isEmpty()) {
      create(campaign);
    }
  }

  /**
   * The campaign as the audit store lists it for {@code tenant}, if it does.
   *
   * @throws IllegalStateException when it lists a campaign of that id under another tenant: the API
   *     would refuse every request of this one
   */
  Optional<JsonNode> listedFor(String campaignId, String tenant) throws SQLException {
    JsonNode listed;
    try {
      listed = campaigns.get(campaignId, caller);
    } catch (NotFoundException absent) {
      return Optional.empty();
    }
    String listedTenant = listed.path("tenantId").asText(null);
    if (!Objects.equals(listedTenant, tenant)) {
      throw new IllegalStateException(
          "the audit service lists a campaign '"
              + campaignId
              + "' of "
              + (listedTenant == null ? "no tenant" : "tenant '" + listedTenant + "'")
              + ", not of tenant '"
              + tenant
              + "'; give this campaign another id");
    }
    return Optional.of(listed);
  }

  /**
   * Registers the campaign ({@link #registerCampaign}) and opens it again (RUNNING) when the audit
   * store has it completed: its samples are about to be submitted, and the API takes a campaign's
   * requests only while it is open ({@link Campaigns#OPEN}).
   */
  void openForSubmitting(CampaignRecord campaign) throws SQLException {
    Optional<JsonNode> listed = listedFor(campaign.campaignId(), campaign.tenantId());
    if (listed.isEmpty()) {
      create(campaign);
    } else if (!Campaigns.OPEN.contains(listed.get().path("status").asText(""))) {
      campaigns.updateStatus(campaign.campaignId(), "RUNNING", null, caller);
    }
  }

  /** Records the campaign as RUNNING. */
  private void create(CampaignRecord campaign) throws SQLException {
    campaigns.create(
        new Campaigns.NewCampaign(
            campaign.campaignId(),
            campaign.tenantId(),
            campaign.name(),
            "RUNNING",
            parse(campaign.spec())),
        caller);
  }

  /**
   * Stores the report (JSON, CSV, HTML) and the campaign's status and headline numbers. The summary
   * (what lists show) is the headline with the report's status (COMPLETE or PARTIAL) added.
   */
  void publish(CampaignRecord campaign, BiasReport report) throws SQLException {
    registerCampaign(campaign);
    ObjectNode summary = JSON.valueToTree(report.headline());
    summary.put("status", report.status());
    reports.save(
        new BiasReports.NewReport(
            report.reportId(),
            campaign.campaignId(),
            campaign.tenantId(),
            "Bias report: " + campaign.name(),
            "CAMPAIGN",
            campaign.backend() + (campaign.model() == null ? "" : "/" + campaign.model()),
            campaign.createdAt(),
            Instant.parse(report.generatedAt()),
            summary,
            parse(ReportExporter.toJson(report)),
            text(report, ReportFormat.CSV),
            text(report, ReportFormat.HTML)),
        caller);
    campaigns.updateStatus(
        campaign.campaignId(),
        report.status().equals("COMPLETE") ? "COMPLETED" : "RUNNING",
        summary,
        caller);
  }

  private static String text(BiasReport report, ReportFormat format) {
    return new String(ReportExporter.toBytes(report, format), StandardCharsets.UTF_8);
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Unreadable JSON: " + e.getMessage(), e);
    }
  }
}
