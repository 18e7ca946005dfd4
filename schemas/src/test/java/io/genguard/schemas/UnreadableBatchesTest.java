package io.genguard.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class UnreadableBatchesTest {
  private static final TopicPartition OUTPUTS_1 = new TopicPartition("gen.outputs", 1);
  private static final TopicPartition OUTPUTS_11 = new TopicPartition("gen.outputs", 11);

  @Test
  void shouldNameTheAssignedPartitionWhoseBatchFailedTheConsumersChecks() {
    // As kafka-clients 4.2 says it (CompletedFetch.fetchRecords).
    KafkaException failure =
        new KafkaException(
            "Received exception when fetching the next record from gen.outputs-1. If needed,"
                + " please seek past the record to continue consumption.",
            new KafkaException("Record is corrupt (stored crc = 1, computed crc = 2)"));

    assertThat(UnreadableBatches.partitionOf(failure, List.of(OUTPUTS_11, OUTPUTS_1)))
        .isEqualTo(OUTPUTS_1);
    assertThat(UnreadableBatches.partitionOf(failure, List.of(OUTPUTS_11))).isNull();
    assertThat(
            UnreadableBatches.partitionOf(
                new KafkaException("Failed to construct kafka consumer"), List.of(OUTPUTS_1)))
        .isNull();
  }

  @Test
  void shouldTakeOnlyAOneOffsetBatchWithoutRecordsForAMarker() {
    assertThat(new UnreadableBatches.Copy(List.of(), 4).isMarkerAt(3)).isTrue();
    assertThat(new UnreadableBatches.Copy(List.of(), 3).isMarkerAt(3))
        .as("nothing read in time")
        .isFalse();
    assertThat(new UnreadableBatches.Copy(List.of(), 6).isMarkerAt(3))
        .as("several offsets without a record")
        .isFalse();
    assertThat(
            new UnreadableBatches.Copy(
                    List.of(new ConsumerRecord<>("gen.outputs", 1, 3, new byte[0], new byte[0])), 4)
                .isMarkerAt(3))
        .isFalse();
    assertThat(UnreadableBatches.markerReason(OUTPUTS_1, 3, "generated", "the generator"))
        .contains(
            "gen.outputs-1 offset 3",
            "CRC",
            "transaction marker",
            "never generated",
            "the generator reads on from offset 4");
  }

  @Test
  void shouldTakeTheOffsetOfTheFailedBatchFromTheConsumersCause() {
    // As kafka-clients 4.2 says it (CompletedFetch.maybeEnsureValid, then fetchRecords).
    KafkaException failure =
        new KafkaException(
            "Received exception when fetching the next record from gen.outputs-1. If needed,"
                + " please seek past the record to continue consumption.",
            new KafkaException(
                "Record batch for partition gen.outputs-1 at offset 3 is invalid, cause: Record is"
                    + " corrupt (stored crc = 1, computed crc = 2)"));

    assertThat(UnreadableBatches.failedBatchOffset(failure, OUTPUTS_1)).isEqualTo(3L);
    assertThat(UnreadableBatches.failedBatchOffset(failure, OUTPUTS_11)).isEqualTo(-1L);
    assertThat(
            UnreadableBatches.failedBatchOffset(
                new KafkaException(
                    "Received exception when fetching the next record from gen.outputs-1. If"
                        + " needed, please seek past the record to continue consumption.",
                    new KafkaException("Record batch for partition gen.outputs-1 at offset x")),
                OUTPUTS_1))
        .isEqualTo(-1L);
    assertThat(UnreadableBatches.failedBatchOffset(new KafkaException("no cause"), OUTPUTS_1))
        .isEqualTo(-1L);
  }

  @Test
  void shouldReadWithoutTheCheckOutsideAnyGroupKeepingOnlyTheClientsOwnAndSecuritySettings() {
    Map<String, Object> reader =
        UnreadableBatches.readerProperties(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                "kafka:9092",
                ConsumerConfig.GROUP_ID_CONFIG,
                "genguard-release-gate",
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
                "gate-1",
                "sasl.mechanism",
                "PLAIN",
                "__streams.internal__",
                new Object()),
            "gate-unchecked");

    assertThat(reader)
        .containsEntry(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "kafka:9092")
        .containsEntry("sasl.mechanism", "PLAIN")
        .containsEntry(ConsumerConfig.CHECK_CRCS_CONFIG, false)
        .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
        .containsEntry(ConsumerConfig.CLIENT_ID_CONFIG, "gate-unchecked")
        .doesNotContainKeys(
            ConsumerConfig.GROUP_ID_CONFIG,
            ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
            "__streams.internal__");
  }

  @Test
  void shouldFindWhereTheNextBatchBeginsFromAPositionInsideTheDamagedBatch() {
    // The forty-fourth session's review: from a position inside the damaged batch (offsets 10 to
    // 12; a committed offset or a reset at 11), every fetch named the batch at 10, not the
    // position, so its end was never told and the partition waited.
    MockConsumer<byte[], byte[]> checked =
        new MockConsumer<>("earliest") {
          @Override
          public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            long offset = position(OUTPUTS_1);
            if (offset < 13) {
              throw new KafkaException(
                  "Received exception when fetching the next record from gen.outputs-1. If"
                      + " needed, please seek past the record to continue consumption.",
                  new KafkaException(
                      "Record batch for partition gen.outputs-1 at offset 10 is invalid, cause:"
                          + " Record is corrupt (stored crc = 1, computed crc = 2)"));
            }
            return new ConsumerRecords<>(
                Map.of(
                    OUTPUTS_1,
                    List.of(
                        new ConsumerRecord<>("gen.outputs", 1, offset, new byte[0], new byte[0]))),
                Map.of());
          }
        };
    checked.updateEndOffsets(Map.of(OUTPUTS_1, 20L));

    assertThat(
            UnreadableBatches.recordLessEnd(
                checked, OUTPUTS_1, 11, 16, Duration.ofSeconds(5), () -> true))
        .isEqualTo(13);
    assertThat(
            UnreadableBatches.recordLessEnd(
                checked, OUTPUTS_1, 10, 16, Duration.ofSeconds(5), () -> true))
        .as("from the batch's own offset, as before")
        .isEqualTo(13);
  }
}
