package io.genguard.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde over an {@link EventCodec}. Deserialization throws {@link EventDecodingException};
 * consumers that must not stop on bad bytes read raw bytes and decode themselves, sending failures
 * to the topic's dead-letter topic.
 */
public final class EventSerde<T extends SpecificRecord> implements Serde<T> {
  private final EventCodec<T> codec;

  public EventSerde(EventCodec<T> codec) {
    this.codec = codec;
  }

  public EventCodec<T> codec() {
    return codec;
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, event) -> event == null ? null : codec.encode(event);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> bytes == null ? null : codec.decode(bytes);
  }
}
