package io.genguard.moderation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.CommittedReader;
import io.genguard.testsupport.CorruptSegments;
import io.genguard.testsupport.OwnBroker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
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
  private GateOnOwnBroker gates;

  @AfterEach
  void stop() {
    if (gates != null) {
      gates.close();
    }
  }

  @Test
  void shouldDeadLetterADamagedOutputNeverReleaseItAndReleaseTheOutputBehindIt() throws Exception {
    gates = new GateOnOwnBroker(brokerDir, stateDir);
    String servers = gates.servers();
    Map<String, Object> admin = OwnBroker.adminProperties(gates.broker());
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
        OwnBroker.send(producer, Topics.GENERATION_OUTPUTS, output.getRequestId(), output);
      }
      sendReleaseVerdicts(producer, outputs);
    }
    // One byte of the middle output's text changes on disk: its batch's CRC no longer matches.
    String changedMarker =
        CorruptSegments.damage(CorruptSegments.firstSegment(gates.broker(), OUTPUTS_0), marker);

    UnreadableBatchClients clients = gates.startGateAsMain();

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
    gates = new GateOnOwnBroker(brokerDir, stateDir);
    String servers = gates.servers();
    Map<String, Object> admin = OwnBroker.adminProperties(gates.broker());
    String run = UUID.randomUUID().toString().substring(0, 8);
    String committedFirst = run + "-committed";
    String aborted = run + "-aborted";
    String after = run + "-after";
    GenerationOutput first = output(committedFirst, "Good morning");
    GenerationOutput abortedOutput = output(aborted, "Good night");
    GenerationOutput last = output(after, "Good evening");
    // Three transactions, as the generator writes outputs: committed (its output at 0, its marker
    // at 1), aborted (2, 3) and committed (4, 5).
    try (KafkaProducer<byte[], byte[]> producer =
        CorruptSegments.transactionalProducer(servers, "it-marker-" + run)) {
      producer.initTransactions();
      for (GenerationOutput output : List.of(first, abortedOutput, last)) {
        producer.beginTransaction();
        OwnBroker.send(producer, Topics.GENERATION_OUTPUTS, output.getRequestId(), output);
        if (output == abortedOutput) {
          producer.abortTransaction();
        } else {
          producer.commitTransaction();
        }
      }
    }
    // Every verdict releases, the aborted output's as well: only its transaction keeps it back.
    try (KafkaProducer<byte[], byte[]> producer = CorruptSegments.unbatchedProducer(servers)) {
      sendReleaseVerdicts(producer, List.of(first, abortedOutput, last));
    }
    // The commit marker of the first and the abort marker of the second fail their CRC now.
    Path segment = CorruptSegments.firstSegment(gates.broker(), OUTPUTS_0);
    CorruptSegments.damageMarker(segment, 1L);
    CorruptSegments.damageMarker(segment, 3L);

    UnreadableBatchClients clients = gates.startGateAsMain();

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

  /** A verdict that releases each of {@code outputs}, decided now, each in a batch of its own. */
  private static void sendReleaseVerdicts(
      KafkaProducer<byte[], byte[]> producer, List<GenerationOutput> outputs) throws Exception {
    for (GenerationOutput output : outputs) {
      ModerationVerdict verdict =
          ModerationVerdict.newBuilder(Events.verdict(output, Decision.RELEASE))
              .setDecidedAt(Instant.now())
              .build();
      OwnBroker.send(producer, Topics.MODERATION_VERDICTS, output.getRequestId(), verdict);
    }
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
