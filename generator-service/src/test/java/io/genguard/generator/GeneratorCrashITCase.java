package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestStatus;
import io.genguard.provenance.manifest.ManifestVerifier;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkParameters;
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
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generator process killed with SIGKILL while requests are still streaming in, then replaced:
 * every request ends as exactly one output or failure on read_committed topics, every undecodable
 * record as exactly one dead letter, and any output the killed process had produced in a
 * transaction that never committed is regenerated identically.
 */
class GeneratorCrashITCase {
  private static final Logger LOG = LoggerFactory.getLogger(GeneratorCrashITCase.class);
  private static final int VALID_REQUESTS = 240;
  private static final int PARTITIONS = 4;

  /** The killed process blocks inside the transaction that sends this output. */
  private static final int HOLD_AFTER_OUTPUTS = 45;

  private static final int PAUSE_UNTIL_KILLED_AT = 150;

  @TempDir Path dataDir;
  private Process killed;
  private GeneratorService replacement;

  @AfterEach
  void cleanUp() {
    if (killed != null && killed.isAlive()) {
      killed.destroyForcibly();
    }
    if (replacement != null) {
      replacement.close();
    }
  }

  @Test
  void shouldLoseAndDuplicateNothingWhenAWorkerProcessIsKilledMidStream() throws Exception {
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
    String group = "generator-it-" + run;
    String instance = "it-" + run;
    List<String> requestIds = new ArrayList<>();
    for (int i = 0; i < VALID_REQUESTS; i++) {
      requestIds.add(run + "-req-" + i);
    }
    List<String> invalidIds =
        List.of(run + "-empty-prompt", run + "-hot", run + "-unknown-backend");
    int garbage = 3;

    killed = startGeneratorProcess(servers, instance, group);
    AtomicInteger produced = new AtomicInteger();
    CountDownLatch serving = new CountDownLatch(1);
    CountDownLatch killedSignal = new CountDownLatch(1);
    Thread feeder =
        new Thread(
            () ->
                feed(
                    servers, run, requestIds, invalidIds, garbage, produced, serving, killedSignal),
            "feeder");
    feeder.start();

    try (Reader committed = new Reader(servers, "read_committed")) {
      // The first requests prove the process serves; the rest then stream in at a steady rate.
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> committed.poll(run).outputs.size() >= 5);
      serving.countDown();
      // Kill the process while one worker holds an open transaction with outputs on the broker
      // and requests keep arriving.
      Path marker = dataDir.resolve("holding-transaction");
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                committed.poll(run);
                return java.nio.file.Files.exists(marker);
              });
      Thread.sleep(500); // the held transaction's earlier records reach the broker (linger.ms)
      committed.poll(run);
      int producedAtKill = produced.get();
      killed.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      killedSignal.countDown();
      LOG.info(
          "Killed the generator process after {} committed outputs, {} of {} requests produced",
          committed.outputs.size(),
          producedAtKill,
          VALID_REQUESTS + invalidIds.size() + garbage);
      assertThat(producedAtKill).as("the kill lands mid-stream").isLessThan(VALID_REQUESTS);

      // A restart of the same instance (same transactional ids) takes over.
      replacement =
          new GeneratorService(
              GeneratorConfig.defaults(dataDir)
                  .withInstanceId(instance)
                  .withConsumerGroup(group)
                  .withWorkers(2),
              Map.of("bootstrap.servers", servers),
              new SimpleMeterRegistry());
      replacement.start();
      feeder.join(120_000);

      await()
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  committed.poll(run).answered() >= VALID_REQUESTS + invalidIds.size()
                      && committed.deadLetters.size() >= garbage);
      // Keep reading a while: a duplicate would arrive now.
      long quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < quietUntil) {
        committed.poll(run);
      }

      assertThat(committed.duplicates).as("request ids answered twice").isEmpty();
      assertThat(committed.outputs.keySet()).containsExactlyInAnyOrderElementsOf(requestIds);
      assertThat(committed.failures.keySet()).containsExactlyInAnyOrderElementsOf(invalidIds);
      assertThat(committed.failures.get(run + "-empty-prompt").getCode())
          .isEqualTo("invalid_request");
      assertThat(committed.failures.get(run + "-hot").getReason()).contains("temperature");
      assertThat(committed.failures.get(run + "-unknown-backend").getCode())
          .isEqualTo("unknown_backend");
      assertThat(committed.deadLetters).hasSize(garbage);

      // Outputs are signed and watermarked with the keys in the data directory.
      ProvenanceKeys keys = ProvenanceKeys.loadOrCreate(dataDir.resolve("provenance-keys"));
      ManifestVerifier verifier = new ManifestVerifier(keys.verification());
      WatermarkDetector detector = new WatermarkDetector(keys.watermark());
      // Every output's manifest verifies. The watermark is a statistical test on each output of
      // at most 60 tokens (the trigram model also stops early), so a few may fall short of its
      // threshold: the README measures 95% detected at 50 tokens. Unwatermarked text is flagged at
      // a rate of about 3e-5, so a broken embedder would fail this by a wide margin.
      int detected = 0;
      for (GenerationOutput output : committed.outputs.values()) {
        assertThat(
                verifier.verify(
                    output.getText(),
                    output.getTenantId(),
                    output.getManifest().getCanonicalJson(),
                    output.getManifest().getSignature(),
                    output.getManifest().getKeyId()))
            .as("manifest of %s", output.getRequestId())
            .isEqualTo(ManifestStatus.VALID);
        if (detector
            .detect(
                output.getText(),
                output.getWatermark().getKeyId(),
                new WatermarkParameters(
                    output.getWatermark().getGamma(),
                    output.getWatermark().getDelta(),
                    output.getWatermark().getContextWidth()))
            .watermarked()) {
          detected++;
        }
      }
      System.out.printf(
          "watermark detected in %d of %d outputs%n", detected, committed.outputs.size());
      assertThat(detected)
          .as("outputs whose watermark is detected, of %d", committed.outputs.size())
          .isGreaterThanOrEqualTo(committed.outputs.size() * 4 / 5);
    }

    // What the killed process wrote in transactions that never committed was regenerated
    // identically.
    try (Reader everything = new Reader(servers, "read_uncommitted")) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> everything.poll(run).outputs.size() >= VALID_REQUESTS);
      LOG.info(
          "read_uncommitted saw {} output records for {} requests ({} from aborted transactions)",
          everything.outputRecords,
          VALID_REQUESTS,
          everything.outputRecords - VALID_REQUESTS);
      assertThat(everything.outputRecords)
          .as("the held transaction's outputs were on the broker when the process died")
          .isGreaterThan(VALID_REQUESTS);
      assertThat(everything.conflictingCopies).as("regenerated outputs that differ").isEmpty();
    }
  }

  private Process startGeneratorProcess(String servers, String instance, String group)
      throws Exception {
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path log = dataDir.resolve("killed-generator.log");
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-Dgenguard.it.hold-after=" + HOLD_AFTER_OUTPUTS,
                "-Dgenguard.it.marker=" + dataDir.resolve("holding-transaction"),
                "-cp",
                classpath,
                GeneratorProcess.class.getName(),
                servers,
                dataDir.toString(),
                instance,
                group,
                "2")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Process process = builder.start();
    LOG.info("Generator process {} started; log in {}", process.pid(), log);
    return process;
  }

  private static void feed(
      String servers,
      String run,
      List<String> requestIds,
      List<String> invalidIds,
      int garbage,
      AtomicInteger produced,
      CountDownLatch serving,
      CountDownLatch killed) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < requestIds.size(); i++) {
      records.add(request(requestIds.get(i), "Mr President, on the question of " + i, null, 1.0));
      if (i == 40) {
        records.add(request(invalidIds.get(0), "  ", null, 1.0));
        records.add(garbage(run, 0));
      }
      if (i == 120) {
        records.add(request(invalidIds.get(1), "The Commission", null, -1.0));
        records.add(garbage(run, 1));
      }
      if (i == 200) {
        records.add(request(invalidIds.get(2), "The Commission", "vllm", 1.0));
        records.add(garbage(run, 2));
      }
    }
    // Ten records at a time, each batch acknowledged before the next (TestInput: a send that is
    // not awaited can be lost silently, and this test would then wait for outputs never asked for).
    try {
      for (int from = 0; from < records.size(); from += 10) {
        List<ProducerRecord<byte[], byte[]>> batch =
            records.subList(from, Math.min(from + 10, records.size()));
        TestInput.sendAll(servers, batch);
        int count = produced.addAndGet(batch.size());
        if (count == 10) {
          serving.await(120, TimeUnit.SECONDS);
        } else if (count == PAUSE_UNTIL_KILLED_AT) {
          // However slow the machine, the rest of the stream arrives only after the kill, so the
          // kill always lands mid-stream and the replacement must serve what follows.
          killed.await(240, TimeUnit.SECONDS);
        } else {
          Thread.sleep(200);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    assertThat(garbage).isEqualTo(3);
  }

  private static ProducerRecord<byte[], byte[]> request(
      String requestId, String prompt, String backend, double temperature) {
    GenerationRequest request =
        GenerationRequest.newBuilder()
            .setEventId("evt-" + requestId)
            .setRequestId(requestId)
            .setTenantId("tenant-it")
            .setPrompt(prompt)
            .setBackend(backend)
            .setParameters(
                SamplingParameters.newBuilder()
                    .setMaxTokens(60)
                    .setTemperature(temperature)
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

  private static ProducerRecord<byte[], byte[]> garbage(String run, int index) {
    return new ProducerRecord<>(
        Topics.GENERATION_REQUESTS.name(),
        (run + "-garbage-" + index).getBytes(StandardCharsets.UTF_8),
        ("{\"not\": \"avro\", \"run\": \"" + run + "\"}").getBytes(StandardCharsets.UTF_8));
  }

  /** Reads gen.outputs, gen.failures and the dead letters of this run, noting duplicates. */
  private static final class Reader implements AutoCloseable {
    final KafkaConsumer<byte[], byte[]> consumer;
    final Map<String, GenerationOutput> outputs = new HashMap<>();
    final Map<String, GenerationFailure> failures = new HashMap<>();
    final Map<String, DeadLetter> deadLetters = new HashMap<>();
    final List<String> duplicates = new ArrayList<>();
    final List<String> conflictingCopies = new ArrayList<>();
    int outputRecords;
    private final boolean committedOnly;

    Reader(String servers, String isolation) {
      Map<String, Object> properties = new HashMap<>();
      properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
      properties.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
      properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
      properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      consumer = new KafkaConsumer<>(properties);
      consumer.subscribe(
          List.of(
              Topics.GENERATION_OUTPUTS.name(),
              Topics.GENERATION_FAILURES.name(),
              Topics.GENERATION_REQUESTS_DLQ.name()));
      committedOnly = isolation.equals("read_committed");
    }

    Reader poll(String run) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        String key = new String(record.key(), StandardCharsets.UTF_8);
        if (!key.startsWith(run)) {
          continue;
        }
        if (record.topic().equals(Topics.GENERATION_OUTPUTS.name())) {
          outputRecords++;
          GenerationOutput output = Topics.GENERATION_OUTPUTS.codec().decode(record.value());
          GenerationOutput previous = outputs.put(output.getRequestId(), output);
          if (previous != null) {
            duplicates.add(output.getRequestId());
            if (!previous.getText().equals(output.getText())
                || !previous.getEventId().equals(output.getEventId())) {
              conflictingCopies.add(output.getRequestId());
            }
          } else if (failures.containsKey(output.getRequestId())) {
            duplicates.add(output.getRequestId());
          }
        } else if (record.topic().equals(Topics.GENERATION_FAILURES.name())) {
          GenerationFailure failure = Topics.GENERATION_FAILURES.codec().decode(record.value());
          if (failures.put(failure.getRequestId(), failure) != null
              || outputs.containsKey(failure.getRequestId())) {
            duplicates.add(failure.getRequestId());
          }
        } else {
          DeadLetter letter = Topics.GENERATION_REQUESTS_DLQ.codec().decode(record.value());
          if (deadLetters.put(key, letter) != null && committedOnly) {
            duplicates.add(key);
          }
        }
      }
      return this;
    }

    int answered() {
      return outputs.size() + failures.size();
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
