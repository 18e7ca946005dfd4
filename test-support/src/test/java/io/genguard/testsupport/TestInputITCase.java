package io.genguard.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

class TestInputITCase {
  private final IntegrationInfrastructure infra = IntegrationInfrastructure.get();

  @Test
  void shouldReturnOnlyWhenEveryRecordIsAcknowledged() {
    infra.createTopics(2, List.of("fixture.input"));
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      records.add(new ProducerRecord<>("fixture.input", bytes("k" + i), bytes("v" + i)));
    }

    TestInput.sendAll(infra.kafkaBootstrapServers(), records);

    // Acknowledged means readable at once: a single poll loop finds all 50.
    Properties properties = new Properties();
    properties.putAll(infra.kafkaClientProperties());
    properties.putAll(
        Map.of(
            ConsumerConfig.GROUP_ID_CONFIG, "fixture-input",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
    Set<String> values = new HashSet<>();
    try (var consumer =
        new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of("fixture.input"));
      for (int i = 0; i < 30 && values.size() < 50; i++) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofSeconds(1))) {
          values.add(record.value());
        }
      }
    }
    assertThat(values).hasSize(50);
  }

  @Test
  void shouldFailWithTheCauseWhenARecordCannotLand() {
    infra.createTopics(1, List.of("fixture.input.large"));
    // Larger than the producer's max.request.size (1 MiB): rejected on every attempt.
    byte[] large = new byte[2 << 20];
    List<ProducerRecord<byte[], byte[]>> records =
        List.of(
            new ProducerRecord<>("fixture.input.large", bytes("small"), bytes("fits")),
            new ProducerRecord<>("fixture.input.large", bytes("large"), large));

    assertThatThrownBy(() -> TestInput.sendAll(infra.kafkaBootstrapServers(), records))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("1 of 2 test records did not land in " + TestInput.ATTEMPTS + " attempts")
        .hasRootCauseInstanceOf(RecordTooLargeException.class);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
