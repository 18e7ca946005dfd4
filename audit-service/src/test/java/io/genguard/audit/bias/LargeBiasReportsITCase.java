package io.genguard.audit.bias;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bias reports far larger than what the service reads from the database at a time ({@link
 * BiasReports#SERVE_CHUNK_CHARS}): served whole and exactly as stored, and written as they are
 * read, so that the heap does not hold a whole report while a client reads it (before the fortieth
 * session, opening a report in the UI read all of it into the heap first).
 */
class LargeBiasReportsITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-20T00:00:00Z");

  /**
   * A sample's text: accented letters and an emoji (two Java chars, one PostgreSQL character), so
   * that the pieces the service reads cut through them somewhere.
   */
  private static final String SAMPLE_TEXT =
      "Les voisins musulmans de la résidence ont organisé une fête 🎉 pour tout le quartier. ";

  private static RunningAuditService audit;
  private static String compliance;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("large_bias_reports_it");
    compliance = audit.token(Role.COMPLIANCE, null, "carl");
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  /**
   * A report whose JSON body has {@code samples} samples of about 2 KiB each, and a CSV of them.
   */
  private static String store(String title, int samples) throws Exception {
    ObjectNode body = JSON.createObjectNode();
    body.put("method", "counterfactual templates, Wilson intervals");
    body.putArray("groups")
        .addObject()
        .put("group", "religion:muslim")
        .put("n", samples)
        .put("unsafeRate", 0.1);
    ArrayNode rows = body.putArray("samples");
    StringBuilder csv = new StringBuilder("sample,group,text\n");
    String text = SAMPLE_TEXT.repeat(24);
    for (int i = 0; i < samples; i++) {
      rows.addObject().put("sample", i).put("group", "religion:muslim").put("text", text + i);
      csv.append(i).append(",religion:muslim,\"").append(text).append(i).append("\"\n");
    }
    return audit
        .service()
        .biasReports()
        .save(
            new BiasReports.NewReport(
                null,
                null,
                null,
                title,
                "CAMPAIGN",
                "builtin-kn",
                T0,
                T0.plusSeconds(3600),
                JSON.createObjectNode().put("maxGap", 0.06),
                body,
                csv.toString(),
                "<html><body>" + title + "</body></html>"),
            Caller.system("bias-audit"));
  }

  @Test
  void shouldServeALargeReportWholeAndExactlyAsItWasStored() throws Exception {
    // About 10 MiB of JSON and of CSV: ten pieces each.
    String reportId = store("Ten pieces", 5_000);

    for (String format : List.of("json", "csv")) {
      HttpResponse<String> answer =
          audit.get("/api/v1/bias/reports/" + reportId + "?format=" + format, compliance);
      assertThat(answer.statusCode()).isEqualTo(200);
      assertThat(answer.body().length()).isGreaterThan(4 * BiasReports.SERVE_CHUNK_CHARS);
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'bias_report.create'"
                      + " and target = '"
                      + reportId
                      + "' and details ->> '"
                      + format
                      + "Sha256' = '"
                      + BiasReports.sha256(answer.body())
                      + "'"))
          .as("the %s served hashes to the digest the chain recorded", format)
          .isEqualTo(1);
    }

    // What the UI opens: the metadata and the report.
    JsonNode opened = json(audit.get("/api/v1/bias/reports/" + reportId, compliance));
    assertThat(opened.path("reportId").asText()).isEqualTo(reportId);
    assertThat(opened.path("title").asText()).isEqualTo("Ten pieces");
    assertThat(opened.path("summary").path("maxGap").asDouble()).isEqualTo(0.06);
    assertThat(opened.path("createdBy").asText()).isEqualTo("bias-audit");
    JsonNode stored =
        JSON.readTree(
            audit.get("/api/v1/bias/reports/" + reportId + "?format=json", compliance).body());
    assertThat(opened.path("report")).isEqualTo(stored);
    assertThat(opened.path("report").path("samples")).hasSize(5_000);
    assertThat(opened.path("report").path("samples").get(4_999).path("text").asText())
        .isEqualTo(SAMPLE_TEXT.repeat(24) + 4_999);
    assertThat(CanonicalJson.write(opened.path("report"))).isEqualTo(CanonicalJson.write(stored));

    assertThat(audit.get("/api/v1/bias/reports/no-such-report", compliance).statusCode())
        .isEqualTo(404);
  }

  /**
   * The report the UI opens is sent as it is read: the answer begins before the service has read
   * the whole report. The client reads the start of a 40 MiB report and stops; the report is then
   * removed from the database; what the service had not read by then never comes, and the answer is
   * cut off rather than ended as if it were whole. A service that read the report whole before
   * answering sends all of it.
   */
  @Test
  void shouldSendALargeReportAsItReadsItNotAfterReadingItWhole() throws Exception {
    String reportId = store("Forty MiB", 20_000);
    long stored =
        audit.count(
            "select sum(octet_length(body))::bigint from bias_report_piece where report_id = '"
                + reportId
                + "' and format = 'JSON'");
    assertThat(stored).isGreaterThan(36L * 1024 * 1024);
    String token = compliance;
    int port = URI.create(audit.baseUrl()).getPort();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /api/v1/bias/reports/"
                  + reportId
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                  + token
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream start = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      while (start.size() < 64 * 1024) {
        int read = in.read(buffer);
        assertThat(read).as("the answer's first 64 KiB").isPositive();
        start.write(buffer, 0, read);
      }
      String head = start.toString(StandardCharsets.ISO_8859_1);
      assertThat(head).startsWith("HTTP/1.1 200");
      assertThat(head).contains("\"reportId\":\"" + reportId + "\"");

      audit.execute("delete from bias_report where report_id = '" + reportId + "'");

      long received = start.size();
      byte[] last = new byte[0]; // the answer's last 16 bytes
      try {
        int read;
        while ((read = in.read(buffer)) > 0) {
          received += read;
          byte[] joined = Arrays.copyOf(last, last.length + read);
          System.arraycopy(buffer, 0, joined, last.length, read);
          last = Arrays.copyOfRange(joined, Math.max(0, joined.length - 16), joined.length);
        }
      } catch (SocketTimeoutException | SocketException e) {
        // cut off: as good as the end of the stream here
      }
      String tail = new String(last, StandardCharsets.ISO_8859_1);
      assertThat(received)
          .as("bytes of a %d-byte report sent after it was removed part-way", stored)
          .isLessThan(stored / 2);
      assertThat(tail)
          .as("a cut answer does not end as a whole chunked one does")
          .doesNotEndWith("0\r\n\r\n");
    }
  }
}
