package io.genguard.audit.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading anchor files: what is an anchor, and the error for every line that is not. */
class AnchorLogTest {
  private static final String HASH = "ab".repeat(32);

  @TempDir Path dir;

  private Path file(String content) throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  private static String line(long seq) {
    return "{\"seq\":"
        + seq
        + ",\"hash\":\""
        + HASH
        + "\",\"anchoredAt\":\"2026-12-02T16:00:00Z\"}\n";
  }

  @Test
  void shouldReadAnchorsInOrderSkippingBlankLinesAndIgnoringUnknownFields() throws Exception {
    Path file =
        file(
            line(3)
                + "\n"
                + "{\"seq\":9,\"hash\":\""
                + HASH.toUpperCase()
                + "\",\"signature\":\"later\"}\n"
                + line(9));

    AnchorLog.Anchors anchors = AnchorLog.read(file);

    assertThat(anchors.anchors()).extracting(ChainVerifier.Anchor::seq).containsExactly(3L, 9L, 9L);
    assertThat(anchors.incompleteLastLine()).isFalse();
  }

  @Test
  void shouldReadOnlyTheLinesAddedSinceTheLastPassAndStartOverOnAFileCutShort() throws Exception {
    Path file = file(line(1) + "\n" + line(2));
    java.util.List<String> seen = new java.util.ArrayList<>();
    AnchorLog.LineSink sink = one -> seen.add(one.line() + ":" + one.anchor().seq());

    AnchorLog.Position first = AnchorLog.readFrom(file, AnchorLog.Position.START, sink);
    assertThat(seen).containsExactly("1:1", "3:2");
    assertThat(first).isEqualTo(new AnchorLog.Position(Files.size(file), 3));

    // Nothing new: nothing read. Two lines, the second torn: the first only, then the rest.
    assertThat(AnchorLog.readFrom(file, first, sink)).isEqualTo(first);
    String torn = line(3) + line(4).substring(0, 10);
    Files.writeString(file, torn, java.nio.file.StandardOpenOption.APPEND);
    AnchorLog.Position second = AnchorLog.readFrom(file, first, sink);
    assertThat(seen).containsExactly("1:1", "3:2", "4:3");
    assertThat(second.line()).isEqualTo(4);
    Files.writeString(file, line(4).substring(10), java.nio.file.StandardOpenOption.APPEND);
    assertThat(AnchorLog.readFrom(file, second, sink))
        .isEqualTo(new AnchorLog.Position(Files.size(file), 5));
    assertThat(seen).containsExactly("1:1", "3:2", "4:3", "5:4");

    // A file cut or replaced since: shorter than where the last pass stopped, or not at a line's
    // end there. Read from its start.
    seen.clear();
    Path replaced = file(line(7) + line(8));
    assertThat(AnchorLog.readFrom(replaced, second, sink).line()).isEqualTo(2);
    assertThat(seen).containsExactly("1:7", "2:8");
    seen.clear();
    AnchorLog.readFrom(replaced, new AnchorLog.Position(5, 1), sink);
    assertThat(seen).containsExactly("1:7", "2:8");
  }

  @Test
  void shouldLeaveOutAnIncompleteLastLine() throws Exception {
    AnchorLog.Anchors anchors = AnchorLog.read(file(line(3) + "{\"seq\":4,\"hash\":\"ab"));

    assertThat(anchors.anchors()).hasSize(1);
    assertThat(anchors.incompleteLastLine()).isTrue();
  }

  @Test
  void shouldNameTheLineAndTheReasonOfEveryLineThatIsNotAnAnchor() throws Exception {
    assertInvalid(line(1) + "not json\n", "line 2: not JSON");
    assertInvalid(line(1).strip() + " and more\n", "line 1: not JSON");
    assertInvalid("[1, 2]\n", "line 1: expected a JSON object");
    assertInvalid("{\"hash\":\"" + HASH + "\"}\n", "line 1: \"seq\" must be a record number");
    assertInvalid("{\"seq\":\"5\",\"hash\":\"" + HASH + "\"}\n", "\"seq\" must be a record number");
    assertInvalid("{\"seq\":0,\"hash\":\"" + HASH + "\"}\n", "\"seq\" must be a record number");
    assertInvalid("{\"seq\":1.5,\"hash\":\"" + HASH + "\"}\n", "\"seq\" must be a record number");
    assertInvalid(
        "{\"seq\":99999999999999999999,\"hash\":\"" + HASH + "\"}\n",
        "\"seq\" must be a record number");
    assertInvalid("{\"seq\":2,\"hash\":\"xyz\"}\n", "line 1: \"hash\" must be 64 hexadecimal");
    assertInvalid("{\"seq\":2,\"hash\":7}\n", "\"hash\" must be 64 hexadecimal");
    assertInvalid(line(5) + line(4), "line 2: seq 4 is lower than the line before it (5)");
    assertInvalid(
        "{\"seq\":2,\"hash\":\"" + HASH + "\",\"anchoredAt\":\"t\",\"sig\":\"c2ln\"}\n",
        "line 1: a signed line has \"keyId\", \"prev\", \"sig\" and \"anchoredAt\"");
    assertInvalid(
        "{\"seq\":2,\"hash\":\"" + HASH + "\",\"keyId\":\"k\",\"prev\":\"\",\"sig\":\"c2ln\"}\n",
        "a signed line has");
    assertInvalid("{\"seq\":2,\"hash\":\"" + HASH + "\",\"sig\":5}\n", "\"sig\" must be a string");
    assertInvalid(
        "{\"seq\":2,\"hash\":\"" + HASH + "\",\"x\":\"" + "y".repeat(2_000) + "\"}\n",
        "line 1: the line has 2");
  }

  @Test
  void shouldReadAFileOfManyChunksLineByLineAndStartFromItsNewestLine() throws Exception {
    StringBuilder content = new StringBuilder();
    for (int seq = 1; seq <= 3_000; seq++) {
      content.append(line(seq)); // about 300 KB: lines cross the reader's 64 KB chunks
    }
    Path file = file(content.toString());

    assertThat(AnchorLog.read(file).anchors())
        .extracting(ChainVerifier.Anchor::seq)
        .hasSize(3_000)
        .isSorted()
        .startsWith(1L, 2L)
        .endsWith(2_999L, 3_000L);
    assertThat(new AnchorLog(file, Clock.systemUTC()).anchoredSeq()).isEqualTo(3_000);
  }

  @Test
  void shouldCutALastLineTornInsideACharacterAndStartFromTheLineBefore() throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    byte[] whole = line(1).getBytes(StandardCharsets.UTF_8);
    byte[] torn = "{\"seq\":2,\"note\":\"\u00e9".getBytes(StandardCharsets.UTF_8);
    byte[] bytes = java.util.Arrays.copyOf(whole, whole.length + torn.length - 1);
    System.arraycopy(torn, 0, bytes, whole.length, torn.length - 1); // half of the é
    Files.write(file, bytes);

    assertThat(new AnchorLog(file, Clock.systemUTC()).anchoredSeq()).isEqualTo(1);
    assertThat(Files.readAllBytes(file)).isEqualTo(whole);
  }

  @Test
  void shouldRefuseALineLongerThanAnyAnchorWithoutKeepingIt() throws Exception {
    assertInvalid(
        line(1) + "{\"seq\":2,\"x\":\"" + "y".repeat(1_000_000) + "\"}\n",
        "line 2: the line has more than 4096 bytes; an anchor has at most 1024 characters");
    // Without its newline too: no torn anchor is that long, and a file without newlines (a
    // device such as /dev/zero) is refused instead of read for ever.
    assertInvalid(line(1) + "x".repeat(5_000), "line 2: the line has more than 4096 bytes");
  }

  @Test
  void shouldRefuseAFileThatIsNotText() throws Exception {
    Path file = dir.resolve("binary");
    Files.write(file, new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, '\n'});

    assertThatThrownBy(() -> AnchorLog.read(file)).hasMessageContaining("is not UTF-8 text");
  }

  @Test
  void shouldRefuseToStartOnAFileThatIsNotAnAnchorFile() throws Exception {
    Path file = file(line(1) + "garbage\n");

    assertThatThrownBy(() -> new AnchorLog(file, Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("anchors.jsonl line 2: not JSON");
  }

  @Test
  void shouldSayWhichFileCannotBeReadWhenTheAnchorFileIsADirectory() throws Exception {
    Path directory = Files.createDirectory(dir.resolve("not-a-file"));

    assertThatThrownBy(() -> new AnchorLog(directory, Clock.systemUTC()))
        .hasMessageContaining("Cannot read the audit anchor file " + directory);
  }

  private void assertInvalid(String content, String message) throws Exception {
    Path file = file(content);
    assertThatThrownBy(() -> AnchorLog.read(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Audit anchor file " + file)
        .hasMessageContaining(message);
  }
}
