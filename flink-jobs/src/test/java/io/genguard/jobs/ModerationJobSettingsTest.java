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

  /** A config.json naming the labels {@code neutral} and {@code toxic}. */
  private static final String CONFIG = "{\"id2label\": {\"0\": \"neutral\", \"1\": \"toxic\"}}";

  /**
   * A folder with the files a classifier folder must hold: a config.json with {@link #CONFIG}, the
   * others empty (the model is not loaded at start-up, only its labels read).
   */
  private static Path classifierFolder(Path dir, String... files) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("toxic-bert"));
    for (String file : files) {
      Files.writeString(folder.resolve(file), file.equals("config.json") ? CONFIG : "");
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

  @Test
  void shouldRefuseALabelMapThatDoesNotFitTheClassifiersLabelsBeforeTheJobIsBuilt(@TempDir Path dir)
      throws IOException {
    // Before, these were parsed, and the job failed only as the classifier loaded on the
    // TaskManagers. The empty model.onnx shows that the labels are read without loading the model.
    Path folder = classifierFolder(dir, "model.onnx", "tokenizer.json", "config.json");
    Map<String, String> classifier =
        Map.of(
            "GENGUARD_MODERATION_SCORER",
            "onnx-classifier",
            "GENGUARD_MODERATION_CLASSIFIER_DIR",
            folder.toString());

    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    classifier,
                    "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=harassment;threat=violence"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "The classifier's labels [neutral] are not in GENGUARD_MODERATION_CLASSIFIER_LABELS"
                + " (--classifier-labels for score, quality, audit replay and audit what-if);"
                + " map each label to categories, or to 'none' to ignore it (labels: [neutral,"
                + " toxic])");
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    classifier,
                    "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=harassment;neutral=none;threat=violence"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("GENGUARD_MODERATION_CLASSIFIER_LABELS (--classifier-labels")
        .hasMessageEndingWith(
            " names label 'threat', which the classifier does not have (labels: [neutral, toxic])");
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    classifier, "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=none;neutral=none"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maps every label of the classifier [neutral, toxic] to none");

    Files.writeString(folder.resolve("config.json"), "{\"id2label\": ");
    assertThatThrownBy(
            () ->
                ModerationJobSettings.parse(
                    classifier, "GENGUARD_MODERATION_CLASSIFIER_LABELS=toxic=harassment"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cannot read " + folder.resolve("config.json") + ": not JSON (")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }
}
