package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.CommittedReader;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records the broker accepted with its default limits (1 MB in all) but that are not events: the
 * generator writes a dead letter for each, within Kafka's default max.request.size, and goes on to
 * the next request of the partition, instead of aborting and regenerating the batch forever.
 */
class GeneratorOversizedRecordITCase {
  private static final int PARTITIONS = 4;

  @TempDir Path dataDir;
  private GeneratorService generator;

  @AfterEach
  void stopGenerator() {
    if (generator != null) {
      generator.close();
    }
  }

  @Test
  void shouldDeadLetterHugeUndecodableRecordsAndServeTheRequestsBehindThem() {
    IntegrationInfrastructure infrastructure = IntegrationInfrastructure.get();
    String servers = infrastructure.kafkaBootstrapServers();
    infrastructure.createTopics(
        PARTITIONS,
        List.of(
            Topics.GENERATION_REQUESTS.name(),
            Topics.GENERATION_OUTPUTS.name(),
            Topics.GENERATION_FAILURES.name(),
            Topics.GENERATION_REQUESTS_DLQ.name()));
    String run = UUID.randomUUID().toString().substring(0, 8);
    // Payload-heavy: a dead letter copying the whole key would be 400 KB + 600 KB, and its record
    // repeats the 400 KB key.
    byte[] bigKey = keyOf(run + "-big-key-", 400_000);
    byte[] bigValue = filled(600_000, 'v');
    // Key-heavy: even with the dead letter cut to size, a record repeating this key would pass
    // max.request.size (1,048,576 bytes), while the source record (about 1,048,380) did not.
    byte[] heavyKey = keyOf(run + "-heavy-key-", 549_000);
    byte[] heavyValue = filled(499_300, 'w');
    String requestId = run + "-after";
    // One partition, so the request is served only once the records before it are.
    TestInput.sendAll(
        servers,
        List.of(
            new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), 0, bigKey, bigValue),
            new ProducerRecord<>(Topics.GENERATION_REQUESTS.name(), 0, heavyKey, heavyValue),
            request(requestId)));

    generator =
        new GeneratorService(
            GeneratorConfig.defaults(dataDir)
                .withInstanceId("oversized-" + run)
                .withConsumerGroup("generator-oversized-" + run)
                .withWorkers(1),
            Map.of("bootstrap.servers", servers),
            new SimpleMeterRegistry());
    generator.start();

    try (CommittedReader committed =
        new CommittedReader(
            servers, Topics.GENERATION_OUTPUTS.name(), Topics.GENERATION_REQUESTS_DLQ.name())) {
      await()
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> outputRequestIds(committed.poll(), run).contains(requestId));
      // Everything before the output in its partition was committed with or before it.
      committed.poll();

      List<ConsumerRecord<byte[], byte[]>> deadLetterRecords =
          ofRun(committed.records(Topics.GENERATION_REQUESTS_DLQ.name()), run);
      assertThat(deadLetterRecords)
          .extracting(ConsumerRecord::key)
          .as("one dead letter per oversized record, each with a key of at most 1 KiB")
          .hasSize(2)
          .allSatisfy(key -> assertThat(key).hasSize(DeadLetters.MAX_KEY_BYTES));
      List<DeadLetter> deadLetters =
          deadLetterRecords.stream()
              .map(record -> Topics.GENERATION_REQUESTS_DLQ.codec().decode(record.value()))
              .toList();
      DeadLetter big = deadLetterOf(deadLetters, bigKey);
      assertThat(bytes(big.getKey())).isEqualTo(Arrays.copyOf(bigKey, DeadLetters.MAX_KEY_BYTES));
      byte[] keptValue = bytes(big.getPayload());
      assertThat(keptValue).isEqualTo(Arrays.copyOf(bigValue, keptValue.length));
      assertThat(big.getReason()).contains("of 400000 key bytes", "of 600000 payload bytes");
      DeadLetter heavy = deadLetterOf(deadLetters, heavyKey);
      assertThat(heavy.getReason()).contains("of 549000 key bytes");
      assertThat(big.getSourceOffset()).isLessThan(heavy.getSourceOffset());
      assertThat(generator.runningWorkers()).isEqualTo(1);
    }
  }

  private static ProducerRecord<byte[], byte[]> request(String requestId) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-" + requestId)
            .setRequestId(requestId)
            .setTenantId("tenant-it")
            .setPrompt("Mr President, on the question of the agenda")
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(20)
                    .setTemperature(1.0)
                    .setTopK(0)
                    .setTopP(0.95)
                    .build())
            .setSubmittedAt(Instant.now())
            .build();
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS.name(),
        0,
        requestId.getBytes(StandardCharsets.UTF_8),
        Topics.GENERATION_REQUESTS.codec().encode(request));
  }

  private static byte[] keyOf(String prefix, int length) {
    byte[] key = filled(length, 'k');
    byte[] start = prefix.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(start, 0, key, 0, start.length);
    return key;
  }

  private static byte[] filled(int length, char fill) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) fill);
    return bytes;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  /** The records of {@code records} keyed by this run (the broker is shared with other tests). */
  private static List<ConsumerRecord<byte[], byte[]>> ofRun(
      List<ConsumerRecord<byte[], byte[]>> records, String run) {
    return records.stream()
        .filter(
            record ->
                record.key() != null
                    && new String(record.key(), StandardCharsets.UTF_8).startsWith(run))
        .toList();
  }

  /** The request ids of this run's committed outputs read so far. */
  private static Set<String> outputRequestIds(CommittedReader committed, String run) {
    Set<String> requestIds = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> record :
        ofRun(committed.records(Topics.GENERATION_OUTPUTS.name()), run)) {
      requestIds.add(Topics.GENERATION_OUTPUTS.codec().decode(record.value()).getRequestId());
    }
    return requestIds;
  }

  /** The dead letter of the record keyed {@code sourceKey}, whose key it keeps cut to size. */
  private static DeadLetter deadLetterOf(List<DeadLetter> deadLetters, byte[] sourceKey) {
    byte[] kept = Arrays.copyOf(sourceKey, DeadLetters.MAX_KEY_BYTES);
    return deadLetters.stream()
        .filter(letter -> Arrays.equals(bytes(letter.getKey()), kept))
        .findFirst()
        .orElseThrow();
  }
}
