package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import io.genguard.testsupport.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two worker pools that split the backends (as a GPU pool beside the main pool does) on a real
 * broker: every request is answered exactly once, by the pool whose share it is, and every
 * undecodable record is dead-lettered by each pool under one event id. The side pool here takes
 * {@code echo}, which needs no model; the routing does not depend on which backend it is.
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

    Map<String, Object> client = infrastructure.kafkaClientProperties();
    List<String> oldIds = List.of(run + "-old-0", run + "-old-1", run + "-old-2");
    List<String> ids = new ArrayList<>(oldIds);

    // Before the split: one pool answers everything, echo included, and commits its offsets.
    try (GeneratorService before =
        new GeneratorService(
            defaults.withInstanceId(run + "-before"),
            Map.of("bootstrap.servers", servers),
            new SimpleMeterRegistry())) {
      before.start();
      TestInput.sendAll(
          servers, oldIds.stream().map(id -> GenerationRequests.record(id, "echo")).toList());
      TopicReader.until(
          client, Topics.GENERATION_OUTPUTS.name(), oldIds, oldIds.size(), Duration.ofMinutes(3));
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
        records.add(GenerationRequests.record(run + "-" + i, backend));
        ids.add(run + "-" + i);
      }
      records.add(
          new ProducerRecord<>(
              Topics.GENERATION_REQUESTS.name(),
              (run + "-garbage").getBytes(StandardCharsets.UTF_8),
              "not avro".getBytes(StandardCharsets.UTF_8)));
      TestInput.sendAll(servers, records);

      // 11 outputs (the old echo requests among them) and 4 failures; then the topics are read
      // until quiet, so that a second answer would show.
      TopicReader.until(client, Topics.GENERATION_FAILURES.name(), ids, 4, Duration.ofMinutes(3));
      TopicReader.until(client, Topics.GENERATION_OUTPUTS.name(), ids, 11, Duration.ofMinutes(3));
      Duration quiet = Duration.ofSeconds(3);
      List<String> answered = new ArrayList<>();
      for (byte[] value :
          TopicReader.untilQuiet(
              client, Topics.GENERATION_OUTPUTS.name(), ids, quiet, Duration.ofMinutes(1))) {
        answered.add(Topics.GENERATION_OUTPUTS.codec().decode(value).getRequestId());
      }
      for (byte[] value :
          TopicReader.untilQuiet(
              client, Topics.GENERATION_FAILURES.name(), ids, quiet, Duration.ofMinutes(1))) {
        answered.add(Topics.GENERATION_FAILURES.codec().decode(value).getRequestId());
      }

      assertThat(answered)
          .as("no request answered twice, the ones from before the split included")
          .doesNotHaveDuplicates()
          .containsExactlyInAnyOrderElementsOf(ids);
      List<String> deadLetterIds = new ArrayList<>();
      for (byte[] value :
          TopicReader.untilQuiet(
              client,
              Topics.GENERATION_REQUESTS_DLQ.name(),
              List.of(run + "-garbage"),
              quiet,
              Duration.ofMinutes(1))) {
        deadLetterIds.add(Topics.GENERATION_REQUESTS_DLQ.codec().decode(value).getEventId());
      }
      assertThat(deadLetterIds)
          .as("dead-lettered by each pool, under one event id (the audit store records it once)")
          .hasSize(2)
          .containsOnly(deadLetterIds.get(0));
      assertThat(count(sideMeters, "dead_letter", "undecodable")).isEqualTo(1);
      assertThat(count(mainMeters, "dead_letter", "undecodable")).isEqualTo(1);
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
}
