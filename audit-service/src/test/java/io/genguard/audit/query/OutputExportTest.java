package io.genguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputExportTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldQuoteCellsWithSeparatorsQuotesAndLineBreaks() {
    assertThat(OutputExport.cell("plain")).isEqualTo("plain");
    assertThat(OutputExport.cell("a,b")).isEqualTo("\"a,b\"");
    assertThat(OutputExport.cell("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
    assertThat(OutputExport.cell("two\nlines")).isEqualTo("\"two\nlines\"");
    assertThat(OutputExport.cell(null)).isEmpty();
  }

  @Test
  void shouldNeutraliseCellsASpreadsheetWouldRunAsFormulas() {
    assertThat(OutputExport.cell("=HYPERLINK(\"http://evil\")")).startsWith("\"'=HYPERLINK");
    assertThat(OutputExport.cell("+1")).isEqualTo("'+1");
    assertThat(OutputExport.cell("-2")).isEqualTo("'-2");
    assertThat(OutputExport.cell("@SUM(A1)")).isEqualTo("'@SUM(A1)");
  }

  @Test
  void shouldWriteAHeaderAndOneLinePerRow() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OutputExport.Writing csv = OutputExport.csv(out);
    ObjectNode row =
        (ObjectNode)
            JSON.readTree(
                "{\"requestId\":\"r1\",\"outputId\":\"o1\",\"tenantId\":\"acme\","
                    + "\"decision\":\"REVIEW\",\"outcome\":null,\"unsafeScore\":0.7,\"categoryScores\":{\"hate\":0.7},"
                    + "\"reasons\":[{\"code\":\"category.review\"}],\"groups\":[\"religion:muslim\",\"race:black\"],"
                    + "\"policyId\":\"default\",\"policyVersion\":\"v1\",\"modelName\":\"kn\",\"modelVersion\":\"3\","
                    + "\"decidedAt\":\"2026-11-25T10:00:00Z\",\"text\":\"=cmd|' /C calc'!A0, and more\","
                    + "\"retractedAt\":null,\"eventIdConflict\":true,"
                    + "\"eventIdConflictUnexplained\":false}");
    csv.accept(row);
    csv.finish(1, false);

    String[] lines = out.toString(StandardCharsets.UTF_8).split("\r\n");
    assertThat(lines[0]).isEqualTo(String.join(",", OutputExport.CSV_COLUMNS));
    assertThat(lines[1])
        .isEqualTo(
            "r1,o1,acme,REVIEW,PENDING,0.7,hate=0.7,category.review,religion:muslim;race:black,"
                + "default,v1,kn 3,2026-11-25T10:00:00Z,\"'=cmd|' /C calc'!A0, and more\",,true,false");
  }

  @Test
  void shouldWriteAHeaderEvenWhenNothingMatched() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OutputExport.Writing csv = OutputExport.csv(out);
    csv.finish(0, false);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(String.join(",", OutputExport.CSV_COLUMNS) + "\r\n");
  }

  @Test
  void shouldWriteJsonWithTheQueryTheRowsAndWhetherTheLimitCutItShort() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OutputExport.Writing json =
        OutputExport.json(out, JSON, JSON.createObjectNode().put("decision", "BLOCK"));
    json.accept(JSON.createObjectNode().put("requestId", "r1"));
    json.accept(JSON.createObjectNode().put("requestId", "r2"));
    json.finish(2, true);

    var tree = JSON.readTree(out.toByteArray());
    assertThat(tree.path("query").path("decision").asText()).isEqualTo("BLOCK");
    assertThat(tree.path("rows")).hasSize(2);
    assertThat(tree.path("count").asInt()).isEqualTo(2);
    assertThat(tree.path("truncated").asBoolean()).isTrue();
  }
}
