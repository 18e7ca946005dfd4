package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.campaign.PlannedSample;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.JudgedOutput;
import io.genguard.bias.report.BiasReport;
import io.genguard.bias.report.ReportBuilder;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * A data subject's erasure against a bias report as the audit service stores it: its HTML written
 * by bias-audit's own HtmlReportWriter (through {@link AuditStorePublisher}, as {@code ./genguard
 * audit report} publishes it), not markup built by hand. The audit service's redaction
 * (ReportRedaction) finds a row's text cell by that markup, so a change to the writer's markup that
 * it does not follow fails here rather than leaving the erased text in the report (or taking
 * another tenant's).
 */
class BiasReportErasureITCase {
  private static final Instant AT = Instant.parse("2026-11-20T09:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);
  private static final String REQUEST = "shared-subject";
  private static final String OTHER_REQUEST = "another-request";
  private static final String BETA_VERDICT = EventIds.nameBased("verdict", REQUEST, "beta");

  /** Gamma's verdict under the id: its first 13 characters (all the HTML cell shows) are acme's. */
  private static final String GAMMA_VERDICT = acme().verdictId().substring(0, 13) + "-gamma-alike";

  private static final String ACME_TEXT = "Acme's subject's output text.";
  private static final String BETA_TEXT = "Beta's output under the same request id.";
  private static final String GAMMA_TEXT = "Gamma's output, its verdict id alike to acme's.";
  private static final String OTHER_TEXT = "The output of another request.";

  private AuditDatabase database;

  @BeforeEach
  void threeTenantsUnderOneRequestId(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("bias_report_erasure_", test),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2);
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
    List<IncomingEvent> story = new ArrayList<>(AuditEvents.story(acme()));
    GenerationRequest request = (GenerationRequest) story.get(0).event();
    story.set(
        0,
        AuditEvents.incoming(
            Topics.GENERATION_REQUESTS.name(),
            GenerationRequest.newBuilder(request)
                .setAttributes(Map.of("userId", "u-1", "source", "app"))
                .build()));
    writer.write(story);
    writeOtherTenantsOutput(writer, "beta", BETA_VERDICT, BETA_TEXT);
    writeOtherTenantsOutput(writer, "gamma", GAMMA_VERDICT, GAMMA_TEXT);
  }

  @AfterEach
  void close() {
    database.close();
  }

  private static Scenario acme() {
    return Scenario.of(REQUEST, "acme", Decision.REVIEW, AT).withText(ACME_TEXT);
  }

  /**
   * The report of acme's campaign holds, under the one request id, acme's row, beta's and gamma's
   * (a report stored before 2026-12-05 matched verdicts by request id alone), and a row of another
   * request: acme's subject's erasure writes "erased" in acme's row's text cell and in no other;
   * beta's and gamma's rows (gamma's verdict cell shows what acme's does) and the other request's
   * keep their texts.
   */
  @Test
  void shouldRemoveFromTheWritersHtmlExactlyTheErasedTenantsText() throws Exception {
    CampaignRecord campaign = campaign();
    BiasReport report =
        ReportBuilder.build(
            "report-shared",
            campaign,
            List.of(
                outcome(0, REQUEST, acme().verdictId(), ACME_TEXT),
                outcome(1, REQUEST, BETA_VERDICT, BETA_TEXT),
                outcome(2, REQUEST, GAMMA_VERDICT, GAMMA_TEXT),
                outcome(
                    3, OTHER_REQUEST, EventIds.nameBased("verdict", OTHER_REQUEST), OTHER_TEXT)),
            Map.of(),
            AnalysisSettings.defaults(),
            Instant.now());
    new AuditStorePublisher(database.dataSource(), "it").publish(campaign, report);
    Map<String, String> before = textCells(body(report.reportId(), BiasReports.Format.HTML));
    assertThat(before)
        .as("the writer's rows, as the test reads them")
        .containsExactly(
            Map.entry("0", ACME_TEXT),
            Map.entry("1", BETA_TEXT),
            Map.entry("2", GAMMA_TEXT),
            Map.entry("3", OTHER_TEXT));

    Retention.SubjectErased erased =
        new Retention(database.dataSource(), Clock.systemUTC(), 0)
            .eraseSubject("acme", "userId", "u-1", "DSR-2026-52", ADMIN);
    assertThat(erased.erased()).extracting(Retention.Erased::requestId).containsExactly(REQUEST);

    String html = body(report.reportId(), BiasReports.Format.HTML);
    assertThat(textCells(html))
        .as("the text cells after the erasure")
        .containsExactly(
            Map.entry("0", "<erased>"),
            Map.entry("1", BETA_TEXT),
            Map.entry("2", GAMMA_TEXT),
            Map.entry("3", OTHER_TEXT));
    assertThat(html).doesNotContain(ACME_TEXT);
    JsonNode json = new ObjectMapper().readTree(body(report.reportId(), BiasReports.Format.JSON));
    List<String> texts = new ArrayList<>();
    json.path("rows").forEach(row -> texts.add(row.path("text").asText("<null>")));
    assertThat(texts)
        .as("the JSON rows' texts")
        .containsExactlyInAnyOrder("<null>", BETA_TEXT, GAMMA_TEXT, OTHER_TEXT);
  }

  private static final Pattern ROW =
      Pattern.compile("<tr id=\"r-[^\"]*\"[^>]*><td>(\\d+)</td>(.*?)</tr>", Pattern.DOTALL);
  private static final Pattern LAST_CELL = Pattern.compile("<td([^>]*)>([^<]*)</td>$");

  /**
   * The text cell of each row of the report's rows table, by sample index: the cell's text, or
   * "&lt;erased&gt;" when it is a note saying "erased".
   */
  private static Map<String, String> textCells(String html) {
    Map<String, String> cells = new LinkedHashMap<>();
    Matcher row = ROW.matcher(html);
    while (row.find()) {
      Matcher cell = LAST_CELL.matcher(row.group(2));
      assertThat(cell.find()).as("row %s ends in a text cell", row.group(1)).isTrue();
      boolean note = cell.group(1).equals(" class=\"note\"");
      cells.put(
          row.group(1),
          note && cell.group(2).equals("erased")
              ? "<erased>"
              : cell.group(2).replace("&#39;", "'"));
    }
    return sortedByIndex(cells);
  }

  private static Map<String, String> sortedByIndex(Map<String, String> cells) {
    Map<String, String> sorted = new LinkedHashMap<>();
    cells.keySet().stream()
        .sorted((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)))
        .forEach(index -> sorted.put(index, cells.get(index)));
    return sorted;
  }

  private static CampaignRecord campaign() {
    return new CampaignRecord(
        "shared-campaign",
        "Shared request id",
        "COUNTERFACTUAL",
        "acme",
        "echo",
        null,
        2,
        List.of("control", "target"),
        1,
        4,
        "{\"id\":\"shared-campaign\",\"templates\":[\"{group} moved in.\"]}",
        "0".repeat(64),
        "[]",
        AT);
  }

  private static SampleOutcome outcome(int index, String requestId, String verdictId, String text) {
    String group = index % 2 == 0 ? "control" : "target";
    return new SampleOutcome(
        new PlannedSample(index, group, index / 2, 0, "{group} moved in.", "the " + group, "p", 7L),
        List.of(requestId),
        Optional.of(
            new JudgedOutput(
                requestId,
                verdictId,
                "REVIEW",
                0.4,
                Map.of("hate", 0.4),
                List.of(),
                text,
                "echo/echo@1",
                AT)),
        Optional.empty());
  }

  /** Another tenant's output and verdict (its own ids) under the shared request id. */
  private static void writeOtherTenantsOutput(
      AuditWriter writer, String tenant, String verdictId, String text) throws Exception {
    Scenario scenario =
        Scenario.of(REQUEST, tenant, Decision.REVIEW, AT.plusSeconds(5)).withText(text);
    String output = EventIds.nameBased("output", REQUEST, tenant);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(scenario))
                    .setEventId(EventIds.nameBased("output-event", REQUEST, tenant))
                    .setOutputId(output)
                    .build()),
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                ModerationVerdict.newBuilder(AuditEvents.verdict(scenario))
                    .setEventId(EventIds.nameBased("verdict-event", REQUEST, tenant))
                    .setVerdictId(verdictId)
                    .setOutputId(output)
                    .build())));
  }

  private String body(String reportId, BiasReports.Format format) throws Exception {
    StringWriter written = new StringWriter();
    new BiasReports(database.dataSource(), Clock.systemUTC())
        .open(reportId, format, Caller.system("it"))
        .writeTo(written);
    return written.toString();
  }
}
