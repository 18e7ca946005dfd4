package io.genguard.moderation.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.NgramLogisticScorer;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.TinyOnnxClassifier;
import io.genguard.moderation.scoring.WordOcclusion;
import io.genguard.schemas.ChildJvm;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchScorerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static NgramLogisticScorer ngram;
  private static BiasAnalyzer bias;

  @TempDir Path dir;

  @BeforeAll
  static void load() {
    ngram = NgramLogisticScorer.loadDefault();
    bias = BiasAnalyzer.loadDefault();
  }

  @Test
  void shouldWriteOneLinePerInputLineInOrderWithErrorsForBadLines() throws Exception {
    String input =
        String.join(
                "\n",
                "{\"id\": \"a\", \"text\": \"Have a lovely day at the museum with your family.\"}",
                "this is not json",
                "{\"id\": 7, \"prompt\": \"no text field\"}",
                "",
                "{\"id\": \"b\", \"text\": 42}",
                "[1, 2]",
                "{\"id\": \"c\", \"text\": \"shut up you worthless stupid bitch, nobody wants you here\"}",
                "{\"id\": \"d\", \"text\": \"two objects\"} {\"id\": \"e\", \"text\": \"on one line\"}",
                "{\"id\": \"f\", \"text\": \"I am going to kill you tonight.\", \"text\": \"hello\"}")
            + "\n";
    List<JsonNode> out = score(input, 2);

    assertThat(out).hasSize(9);
    assertThat(out.get(8).get("error").asText())
        .as("a repeated key is an error, not the last value scored")
        .startsWith("not valid JSON")
        .contains("Duplicate field 'text'");
    assertThat(out.get(8).has("decision")).isFalse();
    assertThat(out.get(7).get("error").asText()).startsWith("not valid JSON").contains("Trailing");
    assertThat(out.get(0).get("id").asText()).isEqualTo("a");
    assertThat(out.get(0).get("decision").asText()).isEqualTo("RELEASE");
    assertThat(out.get(0).get("categories").size()).isEqualTo(7);
    assertThat(out.get(1).get("error").asText()).startsWith("not valid JSON");
    assertThat(out.get(1).get("line").asInt()).isEqualTo(2);
    assertThat(out.get(2).get("id").asInt()).isEqualTo(7);
    assertThat(out.get(2).get("error").asText()).isEqualTo("missing \"text\"");
    assertThat(out.get(3).get("error").asText()).contains("the line is empty");
    assertThat(out.get(4).get("error").asText()).isEqualTo("\"text\" must be a string, got number");
    assertThat(out.get(5).get("error").asText()).contains("expected a JSON object");
    assertThat(out.get(6).get("id").asText()).isEqualTo("c");
    assertThat(out.get(6).get("decision").asText()).isNotEqualTo("RELEASE");
    assertThat(out.get(6).get("unsafe").asDouble()).isGreaterThan(0.5);
    assertThat(out.get(6).get("reasons").get(0).get("code").asText()).startsWith("category.");
    assertThat(out.get(6).get("policyId").asText()).isEqualTo("genguard-default");
    assertThat(out.get(6).get("policySha256").asText())
        .isEqualTo(PolicyLoader.loadDefault().sha256());
    List<String> versionNames = new ArrayList<>();
    out.get(6).get("scorerVersions").fieldNames().forEachRemaining(versionNames::add);
    assertThat(versionNames).contains("ngram-logistic", "text-screening").isSorted();
  }

  @Test
  void shouldHoldAThreatTheScoresReleaseAndSayWhichWordsMadeItOne() throws Exception {
    String input =
        "{\"id\": \"t\", \"text\": \"Nice weather. Tomorrow I'm going to find the umpire after the"
            + " game and break his legs.\"}\n"
            + "{\"id\": \"calm\", \"text\": \"Tomorrow I'm going to find the umpire after the game"
            + " and thank him.\"}\n";
    List<JsonNode> out = score(input, 8);

    assertThat(out.get(0).get("decision").asText()).isNotEqualTo("RELEASE");
    assertThat(codes(out.get(0))).contains("threat.pattern");
    assertThat(out.get(0).get("threats"))
        .singleElement()
        .satisfies(
            threat -> {
              assertThat(threat.get("rule").asText()).isEqualTo("announced-violence");
              assertThat(threat.get("words").asText())
                  .isEqualTo("i am going to find the umpire after the game and break his legs");
              assertThat(threat.get("sentence").asText()).startsWith("Tomorrow I'm going");
            });
    assertThat(out.get(1).get("threats")).isEmpty();
    assertThat(codes(out.get(1))).doesNotContain("threat.pattern");
    List<String> versionNames = new ArrayList<>();
    out.get(0).get("scorerVersions").fieldNames().forEachRemaining(versionNames::add);
    assertThat(versionNames).contains("threat-patterns");
  }

  @Test
  void shouldHoldAThreatAtTheEndOfALongRunOnSentence() throws Exception {
    StringBuilder benign = new StringBuilder();
    while (benign.length() < 720) {
      benign.append("we walked along the river and talked about the garden and the new shed ");
    }
    String text =
        benign.substring(0, 720)
            + " and I am coming to the warehouse tomorrow to shoot the manager.";

    JsonNode row = score("{\"id\": \"r\", \"text\": \"" + text + "\"}\n", 8).get(0);

    assertThat(row.get("decision").asText()).isNotEqualTo("RELEASE");
    assertThat(codes(row)).contains("threat.pattern");
    assertThat(row.get("threats").get(0).get("words").asText()).endsWith("shoot the manager");
  }

  @Test
  void shouldHoldAChildDescribedInSexualTermsAndSayWhichWords() throws Exception {
    String input =
        "{\"id\": \"m\", \"text\": \"Fun day at the lake. What a sexy little girl.\"}\n"
            + "{\"id\": \"calm\", \"text\": \"Fun day at the lake. What a happy little girl.\"}\n";
    List<JsonNode> out = score(input, 8);

    assertThat(out.get(0).get("decision").asText()).isNotEqualTo("RELEASE");
    assertThat(codes(out.get(0))).contains("minor.sexualized");
    assertThat(out.get(0).get("sexualizedMinors"))
        .singleElement()
        .satisfies(
            match -> {
              assertThat(match.get("rule").asText()).isEqualTo("sexual-word-on-minor");
              assertThat(match.get("words").asText()).isEqualTo("sexy little girl");
              assertThat(match.get("sentence").asText()).isEqualTo("What a sexy little girl.");
            });
    assertThat(out.get(1).get("sexualizedMinors")).isEmpty();
    assertThat(codes(out.get(1))).doesNotContain("minor.sexualized");
    List<String> versionNames = new ArrayList<>();
    out.get(0).get("scorerVersions").fieldNames().forEachRemaining(versionNames::add);
    assertThat(versionNames).contains("minor-sexualization");
  }

  @Test
  void shouldListFramedPrejudiceAndActOnItOnlyForATenantThatTurnedTheRuleOn() throws Exception {
    byte[] input =
        "{\"id\": \"f\", \"text\": \"No offense, but Mexicans are all lazy.\"}\n"
            .getBytes(StandardCharsets.UTF_8);
    JsonNode byDefault = score(input, null).get(0);
    assertThat(byDefault.get("framedPrejudice"))
        .singleElement()
        .satisfies(
            match -> {
              assertThat(match.get("rule").asText()).isEqualTo("concession");
              assertThat(match.get("words").asText()).isEqualTo("no offense but mexicans are");
            });
    assertThat(codes(byDefault)).doesNotContain("prejudice.framed");
    List<String> versionNames = new ArrayList<>();
    byDefault.get("scorerVersions").fieldNames().forEachRemaining(versionNames::add);
    assertThat(versionNames).contains("prejudice-frames");

    JsonNode kids = score(input, "kids-edu").get(0);
    assertThat(codes(kids)).contains("prejudice.framed");
    assertThat(kids.get("decision").asText()).isNotEqualTo("RELEASE");
  }

  private List<JsonNode> score(byte[] input, String tenant) throws Exception {
    return score(input, TextScreening.defaults(), ngram, 8, false, tenant);
  }

  @Test
  void shouldGiveProblemTextsAVerdictWithTheirReason() throws Exception {
    ByteArrayOutputStream input = new ByteArrayOutputStream();
    input.write("{\"id\": \"empty\", \"text\": \"   \"}\n".getBytes(StandardCharsets.UTF_8));
    input.write(
        ("{\"id\": \"huge\", \"text\": \""
                + "the weather is nice today and the park is open. ".repeat(600)
                + "\"}\n")
            .getBytes(StandardCharsets.UTF_8));
    input.write("{\"id\": \"latin1\", \"text\": \"caf".getBytes(StandardCharsets.UTF_8));
    input.write(new byte[] {(byte) 0xE9}); // Latin-1 é: not UTF-8
    input.write(" ok for lunch with my friends today\"}\n".getBytes(StandardCharsets.UTF_8));
    input.write(
        "{\"id\": \"foreign\", \"text\": \"Это предложение написано по-русски.\"}\n"
            .getBytes(StandardCharsets.UTF_8));
    List<JsonNode> out = score(input.toByteArray(), new TextScreening(20_000), ngram, 64);

    assertThat(codes(out.get(0))).containsExactly("text.empty");
    assertThat(out.get(0).get("decision").asText()).isEqualTo("REVIEW");
    assertThat(out.get(0).get("unsafe").isNull()).isTrue();
    assertThat(codes(out.get(1))).contains("text.truncated");
    assertThat(out.get(1).get("textTruncated").asBoolean()).isTrue();
    assertThat(codes(out.get(2))).contains("text.invalid_utf8");
    assertThat(codes(out.get(3))).contains("text.unsupported_language");
  }

  @Test
  void shouldScoreABatchOnceItsLinesHoldTheByteBoundFullOrNot() throws Exception {
    List<Integer> batches = new ArrayList<>();
    ContentScorer recording =
        new ContentScorer() {
          @Override
          public List<ContentScores> scoreBatch(List<String> texts) {
            batches.add(texts.size());
            return ngram.scoreBatch(texts);
          }

          @Override
          public Map<String, String> versions() {
            return ngram.versions();
          }
        };
    BatchScorer batch =
        new BatchScorer(
                recording,
                PolicyLoader.loadDefault(),
                bias,
                bias.versions(),
                TextScreening.defaults(),
                null,
                64,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
            .withPendingBytesLimit(100);
    StringBuilder input = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      // 60 bytes a line: two lines pass 100 bytes
      input.append(
          String.format("{\"id\": %d, \"text\": \"%-39s\"}\n", i, "a quiet walk by the river"));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    BatchScorer.Summary summary =
        batch.score(
            new ByteArrayInputStream(input.toString().getBytes(StandardCharsets.UTF_8)), out);

    assertThat(summary.lines()).isEqualTo(6);
    assertThat(batches)
        .as("not one batch of 6: held lines are bounded by bytes")
        .containsExactly(2, 2, 2);
  }

  @Test
  void shouldScoreAloneEveryTextOfABatchTheScorerFailedOnAndHoldOnlyTheOneThatFailsAlone()
      throws Exception {
    // One text the scorer cannot handle used to cost every text of its batch (up to 4,096) its
    // scores: now each is scored alone, and only the one that fails alone is held without scores.
    ContentScorer poisoned =
        scorer(
            texts -> {
              if (texts.stream().anyMatch(t -> t.contains("POISON"))) {
                throw new IllegalStateException("ONNX Runtime ran out of memory");
              }
              return ngram.scoreBatch(texts);
            });
    String input =
        "{\"id\": 1, \"text\": \"hello there\"}\n{\"id\": 2, \"text\": \"POISON pill\"}\n"
            + "{\"id\": 3, \"text\": \"see you tomorrow at the library\"}\n";
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    BatchScorer batch =
        new BatchScorer(
            poisoned,
            PolicyLoader.loadDefault(),
            bias,
            bias.versions(),
            TextScreening.defaults(),
            null,
            3,
            new PrintStream(said, true, StandardCharsets.UTF_8));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    BatchScorer.Summary summary =
        batch.score(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), bytes);

    List<JsonNode> out = rows(bytes);
    assertThat(out).extracting(n -> n.get("id").asInt()).containsExactly(1, 2, 3);
    assertThat(out.get(0).get("unsafe").isNull()).as("scored alone").isFalse();
    assertThat(out.get(2).get("unsafe").isNull()).as("scored alone").isFalse();
    assertThat(out.get(0).get("decision").asText()).isEqualTo("RELEASE");
    assertThat(out.get(2).get("decision").asText()).isEqualTo("RELEASE");
    assertThat(out.get(1).get("unsafe").isNull()).isTrue();
    assertThat(out.get(1).get("decision").asText()).isEqualTo("REVIEW");
    assertThat(codes(out.get(1))).containsExactly("scorer.error");
    assertThat(out.get(1).get("reasons").get(0).get("message").asText())
        .contains("ran out of memory");
    assertThat(summary.lines()).isEqualTo(3);
    assertThat(summary.scored()).isEqualTo(2);
    assertThat(summary.scorerFailures()).isEqualTo(1);
    assertThat(summary.errors()).isZero();
    assertThat(summary.decisions()).containsEntry("REVIEW", 1L).containsEntry("RELEASE", 2L);
    assertThat(said.toString(StandardCharsets.UTF_8))
        .contains("the scorer failed on lines 1..3")
        .contains("line 2: the scorer failed on its text alone");
  }

  @Test
  void shouldNotCountAnEmptyTextAsScored() throws Exception {
    // An empty text is judged by screening alone (text.empty) and never reaches the scorer.
    List<String> given = new ArrayList<>();
    ContentScorer recording =
        scorer(
            texts -> {
              given.addAll(texts);
              return ngram.scoreBatch(texts);
            });
    String input =
        "{\"id\": 1, \"text\": \"   \"}\n{\"id\": 2, \"text\": \"see you tomorrow at the library\"}\n";
    BatchScorer batch =
        new BatchScorer(
            recording,
            PolicyLoader.loadDefault(),
            bias,
            bias.versions(),
            TextScreening.defaults(),
            null,
            8,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    BatchScorer.Summary summary =
        batch.score(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), bytes);

    assertThat(given).containsExactly("see you tomorrow at the library");
    assertThat(codes(rows(bytes).get(0))).containsExactly("text.empty");
    assertThat(summary.scored()).isEqualTo(1);
    assertThat(summary.emptyTexts()).isEqualTo(1);
    assertThat(summary.lines()).isEqualTo(2);
  }

  @Test
  void shouldExitWithItsOwnStatusWhenTheScorerFailedAndStillWriteEveryLine() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(
        in,
        "{\"id\": \"a\", \"text\": \"What time does the bakery open?\"}\n"
            + "not json\n"
            + "{\"id\": \"b\", \"text\": \"See you tomorrow at the library.\"}\n");
    ContentScorer failing =
        scorer(
            texts -> {
              throw new IllegalStateException("ONNX Runtime ran out of memory");
            });
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    int status =
        BatchScorer.run(
            new String[] {"--in", in.toString(), "--out", out.toString()},
            new PrintStream(stderr, true, StandardCharsets.UTF_8),
            config -> failing);

    String said = stderr.toString(StandardCharsets.UTF_8);
    assertThat(status)
        .as("not 0, and not 4 (some error lines) either: " + said)
        .isEqualTo(BatchScorer.SCORER_FAILED)
        .isEqualTo(5);
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(3);
    assertThat(JSON.readTree(lines.get(0)).get("id").asText()).isEqualTo("a");
    assertThat(JSON.readTree(lines.get(0)).get("decision").asText()).isEqualTo("REVIEW");
    assertThat(JSON.readTree(lines.get(1)).has("error")).isTrue();
    assertThat(JSON.readTree(lines.get(2)).get("id").asText()).isEqualTo("b");
    assertThat(JSON.readTree(lines.get(2)).get("unsafe").isNull()).isTrue();
    assertThat(said)
        .contains("3 lines, 0 scored, 1 errors, 2 not scored (the scorer failed)")
        .contains("the scorer failed on 2 of 3 lines");
  }

  @Test
  void shouldRefuseTheBenchmarkScorer() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(in, "{\"id\": \"x\", \"text\": \"What time does the bakery open?\"}\n");
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    int status =
        BatchScorer.run(
            new String[] {
              "--in", in.toString(), "--out", out.toString(), "--scorer", "trivial-benchmark"
            },
            new PrintStream(stderr, true, StandardCharsets.UTF_8));

    assertThat(status).isEqualTo(2);
    assertThat(stderr.toString(StandardCharsets.UTF_8))
        .contains("score: --scorer is 'trivial-benchmark'")
        .contains("scores every text 0")
        .contains("plumbing benchmark only")
        .contains("usage: score");
    assertThat(out).as("nothing scored with it").doesNotExist();
  }

  @Test
  void shouldLeaveThePreviousOutputWhenTheRunFails() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(in, threeLines());
    String previous = "{\"id\": \"old\", \"decision\": \"RELEASE\"}\n";
    Files.writeString(out, previous);
    // A scorer that breaks its contract on the second batch: the run stops with exit 1.
    int[] calls = {0};
    ContentScorer shortChanging =
        scorer(texts -> calls[0]++ == 0 ? ngram.scoreBatch(texts) : List.of());
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    int status =
        BatchScorer.run(
            new String[] {"--in", in.toString(), "--out", out.toString(), "--batch-size", "1"},
            new PrintStream(stderr, true, StandardCharsets.UTF_8),
            config -> shortChanging);

    assertThat(status).as(stderr.toString(StandardCharsets.UTF_8)).isEqualTo(1);
    assertThat(Files.readString(out)).as("the previous output is untouched").isEqualTo(previous);
    assertThat(filesIn(dir)).as("no partial output left").containsExactlyInAnyOrder(in, out);
    assertThat(stderr.toString(StandardCharsets.UTF_8))
        .contains("score: failed")
        .contains("left " + out + " as it was");
  }

  @Test
  void shouldLeaveThePreviousOutputWhenTheScorerThrowsAnError() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(in, threeLines());
    String previous = "{\"id\": \"old\", \"decision\": \"RELEASE\"}\n";
    Files.writeString(out, previous);
    int[] calls = {0};
    ContentScorer exhausted =
        scorer(
            texts -> {
              if (calls[0]++ == 0) {
                return ngram.scoreBatch(texts);
              }
              throw new OutOfMemoryError("Java heap space (simulated)");
            });

    assertThatThrownBy(
            () ->
                BatchScorer.run(
                    new String[] {
                      "--in", in.toString(), "--out", out.toString(), "--batch-size", "1"
                    },
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                    config -> exhausted))
        .isInstanceOf(OutOfMemoryError.class);

    assertThat(Files.readString(out)).as("the previous output is untouched").isEqualTo(previous);
    assertThat(filesIn(dir)).as("no partial output left").containsExactlyInAnyOrder(in, out);
  }

  @Test
  void shouldReplaceThePreviousOutputWhenTheRunEnds() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(in, threeLines());
    Files.writeString(out, "x".repeat(100_000) + "\n");

    int status =
        BatchScorer.run(
            new String[] {"--in", in.toString(), "--out", out.toString(), "--batch-size", "1"},
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            config -> ngram);

    assertThat(status).isZero();
    assertThat(Files.readAllLines(out))
        .extracting(line -> JSON.readTree(line).get("id").asInt())
        .containsExactly(1, 2, 3);
    assertThat(filesIn(dir)).containsExactlyInAnyOrder(in, out);
  }

  @Test
  void shouldLeaveThePreviousOutputWhenStoppedBySigterm() throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path in = work.resolve("in.jsonl");
    Path out = work.resolve("out.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 5_000; i++) {
      lines.append("{\"id\": ").append(i).append(", \"text\": \"See you at the library.\"}\n");
    }
    Files.writeString(in, lines);
    String previous = "{\"id\": \"old\", \"decision\": \"RELEASE\"}\n";
    Files.writeString(out, previous);
    // Stopped once rows have reached the disk: in the partial file, or (before it) in OUT itself.
    String said =
        ChildJvm.stopWhen(
            soFar -> wroteRows(work, out, previous),
            Duration.ofMinutes(2),
            dir.resolve("child.log"),
            SlowScoring.class,
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--scorer",
            "keyword-baseline",
            "--batch-size",
            "1");

    assertThat(Files.readString(out)).as("the previous output is untouched").isEqualTo(previous);
    assertThat(filesIn(work)).as("no partial output left").containsExactlyInAnyOrder(in, out);
    assertThat(said).contains("left " + out + " as it was");
  }

  /** {@code score} with a scorer that takes 10 ms a batch, so a run lasts until it is stopped. */
  static final class SlowScoring {
    public static void main(String[] args) {
      System.exit(
          BatchScorer.run(
              args,
              System.err,
              config -> {
                ContentScorer scorer = io.genguard.moderation.scoring.ScorerFactory.create(config);
                return scorer(
                    texts -> {
                      try {
                        Thread.sleep(10);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      return scorer.scoreBatch(texts);
                    });
              }));
    }
  }

  private static boolean wroteRows(Path work, Path out, String previous) throws IOException {
    for (Path file : filesIn(work)) {
      if (file.getFileName().toString().endsWith(".partial") && Files.size(file) > 0) {
        return true;
      }
    }
    return !Files.readString(out).equals(previous);
  }

  private static List<Path> filesIn(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files.filter(f -> !f.getFileName().toString().equals("child.log")).toList();
    }
  }

  private static String threeLines() {
    return "{\"id\": 1, \"text\": \"Have a lovely day at the museum.\"}\n"
        + "{\"id\": 2, \"text\": \"See you tomorrow at the library.\"}\n"
        + "{\"id\": 3, \"text\": \"What time does the bakery open?\"}\n";
  }

  private static ContentScorer scorer(Function<List<String>, List<ContentScores>> scoring) {
    return new ContentScorer() {
      @Override
      public List<ContentScores> scoreBatch(List<String> texts) {
        return scoring.apply(texts);
      }

      @Override
      public Map<String, String> versions() {
        return Map.of("test-scorer", "1");
      }
    };
  }

  @Test
  void shouldExplainAHeldTextWithAWordOfThousandsOfApostrophesAndScoreTheLinesAround()
      throws Exception {
    String hostile = "shut up you worthless stupid bitch " + "a'".repeat(4_000);
    String input =
        "{\"id\": 1, \"text\": \"Have a lovely day at the museum.\"}\n"
            + "{\"id\": 2, \"text\": \""
            + hostile
            + "\"}\n"
            + "{\"id\": 3, \"text\": \"See you tomorrow at the library.\"}\n";

    List<JsonNode> out =
        score(input.getBytes(StandardCharsets.UTF_8), TextScreening.defaults(), ngram, 1, true);

    assertThat(out).extracting(row -> row.get("id").asInt()).containsExactly(1, 2, 3);
    assertThat(out.get(1).get("decision").asText()).isNotEqualTo("RELEASE");
    assertThat(out.get(1).get("reasons").get(0).get("evidence")).isNotEmpty();
    assertThat(out.get(2).get("decision").asText()).isEqualTo("RELEASE");
  }

  @Test
  void shouldWriteAnErrorRowForALineItCouldNotJudgeAndGoOn() throws Exception {
    Function<String, BiasFindings> overflowingOnOneText =
        text -> {
          if (text.contains("recursion")) {
            throw new StackOverflowError();
          }
          return bias.apply(text);
        };
    BatchScorer batch =
        new BatchScorer(
            ngram,
            PolicyLoader.loadDefault(),
            overflowingOnOneText,
            bias.versions(),
            TextScreening.defaults(),
            null,
            1,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    String input =
        "{\"id\": 1, \"text\": \"Have a lovely day at the museum.\"}\n"
            + "{\"id\": 2, \"text\": \"a text the analysis fails on by recursion\"}\n"
            + "{\"id\": 3, \"text\": \"See you tomorrow at the library.\"}\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    BatchScorer.Summary summary =
        batch.score(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out);

    List<JsonNode> rows = rows(out);
    assertThat(rows).extracting(row -> row.get("id").asInt()).containsExactly(1, 2, 3);
    assertThat(rows.get(0).get("decision").asText()).isEqualTo("RELEASE");
    assertThat(rows.get(1).has("decision")).isFalse();
    assertThat(rows.get(1).get("line").asInt()).isEqualTo(2);
    assertThat(rows.get(1).get("error").asText()).contains("StackOverflowError");
    assertThat(rows.get(2).get("decision").asText()).isEqualTo("RELEASE");
    assertThat(summary.scored()).isEqualTo(2);
    assertThat(summary.errors()).isEqualTo(1);
  }

  @Test
  void shouldKeepTheRowsAlreadyWrittenWhenTheInputFailsPartWay() throws Exception {
    byte[] twoLines =
        ("{\"id\": 1, \"text\": \"Have a lovely day at the museum.\"}\n"
                + "{\"id\": 2, \"text\": \"See you tomorrow at the library.\"}\n")
            .getBytes(StandardCharsets.UTF_8);
    InputStream failingAfterTwoLines =
        new SequenceInputStream(
            new ByteArrayInputStream(twoLines),
            new InputStream() {
              @Override
              public int read() throws IOException {
                throw new IOException("the disk went away");
              }
            });
    BatchScorer batch =
        new BatchScorer(
            ngram,
            PolicyLoader.loadDefault(),
            bias,
            bias.versions(),
            TextScreening.defaults(),
            null,
            1,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    assertThatThrownBy(() -> batch.score(failingAfterTwoLines, out))
        .isInstanceOf(IOException.class)
        .hasMessage("the disk went away");

    assertThat(rows(out)).extracting(row -> row.get("id").asInt()).containsExactly(1, 2);
  }

  @Test
  void shouldReadAFirstLineThatStartsWithAByteOrderMark() throws Exception {
    String input =
        "\uFEFF{\"id\": \"a\", \"text\": \"Have a lovely day at the museum.\"}\n"
            + "{\"id\": \"b\", \"text\": \"See you tomorrow at the library.\"}\n";

    List<JsonNode> out = score(input, 8);

    assertThat(out).extracting(row -> row.get("id").asText()).containsExactly("a", "b");
    assertThat(out).extracting(row -> row.get("decision").asText()).containsOnly("RELEASE");
  }

  @Test
  void shouldReportTheGroupsATextMentions() throws Exception {
    List<JsonNode> out =
        score(
            "{\"id\": \"g\", \"text\": \"My Muslim neighbour and her deaf son came to dinner.\"}\n",
            8);
    List<String> groups = new ArrayList<>();
    out.get(0).get("groups").forEach(g -> groups.add(g.asText()));
    assertThat(groups).contains("religion:muslim", "disability:deaf");
  }

  @Test
  void shouldRunFromTheCommandLineWithAPolicyFile() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(
        in, "{\"id\": \"x\", \"text\": \"What time does the bakery open?\"}\nnot json\n");
    try (var stream = PolicyLoader.class.getResourceAsStream(PolicyLoader.DEFAULT_RESOURCE)) {
      Files.writeString(
          policy,
          new String(stream.readAllBytes(), StandardCharsets.UTF_8)
              .replace("policyId: genguard-default", "policyId: backfill-test"));
    }
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int status =
        BatchScorer.run(
            new String[] {
              "--in",
              in.toString(),
              "--out",
              out.toString(),
              "--policy",
              policy.toString(),
              "--scorer",
              "ngram-logistic"
            },
            new PrintStream(stderr, true, StandardCharsets.UTF_8));

    assertThat(status)
        .as("a run with a line that could not be scored says so: " + stderr)
        .isEqualTo(BatchScorer.SOME_LINES_FAILED);
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(2);
    assertThat(JSON.readTree(lines.get(0)).get("policyId").asText()).isEqualTo("backfill-test");
    assertThat(JSON.readTree(lines.get(1)).has("error")).isTrue();
    assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("2 lines, 1 scored, 1 errors");
  }

  @Test
  void shouldScoreWithAnImportedClassifierNamedByItsFlags() throws Exception {
    Path folder = TinyOnnxClassifier.write(dir.resolve("tiny"), TinyOnnxClassifier.CONFIG);
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(
        in,
        "{\"id\": \"a\", \"text\": \"zebra zebra zebra\"}\n"
            + "{\"id\": \"b\", \"text\": \"a a a\"}\n");
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int status =
        BatchScorer.run(
            new String[] {
              "--in",
              in.toString(),
              "--out",
              out.toString(),
              "--scorer",
              "onnx-classifier",
              "--classifier-dir",
              folder.toString(),
              "--classifier-labels",
              "toxic=harassment;neutral=none"
            },
            new PrintStream(stderr, true, StandardCharsets.UTF_8));

    assertThat(status).as(stderr.toString(StandardCharsets.UTF_8)).isZero();
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(2);
    JsonNode zebra = JSON.readTree(lines.get(0));
    JsonNode plain = JSON.readTree(lines.get(1));
    assertThat(zebra.get("scorerVersions").get("onnx-classifier").asText())
        .startsWith("tiny+sha256:");
    assertThat(zebra.get("categories").get("harassment").asDouble()).isGreaterThan(0.9);
    assertThat(plain.get("categories").get("harassment").asDouble()).isLessThan(0.9);
    assertThat(zebra.get("decision").asText()).isNotEqualTo("RELEASE");

    // Without a folder, the usage error names the flag to set (before the forty-fourth session,
    // a failure when the scorer loaded, exit 1); so is a classifier flag with another scorer.
    stderr.reset();
    assertThat(
            BatchScorer.run(
                new String[] {
                  "--in", in.toString(), "--out", out.toString(), "--scorer", "onnx-classifier"
                },
                new PrintStream(stderr, true, StandardCharsets.UTF_8)))
        .isEqualTo(2);
    assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("--classifier-dir");
    stderr.reset();
    assertThat(
            BatchScorer.run(
                new String[] {
                  "--in",
                  in.toString(),
                  "--out",
                  out.toString(),
                  "--scorer",
                  "ngram-logistic",
                  "--classifier-dir",
                  folder.toString()
                },
                new PrintStream(stderr, true, StandardCharsets.UTF_8)))
        .isEqualTo(2);
    assertThat(stderr.toString(StandardCharsets.UTF_8))
        .contains("--classifier-dir is set, but the scorer is 'ngram-logistic'");
  }

  @Test
  void shouldExplainUsageErrors() {
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);
    assertThat(BatchScorer.run(new String[] {"--in", "x.jsonl"}, err)).isEqualTo(2);
    assertThat(stderr.toString(StandardCharsets.UTF_8))
        .contains("--in and --out are required")
        .contains("usage: score");
    assertThat(
            BatchScorer.run(
                new String[] {"--in", dir.resolve("missing.jsonl").toString(), "--out", "o"}, err))
        .isEqualTo(2);
    assertThat(stderr.toString(StandardCharsets.UTF_8))
        .contains("score: --in " + dir.resolve("missing.jsonl") + " does not exist");
  }

  @Test
  void shouldRefuseAnOptionGivenTwiceOrAFlagWhereItsValueShouldBe() {
    // The last --policy won silently: a backfill meant for the strict policy ran with another.
    assertThatThrownBy(
            () ->
                BatchScorer.parse(
                    new String[] {
                      "--in",
                      "in.jsonl",
                      "--policy",
                      "strict.yaml",
                      "--out",
                      "o.jsonl",
                      "--policy",
                      "old.yaml"
                    }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--policy is given twice");
    // "--out --explain" wrote the rows to a file named --explain, without the explanations.
    assertThatThrownBy(
            () -> BatchScorer.parse(new String[] {"--in", "in.jsonl", "--out", "--explain"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unexpected argument '--out' (no value)");
  }

  @Test
  void shouldRefuseAnOutputThatIsADirectoryBeforeScoringAnything() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, threeLines());
    Path folder = Files.createDirectory(dir.resolve("results"));
    int[] calls = {0};
    ContentScorer counting =
        scorer(
            texts -> {
              calls[0]++;
              return ngram.scoreBatch(texts);
            });
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);

    int status =
        BatchScorer.run(
            new String[] {"--in", in.toString(), "--out", folder.toString()}, err, c -> counting);
    int missingFolder =
        BatchScorer.run(
            new String[] {"--in", in.toString(), "--out", dir.resolve("no/o.jsonl").toString()},
            err,
            c -> counting);
    int inputFolder =
        BatchScorer.run(
            new String[] {"--in", folder.toString(), "--out", dir.resolve("o.jsonl").toString()},
            err,
            c -> counting);

    String said = stderr.toString(StandardCharsets.UTF_8);
    assertThat(status).as(said).isEqualTo(2);
    assertThat(missingFolder).as(said).isEqualTo(2);
    assertThat(inputFolder).as(said).isEqualTo(2);
    assertThat(calls[0]).as("nothing scored, to be thrown away at the end").isZero();
    assertThat(said)
        .contains("--out " + folder + " is a directory")
        .contains("the folder of --out " + dir.resolve("no/o.jsonl") + " does not exist")
        .contains("score: --in " + folder + " is a directory, not a file");
    assertThat(filesIn(folder)).isEmpty();
  }

  @Test
  void shouldRefuseToWriteOverItsOwnInput() throws Exception {
    Path in = dir.resolve("same.jsonl");
    String line = "{\"id\": \"x\", \"text\": \"What time does the bakery open?\"}\n";
    Files.writeString(in, line);
    Path link = dir.resolve("link.jsonl");
    Files.createSymbolicLink(link, in);
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);

    for (Path out : List.of(in, link, dir.resolve(".").resolve("same.jsonl"))) {
      assertThat(
              BatchScorer.run(new String[] {"--in", in.toString(), "--out", out.toString()}, err))
          .as(out.toString())
          .isEqualTo(2);
    }

    assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("is the input file");
    assertThat(Files.readString(in)).as("the input is left as it was").isEqualTo(line);
  }

  @Test
  void shouldRefuseATenantThePolicyDoesNotNameAndListTheOnesItDoes() throws Exception {
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(in, "{\"id\": \"x\", \"text\": \"What time does the bakery open?\"}\n");
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    int status =
        BatchScorer.run(
            new String[] {
              "--in",
              in.toString(),
              "--out",
              out.toString(),
              "--tenant",
              "kid-edu",
              "--scorer",
              "ngram-logistic"
            },
            new PrintStream(stderr, true, StandardCharsets.UTF_8));

    assertThat(status).isEqualTo(2);
    assertThat(stderr.toString(StandardCharsets.UTF_8))
        .contains("unknown tenant 'kid-edu'")
        .contains("kids-edu");
    assertThat(out).as("nothing scored with the wrong rules").doesNotExist();
  }

  @Test
  void shouldGiveTheCategoryReasonsOfHeldTextsTheirEvidenceWordsWhenAsked() throws Exception {
    String input =
        "{\"id\": \"a\", \"text\": \"Have a lovely day at the museum with your family.\"}\n"
            + "{\"id\": \"c\", \"text\": \"shut up you worthless stupid bitch, nobody wants you here\"}\n";
    List<JsonNode> plain = score(input, 2);
    assertThat(plain.get(1).get("reasons").get(0).has("evidence")).as("only when asked").isFalse();

    List<JsonNode> out = score(input.getBytes(StandardCharsets.UTF_8), ngram, true);

    assertThat(out.get(0).get("decision").asText()).isEqualTo("RELEASE");
    assertThat(out.get(0).get("reasons").get(0).has("evidence")).isFalse();
    JsonNode held = out.get(1);
    JsonNode reason = held.get("reasons").get(0);
    String category = reason.get("category").asText();
    String text = "shut up you worthless stupid bitch, nobody wants you here";
    double logOdds = WordOcclusion.logOdds(ngram.score(text).score(Category.fromId(category)));
    JsonNode evidence = reason.get("evidence");
    assertThat(evidence).isNotEmpty().hasSizeLessThanOrEqualTo(WordOcclusion.TOP);
    assertThat(evidence.get(0).get("word").asText()).isEqualTo("bitch");
    for (JsonNode word : evidence) {
      assertThat(logOdds - WordOcclusion.logOdds(word.get("scoreWithout").asDouble()))
          .isGreaterThanOrEqualTo(WordOcclusion.MIN_LOG_ODDS_DROP - 1e-3);
      // What it says is what the scorer gives the text without the word.
      String without = WordOcclusion.without(text, word.get("word").asText());
      assertThat(ngram.score(without).score(Category.fromId(category)))
          .isCloseTo(word.get("scoreWithout").asDouble(), within(1e-6));
    }
  }

  @Test
  void shouldExplainTheImplicitStereotypeSignalToo() throws Exception {
    List<JsonNode> out =
        score(
            // A demeaning generalisation without slurs, the case the head is for (0.92). Until
            // 2026-12-03 the test used a plain statement the head over-flagged, "Teenagers are
            // sleeping more than they used to." (0.83); the retrained head no longer flags it.
            "{\"id\": 1, \"text\": \"Muslims cannot be trusted to be loyal citizens.\"}\n"
                .getBytes(StandardCharsets.UTF_8),
            ngram,
            true);

    JsonNode stereotype = null;
    for (JsonNode reason : out.get(0).get("reasons")) {
      if (reason.get("code").asText().equals("bias.stereotype")) {
        stereotype = reason;
      }
    }
    assertThat(stereotype).as(out.get(0).toString()).isNotNull();
    // Without its only group word the text mentions no group, so it has no stereotype signal.
    assertThat(stereotype.get("evidence").get(0).get("word").asText()).isEqualTo("muslims");
    assertThat(stereotype.get("evidence").get(0).get("scoreWithout").asDouble()).isZero();
  }

  @Test
  void shouldTakeExplainAsAFlagAnywhere() {
    assertThat(BatchScorer.parse(new String[] {"--explain", "--in", "a", "--out", "b"}).explain())
        .isTrue();
    assertThat(BatchScorer.parse(new String[] {"--in", "a", "--out", "b", "--explain"}).explain())
        .isTrue();
    assertThat(BatchScorer.parse(new String[] {"--in", "a", "--out", "b"}).explain()).isFalse();
  }

  @Test
  void shouldRefuseABatchSizeOutOfBounds() {
    assertThat(
            BatchScorer.parse(new String[] {"--in", "a", "--out", "b", "--batch-size", "4096"})
                .batchSize())
        .isEqualTo(4096);
    assertThatThrownBy(
            () ->
                BatchScorer.parse(new String[] {"--in", "a", "--out", "b", "--batch-size", "4097"}))
        .hasMessage("score: --batch-size must be 1-4096, was 4097");
  }

  private List<JsonNode> score(String input, int batchSize) throws Exception {
    return score(
        input.getBytes(StandardCharsets.UTF_8), TextScreening.defaults(), ngram, batchSize);
  }

  private static List<JsonNode> score(byte[] input, ContentScorer scorer, boolean explain)
      throws Exception {
    return score(input, TextScreening.defaults(), scorer, 2, explain);
  }

  private static List<JsonNode> score(
      byte[] input, TextScreening screening, ContentScorer scorer, int batchSize) throws Exception {
    return score(input, screening, scorer, batchSize, false);
  }

  private static List<JsonNode> score(
      byte[] input, TextScreening screening, ContentScorer scorer, int batchSize, boolean explain)
      throws Exception {
    return score(input, screening, scorer, batchSize, explain, null);
  }

  private static List<JsonNode> score(
      byte[] input,
      TextScreening screening,
      ContentScorer scorer,
      int batchSize,
      boolean explain,
      String tenant)
      throws Exception {
    BatchScorer batch =
        new BatchScorer(
            scorer,
            PolicyLoader.loadDefault(),
            bias,
            bias.versions(),
            screening,
            tenant,
            batchSize,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    if (explain) {
      batch.explainingHeldTexts();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    batch.score(new ByteArrayInputStream(input), out);
    return rows(out);
  }

  private static List<JsonNode> rows(ByteArrayOutputStream out) throws Exception {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (!line.isEmpty()) {
        rows.add(JSON.readTree(line));
      }
    }
    return rows;
  }

  private static List<String> codes(JsonNode row) {
    List<String> codes = new ArrayList<>();
    row.get("reasons").forEach(r -> codes.add(r.get("code").asText()));
    return codes;
  }
}
