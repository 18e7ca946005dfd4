package io.genguard.audit.bias;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.Migrations;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * A bias report's bodies are stored in pieces of {@link ReportBodies#PIECE_CHARS} characters, each
 * read by its key when the report is served (before migration V30, each served piece made
 * PostgreSQL decompress and count the whole text up to it: 151 s for a 64 Mi-character report).
 */
class BiasReportPiecesITCase {
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);
  private static final int PIECE = ReportBodies.PIECE_CHARS;

  /** An HTML body of 2.5 pieces whose first piece ends with an emoji (two Java chars). */
  private static String html() {
    StringBuilder html = new StringBuilder("<html>");
    while (html.codePointCount(0, html.length()) < PIECE - 1) {
      html.append('x');
    }
    // Code point PIECE - 1 (the last of the first piece) is an emoji: two Java chars, one
    // character.
    html.append("🎉").append("é".repeat(PIECE)).append("a".repeat(PIECE / 2)).append("</html>");
    return html.toString();
  }

  @Test
  void shouldStoreEachBodyInPiecesOfOneMiCharactersAndServeThemExactly() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("bias_report_pieces_it");
    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      BiasReports reports =
          new BiasReports(
              database.dataSource(),
              Clock.fixed(Instant.parse("2026-12-06T10:00:00Z"), ZoneOffset.UTC));
      String html = html();
      ObjectNode body = new ObjectMapper().createObjectNode();
      body.putArray("rows").addObject().put("requestId", "req-1").put("text", "é🎉");
      reports.save(
          new BiasReports.NewReport(
              "r-1", null, "acme", "Report", "CAMPAIGN", null, null, null, null, body, "", html),
          ADMIN);

      assertThat(
              Migrations.rows(
                  url,
                  infra,
                  "select format, piece, char_length(body) from bias_report_piece"
                      + " where report_id = 'r-1' order by format, piece"))
          .containsExactly(
              "CSV 0 0",
              "HTML 0 " + PIECE,
              "HTML 1 " + PIECE,
              "HTML 2 " + (html.codePointCount(0, html.length()) - 2 * PIECE),
              "JSON 0 "
                  + CanonicalJson.write(body)
                      .codePointCount(0, CanonicalJson.write(body).length()));
      assertThat(
              Migrations.rows(
                  url,
                  infra,
                  "select right(body, 1) from bias_report_piece where report_id = 'r-1'"
                      + " and format = 'HTML' and piece = 0"))
          .as("the emoji is whole in the first piece")
          .containsExactly("🎉");
      assertThat(
              Migrations.rows(
                  url,
                  infra,
                  "select body_json_text is null and body_html is null and body_csv is null,"
                      + " body_json -> 'rows' -> 0 ->> 'text' from bias_report"))
          .as("no body is kept whole; the jsonb copy is made from the pieces")
          .containsExactly("t é🎉");
      StringWriter served = new StringWriter();
      BiasReports.Body opened = reports.open("r-1", BiasReports.Format.HTML, ADMIN);
      assertThat(opened.characters()).isEqualTo(html.codePointCount(0, html.length()));
      opened.writeTo(served);
      assertThat(served.toString()).isEqualTo(html);
      StringWriter csv = new StringWriter();
      reports.open("r-1", BiasReports.Format.CSV, ADMIN).writeTo(csv);
      assertThat(csv.toString()).isEmpty();
    }
  }

  @Test
  void shouldMoveTheBodiesOfReportsStoredBeforeV30IntoPieces() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("bias_report_pieces_migration_it");
    Migrations.migrate(url, infra, "29");
    String row =
        "insert into bias_report (report_id, tenant_id, title, kind, summary, body_json,"
            + " body_json_text, body_csv, body_html, created_at, created_by) values ";
    Migrations.execute(
        url,
        infra,
        row
            + "('big', 'acme', 'Big', 'CAMPAIGN', '{}', '{\"rows\":[]}', '{\"rows\":[]}',"
            + " 'a,b\n', '<p>' || repeat('é🎉x', 1000000) || '</p>', now(), 'ada')",
        // Stored before V25: no JSON text, served from the jsonb.
        row
            + "('old', null, 'Old', 'LIVE', '{}', '{\"groups\": [1, 2]}', null, '', '', now(),"
            + " 'ada')");

    Migrations.migrate(url, infra, "latest");

    assertThat(
            Migrations.rows(
                url,
                infra,
                "select report_id, format, count(*), max(char_length(body)),"
                    + " sum(char_length(body)) from bias_report_piece group by 1, 2 order by 1, 2"))
        .containsExactly(
            "big CSV 1 4 4",
            "big HTML 3 " + PIECE + " 3000007",
            "big JSON 1 11 11",
            "old CSV 1 0 0",
            "old HTML 1 0 0",
            "old JSON 1 18 18");
    assertThat(
            Migrations.rows(
                url,
                infra,
                "select report_id, body_json_text is null and body_csv is null"
                    + " and body_html is null from bias_report order by 1"))
        .containsExactly("big t", "old t");
    try (AuditDatabase database =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      BiasReports reports = new BiasReports(database.dataSource(), Clock.systemUTC());
      StringWriter html = new StringWriter();
      reports.open("big", BiasReports.Format.HTML, ADMIN).writeTo(html);
      assertThat(html.toString()).isEqualTo("<p>" + "é🎉x".repeat(1_000_000) + "</p>");
      StringWriter json = new StringWriter();
      reports.open("old", BiasReports.Format.JSON, ADMIN).writeTo(json);
      assertThat(json.toString()).isEqualTo("{\"groups\": [1, 2]}");
    }
  }
}
