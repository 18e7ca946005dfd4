package io.genguard.moderation.job;

import io.genguard.schemas.DeadLetters;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps Kafka records as bytes with their position, so decoding errors can name the offset. A
 * record sent back from a dead-letter topic for another stage ({@link
 * DeadLetters#sentBackForAnotherStage}) is skipped: this job read it the first time.
 */
public final class KafkaMessageDeserializer
    implements KafkaRecordDeserializationSchema<KafkaMessage> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(KafkaMessageDeserializer.class);

  private final String stage;

  /**
   * @param stage the stage name this job's dead letters carry, or null to read every record
   */
  public KafkaMessageDeserializer(String stage) {
    this.stage = stage;
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<KafkaMessage> out) {
    if (stage != null && DeadLetters.sentBackForAnotherStage(record.headers(), stage)) {
      LOG.info(
          "Skipping {}-{}@{}: sent back from a dead-letter topic for another stage, and {} read it"
              + " the first time",
          record.topic(),
          record.partition(),
          record.offset(),
          stage);
      return;
    }
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
