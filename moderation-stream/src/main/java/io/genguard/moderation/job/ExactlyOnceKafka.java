package io.genguard.moderation.job;

import io.genguard.schemas.Topic;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The Kafka-in, Kafka-out plumbing every GenGuard Flink job shares (moderation, bias aggregation):
 * checkpointed exactly-once processing with exponential-delay restarts, a source that reads only
 * committed records from committed offsets, and a transactional sink that commits at each
 * checkpoint.
 */
public final class ExactlyOnceKafka {
  /**
   * How long the sink's Kafka transaction may stay open: from a checkpoint until the next one's
   * commit. Must stay below the broker's {@code transaction.max.timeout.ms} (15 min by default).
   */
  public static final Duration TRANSACTION_TIMEOUT = Duration.ofMinutes(5);

  /**
   * The longest checkpoint interval the jobs accept: a fifth of {@link #TRANSACTION_TIMEOUT}, so
   * that a transaction open for an interval plus a slow checkpoint still commits before the broker
   * aborts it (an aborted transaction after a completed checkpoint loses its records).
   */
  public static final Duration MAX_CHECKPOINT_INTERVAL = TRANSACTION_TIMEOUT.dividedBy(5);

  /**
   * The longest a checkpoint may take before it is declined (and, no failed checkpoint being
   * tolerated, the job restarts from the one before). The sink opens a checkpoint's transaction
   * when the checkpoint before it is taken, so the transaction stays open for up to two checkpoints
   * and the interval between them, and must commit before {@link #TRANSACTION_TIMEOUT}, with a
   * minute to spare: 1.5 minutes. Flink's default of 10 minutes would let a slow checkpoint
   * complete after the broker aborted its transaction, losing what it had counted on.
   */
  public static final Duration CHECKPOINT_TIMEOUT =
      TRANSACTION_TIMEOUT.minus(MAX_CHECKPOINT_INTERVAL).minusMinutes(1).dividedBy(2);

  /**
   * How long the sink's producer waits to fill a batch ({@code linger.ms}; it was 5 ms). No reader
   * sees a record before its checkpoint commits, and the sink flushes before committing, so this
   * adds no latency a reader sees. Measured in the forty-ninth session: the broker's produce
   * requests per 1,000 plumbing outputs 164 and 172 with 5 ms, 106 and 116 with 100 ms ({@code
   * docs/experiments/kafka-batching-49.md}).
   */
  static final Duration SINK_LINGER = Duration.ofMillis(100);

  /** The sink's producer batch, per partition ({@code batch.size}; the client's default 16 kB). */
  static final int SINK_BATCH_BYTES = 128 * 1024;

  /** The most parallel tasks a job accepts: Flink's own upper bound on max parallelism. */
  public static final int MAX_PARALLELISM = 32_768;

  private ExactlyOnceKafka() {}

  /**
   * Refuses a parallelism out of 1-{@link #MAX_PARALLELISM}, naming the setting.
   *
   * @throws IllegalArgumentException naming {@code key}
   */
  public static void requireParallelism(String key, int parallelism) {
    if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
      throw new IllegalArgumentException(
          key + " must be 1-" + MAX_PARALLELISM + ", was " + parallelism);
    }
  }

  /**
   * Refuses a checkpoint interval out of 10 ms-{@link #MAX_CHECKPOINT_INTERVAL}, naming the setting
   * and what the job's transaction carries ({@code records}).
   *
   * @throws IllegalArgumentException naming {@code key}
   */
  public static void requireCheckpointInterval(String key, Duration interval, String records) {
    if (interval.compareTo(Duration.ofMillis(10)) < 0
        || interval.compareTo(MAX_CHECKPOINT_INTERVAL) > 0) {
      throw new IllegalArgumentException(
          key
              + " must be 10-"
              + MAX_CHECKPOINT_INTERVAL.toMillis()
              + " ms (the "
              + records
              + "' Kafka transaction stays open from one checkpoint to the next and times out after "
              + TRANSACTION_TIMEOUT.toMinutes()
              + " minutes), was "
              + interval.toMillis());
    }
  }

  /**
   * Parallelism, exactly-once checkpoints every {@code checkpointInterval} kept when the job is
   * cancelled, and restarts.
   */
  public static void configure(
      StreamExecutionEnvironment env, int parallelism, Duration checkpointInterval) {
    env.setParallelism(parallelism);
    env.enableCheckpointing(checkpointInterval.toMillis(), CheckpointingMode.EXACTLY_ONCE);
    env.getCheckpointConfig()
        .setMinPauseBetweenCheckpoints(Math.min(100, checkpointInterval.toMillis()));
    env.getCheckpointConfig().setCheckpointTimeout(CHECKPOINT_TIMEOUT.toMillis());
    // A declined checkpoint must restart the job (its transaction is aborted and replayed), not be
    // committed later with the next one, past the transaction's timeout.
    env.getCheckpointConfig().setTolerableCheckpointFailureNumber(0);
    // Kept on cancellation (and on a suspension, a JobManager stopping without HA): the runbook
    // resumes the jobs from their latest checkpoint. The retention is the job's, set by whoever
    // builds it (flink run in the flink-jobs container), not by the JobManager's configuration.
    env.getCheckpointConfig()
        .setExternalizedCheckpointRetention(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
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

  /**
   * Reads {@code topic} as raw messages. Resumes from committed offsets; a brand-new group starts
   * from the beginning, so nothing produced before the job first started is skipped. Only records
   * of committed producer transactions are read.
   *
   * @param stage the stage name of the job's dead letters: records sent back from a dead-letter
   *     topic for another stage are skipped
   */
  public static KafkaSource<KafkaMessage> source(
      String bootstrapServers, String topic, String consumerGroup, String stage) {
    return KafkaSource.<KafkaMessage>builder()
        .setBootstrapServers(bootstrapServers)
        .setTopics(topic)
        .setGroupId(consumerGroup)
        .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
        .setDeserializer(new KafkaMessageDeserializer(stage))
        .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
        .setProperty("partition.discovery.interval.ms", "60000")
        .build();
  }

  /**
   * Writes each message to the topic it names, one of {@code topics}, in a Kafka transaction per
   * checkpoint.
   *
   * <p>Transactional ids are pooled ({@link TransactionNamingStrategy#POOLING}): each subtask
   * reuses a few ids ({@code prefix-subtask-0}, {@code -1}, ...) once their transaction is
   * committed, instead of the connector's default of a new id for every checkpoint, which the
   * broker keeps for {@code transactional.id.expiration.ms} (7 days): at a checkpoint every 500 ms,
   * over a million ids per subtask held in the broker's memory. On start and restore the sink lists
   * the open transactions of the producers writing to {@code topics} (DescribeProducers: READ on
   * those topics; ListTransactions: DESCRIBE on the transactional ids, which WRITE implies) and
   * aborts those of its prefix that no checkpoint will commit. Its state is the connector's state
   * under either naming, so a checkpoint or savepoint taken with one id per checkpoint restores.
   *
   * @param topics every topic the job writes to; a message for another one fails the job
   */
  public static KafkaSink<KafkaMessage> sink(
      String bootstrapServers, String transactionalIdPrefix, List<Topic<?, ?>> topics) {
    return sink(bootstrapServers, transactionalIdPrefix, topics, TransactionNamingStrategy.POOLING);
  }

  /** The sink with another transaction naming: for tests of a switch between them. */
  static KafkaSink<KafkaMessage> sink(
      String bootstrapServers,
      String transactionalIdPrefix,
      List<Topic<?, ?>> topics,
      TransactionNamingStrategy naming) {
    Properties producer = new Properties();
    producer.setProperty("transaction.timeout.ms", Long.toString(TRANSACTION_TIMEOUT.toMillis()));
    // Records of a transaction are read (read_committed) only once the checkpoint commits it, and
    // the sink flushes its producer before that commit, so lingering up to SINK_LINGER for fuller
    // batches delays no verdict a reader can see; it sends fewer, larger produce requests (the
    // broker's and the clients' CPU goes per request, issue 2).
    producer.setProperty("linger.ms", Long.toString(SINK_LINGER.toMillis()));
    producer.setProperty("batch.size", Integer.toString(SINK_BATCH_BYTES));
    return KafkaSink.<KafkaMessage>builder()
        .setBootstrapServers(bootstrapServers)
        .setRecordSerializer(new KafkaMessageSerializer(topics.stream().map(Topic::name).toList()))
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(transactionalIdPrefix)
        .setTransactionNamingStrategy(naming)
        .setKafkaProducerConfig(producer)
        .build();
  }
}
