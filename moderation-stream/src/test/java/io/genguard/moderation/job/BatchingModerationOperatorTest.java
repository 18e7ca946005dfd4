package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.policy.PolicyLoader;
import java.util.List;
import org.apache.flink.api.java.tuple.Tuple3;
import org.junit.jupiter.api.Test;

/** Which restored policy a task starts under (the job's restart runs in ModerationJobITCase). */
class BatchingModerationOperatorTest {
  private static Tuple3<Integer, String, String> entry(int subtask, String version) {
    return Tuple3.of(
        subtask,
        "subtask-" + subtask,
        PolicyLoader.defaultText()
            .replaceFirst("(?m)^version: .*$", "version: \"" + version + "\""));
  }

  @Test
  void shouldPreferTheSubtasksOwnPolicyElseTheLowestNumberedSubtasks() {
    List<Tuple3<Integer, String, String>> entries = List.of(entry(2, "b"), entry(0, "a"));

    assertThat(BatchingModerationOperator.restoredPolicy(entries, 2).version()).isEqualTo("b");
    assertThat(BatchingModerationOperator.restoredPolicy(entries, 0).version()).isEqualTo("a");
    assertThat(BatchingModerationOperator.restoredPolicy(entries, 5).version())
        .as("a subtask added by rescaling")
        .isEqualTo("a");
    assertThat(BatchingModerationOperator.restoredPolicy(entries, 5).origin())
        .isEqualTo("subtask-0");
  }

  @Test
  void shouldStartUnderTheSubmittedPolicyWhenTheCheckpointHasNoneOrOneThatNoLongerParses() {
    assertThat(BatchingModerationOperator.restoredPolicy(List.of(), 0)).isNull();
    assertThat(
            BatchingModerationOperator.restoredPolicy(
                List.of(Tuple3.of(0, "old", "policyId: x\nversion: \"1\"\nunknownKey: 1\n")), 0))
        .isNull();
  }
}
