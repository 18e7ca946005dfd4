package io.genguard.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestInput;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded job jar's main class runs the moderation job against a real broker in a separate JVM
 * whose classpath is the jar plus only what a Flink cluster provides (Flink's provided-scope
 * artifacts): a class the jar forgot to shade fails this test, as it would fail {@code flink run}.
 * Outside a cluster, {@code getExecutionEnvironment()} starts a local MiniCluster.
 */
class ModerationJobMainITCase {
  private static final int OUTPUTS = 12;

  @Test
  void shouldJudgeOutputsFromKafkaWhenTheShadedJarsMainRuns(@TempDir Path work) throws Exception {
    Path jar = Path.of(System.getProperty("genguard.flink.jobs.jar"));
    String flinkClasspath =
        Files.readString(Path.of(System.getProperty("genguard.flink.classpath.file"))).trim();
    try (JarFile shaded = new JarFile(jar.toFile())) {
      assertThat(shaded.getManifest().getMainAttributes().getValue("Main-Class"))
          .isEqualTo(ModerationJobMain.class.getName());
      assertThat(shaded.getEntry("org/apache/flink/connector/kafka/source/KafkaSource.class"))
          .as("connector shaded in")
          .isNotNull();
      assertThat(shaded.getEntry("io/genguard/bias/job/BiasAggregationJob.class"))
          .as("bias job in the same jar")
          .isNotNull();
      assertThat(
              shaded.getEntry(
                  "org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class"))
          .as("Flink itself is provided, not shaded")
          .isNull();
    }

    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    List<GenerationOutput> outputs = produceOutputs(infra.kafkaBootstrapServers());

    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m",
                "-Dai.djl.offline=true",
                "-cp",
                jar + File.pathSeparator + flinkClasspath,
                ModerationJobMain.class.getName(),
                "GENGUARD_MODERATION_CHECKPOINT_INTERVAL_MS=300")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("job.log").toFile());
    builder.environment().put("GENGUARD_KAFKA_BOOTSTRAP_SERVERS", infra.kafkaBootstrapServers());
    builder.environment().put("GENGUARD_MODERATION_GROUP", "shaded-jar-it");
    builder.environment().put("GENGUARD_MODERATION_TRANSACTIONAL_ID_PREFIX", "shaded-jar-it");
    builder.environment().put("GENGUARD_MODERATION_KEY_DIR", work.resolve("keys").toString());
    Process job = builder.start();
    try {
      Set<String> judged = new TreeSet<>();
      try (KafkaConsumer<byte[], byte[]> consumer =
          verdictConsumer(infra.kafkaBootstrapServers())) {
        await()
            .atMost(Duration.ofMinutes(4))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  if (!job.isAlive()) {
                    throw new AssertionError(
                        "The job's JVM exited with "
                            + job.exitValue()
                            + ":\n"
                            + Files.readString(work.resolve("job.log")));
                  }
                  for (ConsumerRecord<byte[], byte[]> record :
                      consumer.poll(Duration.ofMillis(500))) {
                    ModerationVerdict verdict =
                        Topics.MODERATION_VERDICTS.codec().decode(record.value());
                    outputs.stream()
                        .filter(output -> output.getOutputId().equals(verdict.getOutputId()))
                        .forEach(
                            output -> {
                              assertThat(verdict.getOutputSha256())
                                  .isEqualTo(ContentHash.sha256Hex(output.getText()));
                              judged.add(verdict.getOutputId());
                            });
                  }
                  return judged.size() == OUTPUTS;
                });
      }
      assertThat(judged).hasSize(OUTPUTS);
    } finally {
      job.destroy();
      if (!job.waitFor(30, TimeUnit.SECONDS)) {
        job.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static List<GenerationOutput> produceOutputs(String bootstrapServers) {
    List<GenerationOutput> outputs = new java.util.ArrayList<>();
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    for (int i = 0; i < OUTPUTS; i++) {
      String requestId = EventIds.random();
      GenerationOutput output =
          GenerationOutput.newBuilder()
              .setEventId(EventIds.nameBased("output-event", requestId))
              .setOutputId("out-" + requestId)
              .setRequestId(requestId)
              .setTenantId("shaded-jar-it")
              .setText(
                  i % 4 == 0
                      ? "I will hurt you and your family"
                      : "The committee met on Tuesday to discuss the budget " + i)
              .setModel(
                  ModelRef.newBuilder()
                      .setName("test-model")
                      .setVersion("1")
                      .setBackend("builtin")
                      .build())
              .setParameters(
                  SamplingParameters.newBuilder()
                      .setMaxTokens(20)
                      .setTemperature(1.0)
                      .setTopK(0)
                      .setTopP(1.0)
                      .setSeed(1L)
                      .build())
              .setCost(
                  GenerationCost.newBuilder()
                      .setPromptTokens(3)
                      .setOutputTokens(9)
                      .setComputeMillis(2)
                      .setDevice("cpu")
                      .setEnergyJoules(0.01)
                      .build())
              .setGeneratedAt(Instant.now())
              .build();
      records.add(
          new ProducerRecord<>(
              Topics.GENERATION_OUTPUTS.name(),
              requestId.getBytes(StandardCharsets.UTF_8),
              Topics.GENERATION_OUTPUTS.codec().encode(output)));
      outputs.add(output);
    }
    TestInput.sendAll(bootstrapServers, records);
    return outputs;
  }

  private static KafkaConsumer<byte[], byte[]> verdictConsumer(String bootstrapServers) {
    Map<String, Object> properties = new HashMap<>();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties);
    List<TopicPartition> partitions =
        consumer.partitionsFor(Topics.MODERATION_VERDICTS.name()).stream()
            .map(info -> new TopicPartition(info.topic(), info.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return consumer;
  }
}
