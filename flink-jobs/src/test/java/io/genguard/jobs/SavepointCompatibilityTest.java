package io.genguard.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.bias.job.BiasAggregationJob;
import io.genguard.bias.job.BiasJobConfig;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/**
 * A savepoint maps state to operators by uid: every operator of both jobs must carry an explicit,
 * unique uid, or an upgrade with {@code flink run -s} could silently drop its state.
 */
class SavepointCompatibilityTest {

  @Test
  void shouldGiveEveryModerationOperatorAStableUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    ModerationJobMain.wire(
        env, ModerationJobSettings.parse(Map.of("GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")));

    assertEveryOperatorHasAUniqueUid(env.getStreamGraph());
  }

  @Test
  void shouldGiveEveryBiasAggregationOperatorAStableUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    BiasAggregationJob.wire(
        env, BiasJobConfig.fromEnvironment(Map.of(), "kafka:9092", null, null, null));

    assertEveryOperatorHasAUniqueUid(env.getStreamGraph());
  }

  private static void assertEveryOperatorHasAUniqueUid(StreamGraph graph) {
    List<String> withoutUid =
        graph.getStreamNodes().stream()
            .filter(
                node ->
                    node.getTransformationUID() == null || node.getTransformationUID().isBlank())
            .map(StreamNode::getOperatorName)
            .toList();
    List<String> uids =
        graph.getStreamNodes().stream().map(StreamNode::getTransformationUID).toList();

    assertThat(withoutUid).as("operators without an explicit uid").isEmpty();
    assertThat(uids).doesNotHaveDuplicates();
  }
}
