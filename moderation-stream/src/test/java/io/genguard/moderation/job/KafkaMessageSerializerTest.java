package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.junit.jupiter.api.Test;

class KafkaMessageSerializerTest {
  private static final KafkaMessageSerializer MODERATION_SINK =
      new KafkaMessageSerializer(
          ModerationJob.OUTPUT_TOPICS.stream().map(topic -> topic.name()).toList());

  @Test
  void shouldWriteEachMessageToTheDeclaredTopicItNames() {
    KafkaMessage verdict =
        KafkaMessage.outgoing(
            Topics.MODERATION_VERDICTS.name(), key("request-1"), new byte[] {1, 2});

    var record = MODERATION_SINK.serialize(verdict, null, 42L);

    assertThat(record.topic()).isEqualTo(Topics.MODERATION_VERDICTS.name());
    assertThat(record.partition()).as("the producer partitions by key").isNull();
    assertThat(record.key()).isEqualTo(key("request-1"));
    assertThat(record.value()).containsExactly(1, 2);
    assertThat(record.timestamp()).isEqualTo(42L);
  }

  /**
   * The pooled transaction naming finds the transactions a crash left open through the producers of
   * the declared topics: one written only to another topic would stay open, holding its readers
   * back, until the broker's timeout.
   */
  @Test
  void shouldRefuseATopicTheSinkWasNotDeclaredToWriteTo() {
    KafkaMessage alert =
        KafkaMessage.outgoing(Topics.BIAS_ALERTS.name(), key("campaign-1"), new byte[] {1});

    assertThatThrownBy(() -> MODERATION_SINK.serialize(alert, null, 42L))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(Topics.BIAS_ALERTS.name())
        .hasMessageContaining(Topics.MODERATION_VERDICTS.name())
        .hasMessageContaining("ExactlyOnceKafka.sink");
  }

  @Test
  void shouldNameEveryDeclaredTopicForTheSinkToListItsOpenTransactions() {
    assertThat(MODERATION_SINK.getKafkaDatasetFacet())
        .get()
        .extracting(KafkaDatasetFacet::getTopicIdentifier)
        .satisfies(
            topics ->
                assertThat(topics.getTopics())
                    .containsExactlyInAnyOrder(
                        Topics.MODERATION_VERDICTS.name(),
                        Topics.MODERATION_POLICIES.name(),
                        Topics.GENERATION_OUTPUTS_DLQ.name()));
  }

  @Test
  void shouldRefuseASinkWithNoTopic() {
    assertThatThrownBy(() -> new KafkaMessageSerializer(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one");
  }

  private static byte[] key(String requestId) {
    return requestId.getBytes(StandardCharsets.UTF_8);
  }
}
