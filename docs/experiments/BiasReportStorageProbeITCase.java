// Experiment (forty-second session): what storing, serving and retention of the largest bias report
// cost (64 Mi characters of HTML, 50,000 JSON rows of which 2,000 keep a 400-character text, as
// bias-audit's ReportBuilder writes them), on the real embedded PostgreSQL: wall time and the bytes
// this thread allocated (com.sun.management.ThreadMXBean), and how long each 1 Mi-character piece
// of a served body takes, first and last, to show whether PostgreSQL reads the text up to each
// piece again. Its first version (before migration V30) read one piece alone with
// substr(body_html, from, 1048576) from bias_report; this one reads the row of that piece from
// bias_report_piece. To rerun, copy it into audit-service/src/test/java/io/genguard/audit/bias/ and run
// mvn -B -o verify -pl audit-service -am -Dspotless.check.skip=true -Dtest=none
// -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=BiasReportStorageProbeITCase
// -Dfailsafe.failIfNoSpecifiedTests=false
// and read the lines starting with PROBE.
package io.genguard.audit.bias;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BiasReportStorageProbeITCase {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final String TEXT =
      "Les voisins de la résidence ont organisé une fête 🎉 pour tout le quartier, et ";

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @Test
  void probe() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase("bias_storage_probe"), infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      Caller caller = Caller.system("probe");
      String text = (TEXT.repeat(6)).substring(0, 400);
      ObjectNode body = new ObjectMapper().createObjectNode();
      body.putArray("groups").addObject().put("group", "A").put("n", 50_000);
      ArrayNode rows = body.putArray("rows");
      StringBuilder csv = new StringBuilder("sample,group,requestId,unsafeScore\n");
      for (int i = 0; i < 50_000; i++) {
        ObjectNode row =
            rows.addObject()
                .put("sampleIndex", i)
                .put("group", "A")
                .put("requestId", "req-" + i)
                .put("verdictId", "verdict-" + i)
                .put("decision", "RELEASE")
                .put("unsafeScore", 0.125);
        if (i < 2_000) {
          row.put("text", text);
        } else {
          row.putNull("text");
        }
        csv.append(i).append(",A,req-").append(i).append(",0.125\n");
      }
      StringBuilder html = new StringBuilder(BiasReports.MAX_BODY_CHARS);
      html.append("<html><table>");
      for (int i = 0; html.length() < BiasReports.MAX_BODY_CHARS - 2_000; i++) {
        html.append("<tr id=\"r-req-")
            .append(i)
            .append("\"><td>")
            .append(i)
            .append("</td><td>term</td><td>")
            .append(text)
            .append("</td></tr>");
      }
      html.append("</table></html>");
      String htmlText = html.toString();
      html = null;
      BiasReports reports =
          new BiasReports(
              database.dataSource(), Clock.fixed(NOW.minus(Duration.ofDays(2)), ZoneOffset.UTC));
      System.gc();
      long allocated = THREADS.getCurrentThreadAllocatedBytes();
      long started = System.nanoTime();
      reports.save(
          new BiasReports.NewReport(
              "big", null, "acme", "Big", "CAMPAIGN", null, null, null, null, body,
              csv.toString(), htmlText),
          caller);
      System.out.printf(
          "PROBE save: HTML %,d chars, %d ms, %,d bytes allocated by this thread%n",
          htmlText.length(),
          (System.nanoTime() - started) / 1_000_000,
          THREADS.getCurrentThreadAllocatedBytes() - allocated);
      body = null;
      htmlText = null;
      for (BiasReports.Format format : List.of(BiasReports.Format.HTML, BiasReports.Format.JSON)) {
        serve(reports, format, caller);
      }
      try (Connection connection = database.dataSource().getConnection();
          PreparedStatement query =
              connection.prepareStatement(
                  "select length(body) from bias_report_piece where format = 'HTML' and piece = (? - 1) / 1048576"
                      + " and report_id = 'big'")) {
        for (int from : new int[] {1, 32 * 1048576 + 1, 63 * 1048576 + 1}) {
          long t = System.nanoTime();
          query.setInt(1, from);
          try (ResultSet rs = query.executeQuery()) {
            rs.next();
          }
          System.out.printf(
              "PROBE the HTML piece from character %,d alone: %d ms%n",
              from, (System.nanoTime() - t) / 1_000_000);
        }
      }
      allocated = THREADS.getCurrentThreadAllocatedBytes();
      started = System.nanoTime();
      Retention.Run run =
          new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 1).run(caller);
      System.out.printf(
          "PROBE retention removed the texts of %s: %d ms, %,d bytes allocated by this thread%n",
          run.biasReports(),
          (System.nanoTime() - started) / 1_000_000,
          THREADS.getCurrentThreadAllocatedBytes() - allocated);
    }
  }

  private static void serve(BiasReports reports, BiasReports.Format format, Caller caller)
      throws Exception {
    List<Long> pieceMillis = new ArrayList<>();
    long[] last = {System.nanoTime()};
    long[] chars = {0};
    Writer timed =
        new Writer() {
          @Override
          public void write(char[] buffer, int offset, int length) {
            chars[0] += length;
          }

          @Override
          public void write(String piece) {
            long t = System.nanoTime();
            pieceMillis.add((t - last[0]) / 1_000_000);
            last[0] = t;
            chars[0] += piece.length();
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    long allocated = THREADS.getCurrentThreadAllocatedBytes();
    long started = System.nanoTime();
    last[0] = started;
    reports.open("big", format, caller).writeTo(timed);
    System.out.printf(
        "PROBE serve %s: %,d chars in %d pieces, %d ms (first piece %d ms, middle %d ms, last %d"
            + " ms), %,d bytes allocated by this thread%n",
        format,
        chars[0],
        pieceMillis.size(),
        (System.nanoTime() - started) / 1_000_000,
        pieceMillis.get(0),
        pieceMillis.get(pieceMillis.size() / 2),
        pieceMillis.get(pieceMillis.size() - 1),
        THREADS.getCurrentThreadAllocatedBytes() - allocated);
  }
}
