package io.genguard.stack;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.AuditService;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.GeneratorService;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.infra.EmbeddedPostgresServer;
import io.genguard.moderation.ModerationPipelines;
import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.job.ModerationJob;
import io.genguard.moderation.job.ModerationJobConfig;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All of GenGuard in one process on real servers: a Kafka broker (KRaft), PostgreSQL, the audit
 * service, the Kafka Streams release gate, the Flink moderation job on a MiniCluster and the
 * generator workers. {@link #close()} stops them in order: intake first, then each stage after it
 * has drained what the stage before it produced, then the servers.
 */
public final class GenGuardStack implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GenGuardStack.class);

  private final StackConfig config;
  private final Path stateDir;
  private final boolean temporary;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private final MeterRegistry registry = new SimpleMeterRegistry();
  private EmbeddedKafkaBroker kafka;
  private EmbeddedPostgresServer postgres;
  private AuditService audit;
  private GeneratorService generator;
  private KafkaStreams gate;
  private FlinkJobRunner moderation;

  private GenGuardStack(StackConfig config, Path stateDir, boolean temporary) {
    this.config = config;
    this.stateDir = stateDir;
    this.temporary = temporary;
  }

  /** Starts everything; on failure stops what already started and rethrows. */
  public static GenGuardStack start(StackConfig config) {
    Path dir;
    boolean temporary = config.dataDir().isEmpty();
    try {
      dir = temporary ? Files.createTempDirectory("genguard-") : config.dataDir().get().toAbsolutePath();
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create the data directory: " + e.getMessage(), e);
    }
    GenGuardStack stack = new GenGuardStack(config, dir, temporary);
    try {
      stack.startAll();
      return stack;
    } catch (Exception e) {
      stack.close();
      throw new IllegalStateException("GenGuard failed to start: " + e.getMessage(), e);
    }
  }

  private void startAll() throws Exception {
    long begin = System.nanoTime();
    postgres = EmbeddedPostgresServer.start(stateDir.resolve("postgres"), config.postgresPort(), "genguard");
    started.push(postgres);
    kafka = EmbeddedKafkaBroker.start(stateDir.resolve("kafka"), config.kafkaPort());
    started.push(kafka);
    TopicProvisioner.provisionCatalogue(kafkaProperties(), config.partitions(), (short) 1);

    audit = new AuditService(
        AuditConfig.fromEnvironment(System.getenv(),
            AuditConfig.of(postgres.jdbcUrl(), postgres.user(), postgres.password(), config.httpPort())),
        kafkaProperties(), Clock.systemUTC());
    started.push(audit);

    gate = new KafkaStreams(
        ReleaseGateTopology.buildTopology(Clock.systemUTC(), Duration.ofDays(7)),
        ReleaseGateTopology.streamsConfig(kafka.bootstrapServers(), stateDir.resolve("streams").toString(), 1));
    gate.setUncaughtExceptionHandler(error -> {
      LOG.error("Release gate thread failed; replacing it", error);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    gate.start();
    started.push(() -> gate.close(Duration.ofSeconds(10)));

    ModerationJobConfig jobConfig = ModerationJobConfig.fromEnvironment(Map.of(
            ModerationJobConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers()))
        .withParallelism(config.moderationParallelism());
    BatchModerator.Factory moderator =
        ModerationPipelines.factory(config.moderationScorer(), config.policyFile().orElse(null));
    moderation = FlinkJobRunner.start(ModerationJob.JOB_NAME, stateDir.resolve("flink/moderation"),
        config.moderationParallelism(), (env, conf) -> {
          ModerationJob.configure(env, jobConfig);
          ModerationJob.buildPipeline(env, ModerationJob.kafkaSource(jobConfig),
              ModerationJob.kafkaSink(jobConfig), moderator, jobConfig);
        });
    started.push(moderation);

    generator = new GeneratorService(
        GeneratorConfig.fromEnvironment(System.getenv(), stateDir.resolve("generator"))
            .withWorkers(config.generatorWorkers()),
        kafkaProperties(), registry);
    generator.start();
    started.push(generator);
    LOG.info("GenGuard started in {} ms; state in {}", (System.nanoTime() - begin) / 1_000_000, stateDir);
  }

  public Map<String, Object> kafkaProperties() {
    return Map.of("bootstrap.servers", kafka.bootstrapServers());
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  public String jdbcUrl() {
    return postgres.jdbcUrl();
  }

  public AuditService audit() {
    return audit;
  }

  public int httpPort() {
    return audit.httpPort();
  }

  public Path stateDir() {
    return stateDir;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Messages a consumer group has not yet processed on a topic (committed transactions only), or
   * -1 if unknown. Used to drain stages in order at shutdown.
   */
  long lag(String group, String topic) {
    Properties props = new Properties();
    props.putAll(kafkaProperties());
    try (Admin admin = Admin.create(props)) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
      for (int p = 0; p < config.partitions(); p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest,
          new org.apache.kafka.clients.admin.ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
          .get(5, TimeUnit.SECONDS);
      long lag = 0;
      for (var end : ends.entrySet()) {
        OffsetAndMetadata offset = committed.get(end.getKey());
        lag += end.getValue().offset() - (offset == null ? 0 : offset.offset());
      }
      return Math.max(lag, 0);
    } catch (Exception e) {
      return -1;
    }
  }

  /** Waits (bounded) until {@code group} has consumed {@code topic}. */
  private void drain(String what, String group, String topic, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    long lag;
    while ((lag = lag(group, topic)) != 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    if (lag != 0) {
      LOG.warn("{} still had {} records to process at shutdown; they will be processed at the next start",
          what, lag);
    }
  }

  /**
   * Stops in order: the API (no new requests), the generator (finishes and commits its batch),
   * moderation (drained, then stopped with a savepoint), the gate (drained, commits), the audit
   * ingestor (drained), then Kafka and PostgreSQL.
   */
  @Override
  public void close() {
    long begin = System.nanoTime();
    if (audit != null) {
      audit.stopIntake();
    }
    closeQuietly(generator);
    started.remove(generator);
    if (moderation != null) {
      drain("Moderation", "genguard-moderation", Topics.GENERATION_OUTPUTS.name(), Duration.ofSeconds(5));
      closeQuietly(moderation);
      started.remove(moderation);
    }
    if (gate != null) {
      drain("The release gate", ReleaseGateTopology.APPLICATION_ID, Topics.MODERATION_VERDICTS.name(),
          Duration.ofSeconds(3));
    }
    while (!started.isEmpty()) {
      AutoCloseable next = started.pop();
      if (next == audit && kafka != null) {
        drain("Audit", "genguard-audit", Topics.CONTENT_RELEASED.name(), Duration.ofSeconds(3));
      }
      closeQuietly(next);
    }
    if (temporary) {
      deleteTree(stateDir);
    }
    LOG.info("GenGuard stopped in {} ms", (System.nanoTime() - begin) / 1_000_000);
  }

  private static void closeQuietly(AutoCloseable resource) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Exception e) {
      LOG.warn("Error while stopping {}: {}", resource.getClass().getSimpleName(), e.toString());
    }
  }

  private static void deleteTree(Path root) {
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      LOG.warn("Could not remove {}: {}", root, e.toString());
    }
  }
}
