package io.genguard.stack;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.schemas.ChildJvm;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.ReplacingFiles;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
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
   * Both topics carry every tenant's records; a publisher for one tenant (--tenant) writes and
   * takes down only that tenant's outputs and counts the others' as skipped (until the forty-first
   * session every publisher got every tenant's released text).
   */
  @Test
  void shouldPublishOnlyTheTenantItIsFor() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    ReleaseGateOutcome acme = released("acme-" + run, "acme");
    ReleaseGateOutcome globex = released("globex-" + run, "globex");
    ReleaseGateOutcome globexRetracted = released("globex-retracted-" + run, "globex");
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      send(producer, releasedTopic, acme.getRequestId(), encoded(acme));
      send(producer, releasedTopic, globex.getRequestId(), encoded(globex));
      send(producer, retractionsTopic, globexRetracted.getRequestId(), retraction(globexRetracted));
      producer.flush();
    }

    ReferencePublisher.Result result =
        new ReferencePublisher(
                new ReferencePublisher.Settings(
                        Map.copyOf(infra.kafkaClientProperties()),
                        dir,
                        "publisher-it-tenant-" + run,
                        true,
                        false,
                        releasedTopic,
                        retractionsTopic,
                        null)
                    .onlyTenant("acme"))
            .run();

    assertThat(dir.resolve("acme").resolve(acme.getRequestId() + ".json")).exists();
    assertThat(dir.resolve("globex")).doesNotExist();
    assertThat(result.published()).isEqualTo(1);
    assertThat(result.otherTenants()).isEqualTo(2);
    assertThat(result.json().path("other_tenants").asLong()).isEqualTo(2);
    assertThat(dir.resolve(ReferencePublisher.RETRACTED_FILE)).doesNotExist();
    assertThatThrownBy(
            () ->
                ReferencePublisher.Settings.of(Map.of(), dir, "g", true, false)
                    .onlyTenant("bad tenant"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tenant 'bad tenant' is not valid");
  }

  /**
   * A retraction this build cannot decode (a newer GenGuard wrote it: unknown fingerprint) stops
   * the run: skipped and committed past, the output it takes down would stay published. Every run
   * stops there; once the group is moved past it (what a newer build does by reading it), the
   * retraction behind it is applied.
   */
  @Test
  void shouldStopAtARetractionItCannotDecodeAndNeverCommitPastIt() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    String id = "retracted-" + run;
    ReleaseGateOutcome outcome = released(id, "acme");
    byte[] newer = retraction(outcome);
    newer[2] ^= (byte) 0xFF; // another writer schema's fingerprint
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      send(producer, releasedTopic, id, encoded(outcome));
      send(producer, retractionsTopic, id, newer);
      send(producer, retractionsTopic, id, retraction(outcome));
      producer.flush();
    }
    String group = "publisher-undecodable-it-" + run;
    TopicPartition retractions = new TopicPartition(retractionsTopic, 0);
    Path file = dir.resolve("acme").resolve(id + ".json");

    for (int attempt = 1; attempt <= 2; attempt++) {
      ReferencePublisher publisher = publisher(group, false);
      assertThatThrownBy(publisher::run)
          .as("run %d", attempt)
          .isInstanceOfSatisfying(
              ReferencePublisher.UndecodableRetractionException.class,
              stop -> {
                assertThat(stop.position()).isEqualTo(retractionsTopic + "-0@0");
                assertThat(stop.result().undecodable()).isZero();
                assertThat(stop.result().takenDown()).isZero();
              })
          .hasMessageContaining("Stopped at " + retractionsTopic + "-0@0")
          .hasMessageContaining("upgrade this publisher");
      assertThat(committed(group, retractions))
          .as("run %d leaves the retractions' position at the one it cannot decode", attempt)
          .isEqualTo(0L);
      assertThat(dir.resolve(ReferencePublisher.RETRACTED_FILE))
          .as("the retraction behind it is not applied either")
          .satisfiesAnyOf(
              retracted -> assertThat(retracted).doesNotExist(),
              retracted -> assertThat(Files.readString(retracted)).isEmpty());
    }

    // Past it (a build that decodes it reads it, or an operator moves the group): the retraction
    // behind it takes the output down, or keeps it from being published.
    commit(group, retractions, 1L);
    ReferencePublisher.Result past = publisher(group, false).run();
    assertThat(file).doesNotExist();
    assertThat(past.takenDown() + past.withheldAsRetracted()).isEqualTo(1);
    assertThat(committed(group, retractions)).isEqualTo(2L);
  }

  private static Long committed(String group, TopicPartition partition) {
    try (KafkaConsumer<String, byte[]> consumer = groupConsumer(group)) {
      OffsetAndMetadata committed = consumer.committed(Set.of(partition)).get(partition);
      return committed == null ? null : committed.offset();
    }
  }

  private static void commit(String group, TopicPartition partition, long offset) {
    try (KafkaConsumer<String, byte[]> consumer = groupConsumer(group)) {
      consumer.assign(List.of(partition));
      consumer.commitSync(Map.of(partition, new OffsetAndMetadata(offset)));
    }
  }

  private static KafkaConsumer<String, byte[]> groupConsumer(String group) {
    Properties props = new Properties();
    props.putAll(IntegrationInfrastructure.get().kafkaClientProperties());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
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

  /**
   * A symbolic link at a request's path, pointing outside the directory: publishing replaces the
   * link and writes nothing outside, and the takedown then leaves no copy of the text anywhere (the
   * forty-fourth session's first version wrote through the link, and the takedown deleted only the
   * link, leaving the released text in the file outside).
   */
  @Test
  void shouldReplaceALinkAtARequestsPathAndNeverWriteOutsideTheDirectory(@TempDir Path elsewhere)
      throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    String id = "linked-" + run;
    ReleaseGateOutcome outcome = released(id, "acme");
    Path outside = elsewhere.resolve("featured.json");
    Files.writeString(outside, "the operator's own file");
    Path file = Files.createDirectories(dir.resolve("acme")).resolve(id + ".json");
    Files.createSymbolicLink(file, outside);
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    String group = "publisher-link-it-" + run;

    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      send(producer, releasedTopic, id, encoded(outcome));
      ReferencePublisher.Result published = publisher(group, false).run();

      assertThat(published.published()).isEqualTo(1);
      assertThat(Files.isSymbolicLink(file)).as("the link replaced by the file").isFalse();
      assertThat(JSON.readTree(file.toFile()).path("text").asText()).isEqualTo("text of " + id);
      assertThat(Files.readString(outside))
          .as("nothing written outside the directory")
          .isEqualTo("the operator's own file");
      try (Stream<Path> files = Files.list(elsewhere)) {
        assertThat(files).containsExactly(outside);
      }

      send(producer, retractionsTopic, id, retraction(outcome));
      ReferencePublisher.Result retracted = publisher(group, false).run();

      assertThat(retracted.takenDown()).isEqualTo(1);
      assertThat(file).doesNotExist();
      for (Path folder : List.of(dir, elsewhere)) {
        try (Stream<Path> all = Files.walk(folder)) {
          assertThat(
                  all.filter(Files::isRegularFile)
                      .filter(path -> read(path).contains("text of " + id)))
              .as("no copy of the retracted text left")
              .isEmpty();
        }
      }
    }
  }

  /**
   * A publish killed ({@code kill -9}) while it wrote a request's file left the released text in
   * the file's temporary file; the takedown of that request removes it as well, however young (it
   * left it until the forty-fifth session: only a later write of the file removed one, and a minute
   * after, and a file taken down is not written again).
   */
  @Test
  void shouldRemoveTheTemporaryFileAKilledPublishLeftWhenItTakesTheRequestDown() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    String id = "killed-" + run;
    ReleaseGateOutcome outcome = released(id, "acme");
    Path file = Files.createDirectories(dir.resolve("acme")).resolve(id + ".json");
    Path log = Files.createTempFile("killed-publish", ".log");
    Process killed =
        ChildJvm.startReady(
            said -> said.contains("writing"),
            Duration.ofSeconds(60),
            log,
            KilledWriter.class,
            file.toString(),
            "text of " + id);
    killed.destroyForcibly(); // SIGKILL: no shutdown hook runs
    assertThat(killed.waitFor(60, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
    Files.delete(log);
    List<Path> left;
    try (Stream<Path> files = Files.list(file.getParent())) {
      left = files.toList();
    }
    assertThat(left).as("the killed writer's temporary file").hasSize(1);
    assertThat(left.get(0).getFileName().toString())
        .startsWith("." + id + ".json." + killed.pid() + "-")
        .endsWith(".partial");
    assertThat(Files.readString(left.get(0))).contains("text of " + id);
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      send(producer, retractionsTopic, id, retraction(outcome));
    }

    ReferencePublisher.Result retracted = publisher("publisher-killed-it-" + run, false).run();

    assertThat(retracted.takenDown()).as("no file was published").isZero();
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertThat(files).as("no copy of the retracted text left").isEmpty();
    }
  }

  /** Writes a request's file through ReplacingFiles, as publish does, and waits to be killed. */
  static final class KilledWriter {
    public static void main(String[] args) throws Exception {
      ReplacingFiles.Replacement replacement =
          ReplacingFiles.open(
              Path.of(args[0]),
              ReplacingFiles.OnStop.FINISH,
              ReplacingFiles.Links.REPLACE,
              null,
              System.out::println);
      replacement.stream().write(("{\"text\":\"" + args[1] + "\"").getBytes(UTF_8));
      replacement.stream().flush();
      System.out.println("writing " + replacement.temporaryFile());
      Thread.sleep(600_000);
    }
  }

  /**
   * A tenant folder that is a symbolic link to a folder outside the directory: publish neither
   * writes nor takes down through it, and stops with an error naming it, the batch's offsets not
   * committed (until the forty-fifth session it published the text there, and took it down there).
   */
  @Test
  void shouldStopAtATenantFolderThatIsALinkAndNeverPublishOrTakeDownThroughIt(
      @TempDir Path elsewhere) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    infra.createTopics(1, List.of(releasedTopic, retractionsTopic));
    String run = UUID.randomUUID().toString().substring(0, 8);
    String id = "linked-tenant-" + run;
    String kept = "kept-" + run;
    ReleaseGateOutcome outcome = released(id, "acme");
    ReleaseGateOutcome keptOutcome = released(kept, "acme");
    Path link = dir.resolve("acme");
    Files.createSymbolicLink(link, elsewhere);
    Path theirs = Files.writeString(elsewhere.resolve(kept + ".json"), "the operator's own file");
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    String group = "publisher-tenant-link-it-" + run;
    TopicPartition released = new TopicPartition(releasedTopic, 0);
    TopicPartition retractions = new TopicPartition(retractionsTopic, 0);

    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      send(producer, releasedTopic, id, encoded(outcome));
      assertThatThrownBy(publisher(group, false)::run)
          .isInstanceOf(FileSystemException.class)
          .hasMessageContaining(link.toString())
          .hasMessageContaining("is a symbolic link");
      try (Stream<Path> files = Files.list(elsewhere)) {
        assertThat(files).as("nothing published through the link").containsExactly(theirs);
      }
      assertThat(committed(group, released)).as("the release is read again").isNull();

      // A takedown through it is refused the same way.
      send(producer, retractionsTopic, kept, retraction(keptOutcome));
      commit(group, released, 1L);
      assertThatThrownBy(publisher(group, false)::run)
          .isInstanceOf(FileSystemException.class)
          .hasMessageContaining(link.toString());
      assertThat(Files.readString(theirs)).isEqualTo("the operator's own file");
      assertThat(committed(group, retractions)).isNull();
    }

    // A folder in its place: published, and taken down.
    Files.delete(link);
    commit(group, released, 0L);
    ReferencePublisher.Result published = publisher(group, false).run();
    assertThat(published.published()).isEqualTo(1);
    assertThat(JSON.readTree(link.resolve(id + ".json").toFile()).path("text").asText())
        .isEqualTo("text of " + id);
    assertThat(committed(group, retractions)).isEqualTo(1L);
  }

  private static String read(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
            retractionsTopic,
            null));
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
