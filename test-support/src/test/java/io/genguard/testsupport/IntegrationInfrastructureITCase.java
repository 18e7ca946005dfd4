package io.genguard.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class IntegrationInfrastructureITCase {
  private final IntegrationInfrastructure infra = IntegrationInfrastructure.get();

  @Test
  void brokerStoresAndReturnsRecords() throws Exception {
    infra.createTopics(2, List.of("fixture.smoke"));
    Properties producerProps = new Properties();
    producerProps.putAll(infra.kafkaClientProperties());
    try (var producer =
        new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>("fixture.smoke", "k", "hello")).get();
    }
    Properties consumerProps = new Properties();
    consumerProps.putAll(infra.kafkaClientProperties());
    consumerProps.putAll(
        Map.of(
            ConsumerConfig.GROUP_ID_CONFIG, "fixture-smoke",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
    try (var consumer =
        new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of("fixture.smoke"));
      ConsumerRecords<String, String> records = ConsumerRecords.empty();
      for (int i = 0; i < 30 && records.isEmpty(); i++) {
        records = consumer.poll(Duration.ofSeconds(1));
      }
      assertThat(records.count()).isEqualTo(1);
      assertThat(records.iterator().next().value()).isEqualTo("hello");
    }
  }

  @Test
  void postgresAnswersQueries() throws Exception {
    try (Connection connection =
            DriverManager.getConnection(infra.jdbcUrl(), infra.jdbcUser(), infra.jdbcPassword());
        ResultSet rs = connection.createStatement().executeQuery("select version()")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).startsWith("PostgreSQL 17");
    }
  }
}
