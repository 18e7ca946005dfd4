package io.genguard.moderation.job;

import java.io.Serializable;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the moderation job, parsed once in {@code main} (or built by the local stack).
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param consumerGroup group id under which the source commits offsets on checkpoints
 * @param transactionalIdPrefix prefix of the exactly-once sink's transactional ids; unique per job
 * @param parallelism operator parallelism (at most the partition count of gen.outputs is useful)
 * @param checkpointInterval how often to checkpoint; verdicts become visible at each checkpoint
 * @param maxBatchSize most outputs judged in one model call
 * @param maxBatchDelay longest an output waits for its batch to fill
 */
public record ModerationJobConfig(
    String bootstrapServers,
    String consumerGroup,
    String transactionalIdPrefix,
    int parallelism,
    Duration checkpointInterval,
    int maxBatchSize,
    Duration maxBatchDelay)
    implements Serializable {

  public static final String BOOTSTRAP_SERVERS = "GENGUARD_KAFKA_BOOTSTRAP_SERVERS";
  public static final String CONSUMER_GROUP = "GENGUARD_MODERATION_GROUP";
  public static final String TRANSACTIONAL_ID_PREFIX =
      "GENGUARD_MODERATION_TRANSACTIONAL_ID_PREFIX";
  public static final String PARALLELISM = "GENGUARD_MODERATION_PARALLELISM";
  public static final String CHECKPOINT_INTERVAL_MS = "GENGUARD_MODERATION_CHECKPOINT_INTERVAL_MS";
  public static final String MAX_BATCH_SIZE = "GENGUARD_MODERATION_MAX_BATCH_SIZE";
  public static final String MAX_BATCH_DELAY_MS = "GENGUARD_MODERATION_MAX_BATCH_DELAY_MS";

  /** The largest batch accepted: a model call over more texts only holds more memory at once. */
  public static final int MAX_BATCH_SIZE_LIMIT = 4096;

  /** The longest an output may be kept waiting for its batch to fill. */
  public static final Duration MAX_BATCH_DELAY_LIMIT = Duration.ofSeconds(10);

  public ModerationJobConfig {
    require(
        bootstrapServers != null && !bootstrapServers.isBlank(), BOOTSTRAP_SERVERS, "must be set");
    ExactlyOnceKafka.requireParallelism(PARALLELISM, parallelism);
    ExactlyOnceKafka.requireCheckpointInterval(
        CHECKPOINT_INTERVAL_MS, checkpointInterval, "verdicts");
    require(
        maxBatchSize >= 1 && maxBatchSize <= MAX_BATCH_SIZE_LIMIT,
        MAX_BATCH_SIZE,
        "must be 1-" + MAX_BATCH_SIZE_LIMIT + ", was " + maxBatchSize);
    require(
        !maxBatchDelay.isNegative() && maxBatchDelay.compareTo(MAX_BATCH_DELAY_LIMIT) <= 0,
        MAX_BATCH_DELAY_MS,
        "must be 0-" + MAX_BATCH_DELAY_LIMIT.toMillis() + " ms, was " + maxBatchDelay.toMillis());
  }

  public static ModerationJobConfig defaults(String bootstrapServers) {
    return new ModerationJobConfig(
        bootstrapServers,
        "genguard-moderation",
        "genguard-moderation",
        1,
        Duration.ofMillis(500),
        32,
        Duration.ofMillis(5));
  }

  /** Defaults overridden by the GENGUARD_MODERATION_* keys present in {@code env}. */
  public static ModerationJobConfig fromEnvironment(Map<String, String> env) {
    ModerationJobConfig defaults = defaults(env.getOrDefault(BOOTSTRAP_SERVERS, "localhost:9092"));
    return new ModerationJobConfig(
        defaults.bootstrapServers(),
        env.getOrDefault(CONSUMER_GROUP, defaults.consumerGroup()),
        env.getOrDefault(TRANSACTIONAL_ID_PREFIX, defaults.transactionalIdPrefix()),
        integer(env, PARALLELISM, defaults.parallelism()),
        Duration.ofMillis(
            integer(env, CHECKPOINT_INTERVAL_MS, (int) defaults.checkpointInterval().toMillis())),
        integer(env, MAX_BATCH_SIZE, defaults.maxBatchSize()),
        Duration.ofMillis(
            integer(env, MAX_BATCH_DELAY_MS, (int) defaults.maxBatchDelay().toMillis())));
  }

  public ModerationJobConfig withParallelism(int newParallelism) {
    return new ModerationJobConfig(
        bootstrapServers,
        consumerGroup,
        transactionalIdPrefix,
        newParallelism,
        checkpointInterval,
        maxBatchSize,
        maxBatchDelay);
  }

  public ModerationJobConfig withCheckpointInterval(Duration interval) {
    return new ModerationJobConfig(
        bootstrapServers,
        consumerGroup,
        transactionalIdPrefix,
        parallelism,
        interval,
        maxBatchSize,
        maxBatchDelay);
  }

  public ModerationJobConfig withNames(String group, String transactionalPrefix) {
    return new ModerationJobConfig(
        bootstrapServers,
        group,
        transactionalPrefix,
        parallelism,
        checkpointInterval,
        maxBatchSize,
        maxBatchDelay);
  }

  private static int integer(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }

  private static void require(boolean condition, String key, String problem) {
    if (!condition) {
      throw new IllegalArgumentException(key + " " + problem);
    }
  }
}
