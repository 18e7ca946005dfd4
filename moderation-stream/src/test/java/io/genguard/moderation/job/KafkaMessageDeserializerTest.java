package io.genguard.moderation.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.schemas.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class KafkaMessageDeserializerTest {
  @Test
  void shouldSkipOnlyRecordsSentBackForAnotherStage() {
    KafkaMessageDeserializer moderation = new KafkaMessageDeserializer(DecodeOutputs.STAGE);

    assertThat(read(moderation, record(5, null)))
        .singleElement()
        .satisfies(
            message -> {
              assertThat(message.offset).isEqualTo(5);
              assertThat(message.value).isEqualTo(value());
            });
    assertThat(read(moderation, record(6, "gate"))).as("the job read it the first time").isEmpty();
    assertThat(read(moderation, record(7, DecodeOutputs.STAGE)))
        .as("its own dead letter, sent back")
        .hasSize(1);
    assertThat(read(new KafkaMessageDeserializer(null), record(8, "gate")))
        .as("no stage: every record")
        .hasSize(1);
  }

  private static List<KafkaMessage> read(
      KafkaMessageDeserializer deserializer, ConsumerRecord<byte[], byte[]> record) {
    List<KafkaMessage> out = new ArrayList<>();
    deserializer.deserialize(
        record,
        new Collector<>() {
          @Override
          public void collect(KafkaMessage message) {
            out.add(message);
          }

          @Override
          public void close() {}
        });
    return out;
  }

  private static ConsumerRecord<byte[], byte[]> record(long offset, String redrivenFor) {
    RecordHeaders headers = new RecordHeaders();
    if (redrivenFor != null) {
      headers.add(DeadLetters.REDRIVEN_FOR, redrivenFor.getBytes(StandardCharsets.UTF_8));
    }
    return new ConsumerRecord<>(
        "gen.outputs",
        1,
        offset,
        0L,
        TimestampType.CREATE_TIME,
        0,
        5,
        "req-1".getBytes(StandardCharsets.UTF_8),
        value(),
        headers,
        Optional.empty());
  }

  private static byte[] value() {
    return "bytes".getBytes(StandardCharsets.UTF_8);
  }
}
