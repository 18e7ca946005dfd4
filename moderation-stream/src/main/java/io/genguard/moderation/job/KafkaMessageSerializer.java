package io.genguard.moderation.job;

import java.util.List;
import java.util.Optional;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes each message to the topic it names (verdicts and dead letters share one sink), which must
 * be one of the sink's declared topics.
 *
 * <p>The declared topics are where the sink, started or restored, looks for its transactions left
 * open by an earlier run (the pooled transaction naming lists the producers writing to them): a
 * transaction that wrote only to an undeclared topic would stay open until the broker's timeout,
 * holding back every read_committed consumer of that topic. So a message for any other topic is
 * refused, naming it, instead of being written.
 */
public final class KafkaMessageSerializer
    implements KafkaRecordSerializationSchema<KafkaMessage>, KafkaDatasetFacetProvider {
  private static final long serialVersionUID = 1L;

  private final List<String> topics;

  /**
   * @param topics every topic the job writes to
   */
  public KafkaMessageSerializer(List<String> topics) {
    if (topics.isEmpty()) {
      throw new IllegalArgumentException("A Kafka sink needs at least one declared topic");
    }
    this.topics = List.copyOf(topics);
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      KafkaMessage message, KafkaSinkContext context, Long timestamp) {
    if (!topics.contains(message.topic)) {
      throw new IllegalStateException(
          "The sink was not declared to write to topic "
              + message.topic
              + " (declared: "
              + topics
              + "): add it to the topics the job passes to ExactlyOnceKafka.sink");
    }
    return new ProducerRecord<>(message.topic, null, timestamp, message.key, message.value);
  }

  /** The declared topics, which the pooled transaction naming needs to find open transactions. */
  @Override
  public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
    return Optional.of(
        new DefaultKafkaDatasetFacet(DefaultKafkaDatasetIdentifier.ofTopics(topics)));
  }
}
