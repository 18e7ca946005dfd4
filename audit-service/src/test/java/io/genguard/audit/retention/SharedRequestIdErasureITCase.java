package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.review.ReviewOutbox;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * A data subject's erasure (acme's user u-1) of a request id that beta uses too: beta's output and
 * verdict under the same id (its own ids) stay, and so must beta's texts in the stored bias reports
 * and beta's review decisions waiting in the outbox.
 */
class SharedRequestIdErasureITCase {
  private static final Instant RECENTLY = Instant.parse("2026-11-20T09:00:00Z");
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);
  private static final String REQUEST = "shared-subject";
  private static final String BETA_VERDICT = EventIds.nameBased("verdict", REQUEST, "beta");
  private static final String BETA_OUTPUT = EventIds.nameBased("output", REQUEST, "beta");

  /** Gamma's verdict under the id: its first 13 characters are acme's verdict id's. */
  private static final String GAMMA_VERDICT = acme().verdictId().substring(0, 13) + "-gamma-alike";

  private AuditDatabase database;

  @BeforeEach
  void acmesAndBetasRecordsUnderOneRequestId(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("shared_erasure_", test),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2);
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
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
    writeOutputUnderTheRequestId(
        Scenario.of(REQUEST, "beta", Decision.REVIEW, RECENTLY.plusSeconds(5))
            .withText("Beta's own output."),
        BETA_OUTPUT,
        BETA_VERDICT);
  }

  @AfterEach
  void close() {
    database.close();
  }

  private static Scenario acme() {
    return Scenario.of(REQUEST, "acme", Decision.REVIEW, RECENTLY);
  }

  private Retention retention() {
    return new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0, 3);
  }

  private void eraseAcmesSubject() throws Exception {
    Retention.SubjectErased erased =
        retention().eraseSubject("acme", "userId", "u-1", "DSR-2026-51", ADMIN);
    assertThat(erased.erased()).extracting(Retention.Erased::requestId).containsExactly(REQUEST);
    assertThat(
            count(
                "select count(*) from moderation_verdict where verdict_id = '"
                    + BETA_VERDICT
                    + "'"))
        .as("beta's verdict stays")
        .isEqualTo(1);
  }

  /**
   * A report of no tenant sampled both tenants' outputs under the id, and beta's own report sampled
   * beta's: acme's erasure removes acme's row's text alone. It removed every row of the request id
   * in every report, beta's own report included (fails without the fix).
   */
  @Test
  void shouldRemoveFromTheBiasReportsOnlyTheTextsOfTheErasedTenantsRows() throws Exception {
    saveReport("everyone", null, true);
    saveReport("beta-only", "beta", false);

    eraseAcmesSubject();

    JsonNode rows = new ObjectMapper().readTree(body("everyone", "JSON")).path("rows");
    assertThat(rows.get(0).path("text").isNull()).as("acme's row loses its text").isTrue();
    assertThat(rows.get(1).path("text").asText()).as("beta's keeps it").isEqualTo("BETA-TEXT");
    assertThat(body("everyone", "HTML"))
        .doesNotContain("ACME-TEXT")
        .contains("<td>BETA-TEXT</td></tr>")
        .contains("<td class=\"note\">erased</td></tr>");
    assertThat(body("beta-only", "JSON")).contains("BETA-TEXT");
    assertThat(body("beta-only", "HTML")).contains("<td>BETA-TEXT</td></tr>");
    assertThat(
            count(
                "select count(*) from api_action where action = 'bias_report.redact'"
                    + " and target = 'beta-only'"))
        .as("beta's report was not redacted")
        .isZero();
    assertThat(
            count(
                "select count(*) from api_action where action = 'bias_report.redact'"
                    + " and target = 'everyone'"))
        .isEqualTo(1);
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  /**
   * A report of no tenant sampled acme's and gamma's outputs under the id, their verdict ids alike
   * in the 13 characters the HTML's verdict cell shows: acme's erasure removes acme's text alone,
   * the HTML row told by its whole verdict id ({@code data-verdict}). Gamma's HTML row lost its
   * text too (fails without the fix).
   */
  @Test
  void shouldRemoveOnlyTheErasedTenantsHtmlRowOfTwoVerdictIdsAlikeInTheirFirst13Characters()
      throws Exception {
    writeGammasOutputUnderTheRequestId();
    assertThat(GAMMA_VERDICT).startsWith(acme().verdictId().substring(0, 13));
    saveRows(
        "everyone",
        null,
        true,
        List.of(
            new String[] {acme().verdictId(), "ACME-TEXT"},
            new String[] {GAMMA_VERDICT, "GAMMA-TEXT"}));

    eraseAcmesSubject();

    JsonNode rows = new ObjectMapper().readTree(body("everyone", "JSON")).path("rows");
    assertThat(rows.get(0).path("text").isNull()).as("acme's row loses its text").isTrue();
    assertThat(rows.get(1).path("text").asText()).as("gamma's keeps it").isEqualTo("GAMMA-TEXT");
    assertThat(body("everyone", "HTML"))
        .doesNotContain("ACME-TEXT")
        .contains("<td>GAMMA-TEXT</td></tr>")
        .contains("<td class=\"note\">erased</td></tr>");
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  /**
   * A report stored before its HTML rows carried their whole verdict ids: gamma's HTML row cannot
   * be told from acme's by the 13 characters its cell shows, and loses its text too (the
   * conservative side); its JSON row, which names the whole id, keeps it.
   */
  @Test
  void shouldRemoveBothHtmlTextsOfAnOlderReportWhoseVerdictCellsCannotTellTheRowsApart()
      throws Exception {
    writeGammasOutputUnderTheRequestId();
    saveRows(
        "older",
        null,
        false,
        List.of(
            new String[] {acme().verdictId(), "ACME-TEXT"},
            new String[] {GAMMA_VERDICT, "GAMMA-TEXT"}));

    eraseAcmesSubject();

    JsonNode rows = new ObjectMapper().readTree(body("older", "JSON")).path("rows");
    assertThat(rows.get(0).path("text").isNull()).isTrue();
    assertThat(rows.get(1).path("text").asText()).isEqualTo("GAMMA-TEXT");
    assertThat(body("older", "HTML"))
        .doesNotContain("ACME-TEXT", "GAMMA-TEXT")
        .contains("<td class=\"note\">erased</td></tr>");
  }

  /**
   * The bias-audit feature's own reports ({@code bias_audit.report}, no tenant column): a report of
   * beta's campaign stored before 2026-12-05 may hold acme's row, which loses its text (the
   * fifty-second session's review: skipping another tenant's campaign kept it); a row whose verdict
   * the store no longer knows cannot be told from the erased tenant's and loses its text too, in
   * every report, as before the fifty-second session; acme's campaign's report and a report naming
   * no campaign tenant lose acme's text.
   */
  @Test
  void shouldRemoveTheErasedTenantsRowsFromABiasAuditReportOfAnotherTenantsCampaign()
      throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("create schema bias_audit");
      statement.execute(
          "create table bias_audit.report (report_id text primary key, document jsonb not null,"
              + " document_sha256 text not null, document_text text)");
      for (String[] report :
          List.of(
              new String[] {"beta-campaign", "\"beta\"", "gone-verdict", "BETA-TEXT"},
              new String[] {"acme-campaign", "\"acme\"", acme().verdictId(), "ACME-TEXT"},
              new String[] {"no-tenant", "null", "unknown-verdict", "UNKNOWN-TEXT"},
              new String[] {
                "beta-campaign-acme-row", "\"beta\"", acme().verdictId(), "ACME-IN-BETA"
              })) {
        String document =
            "{\"campaign\":{\"tenant\":"
                + report[1]
                + "},\"rows\":["
                + jsonRow(report[2], report[3])
                + "]}";
        statement.execute(
            "insert into bias_audit.report values ('"
                + report[0]
                + "', '"
                + document
                + "'::jsonb, 'x', '"
                + document
                + "')");
      }
    }

    eraseAcmesSubject();

    // A report of beta's campaign stored before 2026-12-05 may hold acme's row (bias-audit then
    // matched verdicts by request id alone): it loses its text (fails without the fix).
    assertThat(biasAuditDocument("beta-campaign-acme-row")).doesNotContain("ACME-IN-BETA");
    // A row whose verdict the store does not know cannot be told from the erased tenant's.
    assertThat(biasAuditDocument("beta-campaign")).doesNotContain("BETA-TEXT");
    assertThat(biasAuditDocument("acme-campaign")).doesNotContain("ACME-TEXT");
    assertThat(biasAuditDocument("no-tenant")).doesNotContain("UNKNOWN-TEXT");
  }

  /**
   * Review decisions of both tenants waiting in the outbox when acme's subject is erased: acme's
   * goes, beta's stays to be sent. The erasure deleted every decision under the request id (fails
   * without the fix).
   */
  @Test
  void shouldDropOnlyTheErasedTenantsPendingReviewDecisions() throws Exception {
    enqueueDecision("acme", acme().outputId(), acme().verdictId());
    enqueueDecision("beta", BETA_OUTPUT, BETA_VERDICT);

    eraseAcmesSubject();

    assertThat(decisionsInOutbox()).containsExactly("beta");
  }

  /**
   * Decisions committed after acme's subject erasure (made on what the reviewers read before it):
   * the outbox publisher drops acme's and sends beta's. It dropped every decision of a request id
   * with an erasure on record, whichever tenant's (fails without the fix).
   */
  @Test
  void shouldSendAnotherTenantsDecisionOfARequestIdWhoseSubjectWasErased() throws Exception {
    eraseAcmesSubject();
    enqueueDecision("acme", acme().outputId(), acme().verdictId());
    enqueueDecision("beta", BETA_OUTPUT, BETA_VERDICT);
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);

    try (ReviewOutbox outbox =
        new ReviewOutbox(
            database.dataSource(),
            infra.kafkaClientProperties(),
            Clock.systemUTC(),
            Duration.ofSeconds(1))) {
      outbox.publishPending();
    }

    assertThat(decisionsInOutbox()).as("acme's is dropped").containsExactly("beta");
    assertThat(
            count(
                "select count(*) from review_outbox where topic = 'review.decisions'"
                    + " and published_at is not null"))
        .as("beta's was sent")
        .isEqualTo(1);
  }

  /**
   * Two tenants' erasure notes of one request id (one per scope since V39) and a third tenant's
   * decision: sent once. The publisher joined the notes, one row each, so it sent the decision once
   * per note (and a decision of one noted tenant was sent on the row of the other's note, had the
   * erasure come between its two statements).
   */
  @Test
  void shouldSendADecisionOnceWhateverTheNumberOfTheRequestsErasureNotes() throws Exception {
    eraseAcmesSubject();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "insert into request_erasure (request_id, tenant_id, erased_at) values ('"
              + REQUEST
              + "', 'gamma', now())");
    }
    enqueueDecision("beta", BETA_OUTPUT, BETA_VERDICT);
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);

    try (ReviewOutbox outbox =
        new ReviewOutbox(
            database.dataSource(),
            infra.kafkaClientProperties(),
            Clock.systemUTC(),
            Duration.ofSeconds(1))) {
      // Beta's decision and the erasure's notice to the gate: each looked at and sent once.
      long pending = count("select count(*) from review_outbox where published_at is null");
      assertThat(outbox.publishPending()).as("each row looked at once").isEqualTo(pending);
      assertThat(outbox.publishedCount()).as("each sent once").isEqualTo(pending);
    }
  }

  private void enqueueDecision(String tenant, String outputId, String verdictId) throws Exception {
    String reviewId = EventIds.nameBased("review", REQUEST, tenant);
    ReviewDecision decision =
        ReviewDecision.newBuilder()
            .setEventId(EventIds.nameBased("review-decision", reviewId))
            .setReviewId(reviewId)
            .setRequestId(REQUEST)
            .setOutputId(outputId)
            .setTenantId(tenant)
            .setAction(ReviewAction.APPROVE)
            .setReviewer("rita")
            .setNote("")
            .setDecidedAt(NOW)
            .setVerdictId(verdictId)
            .build();
    Transactions.inTransaction(
        database.dataSource(),
        connection -> {
          ReviewOutbox.enqueue(
              connection, reviewId, REQUEST, Topics.REVIEW_DECISIONS, decision, NOW);
          return null;
        });
  }

  /** The tenants of the review decisions in the outbox, in tenant order. */
  private List<String> decisionsInOutbox() throws Exception {
    List<String> tenants = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload from review_outbox where topic = 'review.decisions'")) {
      while (rs.next()) {
        tenants.add(Topics.REVIEW_DECISIONS.codec().decode(rs.getBytes(1)).getTenantId());
      }
    }
    tenants.sort(null);
    return tenants;
  }

  /**
   * A report whose rows are, as bias-audit writes them, acme's (when {@code withAcme}) and beta's
   * sample under the shared request id, each with its verdict id and text.
   */
  private void saveReport(String reportId, String tenant, boolean withAcme) throws Exception {
    StringBuilder html = new StringBuilder("<html><h2>Rows</h2><table>");
    StringBuilder rows = new StringBuilder();
    if (withAcme) {
      html.append(htmlRow(0, acme().verdictId(), "ACME-TEXT"));
      rows.append(jsonRow(acme().verdictId(), "ACME-TEXT")).append(',');
    }
    html.append(htmlRow(1, BETA_VERDICT, "BETA-TEXT")).append("</table></html>");
    rows.append(jsonRow(BETA_VERDICT, "BETA-TEXT"));
    JsonNode body =
        new ObjectMapper()
            .readTree(
                "{\"groups\":[{\"group\":\"A\",\"n\":2,\"unsafeRate\":0.5}],\"rows\":["
                    + rows
                    + "]}");
    new BiasReports(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
        .save(
            new BiasReports.NewReport(
                reportId,
                null,
                tenant,
                "Report " + reportId,
                "CAMPAIGN",
                null,
                null,
                null,
                null,
                body,
                "group,n,unsafeRate\nA,2,0.5\n",
                html.toString()),
            ADMIN);
  }

  /** Gamma's output and verdict ({@link #GAMMA_VERDICT}) under the shared request id. */
  private void writeGammasOutputUnderTheRequestId() throws Exception {
    writeOutputUnderTheRequestId(
        Scenario.of(REQUEST, "gamma", Decision.REVIEW, RECENTLY.plusSeconds(9))
            .withText("Gamma's own output."),
        EventIds.nameBased("output", REQUEST, "gamma"),
        GAMMA_VERDICT);
  }

  /**
   * The scenario tenant's output and verdict under the shared request id, with the ids given (the
   * event ids named after the request and tenant).
   */
  private void writeOutputUnderTheRequestId(Scenario scenario, String outputId, String verdictId)
      throws Exception {
    new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
        .write(
            List.of(
                AuditEvents.incoming(
                    Topics.GENERATION_OUTPUTS.name(),
                    GenerationOutput.newBuilder(AuditEvents.output(scenario))
                        .setEventId(
                            EventIds.nameBased("output-event", REQUEST, scenario.tenantId()))
                        .setOutputId(outputId)
                        .build()),
                AuditEvents.incoming(
                    Topics.MODERATION_VERDICTS.name(),
                    ModerationVerdict.newBuilder(AuditEvents.verdict(scenario))
                        .setEventId(
                            EventIds.nameBased("verdict-event", REQUEST, scenario.tenantId()))
                        .setVerdictId(verdictId)
                        .setOutputId(outputId)
                        .build())));
  }

  /**
   * A report of the rows given ({verdict id, text}) under the shared request id; its HTML rows
   * carry their whole verdict ids when {@code wholeIds} (as bias-audit writes them since the
   * fifty-second session), else only the shortened verdict cell (as it wrote them before).
   */
  private void saveRows(String reportId, String tenant, boolean wholeIds, List<String[]> rows)
      throws Exception {
    StringBuilder html = new StringBuilder("<html><h2>Rows</h2><table>");
    StringBuilder json = new StringBuilder();
    for (int i = 0; i < rows.size(); i++) {
      String row = htmlRow(i, rows.get(i)[0], rows.get(i)[1]);
      html.append(
          wholeIds
              ? row.replaceFirst(
                  "\">", "\" data-verdict=\"" + rows.get(i)[0].replace("&", "&amp;") + "\">")
              : row);
      json.append(i == 0 ? "" : ",").append(jsonRow(rows.get(i)[0], rows.get(i)[1]));
    }
    html.append("</table></html>");
    new BiasReports(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
        .save(
            new BiasReports.NewReport(
                reportId,
                null,
                tenant,
                "Report " + reportId,
                "CAMPAIGN",
                null,
                null,
                null,
                null,
                new ObjectMapper()
                    .readTree(
                        "{\"groups\":[{\"group\":\"A\",\"n\":2,\"unsafeRate\":0.5}],\"rows\":["
                            + json
                            + "]}"),
                "group,n,unsafeRate\nA,2,0.5\n",
                html.toString()),
            ADMIN);
  }

  private String biasAuditDocument(String reportId) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select document_text || document::text from bias_audit.report"
                    + " where report_id = ?")) {
      query.setString(1, reportId);
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private static String jsonRow(String verdictId, String text) {
    return "{\"requestId\":\""
        + REQUEST
        + "\",\"verdictId\":\""
        + verdictId
        + "\",\"unsafeScore\":0.5,\"text\":\""
        + text
        + "\"}";
  }

  /** A row as bias-audit's HtmlReportWriter writes it: its verdict id cut to 13 characters. */
  private static String htmlRow(int index, String verdictId, String text) {
    return "<tr id=\"r-"
        + REQUEST
        + "\"><td>"
        + index
        + "</td><td><code>"
        + REQUEST
        + "</code></td><td><code>"
        + verdictId.substring(0, 13)
        + "\u2026</code></td><td>REVIEW</td><td>0.500</td><td>hate</td><td>term</td><td>"
        + text
        + "</td></tr>";
  }

  private String body(String reportId, String format) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select string_agg(body, '' order by piece) from bias_report_piece"
                    + " where report_id = ? and format = ?")) {
      query.setString(1, reportId);
      query.setString(2, format);
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private long count(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
