package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.moderation.policy.PolicyLoader;
import java.util.List;
import org.apache.flink.api.java.tuple.Tuple2;
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
  void shouldRestoreThePolicyVersionsEverySubtaskHadSeenEachOnce() {
    // Union state: every subtask's list, one after the other.
    List<Tuple2<String, String>> entries =
        List.of(
            Tuple2.of("v1", "sha-a"),
            Tuple2.of("v2", "sha-b"),
            Tuple2.of("v1", "sha-a"),
            Tuple2.of("v2", "sha-b"),
            Tuple2.of("v3", "sha-c"));

    assertThat(BatchingModerationOperator.restoredVersions(entries))
        .containsExactly(
            java.util.Map.entry("v1", "sha-a"),
            java.util.Map.entry("v2", "sha-b"),
            java.util.Map.entry("v3", "sha-c"));
    assertThat(BatchingModerationOperator.restoredVersions(List.of())).isEmpty();
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
