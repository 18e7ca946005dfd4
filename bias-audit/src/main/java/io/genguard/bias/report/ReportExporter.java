package io.genguard.bias.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Writes a report as JSON (the persisted document), CSV (figures and tests) or HTML. */
public final class ReportExporter {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ReportExporter() {}

  public static void write(BiasReport report, ReportFormat format, OutputStream out)
      throws IOException {
    // JSON: the text toJson writes (what is stored and hashed) as UTF-8. Jackson's own UTF-8 writer
    // would write every character beyond the BMP (an emoji) as two escapes of its UTF-16 halves, so
    // the export would not hash to the stored document's digest.
    switch (format) {
      case JSON -> out.write(toJson(report).getBytes(StandardCharsets.UTF_8));
      case CSV -> out.write(CsvReportWriter.write(report).getBytes(StandardCharsets.UTF_8));
      case HTML -> out.write(HtmlReportWriter.write(report).getBytes(StandardCharsets.UTF_8));
    }
  }

  public static byte[] toBytes(BiasReport report, ReportFormat format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(report, format, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The JSON document (what PostgreSQL stores). */
  public static String toJson(BiasReport report) {
    try {
      return JSON.writeValueAsString(report);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write report " + report.reportId() + " as JSON", e);
    }
  }

  public static BiasReport fromJson(String json) {
    try {
      return JSON.readValue(json, BiasReport.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Stored report is not a readable report document", e);
    }
  }
}
