package io.genguard.moderation.job;

/**
 * A record as it travels between Kafka and the job's operators: topic, key and value bytes, plus
 * where it came from. A Flink POJO (public fields, no-arg constructor) so Flink serialises it
 * without Kryo.
 */
public class KafkaMessage {
  public String topic;
  public int partition;
  public long offset;
  public byte[] key;
  public byte[] value;

  public KafkaMessage() {}

  public static KafkaMessage outgoing(String topic, byte[] key, byte[] value) {
    KafkaMessage message = new KafkaMessage();
    message.topic = topic;
    message.partition = -1;
    message.offset = -1;
    message.key = key;
    message.value = value;
    return message;
  }
}
