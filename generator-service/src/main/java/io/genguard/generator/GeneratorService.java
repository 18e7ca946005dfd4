package io.genguard.generator;

import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.builtin.BuiltinBackend;
import io.genguard.generator.djl.DjlBackend;
import io.genguard.generator.echo.EchoBackend;
import io.genguard.generator.openai.OpenAiCompatibleBackend;
import io.genguard.generator.worker.BackendCallWatch;
import io.genguard.generator.worker.BackendRegistry;
import io.genguard.generator.worker.BatchProcessor;
import io.genguard.generator.worker.GenerationWorker;
import io.genguard.generator.worker.GeneratorMetrics;
import io.genguard.generator.worker.OutputAssembler;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestSigner;
import io.genguard.schemas.BatchOffsetLookup;
import io.genguard.schemas.ClientProperties;
import io.genguard.schemas.UnreadableBatches;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generator service: N worker threads turning gen.requests into gen.outputs and gen.failures
 * with exactly-once Kafka transactions (see {@link GenerationWorker}). Topics must exist.
 *
 * <pre>
 *   try (GeneratorService generator = new GeneratorService(config, Map.of("bootstrap.servers", servers), registry)) {
 *     generator.start();
 *     ...
 *   }
 * </pre>
 */
public final class GeneratorService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GeneratorService.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * How long close() waits further for worker threads it interrupted after {@link #closeTimeout}.
   */
  private static final Duration AFTER_INTERRUPT = Duration.ofSeconds(2);

  /**
   * The longest close() waits for its workers before it returns: a container runtime must give the
   * process at least this long between its stop signal and a kill (compose's {@code
   * stop_grace_period}), or a worker is killed inside a transaction it could have committed.
   */
  public static final Duration LONGEST_CLOSE = CLOSE_TIMEOUT.plus(AFTER_INTERRUPT);

  private final GeneratorConfig config;
  private final Map<String, Object> kafkaClientProperties;
  private final BackendRegistry backends;
  private final BatchProcessor processor;
  private final BackendCallWatch watch;
  private final GeneratorMetrics metrics;
  private final Clock clock;
  private final Duration closeTimeout;

  /**
   * Why this pool cannot serve what it is meant to whatever it does (a backend it answers alone, or
   * the DJL backend of a GPU pool, is not configured), or empty.
   */
  private final Optional<String> misconfigured;

  private final List<GenerationWorker> workers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private boolean started;
  private WarmUpOnce warmUp;
  private volatile boolean closed;

  /** Worker threads started and not yet ended; the last to end after close() closes backends. */
  private final AtomicInteger liveWorkers = new AtomicInteger();

  private final AtomicBoolean backendsClosed = new AtomicBoolean();

  /** How long a failed hand-over between worker pools waits before it is tried again. */
  static final Duration HANDOVER_RETRY = Duration.ofSeconds(5);

  /**
   * @param kafkaClientProperties client settings shared by consumers and producers; at least {@code
   *     bootstrap.servers} (security settings go here too)
   * @param registry where the generator's meters go
   */
  public GeneratorService(
      GeneratorConfig config, Map<String, Object> kafkaClientProperties, MeterRegistry registry) {
    this(config, kafkaClientProperties, registry, Clock.systemUTC());
  }

  GeneratorService(
      GeneratorConfig config,
      Map<String, Object> kafkaClientProperties,
      MeterRegistry registry,
      Clock clock) {
    this(
        config,
        kafkaClientProperties,
        registry,
        clock,
        keys -> Backends.create(config, keys, clock),
        CLOSE_TIMEOUT);
  }

  /**
   * @param backendsFor the backends, from the resolved provenance keys (tests give their own)
   * @param closeTimeout how long {@link #close()} waits for the workers to stop before it
   *     interrupts them
   */
  GeneratorService(
      GeneratorConfig config,
      Map<String, Object> kafkaClientProperties,
      MeterRegistry registry,
      Clock clock,
      Function<ProvenanceKeys, BackendRegistry> backendsFor,
      Duration closeTimeout) {
    Object servers = kafkaClientProperties.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG);
    if (servers == null || servers.toString().isBlank()) {
      throw new IllegalArgumentException(
          "kafkaClientProperties must contain bootstrap.servers (host:port of the Kafka cluster)");
    }
    this.config = config;
    this.kafkaClientProperties = Map.copyOf(kafkaClientProperties);
    this.clock = clock;
    this.closeTimeout = closeTimeout;
    ProvenanceKeys keys = config.resolveKeys();
    this.backends = backendsFor.apply(keys);
    this.metrics = new GeneratorMetrics(registry);
    metrics.workersConfigured(config.workers());
    backends.all().forEach(metrics::backendReadiness);
    List<String> missing = Backends.expectedButNotConfigured(config, backends);
    missing.forEach(metrics::backendNotConfigured);
    this.misconfigured =
        missing.isEmpty()
            ? Optional.empty()
            : Optional.of(
                "backend "
                    + missing.get(0)
                    + " is not configured on this generator, which is meant to serve it ("
                    + Backends.whyExpected(config, missing.get(0))
                    + "); set "
                    + backends.settingToEnable(missing.get(0)).orElseThrow()
                    + " and restart it");
    misconfigured.ifPresent(reason -> LOG.error("Generator misconfigured: {}", reason));
    this.watch = new BackendCallWatch(config.hungCallBound(), System::nanoTime);
    backends.names().forEach(name -> metrics.hungCalls(watch, name));
    this.processor =
        new BatchProcessor(
            config,
            backends,
            new OutputAssembler(
                new ManifestSigner(keys.signing()), config.cpuWatts(), config.gpuWatts()),
            metrics,
            clock,
            duration -> Thread.sleep(duration.toMillis()),
            watch);
    LOG.info("Generator configured: {}; backends {}", config, backends.names());
  }

  /** Starts the worker threads and returns; models load on the worker threads before they poll. */
  public synchronized void start() {
    if (started) {
      throw new IllegalStateException("GeneratorService was already started");
    }
    started = true;
    WarmUpOnce warmUpOnce = new WarmUpOnce(backends);
    warmUp = warmUpOnce;
    HandOverOnce handOver = new HandOverOnce();
    Runnable beforeSubscribe =
        () -> {
          warmUpOnce.run();
          handOver.run();
        };
    BatchOffsetLookup offsetLookup =
        BatchOffsetLookup.ofCluster(
            kafkaClientProperties, "genguard-generator-" + config.instanceId() + "-lookup", clock);
    for (int i = 0; i < config.workers(); i++) {
      String name = "generator-" + config.instanceId() + "-" + i;
      String transactionalId = "genguard-" + name;
      GenerationWorker worker =
          new GenerationWorker(
              name,
              new KafkaConsumer<>(consumerProperties(name)),
              () -> new KafkaProducer<>(producerProperties(name, transactionalId)),
              processor,
              metrics,
              config.maxBatchSize(),
              config.maxBatchWait(),
              clock,
              beforeSubscribe,
              config.routing(),
              checked -> {
                Map<String, Object> reader =
                    UnreadableBatches.readerProperties(
                        kafkaClientProperties, "genguard-" + name + "-unchecked");
                return new KafkaConsumer<>(
                    checked ? UnreadableBatches.checkingReaderProperties(reader) : reader);
              },
              offsetLookup);
      liveWorkers.incrementAndGet();
      Thread thread =
          new Thread(
              () -> {
                try {
                  worker.run();
                } finally {
                  workerEnded();
                }
              },
              "genguard-" + name);
      thread.setDaemon(false);
      workers.add(worker);
      threads.add(thread);
      thread.start();
    }
  }

  /**
   * Whether the models are loaded (or trained) and the workers can serve: false before start, while
   * the models load, and after a failed warm-up until every backend whose model did not load has
   * loaded it since (its own retries; {@link GenerationBackend#ready()}).
   */
  public boolean warmedUp() {
    return whyNotWarmedUp().isEmpty();
  }

  /**
   * Why {@link #warmedUp()} is false, or empty when it is true. Names the backend whose model did
   * not load, not the error (the log has it), or the backend a worker has been inside for longer
   * than {@code HUNG_CALL_MS} and for how long: the readiness endpoint shows this text.
   */
  public Optional<String> whyNotWarmedUp() {
    if (misconfigured.isPresent()) {
      return misconfigured;
    }
    Optional<String> hung = whyHung();
    if (hung.isPresent()) {
      return hung;
    }
    WarmUpOnce current;
    synchronized (this) {
      current = warmUp;
    }
    return current == null ? Optional.of("the generator has not started") : current.whyNot();
  }

  /**
   * Whether the process can still serve: some worker runs and none has been inside one backend call
   * for longer than {@code HUNG_CALL_MS}. A hung forward pass ignores interrupts and holds its
   * worker, its partitions and its transaction; only a restart ends it, so {@code /health} answers
   * 503 for it (a liveness probe restarts the process; compose only marks it unhealthy).
   */
  public boolean healthy() {
    return runningWorkers() > 0 && whyHung().isEmpty();
  }

  /**
   * Why a worker counts as hung: which backend it has been inside and for how long, or empty. The
   * watch only reports: it never ends the call, the worker or a transaction. None is open anyway: a
   * worker generates before it opens the batch's transaction, and the batch's offsets are committed
   * only with its events. If the call returns, the batch commits as usual; if the process is
   * restarted, the next owner of the partitions (the restarted worker, or another member of the
   * group) reads the batch again from the committed offsets, so no request is lost or answered
   * twice.
   */
  public Optional<String> whyHung() {
    return watch
        .longestHung()
        .map(
            hung ->
                "worker "
                    + hung.worker()
                    + " has been inside a call to backend "
                    + hung.backend()
                    + " (a batch of "
                    + hung.requests()
                    + ") for "
                    + hung.inside().toSeconds()
                    + " s, longer than "
                    + GeneratorConfig.Keys.HUNG_CALL_MS
                    + " ("
                    + watch.bound().toSeconds()
                    + " s): a forward pass or server call that does not return; restart the"
                    + " generator");
  }

  /** The backends this service offers, by name. */
  public List<String> backendNames() {
    return List.copyOf(backends.names());
  }

  /** How many worker threads are still running. */
  public synchronized int runningWorkers() {
    return (int) threads.stream().filter(Thread::isAlive).count();
  }

  /**
   * Stops polling, lets every worker finish and commit its in-flight batch, and closes clients and
   * backends; waits at most about 12 seconds (10 for the workers to stop, then 2 more for those it
   * interrupted). A backend is never closed under a worker that may still use it: a worker still
   * running then (a forward pass or a server call that ignores the interrupt) keeps the backends
   * open, which is logged and counted ({@link GeneratorMetrics#BACKENDS_LEFT_OPEN}), and the last
   * such worker to end closes them. Closing a DJL model or an ONNX session under a running forward
   * pass can crash the JVM or corrupt the output; a process that exits meanwhile releases them with
   * the process.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    workers.forEach(GenerationWorker::stop);
    long deadline = System.nanoTime() + closeTimeout.toNanos();
    List<Thread> interrupted = new ArrayList<>();
    for (Thread thread : threads) {
      try {
        thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (thread.isAlive()) {
        LOG.warn(
            "Worker thread {} did not stop within {}; its open transaction will be aborted by"
                + " the broker or by its successor",
            thread.getName(),
            closeTimeout);
        thread.interrupt();
        interrupted.add(thread);
      }
    }
    long afterInterrupt = System.nanoTime() + AFTER_INTERRUPT.toNanos();
    for (Thread thread : interrupted) {
      try {
        thread.join(Math.max(1, (afterInterrupt - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    int running = liveWorkers.get();
    if (running == 0) {
      closeBackends();
    } else {
      metrics.backendsLeftOpen();
      LOG.error(
          "{} worker thread(s) still run after {} and an interrupt (a forward pass or a backend"
              + " call that does not return); the backends stay open under them, and the last of"
              + " them to end closes them",
          running,
          closeTimeout);
    }
  }

  /** Whether the backends were closed (by close(), or by the last worker to end after it). */
  boolean backendsClosed() {
    return backendsClosed.get();
  }

  /** Ends one worker thread; the last one to end after close() closes the backends. */
  private void workerEnded() {
    if (liveWorkers.decrementAndGet() == 0 && closed) {
      closeBackends();
    }
  }

  private void closeBackends() {
    if (backendsClosed.compareAndSet(false, true)) {
      backends.close();
    }
  }

  private Map<String, Object> consumerProperties(String clientId) {
    Map<String, Object> properties =
        ClientProperties.forClient(kafkaClientProperties, ConsumerConfig.configNames());
    properties.put(
        ConsumerConfig.GROUP_ID_CONFIG, config.routing().readingGroup(config.consumerGroup()));
    properties.put(ConsumerConfig.CLIENT_ID_CONFIG, "genguard-" + clientId);
    // Static membership: a restarted worker (same instance id and index) takes over its
    // predecessor's partitions at once instead of after the predecessor's session times out.
    properties.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "genguard-" + clientId);
    properties.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 15_000);
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    properties.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxBatchSize());
    // A batch may take maxBatchSize request budgets (built-in backends serve one at a time).
    long batchBudget = config.requestTimeout().toMillis() * config.maxBatchSize() + 60_000;
    properties.put(
        ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
        (int) Math.min(Integer.MAX_VALUE, Math.max(300_000, batchBudget)));
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return properties;
  }

  private Map<String, Object> producerProperties(String clientId, String transactionalId) {
    Map<String, Object> properties =
        ClientProperties.forClient(kafkaClientProperties, ProducerConfig.configNames());
    properties.put(ProducerConfig.CLIENT_ID_CONFIG, "genguard-" + clientId);
    properties.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    properties.put(ProducerConfig.ACKS_CONFIG, "all");
    properties.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return properties;
  }

  /** Loads models once, on whichever worker thread gets there first; the others wait for it. */
  /**
   * Hands {@code gen.requests} over between pools that split the backends, once per process, before
   * the first worker reads ({@link PoolHandover}): a main pool that leaves backends seeds their
   * pool's new group with its own offsets; a pool that answers only some waits for that seed. Runs
   * on a worker thread. A failed Kafka call (a broker away, a missing permission) is logged and
   * tried again every {@link #HANDOVER_RETRY}, rather than ending the worker; a stop ends the
   * retries and the wait. {@link GeneratorMetrics#HANDOVER_WAITING} is 1 meanwhile.
   */
  private final class HandOverOnce implements Runnable {
    private boolean done;

    @Override
    public synchronized void run() {
      PoolRouting routing = config.routing();
      if (done || routing.answersAll()) {
        return;
      }
      String mainGroup = config.consumerGroup();
      metrics.handoverWaiting(true);
      try (Admin admin =
          Admin.create(
              ClientProperties.forClient(kafkaClientProperties, AdminClientConfig.configNames()))) {
        while (!done && !closed) {
          try {
            if (routing.onlyBackends().isEmpty()) {
              PoolHandover.seedIfNew(
                  admin, mainGroup, PoolRouting.sideGroup(mainGroup, routing.leftBackends()));
              done = true;
            } else {
              done =
                  PoolHandover.awaitSeeded(
                      admin,
                      routing.readingGroup(mainGroup),
                      mainGroup,
                      Duration.ofSeconds(1),
                      () -> closed);
            }
          } catch (ExecutionException | KafkaException e) {
            LOG.warn(
                "Cannot hand gen.requests over between the worker pools yet ({}); trying again in"
                    + " {} s",
                e.getCause() == null ? e.toString() : e.getCause().toString(),
                HANDOVER_RETRY.toSeconds());
            Thread.sleep(HANDOVER_RETRY.toMillis());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        metrics.handoverWaiting(false);
      }
    }
  }

  static final class WarmUpOnce implements Runnable {
    private final BackendRegistry backends;
    private volatile boolean done;

    /** The backends whose model did not load at warm-up. */
    private volatile List<GenerationBackend> failed = List.of();

    WarmUpOnce(BackendRegistry backends) {
      this.backends = backends;
    }

    @Override
    public synchronized void run() {
      if (!done) {
        failed = List.copyOf(backends.warmUp());
        done = true;
      }
    }

    /** Why the workers cannot all serve yet, or empty; never loads anything. */
    Optional<String> whyNot() {
      if (!done) {
        return Optional.of("the models are loading");
      }
      for (GenerationBackend backend : failed) {
        if (!backend.ready()) {
          return Optional.of(
              "backend "
                  + backend.name()
                  + " could not load its model at warm-up and has not loaded it since (the"
                  + " generator log says why; it retries on its own)");
        }
      }
      // A backend that loaded but broke since: a DJL forward pass that failed in the engine, an
      // openai server that answers 404 for the default model.
      for (GenerationBackend backend : backends.all()) {
        if (!backend.ready()) {
          return Optional.of(
              "backend " + backend.name() + " is not ready (the generator log says why)");
        }
      }
      return Optional.empty();
    }
  }

  /** Builds the configured backends. */
  static final class Backends {
    private Backends() {}

    /**
     * The backends this pool is meant to serve but that are not configured: those it answers alone
     * ({@code ONLY_BACKENDS}), and djl where {@code DJL_DEVICE} is gpu. Before the forty-first
     * session such a pool started as if nothing were wrong and answered every request it took
     * {@code unknown_backend}, which no alert counts.
     */
    static List<String> expectedButNotConfigured(GeneratorConfig config, BackendRegistry backends) {
      List<String> missing = new ArrayList<>();
      for (String name : PoolRouting.KNOWN_BACKENDS) {
        if (!whyExpected(config, name).isEmpty() && backends.settingToEnable(name).isPresent()) {
          missing.add(name);
        }
      }
      return missing;
    }

    /** Why this pool is meant to serve backend {@code name}, or an empty string. */
    static String whyExpected(GeneratorConfig config, String name) {
      if (config.routing().onlyBackends().contains(name)) {
        return "it answers only " + new java.util.TreeSet<>(config.routing().onlyBackends());
      }
      if (name.equals(GeneratorConfig.BACKEND_DJL) && config.djlDevice().equals("gpu")) {
        return GeneratorConfig.Keys.DJL_DEVICE + " is gpu";
      }
      return "";
    }

    static BackendRegistry create(GeneratorConfig config, ProvenanceKeys keys, Clock clock) {
      List<GenerationBackend> backends = new ArrayList<>();
      Map<String, String> notConfigured = new HashMap<>();
      var watermarkKey = config.watermarkEnabled() ? keys.watermark().active() : null;
      backends.add(
          new BuiltinBackend(
              config.cacheDirectory(),
              config.builtinOrder(),
              config.builtinMinimumCount(),
              watermarkKey,
              config.watermark(),
              clock));
      if (config.echoEnabled()) {
        backends.add(new EchoBackend());
      } else {
        notConfigured.put(
            GeneratorConfig.BACKEND_ECHO, GeneratorConfig.Keys.ECHO_ENABLED + "=true");
      }
      if (config.openAiBaseUrl() != null) {
        backends.add(
            new OpenAiCompatibleBackend(
                config.openAiBaseUrl(),
                config.openAiApiKey(),
                config.openAiModel(),
                config::openAiModelAllowed,
                config.openAiChat(),
                config.openAiTimeout(),
                clock));
      } else {
        notConfigured.put(GeneratorConfig.BACKEND_OPENAI, GeneratorConfig.Keys.OPENAI_BASE_URL);
      }
      if (config.djlModelPath() != null) {
        backends.add(
            new DjlBackend(
                config.djlModelPath(),
                config.djlDevice(),
                config.djlMaxBatchSize(),
                config.djlMaxContextTokens(),
                watermarkKey,
                config.watermark(),
                clock));
      } else {
        notConfigured.put(GeneratorConfig.BACKEND_DJL, GeneratorConfig.Keys.DJL_MODEL_PATH);
      }
      if (notConfigured.containsKey(config.defaultBackend())) {
        throw new IllegalArgumentException(
            GeneratorConfig.Keys.DEFAULT_BACKEND
                + " is "
                + config.defaultBackend()
                + " but that backend is not configured; set "
                + notConfigured.get(config.defaultBackend()));
      }
      return new BackendRegistry(backends, config.defaultBackend(), notConfigured);
    }
  }
}
