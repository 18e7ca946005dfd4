package io.genguard.stack;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Where the command-line consumers that assign their partitions themselves read from (the dead
 * letter redrive, the reference publisher), and when they have caught up.
 */
final class ConsumerPositions {
  private ConsumerPositions() {}

  /**
   * Puts each assigned partition where the group's last run committed, or at its first record when
   * it committed nothing there or {@code fromBeginning}.
   *
   * @return what the group committed, by partition (empty with {@code fromBeginning})
   */
  static Map<TopicPartition, OffsetAndMetadata> resume(
      Consumer<?, ?> consumer, List<TopicPartition> partitions, boolean fromBeginning) {
    Map<TopicPartition, OffsetAndMetadata> committed =
        fromBeginning ? Map.of() : consumer.committed(new HashSet<>(partitions));
    for (TopicPartition partition : partitions) {
      OffsetAndMetadata from = committed.get(partition);
      if (from == null) {
        consumer.seekToBeginning(List.of(partition));
      } else {
        consumer.seek(partition, from.offset());
      }
    }
    return committed;
  }

  /** Whether every partition is read up to the offset {@code end} gives it. */
  static boolean reachedEnd(Consumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> partition : end.entrySet()) {
      if (consumer.position(partition.getKey()) < partition.getValue()) {
        return false;
      }
    }
    return true;
  }
}
