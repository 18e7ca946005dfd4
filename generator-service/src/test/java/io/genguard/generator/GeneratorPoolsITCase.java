package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two worker pools that split the backends (as a GPU pool beside the main pool does) on a real
 * broker: every request is answered exactly once, by the pool whose share it is, and every
 * undecodable record is dead-lettered once. The side pool here takes {@code echo}, which needs no
 * model; the routing does not depend on which backend it is.
 */
class GeneratorPoolsITCase {
  private static final int PARTITIONS = 3;

  @TempDir Path dataDir;

  @Test
  void shouldAnswerEachRequestOnceByThePoolWhoseShareItIs() throws Exception {
    IntegrationInfrastructure infrastructure = IntegrationInfrastructure.get();
    String servers = infrastructure.kafkaBootstrapServers();
    infrastructure.createTopics(
        PARTITIONS,
        List.of(
            Topics.GENERATION_REQUESTS.name(),
            Topics.GENERATION_OUTPUTS.name(),
            Topics.GENERATION_FAILURES.name(),
            Topics.GENERATION_REQUESTS_DLQ.name()));
    String run = "pools-" + UUID.randomUUID().toString().substring(0, 8);
    GeneratorConfig defaults =
        GeneratorConfig.defaults(dataDir).withWorkers(2).withConsumerGroup(run + "-main");

    // Before the split: one pool answers everything, echo included, and commits its offsets.
    try (GeneratorService before =
        new GeneratorService(
            defaults.withInstanceId(run + "-before"),
            Map.of("bootstrap.servers", servers),
            new SimpleMeterRegistry())) {
      before.start();
      TestInput.sendAll(
          servers,
          List.of(
              request(run + "-old-0", "echo"),
              request(run + "-old-1", "echo"),
              request(run + "-old-2", "echo")));
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> answers(servers, run).size() >= 3);
    }

    // The split: the side pool starts first and waits until the main pool hands the requests over
    // at its own offsets, so it does not answer the old echo requests again.
    SimpleMeterRegistry mainMeters = new SimpleMeterRegistry();
    SimpleMeterRegistry sideMeters = new SimpleMeterRegistry();
    try (GeneratorService side =
            new GeneratorService(
                defaults.withInstanceId(run + "-side").withRouting(PoolRouting.parse("echo", null)),
                Map.of("bootstrap.servers", servers),
                sideMeters);
        GeneratorService main =
            new GeneratorService(
                defaults.withInstanceId(run + "-main").withRouting(PoolRouting.parse(null, "echo")),
                Map.of("bootstrap.servers", servers),
                mainMeters)) {
      side.start();
      Thread.sleep(2000); // the side pool is waiting for the handover now
      main.start();
      List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        // echo for the side pool; openai (not configured: a failure) and none for the main one
        String backend = i % 3 == 0 ? "echo" : i % 3 == 1 ? "openai" : null;
        records.add(request(run + "-" + i, backend));
      }
      records.add(
          new ProducerRecord<>(
              Topics.GENERATION_REQUESTS.name(),
              (run + "-garbage").getBytes(StandardCharsets.UTF_8),
              "not avro".getBytes(StandardCharsets.UTF_8)));
      TestInput.sendAll(servers, records);

      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> answers(servers, run).size() >= 15 && deadLetters(servers, run) >= 1);
      // Keep reading a while: a second answer would arrive now.
      await().pollDelay(Duration.ofSeconds(3)).until(() -> true);

      Map<String, Integer> answered = new HashMap<>();
      answers(servers, run).forEach(id -> answered.merge(id, 1, Integer::sum));
      assertThat(answered).hasSize(15);
      assertThat(answered.values())
          .as("no request answered twice, the ones from before the split included")
          .containsOnly(1);
      assertThat(deadLetters(servers, run)).as("dead-lettered by the main pool only").isEqualTo(1L);
      assertThat(count(sideMeters, "output", "ok")).isEqualTo(4);
      assertThat(count(mainMeters, "output", "ok")).as("naming no backend: builtin").isEqualTo(4);
      assertThat(count(mainMeters, "failure", "unknown_backend")).isEqualTo(4);
      assertThat(count(mainMeters, "left", "other_pool")).isEqualTo(4);
      assertThat(count(sideMeters, "left", "other_pool")).isEqualTo(8);
    }
  }

  private static double count(SimpleMeterRegistry meters, String outcome, String code) {
    var counter =
        meters.find(GeneratorMetrics.REQUESTS).tag("outcome", outcome).tag("code", code).counter();
    return counter == null ? 0 : counter.count();
  }

  private static ProducerRecord<byte[], byte[]> request(String requestId, String backend) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-" + requestId)
            .setRequestId(requestId)
            .setTenantId("tenant-it")
            .setPrompt("the committee discussed the proposal")
            .setBackend(backend)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(12)
                    .setTemperature(0.8)
                    .setTopK(0)
                    .setTopP(0.95)
                    .build())
            .setSubmittedAt(Instant.now())
            .build();
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS.name(),
        requestId.getBytes(StandardCharsets.UTF_8),
        Topics.GENERATION_REQUESTS.codec().encode(request));
  }

  /** Request ids of the committed outputs and failures of this run, one per answer. */
  private static List<String> answers(String servers, String run) {
    List<String> ids = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> record :
        readAll(servers, Topics.GENERATION_OUTPUTS.name())) {
      GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(record.value());
      if (output.getRequestId().startsWith(run)) {
        ids.add(output.getRequestId());
      }
    }
    for (ConsumerRecord<byte[], byte[]> record :
        readAll(servers, Topics.GENERATION_FAILURES.name())) {
      GenerationFailure failure = Topics.GENERATION_FAILURES.codec().decode(record.value());
      if (failure.getRequestId().startsWith(run)) {
        ids.add(failure.getRequestId());
      }
    }
    return ids;
  }

  private static long deadLetters(String servers, String run) {
    return readAll(servers, Topics.GENERATION_REQUESTS_DLQ.name()).stream()
        .filter(
            record ->
                record.key() != null
                    && new String(record.key(), StandardCharsets.UTF_8).startsWith(run))
        .count();
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
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
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }
}
