package io.genguard.moderation.job;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Keeps Kafka records as bytes with their position, so decoding errors can name the offset. */
public final class KafkaMessageDeserializer
    implements KafkaRecordDeserializationSchema<KafkaMessage> {
  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<KafkaMessage> out) {
    KafkaMessage message = new KafkaMessage();
    message.topic = record.topic();
    message.partition = record.partition();
    message.offset = record.offset();
    message.key = record.key();
    message.value = record.value();
    out.collect(message);
  }

  @Override
  public TypeInformation<KafkaMessage> getProducedType() {
    return TypeInformation.of(KafkaMessage.class);
  }
}
