package io.genguard.audit.bias;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.BiasScope;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bias reports and campaigns as the bias-audit feature stores them, read back through the API. */
class BiasReportsITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-20T00:00:00Z");
  private static RunningAuditService audit;
  private static String compliance;
  private static String acmeCompliance;
  private static String campaignId;
  private static String acmeReportId;
  private static String globalReportId;

  @BeforeAll
  static void storeACampaignReportsAndMetrics() throws Exception {
    audit = RunningAuditService.start("bias_reports_it");
    compliance = audit.token(Role.COMPLIANCE, null, "carl");
    acmeCompliance = audit.token(Role.COMPLIANCE, "acme", "cora");
    Caller job = Caller.system("bias-audit");
    ObjectNode definition =
        JSON.createObjectNode().put("model", "builtin-kn").put("samplesPerGroup", 200);
    campaignId =
        audit
            .service()
            .campaigns()
            .create(
                new Campaigns.NewCampaign(null, "acme", "Religion parity", "RUNNING", definition),
                job);
    audit
        .service()
        .campaigns()
        .updateStatus(campaignId, "COMPLETED", JSON.createObjectNode().put("maxGap", 0.06), job);
    ObjectNode body =
        (ObjectNode)
            JSON.readTree(
                "{\"method\":\"counterfactual templates, Wilson intervals\","
                    + "\"groups\":[{\"group\":\"religion:muslim\",\"n\":200,\"unsafeRate\":0.12,\"unsafeRateInterval\":[0.08,0.17],"
                    + "\"blockRate\":0.05,\"reviewRate\":0.07},{\"group\":\"religion:christian\",\"n\":200,\"unsafeRate\":0.06,"
                    + "\"unsafeRateInterval\":[0.03,0.10],\"blockRate\":0.02,\"reviewRate\":0.04}]}");
    acmeReportId =
        audit
            .service()
            .biasReports()
            .save(
                new BiasReports.NewReport(
                    null,
                    campaignId,
                    "acme",
                    "Religion parity, builtin-kn",
                    "CAMPAIGN",
                    "builtin-kn",
                    T0,
                    T0.plusSeconds(3600),
                    JSON.createObjectNode().put("maxGap", 0.06).put("fourFifthsFlag", true),
                    body,
                    "group,n,unsafeRate\nreligion:muslim,200,0.12\nreligion:christian,200,0.06\n",
                    "<!doctype html><html><body><h1>Religion parity</h1><script>alert(1)</script></body></html>"),
                job);
    globalReportId =
        audit
            .service()
            .biasReports()
            .save(
                new BiasReports.NewReport(
                    null,
                    null,
                    null,
                    "Live, week 47",
                    "LIVE",
                    null,
                    T0,
                    T0.plusSeconds(7 * 86400),
                    JSON.createObjectNode(),
                    JSON.createObjectNode(),
                    "group\n",
                    "<html></html>"),
                job);
    List<io.genguard.audit.persistence.IncomingEvent> metrics = new ArrayList<>();
    for (int window = 0; window < 3; window++) {
      metrics.add(metric(BiasScope.LIVE, null, "religion:muslim", window, 100, 10 + window, 3, 5));
      metrics.add(metric(BiasScope.LIVE, null, "religion:jewish", window, 50, 2, 1, 1));
    }
    // Window 0 of religion:muslim once more under another id, as the bias job published it before
    // its LIVE ids named the window end and again after a restore from an older savepoint: the
    // same window, counted once.
    BiasMetric windowZero =
        (BiasMetric) metric(BiasScope.LIVE, null, "religion:muslim", 0, 100, 10, 3, 5).event();
    metrics.add(
        AuditEvents.incoming(
            Topics.BIAS_METRICS.name(),
            BiasMetric.newBuilder(windowZero)
                .setEventId(EventIds.nameBased("metric", "LIVE", "religion:muslim", "0", "old id"))
                .build()));
    // Campaign figures are running totals: only the latest per group counts (the first from
    // before metrics named their tenant, the second of the campaign's tenant).
    metrics.add(metric(BiasScope.CAMPAIGN, campaignId, "religion:muslim", 0, 100, 9, 2, 3));
    metrics.add(
        metric(BiasScope.CAMPAIGN, campaignId, "acme", "religion:muslim", 1, 200, 24, 10, 14));
    // Another tenant's verdicts naming acme's campaign: larger and newer, in a group of their own
    // too; they are not the campaign's.
    metrics.add(
        metric(BiasScope.CAMPAIGN, campaignId, "globex", "religion:muslim", 2, 500, 400, 0, 0));
    metrics.add(
        metric(BiasScope.CAMPAIGN, campaignId, "globex", "religion:jewish", 2, 40, 0, 0, 0));
    audit.seed(metrics);
  }

  private static io.genguard.audit.persistence.IncomingEvent metric(
      BiasScope scope,
      String campaign,
      String group,
      int window,
      long n,
      long unsafe,
      long blocked,
      long reviewed) {
    return metric(scope, campaign, null, group, window, n, unsafe, blocked, reviewed);
  }

  private static io.genguard.audit.persistence.IncomingEvent metric(
      BiasScope scope,
      String campaign,
      String tenant,
      String group,
      int window,
      long n,
      long unsafe,
      long blocked,
      long reviewed) {
    Instant start = T0.plusSeconds(3600L * window);
    return AuditEvents.incoming(
        Topics.BIAS_METRICS.name(),
        BiasMetric.newBuilder()
            .setEventId(
                EventIds.nameBased(
                    "metric",
                    scope.name(),
                    String.valueOf(campaign),
                    String.valueOf(tenant),
                    group,
                    String.valueOf(window)))
            .setScope(scope)
            .setCampaignId(campaign)
            .setTenantId(tenant)
            .setModel("builtin-kn")
            .setGroup(group)
            .setWindowStart(start)
            .setWindowEnd(start.plusSeconds(3600))
            .setCount(n)
            .setUnsafeCount(unsafe)
            .setUnsafeScoreSum(unsafe * 0.8)
            .setBlockCount(blocked)
            .setReviewCount(reviewed)
            .setReleaseCount(n - blocked - reviewed)
            .setCategoryCounts(Map.of("hate", unsafe))
            .setComputedAt(start.plusSeconds(3600))
            .build());
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldListReportsNewestFirstWithTheirHeadlines() throws Exception {
    JsonNode page = json(audit.get("/api/v1/bias/reports", compliance));

    assertThat(page.path("items"))
        .extracting(item -> item.path("reportId").asText())
        .containsExactly(globalReportId, acmeReportId);
    JsonNode acme = page.path("items").get(1);
    assertThat(acme.path("campaignId").asText()).isEqualTo(campaignId);
    assertThat(acme.path("summary").path("fourFifthsFlag").asBoolean()).isTrue();
    assertThat(acme.path("createdBy").asText()).isEqualTo("bias-audit");
    assertThat(
            json(audit.get("/api/v1/bias/reports?campaignId=" + campaignId, compliance))
                .path("items"))
        .hasSize(1);
  }

  @Test
  void shouldServeEachStoredFormat() throws Exception {
    JsonNode report = json(audit.get("/api/v1/bias/reports/" + acmeReportId, compliance));
    assertThat(report.path("title").asText()).isEqualTo("Religion parity, builtin-kn");
    assertThat(
            report
                .path("report")
                .path("groups")
                .get(0)
                .path("unsafeRateInterval")
                .get(1)
                .asDouble())
        .isEqualTo(0.17);

    HttpResponse<String> csv =
        audit.get("/api/v1/bias/reports/" + acmeReportId + "?format=csv", compliance);
    assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
    assertThat(csv.body()).startsWith("group,n,unsafeRate\nreligion:muslim,200,0.12");

    HttpResponse<String> html =
        audit.get("/api/v1/bias/reports/" + acmeReportId + "?format=html", compliance);
    assertThat(html.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    assertThat(html.headers().firstValue("Content-Security-Policy").orElse(""))
        .as("stored HTML never runs scripts")
        .startsWith("sandbox;")
        .contains("default-src 'none'");
    assertThat(html.body()).contains("<h1>Religion parity</h1>");

    JsonNode stored =
        json(audit.get("/api/v1/bias/reports/" + acmeReportId + "?format=json", compliance));
    assertThat(stored.path("method").asText()).startsWith("counterfactual");
  }

  /** An auditor who downloads a report can check it against the digest the chain recorded. */
  @Test
  void shouldServeEachBodyAsTheBytesWhoseDigestTheChainRecorded() throws Exception {
    for (String format : List.of("json", "csv", "html")) {
      String body =
          audit
              .get("/api/v1/bias/reports/" + acmeReportId + "?format=" + format, compliance)
              .body();
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'bias_report.create'"
                      + " and target = '"
                      + acmeReportId
                      + "' and details ->> '"
                      + format
                      + "Sha256' = '"
                      + BiasReports.sha256(body)
                      + "'"))
          .as("%s body hashes to the recorded %sSha256", format, format)
          .isEqualTo(1);
    }
  }

  @Test
  void shouldRecordEachStoredReportsDigestsInTheAuditChain() throws Exception {
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'bias_report.create' and target = '"
                    + acmeReportId
                    + "' and details ? 'htmlSha256' and details ->> 'csvSha256' = '"
                    + BiasReports.sha256(
                        "group,n,unsafeRate\nreligion:muslim,200,0.12\nreligion:christian,200,0.06\n")
                    + "'"))
        .isEqualTo(1);
    assertThat(
            audit.count(
                "select count(*) from api_action where action in ('campaign.create', 'campaign.status')"
                    + " and target = '"
                    + campaignId
                    + "'"))
        .isEqualTo(2);
  }

  @Test
  void shouldKeepATenantToItsOwnReportsAndCampaigns() throws Exception {
    JsonNode page = json(audit.get("/api/v1/bias/reports", acmeCompliance));
    assertThat(page.path("items"))
        .extracting(item -> item.path("reportId").asText())
        .containsExactly(acmeReportId);
    assertThat(audit.get("/api/v1/bias/reports/" + globalReportId, acmeCompliance).statusCode())
        .isEqualTo(404);
    assertThat(
            audit
                .get("/api/v1/bias/reports/" + globalReportId + "?format=html", acmeCompliance)
                .statusCode())
        .isEqualTo(404);
    JsonNode campaign = json(audit.get("/api/v1/bias/campaigns/" + campaignId, acmeCompliance));
    assertThat(campaign.path("status").asText()).isEqualTo("COMPLETED");
    assertThat(campaign.path("definition").path("samplesPerGroup").asInt()).isEqualTo(200);
    assertThat(campaign.path("completedAt").isNull()).isFalse();
    String globex = audit.token(Role.COMPLIANCE, "globex", "gina");
    assertThat(audit.get("/api/v1/bias/campaigns/" + campaignId, globex).statusCode())
        .isEqualTo(404);
    assertThat(json(audit.get("/api/v1/bias/campaigns", globex)).path("items")).isEmpty();
  }

  @Test
  void shouldSumLiveWindowsAndTakeTheLatestCampaignTotals() throws Exception {
    JsonNode live =
        json(audit.get("/api/v1/bias/metrics?scope=LIVE&model=builtin-kn", compliance))
            .path("groups");
    assertThat(live)
        .extracting(group -> group.path("group").asText())
        .containsExactly("religion:jewish", "religion:muslim");
    JsonNode muslim = live.get(1);
    assertThat(muslim.path("n").asLong())
        .as("three windows, the first stored under two ids")
        .isEqualTo(300);
    assertThat(muslim.path("unsafeRate").asDouble()).isEqualTo(33.0 / 300);
    assertThat(muslim.path("blockRate").asDouble()).isEqualTo(9.0 / 300);
    double[] wilson = BiasReports.wilson(33, 300);
    assertThat(muslim.path("unsafeRateInterval").get(0).asDouble()).isEqualTo(wilson[0]);
    assertThat(wilson[0]).isBetween(0.078, 0.080);
    assertThat(wilson[1]).isBetween(0.150, 0.153);

    JsonNode campaignMetrics =
        json(audit.get("/api/v1/bias/metrics?scope=CAMPAIGN&campaignId=" + campaignId, compliance));
    JsonNode campaign = campaignMetrics.path("groups");
    assertThat(campaign).as("only the campaign tenant's figures").hasSize(1);
    assertThat(campaign.get(0).path("n").asLong()).isEqualTo(200);
    assertThat(campaign.get(0).path("unsafeRate").asDouble()).isEqualTo(0.12);
    assertThat(campaignMetrics.path("otherTenants"))
        .extracting(
            figure ->
                figure.path("tenantId").asText()
                    + " "
                    + figure.path("group").asText()
                    + " "
                    + figure.path("n").asLong()
                    + " "
                    + figure.path("unsafeCount").asLong())
        .containsExactly("globex religion:jewish 40 0", "globex religion:muslim 500 400");
    assertThat(json(audit.get("/api/v1/bias/metrics?scope=LIVE", compliance)).has("otherTenants"))
        .isFalse();

    JsonNode window =
        json(audit.get("/api/v1/bias/metrics?from=2026-11-20T01:00:00Z", compliance))
            .path("groups");
    assertThat(window.get(1).path("n").asLong()).isEqualTo(200);
    assertThat(audit.get("/api/v1/bias/metrics?scope=WEEKLY", compliance).statusCode())
        .isEqualTo(400);
  }

  @Test
  void shouldGiveAWilsonIntervalThatBehavesAtTheEdges() {
    assertThat(BiasReports.wilson(0, 0)).containsExactly(0, 1);
    assertThat(BiasReports.wilson(0, 50)[0])
        .isCloseTo(0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(BiasReports.wilson(0, 50)[1]).isBetween(0.07, 0.072);
    assertThat(BiasReports.wilson(50, 50)[1])
        .isCloseTo(1, org.assertj.core.data.Offset.offset(1e-12));
  }
}
