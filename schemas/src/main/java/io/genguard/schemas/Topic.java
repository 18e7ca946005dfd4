package io.genguard.schemas;

import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * A topic in the catalogue: its name, key serde, value codec and the dead-letter topic that takes
 * what cannot be decoded or processed from it.
 *
 * @param name the Kafka topic name
 * @param keySerde serde of the key (request ids are UTF-8 strings)
 * @param valueSerde serde of the value
 * @param deadLetterTopic where undecodable records of this topic go, if it is an input topic
 */
public record Topic<K, V extends SpecificRecord>(
    String name, Serde<K> keySerde, EventSerde<V> valueSerde, Optional<String> deadLetterTopic) {

  public EventCodec<V> codec() {
    return valueSerde.codec();
  }

  public Class<V> valueType() {
    return valueSerde.codec().type();
  }

  /** The dead-letter topic, or an error naming this topic if it has none. */
  public String requireDeadLetterTopic() {
    return deadLetterTopic.orElseThrow(
        () -> new IllegalStateException("Topic " + name + " has no dead-letter topic"));
  }

  @Override
  public String toString() {
    return name;
  }
}
