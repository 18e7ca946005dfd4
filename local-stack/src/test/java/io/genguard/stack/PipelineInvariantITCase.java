package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.query.AuditQueries.Completeness;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The core invariant on real servers, through every stage: 500 requests in, exactly 500 outputs,
 * 500 verdicts and 500 audited requests; every released item backed by a RELEASE verdict for the
 * same text (or a review); nothing released twice.
 */
class PipelineInvariantITCase {
  private static final int REQUESTS = 500;

  @Test
  void shouldGenerateJudgeGateAndAuditEveryRequestExactlyOnce() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String jdbcUrl = infra.createDatabase("pipeline_invariant_it");
    StackConfig config = SharedServers.stackOn(jdbcUrl);

    List<String> ids = new ArrayList<>();
    try (GenGuardStack stack = GenGuardStack.start(config)) {
      DemoWorkload workload = DemoWorkload.builtIn();
      for (int i = 0; i < REQUESTS; i++) {
        GenerationRequest request = workload.request(i, "invariant");
        stack.audit().submitter().send(request);
        ids.add(request.getRequestId());
      }
      await()
          .atMost(Duration.ofMinutes(8))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> stack.audit().queries().completeness(ids).settled());
      Completeness done = stack.audit().queries().completeness(ids);

      assertThat(done.audited()).as("requests audited once").isEqualTo(REQUESTS);
      assertThat(done.failures()).as("generation failures").isZero();
      assertThat(done.outputs()).as("outputs").isEqualTo(REQUESTS);
      assertThat(done.withOneOutput()).isEqualTo(REQUESTS);
      assertThat(done.verdicts()).as("verdicts").isEqualTo(REQUESTS);
      assertThat(done.withOneVerdict()).isEqualTo(REQUESTS);
      assertThat(done.gated()).isEqualTo(REQUESTS);
      assertThat(done.releasedTwice()).isZero();
      assertThat(done.releasedWithoutReleaseVerdict()).isZero();
      assertThat(done.released()).as("the benign part of the workload is released").isPositive();
      assertThat(done.quarantined() + done.awaitingReview())
          .as("the unsafe part of the workload is stopped")
          .isPositive();

      assertReleasedTopicIsBackedByVerdicts(infra, new HashSet<>(ids));
    }
  }

  /** Reads content.released and moderation.verdicts from Kafka itself, not the audit store. */
  private static void assertReleasedTopicIsBackedByVerdicts(
      IntegrationInfrastructure infra, Set<String> ids) {
    Map<String, ModerationVerdict> verdicts = new HashMap<>();
    for (byte[] value : readAll(infra, Topics.MODERATION_VERDICTS.name())) {
      ModerationVerdict verdict = Topics.MODERATION_VERDICTS.codec().decode(value);
      if (ids.contains(verdict.getRequestId())) {
        assertThat(verdicts.put(verdict.getRequestId(), verdict))
            .as("one verdict per request")
            .isNull();
      }
    }
    assertThat(verdicts.values())
        .as(
            "the stack's own manifests verify: its moderation trusts the public halves of the"
                + " stack's signing keys, published to keys/verification-keys")
        .allSatisfy(
            verdict ->
                assertThat(verdict.getProvenance().getManifest())
                    .as(verdict.getReasons().toString())
                    .isEqualTo(ManifestStatus.VALID));
    assertThat(verdicts.values())
        .as("the generator's watermark claim is the one it signed")
        .flatExtracting(ModerationVerdict::getReasons)
        .extracting(Reason::getCode)
        .doesNotContain(ReasonCodes.WATERMARK_CLAIM_MISMATCH);
    Set<String> released = new HashSet<>();
    for (byte[] value : readAll(infra, Topics.CONTENT_RELEASED.name())) {
      ReleaseGateOutcome outcome = Topics.CONTENT_RELEASED.codec().decode(value);
      if (!ids.contains(outcome.getRequestId())) {
        continue;
      }
      assertThat(released.add(outcome.getRequestId()))
          .as("released once: " + outcome.getRequestId())
          .isTrue();
      ModerationVerdict verdict = verdicts.get(outcome.getRequestId());
      assertThat(verdict).isNotNull();
      assertThat(verdict.getDecision()).isEqualTo(Decision.RELEASE);
      assertThat(ContentHash.sha256Hex(outcome.getText())).isEqualTo(verdict.getOutputSha256());
    }
    assertThat(released).isNotEmpty();
  }

  private static List<byte[]> readAll(IntegrationInfrastructure infra, String topic) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<byte[]> values = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        consumer.poll(Duration.ofMillis(200)).forEach(record -> values.add(record.value()));
      }
    }
    return values;
  }
}
