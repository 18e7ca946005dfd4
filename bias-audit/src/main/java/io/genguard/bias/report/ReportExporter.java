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
    switch (format) {
      case JSON -> JSON.writeValue(nonClosing(out), report);
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

  private static OutputStream nonClosing(OutputStream out) {
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }
}
