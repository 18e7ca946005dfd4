package io.genguard.moderation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.CommittedReader;
import io.genguard.testsupport.CorruptSegments;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record batch of gen.outputs damaged on the broker's disk (its CRC no longer matches), which the
 * gate's consumer refuses on every poll: the gate dead-letters its record, with the bytes as they
 * are now and the reason, never releases it, commits past it and releases the output behind it.
 * Runs on a broker of its own, whose log files the test can reach.
 */
class ReleaseGateCorruptRecordITCase {
  private static final TopicPartition OUTPUTS_0 =
      new TopicPartition(Topics.GENERATION_OUTPUTS.name(), 0);

  @TempDir Path stateDir;
  @TempDir Path brokerDir;
  private EmbeddedKafkaBroker broker;
  private KafkaStreams gate;

  @AfterEach
  void stop() {
    if (gate != null) {
      gate.close(Duration.ofSeconds(10));
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void shouldDeadLetterADamagedOutputNeverReleaseItAndReleaseTheOutputBehindIt() throws Exception {
    broker = EmbeddedKafkaBroker.start(brokerDir.resolve("kafka"), 0);
    String servers = broker.bootstrapServers();
    Map<String, Object> admin = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    TopicProvisioner.provision(
        admin, Topics.all().stream().map(topic -> topic.name()).toList(), 1, (short) 1);
    String run = UUID.randomUUID().toString().substring(0, 8);
    String before = run + "-before";
    String damaged = run + "-damaged";
    String after = run + "-after";
    String marker = "damaged-" + run;
    List<GenerationOutput> outputs =
        List.of(
            output(before, "Good morning"),
            output(damaged, "Text " + marker + " here"),
            output(after, "Good evening"));
    // Each in a batch of its own, so that only the middle one is damaged; every verdict releases.
    try (KafkaProducer<byte[], byte[]> producer = CorruptSegments.unbatchedProducer(servers)) {
      for (GenerationOutput output : outputs) {
        producer
            .send(
                new ProducerRecord<>(
                    Topics.GENERATION_OUTPUTS.name(),
                    0,
                    output.getRequestId().getBytes(StandardCharsets.UTF_8),
                    Topics.GENERATION_OUTPUTS.codec().encode(output)))
            .get();
      }
      for (GenerationOutput output : outputs) {
        ModerationVerdict verdict =
            ModerationVerdict.newBuilder(Events.verdict(output, Decision.RELEASE))
                .setDecidedAt(Instant.now())
                .build();
        producer
            .send(
                new ProducerRecord<>(
                    Topics.MODERATION_VERDICTS.name(),
                    0,
                    output.getRequestId().getBytes(StandardCharsets.UTF_8),
                    Topics.MODERATION_VERDICTS.codec().encode(verdict)))
            .get();
      }
    }
    // One byte of the middle output's text changes on disk: its batch's CRC no longer matches.
    String changedMarker =
        CorruptSegments.damage(CorruptSegments.firstSegment(broker, OUTPUTS_0), marker);

    UnreadableBatchClients clients = ReleaseGateTopology.clients(Clock.systemUTC());
    gate = startGate(servers, clients);

    try (CommittedReader committed = releasesAndDeadLetters(servers)) {
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  released(committed.poll()).containsAll(Set.of(before, after))
                      && !deadLetters(committed).isEmpty());
      // Let anything that would come later show.
      Thread.sleep(2_000);
      committed.poll();

      assertThat(released(committed)).containsExactlyInAnyOrder(before, after);
      List<DeadLetter> deadLetters = deadLetters(committed);
      assertThat(deadLetters).hasSize(1);
      DeadLetter letter = deadLetters.get(0);
      assertThat(letter.getSourceTopic()).isEqualTo(Topics.GENERATION_OUTPUTS.name());
      assertThat(letter.getSourcePartition()).isZero();
      assertThat(letter.getSourceOffset()).isEqualTo(1L);
      assertThat(letter.getStage()).isEqualTo("gate");
      assertThat(letter.getErrorClass()).isEqualTo(CorruptRecordException.class.getName());
      assertThat(letter.getReason()).contains("CRC", "kept as read without the check");
      assertThat(new String(bytes(letter.getKey()), StandardCharsets.UTF_8)).isEqualTo(damaged);
      assertThat(new String(bytes(letter.getPayload()), StandardCharsets.ISO_8859_1))
          .as("the bytes as they are on disk now")
          .contains(changedMarker);
      assertThat(
              CorruptSegments.committedOffset(admin, ReleaseGateTopology.APPLICATION_ID, OUTPUTS_0))
          .isEqualTo(3L);
      assertThat(clients.unreadableRecords()).isPositive();
    }
  }

  @Test
  void shouldDeadLetterDamagedTransactionMarkersAndDecideTheirTransactionsByTheBrokersIndex()
      throws Exception {
    broker = EmbeddedKafkaBroker.start(brokerDir.resolve("kafka"), 0);
    String servers = broker.bootstrapServers();
    Map<String, Object> admin = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    TopicProvisioner.provision(
        admin, Topics.all().stream().map(topic -> topic.name()).toList(), 1, (short) 1);
    String run = UUID.randomUUID().toString().substring(0, 8);
    String committedFirst = run + "-committed";
    String aborted = run + "-aborted";
    String after = run + "-after";
    GenerationOutput first = output(committedFirst, "Good morning");
    GenerationOutput abortedOutput = output(aborted, "Good night");
    GenerationOutput last = output(after, "Good evening");
    // Three transactions, as the generator writes outputs: committed (its output at 0, its marker
    // at 1), aborted (2, 3) and committed (4, 5).
    Map<String, Object> transactional = new HashMap<>();
    transactional.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-marker-" + run);
    transactional.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    transactional.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    transactional.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(transactional)) {
      producer.initTransactions();
      for (GenerationOutput output : List.of(first, abortedOutput, last)) {
        producer.beginTransaction();
        producer
            .send(
                new ProducerRecord<>(
                    Topics.GENERATION_OUTPUTS.name(),
                    0,
                    output.getRequestId().getBytes(StandardCharsets.UTF_8),
                    Topics.GENERATION_OUTPUTS.codec().encode(output)))
            .get();
        if (output == abortedOutput) {
          producer.abortTransaction();
        } else {
          producer.commitTransaction();
        }
      }
    }
    // Every verdict releases, the aborted output's as well: only its transaction keeps it back.
    try (KafkaProducer<byte[], byte[]> producer = CorruptSegments.unbatchedProducer(servers)) {
      for (GenerationOutput output : List.of(first, abortedOutput, last)) {
        ModerationVerdict verdict =
            ModerationVerdict.newBuilder(Events.verdict(output, Decision.RELEASE))
                .setDecidedAt(Instant.now())
                .build();
        producer
            .send(
                new ProducerRecord<>(
                    Topics.MODERATION_VERDICTS.name(),
                    0,
                    output.getRequestId().getBytes(StandardCharsets.UTF_8),
                    Topics.MODERATION_VERDICTS.codec().encode(verdict)))
            .get();
      }
    }
    // The commit marker of the first and the abort marker of the second fail their CRC now.
    Path segment = CorruptSegments.firstSegment(broker, OUTPUTS_0);
    CorruptSegments.damageMarker(segment, 1L);
    CorruptSegments.damageMarker(segment, 3L);

    UnreadableBatchClients clients = ReleaseGateTopology.clients(Clock.systemUTC());
    gate = startGate(servers, clients);

    try (CommittedReader committed = releasesAndDeadLetters(servers)) {
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  released(committed.poll()).containsAll(Set.of(committedFirst, after))
                      && deadLetters(committed).size() >= 2);
      // Let anything that would come later show.
      Thread.sleep(2_000);
      committed.poll();

      assertThat(released(committed))
          .as("the aborted output never, whatever its damaged abort marker reads as")
          .containsExactlyInAnyOrder(committedFirst, after);
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("the two markers, not the output behind either")
          .containsExactlyInAnyOrder(1L, 3L);
      for (DeadLetter letter : deadLetters(committed)) {
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.GENERATION_OUTPUTS.name());
        assertThat(letter.getStage()).isEqualTo("gate");
        assertThat(letter.getErrorClass()).isEqualTo(CorruptRecordException.class.getName());
        assertThat(letter.getReason())
            .contains(
                "CRC",
                "transaction marker",
                "offset " + letter.getSourceOffset(),
                "never released");
        assertThat(letter.getKey()).isNull();
        assertThat(letter.getPayload()).isNull();
      }
      assertThat(
              CorruptSegments.committedOffset(admin, ReleaseGateTopology.APPLICATION_ID, OUTPUTS_0))
          .isEqualTo(6L);
      assertThat(clients.unreadableMarkers()).isGreaterThanOrEqualTo(2L);
    }
  }

  private static GenerationOutput output(String requestId, String text) {
    return GenerationOutput.newBuilder(Events.output(requestId, text))
        .setGeneratedAt(Instant.now())
        .build();
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  /** The gate as ReleaseGateMain runs it (a failed thread is replaced), with {@code clients}. */
  private KafkaStreams startGate(String servers, UnreadableBatchClients clients) {
    KafkaStreams streams =
        new KafkaStreams(
            ReleaseGateTopology.buildTopology(Clock.systemUTC(), GateTimings.DEFAULTS),
            ReleaseGateTopology.streamsConfig(servers, stateDir.toString(), 1),
            clients);
    streams.setUncaughtExceptionHandler(error -> StreamThreadExceptionResponse.REPLACE_THREAD);
    streams.start();
    return streams;
  }

  /** A reader of the committed releases and dead letters of outputs. */
  private static CommittedReader releasesAndDeadLetters(String servers) {
    return new CommittedReader(
        servers, Topics.CONTENT_RELEASED.name(), Topics.GENERATION_OUTPUTS_DLQ.name());
  }

  /** The request ids of the committed releases read so far. */
  private static Set<String> released(CommittedReader committed) {
    return new HashSet<>(
        committed.values(
            Topics.CONTENT_RELEASED.name(),
            value -> Topics.CONTENT_RELEASED.codec().decode(value).getRequestId()));
  }

  /** The committed dead letters of outputs read so far. */
  private static List<DeadLetter> deadLetters(CommittedReader committed) {
    return committed.values(
        Topics.GENERATION_OUTPUTS_DLQ.name(), Topics.GENERATION_OUTPUTS_DLQ.codec()::decode);
  }
}
