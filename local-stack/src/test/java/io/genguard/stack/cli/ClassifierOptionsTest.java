package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.scoring.ScorerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The imported classifier's settings of {@code audit replay} and {@code audit what-if}. */
class ClassifierOptionsTest {
  private final UnaryOperator<String> environment = AuditStoreOptions.environment;

  @AfterEach
  void restoreTheEnvironment() {
    AuditStoreOptions.environment = environment;
  }

  private static ClassifierOptions parse(String command, String... args) {
    Object parsed = command.equals("replay") ? new AuditReplayCommand() : new AuditWhatIfCommand();
    new CommandLine(parsed).parseArgs(args);
    return parsed instanceof AuditReplayCommand replay
        ? replay.classifierOptions
        : ((AuditWhatIfCommand) parsed).classifierOptions;
  }

  /**
   * A folder holding the files the loader reads: a {@code config.json} with the labels the tests'
   * label maps name (read without loading the model), the model and tokenizer empty (not read).
   */
  private static Path classifierFolder(Path dir) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("tiny"));
    for (String file : java.util.List.of("model.onnx", "tokenizer.json")) {
      Files.writeString(folder.resolve(file), "");
    }
    Files.writeString(
        folder.resolve("config.json"), "{\"id2label\": {\"0\": \"neutral\", \"1\": \"toxic\"}}");
    return folder;
  }

  @Test
  void shouldReadTheJobsEnvironmentKeysWhenNoFlagIsGiven(@TempDir Path dir) throws Exception {
    // The key's folder must hold the files the loader reads, as the flag's.
    Path folder = classifierFolder(dir);
    AuditStoreOptions.environment =
        Map.of(
                ScorerConfig.CLASSIFIER_DIR, folder.toString(),
                ScorerConfig.CLASSIFIER_LABELS, "toxic=harassment;neutral=none",
                ScorerConfig.CLASSIFIER_MAX_TOKENS, "128")
            ::get;

    ScorerConfig classifier = parse("replay").classifier();

    assertThat(classifier.name()).isEqualTo("onnx-classifier");
    assertThat(classifier.modelPath()).isEqualTo(folder);
    assertThat(classifier.labelMapSpec()).isEqualTo("neutral=none;toxic=harassment");
    assertThat(classifier.maxTokens()).isEqualTo(128);
  }

  @Test
  void shouldTakeTheFlagsAloneWhenAnyIsGiven(@TempDir Path dir) throws Exception {
    AuditStoreOptions.environment =
        Map.of(ScorerConfig.CLASSIFIER_LABELS, "toxic=hate;neutral=none")::get;
    // The flag's folder must hold the files the loader reads, its labels those of the map.
    Path folder = classifierFolder(dir);

    ScorerConfig classifier =
        parse(
                "what-if",
                "--policy",
                "candidate.yaml",
                "--classifier-dir",
                folder.toString(),
                "--classifier-labels",
                "toxic=harassment;neutral=none")
            .classifier();

    assertThat(classifier.labelMapSpec()).isEqualTo("neutral=none;toxic=harassment");
    assertThat(classifier.maxTokens()).isEqualTo(ScorerConfig.DEFAULT_MAX_TOKENS);
  }

  @Test
  void shouldHaveNoClassifierWithoutSettingsAndNameABadOne() {
    AuditStoreOptions.environment = Map.<String, String>of()::get;
    assertThat(parse("replay").classifier()).isNull();

    assertThatThrownBy(
            () -> parse("replay", "--classifier-labels", "toxic=harassment=x").classifier())
        .hasMessageStartingWith("--classifier-labels: ");
  }
}
