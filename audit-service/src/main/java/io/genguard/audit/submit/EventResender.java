package io.genguard.audit.submit;

import io.genguard.audit.submit.RequestSubmitter.NotAcceptedException;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes the recorded events of unfinished flows back to their topics ({@link
 * UnfinishedFlows#resend}): a request to gen.requests, an output to gen.outputs, keyed by request
 * id as the pipeline writes them, encoded as the pipeline encodes them. An event counts as sent
 * only once the broker acknowledged it (acks=all, idempotent).
 *
 * <p>Resends are rare, so the producer is made on the first one, and dropped after any failure so
 * that the next resend starts with a fresh one rather than one a fatal error left unusable. A bulk
 * resend sends its records at once and then waits for the acknowledgements.
 */
public final class EventResender implements UnfinishedFlows.Resender, AutoCloseable {
  private static final long ACK_TIMEOUT_SECONDS = 30;
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(ACK_TIMEOUT_SECONDS);

  private final Supplier<Producer<String, byte[]>> producerFactory;
  private Producer<String, byte[]> producer; // guarded by this; null until the first send
  private boolean closed; // guarded by this

  public EventResender(Map<String, Object> kafkaProperties) {
    this(() -> newProducer(kafkaProperties));
  }

  EventResender(Supplier<Producer<String, byte[]>> producerFactory) {
    this.producerFactory = producerFactory;
  }

  private static Producer<String, byte[]> newProducer(Map<String, Object> kafkaProperties) {
    Properties props = new Properties();
    props.putAll(kafkaProperties);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * Sends them all at once and then waits for each acknowledgement (at most {@value
   * #ACK_TIMEOUT_SECONDS} s in all): a bulk resend of thousands takes about as long as the broker
   * needs to write them, not a round trip each.
   */
  @Override
  public synchronized Batch sendAll(List<SpecificRecord> records) {
    if (closed) {
      throw new IllegalStateException("The audit service is stopping; nothing was sent");
    }
    boolean[] taken = new boolean[records.size()];
    RuntimeException failure = null;
    List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
    if (producer == null) {
      producer = producerFactory.get();
    }
    for (SpecificRecord record : records) {
      try {
        acks.add(producer.send(producerRecord(record)));
      } catch (RuntimeException e) {
        // A producer in a fatal state, or a record it cannot take: nothing after it is sent.
        failure = e instanceof KafkaException ? notAccepted(record, e) : e;
        break;
      }
    }
    long deadline = System.nanoTime() + ACK_TIMEOUT.toNanos();
    for (int i = 0; i < acks.size(); i++) {
      try {
        acks.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        taken[i] = true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure =
            failure == null ? new IllegalStateException("Interrupted while sending", e) : failure;
        break;
      } catch (ExecutionException | TimeoutException e) {
        failure = failure == null ? notAccepted(records.get(i), e) : failure;
      }
    }
    if (failure != null) {
      drop();
    }
    return new Batch(taken, failure);
  }

  private static ProducerRecord<String, byte[]> producerRecord(SpecificRecord record) {
    if (record instanceof GenerationRequest request) {
      return new ProducerRecord<>(
          Topics.GENERATION_REQUESTS.name(),
          request.getRequestId(),
          Topics.GENERATION_REQUESTS.codec().encode(request));
    }
    GenerationOutput output = (GenerationOutput) record;
    return new ProducerRecord<>(
        Topics.GENERATION_OUTPUTS.name(),
        output.getRequestId(),
        Topics.GENERATION_OUTPUTS.codec().encode(output));
  }

  private static NotAcceptedException notAccepted(SpecificRecord record, Exception e) {
    String topic =
        record instanceof GenerationRequest
            ? Topics.GENERATION_REQUESTS.name()
            : Topics.GENERATION_OUTPUTS.name();
    Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
    return new NotAcceptedException(
        e instanceof TimeoutException
            ? "Kafka did not acknowledge the events on "
                + topic
                + " within "
                + ACK_TIMEOUT_SECONDS
                + " s"
            : "Kafka did not accept the event on " + topic + ": " + cause,
        cause);
  }

  /** Closes the producer a failure may have left unusable; the next send makes a new one. */
  private void drop() {
    producer.close(Duration.ZERO);
    producer = null;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (producer != null) {
      producer.close();
      producer = null;
    }
  }
}
