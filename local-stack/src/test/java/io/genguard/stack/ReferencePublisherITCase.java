package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference publisher on the real broker: releases published, retractions taken down whether
 * they come after the release or before it, hostile ids and bytes skipped, and a run again (or from
 * the beginning) idempotent.
 */
class ReferencePublisherITCase {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private final String releasedTopic = "content.released.publisher-it-" + UUID.randomUUID();
  private final String retractionsTopic = "content.retractions.publisher-it-" + UUID.randomUUID();

  @Test
  void shouldPublishReleasesAndTakeDownRetractionsWhicheverComesFirst() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    // Its own topics in the catalogue's formats: the hostile records below stay out of the shared
    // content.released that other tests read whole.
    infra.createTopics(3, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    String kept = "kept-" + run;
    String later = "taken-later-" + run;
    String early = "taken-early-" + run;
    ReleaseGateOutcome keptOutcome = released(kept, "acme");
    ReleaseGateOutcome laterOutcome = released(later, "acme");
    ReleaseGateOutcome earlyOutcome = released(early, "globex");
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      // Taken down before its release reaches the publisher.
      send(producer, retractionsTopic, early, retraction(earlyOutcome));
      send(producer, releasedTopic, kept, encoded(keptOutcome));
      send(producer, releasedTopic, later, encoded(laterOutcome));
      send(producer, releasedTopic, early, encoded(earlyOutcome));
      // A request id that would climb out of the directory, and bytes that are not an event.
      send(producer, releasedTopic, "x", encoded(released("../../escape", "acme")));
      send(producer, releasedTopic, "y", new byte[] {(byte) 0xC3, 1, 2, 3});
      // Taken down after its release.
      send(producer, retractionsTopic, later, retraction(laterOutcome));
      producer.flush();
    }
    String group = "publisher-it-" + run;

    ReferencePublisher.Result first = publisher(group, false).run();

    assertThat(Files.exists(dir.resolve("acme").resolve(kept + ".json"))).isTrue();
    JsonNode published = JSON.readTree(dir.resolve("acme").resolve(kept + ".json").toFile());
    assertThat(published.path("text").asText()).isEqualTo("text of " + kept);
    assertThat(published.path("releasedEventId").asText()).isEqualTo(keptOutcome.getEventId());
    assertThat(dir.resolve("acme").resolve(later + ".json")).doesNotExist();
    assertThat(dir.resolve("globex").resolve(early + ".json")).doesNotExist();
    assertThat(Files.readAllLines(dir.resolve(ReferencePublisher.RETRACTED_FILE)))
        .contains(laterOutcome.getEventId(), earlyOutcome.getEventId());
    assertThat(dir.getParent().resolve("escape.json"))
        .as("nothing written outside the directory")
        .doesNotExist();
    try (Stream<Path> all = Files.walk(dir)) {
      assertThat(all.filter(path -> path.getFileName().toString().contains("escape"))).isEmpty();
    }
    assertThat(first.unsafeIds()).isEqualTo(1);
    assertThat(first.undecodable()).isEqualTo(1);
    assertThat(first.published())
        .as("kept, and each taken down if its release was read first")
        .isBetween(1L, 3L);
    assertThat(first.takenDown() + first.withheldAsRetracted())
        .as("one taken down after its release, one never published (or both, by read order)")
        .isEqualTo(2);

    // Again with the same group: nothing new. From the beginning with a new directory state
    // (the retracted list kept): the same files.
    ReferencePublisher.Result again = publisher(group, false).run();
    assertThat(again.published()).isZero();
    Files.delete(dir.resolve("acme").resolve(kept + ".json"));
    publisher("publisher-it-replay-" + run, true).run();
    assertThat(dir.resolve("acme").resolve(kept + ".json")).exists();
    assertThat(dir.resolve("acme").resolve(later + ".json")).doesNotExist();
    assertThat(dir.resolve("globex").resolve(early + ".json")).doesNotExist();
  }

  /**
   * Ctrl-C in the middle of a batch: the run ends with its counts, not with the consumer's wake-up
   * thrown from the commit (which left that batch to be published again by the next run).
   */
  @Test
  void shouldStopAfterTheBatchItAppliesWithItsCountsAndNothingToReadAgain() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    int total = 3_000;
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < total; i++) {
        String id = "r" + i + "-" + run;
        producer.send(new ProducerRecord<>(releasedTopic, id, encoded(released(id, "acme"))));
      }
      producer.flush();
    }
    String group = "publisher-stop-it-" + run;
    ReferencePublisher following = publisher(group, false, false);
    CompletableFuture<ReferencePublisher.Result> first =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return following.run();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    Path tenant = dir.resolve("acme");
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> Files.isDirectory(tenant) && hasFiles(tenant));
    following.stop();

    ReferencePublisher.Result stopped = first.get(1, TimeUnit.MINUTES);
    ReferencePublisher.Result rest = publisher(group, false).run();

    assertThat(stopped.published()).isPositive();
    assertThat(stopped.published() + rest.published())
        .as("each release published once across the stopped run and the next")
        .isEqualTo(total);
  }

  private static boolean hasFiles(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.findAny().isPresent();
    }
  }

  private ReferencePublisher publisher(String group, boolean fromBeginning) {
    return publisher(group, fromBeginning, true);
  }

  private ReferencePublisher publisher(String group, boolean fromBeginning, boolean once) {
    return new ReferencePublisher(
        new ReferencePublisher.Settings(
            Map.copyOf(IntegrationInfrastructure.get().kafkaClientProperties()),
            dir,
            group,
            once,
            fromBeginning,
            releasedTopic,
            retractionsTopic));
  }

  private static ReleaseGateOutcome released(String requestId, String tenant) {
    String text = "text of " + requestId;
    return ReleaseGateOutcome.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(requestId)
        .setOutputId("out-" + requestId)
        .setTenantId(tenant)
        .setOutcome(GateOutcome.RELEASED)
        .setBasis(GateBasis.VERDICT)
        .setVerdictId("verdict-" + requestId)
        .setDecision(Decision.RELEASE)
        .setText(text)
        .setOutputSha256(ContentHash.sha256Hex(text))
        .setPolicyVersion("test")
        .setDecidedAt(Instant.now())
        .build();
  }

  private static byte[] retraction(ReleaseGateOutcome released) {
    return Topics.CONTENT_RETRACTIONS
        .codec()
        .encode(
            ContentRetraction.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setRequestId(released.getRequestId())
                .setTenantId(released.getTenantId())
                .setOutputId(released.getOutputId())
                .setReleasedEventId(released.getEventId())
                .setBasis(RetractionBasis.TAKEDOWN)
                .setActionId("action-" + released.getRequestId())
                .setRetractedAt(Instant.now())
                .build());
  }

  private static byte[] encoded(ReleaseGateOutcome outcome) {
    return Topics.CONTENT_RELEASED.codec().encode(outcome);
  }

  private static void send(
      KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value)
      throws Exception {
    producer.send(new ProducerRecord<>(topic, key, value)).get();
  }
}
