package io.genguard.audit.query;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes search results as CSV (RFC 4180, UTF-8) or JSON, one row at a time. CSV cells that a
 * spreadsheet would run as a formula (starting with = + - @ or a control character) are prefixed
 * with an apostrophe: exported model output is untrusted text.
 */
public final class OutputExport {
  /** Column order of the CSV export. */
  public static final List<String> CSV_COLUMNS =
      List.of(
          "requestId",
          "outputId",
          "tenantId",
          "decision",
          "outcome",
          "unsafeScore",
          "categoryScores",
          "reasonCodes",
          "groups",
          "policyId",
          "policyVersion",
          "model",
          "decidedAt",
          "text",
          // Added last, each in its turn, so that what reads the columns before by position still
          // does: retractedAt (the thirty-second session), eventIdConflict (the forty-seventh),
          // eventIdConflictUnexplained (the fiftieth).
          "retractedAt",
          "eventIdConflict",
          "eventIdConflictUnexplained");

  private OutputExport() {}

  /** A sink that writes rows, and what to call once all rows are written. */
  public interface Writing extends OutputSearch.RowSink {
    /** Finishes the document; {@code truncated} says the export limit was reached. */
    void finish(long rows, boolean truncated) throws IOException;
  }

  public static Writing csv(OutputStream out) {
    Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
    return new Writing() {
      private boolean header;

      @Override
      public void accept(ObjectNode row) throws IOException {
        if (!header) {
          line(writer, CSV_COLUMNS);
          header = true;
        }
        List<String> cells = new ArrayList<>(CSV_COLUMNS.size());
        cells.add(text(row, "requestId"));
        cells.add(text(row, "outputId"));
        cells.add(text(row, "tenantId"));
        cells.add(text(row, "decision"));
        cells.add(
            row.path("outcome").isNull() || row.path("outcome").isMissingNode()
                ? "PENDING"
                : text(row, "outcome"));
        cells.add(text(row, "unsafeScore"));
        cells.add(joinedScores(row.path("categoryScores")));
        cells.add(joined(row.path("reasons"), "code"));
        cells.add(joined(row.path("groups"), null));
        cells.add(text(row, "policyId"));
        cells.add(text(row, "policyVersion"));
        cells.add(
            text(row, "modelName")
                + (row.hasNonNull("modelVersion") ? " " + text(row, "modelVersion") : ""));
        cells.add(text(row, "decidedAt"));
        cells.add(text(row, "text"));
        cells.add(text(row, "retractedAt"));
        cells.add(text(row, "eventIdConflict"));
        cells.add(text(row, "eventIdConflictUnexplained"));
        line(writer, cells);
      }

      @Override
      public void finish(long rows, boolean truncated) throws IOException {
        if (!header) {
          line(writer, CSV_COLUMNS);
        }
        writer.flush();
      }
    };
  }

  public static Writing json(OutputStream out, ObjectMapper mapper, ObjectNode query)
      throws IOException {
    JsonGenerator generator = mapper.getFactory().createGenerator(out, JsonEncoding.UTF8);
    return new Writing() {
      private boolean started;

      /**
       * The object's head goes out with the first row (or at the end), as the CSV's header does: an
       * export whose first page fails (its query timed out) leaves nothing written, and its error
       * answer is the whole body.
       */
      private void start() throws IOException {
        if (!started) {
          generator.writeStartObject();
          generator.writeFieldName("query");
          mapper.writeTree(generator, query);
          generator.writeArrayFieldStart("rows");
          started = true;
        }
      }

      @Override
      public void accept(ObjectNode row) throws IOException {
        start();
        mapper.writeTree(generator, row);
      }

      @Override
      public void finish(long rows, boolean truncated) throws IOException {
        start();
        generator.writeEndArray();
        generator.writeNumberField("count", rows);
        generator.writeBooleanField("truncated", truncated);
        generator.writeEndObject();
        generator.flush();
      }
    };
  }

  /** One CSV cell: quoted when needed, formula-neutralised. */
  public static String cell(String value) {
    if (value == null) {
      return "";
    }
    String safe = value;
    if (!safe.isEmpty() && "=+-@\t\r".indexOf(safe.charAt(0)) >= 0) {
      safe = "'" + safe;
    }
    if (safe.indexOf(',') >= 0
        || safe.indexOf('"') >= 0
        || safe.indexOf('\n') >= 0
        || safe.indexOf('\r') >= 0) {
      safe = '"' + safe.replace("\"", "\"\"") + '"';
    }
    return safe;
  }

  private static void line(Writer writer, List<String> cells) throws IOException {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        writer.write(',');
      }
      writer.write(cell(cells.get(i)));
    }
    writer.write("\r\n");
  }

  private static String text(ObjectNode row, String field) {
    JsonNode value = row.get(field);
    return value == null || value.isNull() ? "" : value.asText();
  }

  private static String joinedScores(JsonNode scores) {
    StringBuilder out = new StringBuilder();
    Iterator<Map.Entry<String, JsonNode>> fields = scores.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> entry = fields.next();
      if (out.length() > 0) {
        out.append(';');
      }
      out.append(entry.getKey()).append('=').append(entry.getValue().asText());
    }
    return out.toString();
  }

  private static String joined(JsonNode array, String field) {
    StringBuilder out = new StringBuilder();
    for (JsonNode element : array) {
      if (out.length() > 0) {
        out.append(';');
      }
      out.append(field == null ? element.asText() : element.path(field).asText());
    }
    return out.toString();
  }
}
