package io.genguard.testsupport;

import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.schemas.Topic;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * An embedded broker of a test's own instead of the shared {@link IntegrationInfrastructure}, for a
 * test that reaches the broker's log files ({@link CorruptSegments}) or restarts what runs on it:
 * started with the topics the test names, one partition and one replica each. The test closes it.
 */
public final class OwnBroker {
  private OwnBroker() {}

  /** A broker under {@code dir} with every topic of {@link Topics#all()}. */
  public static EmbeddedKafkaBroker startWithAllTopics(Path dir) {
    return start(dir, Topics.all().stream().map(Topic::name).toList());
  }

  /** A broker under {@code dir} with {@code topics}; closed again where they cannot be created. */
  public static EmbeddedKafkaBroker start(Path dir, List<String> topics) {
    return start(dir, topics, MetadataVersion.LATEST_PRODUCTION);
  }

  /**
   * A broker under {@code dir} with {@code topics}, whose cluster finalizes {@code release} as its
   * metadata.version (as one of that release, or upgraded but not finalized yet, does).
   */
  public static EmbeddedKafkaBroker start(Path dir, List<String> topics, MetadataVersion release) {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"), 0, release);
    try {
      TopicProvisioner.provision(adminProperties(broker), topics, 1, (short) 1);
    } catch (RuntimeException e) {
      broker.close();
      throw e;
    }
    return broker;
  }

  /** The properties of an admin client of {@code broker}. */
  public static Map<String, Object> adminProperties(EmbeddedKafkaBroker broker) {
    return Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
  }

  /**
   * Sends {@code event} under {@code key} to the one partition of {@code topic} and waits until it
   * landed: with {@link CorruptSegments#unbatchedProducer}, each such send is a batch of its own.
   */
  public static <V extends SpecificRecord> void send(
      KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, String key, V event)
      throws InterruptedException, ExecutionException {
    producer
        .send(
            new ProducerRecord<>(
                topic.name(), 0, key.getBytes(StandardCharsets.UTF_8), topic.codec().encode(event)))
        .get();
  }
}
