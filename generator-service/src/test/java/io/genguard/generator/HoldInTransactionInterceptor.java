package io.genguard.generator;

import io.genguard.schemas.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Test-only interceptor for {@link GeneratorProcess}: when the N-th output is sent (system property
 * {@code genguard.it.hold-after}), it writes a marker file ({@code genguard.it.marker}) and blocks
 * that worker forever, inside its open transaction, so the test can kill the process while a
 * transaction holds records on the broker. Registered on consumers too (the generator passes one
 * property map to both), where it does nothing.
 */
public final class HoldInTransactionInterceptor
    implements ProducerInterceptor<byte[], byte[]>, ConsumerInterceptor<byte[], byte[]> {
  private static final AtomicInteger OUTPUTS = new AtomicInteger();

  @Override
  public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
    int holdAfter = Integer.getInteger("genguard.it.hold-after", Integer.MAX_VALUE);
    if (record.topic().equals(Topics.GENERATION_OUTPUTS.name())
        && OUTPUTS.incrementAndGet() == holdAfter) {
      try {
        Files.writeString(Path.of(System.getProperty("genguard.it.marker")), "holding");
        Thread.sleep(Long.MAX_VALUE);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return record;
  }

  @Override
  public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}

  @Override
  public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
    return records;
  }

  @Override
  public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
