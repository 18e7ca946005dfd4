package io.genguard.moderation.job;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes each message to the topic it names (verdicts and dead letters share one sink). */
public final class KafkaMessageSerializer implements KafkaRecordSerializationSchema<KafkaMessage> {
  private static final long serialVersionUID = 1L;

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      KafkaMessage message, KafkaSinkContext context, Long timestamp) {
    return new ProducerRecord<>(message.topic, null, timestamp, message.key, message.value);
  }
}
