package io.genguard.observability.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

class ConsumerGroupLagCollectorITCase {
  private static final String TOPIC = "observability.lag.it";

  @Test
  void shouldReportRecordsAGroupHasNotCommittedPastPerTopic() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(2, List.of(TOPIC));
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      records.add(
          new ProducerRecord<>(
              TOPIC,
              i % 2,
              ("k" + i).getBytes(StandardCharsets.UTF_8),
              ("v" + i).getBytes(StandardCharsets.UTF_8)));
    }
    TestInput.sendAll(infra.kafkaBootstrapServers(), records);
    commit(
        "genguard-lag-it",
        Map.of(new TopicPartition(TOPIC, 0), 2L, new TopicPartition(TOPIC, 1), 5L));
    commit("other-team", Map.of(new TopicPartition(TOPIC, 0), 0L));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    try (ConsumerGroupLagCollector collector =
        ConsumerGroupLagCollector.manual(
            infra.kafkaClientProperties(), group -> group.startsWith("genguard"), registry)) {
      collector.collectOnce();
    }

    assertThat(
            registry
                .get(ConsumerGroupLagCollector.LAG)
                .tags("group", "genguard-lag-it", "topic", TOPIC)
                .gauge()
                .value())
        .as("5 records per partition; 3 behind on partition 0, none on partition 1")
        .isEqualTo(3);
    assertThat(registry.find(ConsumerGroupLagCollector.LAG).tag("group", "other-team").gauge())
        .as("groups outside the filter are not reported")
        .isNull();
  }

  private static void commit(String group, Map<TopicPartition, Long> offsets) {
    Map<String, Object> properties =
        new HashMap<>(IntegrationInfrastructure.get().kafkaClientProperties());
    properties.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    offsets.forEach((partition, offset) -> commits.put(partition, new OffsetAndMetadata(offset)));
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties)) {
      consumer.commitSync(commits);
    }
  }
}
