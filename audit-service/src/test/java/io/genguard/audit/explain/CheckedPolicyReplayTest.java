package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.explain.VerdictReplay.Replayed;
import io.genguard.audit.explain.VerdictReplay.Result;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit replay --policy FILE} checks the file before it reads the store; the replay then
 * judges under the policy it checked ({@link VerdictReplay#under}), not under the file as it is at
 * the first verdict, which may have been edited or removed in between.
 */
class CheckedPolicyReplayTest {
  private static final String CHECKED = "version: \"checked-1\"";
  private static final String EDITED = "version: \"edited-2\"";

  @TempDir Path dir;

  private Path keys;
  private Path file;
  private PolicySet checked;
  private GenerationOutput output;
  private ModerationVerdict recorded;

  @BeforeEach
  void recordAVerdictUnderTheCheckedFile() throws Exception {
    keys = dir.resolve("keys");
    String text = PolicyLoader.defaultText();
    String version = "version: \"" + PolicyLoader.loadDefault().version() + "\"";
    assertThat(text).contains(version);
    file = Files.writeString(dir.resolve("policy.yaml"), text.replace(version, CHECKED));
    checked = PolicyLoader.load(file);
    output = Events.output("req-1", "you are a worthless idiot");
    try (BatchModerator job =
        ModerationPipelines.over(
            ScorerFactory.create(ScorerConfig.named(KeywordBaselineScorer.NAME)), checked, keys)) {
      recorded = job.moderate(List.of(output)).get(0);
    }
    assertThat(recorded.getPolicyVersion()).isEqualTo("checked-1");
    assertThat(recorded.getPolicySha256()).isNotEmpty();
  }

  @Test
  void shouldReplayUnderTheCheckedPolicyWhenTheFileIsEditedAfterTheCheck() throws Exception {
    Files.writeString(file, Files.readString(file).replace(CHECKED, EDITED));

    try (VerdictReplay replay = VerdictReplay.under(checked, keys, null)) {
      Replayed replayed = replay.replay(recorded, output);
      assertThat(replayed.result()).as(replayed.detail()).isEqualTo(Result.REPRODUCED);
    }
    // What a replay that reads the file at the first verdict does: the edited file's version.
    try (VerdictReplay byPath = new VerdictReplay(file, keys)) {
      Replayed replayed = byPath.replay(recorded, output);
      assertThat(replayed.result()).isEqualTo(Result.NOT_REPLAYABLE);
      assertThat(replayed.detail()).contains("this replay has genguard-default edited-2");
    }
  }

  @Test
  void shouldReplayUnderTheCheckedPolicyWhenTheFileIsRemovedAfterTheCheck() throws Exception {
    Files.delete(file);

    try (VerdictReplay replay = VerdictReplay.under(checked, keys, null)) {
      Replayed replayed = replay.replay(recorded, output);
      assertThat(replayed.result()).as(replayed.detail()).isEqualTo(Result.REPRODUCED);
    }
  }
}
