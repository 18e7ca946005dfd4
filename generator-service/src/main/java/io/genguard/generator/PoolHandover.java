package io.genguard.generator;

import io.genguard.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a pool that answers only some backends ({@link PoolRouting#onlyBackends()}) starts reading:
 * exactly where the main pool started leaving those backends to it. Its consumer group is new the
 * first time, and Kafka would start a new group at the oldest request it keeps, answering again
 * every request of those backends the main pool had already answered. So the main pool, when it
 * starts leaving backends, gives the side pool's group its own committed offsets (or, for a
 * partition it never committed, the oldest offset, where it starts itself) if that group has none;
 * and the side pool waits, before it reads anything, until its group has offsets.
 *
 * <p>The main pool seeds only a group that has no offsets, so a side pool that keeps running, or is
 * restarted, goes on where it stopped. To stop splitting and start again later, delete the side
 * pool's group while both pools are stopped (OPERATIONS, "GPU workers").
 */
final class PoolHandover {
  private static final Logger LOG = LoggerFactory.getLogger(PoolHandover.class);
  private static final String TOPIC = Topics.GENERATION_REQUESTS.name();

  private PoolHandover() {}

  /**
   * The main pool's part: gives {@code sideGroup} the committed offsets of {@code mainGroup} on
   * {@code gen.requests} when it has none. Call before the main pool reads.
   *
   * @return whether it seeded the group
   */
  static boolean seedIfNew(Admin admin, String mainGroup, String sideGroup)
      throws ExecutionException, InterruptedException {
    if (!committed(admin, sideGroup).isEmpty()) {
      return false;
    }
    Map<TopicPartition, OffsetAndMetadata> main = committed(admin, mainGroup);
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    TopicDescription topic =
        admin.describeTopics(java.util.List.of(TOPIC)).allTopicNames().get().get(TOPIC);
    for (TopicPartitionInfo partition : topic.partitions()) {
      TopicPartition key = new TopicPartition(TOPIC, partition.partition());
      if (!main.containsKey(key)) {
        earliest.put(key, OffsetSpec.earliest());
      }
    }
    Map<TopicPartition, OffsetAndMetadata> seed = new HashMap<>(main);
    if (!earliest.isEmpty()) {
      admin
          .listOffsets(earliest)
          .all()
          .get()
          .forEach((partition, info) -> seed.put(partition, new OffsetAndMetadata(info.offset())));
    }
    try {
      admin.alterConsumerGroupOffsets(sideGroup, seed).all().get();
    } catch (ExecutionException e) {
      if (!committed(admin, sideGroup).isEmpty()) {
        // Another process of the main pool seeded it first (and the side pool may have joined).
        return false;
      }
      throw e;
    }
    LOG.info(
        "Handed {} partitions of {} over to consumer group {} at the offsets of {}",
        seed.size(),
        TOPIC,
        sideGroup,
        mainGroup);
    return true;
  }

  /**
   * The side pool's part: waits until {@code group} has committed offsets on {@code gen.requests}
   * (the main pool's seed, or its own from before), checking every {@code poll}.
   *
   * @return false when {@code stopping} said to stop first
   */
  static boolean awaitSeeded(
      Admin admin, String group, String mainGroup, Duration poll, BooleanSupplier stopping)
      throws ExecutionException, InterruptedException {
    long lastLog = 0;
    while (committed(admin, group).isEmpty()) {
      if (stopping.getAsBoolean()) {
        return false;
      }
      long now = System.nanoTime();
      if (lastLog == 0 || now - lastLog > Duration.ofSeconds(30).toNanos()) {
        LOG.warn(
            "Consumer group {} has no offsets yet: waiting for the main pool (group {}, with"
                + " {} naming this pool's backends) to start and hand {} over",
            group,
            mainGroup,
            GeneratorConfig.Keys.LEAVE_BACKENDS,
            TOPIC);
        lastLog = now;
      }
      Thread.sleep(poll.toMillis());
    }
    return true;
  }

  private static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin, String group)
      throws ExecutionException, InterruptedException {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    // Stable: offsets of a transaction still being committed are waited for, not read half-done.
    admin
        .listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().requireStable(true))
        .partitionsToOffsetAndMetadata()
        .get()
        .forEach(
            (partition, offset) -> {
              if (offset != null && partition.topic().equals(TOPIC)) {
                offsets.put(partition, offset);
              }
            });
    return offsets;
  }
}
