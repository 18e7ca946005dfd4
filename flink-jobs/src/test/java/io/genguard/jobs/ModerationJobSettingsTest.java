package io.genguard.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModerationJobSettingsTest {

  @Test
  void shouldLetProgramArgumentsOverrideTheEnvironment() {
    ModerationJobSettings settings =
        ModerationJobSettings.parse(
            Map.of(
                "GENGUARD_KAFKA_BOOTSTRAP_SERVERS",
                "kafka:9092",
                "GENGUARD_MODERATION_PARALLELISM",
                "2",
                "GENGUARD_MODERATION_SCORER",
                "keyword-baseline"),
            "GENGUARD_MODERATION_PARALLELISM=4",
            "GENGUARD_POLICY_FILE=/etc/genguard/policy.yaml");

    assertThat(settings.job().bootstrapServers()).isEqualTo("kafka:9092");
    assertThat(settings.job().parallelism()).isEqualTo(4);
    assertThat(settings.scorer().name()).isEqualTo("keyword-baseline");
    assertThat(settings.policyFile()).contains(Path.of("/etc/genguard/policy.yaml"));
  }

  @Test
  void shouldDefaultToTheBuiltInScorerAndPolicy() {
    ModerationJobSettings settings = ModerationJobSettings.parse(Map.of());

    assertThat(settings.scorer().name()).isEqualTo("minilm-ensemble");
    assertThat(settings.scorer().modelPath()).isNull();
    assertThat(settings.policyFile()).isEmpty();
    assertThat(settings.job().consumerGroup()).isEqualTo("genguard-moderation");
  }

  @Test
  void shouldExplainAnArgumentThatIsNotAGenGuardSetting() {
    assertThatThrownBy(() -> ModerationJobSettings.parse(Map.of(), "--parallelism", "4"))
        .hasMessageContaining("Argument '--parallelism' is not KEY=VALUE with a GENGUARD_* key");
  }

  @Test
  void shouldRefuseAMisspeltKeyInAnArgumentOrTheEnvironment() {
    assertThatThrownBy(
            () -> ModerationJobSettings.parse(Map.of(), "GENGUARD_MODERATION_PARALELLISM=4"))
        .hasMessageContaining(
            "GENGUARD_MODERATION_PARALELLISM is not a GenGuard setting"
                + " (did you mean GENGUARD_MODERATION_PARALLELISM?)");
    assertThatThrownBy(
            () -> ModerationJobSettings.parse(Map.of("GENGUARD_POLICY_FIEL", "/etc/p.yaml")))
        .hasMessageContaining("did you mean GENGUARD_POLICY_FILE?");
    assertThat(
            ModerationJobSettings.parse(
                    Map.of(
                        "GENGUARD_POLICY_FIEL", "/etc/p.yaml", "GENGUARD_UNKNOWN_SETTINGS", "warn"))
                .policyFile())
        .isEmpty();
  }

  @Test
  void shouldRefuseTheBenchmarkScorer() {
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    Map.of(), ModerationJobSettings.SCORER + "=trivial-benchmark"))
        .hasMessageContaining("GENGUARD_MODERATION_SCORER is 'trivial-benchmark'")
        .hasMessageContaining("would release everything");
  }

  /** A folder with the files a classifier folder must hold (empty: only their presence counts). */
  private static Path classifierFolder(Path dir, String... files) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("toxic-bert"));
    for (String file : files) {
      Files.writeString(folder.resolve(file), "");
    }
    return folder;
  }

  @Test
  void shouldReadAnImportedClassifiersFolderAndLabels(@TempDir Path dir) throws IOException {
    Path folder = classifierFolder(dir, "model.onnx", "tokenizer.json", "config.json");
    ModerationJobSettings settings =
        ModerationJobSettings.parse(
            Map.of(
                "GENGUARD_MODERATION_SCORER",
                "onnx-classifier",
                "GENGUARD_MODERATION_CLASSIFIER_DIR",
                folder.toString()),
            "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=harassment;neutral=none",
            "GENGUARD_MODERATION_CLASSIFIER_MAX_TOKENS=512");

    assertThat(settings.scorer().name()).isEqualTo("onnx-classifier");
    assertThat(settings.scorer().modelPath()).isEqualTo(folder);
    assertThat(settings.scorer().labelMapSpec()).isEqualTo("neutral=none;toxic=harassment");
    assertThat(settings.scorer().maxTokens()).isEqualTo(512);
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    Map.of(
                        "GENGUARD_MODERATION_SCORER", "keyword-baseline",
                        "GENGUARD_MODERATION_CLASSIFIER_DIR", "/models/toxic-bert")))
        .hasMessageContaining(
            "GENGUARD_MODERATION_CLASSIFIER_DIR is set, but the scorer is 'keyword-baseline'");
  }

  @Test
  void shouldRefuseAMissingOrIncompleteClassifierFolderBeforeTheJobIsBuilt(@TempDir Path dir)
      throws IOException {
    // Before, these were parsed, and the job failed only as the classifier loaded, in the
    // loader's words ("is not a directory" for a folder that does not exist, or a file not found).
    Path missing = dir.resolve("missing");
    Path incomplete = classifierFolder(dir, "model.onnx", "config.json");
    String labels = "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=harassment;neutral=none";
    Map<String, String> classifier = Map.of("GENGUARD_MODERATION_SCORER", "onnx-classifier");

    assertThatThrownBy(() -> ModerationJobSettings.parse(classifier, labels))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "GENGUARD_MODERATION_CLASSIFIER_DIR is required with onnx-classifier: name the"
                + " classifier's folder (model.onnx, tokenizer.json, config.json)");
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    classifier, "GENGUARD_MODERATION_CLASSIFIER_DIR=" + missing, labels))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "GENGUARD_MODERATION_CLASSIFIER_DIR "
                + missing
                + " does not exist; name the classifier's folder (model.onnx, tokenizer.json,"
                + " config.json)");
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    classifier, "GENGUARD_MODERATION_CLASSIFIER_DIR=" + incomplete, labels))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "GENGUARD_MODERATION_CLASSIFIER_DIR "
                + incomplete
                + " has no tokenizer.json; the classifier needs model.onnx, tokenizer.json,"
                + " config.json");
  }
}
