package io.genguard.generator;

import io.genguard.schemas.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Test-only interceptor for {@link GeneratorProcess}: at the first output from the N-th on (system
 * property {@code genguard.it.hold-after}) that is not the first output of its transaction, it
 * writes a marker file ({@code genguard.it.marker}) and blocks that worker forever, inside its open
 * transaction, so the test can kill the process while a transaction holds records on the broker.
 * Registered on consumers too (the generator passes one property map to both), where it does
 * nothing.
 */
public final class HoldInTransactionInterceptor
    implements ProducerInterceptor<byte[], byte[]>, ConsumerInterceptor<byte[], byte[]> {
  private static final AtomicInteger OUTPUTS = new AtomicInteger();
  private static final AtomicBoolean HELD = new AtomicBoolean();
  private static final ThreadLocal<Long> LAST_OUTPUT_SEND = ThreadLocal.withInitial(() -> 0L);

  @Override
  public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
    if (!record.topic().equals(Topics.GENERATION_OUTPUTS.name())) {
      return record;
    }
    int holdAfter = Integer.getInteger("genguard.it.hold-after", Integer.MAX_VALUE);
    long now = System.nanoTime();
    // A transaction's sends come in one burst, transactions are a generation time apart: an
    // output sent within 2 ms of this thread's previous one belongs to the same open transaction,
    // which therefore already holds an output.
    boolean sameTransaction = now - LAST_OUTPUT_SEND.get() < 2_000_000L;
    LAST_OUTPUT_SEND.set(now);
    if (OUTPUTS.incrementAndGet() >= holdAfter
        && sameTransaction
        && HELD.compareAndSet(false, true)) {
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
