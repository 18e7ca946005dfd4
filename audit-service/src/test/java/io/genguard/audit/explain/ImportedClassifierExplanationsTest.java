package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.AuditService;
import io.genguard.audit.explain.PolicyWhatIf.Judged;
import io.genguard.audit.explain.PolicyWhatIf.Outcome;
import io.genguard.audit.explain.VerdictExplanations.Explanation;
import io.genguard.audit.explain.VerdictExplanations.Status;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.SentenceMaxScorer;
import io.genguard.moderation.scoring.TinyOnnxClassifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit service's explanations for reviewers and its what-if (the compliance UI's), built from
 * the service's settings as {@code AuditService} builds them ({@link
 * ReplayingExplanations#of(AuditConfig)}), on a verdict of an imported classifier: with the job's
 * own GENGUARD_MODERATION_CLASSIFIER_* keys in the service's environment it is explained and
 * compared; without them, or with a classifier of another version, the answer says so and shows no
 * other model's words or decision. A verdict whose scorer version this build no longer has
 * (sentence-max 1.1.0 after the upgrade to 1.3.0) is answered the same way.
 */
class ImportedClassifierExplanationsTest {
  private static final String LABELS = "toxic=harassment;neutral=none";

  @TempDir Path dir;

  private Path folder;
  private Path keys;
  private GenerationOutput output;
  private ModerationVerdict recorded;

  @BeforeEach
  void recordAVerdictAsTheJobDoes() throws Exception {
    folder = TinyOnnxClassifier.write(dir.resolve("tiny"), TinyOnnxClassifier.CONFIG);
    keys = dir.resolve("keys");
    output = Events.output("req-1", "zebra zebra zebra");
    ScorerConfig job =
        ScorerConfig.fromEnvironment(
            "onnx-classifier",
            Map.of(
                ScorerConfig.CLASSIFIER_DIR,
                folder.toString(),
                ScorerConfig.CLASSIFIER_LABELS,
                LABELS));
    try (BatchModerator moderator = ModerationPipelines.factory(job, null, keys).create()) {
      recorded = moderator.moderate(List.of(output)).get(0);
    }
    assertThat(recorded.getScorerVersions()).containsKey("onnx-classifier");
    assertThat(recorded.getDecision()).isNotEqualTo(Decision.RELEASE);
  }

  /** The audit service's settings with explanations on and {@code env} on top. */
  private AuditConfig service(Map<String, String> env) {
    return AuditConfig.fromEnvironment(
        env,
        AuditConfig.of("jdbc:postgresql://db/genguard", "genguard", "", 8080)
            .withExplanations(keys, null));
  }

  private Map<String, String> jobKeys(String labels) {
    Map<String, String> env = new HashMap<>();
    env.put(ScorerConfig.CLASSIFIER_DIR, folder.toString());
    env.put(ScorerConfig.CLASSIFIER_LABELS, labels);
    return env;
  }

  private List<Judged> whatIf(ReplayingExplanations explanations, ModerationVerdict verdict) {
    return explanations.whatIf(
        PolicyLoader.loadDefault(), List.of(new PolicyWhatIf.Recorded(verdict, output)));
  }

  @Test
  void shouldExplainAndCompareWithTheJobsClassifierKeys() {
    try (ReplayingExplanations explanations = ReplayingExplanations.of(service(jobKeys(LABELS)))) {
      Explanation explanation = explanations.explain(recorded, output);
      assertThat(explanation.status()).as(explanation.detail()).isEqualTo(Status.EXPLAINED);
      assertThat(explanation.detail()).startsWith("judged again: " + recorded.getDecision());
      assertThat(explanation.reasons()).isNotEmpty();
      assertThat(explanation.reasons())
          .anySatisfy(reason -> assertThat(reason.category()).isEqualTo("harassment"));

      Judged judged = whatIf(explanations, recorded).get(0);
      assertThat(judged.outcome()).as(judged.detail()).isEqualTo(Outcome.SAME);
      assertThat(judged.candidate()).isEqualTo(recorded.getDecision());
    }
  }

  @Test
  void shouldSayWhatToSetWhenTheServiceHasNoClassifier() {
    try (ReplayingExplanations explanations = ReplayingExplanations.of(service(Map.of()))) {
      Explanation explanation = explanations.explain(recorded, output);
      assertThat(explanation.status()).isEqualTo(Status.NOT_EXPLAINED);
      assertThat(explanation.detail())
          .contains("made by an imported classifier, and none is configured here")
          .contains(ScorerConfig.CLASSIFIER_DIR)
          .contains(ScorerConfig.CLASSIFIER_LABELS);
      assertThat(explanation.reasons()).isEmpty();

      Judged judged = whatIf(explanations, recorded).get(0);
      assertThat(judged.outcome()).isEqualTo(Outcome.NOT_COMPARABLE);
      assertThat(judged.candidate()).isNull();
      assertThat(judged.detail()).contains("none is configured here");
    }
  }

  @Test
  void shouldRefuseAClassifierOfAnotherVersion() {
    // The same folder with another label map: another digest, so another version.
    try (ReplayingExplanations explanations =
        ReplayingExplanations.of(service(jobKeys("toxic=harassment,hate;neutral=none")))) {
      Explanation explanation = explanations.explain(recorded, output);
      assertThat(explanation.status()).isEqualTo(Status.NOT_EXPLAINED);
      assertThat(explanation.detail())
          .contains(
              "recorded with the imported classifier "
                  + recorded.getScorerVersions().get("onnx-classifier")
                  + ", the one configured here is tiny+sha256:")
          .contains(ScorerConfig.CLASSIFIER_LABELS);
      assertThat(explanation.reasons()).isEmpty();

      Judged judged = whatIf(explanations, recorded).get(0);
      assertThat(judged.outcome()).isEqualTo(Outcome.NOT_COMPARABLE);
      assertThat(judged.candidate()).isNull();
      assertThat(judged.detail()).startsWith("recorded with the imported classifier ");
    }
  }

  @Test
  void shouldSayTheVerdictsScorerVersionIsNotAvailable() {
    // A verdict recorded before the upgrade to sentence-max 1.3.0, as its record names it.
    Map<String, String> before = new HashMap<>(recorded.getScorerVersions());
    assertThat(before).containsEntry(SentenceMaxScorer.NAME, SentenceMaxScorer.VERSION);
    before.put(SentenceMaxScorer.NAME, "1.1.0");
    ModerationVerdict old =
        ModerationVerdict.newBuilder(recorded).setScorerVersions(before).build();
    try (ReplayingExplanations explanations = ReplayingExplanations.of(service(jobKeys(LABELS)))) {
      Explanation explanation = explanations.explain(old, output);
      assertThat(explanation.status()).isEqualTo(Status.NOT_EXPLAINED);
      assertThat(explanation.detail())
          .contains(
              "recorded with models {sentence-max=1.1.0}, this build has {sentence-max="
                  + SentenceMaxScorer.VERSION
                  + "}: the recorded versions are not available here");
      assertThat(explanation.reasons()).isEmpty();

      Judged judged = whatIf(explanations, old).get(0);
      assertThat(judged.outcome()).isEqualTo(Outcome.NOT_COMPARABLE);
      assertThat(judged.candidate()).isNull();
      assertThat(judged.detail())
          .startsWith("recorded with models {sentence-max=1.1.0}")
          .contains("the recorded versions are not available here");
    }
  }

  @Test
  void shouldJudgeAVerdictOfWatermarkDetectorThreeAgainUnlessItsTextHoldsABlank() {
    // Detector 4 reads only text holding a blank that displays as a space otherwise than 3 did.
    Map<String, String> before = new HashMap<>(recorded.getScorerVersions());
    assertThat(before).containsEntry("watermark-detector", "4");
    before.put("watermark-detector", "3");
    ModerationVerdict old =
        ModerationVerdict.newBuilder(recorded).setScorerVersions(before).build();
    try (ReplayingExplanations explanations = ReplayingExplanations.of(service(jobKeys(LABELS)))) {
      Explanation explanation = explanations.explain(old, output);
      assertThat(explanation.status()).as(explanation.detail()).isEqualTo(Status.EXPLAINED);
      Judged judged = whatIf(explanations, old).get(0);
      assertThat(judged.outcome()).as(judged.detail()).isEqualTo(Outcome.SAME);

      GenerationOutput blanks = Events.output("req-1", "zebra\u2800zebra zebra");
      ModerationVerdict onBlanks =
          ModerationVerdict.newBuilder(old).setOutputId(blanks.getOutputId()).build();
      Explanation refused = explanations.explain(onBlanks, blanks);
      assertThat(refused.status()).isEqualTo(Status.NOT_EXPLAINED);
      assertThat(refused.detail())
          .contains("NOT_REPLAYABLE")
          .contains("\"watermark-detector\":\"3\"}, this build has");
    }
  }

  @Test
  void shouldRefuseAMissingOrIncompleteClassifierFolderBeforeTheServiceServes() throws Exception {
    // Before, the service started, and a folder that is missing or incomplete showed only at the
    // first of the classifier's verdicts explained (or compared in the what-if).
    Map<String, String> missing = jobKeys(LABELS);
    Path gone = dir.resolve("gone");
    missing.put(ScorerConfig.CLASSIFIER_DIR, gone.toString());
    assertThatThrownBy(() -> ReplayingExplanations.of(service(missing)).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            ScorerConfig.CLASSIFIER_DIR
                + " "
                + gone
                + " does not exist; name the classifier's folder (model.onnx, tokenizer.json,"
                + " config.json)");

    // The service's start builds them first: it stops there, before it connects to its database
    // (none listens on port 1; before, the start went on to it).
    AuditConfig start =
        AuditConfig.fromEnvironment(
            missing,
            AuditConfig.of("jdbc:postgresql://127.0.0.1:1/genguard", "genguard", "", 8080)
                .withExplanations(keys, null));
    assertThatThrownBy(() -> new AuditService(start, Map.of(), Clock.systemUTC()).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(ScorerConfig.CLASSIFIER_DIR + " " + gone + " does not exist");

    Files.delete(folder.resolve("tokenizer.json"));
    assertThatThrownBy(() -> ReplayingExplanations.of(service(jobKeys(LABELS))).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            ScorerConfig.CLASSIFIER_DIR
                + " "
                + folder
                + " has no tokenizer.json; the classifier needs model.onnx, tokenizer.json,"
                + " config.json");

    Map<String, String> labelsOnly = new HashMap<>();
    labelsOnly.put(ScorerConfig.CLASSIFIER_LABELS, LABELS);
    assertThatThrownBy(() -> ReplayingExplanations.of(service(labelsOnly)).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(ScorerConfig.CLASSIFIER_DIR + " is required with onnx-classifier");
  }

  @Test
  void shouldRefuseALabelMapThatDoesNotFitTheClassifiersLabelsBeforeTheServiceServes()
      throws Exception {
    // Before, the service started, and showed it only at the first of the classifier's verdicts
    // explained (or compared in the what-if): the labels are read from config.json at start-up.
    assertThatThrownBy(() -> ReplayingExplanations.of(service(jobKeys("toxic=harassment"))).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "The classifier's labels [neutral] are not in "
                + ScorerConfig.LABELS_SETTING
                + "; map each label to categories, or to 'none' to ignore it (labels: [neutral,"
                + " toxic])");

    // The service's start builds them first: it stops there, before it connects to its database.
    AuditConfig start =
        AuditConfig.fromEnvironment(
            jobKeys(LABELS + ";threat=violence"),
            AuditConfig.of("jdbc:postgresql://127.0.0.1:1/genguard", "genguard", "", 8080)
                .withExplanations(keys, null));
    assertThatThrownBy(() -> new AuditService(start, Map.of(), Clock.systemUTC()).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith(
            " names label 'threat', which the classifier does not have (labels: [neutral, toxic])");

    // Without loading the model: a model file that would not load is not read at start-up.
    Files.writeString(folder.resolve("model.onnx"), "not a model");
    ReplayingExplanations.of(service(jobKeys(LABELS))).close();
  }
}
