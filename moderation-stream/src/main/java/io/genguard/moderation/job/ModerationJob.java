package io.genguard.moderation.job;

import io.genguard.schemas.Topics;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

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
    env.setParallelism(config.parallelism());
    env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
    env.getCheckpointConfig()
        .setMinPauseBetweenCheckpoints(Math.min(100, config.checkpointInterval().toMillis()));
    Configuration restart = new Configuration();
    restart.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
    restart.set(
        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
        Duration.ofMillis(500));
    restart.set(
        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
        Duration.ofSeconds(30));
    env.configure(restart);
  }

  public static KafkaSource<KafkaMessage> kafkaSource(ModerationJobConfig config) {
    return KafkaSource.<KafkaMessage>builder()
        .setBootstrapServers(config.bootstrapServers())
        .setTopics(Topics.GENERATION_OUTPUTS.name())
        .setGroupId(config.consumerGroup())
        // Resume from committed offsets; a brand-new group starts from the beginning so nothing
        // produced before the job first started is skipped.
        .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
        .setDeserializer(new KafkaMessageDeserializer())
        // Only outputs whose generator transaction committed.
        .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
        .setProperty("partition.discovery.interval.ms", "60000")
        .build();
  }

  public static KafkaSink<KafkaMessage> kafkaSink(ModerationJobConfig config) {
    Properties producer = new Properties();
    // Must stay below the broker's transaction.max.timeout.ms (15 min by default) and above the
    // longest checkpoint.
    producer.setProperty("transaction.timeout.ms", Long.toString(Duration.ofMinutes(5).toMillis()));
    producer.setProperty("linger.ms", "5");
    return KafkaSink.<KafkaMessage>builder()
        .setBootstrapServers(config.bootstrapServers())
        .setRecordSerializer(new KafkaMessageSerializer())
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(config.transactionalIdPrefix())
        .setKafkaProducerConfig(producer)
        .build();
  }
}
