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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.server.common.MetadataVersion;
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
    String servers = startBroker();
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
      awaitReleasedAndDeadLetters(committed, Set.of(before, after), 1);

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
      assertThat(committedOutputs()).isEqualTo(3L);
      assertThat(clients.unreadableRecords()).isPositive();
    }
  }

  @Test
  void shouldDeadLetterDamagedTransactionMarkersAndDecideTheirTransactionsByTheBrokersIndex()
      throws Exception {
    String servers = startBroker();
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
    sendReleaseVerdicts(servers, List.of(first, abortedOutput, last));
    // The commit marker of the first and the abort marker of the second fail their CRC now.
    Path segment = CorruptSegments.firstSegment(gates.broker(), OUTPUTS_0);
    CorruptSegments.damageMarker(segment, 1L);
    CorruptSegments.damageMarker(segment, 3L);

    UnreadableBatchClients clients = gates.startGateAsMain();

    try (CommittedReader committed = releasesAndDeadLetters(servers)) {
      awaitReleasedAndDeadLetters(committed, Set.of(committedFirst, after), 2);

      assertThat(released(committed))
          .as("the aborted output never, whatever its damaged abort marker reads as")
          .containsExactlyInAnyOrder(committedFirst, after);
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("the two markers, not the output behind either")
          .containsExactlyInAnyOrder(1L, 3L);
      for (DeadLetter letter : deadLetters(committed)) {
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.GENERATION_OUTPUTS.name());
        assertRecordLessLetter(letter, "transaction marker", "offset " + letter.getSourceOffset());
      }
      assertThat(committedOutputs()).isEqualTo(6L);
      assertThat(clients.unreadableMarkers()).isGreaterThanOrEqualTo(2L);
    }
  }

  @Test
  void shouldDeadLetterEachOffsetOfADamagedAbortedBatchOverSeveralOffsetsAndGoOn()
      throws Exception {
    String servers = startBroker();
    String run = UUID.randomUUID().toString().substring(0, 8);
    GenerationOutput first = output(run + "-committed", "Good morning");
    GenerationOutput last = output(run + "-after", "Good evening");
    // Committed (0, marker at 1), an aborted transaction of three outputs in one batch (2 to 4,
    // marker at 5) and committed (6, marker at 7); the aborted batch fails its CRC.
    writeAbortedSpan(servers, run, first, last);

    UnreadableBatchClients clients = gates.startGateAsMain();

    try (CommittedReader committed = releasesAndDeadLetters(servers)) {
      awaitReleasedAndDeadLetters(committed, Set.of(first.getRequestId(), last.getRequestId()), 3);

      assertThat(released(committed))
          .as("no aborted output, whatever its damaged batch reads as")
          .containsExactlyInAnyOrder(first.getRequestId(), last.getRequestId());
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("each offset of the damaged batch, not the output behind it")
          .containsExactlyInAnyOrder(2L, 3L, 4L);
      for (DeadLetter letter : deadLetters(committed)) {
        assertRecordLessLetter(letter, "over offsets 2 to 4 (the next batch begins at 5)");
      }
      assertThat(committedOutputs()).isEqualTo(8L);
      assertThat(clients.unreadableRecords()).isGreaterThanOrEqualTo(3L);
    }
  }

  @Test
  void shouldLeaveADamagedAbortedBatchOverSeveralOffsetsWhereItIsBelowKafka41() throws Exception {
    // As above, on a cluster whose metadata.version is 4.0's: brokers before 4.1 answer a fetch
    // from inside the damaged batch's claim with that batch, so where it ends cannot be told.
    gates = new GateOnOwnBroker(brokerDir, stateDir, MetadataVersion.IBP_4_0_IV3);
    String servers = gates.servers();
    String run = UUID.randomUUID().toString().substring(0, 8);
    GenerationOutput first = output(run + "-committed", "Good morning");
    GenerationOutput last = output(run + "-after", "Good evening");
    writeAbortedSpan(servers, run, first, last);

    UnreadableBatchClients clients = gates.startGateAsMain();

    try (CommittedReader committed = releasesAndDeadLetters(servers)) {
      // Long enough for the gate to start, meet the batch and fail on it (its thread replaced:
      // the output before it may stay uncommitted, its transaction aborted with the thread),
      // and to meet it again; a skip would show within it.
      long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
      while (System.nanoTime() - deadline < 0
          && deadLetters(committed.poll()).isEmpty()
          && !released(committed).contains(last.getRequestId())) {
        Thread.sleep(500);
      }

      assertThat(released(committed)).doesNotContain(last.getRequestId());
      assertThat(deadLetters(committed)).as("nothing skipped: the partition waits").isEmpty();
      assertThat(clients.unreadableRecords()).isZero();
      assertThat(committedOutputs()).as("never past the damaged batch").isLessThanOrEqualTo(2L);
    }
  }

  @Test
  void shouldNotTakeADamagedMarkersClaimOfSeveralOffsetsForTheOutputsBehindIt() throws Exception {
    String servers = startBroker();
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<GenerationOutput> outputs =
        List.of(
            output(run + "-first", "Good morning"),
            output(run + "-second", "Good day"),
            output(run + "-third", "Good evening"));
    // Three committed transactions (outputs at 0, 2, 4, markers at 1, 3, 5); the marker at 1 is
    // damaged so that it claims offsets 1 to 3: the output at 2 is not its, and is released.
    try (KafkaProducer<byte[], byte[]> producer =
        CorruptSegments.transactionalProducer(servers, "it-claim-" + run)) {
      producer.initTransactions();
      for (GenerationOutput output : outputs) {
        producer.beginTransaction();
        OwnBroker.send(producer, Topics.GENERATION_OUTPUTS, output.getRequestId(), output);
        producer.commitTransaction();
      }
    }
    sendReleaseVerdicts(servers, outputs);
    CorruptSegments.damageMarkerSpan(
        CorruptSegments.firstSegment(gates.broker(), OUTPUTS_0), 1L, 2);

    UnreadableBatchClients clients = gates.startGateAsMain();

    try (CommittedReader committed = releasesAndDeadLetters(servers)) {
      Set<String> ids = new HashSet<>();
      outputs.forEach(output -> ids.add(output.getRequestId()));
      awaitReleasedAndDeadLetters(committed, ids, 1);

      assertThat(released(committed)).isEqualTo(ids);
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceOffset)
          .as("the marker's offset only, up to where the next batch begins")
          .containsExactly(1L);
      assertThat(deadLetters(committed).get(0).getReason())
          .contains("transaction marker", "offset 1", "never released");
      assertThat(committedOutputs()).isEqualTo(6L);
      assertThat(clients.unreadableMarkers()).isGreaterThanOrEqualTo(1L);
    }
  }

  /**
   * Writes {@code first} committed (offset 0, its marker at 1), an aborted transaction of three
   * outputs in one batch (2 to 4, its marker at 5) and {@code last} committed (6, its marker at 7),
   * sends a release verdict for each, and damages the aborted batch: it fails its CRC, and read
   * without the check it yields no record and claims offsets 2 to 4.
   */
  private void writeAbortedSpan(
      String servers, String run, GenerationOutput first, GenerationOutput last) throws Exception {
    String marker = "damaged-" + run;
    List<GenerationOutput> aborted =
        List.of(
            output(run + "-aborted-1", "Good night"),
            output(run + "-aborted-2", "Text " + marker + " here"),
            output(run + "-aborted-3", "Good night again"));
    try (KafkaProducer<byte[], byte[]> producer =
        CorruptSegments.batchingTransactionalProducer(servers, "it-span-" + run)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(record(first));
      producer.commitTransaction();
      producer.beginTransaction();
      for (GenerationOutput output : aborted) {
        producer.send(record(output));
      }
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(record(last));
      producer.commitTransaction();
    }
    List<GenerationOutput> all = new ArrayList<>(List.of(first, last));
    all.addAll(aborted);
    sendReleaseVerdicts(servers, all);
    Path segment = CorruptSegments.firstSegment(gates.broker(), OUTPUTS_0);
    assertThat(CorruptSegments.lastOffsetOfBatch(segment, 2L))
        .as("the aborted outputs share one batch")
        .isEqualTo(4L);
    CorruptSegments.damage(segment, marker);
  }

  private static ProducerRecord<byte[], byte[]> record(GenerationOutput output) {
    return new ProducerRecord<>(
        Topics.GENERATION_OUTPUTS.name(),
        0,
        output.getRequestId().getBytes(StandardCharsets.UTF_8),
        Topics.GENERATION_OUTPUTS.codec().encode(output));
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

  /** Starts the broker of the gate's tests and returns its bootstrap servers. */
  private String startBroker() {
    gates = new GateOnOwnBroker(brokerDir, stateDir);
    return gates.servers();
  }

  /** The offset of gen.outputs that the gate has committed. */
  private long committedOutputs() throws Exception {
    return CorruptSegments.committedOffset(
        OwnBroker.adminProperties(gates.broker()), ReleaseGateTopology.APPLICATION_ID, OUTPUTS_0);
  }

  /**
   * Waits until the committed releases hold each of {@code requests} and at least {@code letters}
   * dead letters are committed, then lets anything that would come later show.
   */
  private static void awaitReleasedAndDeadLetters(
      CommittedReader committed, Set<String> requests, int letters) throws InterruptedException {
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                released(committed.poll()).containsAll(requests)
                    && deadLetters(committed).size() >= letters);
    Thread.sleep(2_000);
    committed.poll();
  }

  /**
   * A dead letter of an offset of a damaged batch that yields no record: no key, no value, and a
   * reason that names the CRC, holds each of {@code reason} and says the output is never released.
   */
  private static void assertRecordLessLetter(DeadLetter letter, String... reason) {
    assertThat(letter.getStage()).isEqualTo("gate");
    assertThat(letter.getErrorClass()).isEqualTo(CorruptRecordException.class.getName());
    assertThat(letter.getReason()).contains("CRC", "never released").contains(reason);
    assertThat(letter.getKey()).isNull();
    assertThat(letter.getPayload()).isNull();
  }

  /** A verdict that releases each of {@code outputs}, decided now, each in a batch of its own. */
  private static void sendReleaseVerdicts(String servers, List<GenerationOutput> outputs)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = CorruptSegments.unbatchedProducer(servers)) {
      sendReleaseVerdicts(producer, outputs);
    }
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
