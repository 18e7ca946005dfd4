package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Retention reaches the stored bias reports: a report older than its tenant's period (the default
 * for a report of no tenant) loses the output texts of its rows, with its new digests in the chain,
 * and keeps its figures, ids and scores.
 */
class BiasReportRetentionITCase {
  private static final Instant LONG_AGO = Instant.parse("2026-01-10T09:00:00Z");
  private static final Instant RECENTLY = Instant.parse("2026-11-20T09:00:00Z");
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);
  private static final String CSV = "group,n,unsafeRate\nA,2,0.5\n";

  private AuditDatabase database;

  @BeforeEach
  void reportsOfTwoTenantsAndOfNone(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("report_retention_", test),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2);
    save("acme-old", "acme", LONG_AGO);
    save("acme-new", "acme", RECENTLY);
    save("globex-old", "globex", LONG_AGO);
    save("live-old", null, LONG_AGO);
  }

  @AfterEach
  void close() {
    database.close();
  }

  private Retention retention(int defaultDays) {
    return new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), defaultDays, 3);
  }

  /** A report of two rows whose texts name the report, stored at {@code at}. */
  private void save(String reportId, String tenant, Instant at) throws Exception {
    String html =
        "<html><h2>Rows</h2><table><tr id=\"r-"
            + reportId
            + "-1\"><td>0</td><td><code>"
            + reportId
            + "-1</code></td><td>term</td><td>TEXT-"
            + reportId
            + "-1 &lt;b&gt;</td></tr><tr id=\"r-"
            + reportId
            + "-2\" class=\"unsafe\"><td>1</td><td><code>"
            + reportId
            + "-2</code></td><td>term</td><td>TEXT-"
            + reportId
            + "-2</td></tr><tr id=\"r-"
            + reportId
            + "-3\"><td>2</td><td><code>"
            + reportId
            + "-3</code></td><td>term</td><td class=\"note\">not kept</td></tr></table></html>";
    JsonNode body =
        new ObjectMapper()
            .readTree(
                "{\"groups\":[{\"group\":\"A\",\"n\":3,\"unsafeRate\":0.5}],\"rows\":["
                    + "{\"requestId\":\""
                    + reportId
                    + "-1\",\"unsafeScore\":0.125,\"text\":\"TEXT-"
                    + reportId
                    + "-1 <b>\"},{\"requestId\":\""
                    + reportId
                    + "-2\",\"unsafeScore\":0.75,\"text\":\"TEXT-"
                    + reportId
                    + "-2\"},{\"requestId\":\""
                    + reportId
                    + "-3\",\"unsafeScore\":0.25,\"text\":null}]}");
    new BiasReports(database.dataSource(), Clock.fixed(at, ZoneOffset.UTC))
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
                CSV,
                html),
            ADMIN);
  }

  @Test
  void shouldRemoveTheTextsOfReportsOlderThanTheirTenantsPeriodAndRecordTheirNewDigests()
      throws Exception {
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);

    retention.apply(ADMIN);

    assertPruned("acme-old");
    for (String kept : List.of("acme-new", "globex-old", "live-old")) {
      assertKept(kept);
    }
    String details =
        text(
            "select details::text from api_action where action = 'bias_report.redact'"
                + " and target = 'acme-old'");
    JsonNode recorded = new ObjectMapper().readTree(details);
    assertThat(recorded.path("retention").path("scope").asText()).isEqualTo("TENANT");
    assertThat(recorded.path("retention").path("tenantId").asText()).isEqualTo("acme");
    assertThat(recorded.path("retention").path("retentionDays").asInt()).isEqualTo(30);
    assertThat(recorded.path("textsRemoved").asInt()).isEqualTo(2);
    // The report as it is now is the one the chain's last digests describe, as served.
    StringWriter served = new StringWriter();
    new BiasReports(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .open("acme-old", BiasReports.Format.JSON, ADMIN)
        .writeTo(served);
    assertThat(recorded.path("jsonSha256").asText()).isEqualTo(sha256(served.toString()));
    assertThat(recorded.path("htmlSha256").asText()).isEqualTo(sha256(body("acme-old", "HTML")));
    assertThat(recorded.path("csvSha256").asText()).isEqualTo(sha256(CSV));
    assertThat(
            text(
                "select tenant_id from audit_log where event_type = 'ApiAction'"
                    + " and payload::jsonb ->> 'action' = 'bias_report.redact'"))
        .as("the action is the report's tenant's")
        .isEqualTo("acme");

    // The default reaches the reports of no tenant and of tenants without a period of their own;
    // a tenant's own longer period keeps its reports from it.
    retention.set("globex", 365, ADMIN);
    retention(100).apply(ADMIN);

    assertPruned("live-old");
    assertKept("globex-old");
    assertKept("acme-new");
    assertThat(
            text(
                "select details -> 'retention' ->> 'scope' from api_action"
                    + " where action = 'bias_report.redact' and target = 'live-old'"))
        .isEqualTo("DEFAULT");
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();

    retention(100).apply(ADMIN);
    assertThat(count("select count(*) from api_action where action = 'bias_report.redact'"))
        .as("a later run records nothing more")
        .isEqualTo(2);
  }

  @Test
  void shouldAnswerAndCountThePrunedReportsAndGoOnPastOneItCannotChange() throws Exception {
    Retention retention = retention(100);
    // A body that does not parse any more: that report is left for the next run, the others go.
    execute(
        "update bias_report_piece set body = '{broken' where report_id = 'globex-old'"
            + " and format = 'JSON'");

    Retention.Run run = retention.run(ADMIN);

    assertThat(run.biasReports())
        .extracting(Retention.ReportPruned::reportId)
        .containsExactly("acme-old", "live-old");
    assertThat(run.biasReports())
        .allSatisfy(
            pruned -> {
              assertThat(pruned.scope()).isEqualTo("DEFAULT");
              assertThat(pruned.textsRemoved()).isEqualTo(2);
              assertThat(pruned.cutoff()).isEqualTo(Instant.parse("2026-08-17T10:00:00Z"));
            });
    assertThat(retention.biasReportsPruned()).isEqualTo(2);
    assertPruned("acme-old");
    assertPruned("live-old");
    assertKept("acme-new");
    assertThat(body("globex-old", "HTML")).contains("TEXT-globex-old-1");
    assertThat(
            count(
                "select count(*) from bias_report where texts_removed_at is not null"
                    + " and report_id in ('acme-old', 'live-old')"))
        .as("passed by from now on")
        .isEqualTo(2);

    execute(
        "update bias_report_piece set body = (select body_json::text from bias_report"
            + " where report_id = 'globex-old') where report_id = 'globex-old' and format = 'JSON'");
    assertThat(retention.run(ADMIN).biasReports())
        .extracting(Retention.ReportPruned::reportId)
        .containsExactly("globex-old");
    assertThat(retention.biasReportsPruned()).isEqualTo(3);
    assertThat(retention.run(ADMIN).biasReports()).isEmpty();
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  private void assertPruned(String reportId) throws Exception {
    String where = " from bias_report where report_id = '" + reportId + "'";
    for (String stored :
        List.of(
            body(reportId, "JSON"),
            text("select body_json::text" + where),
            body(reportId, "HTML"))) {
      assertThat(stored)
          .as("%s keeps no text", reportId)
          .doesNotContain("TEXT-")
          .contains(reportId + "-1", reportId + "-2", reportId + "-3");
    }
    assertThat(body(reportId, "JSON")).contains("\"unsafeScore\":0.75", "\"unsafeRate\":0.5");
    assertThat(body(reportId, "HTML"))
        .contains(
            "<td>term</td><td class=\"note\">past retention</td></tr>",
            "<td>term</td><td class=\"note\">not kept</td></tr>");
    assertThat(body(reportId, "CSV")).isEqualTo(CSV);
  }

  private void assertKept(String reportId) throws Exception {
    assertThat(body(reportId, "JSON"))
        .as("%s keeps its texts", reportId)
        .contains("TEXT-" + reportId + "-1", "TEXT-" + reportId + "-2");
    assertThat(body(reportId, "HTML"))
        .contains("TEXT-" + reportId + "-1", "TEXT-" + reportId + "-2");
  }

  /** A stored body, whole. */
  private String body(String reportId, String format) throws Exception {
    return text(
        "select string_agg(body, '' order by piece) from bias_report_piece where report_id = '"
            + reportId
            + "' and format = '"
            + format
            + "'");
  }

  private static String sha256(String text) throws Exception {
    return HexFormat.of()
        .formatHex(
            MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  private void execute(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private String text(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private long count(String sql) throws Exception {
    return TestSql.count(database.dataSource(), sql);
  }
}
