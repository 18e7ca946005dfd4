package io.genguard.audit.submit;

import io.genguard.audit.submit.RequestSubmitter.NotAcceptedException;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
 * that the next resend starts with a fresh one rather than one a fatal error left unusable.
 */
public final class EventResender implements UnfinishedFlows.Resender, AutoCloseable {
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);

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

  @Override
  public void request(GenerationRequest request) {
    send(Topics.GENERATION_REQUESTS, request.getRequestId(), request);
  }

  @Override
  public void output(GenerationOutput output) {
    send(Topics.GENERATION_OUTPUTS, output.getRequestId(), output);
  }

  private synchronized <V extends SpecificRecord> void send(
      Topic<String, V> topic, String key, V event) {
    if (closed) {
      throw new IllegalStateException("The audit service is stopping; nothing was sent");
    }
    byte[] value = topic.codec().encode(event);
    if (producer == null) {
      producer = producerFactory.get();
    }
    try {
      producer
          .send(new ProducerRecord<>(topic.name(), key, value))
          .get(ACK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drop();
      throw new IllegalStateException("Interrupted while sending to " + topic.name(), e);
    } catch (ExecutionException | KafkaException | TimeoutException e) {
      drop();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new NotAcceptedException(
          e instanceof TimeoutException
              ? "Kafka did not acknowledge the event on "
                  + topic.name()
                  + " within "
                  + ACK_TIMEOUT.toSeconds()
                  + " s"
              : "Kafka did not accept the event on " + topic.name() + ": " + cause,
          cause);
    }
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
