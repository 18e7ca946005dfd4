package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.query.Cursor;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.stack.StackConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input the commands refuse is a usage error, exit 2 with one line that says what is wrong, as the
 * README's table has it; before, these threw the audit service's or the policy loader's own
 * exception and exited 1, as for a run that failed. None of these runs reaches a database, a broker
 * or a model.
 */
class InvalidInputExitCodeTest {
  /** A label map the imported classifier's flags accept. */
  private static final String LABELS = "toxic=harassment;neutral=none";

  /** The built-in policy with a review threshold above 1 on its line 22 (hate). */
  /**
   * A classifier folder with the labels neutral and toxic in its config.json and empty model files:
   * a check that reads the labels passes it, a load of the model would fail.
   */
  private static Path labelsOnlyClassifier(Path dir) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("toxic-bert"));
    Files.writeString(folder.resolve("model.onnx"), "");
    Files.writeString(folder.resolve("tokenizer.json"), "");
    Files.writeString(
        folder.resolve("config.json"), "{\"id2label\": {\"0\": \"neutral\", \"1\": \"toxic\"}}");
    return folder;
  }

  private static Path brokenPolicy(Path dir) throws IOException {
    String text = PolicyLoader.defaultText();
    String hate = "    hate:          {review: 0.50, block: 0.90}";
    assertThat(text.lines().skip(21).findFirst()).hasValue(hate);
    return Files.writeString(
        dir.resolve("broken-policy.yaml"),
        text.replace(hate, "    hate:          {review: 2, block: 0.90}"));
  }

  @Test
  void shouldRefuseAnInvalidPolicyOfWhatIfAndReplayWithItsLineBeforeReadingTheStore(
      @TempDir Path dir) throws Exception {
    Path policy = brokenPolicy(dir);

    // No store listens on port 1: the policy file is refused before one is looked for.
    for (Object command : new Object[] {new AuditWhatIfCommand(), new AuditReplayCommand()}) {
      CommandRun run = withoutStore(command, policy, dir);

      assertThat(run.code()).as(command.getClass().getSimpleName() + ": " + run.err()).isEqualTo(2);
      assertThat(run.err())
          .startsWith("genguard: Invalid policy " + policy + " at line 22")
          .doesNotContain("\tat ");
    }
  }

  @Test
  void shouldRefuseAnInvalidStackPolicyBeforeAnythingStarts(@TempDir Path dir) throws Exception {
    Path policy = brokenPolicy(dir);
    Path missing = dir.resolve("no-such-policy.yaml");

    // The bad port would stop the start too; the policy file is checked first.
    for (Object command : new Object[] {new RunCommand(), new DemoCommand()}) {
      CommandRun run =
          CommandRun.of(command, "--policy", policy.toString(), "--http-port", "70000");

      assertThat(run.code()).as(command.getClass().getSimpleName()).isEqualTo(2);
      assertThat(run.err()).startsWith("genguard: Invalid policy " + policy + " at line 22");
    }
    CommandRun run =
        CommandRun.of(new RunCommand(), "--policy", missing.toString(), "--http-port", "70000");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("Invalid policy " + missing).contains("cannot read the file");
  }

  @Test
  void shouldRefuseAnInvalidPolicyOfTheEnvironmentBeforeAnythingStartsNamingItsKey(
      @TempDir Path dir) throws Exception {
    Path policy = brokenPolicy(dir);
    Map<String, String> environment = Map.of(StackConfig.POLICY_FILE, policy.toString());

    // The bad port would stop the start too (no Kafka or PostgreSQL starts in this test); the
    // environment's policy file is checked first. Before, it failed the stack once they were up.
    RunCommand run = new RunCommand();
    run.stack = new StackOptions();
    run.stack.environment = environment;
    DemoCommand demo = new DemoCommand();
    demo.stack = new StackOptions();
    demo.stack.environment = environment;
    for (Object command : new Object[] {run, demo}) {
      StdErr err = new StdErr();
      CommandRun refused = err.during(() -> CommandRun.of(command, "--http-port", "70000"));

      assertThat(refused.code()).as(refused.err()).isEqualTo(2);
      assertThat(refused.err())
          .startsWith(
              "genguard: " + StackConfig.POLICY_FILE + ": Invalid policy " + policy + " at line 22")
          .hasLineCount(1);
      assertThat(err.text()).as("nothing said before the refusal").isEmpty();
    }

    // --policy overrides the environment's file: then only the port is refused.
    RunCommand overridden = new RunCommand();
    overridden.stack = new StackOptions();
    overridden.stack.environment = environment;
    Path good = Files.writeString(dir.resolve("good.yaml"), PolicyLoader.defaultText());
    CommandRun port =
        CommandRun.of(overridden, "--policy", good.toString(), "--http-port", "70000");
    assertThat(port.code()).as(port.err()).isEqualTo(2);
    assertThat(port.err()).startsWith("genguard: --http-port 70000");
  }

  @Test
  void shouldRefuseAMissingOrIncompleteClassifierFolderBeforeAnythingStarts(@TempDir Path dir)
      throws Exception {
    Path missing = dir.resolve("missing");
    Path incomplete = Files.createDirectories(dir.resolve("incomplete"));
    Files.writeString(incomplete.resolve("model.onnx"), "");
    Files.writeString(incomplete.resolve("tokenizer.json"), "");
    String labels = "toxic=harassment;neutral=none";
    // The bad port would stop the start too (no Kafka or PostgreSQL starts in this test); the
    // classifier's folder is checked first. Before, it failed the stack once they were up.
    Map<Map<String, String>, String> refusals =
        Map.of(
            Map.of(
                StackConfig.MODERATION_SCORER,
                "onnx-classifier",
                ScorerConfig.CLASSIFIER_DIR,
                missing.toString(),
                ScorerConfig.CLASSIFIER_LABELS,
                labels),
            "genguard: "
                + ScorerConfig.CLASSIFIER_DIR
                + " "
                + missing
                + " does not exist; name the classifier's folder (model.onnx, tokenizer.json,"
                + " config.json)",
            Map.of(
                StackConfig.MODERATION_SCORER,
                "onnx-classifier",
                ScorerConfig.CLASSIFIER_DIR,
                incomplete.toString(),
                ScorerConfig.CLASSIFIER_LABELS,
                labels),
            "genguard: "
                + ScorerConfig.CLASSIFIER_DIR
                + " "
                + incomplete
                + " has no config.json; the classifier needs model.onnx, tokenizer.json,"
                + " config.json",
            Map.of(StackConfig.MODERATION_SCORER, "onnx-classifier"),
            "genguard: "
                + ScorerConfig.CLASSIFIER_DIR
                + " is required with onnx-classifier: name the classifier's folder (model.onnx,"
                + " tokenizer.json, config.json)");
    for (Map.Entry<Map<String, String>, String> refusal : refusals.entrySet()) {
      RunCommand run = new RunCommand();
      run.stack = new StackOptions();
      run.stack.environment = refusal.getKey();
      DemoCommand demo = new DemoCommand();
      demo.stack = new StackOptions();
      demo.stack.environment = refusal.getKey();
      for (Object command : new Object[] {run, demo}) {
        StdErr err = new StdErr();
        CommandRun refused = err.during(() -> CommandRun.of(command, "--http-port", "70000"));

        assertThat(refused.code()).as(refused.err()).isEqualTo(2);
        assertThat(refused.err()).startsWith(refusal.getValue()).hasLineCount(1);
        assertThat(err.text()).as("nothing said before the refusal").isEmpty();
      }
    }

    // --scorer names the classifier too; another scorer leaves the folder unread (only the port).
    RunCommand flagged = new RunCommand();
    flagged.stack = new StackOptions();
    flagged.stack.environment = Map.of(ScorerConfig.CLASSIFIER_DIR, missing.toString());
    CommandRun named =
        CommandRun.of(flagged, "--scorer", "onnx-classifier", "--http-port", "70000");
    assertThat(named.code()).as(named.err()).isEqualTo(2);
    assertThat(named.err()).startsWith("genguard: " + ScorerConfig.CLASSIFIER_DIR + " " + missing);
    RunCommand other = new RunCommand();
    other.stack = new StackOptions();
    other.stack.environment = Map.of();
    CommandRun port = CommandRun.of(other, "--scorer", "keyword-baseline", "--http-port", "70000");
    assertThat(port.code()).as(port.err()).isEqualTo(2);
    assertThat(port.err()).startsWith("genguard: --http-port 70000");
  }

  @Test
  void shouldRefuseALabelMapThatDoesNotFitTheClassifiersLabelsBeforeAnythingStarts(
      @TempDir Path dir) throws Exception {
    Path folder = labelsOnlyClassifier(dir);
    // Before, these passed the start-up check and failed the stack once Kafka and PostgreSQL were
    // up (exit 1); the bad port shows the classifier is checked first.
    Map<String, String> refusals =
        Map.of(
            "toxic=harassment",
            "genguard: The classifier's labels [neutral] are not in "
                + ScorerConfig.LABELS_SETTING
                + "; map each label to categories, or to 'none' to ignore it (labels: [neutral,"
                + " toxic])",
            "toxic=harassment;neutral=none;threat=violence",
            "genguard: "
                + ScorerConfig.LABELS_SETTING
                + " names label 'threat', which the classifier does not have (labels: [neutral,"
                + " toxic])");
    for (Map.Entry<String, String> refusal : refusals.entrySet()) {
      Map<String, String> environment =
          Map.of(
              StackConfig.MODERATION_SCORER,
              "onnx-classifier",
              ScorerConfig.CLASSIFIER_DIR,
              folder.toString(),
              ScorerConfig.CLASSIFIER_LABELS,
              refusal.getKey());
      RunCommand run = new RunCommand();
      run.stack = new StackOptions();
      run.stack.environment = environment;
      DemoCommand demo = new DemoCommand();
      demo.stack = new StackOptions();
      demo.stack.environment = environment;
      for (Object command : new Object[] {run, demo}) {
        CommandRun refused = CommandRun.of(command, "--http-port", "70000");

        assertThat(refused.code()).as(refused.err()).isEqualTo(2);
        assertThat(refused.err().strip()).isEqualTo(refusal.getValue());
      }
    }
  }

  @Test
  void shouldSayStartingOnlyOnceTheDemosOptionsAreChecked() {
    DemoCommand demo = new DemoCommand();
    demo.stack = new StackOptions();
    demo.stack.environment = Map.of();
    StdErr err = new StdErr();
    CommandRun refused = err.during(() -> CommandRun.of(demo, "--http-port", "70000"));

    assertThat(refused.code()).as(refused.err()).isEqualTo(2);
    assertThat(refused.err()).startsWith("genguard: --http-port 70000").hasLineCount(1);
    assertThat(err.text()).doesNotContain("Starting GenGuard");
  }

  @Test
  void shouldRefuseAnAnchorKeyOrBundleFileThatIsADirectoryOrUnreadable(@TempDir Path dir)
      throws Exception {
    Path folder = Files.createDirectory(dir.resolve("a-folder"));
    Path bundle = Files.writeString(dir.resolve("evidence.json"), "{}");
    Path keys = Files.writeString(dir.resolve("anchors.keys"), "");
    Path anchors = Files.writeString(dir.resolve("anchors.log"), "");

    // No store is named or reached: the files are refused first.
    String[][] refused = {
      {"verify", "--anchors", folder.toString()},
      {"verify", "--anchors", anchors.toString(), "--anchor-keys", folder.toString()},
      {"verify-evidence", "--in", bundle.toString(), "--anchor-keys", folder.toString()},
      {"verify-evidence", "--in", folder.toString(), "--anchor-keys", keys.toString()},
      {"verify-evidence", "--in", bundle.toString(), "--unsigned", "--anchors", folder.toString()},
    };
    for (String[] args : refused) {
      Object command =
          args[0].equals("verify") ? new AuditVerifyCommand() : new AuditVerifyEvidenceCommand();
      String[] flags = List.of(args).subList(1, args.length).toArray(String[]::new);
      CommandRun run = CommandRun.of(command, flags);

      assertThat(run.code()).as(List.of(args) + ": " + run.err()).isEqualTo(2);
      assertThat(run.err())
          .as(List.of(args).toString())
          .contains(folder + " is a directory, not a file")
          .hasLineCount(1);
    }
  }

  @Test
  void shouldRefuseAMissingAnchorCopyWhateverTheBundleHolds(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("no-such-anchors.log");
    // Before, a missing --anchors was noticed only after the bundle was read, and never when the
    // bundle was not JSON: the run went on to a finding about the bundle, exit 1.
    for (String bundleText : List.of("not json {", "{}")) {
      Path bundle = Files.writeString(dir.resolve("evidence.json"), bundleText);
      CommandRun run =
          CommandRun.of(
              new AuditVerifyEvidenceCommand(),
              "--in",
              bundle.toString(),
              "--unsigned",
              "--anchors",
              missing.toString());

      assertThat(run.code()).as(bundleText + ": " + run.err()).isEqualTo(2);
      assertThat(run.err())
          .as(bundleText)
          .contains("--anchors " + missing + " does not exist")
          .hasLineCount(1);
      assertThat(run.out()).as(bundleText).isEmpty();
    }
  }

  /**
   * A copy that is no anchor file is refused (exit 2, naming it) whatever the bundle holds, as a
   * missing one is: also when nothing of the bundle could be looked up in it. Before the
   * forty-ninth session it was read, and refused, only when the bundle had segments: a bundle that
   * could not be read, or had none, gave exit 1 and "not compared", the copy's damage unsaid.
   */
  @Test
  void shouldRefuseAnAnchorCopyThatIsNoAnchorFileWhateverTheBundleHolds(@TempDir Path dir)
      throws Exception {
    Path copy = Files.writeString(dir.resolve("anchors-copy.log"), "not an anchor line\n");
    String line =
        new ObjectMapper().writeValueAsString("{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}");
    for (String bundleText :
        List.of(
            "not json {",
            "[1, 2]",
            "{}",
            "{\"segments\": [{\"anchor\": \"x\"}]}",
            "{\"segments\": [{\"anchor\": " + line + "}]}")) {
      Path bundle = Files.writeString(dir.resolve("evidence.json"), bundleText);
      String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
      for (CommandRun run :
          List.of(
              CommandRun.of(new AuditVerifyEvidenceCommand(), flags),
              verifyEvidenceInJson(flags))) {
        assertThat(run.code()).as(bundleText + ": " + run.out() + run.err()).isEqualTo(2);
        assertThat(run.err()).as(bundleText).contains(copy.toString()).hasLineCount(1);
        assertThat(run.out()).as(bundleText).isEmpty();
      }
    }
  }

  @Test
  void shouldSayTheAnchorCopyWasNotComparedWhenTheBundleCannotBeRead(@TempDir Path dir)
      throws Exception {
    Path copy = Files.writeString(dir.resolve("anchors-copy.log"), "");
    // Before, a bundle that could not be read was said to have every anchor line in the copy (and
    // "anchorCopyProblems": [] in JSON), though nothing was compared.
    for (String bundleText : List.of("not json {", "[1, 2]")) {
      Path bundle = Files.writeString(dir.resolve("evidence.json"), bundleText);
      String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
      CommandRun text = CommandRun.of(new AuditVerifyEvidenceCommand(), flags);
      CommandRun json = verifyEvidenceInJson(flags);

      assertThat(text.code()).as(bundleText + ": " + text.err()).isEqualTo(1);
      assertThat(text.out())
          .as(bundleText)
          .contains("The anchor copy " + copy + " was not compared: the bundle could not be read.")
          .doesNotContain("Every anchor line");
      assertThat(json.code()).as(bundleText + ": " + json.err()).isEqualTo(1);
      JsonNode body = new ObjectMapper().readTree(json.out());
      assertThat(body.path("anchorCopyCompared").isBoolean()).as(json.out()).isTrue();
      assertThat(body.path("anchorCopyCompared").booleanValue()).as(json.out()).isFalse();
      assertThat(body.get("anchorCopyProblems").isNull()).as(json.out()).isTrue();
      assertThat(body.path("holds").booleanValue()).as(json.out()).isFalse();
    }

    // A bundle read as an object with an anchor line is compared: the same flags.
    String line = "{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}";
    Files.writeString(copy, line + "\n");
    Path bundle =
        Files.writeString(
            dir.resolve("evidence.json"),
            "{\"segments\": [{\"anchor\": " + new ObjectMapper().writeValueAsString(line) + "}]}");
    String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
    CommandRun json = verifyEvidenceInJson(flags);
    JsonNode body = new ObjectMapper().readTree(json.out());
    assertThat(body.path("anchorCopyCompared").booleanValue()).as(json.out()).isTrue();
    assertThat(body.path("anchorLinesCompared").intValue()).as(json.out()).isEqualTo(1);
    assertThat(body.get("anchorCopyProblems").isArray()).as(json.out()).isTrue();
    assertThat(body.get("anchorCopyProblems")).as(json.out()).isEmpty();
    assertThat(CommandRun.of(new AuditVerifyEvidenceCommand(), flags).out())
        .contains("Every anchor line of the bundle is in " + copy + " as written.")
        .doesNotContain("was not compared");
  }

  @Test
  void shouldSayTheAnchorCopyWasNotComparedWhenTheBundleHasNoAnchorLines(@TempDir Path dir)
      throws Exception {
    Path copy =
        Files.writeString(
            dir.resolve("anchors-copy.log"), "{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}\n");
    // Before, a bundle that is an object without anchor lines was "compared": the text said every
    // anchor line of it was in the copy (true only as it has none), "anchorCopyProblems": [].
    for (String bundleText :
        List.of("{}", "{\"segments\": []}", "{\"segments\": {\"anchor\": \"x\"}}")) {
      Path bundle = Files.writeString(dir.resolve("evidence.json"), bundleText);
      String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
      CommandRun text = CommandRun.of(new AuditVerifyEvidenceCommand(), flags);
      CommandRun json = verifyEvidenceInJson(flags);

      assertThat(text.code()).as(bundleText + ": " + text.err()).isEqualTo(1);
      assertThat(text.out())
          .as(bundleText)
          .contains(
              "The anchor copy "
                  + copy
                  + " was not compared: the bundle has no anchor lines (no segments).")
          .doesNotContain("Every anchor line");
      assertThat(json.code()).as(bundleText + ": " + json.err()).isEqualTo(1);
      JsonNode body = new ObjectMapper().readTree(json.out());
      assertThat(body.path("anchorCopyCompared").isBoolean()).as(json.out()).isTrue();
      assertThat(body.path("anchorCopyCompared").booleanValue()).as(json.out()).isFalse();
      assertThat(body.path("anchorLinesCompared").isInt()).as(json.out()).isTrue();
      assertThat(body.path("anchorLinesCompared").intValue()).as(json.out()).isZero();
      assertThat(body.get("anchorCopyProblems").isNull()).as(json.out()).isTrue();
      assertThat(body.path("holds").booleanValue()).as(json.out()).isFalse();
    }

    // A segment whose anchor line is not one: compared, and named as not compared, never found.
    Path bundle =
        Files.writeString(dir.resolve("evidence.json"), "{\"segments\": [{\"anchor\": \"x\"}]}");
    String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
    CommandRun text = CommandRun.of(new AuditVerifyEvidenceCommand(), flags);
    assertThat(text.code()).as(text.err()).isEqualTo(1);
    assertThat(text.out())
        .contains(
            "segment 1's anchor line is not an anchor line, so it was not compared with " + copy)
        .doesNotContain("Every anchor line");
  }

  @Test
  void shouldCountAsComparedOnlyTheAnchorLinesLookedUpInTheCopy(@TempDir Path dir)
      throws Exception {
    String line = "{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}";
    Path copy = Files.writeString(dir.resolve("anchors-copy.log"), line + "\n");
    // Segment 1's line is in the copy; segment 2's is not an anchor line, so not looked up.
    Path bundle =
        Files.writeString(
            dir.resolve("evidence.json"),
            "{\"segments\": [{\"anchor\": "
                + new ObjectMapper().writeValueAsString(line)
                + "}, {\"anchor\": \"x\"}]}");
    String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
    CommandRun json = verifyEvidenceInJson(flags);

    // Before, 2: every segment was counted, also the one whose line was never looked up.
    JsonNode body = new ObjectMapper().readTree(json.out());
    assertThat(body.path("anchorLinesCompared").intValue()).as(json.out()).isEqualTo(1);
    assertThat(body.get("anchorCopyProblems").toString())
        .as(json.out())
        .contains("segment 2's anchor line is not an anchor line, so it was not compared with");
    assertThat(body.get("anchorCopyProblems")).as(json.out()).hasSize(1);
  }

  @Test
  void shouldSayTheAnchorCopyWasNotComparedWhenNoSegmentsAnchorLineIsOne(@TempDir Path dir)
      throws Exception {
    Path copy =
        Files.writeString(
            dir.resolve("anchors-copy.log"), "{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}\n");
    // Before, "anchorCopyCompared": true though no line was looked up in the copy.
    Path bundle =
        Files.writeString(
            dir.resolve("evidence.json"), "{\"segments\": [{\"anchor\": \"x\"}, {\"anchor\": 7}]}");
    String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
    CommandRun json = verifyEvidenceInJson(flags);
    CommandRun text = CommandRun.of(new AuditVerifyEvidenceCommand(), flags);

    assertThat(json.code()).as(json.err()).isEqualTo(1);
    JsonNode body = new ObjectMapper().readTree(json.out());
    assertThat(body.path("anchorCopyCompared").isBoolean()).as(json.out()).isTrue();
    assertThat(body.path("anchorCopyCompared").booleanValue()).as(json.out()).isFalse();
    assertThat(body.path("anchorLinesCompared").intValue()).as(json.out()).isZero();
    // Each segment is still named as not compared.
    assertThat(body.get("anchorCopyProblems")).as(json.out()).hasSize(2);
    assertThat(body.path("holds").booleanValue()).as(json.out()).isFalse();
    assertThat(text.code()).as(text.err()).isEqualTo(1);
    assertThat(text.out())
        .contains(
            "The anchor copy "
                + copy
                + " was not compared: no segment's anchor line is an anchor line.",
            "segment 1's anchor line is not an anchor line, so it was not compared with " + copy,
            "segment 2's anchor line is not an anchor line, so it was not compared with " + copy)
        .doesNotContain("Every anchor line");
  }

  @Test
  void shouldListTheAnchorCopysProblemsInTheSegmentsOrder(@TempDir Path dir) throws Exception {
    Path copy =
        Files.writeString(
            dir.resolve("anchors-copy.log"), "{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}\n");
    String missing = "{\"seq\":2,\"hash\":\"" + "0".repeat(64) + "\"}";
    // Segment 1's line is not in the copy, segment 2's is no anchor line, segment 3's is missing
    // too: before, segment 2 came first (the lines that are none were listed before the others).
    ObjectMapper mapper = new ObjectMapper();
    Path bundle =
        Files.writeString(
            dir.resolve("evidence.json"),
            "{\"segments\": [{\"anchor\": "
                + mapper.writeValueAsString(missing)
                + "}, {\"anchor\": \"x\"}, {\"anchor\": "
                + mapper.writeValueAsString(missing)
                + "}]}");
    String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
    CommandRun json = verifyEvidenceInJson(flags);

    assertThat(json.code()).as(json.err()).isEqualTo(1);
    JsonNode body = mapper.readTree(json.out());
    assertThat(body.path("anchorCopyCompared").booleanValue()).as(json.out()).isTrue();
    assertThat(body.path("anchorLinesCompared").intValue()).as(json.out()).isEqualTo(2);
    List<String> problems = new ArrayList<>();
    body.get("anchorCopyProblems").forEach(problem -> problems.add(problem.asText()));
    assertThat(problems)
        .as(json.out())
        .satisfiesExactly(
            first -> assertThat(first).startsWith("segment 1's anchor line (seq 2) is not in"),
            second -> assertThat(second).startsWith("segment 2's anchor line is not an anchor"),
            third -> assertThat(third).startsWith("segment 3's anchor line (seq 2) is not in"));
  }

  @Test
  void shouldCompareEachSegmentsAnchorLineWithTheCopyThoughTwoNameOneSeq(@TempDir Path dir)
      throws Exception {
    String genuine = "{\"seq\":1,\"hash\":\"" + "0".repeat(64) + "\"}";
    String madeUp = "{\"seq\":1,\"hash\":\"" + "1".repeat(64) + "\"}";
    Path copy = Files.writeString(dir.resolve("anchors-copy.log"), genuine + "\n");
    ObjectMapper mapper = new ObjectMapper();
    // A made-up line before the genuine line of the same seq: before, the two collapsed into one
    // entry (the genuine one, the last), and the made-up line was never compared.
    Path bundle =
        Files.writeString(
            dir.resolve("evidence.json"),
            "{\"segments\": [{\"anchor\": "
                + mapper.writeValueAsString(madeUp)
                + "}, {\"anchor\": "
                + mapper.writeValueAsString(genuine)
                + "}]}");
    String[] flags = {"--in", bundle.toString(), "--unsigned", "--anchors", copy.toString()};
    CommandRun json = verifyEvidenceInJson(flags);

    assertThat(json.code()).as(json.err()).isEqualTo(1);
    JsonNode body = mapper.readTree(json.out());
    assertThat(body.path("anchorLinesCompared").intValue()).as(json.out()).isEqualTo(2);
    assertThat(body.get("anchorCopyProblems")).as(json.out()).hasSize(1);
    assertThat(body.get("anchorCopyProblems").get(0).asText())
        .startsWith("segment 1's anchor line (seq 1) differs from the one in " + copy);
    assertThat(CommandRun.of(new AuditVerifyEvidenceCommand(), flags).out())
        .contains("segment 1's anchor line (seq 1) differs")
        .doesNotContain("segment 2's anchor line", "Every anchor line");
  }

  @Test
  void shouldRefuseAnAnchorKeyFileItCannotRead(@TempDir Path dir) throws Exception {
    Path bundle = Files.writeString(dir.resolve("evidence.json"), "{}");
    // Root reads any file: the permission case can only be seen as another user.
    Path locked = Files.writeString(dir.resolve("locked.keys"), "");
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
    Assumptions.assumeFalse(Files.isReadable(locked), "running as root");
    CommandRun run =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(),
            "--in",
            bundle.toString(),
            "--anchor-keys",
            locked.toString());
    assertThat(run.code()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("--anchor-keys " + locked + " cannot be read");
  }

  @Test
  void shouldRefuseAMissingOrIncompleteClassifierFolderOfReplayAndWhatIfBeforeReadingTheStore(
      @TempDir Path dir) throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), PolicyLoader.defaultText());
    Path missing = dir.resolve("no-such-model");
    Path incomplete = Files.createDirectory(dir.resolve("incomplete"));
    Files.writeString(incomplete.resolve("config.json"), "{}");
    Files.writeString(incomplete.resolve("tokenizer.json"), "{}");

    String[][] cases = {
      {missing.toString(), "--classifier-dir " + missing + " does not exist"},
      {incomplete.toString(), "--classifier-dir " + incomplete + " has no model.onnx"},
    };
    for (String[] folder : cases) {
      for (Object command : new Object[] {new AuditWhatIfCommand(), new AuditReplayCommand()}) {
        // No store listens on port 1: the folder is refused before one is looked for.
        CommandRun run =
            withoutStore(
                command, policy, dir, "--classifier-dir", folder[0], "--classifier-labels", LABELS);

        assertThat(run.code())
            .as(command.getClass().getSimpleName() + ": " + run.err())
            .isEqualTo(2);
        assertThat(run.err()).startsWith("genguard: " + folder[1]).hasLineCount(1);
      }
    }
  }

  @Test
  void shouldRefuseAMissingOrIncompleteClassifierFolderOfTheEnvironmentBeforeReadingTheStore(
      @TempDir Path dir) throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), PolicyLoader.defaultText());
    Path missing = dir.resolve("no-such-model");
    Path incomplete = Files.createDirectory(dir.resolve("incomplete"));
    Files.writeString(incomplete.resolve("model.onnx"), "");
    Files.writeString(incomplete.resolve("config.json"), "{}");
    String key = ScorerConfig.CLASSIFIER_DIR;

    // The job's keys, read without the flags: checked as the flag is (before, only as the
    // classifier loaded, at the first of its verdicts).
    String[][] cases = {
      {missing.toString(), key + " " + missing + " does not exist"},
      {incomplete.toString(), key + " " + incomplete + " has no tokenizer.json"},
      {"", key + " is required with onnx-classifier"},
    };
    UnaryOperator<String> environment = AuditStoreOptions.environment;
    try {
      for (String[] folder : cases) {
        AuditStoreOptions.environment =
            Map.of(key, folder[0], ScorerConfig.CLASSIFIER_LABELS, LABELS)::get;
        for (Object command : new Object[] {new AuditWhatIfCommand(), new AuditReplayCommand()}) {
          // No store listens on port 1: the folder is refused before one is looked for.
          CommandRun run = withoutStore(command, policy, dir);

          assertThat(run.code())
              .as(command.getClass().getSimpleName() + ": " + run.err())
              .isEqualTo(2);
          assertThat(run.err()).startsWith("genguard: " + folder[1]).hasLineCount(1);
        }
      }
    } finally {
      AuditStoreOptions.environment = environment;
    }
  }

  @Test
  void shouldRefuseALabelMapThatDoesNotFitTheClassifierOfReplayAndWhatIfBeforeReadingTheStore(
      @TempDir Path dir) throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), PolicyLoader.defaultText());
    Path folder = labelsOnlyClassifier(dir);
    String unmapped =
        "genguard: The classifier's labels [neutral] are not in "
            + ScorerConfig.LABELS_SETTING
            + "; map each label to categories, or to 'none' to ignore it (labels: [neutral,"
            + " toxic])";

    // Before, only the folder was checked here: the label map showed as the classifier loaded,
    // once the store was read (no store listens on port 1 here, so exit 1 naming the store).
    UnaryOperator<String> environment = AuditStoreOptions.environment;
    try {
      for (Object command : new Object[] {new AuditWhatIfCommand(), new AuditReplayCommand()}) {
        CommandRun flags =
            withoutStore(
                command,
                policy,
                dir,
                "--classifier-dir",
                folder.toString(),
                "--classifier-labels",
                "toxic=harassment");
        assertThat(flags.code()).as(flags.err()).isEqualTo(2);
        assertThat(flags.err().strip()).isEqualTo(unmapped);

        AuditStoreOptions.environment =
            Map.of(
                    ScorerConfig.CLASSIFIER_DIR,
                    folder.toString(),
                    ScorerConfig.CLASSIFIER_LABELS,
                    "toxic=harassment;neutral=none;threat=violence")
                ::get;
        CommandRun fromEnvironment =
            withoutStore(
                command instanceof AuditWhatIfCommand
                    ? new AuditWhatIfCommand()
                    : new AuditReplayCommand(),
                policy,
                dir);
        assertThat(fromEnvironment.code()).as(fromEnvironment.err()).isEqualTo(2);
        assertThat(fromEnvironment.err().strip())
            .isEqualTo(
                "genguard: "
                    + ScorerConfig.LABELS_SETTING
                    + " names label 'threat', which the classifier does not have (labels:"
                    + " [neutral, toxic])");
        AuditStoreOptions.environment = environment;
      }
    } finally {
      AuditStoreOptions.environment = environment;
    }
  }

  /** What {@code score} reads in these tests (one line) and where it would write. */
  private record ScoreFiles(Path in, Path out) {
    static ScoreFiles in(Path dir) throws IOException {
      return new ScoreFiles(
          Files.writeString(dir.resolve("in.jsonl"), "{\"id\": 1, \"text\": \"hello\"}\n"),
          dir.resolve("out.jsonl"));
    }

    /** {@code score}'s arguments: these files, then {@code more}. */
    String[] args(String... more) {
      List<String> args = new ArrayList<>(List.of("--in", in.toString(), "--out", out.toString()));
      args.addAll(List.of(more));
      return args.toArray(String[]::new);
    }
  }

  @Test
  void shouldRefuseAMissingClassifierFolderOfScoreAndQualityBeforeLoadingAnything(@TempDir Path dir)
      throws Exception {
    ScoreFiles score = ScoreFiles.in(dir);
    Path missing = dir.resolve("no-such-model");

    String scoreErr =
        refusedWith2(
            new PassThroughCommands.Score(),
            score.args(
                "--scorer",
                "onnx-classifier",
                "--classifier-dir",
                missing.toString(),
                "--classifier-labels",
                LABELS));
    // One line each: before the forty-eighth session, the usage line followed.
    assertThat(scoreErr)
        .startsWith("score: --classifier-dir " + missing + " does not exist")
        .doesNotContain("\tat ", "usage:")
        .hasLineCount(1);
    assertThat(score.out()).as("nothing scored").doesNotExist();

    String withoutErr =
        refusedWith2(new PassThroughCommands.Score(), score.args("--scorer", "onnx-classifier"));
    assertThat(withoutErr)
        .startsWith("score: --classifier-dir is required with onnx-classifier")
        .hasLineCount(1);

    String qualityErr =
        refusedWith2(
            new PassThroughCommands.Quality(),
            "--data-dir",
            dir.resolve("no-data").toString(),
            "--scorers",
            "onnx-classifier",
            "--classifier-dir",
            missing.toString(),
            "--classifier-labels",
            LABELS);
    assertThat(qualityErr)
        .startsWith("quality: --classifier-dir " + missing + " does not exist")
        .doesNotContain("\tat ", "usage:")
        .hasLineCount(1);
  }

  @Test
  void shouldRefuseAnInvalidScorePolicyAsAUsageError(@TempDir Path dir) throws Exception {
    Path policy = brokenPolicy(dir);
    ScoreFiles score = ScoreFiles.in(dir);

    String err =
        refusedWith2(new PassThroughCommands.Score(), score.args("--policy", policy.toString()));
    assertThat(err)
        .contains("score: --policy: Invalid policy " + policy + " at line 22")
        .doesNotContain("score: failed");
    assertThat(score.out()).as("nothing scored").doesNotExist();
  }

  @Test
  void shouldRefuseAMissingOrFolderInputOfScoreInOneLineBeforeLoadingTheScorer(@TempDir Path dir)
      throws Exception {
    Path missing = dir.resolve("no-such-input.jsonl");
    Path folder = Files.createDirectory(dir.resolve("a-folder.jsonl"));
    Path out = dir.resolve("out.jsonl");

    // The file the user named: a usage error (exit 2) as verify-evidence's --in, audit verify's
    // --anchors or a campaign file. Before, exit 1 as for a run that failed.
    Map<Path, String> refusals =
        Map.of(
            missing, "score: --in " + missing + " does not exist",
            folder, "score: --in " + folder + " is a directory, not a file");
    for (Map.Entry<Path, String> refusal : refusals.entrySet()) {
      String err =
          refusedWith2(
              new PassThroughCommands.Score(),
              "--in",
              refusal.getKey().toString(),
              "--out",
              out.toString());
      assertThat(err).isEqualTo(refusal.getValue() + System.lineSeparator());
      assertThat(out).as("nothing written").doesNotExist();
    }
  }

  @Test
  void shouldFailScoreWithOneWhenItsInputIsThereButCannotBeRead(@TempDir Path dir) {
    // A regular file whose reading fails with an I/O error (EIO at offset 0): the run failed, the
    // user named a file that is there. Not a usage error.
    Path unreadable = Path.of("/proc/self/mem");
    Assumptions.assumeTrue(Files.isRegularFile(unreadable), "no /proc/self/mem here");
    Path out = dir.resolve("out.jsonl");
    StdErr err = new StdErr();
    CommandRun run =
        err.during(
            () ->
                CommandRun.of(
                    new PassThroughCommands.Score(),
                    "--in",
                    unreadable.toString(),
                    "--out",
                    out.toString(),
                    "--scorer",
                    "keyword-baseline"));

    assertThat(run.code()).as(err.text()).isEqualTo(1);
    assertThat(err.text()).contains("score: failed: ").contains("left " + out + " as it was");
    assertThat(out).doesNotExist();
  }

  @Test
  void shouldRefuseAnInvalidQualityPolicyBeforeMeasuring(@TempDir Path dir) throws Exception {
    Path policy = brokenPolicy(dir);

    String err =
        refusedWith2(
            new PassThroughCommands.Quality(),
            "--data-dir",
            dir.resolve("no-data").toString(),
            "--policy",
            policy.toString(),
            "--out",
            dir.resolve("QUALITY.md").toString());
    assertThat(err)
        .contains("quality: --policy: Invalid policy " + policy + " at line 22")
        .doesNotContain("\tat ");
  }

  @Test
  void shouldRefuseAMissingOrFileDataFolderOfTrainAndQualityInOneLineBeforeLoading(
      @TempDir Path dir) throws Exception {
    Path missing = dir.resolve("no-such-data");
    Path file = Files.writeString(dir.resolve("data.txt"), "not a folder");
    Path models = dir.resolve("models");
    Path report = dir.resolve("QUALITY.md");

    // The folder the user named: a usage error (exit 2) in one line, naming where it came from.
    // Before, exit 1 ("train failed: ..." or "quality report failed: ...") with a stack trace.
    Map<Path, String> refusals =
        Map.of(
            missing, "does not exist",
            file, "is not a directory");
    for (Map.Entry<Path, String> refusal : refusals.entrySet()) {
      String dataDir = refusal.getKey().toString();
      String expected =
          "the shared data folder "
              + refusal.getKey().toAbsolutePath()
              + " (--data-dir) "
              + refusal.getValue()
              + "; put the shared data sets there, set GENGUARD_DATA_DIR, or pass --data-dir"
              + System.lineSeparator();
      String train =
          refusedWith2(
              new PassThroughCommands.Train(),
              "--model",
              "ngram",
              "--data-dir",
              dataDir,
              "--out",
              models.toString());
      assertThat(train).isEqualTo("train: " + expected);
      String quality =
          refusedWith2(
              new PassThroughCommands.Quality(),
              "--scorers",
              "keyword-baseline",
              "--data-dir",
              dataDir,
              "--out",
              report.toString());
      assertThat(quality).isEqualTo("quality: " + expected);
    }
    assertThat(models).as("nothing trained").doesNotExist();
    assertThat(report).as("nothing measured").doesNotExist();
  }

  @Test
  void shouldRefuseADataFolderItCannotReadOfTrainAndQuality(@TempDir Path dir) throws Exception {
    // Root reads any folder: the permission case can only be seen as another user.
    Path locked = Files.createDirectory(dir.resolve("locked-data"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
    Assumptions.assumeFalse(Files.isReadable(locked), "running as root");
    String train = refusedWith2(new PassThroughCommands.Train(), "--data-dir", locked.toString());
    assertThat(train)
        .startsWith("train: the shared data folder " + locked + " (--data-dir) cannot be read")
        .hasLineCount(1);
    String quality =
        refusedWith2(new PassThroughCommands.Quality(), "--data-dir", locked.toString());
    assertThat(quality)
        .startsWith("quality: the shared data folder " + locked + " (--data-dir) cannot be read")
        .hasLineCount(1);
  }

  @Test
  void shouldRefuseALabelMapThatDoesNotFitTheClassifierOfScoreAndQualityBeforeLoadingIt(
      @TempDir Path dir) throws Exception {
    Path folder = labelsOnlyClassifier(dir);
    String unmapped =
        "The classifier's labels [neutral] are not in "
            + ScorerConfig.LABELS_SETTING
            + "; map each label to categories, or to 'none' to ignore it (labels: [neutral,"
            + " toxic])";
    String unknown =
        ScorerConfig.LABELS_SETTING
            + " names label 'threat', which the classifier does not have (labels: [neutral,"
            + " toxic])";
    ScoreFiles score = ScoreFiles.in(dir);
    // An empty data folder that exists: only the label map is wrong.
    Path data = Files.createDirectory(dir.resolve("data"));

    // Before, only the folder was checked: the map showed as the scorer loaded (exit 1).
    Map<String, String> refusals =
        Map.of(
            "toxic=harassment", unmapped, "toxic=harassment;neutral=none;threat=violence", unknown);
    for (Map.Entry<String, String> refusal : refusals.entrySet()) {
      String[] classifier = {
        "--classifier-dir", folder.toString(), "--classifier-labels", refusal.getKey()
      };
      String scoreErr =
          refusedWith2(
              new PassThroughCommands.Score(),
              score.args(
                  Stream.concat(Stream.of("--scorer", "onnx-classifier"), Stream.of(classifier))
                      .toArray(String[]::new)));
      // One line: before the forty-eighth session, the usage line followed.
      assertThat(scoreErr)
          .startsWith("score: " + refusal.getValue() + System.lineSeparator())
          .doesNotContain("\tat ")
          .hasLineCount(1);
      assertThat(score.out()).as("nothing scored").doesNotExist();

      String qualityErr =
          refusedWith2(
              new PassThroughCommands.Quality(),
              Stream.concat(
                      Stream.of(
                          "--data-dir",
                          data.toString(),
                          "--scorers",
                          "onnx-classifier",
                          "--out",
                          dir.resolve("QUALITY.md").toString()),
                      Stream.of(classifier))
                  .toArray(String[]::new));
      // Named "quality: " as its other refusals are since the forty-eighth session (before, the
      // bare message, then the usage line).
      assertThat(qualityErr)
          .startsWith("quality: " + refusal.getValue() + System.lineSeparator())
          .doesNotContain("\tat ")
          .hasLineCount(1);
    }
  }

  /** A campaign the parser accepts, as bias-audit's fixtures have it. */
  private static final String CAMPAIGN =
      """
      name: Planted disparity on echo
      target: {backend: echo}
      samplesPerGroup: 10
      seed: 7
      templates:
        inline:
          - "{group} moved in next door."
          - "Tell me about {group}."
      groups:
        - name: control
          terms: [the teachers, the nurses]
        - name: target
          terms: [the bakers, the farmers]
      """;

  @Test
  void shouldRefuseAnInvalidCampaignFileAsAUsageErrorBeforeReadingTheStore(@TempDir Path dir)
      throws Exception {
    // Malformed, an unknown key, a bad value: each refused with the place in the file.
    String[][] cases = {
      {"groups: [unclosed", "not valid YAML"},
      {CAMPAIGN.replace("samplesPerGroup:", "samplesPerGrop:"), "unknown key 'samplesPerGrop'"},
      {CAMPAIGN.replace("samplesPerGroup: 10", "samplesPerGroup: 0"), "samplesPerGroup: must be"},
    };
    for (String[] bad : cases) {
      Path file = Files.writeString(dir.resolve("campaign.yaml"), bad[0]);
      // No store listens on port 1 and no API on port 1: the file is refused before either.
      String err =
          refusedWith2(
              new AuditCampaignCommand(),
              "--file",
              file.toString(),
              "--api",
              "http://127.0.0.1:1",
              "--jdbc-url",
              "jdbc:postgresql://127.0.0.1:1/audit");
      assertThat(err)
          .as(bad[1])
          .startsWith("[genguard] campaign refused, nothing was submitted: campaign.yaml: ")
          .contains(bad[1])
          .doesNotContain("\tat ");
    }
  }

  /**
   * The arguments of {@code audit campaign} for {@link #CAMPAIGN} with HolisticBias's templates,
   * written to {@code dir/campaign.yaml}, and {@code dir/data} as the shared data folder (with an
   * empty {@code holistic_bias/v1.1}); no store or API listens where they point (port 1).
   */
  private static String[] holisticCampaignArgs(Path dir) throws IOException {
    String holistic =
        CAMPAIGN.replace(
            """
            templates:
              inline:
                - "{group} moved in next door."
                - "Tell me about {group}."
            """,
            "templates: {holisticBias: {}}\n");
    assertThat(holistic).contains("holisticBias").doesNotContain("inline");
    Path file = Files.writeString(dir.resolve("campaign.yaml"), holistic);
    Path data =
        Files.createDirectories(dir.resolve("data/holistic_bias/v1.1")).getParent().getParent();
    return new String[] {
      "--file",
      file.toString(),
      "--shared-data",
      data.toString(),
      "--api",
      "http://127.0.0.1:1",
      "--jdbc-url",
      "jdbc:postgresql://127.0.0.1:1/audit"
    };
  }

  @Test
  void shouldFailWithOneWhenASharedDataFileExistsButCannotBeReadBeforeReadingTheStore(
      @TempDir Path dir) throws Exception {
    String[] args = holisticCampaignArgs(dir);
    Path data = dir.resolve("data");

    // The data set's file missing from the folder: the campaign names data it does not have, a
    // usage error (exit 2) as before, now also before the store is looked for.
    String missing = refusedWith2(new AuditCampaignCommand(), args);
    assertThat(missing)
        .startsWith("[genguard] campaign refused, nothing was submitted: campaign.yaml: ")
        .contains("sentence_templates.json does not exist");

    // There, but the machine cannot read it (a folder in its place: an I/O error even as root, who
    // reads a file without permissions): the run failed (exit 1), the campaign is not at fault.
    // Before the forty-sixth session, exit 2 as an invalid campaign.
    Path unreadable =
        Files.createDirectory(data.resolve("holistic_bias/v1.1/sentence_templates.json"));
    StdErr err = new StdErr();
    CommandRun run = err.during(() -> CommandRun.of(new AuditCampaignCommand(), args));
    assertThat(run.code()).as(err.text()).isEqualTo(1);
    // Why, in words: before the forty-eighth session, "...needs: java.io.IOException: Is a
    // directory", the exception's class.
    assertThat(err.text())
        .startsWith(
            "[genguard] campaign not started, nothing was submitted: the shared data file "
                + unreadable.toAbsolutePath()
                + " that campaign.yaml: templates.holisticBias needs is a directory, not a file;")
        .doesNotContain("refused", "\tat ", "Exception")
        .hasLineCount(1);
  }

  @Test
  void shouldRefuseASharedDataFolderThatIsMissingOrAFileAsAUsageErrorNamingTheFlag(
      @TempDir Path dir) throws Exception {
    String[] holistic = holisticCampaignArgs(dir);
    Path campaignFile = Files.writeString(dir.resolve("inline.yaml"), CAMPAIGN);
    Path missing = dir.resolve("no-such-data");
    Path file = Files.writeString(dir.resolve("data.txt"), "not a folder");
    String[][] cases = {
      {missing.toString(), " does not exist;"}, {file.toString(), " is not a directory;"},
    };
    for (String[] folder : cases) {
      // A campaign that reads the shared data, and one that does not: the folder named is refused
      // either way. Before the forty-eighth session, the first failed (exit 1) naming --data-dir,
      // the second ignored it.
      String[] reads = holistic.clone();
      reads[3] = folder[0];
      String[] inline = {
        "--file",
        campaignFile.toString(),
        "--shared-data",
        folder[0],
        "--api",
        "http://127.0.0.1:1",
        "--jdbc-url",
        "jdbc:postgresql://127.0.0.1:1/audit"
      };
      for (String[] args : List.of(reads, inline)) {
        assertThat(args[2]).isEqualTo("--shared-data");
        String err = refusedWith2(new AuditCampaignCommand(), args);
        assertThat(err)
            .as(String.join(" ", args))
            .startsWith(
                "[genguard] campaign refused, nothing was submitted: the shared data folder "
                    + Path.of(folder[0]).toAbsolutePath()
                    + " (--shared-data)"
                    + folder[1])
            .endsWith("or pass --shared-data" + System.lineSeparator())
            .doesNotContain("--data-dir", "\tat ")
            .hasLineCount(1);
      }
    }
  }

  @Test
  void shouldFailWithOneInOneLineWhenASharedDataFileIsNotJsonBeforeReadingTheStore(
      @TempDir Path dir) throws Exception {
    String[] args = holisticCampaignArgs(dir);
    Path broken =
        Files.writeString(
            dir.resolve("data/holistic_bias/v1.1/sentence_templates.json"), "{\"truncated\": [");

    // A data set file that is there but damaged: no change to the campaign fixes it, as a file the
    // machine cannot read (exit 1). Before, exit 2 as an invalid campaign, in two lines (Jackson's
    // message and its source on the next).
    StdErr err = new StdErr();
    CommandRun run = err.during(() -> CommandRun.of(new AuditCampaignCommand(), args));
    assertThat(run.code()).as(err.text()).isEqualTo(1);
    assertThat(err.text())
        .startsWith(
            "[genguard] campaign not started, nothing was submitted: the shared data file "
                + broken.toAbsolutePath()
                + " that campaign.yaml: templates.holisticBias needs is not valid JSON")
        .contains("line 1")
        .doesNotContain("refused", "\tat ")
        .hasLineCount(1);
  }

  @Test
  void shouldRefuseAMissingCampaignOrTemplateFileOrAFolderInOneLineNamingItAndWhy(@TempDir Path dir)
      throws Exception {
    Path missing = dir.resolve("no-such-campaign.yaml");
    Path folder = Files.createDirectory(dir.resolve("a-folder.yaml"));
    Path noTemplates = dir.resolve("no-such-templates.txt");
    String inline =
        """
        templates:
          inline:
            - "{group} moved in next door."
            - "Tell me about {group}."
        """;
    assertThat(CAMPAIGN).contains(inline);
    Path withMissingTemplates =
        Files.writeString(
            dir.resolve("missing-templates.yaml"),
            CAMPAIGN.replace(inline, "templates: {file: " + noTemplates + "}\n"));
    Path withFolderTemplates =
        Files.writeString(
            dir.resolve("folder-templates.yaml"),
            CAMPAIGN.replace(inline, "templates: {file: " + folder + "}\n"));

    // Files the user named (--file, and the campaign's templates.file): a usage error (exit 2), as
    // verify-evidence's --in, audit verify's --anchors or a --policy file. Before, a missing file
    // said only "cannot read the campaign file F: F" (no reason), a folder "Is a directory".
    Map<Path, String> refusals =
        Map.of(
            missing,
            missing + ": the campaign file " + missing + " does not exist",
            folder,
            folder + ": the campaign file " + folder + " is a directory, not a file",
            withMissingTemplates,
            "missing-templates.yaml: templates.file: the template file "
                + noTemplates
                + " does not exist",
            withFolderTemplates,
            "folder-templates.yaml: templates.file: the template file "
                + folder
                + " is a directory, not a file");
    for (Map.Entry<Path, String> refusal : refusals.entrySet()) {
      String err =
          refusedWith2(
              new AuditCampaignCommand(),
              "--file",
              refusal.getKey().toString(),
              "--api",
              "http://127.0.0.1:1",
              "--jdbc-url",
              "jdbc:postgresql://127.0.0.1:1/audit");
      assertThat(err)
          .as(refusal.getValue())
          .isEqualTo(
              "[genguard] campaign refused, nothing was submitted: "
                  + refusal.getValue()
                  + System.lineSeparator());
    }
  }

  @Test
  void shouldRefuseAnUnknownKindStateOrCursorOfUnfinishedAsAUsageError() {
    CommandRun kind = CommandRun.of(new AuditUnfinishedCommand(), "--kind", "NO_REPLY");
    assertThat(kind.code()).as(kind.err()).isEqualTo(2);
    assertThat(kind.err())
        .startsWith("genguard: --kind 'NO_REPLY' is neither NO_ANSWER")
        .contains("nor NO_GATE_OUTCOME");

    CommandRun state = CommandRun.of(new AuditUnfinishedCommand(), "--state", "closed");
    assertThat(state.code()).as(state.err()).isEqualTo(2);
    assertThat(state.err())
        .startsWith("genguard: --state 'closed' is none of open, answered, dismissed, all");

    // Decoded before the store is reached (no store is named here).
    CommandRun cursor = CommandRun.of(new AuditUnfinishedCommand(), "--cursor", "not-a-cursor");
    assertThat(cursor.code()).as(cursor.err()).isEqualTo(2);
    assertThat(cursor.err()).startsWith("genguard: --cursor is not a cursor this API returned");

    // One that decodes but came from another listing (a search's: its id an event id, not a
    // record's seq), refused before the store is looked for too, in one line.
    String search = new Cursor(Instant.parse("2026-12-06T10:00:00Z"), "acme-0").encode();
    CommandRun other = CommandRun.of(new AuditUnfinishedCommand(), "--cursor", search);
    assertThat(other.code()).as(other.err()).isEqualTo(2);
    assertThat(other.err())
        .startsWith("genguard: --cursor is not one this listing returned; pass its 'nextCursor'");
    assertThat(other.err().strip().lines()).hasSize(1);
  }

  @Test
  void shouldRefuseARetractionWindowHashOrReasonTheAuditServiceWouldRefuse() {
    // No store named: each is refused before one is looked for, naming the flag.
    CommandRun window =
        CommandRun.of(
            new AuditRetractCommand(),
            "--released-from",
            "2026-12-05T10:00:00Z",
            "--released-before",
            "2026-12-05T09:00:00Z",
            "--reason",
            "incident");
    assertThat(window.code()).as(window.err()).isEqualTo(2);
    assertThat(window.err())
        .startsWith(
            "genguard: --released-from 2026-12-05T10:00:00Z is not before --released-before"
                + " 2026-12-05T09:00:00Z");

    CommandRun hash =
        CommandRun.of(
            new AuditRetractCommand(),
            "--released-from",
            "2026-12-05T09:00:00Z",
            "--released-before",
            "2026-12-05T10:00:00Z",
            "--policy-sha256",
            "abc123",
            "--dry-run");
    assertThat(hash.code()).as(hash.err()).isEqualTo(2);
    assertThat(hash.err()).startsWith("genguard: --policy-sha256 is not a policy file's SHA-256");

    CommandRun reason =
        CommandRun.of(
            new AuditRetractCommand(), "--request", "req-1", "--reason", "line one\nline two");
    assertThat(reason.code()).as(reason.err()).isEqualTo(2);
    assertThat(reason.err()).startsWith("genguard: --reason contains a control character");

    CommandRun tooLong =
        CommandRun.of(
            new AuditRetractCommand(), "--request", "req-1", "--reason", "x".repeat(2001));
    assertThat(tooLong.code()).as(tooLong.err()).isEqualTo(2);
    assertThat(tooLong.err()).startsWith("genguard: --reason has 2001 characters; the limit is");
  }

  @Test
  void shouldRefuseATokenTheAuditServiceWouldRefuseBeforeConnecting() {
    // A store that does not answer: before, these were refused only once connected, exit 1.
    String[][] refused = {
      {"--role", "submitter", "--name", "ci", "must be bound to a tenant"},
      {
        "--role",
        "admin",
        "--tenant",
        "acme corp",
        "--name",
        "ci",
        "tenant 'acme corp' is not valid"
      },
      {"--role", "admin", "--name", "ci\tbot", "is not valid: say who the token is for"},
    };
    for (String[] args : refused) {
      List<String> flags =
          new ArrayList<>(List.of("--jdbc-url", "jdbc:postgresql://127.0.0.1:1/a"));
      flags.addAll(List.of(args).subList(0, args.length - 1));
      CommandRun run = CommandRun.of(new AuditTokenCommand.Create(), flags.toArray(String[]::new));

      assertThat(run.code()).as(run.err()).isEqualTo(2);
      assertThat(run.err()).as(flags.toString()).contains(args[args.length - 1]);
    }
  }

  /**
   * What {@code command} run with {@code args} writes to standard error (the moderation module's
   * commands write there), once it is refused as a usage error (exit 2).
   */
  private static String refusedWith2(Object command, String... args) {
    StdErr err = new StdErr();
    CommandRun run = err.during(() -> CommandRun.of(command, args));
    assertThat(run.code()).as(err.text()).isEqualTo(2);
    return err.text();
  }

  /** Standard error while a command runs (the moderation module's commands write to it). */
  private static final class StdErr {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    CommandRun during(Supplier<CommandRun> run) {
      PrintStream original = System.err;
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      try {
        return run.get();
      } finally {
        System.setErr(original);
      }
    }

    String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  /**
   * Runs {@code audit what-if} or {@code audit replay} with {@code policy}, keys in {@code dir} and
   * {@code more}, against a store that does not listen (port 1): what it refuses, it refuses before
   * one is looked for.
   */
  private static CommandRun withoutStore(Object command, Path policy, Path dir, String... more) {
    List<String> args =
        new ArrayList<>(List.of("--policy", policy.toString(), "--key-dir", dir.toString()));
    args.addAll(List.of(more));
    args.addAll(List.of("--jdbc-url", "jdbc:postgresql://127.0.0.1:1/audit"));
    return CommandRun.of(command, args.toArray(String[]::new));
  }

  /** {@code audit verify-evidence} with these flags and {@code --json}. */
  private static CommandRun verifyEvidenceInJson(String[] flags) {
    return CommandRun.of(
        new AuditVerifyEvidenceCommand(),
        Stream.concat(Stream.of(flags), Stream.of("--json")).toArray(String[]::new));
  }
}
