package io.genguard.moderation.job;

import io.genguard.events.v1.DeadLetter;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventCodec;
import io.genguard.schemas.EventDecodingException;
import java.time.Instant;

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

  /**
   * The dead letter of {@code message}, refused by {@code stage} for {@code error}, as a record for
   * {@code deadLetterTopic}: where it came from, its bytes and the reason.
   */
  public static KafkaMessage deadLetter(
      KafkaMessage message,
      String stage,
      EventDecodingException error,
      String deadLetterTopic,
      EventCodec<DeadLetter> codec) {
    DeadLetter deadLetter =
        DeadLetters.of(
            message.topic,
            message.partition,
            message.offset,
            message.key,
            message.value,
            stage,
            error,
            Instant.now());
    return outgoing(deadLetterTopic, DeadLetters.recordKey(message.key), codec.encode(deadLetter));
  }
}
