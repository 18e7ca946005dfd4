package io.genguard.moderation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.moderation.fixtures.Events;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.CommittedReader;
import io.genguard.testsupport.OwnBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A copy of a request's output re-published under another tenant, with its verdict, reaches the
 * real gate before the genuine output: the gate, which read the request from gen.requests,
 * dead-letters the copy and its verdict, keeps the request's tenant across a restart (its store and
 * changelog in state format 3), and releases the genuine output when it and its verdict come.
 */
class ReleaseGateTenantITCase {
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
  void shouldReleaseTheGenuineOutputAfterACopyUnderAnotherTenantAcrossARestart() throws Exception {
    gates = new GateOnOwnBroker(brokerDir, stateDir);
    String servers = gates.servers();
    String requestId = "copied-" + UUID.randomUUID().toString().substring(0, 8);
    GenerationOutput genuine =
        GenerationOutput.newBuilder(Events.output(requestId, "The genuine text."))
            .setGeneratedAt(Instant.now())
            .build();
    GenerationOutput copy = GenerationOutput.newBuilder(genuine).setTenantId("globex").build();

    try (KafkaProducer<byte[], byte[]> producer = producer(servers);
        CommittedReader committed = committedReader(servers)) {
      OwnBroker.send(producer, Topics.GENERATION_REQUESTS, requestId, request(requestId, "acme"));
      OwnBroker.send(producer, Topics.GENERATION_OUTPUTS, requestId, copy);
      OwnBroker.send(
          producer, Topics.MODERATION_VERDICTS, requestId, Events.verdict(copy, Decision.BLOCK));
      KafkaStreams gate = gates.startGate();
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> deadLetters(committed.poll()).size() == 2);
      gate.close(Duration.ofSeconds(30));

      // A new instance on the same state directory, as after a restart.
      gates.startGate();
      OwnBroker.send(producer, Topics.GENERATION_OUTPUTS, requestId, genuine);
      OwnBroker.send(
          producer,
          Topics.MODERATION_VERDICTS,
          requestId,
          Events.verdict(genuine, Decision.RELEASE));
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> !released(committed.poll()).isEmpty());
      Thread.sleep(2_000);
      committed.poll();

      assertThat(released(committed))
          .singleElement()
          .satisfies(
              outcome -> {
                assertThat(outcome.getRequestId()).isEqualTo(requestId);
                assertThat(outcome.getTenantId()).isEqualTo("acme");
                assertThat(outcome.getText()).isEqualTo("The genuine text.");
              });
      assertThat(quarantined(committed)).as("the copy took nothing").isEmpty();
      assertThat(deadLetters(committed))
          .extracting(DeadLetter::getSourceTopic)
          .containsExactlyInAnyOrder(
              Topics.GENERATION_OUTPUTS.name(), Topics.MODERATION_VERDICTS.name());
      assertThat(deadLetters(committed))
          .allSatisfy(
              letter ->
                  assertThat(letter.getReason())
                      .contains("came under tenant \"globex\"")
                      .contains("is tenant \"acme\"'s (gen.requests)"));
    }
  }

  private static GenerationRequest request(String requestId, String tenant) {
    return Events.request("request-" + requestId, requestId, tenant, Instant.now());
  }

  private static KafkaProducer<byte[], byte[]> producer(String servers) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(properties);
  }

  /** A reader of the committed releases, quarantines and dead letters of outputs and verdicts. */
  private static CommittedReader committedReader(String servers) {
    return new CommittedReader(
        servers,
        Topics.CONTENT_RELEASED.name(),
        Topics.CONTENT_QUARANTINED.name(),
        Topics.GENERATION_OUTPUTS_DLQ.name(),
        Topics.MODERATION_VERDICTS_DLQ.name());
  }

  private static List<ReleaseGateOutcome> released(CommittedReader committed) {
    return committed.values(
        Topics.CONTENT_RELEASED.name(), Topics.CONTENT_RELEASED.codec()::decode);
  }

  private static List<ReleaseGateOutcome> quarantined(CommittedReader committed) {
    return committed.values(
        Topics.CONTENT_QUARANTINED.name(), Topics.CONTENT_QUARANTINED.codec()::decode);
  }

  /** The dead letters of outputs and of verdicts read so far. */
  private static List<DeadLetter> deadLetters(CommittedReader committed) {
    List<DeadLetter> letters =
        new ArrayList<>(
            committed.values(
                Topics.GENERATION_OUTPUTS_DLQ.name(),
                Topics.GENERATION_OUTPUTS_DLQ.codec()::decode));
    letters.addAll(
        committed.values(
            Topics.MODERATION_VERDICTS_DLQ.name(), Topics.MODERATION_VERDICTS_DLQ.codec()::decode));
    return letters;
  }
}
