package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.release.Retractions;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code audit retract --ids-from} reads, and what it refuses, naming the line. */
class AuditRetractIdsTest {
  @Test
  void shouldTakeBareIdsJsonObjectsAndOnlyTheWhatIfRowsThatWouldHoldAReleasedOutput() {
    String text =
        String.join(
            "\n",
            "# incident T-1182",
            "req-1",
            "  req-2  ",
            "",
            "{\"requestId\": \"req-3\"}",
            "{\"verdictId\":\"v4\",\"requestId\":\"req-4\",\"tenantId\":\"acme\",\"outcome\":\"CHANGED\","
                + "\"recorded\":\"RELEASE\",\"candidate\":\"BLOCK\",\"detail\":\"hate 0.81\"}",
            "{\"requestId\":\"req-5\",\"outcome\":\"CHANGED\",\"recorded\":\"RELEASE\",\"candidate\":\"REVIEW\"}",
            "{\"requestId\":\"req-6\",\"outcome\":\"CHANGED\",\"recorded\":\"BLOCK\",\"candidate\":\"RELEASE\"}",
            "{\"requestId\":\"req-7\",\"outcome\":\"NOT_COMPARABLE\",\"recorded\":\"RELEASE\",\"candidate\":null}",
            "{\"policy\":\"default 2 (SHA-256 ab)\",\"verdicts\":7,\"same\":2,\"changed\":4}",
            "req-1");

    AuditRetractCommand.Named named = AuditRetractCommand.parse(text, "ids.txt");

    assertThat(named.ids())
        .as("each once, in order; what-if rows only where a release would now be held")
        .containsExactly("req-1", "req-2", "req-3", "req-4", "req-5");
    assertThat(named.passedOver()).isEqualTo(2);
  }

  @Test
  void shouldTakeTheTenantALineNames() {
    AuditRetractCommand.Named named =
        AuditRetractCommand.parse(
            String.join(
                "\n",
                "req-1, acme",
                "req-1",
                "req-1,globex",
                "{\"requestId\": \"req-2\", \"tenantId\": \"acme\"}",
                "{\"requestId\": \"req-3\", \"tenantId\": null}",
                "req-1,acme"),
            "ids.txt");

    assertThat(named.releases())
        .containsExactly(
            new Retractions.Selected("req-1", "acme"),
            new Retractions.Selected("req-1", null),
            new Retractions.Selected("req-1", "globex"),
            new Retractions.Selected("req-2", "acme"),
            new Retractions.Selected("req-3", null));
    assertThatThrownBy(() -> AuditRetractCommand.parse("req-1,\n", "ids.txt"))
        .hasMessageContaining("ids.txt line 1: '' is not a tenant id");
    // Neither a request id nor a tenant id holds a comma: a line with two is refused as such,
    // read from its last comma (reported by the fiftieth session), not as a tenant 'a,b'.
    assertThatThrownBy(() -> AuditRetractCommand.parse("req-1,a,b\n", "ids.txt"))
        .hasMessageContaining("ids.txt line 1: 'req-1,a' holds a comma")
        .hasMessageContaining("a request id holds none")
        .hasMessageContaining("{\"requestId\"");
    assertThatThrownBy(
            () -> AuditRetractCommand.parse("{\"requestId\": \"r\", \"tenantId\": 7}", "ids.txt"))
        .hasMessageContaining("ids.txt line 1: tenantId is not a string");
  }

  @Test
  void shouldRefuseWhatNamesNoRequestWithTheLine() {
    assertThatThrownBy(() -> AuditRetractCommand.parse("req-1\nreq 2\n", "ids.txt"))
        .hasMessageContaining("ids.txt line 2")
        .hasMessageContaining("is not a request id");
    assertThatThrownBy(() -> AuditRetractCommand.parse("req-1\n{\"requestId\": \n", "ids.txt"))
        .hasMessageContaining("ids.txt line 2 is not valid JSON");
    // Two rows pasted onto one line, or text after the row: not read as the first row alone.
    assertThatThrownBy(
            () ->
                AuditRetractCommand.parse(
                    "{\"requestId\": \"r1\"}{\"requestId\": \"r2\"}", "ids.txt"))
        .hasMessageContaining("ids.txt line 1 is not valid JSON");
    assertThatThrownBy(() -> AuditRetractCommand.parse("{\"requestId\": \"r1\"} junk", "ids.txt"))
        .hasMessageContaining("ids.txt line 1 is not valid JSON");
    assertThatThrownBy(
            () ->
                AuditRetractCommand.parse(
                    "{\"requestId\": \"r1\", \"requestId\": \"r2\"}", "ids.txt"))
        .hasMessageContaining("ids.txt line 1 is not valid JSON");
    assertThatThrownBy(() -> AuditRetractCommand.parse("{\"id\": \"req-1\"}", "ids.txt"))
        .hasMessageContaining("line 1 is a JSON object without requestId");
    assertThatThrownBy(() -> AuditRetractCommand.parse("{\"requestId\": 7}", "ids.txt"))
        .hasMessageContaining("requestId is not a string");
    assertThatThrownBy(() -> AuditRetractCommand.parse("../../etc/passwd", "ids.txt"))
        .hasMessageContaining("is not a request id");
    assertThatThrownBy(() -> AuditRetractCommand.parse("req\u001b[31m-1", "ids.txt"))
        .as("a control character is not echoed to the terminal")
        .hasMessageContaining("'req?[31m-1'");
    assertThatThrownBy(() -> AuditRetractCommand.parse("x".repeat(129), "ids.txt"))
        .hasMessageContaining("...' is not a request id");
  }

  @Test
  void shouldRefuseInputThatIsTooLargeOrNotUtf8(@TempDir Path dir) throws Exception {
    byte[] latin1 = "req-\u00e9".getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(
            () -> AuditRetractCommand.read(new ByteArrayInputStream(latin1), "standard input"))
        .hasMessageContaining("standard input is not valid UTF-8");
    Path file = dir.resolve("ids.txt");
    Files.write(file, latin1);
    assertThatThrownBy(() -> AuditRetractCommand.read(file))
        .hasMessageContaining("is not valid UTF-8");
    assertThatThrownBy(() -> AuditRetractCommand.read(dir))
        .hasMessageContaining("is not a readable file");

    InputStream endless =
        new InputStream() {
          @Override
          public int read() {
            return 'a';
          }
        };
    assertThatThrownBy(() -> AuditRetractCommand.read(endless, "standard input"))
        .as("read up to the limit, not to the end")
        .hasMessageContaining("larger than 16 MiB");
    Files.writeString(file, "req-9\n");
    assertThat(AuditRetractCommand.read(file).ids()).containsExactly("req-9");
  }
}
