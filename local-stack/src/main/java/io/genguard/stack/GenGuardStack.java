package io.genguard.stack;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.AuditService;
import io.genguard.bias.job.BiasAggregationJob;
import io.genguard.bias.job.BiasJobConfig;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.GeneratorService;
import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.infra.EmbeddedPostgresServer;
import io.genguard.moderation.gate.GateTimings;
import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.moderation.gate.UnreadableBatchClients;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.job.ModerationJob;
import io.genguard.moderation.job.ModerationJobConfig;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.observability.MetricsConfig;
import io.genguard.observability.audit.AuditStoreCollector;
import io.genguard.observability.http.MetricsEndpoint;
import io.genguard.observability.kafka.ConsumerGroupLagCollector;
import io.genguard.observability.registry.PrometheusRegistries;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.schemas.ContentRetention;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All of GenGuard in one process on real servers: a Kafka broker (KRaft), PostgreSQL, the audit
 * service, the Kafka Streams release gate, the Flink moderation job on a MiniCluster and the
 * generator workers. {@link #close()} stops them in order: intake first, then each stage after it
 * has drained what the stage before it produced, then the servers.
 *
 * <p>Metrics: every service records into one Prometheus registry, served with the audit-store and
 * consumer-lag collectors' metrics on one endpoint ({@link #metricsPort()}); the Flink MiniCluster
 * runs Flink's own Prometheus reporter on {@link StackConfig#flinkMetricsPort()}.
 */
public final class GenGuardStack implements AutoCloseable {
  /** The audit anchor file's name in the data directory. */
  public static final String ANCHOR_FILE = "audit-anchors.jsonl";

  /** The key file that signs the audit anchors, in the data directory (owner-only). */
  public static final String ANCHOR_SIGNING_KEY_FILE = "audit-anchor-signing-keys";

  /** Folder of the data directory holding the provenance keys the generator and moderation use. */
  public static final String KEY_DIRECTORY = "keys";

  private static final Logger LOG = LoggerFactory.getLogger(GenGuardStack.class);

  private final StackConfig config;
  private final Path stateDir;
  private final boolean temporary;

  /** The settings the stack reads (the process's environment but in tests). */
  private final Map<String, String> settings;

  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private final PrometheusMeterRegistry registry = PrometheusRegistries.create("local-stack");
  private MetricsEndpoint metricsEndpoint;
  private EmbeddedKafkaBroker kafka;
  private String bootstrapServers;
  private String jdbcUrl;
  private EmbeddedPostgresServer postgres;
  private AuditService audit;
  private GeneratorService generator;
  private Path adminTokenFile;
  private Path anchorFile;
  private KafkaStreams gate;
  private FlinkJobRunner moderation;

  /**
   * Stops the stack when the JVM exits while it runs, starting included: Ctrl-C while Kafka, Flink
   * or the models load must not leave the embedded PostgreSQL (a process of its own, started
   * without a hook of its own so that it stops last) running, holding the data directory.
   */
  private final Thread stopAtExit = new Thread(this::close, "genguard-stop-at-exit");

  /** Set once by {@link #close}; guarded by {@code this}, as {@link #started} is. */
  private boolean closed;

  private GenGuardStack(
      StackConfig config, Path stateDir, boolean temporary, Map<String, String> env) {
    this.config = config;
    this.stateDir = stateDir;
    this.temporary = temporary;
    this.settings = Map.copyOf(env);
  }

  /**
   * Keeps {@code resource} to close with the stack; when the stack was closed meanwhile (the JVM is
   * exiting), closes it at once and stops the start.
   */
  private synchronized <T extends AutoCloseable> T track(T resource) {
    if (closed) {
      closeQuietly(resource);
      throw new IllegalStateException("GenGuard was stopped while it started");
    }
    started.push(resource);
    return resource;
  }

  /** Starts everything; on failure stops what already started and rethrows. */
  public static GenGuardStack start(StackConfig config) {
    return start(config, System.getenv());
  }

  /** As {@link #start(StackConfig)}, with {@code env} in place of the process's environment. */
  static GenGuardStack start(StackConfig config, Map<String, String> env) {
    Path dir;
    boolean temporary = config.dataDir().isEmpty();
    try {
      dir =
          temporary
              ? TemporaryStateDirs.create(Path.of(System.getProperty("java.io.tmpdir")))
              : config.dataDir().get().toAbsolutePath();
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create the data directory: " + e.getMessage(), e);
    }
    GenGuardStack stack = new GenGuardStack(config, dir, temporary, env);
    Runtime.getRuntime().addShutdownHook(stack.stopAtExit);
    try {
      stack.startAll();
      return stack;
    } catch (Exception e) {
      stack.close();
      throw new IllegalStateException("GenGuard failed to start: " + e.getMessage(), e);
    } catch (Error e) {
      // OutOfMemoryError, NoClassDefFoundError: stop what started before the error goes up.
      stack.close();
      throw e;
    }
  }

  private void startAll() throws Exception {
    long begin = System.nanoTime();
    // Read before any server starts, so that a bad value stops nothing half-started.
    GateTimings gateTimings = GateTimings.fromEnvironment(settings);
    // The metrics settings (the bias gauges' cap among them) too: read as the collectors started,
    // a bad value stopped the stack after Kafka, PostgreSQL and Flink had started.
    MetricsConfig metrics = metricsConfig(config, settings);
    // The fixed ports the stack listens on, checked before the servers start: a busy --http-port
    // was found only by the audit service, about a minute in, after Kafka, PostgreSQL and Flink.
    requireFreePorts(config, settings);
    track(PrometheusRegistries.bindJvmMetrics(registry));
    String jdbcUrl;
    String jdbcUser;
    String jdbcPassword;
    if (config.external().isPresent()) {
      StackConfig.ExternalInfrastructure external = config.external().get();
      bootstrapServers = external.kafkaBootstrapServers();
      jdbcUrl = external.jdbcUrl();
      jdbcUser = external.jdbcUser();
      jdbcPassword = external.jdbcPassword();
    } else {
      // No shutdown hook of its own: close() stops PostgreSQL last, after the audit service
      // drained. Tracked before it starts: a stop while it starts must not leave it running.
      postgres =
          track(new PostgresStart(stateDir.resolve("postgres"))).start(config.postgresPort());
      kafka = track(EmbeddedKafkaBroker.start(stateDir.resolve("kafka"), config.kafkaPort()));
      bootstrapServers = kafka.bootstrapServers();
      jdbcUrl = postgres.jdbcUrl();
      jdbcUser = postgres.user();
      jdbcPassword = postgres.password();
    }
    this.jdbcUrl = jdbcUrl;
    for (String change :
        TopicProvisioner.provisionCatalogue(
            kafkaProperties(), config.partitions(), (short) 1, config.contentRetention())) {
      LOG.info(
          "Topic configuration changed to {}={}: {}",
          ContentRetention.KEY,
          config.contentRetention(),
          change);
    }

    // One set of provenance keys: the generator signs and watermarks with them. Moderation and the
    // audit service's explanations verify only (ProvenanceKeys.forVerifier): they trust the public
    // halves published here, written before either starts.
    Path keyDirectory = stateDir.resolve(KEY_DIRECTORY);
    ProvenanceKeys keys = ProvenanceKeys.fromEnvironmentOrDirectory(settings, keyDirectory);
    keys.publishVerificationKeys(keyDirectory);

    // The stack's explanation keys are in the base too, so that keys which need them
    // (GENGUARD_AUDIT_EXPLAIN_HELD_SECONDS) pass the environment's checks.
    AuditConfig auditConfig =
        AuditConfig.fromEnvironment(
            auditEnvironment(settings),
            AuditConfig.of(jdbcUrl, jdbcUser, jdbcPassword, config.httpPort())
                .withExplanations(
                    stateDir.resolve(KEY_DIRECTORY), config.policyFile().orElse(null)));
    if (auditConfig.adminTokenFile().isBlank()) {
      // A laptop stack gives its user a first admin token (written once, owner-readable only).
      auditConfig = auditConfig.withAdminTokenFile(stateDir.resolve("admin-token"));
    }
    if (auditConfig.anchorFile().isBlank()) {
      // Heads of the audit chain, outside the database: `audit verify --anchors` checks them.
      auditConfig =
          auditConfig.withAnchorFile(
              stateDir.resolve(ANCHOR_FILE), auditConfig.anchorIntervalSeconds());
      if (auditConfig.anchorSigningKeyFile().isBlank()) {
        // Signed, so that `audit verify` shows a file edited without the key.
        auditConfig =
            auditConfig.withAnchorSigningKeyFile(stateDir.resolve(ANCHOR_SIGNING_KEY_FILE));
      }
      if (auditConfig.anchorWitnessTopic().isBlank()) {
        // A second copy of every line on the stack's broker: `audit verify --witness` compares.
        auditConfig = auditConfig.withAnchorWitnessTopic(Topics.AUDIT_ANCHOR_WITNESS);
      }
    }
    // Reviewers' explanations judge a recorded output again with the job's keys and policy file.
    auditConfig =
        auditConfig.withExplanations(
            stateDir.resolve(KEY_DIRECTORY), config.policyFile().orElse(null));
    adminTokenFile = Path.of(auditConfig.adminTokenFile());
    anchorFile = Path.of(auditConfig.anchorFile());
    audit = new AuditService(auditConfig, kafkaProperties(), Clock.systemUTC());
    track(audit);

    // Its main consumer dead-letters a record batch that fails Kafka's CRC check, and counts it.
    UnreadableBatchClients gateClients = ReleaseGateTopology.clients(Clock.systemUTC());
    FunctionCounter.builder(
            UnreadableBatchClients.METER, gateClients, UnreadableBatchClients::unreadableRecords)
        .register(registry);
    gate =
        new KafkaStreams(
            ReleaseGateTopology.buildTopology(Clock.systemUTC(), gateTimings),
            ReleaseGateTopology.streamsConfig(
                bootstrapServers,
                stateDir.resolve("streams").toString(),
                1,
                ReleaseGateTopology.commitIntervalMs(settings)),
            gateClients);
    gate.setUncaughtExceptionHandler(
        error -> {
          LOG.error("Release gate thread failed; replacing it", error);
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    gate.start();
    track(() -> gate.close(Duration.ofSeconds(10)));
    KafkaStreamsMetrics gateMetrics = new KafkaStreamsMetrics(gate);
    gateMetrics.bindTo(registry);
    track(gateMetrics);

    // The job's tuning keys (GENGUARD_MODERATION_*) apply here too; the broker is the stack's own.
    Map<String, String> moderationEnvironment = new HashMap<>(settings);
    moderationEnvironment.put(ModerationJobConfig.BOOTSTRAP_SERVERS, bootstrapServers);
    ModerationJobConfig jobConfig =
        ModerationJobConfig.fromEnvironment(moderationEnvironment)
            .withParallelism(config.moderationParallelism());
    BatchModerator.Factory moderator =
        ModerationPipelines.factory(
            ScorerConfig.fromEnvironment(config.moderationScorer(), settings),
            config.policyFile().orElse(null),
            keyDirectory);
    // Bias aggregation (bias-audit): verdicts to bias.metrics and live bias alerts. Started before
    // moderation so that it stops after it, once the last verdicts are committed.
    track(
        FlinkJobRunner.start(
            BiasAggregationJob.JOB_NAME,
            stateDir.resolve("flink/bias"),
            1,
            config.flinkMetricsPort(),
            // A data dir from before the forty-first session holds the state of the live alerts'
            // sink committer, which the job no longer has (its alerts are on bias.alerts and in
            // the audit log); one from before the forty-fourth the live windows keyed by model and
            // group ("live-window-counts"), whose open windows are dropped (docs/OPERATIONS.md).
            // SavepointCompatibilityTest pins every other operator's id.
            true,
            (env, conf) ->
                BiasAggregationJob.wire(
                    env,
                    BiasJobConfig.fromEnvironment(
                        withoutConnectionKeys(settings),
                        bootstrapServers,
                        jdbcUrl,
                        jdbcUser,
                        jdbcPassword))));
    moderation =
        FlinkJobRunner.start(
            ModerationJob.JOB_NAME,
            stateDir.resolve("flink/moderation"),
            config.moderationParallelism(),
            config.flinkMetricsPort(),
            (env, conf) -> {
              ModerationJob.configure(env, jobConfig);
              ModerationJob.buildPipeline(
                  env,
                  ModerationJob.kafkaSource(jobConfig),
                  ModerationJob.kafkaSink(jobConfig),
                  moderator,
                  jobConfig);
            });
    track(moderation);

    generator =
        new GeneratorService(
            GeneratorConfig.fromEnvironment(settings, stateDir.resolve("generator"))
                .withWorkers(config.generatorWorkers())
                .withKeys(keys),
            kafkaProperties(),
            registry);
    generator.start();
    track(generator);
    Gauge.builder("genguard.generator.workers.running", generator, GeneratorService::runningWorkers)
        .description("Generator worker threads running")
        .register(registry);
    startMetrics(metrics);
    LOG.info(
        "GenGuard started in {} ms; state in {}",
        (System.nanoTime() - begin) / 1_000_000,
        stateDir);
  }

  /**
   * Refuses, naming the flag and the key, a fixed port that another process listens on: the audit
   * API's ({@code --http-port}, on the address GENGUARD_AUDIT_HTTP_HOST names), and with embedded
   * servers a set {@code --postgres-port} and {@code --kafka-port}. The metrics ports are not
   * checked: a busy one only leaves the stack without that endpoint.
   */
  static void requireFreePorts(StackConfig config, Map<String, String> env) {
    if (config.external().isEmpty()) {
      if (config.postgresPort() != 0) {
        EmbeddedPostgresServer.requireFreePort(
            config.postgresPort(),
            "--postgres-port " + config.postgresPort() + " (" + StackConfig.POSTGRES_PORT + ")");
      }
      if (config.kafkaPort() != 0) {
        requireFreePort(
            "127.0.0.1",
            config.kafkaPort(),
            "--kafka-port " + config.kafkaPort() + " (" + StackConfig.KAFKA_PORT + ")");
      }
    }
    if (config.httpPort() != 0) {
      String host =
          env.getOrDefault(AuditConfig.HTTP_HOST, AuditConfig.of("", "", "", 0).httpHost());
      requireFreePort(
          host,
          config.httpPort(),
          "--http-port " + config.httpPort() + " (" + StackConfig.HTTP_PORT + ")");
    }
  }

  private static void requireFreePort(String host, int port, String what) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(host, port));
    } catch (BindException e) {
      throw new IllegalStateException(
          what
              + " is in use by another process (on "
              + host
              + "), perhaps another GenGuard stack: stop it, or choose another port",
          e);
    } catch (IOException e) {
      // Not known to be busy (an address that does not resolve, say): the server's own start says.
      LOG.debug("Could not check {}: {}", what, e.toString());
    }
  }

  /**
   * The metrics settings of {@code env} (the audit-store collector's cap on the bias gauges, {@code
   * GENGUARD_METRICS_BIAS_MAX_PAIRS}, among them), on the stack's own metrics port.
   *
   * @throws IllegalArgumentException naming the setting that is not valid
   */
  static MetricsConfig metricsConfig(StackConfig config, Map<String, String> env) {
    return MetricsConfig.fromEnvironment(env).withPort(config.metricsPort());
  }

  /** The collectors (closed before the services they read) and the combined endpoint. */
  private void startMetrics(MetricsConfig metrics) {
    audit.bindMetrics(registry);
    track(
        AuditStoreCollector.start(
            audit.database().dataSource(),
            registry,
            metrics.auditInterval(),
            Clock.systemUTC(),
            metrics.biasMaxPairs()));
    track(
        ConsumerGroupLagCollector.start(
            kafkaProperties(),
            group -> group.startsWith(metrics.lagGroupPrefix()),
            registry,
            metrics.lagInterval()));
    MetricsEndpoint endpoint = null;
    try {
      endpoint = MetricsEndpoint.start(metrics.host(), metrics.port(), List.of(registry::scrape));
    } catch (IllegalStateException e) {
      // Metrics must not take the pipeline down (e.g. a second stack on the same machine).
      LOG.warn("Metrics are not served: {}", e.getMessage());
    }
    if (endpoint != null) {
      // Outside the catch: a stack stopped meanwhile must stop its start, not warn about metrics.
      metricsEndpoint = track(endpoint);
    }
  }

  public Map<String, Object> kafkaProperties() {
    return Map.of("bootstrap.servers", bootstrapServers);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  /**
   * The bias job's tuning keys apply in the embedded stack too, but never its connection keys: the
   * stack's own broker and database are the only ones it may use.
   */
  private static Map<String, String> withoutConnectionKeys(Map<String, String> env) {
    return without(
        env,
        BiasJobConfig.BOOTSTRAP_SERVERS,
        BiasJobConfig.JDBC_URL,
        BiasJobConfig.JDBC_USER,
        BiasJobConfig.JDBC_PASSWORD);
  }

  /**
   * The audit service's keys apply in the embedded stack too, but not those the stack sets itself:
   * its database (GENGUARD_AUDIT_JDBC_*, set in a shell for the {@code audit} commands, would send
   * the stack's audit records to another database than the one the stack, its bias job and {@code
   * --stack-dir} use) and its port ({@code --http-port} / GENGUARD_HTTP_PORT).
   */
  static Map<String, String> auditEnvironment(Map<String, String> env) {
    return without(
        env,
        AuditConfig.JDBC_URL,
        AuditConfig.JDBC_USER,
        AuditConfig.JDBC_PASSWORD,
        AuditConfig.HTTP_PORT);
  }

  private static Map<String, String> without(Map<String, String> env, String... keys) {
    Map<String, String> rest = new HashMap<>(env);
    for (String key : keys) {
      rest.remove(key);
    }
    return rest;
  }

  /** Where the audit service wrote the first admin API token (created once per data directory). */
  public Path adminTokenFile() {
    return adminTokenFile;
  }

  public GeneratorService generator() {
    return generator;
  }

  public AuditService audit() {
    return audit;
  }

  /** The release gate's Kafka Streams application (tests stop it to lose outputs on purpose). */
  public KafkaStreams releaseGate() {
    return gate;
  }

  public int httpPort() {
    return audit.httpPort();
  }

  public Path stateDir() {
    return stateDir;
  }

  /** Where the audit service anchors its chain head, unless GENGUARD_AUDIT_ANCHOR_FILE says. */
  public Path anchorFile() {
    return anchorFile;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Port of the combined {@code /metrics} endpoint, or -1 when it could not bind. */
  public int metricsPort() {
    return metricsEndpoint == null ? -1 : metricsEndpoint.port();
  }

  /**
   * Stops in order, each stage committing what it has done before the next one stops: the API (no
   * new requests), the generator (finishes and commits its batch), moderation (stopped with a
   * savepoint, which commits its last transaction), the gate (commits), the audit ingestor (writes
   * and commits its batch), then Kafka and PostgreSQL. Whatever a stage had not yet read stays in
   * Kafka and is processed at the next start with the same data directory.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(stopAtExit);
    } catch (IllegalStateException exiting) {
      // The JVM is exiting: this is the hook, or a caller's hook beside it.
    }
    long begin = System.nanoTime();
    if (audit != null) {
      audit.stopIntake();
    }
    closeAll(started);
    if (temporary) {
      TemporaryStateDirs.deleteTree(stateDir);
    }
    LOG.info("GenGuard stopped in {} ms", (System.nanoTime() - begin) / 1_000_000);
  }

  /**
   * Closes the resources most recent first, each whatever the others threw: an Error too (an
   * OutOfMemoryError or NoClassDefFoundError while a stage stops must not leave Kafka and
   * PostgreSQL running).
   */
  static void closeAll(Deque<AutoCloseable> resources) {
    while (!resources.isEmpty()) {
      closeQuietly(resources.pop());
    }
  }

  private static void closeQuietly(AutoCloseable resource) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Throwable e) {
      LOG.warn("Error while stopping {}: {}", resource.getClass().getSimpleName(), e.toString());
    }
  }

  /**
   * The embedded PostgreSQL from the moment its start begins. The postmaster runs in a session of
   * its own, so neither Ctrl-C nor the JVM's exit stops it: when the stack is closed (the JVM
   * exits) while it starts, {@link #close} stops the server its start launched, found through the
   * data directory's {@code postmaster.pid}.
   */
  private static final class PostgresStart implements AutoCloseable {
    /** How long a close waits for a start under way (initdb, then the postmaster) to get on. */
    private static final Duration START_WAIT = Duration.ofSeconds(30);

    private final Path dataDir;
    private final CountDownLatch startEnded = new CountDownLatch(1);
    private EmbeddedPostgresServer server;
    private boolean closed;

    PostgresStart(Path dataDir) {
      this.dataDir = dataDir;
    }

    EmbeddedPostgresServer start(int port) {
      try {
        EmbeddedPostgresServer started =
            EmbeddedPostgresServer.start(dataDir, port, "genguard", false);
        synchronized (this) {
          if (!closed) {
            server = started;
            return started;
          }
        }
        started.close();
        throw new IllegalStateException("GenGuard was stopped while it started");
      } finally {
        startEnded.countDown();
      }
    }

    @Override
    public void close() throws InterruptedException {
      EmbeddedPostgresServer running;
      synchronized (this) {
        closed = true;
        running = server;
      }
      if (running != null) {
        running.close();
        return;
      }
      // Still starting: stop its postmaster as soon as there is one, or let the start end (a start
      // that ends after the close stops what it started itself).
      long deadline = System.nanoTime() + START_WAIT.toNanos();
      do {
        if (EmbeddedPostgresServer.stopLeftover(dataDir)) {
          return;
        }
        if (System.nanoTime() > deadline) {
          LOG.warn("PostgreSQL on {} was still starting after {}", dataDir, START_WAIT);
          return;
        }
      } while (!startEnded.await(50, TimeUnit.MILLISECONDS));
    }
  }
}
