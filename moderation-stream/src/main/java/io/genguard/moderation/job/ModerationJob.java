package io.genguard.moderation.job;

import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The moderation job: reads generation outputs, judges them in batches (scorers and policy) and
 * writes one verdict per output to moderation.verdicts with an exactly-once Kafka sink. Bytes that
 * are not a generation output go to gen.outputs.dlq with the reason and source offset.
 *
 * <p>Exactly once: the source's offsets are part of each checkpoint and the sink commits its Kafka
 * transaction when the checkpoint completes, so a restart from a checkpoint neither loses nor
 * repeats a verdict. Verdict ids are deterministic, so even a replay without state is idempotent
 * downstream.
 */
public final class ModerationJob {
  public static final String JOB_NAME = "genguard-moderation";

  /**
   * Every topic the job writes to: verdicts, the policy file they were decided under, dead letters.
   */
  public static final List<Topic<?, ?>> OUTPUT_TOPICS =
      List.of(
          Topics.MODERATION_VERDICTS, Topics.MODERATION_POLICIES, Topics.GENERATION_OUTPUTS_DLQ);

  private ModerationJob() {}

  /** Wires the pipeline between any source and sink, so tests can run it on their own I/O. */
  public static void buildPipeline(
      StreamExecutionEnvironment env,
      Source<KafkaMessage, ?, ?> source,
      Sink<KafkaMessage> sink,
      BatchModerator.Factory moderatorFactory,
      ModerationJobConfig config) {
    TypeInformation<KafkaMessage> messages = TypeInformation.of(KafkaMessage.class);
    SingleOutputStreamOperator<KafkaMessage> decoded =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "gen.outputs source", messages)
            .uid("gen-outputs-source")
            .process(new DecodeOutputs())
            .name("decode outputs")
            .uid("decode-outputs");
    DataStream<KafkaMessage> verdicts =
        decoded
            .transform(
                "moderate in batches",
                messages,
                new BatchingModerationOperator(
                    moderatorFactory, config.maxBatchSize(), config.maxBatchDelay().toMillis()))
            .uid("moderate-batches");
    verdicts
        .union(decoded.getSideOutput(DecodeOutputs.DEAD_LETTERS))
        .sinkTo(sink)
        .name("verdicts and dead letters sink")
        .uid("verdicts-sink");
  }

  /** Checkpointing and restarts as production runs them. */
  public static void configure(StreamExecutionEnvironment env, ModerationJobConfig config) {
    ExactlyOnceKafka.configure(env, config.parallelism(), config.checkpointInterval());
  }

  /** gen.outputs, committed records only (outputs whose generator transaction committed). */
  public static KafkaSource<KafkaMessage> kafkaSource(ModerationJobConfig config) {
    return ExactlyOnceKafka.source(
        config.bootstrapServers(),
        Topics.GENERATION_OUTPUTS.name(),
        config.consumerGroup(),
        DecodeOutputs.STAGE);
  }

  public static KafkaSink<KafkaMessage> kafkaSink(ModerationJobConfig config) {
    return ExactlyOnceKafka.sink(
        config.bootstrapServers(), config.transactionalIdPrefix(), OUTPUT_TOPICS);
  }
}
