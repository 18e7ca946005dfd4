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
 * unique uid, or an upgrade with {@code flink run -s} could silently drop its state. The uids are
 * pinned: savepoints taken by released versions hold state under exactly these names.
 */
class SavepointCompatibilityTest {
  /**
   * The moderation job's uids as savepoints hold them. Never rename one: the renamed operator
   * starts empty and the restore fails on the old name's state (or drops it under {@code
   * --allowNonRestoredState}). A new operator adds its uid here; a removed one is restored once
   * with {@code --allowNonRestoredState} (docs/OPERATIONS.md) and then taken out of this list.
   */
  private static final List<String> MODERATION_UIDS =
      List.of(
          "gen-outputs-source",
          "decode-outputs",
          "moderate-batches",
          "verdicts-sink",
          // Flink derives the exactly-once sink's committer uid from the sink's.
          "Sink Committer: verdicts-sink");

  /** The bias-aggregation job's uids as savepoints hold them (same rules as above). */
  private static final List<String> BIAS_AGGREGATION_UIDS =
      List.of(
          "verdicts-source",
          "decode-verdicts",
          "campaign-verdicts",
          // Since the forty-first session: which campaign verdicts may become campaign state.
          "campaign-admission",
          "campaign-group-totals",
          // Since the forty-fourth session: the live verdicts, and their windows keyed by model
          // with every group counted in one aggregate. The fan-out per group ("live-fan-out", no
          // state) and the windows keyed by model and group ("live-window-counts") are gone: a
          // savepoint of an earlier version restores with --allowNonRestoredState, its open live
          // windows left behind (docs/OPERATIONS.md).
          "live-verdicts",
          // Since the forty-sixth session: which models a live window counts under their own key
          // (the rest pooled under unknown-model); a new operator, so an earlier savepoint restores
          // into it empty.
          "live-window-models",
          "live-model-window-counts",
          "late-live-verdicts",
          "encode-live-metrics",
          "live-disparity-tests",
          "live-alerts-sink",
          "encode-bias-alerts",
          "bias-metrics-sink",
          "Sink Committer: bias-metrics-sink");

  @Test
  void shouldGiveEveryModerationOperatorAStableUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    ModerationJobMain.wire(
        env, ModerationJobSettings.parse(Map.of("GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")));

    assertEveryOperatorHasAUniqueUid(env.getStreamGraph(), MODERATION_UIDS);
  }

  @Test
  void shouldGiveEveryBiasAggregationOperatorAStableUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    BiasAggregationJob.wire(
        env, BiasJobConfig.fromEnvironment(Map.of(), "kafka:9092", null, null, null));

    assertEveryOperatorHasAUniqueUid(env.getStreamGraph(), BIAS_AGGREGATION_UIDS);
  }

  /**
   * With an alert database (compose, the embedded stack) the live alerts go to the JDBC writer, an
   * operator with state under the sink's uid. From the thirty-eighth to the fortieth session a
   * committer ("Sink Committer: live-alerts-sink") inserted them; since the forty-first the writer
   * keeps them itself until the database takes them, and a savepoint of those versions restores
   * with {@code --allowNonRestoredState} (docs/OPERATIONS.md).
   */
  @Test
  void shouldGiveTheAlertDatabasesCommitterAStableUidToo() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    BiasJobConfig config =
        BiasJobConfig.fromEnvironment(
            Map.of(), "kafka:9092", "jdbc:postgresql://postgres:5432/genguard", "genguard", "x");
    // As wire() builds it, without migrating the alert database first.
    BiasAggregationJob.configure(env, config);
    BiasAggregationJob.buildPipeline(
        env,
        BiasAggregationJob.kafkaSource(config),
        BiasAggregationJob.kafkaSink(config),
        BiasAggregationJob.alertSink(config),
        config);

    assertEveryOperatorHasAUniqueUid(env.getStreamGraph(), BIAS_AGGREGATION_UIDS);
  }

  private static void assertEveryOperatorHasAUniqueUid(StreamGraph graph, List<String> pinned) {
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
    assertThat(uids)
        .as("uids savepoints hold state under: never rename one, add a new operator's uid")
        .containsExactlyInAnyOrderElementsOf(pinned);
  }
}
