package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.explain.PolicyWhatIf.Judged;
import io.genguard.audit.explain.PolicyWhatIf.Outcome;
import io.genguard.audit.explain.VerdictReplay.Replayed;
import io.genguard.audit.explain.VerdictReplay.Result;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.TinyOnnxClassifier;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A verdict of an imported classifier ({@code onnx-classifier}) judged again: with the settings the
 * job ran it reproduces (replay) and compares (what-if); without them, or with a classifier of
 * another version, it is refused with what to set, never judged by another model.
 */
class ImportedClassifierReplayTest {
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
    try (BatchModerator job = ModerationPipelines.factory(settings(LABELS), null, keys).create()) {
      recorded = job.moderate(List.of(output)).get(0);
    }
    assertThat(recorded.getScorerVersions()).containsKey("onnx-classifier");
    assertThat(recorded.getDecision()).isNotEqualTo(Decision.RELEASE);
  }

  /** The settings as {@code audit replay} reads them from its flags. */
  private ScorerConfig settings(String labels) {
    return ScorerConfig.fromOptions(
        "onnx-classifier",
        Map.of("classifier-dir", folder.toString(), "classifier-labels", labels));
  }

  @Test
  void shouldReproduceAndExplainWithTheSettingsTheJobRan() {
    try (VerdictReplay replay = new VerdictReplay(null, keys, settings(LABELS))) {
      Replayed replayed = replay.replay(recorded, output);
      assertThat(replayed.result()).as(replayed.detail()).isEqualTo(Result.REPRODUCED);
      assertThat(replay.explain(replayed, recorded, output)).isNotEmpty();
    }
  }

  @Test
  void shouldCompareUnderACandidatePolicyWithTheSettingsTheJobRan() {
    try (PolicyWhatIf whatIf =
        new PolicyWhatIf(PolicyLoader.loadDefault(), keys, settings(LABELS))) {
      Judged judged = whatIf.judge(recorded, output);
      assertThat(judged.outcome()).as(judged.detail()).isEqualTo(Outcome.SAME);
    }
  }

  @Test
  void shouldRefuseWhenNoClassifierIsConfigured() {
    try (VerdictReplay replay = new VerdictReplay(null, keys)) {
      Replayed replayed = replay.replay(recorded, output);
      assertThat(replayed.result()).isEqualTo(Result.NOT_REPLAYABLE);
      assertThat(replayed.detail())
          .contains("made by an imported classifier, and none is configured here")
          .contains("GENGUARD_MODERATION_CLASSIFIER_DIR (--classifier-dir");
    }
    try (PolicyWhatIf whatIf = new PolicyWhatIf(PolicyLoader.loadDefault(), keys)) {
      Judged judged = whatIf.judge(recorded, output);
      assertThat(judged.outcome()).isEqualTo(Outcome.NOT_COMPARABLE);
      assertThat(judged.detail()).contains("none is configured here");
    }
  }

  @Test
  void shouldRefuseAClassifierOfAnotherVersion() {
    // The same folder with another label map: another digest, so another version.
    ScorerConfig other = settings("toxic=harassment,hate;neutral=none");
    try (VerdictReplay replay = new VerdictReplay(null, keys, other)) {
      Replayed replayed = replay.replay(recorded, output);
      assertThat(replayed.result()).isEqualTo(Result.NOT_REPLAYABLE);
      assertThat(replayed.detail())
          .startsWith(
              "recorded with the imported classifier "
                  + recorded.getScorerVersions().get("onnx-classifier")
                  + ", the one configured here is tiny+sha256:")
          .contains("GENGUARD_MODERATION_CLASSIFIER_LABELS (--classifier-labels");
      assertThat(replay.explain(replayed, recorded, output)).isNull();
    }
    try (PolicyWhatIf whatIf = new PolicyWhatIf(PolicyLoader.loadDefault(), keys, other)) {
      Judged judged = whatIf.judge(recorded, output);
      assertThat(judged.outcome()).isEqualTo(Outcome.NOT_COMPARABLE);
      assertThat(judged.candidate()).isNull();
      assertThat(judged.detail()).startsWith("recorded with the imported classifier ");
    }
  }
}
