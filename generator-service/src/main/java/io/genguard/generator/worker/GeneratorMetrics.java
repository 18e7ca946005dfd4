package io.genguard.generator.worker;

import io.genguard.generator.backend.GenerationBackend;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The generator's meters: consumer lag, batch size, generated tokens (a counter; its rate is
 * tokens/s), per-backend latency, outcomes and retries, backend readiness and held requests.
 */
public final class GeneratorMetrics {
  public static final String LAG = "genguard.generator.consumer.lag";
  public static final String BATCH_SIZE = "genguard.generator.batch.size";
  public static final String TOKENS = "genguard.generator.tokens";
  public static final String LATENCY = "genguard.generator.latency";
  public static final String REQUESTS = "genguard.generator.requests";
  public static final String RETRIES = "genguard.generator.retries";

  /**
   * 1 while this process waits for (or retries) the hand-over of gen.requests between worker pools
   * that split the backends, before its workers read; 0 otherwise.
   */
  public static final String HANDOVER_WAITING = "genguard.generator.handover.waiting";

  /**
   * Worker threads this process was configured with. The process exports {@code
   * genguard.generator.workers.running} beside it (GeneratorMain, GenGuardStack): fewer running
   * than configured means a worker ended on an error it cannot get past (its log says which).
   */
  public static final String WORKERS_CONFIGURED = "genguard.generator.workers.configured";

  /**
   * Per backend: 1 while it can serve, 0 while its model does not load (the last attempt failed; it
   * is retried with back-off).
   */
  public static final String BACKEND_READY = "genguard.generator.backend.ready";

  /**
   * Per worker: 1 while it leaves gen.requests unread in Kafka because a backend its pool answers
   * alone cannot serve ({@link GenerationWorker}); 0 otherwise.
   */
  public static final String HOLDING = "genguard.generator.holding";

  /**
   * Closes of the generator that left its backends open because a worker thread still ran after the
   * close's wait and an interrupt (a forward pass or a backend call that does not return); the last
   * such worker to end closes them. Above 0: look for a hung backend call in the log.
   */
  public static final String BACKENDS_LEFT_OPEN = "genguard.generator.backends.left.open";

  /**
   * Per backend: worker threads inside one call to it for longer than {@code
   * GENGUARD_GENERATOR_HUNG_CALL_MS} ({@link BackendCallWatch}); above 0 the generator is not ready
   * and its /health fails. Read on each scrape.
   */
  public static final String HUNG_CALLS = "genguard.generator.backend.calls.hung";

  private final MeterRegistry registry;
  private final DistributionSummary batchSize;
  private final ConcurrentHashMap<String, AtomicLong> lagByWorker = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> holdingByWorker = new ConcurrentHashMap<>();
  private final AtomicLong handoverWaiting = new AtomicLong();
  private final AtomicLong workersConfigured = new AtomicLong();

  public GeneratorMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.batchSize =
        DistributionSummary.builder(BATCH_SIZE)
            .description("Requests per micro-batch (and per Kafka transaction)")
            .register(registry);
    Gauge.builder(HANDOVER_WAITING, handoverWaiting, AtomicLong::get)
        .description("1 while the workers wait for gen.requests to be handed over between pools")
        .register(registry);
    Gauge.builder(WORKERS_CONFIGURED, workersConfigured, AtomicLong::get)
        .description("Generator worker threads this process was configured with")
        .register(registry);
  }

  public void workersConfigured(int count) {
    workersConfigured.set(count);
  }

  public void handoverWaiting(boolean waiting) {
    handoverWaiting.set(waiting ? 1 : 0);
  }

  /** The lag holder of one worker: records behind the end of its assigned partitions. */
  public AtomicLong lagOf(String worker) {
    return workerGauge(
        lagByWorker, LAG, "Records of gen.requests not yet consumed by this worker", worker);
  }

  /** The holding flag of one worker (1 while it holds its requests in Kafka). */
  public AtomicLong holdingOf(String worker) {
    return workerGauge(
        holdingByWorker,
        HOLDING,
        "1 while this worker leaves gen.requests in Kafka because a backend its pool answers alone"
            + " cannot load its model",
        worker);
  }

  /** The holder of one worker's gauge {@code name}, registered with its first use. */
  private AtomicLong workerGauge(
      ConcurrentHashMap<String, AtomicLong> holders,
      String name,
      String description,
      String worker) {
    return holders.computeIfAbsent(
        worker,
        tag -> {
          AtomicLong holder = new AtomicLong();
          Gauge.builder(name, holder, AtomicLong::get)
              .description(description)
              .tag("worker", tag)
              .register(registry);
          return holder;
        });
  }

  /** Registers a backend's readiness: 1 while it can serve, 0 while its model does not load. */
  public void backendReadiness(GenerationBackend backend) {
    // The gauge reads the backend itself, which the registry of backends holds for the process's
    // life (a gauge keeps only a weak reference to what it reads).
    Gauge.builder(BACKEND_READY, backend, measured -> measured.ready() ? 1 : 0)
        .description("1 while the backend can serve, 0 while its model does not load")
        .tag("backend", backend.name())
        .register(registry);
  }

  /** Registers the count of hung calls into {@code backend} that {@code watch} sees. */
  public void hungCalls(BackendCallWatch watch, String backend) {
    // The service holds the watch for the process's life (a gauge keeps a weak reference).
    Gauge.builder(HUNG_CALLS, watch, measured -> measured.hungCalls(backend))
        .description(
            "Worker threads inside one call to the backend for longer than"
                + " GENGUARD_GENERATOR_HUNG_CALL_MS (a forward pass or server call that does not"
                + " return)")
        .tag("backend", backend)
        .register(registry);
  }

  /** Counts a close that left the backends open for a worker still running. */
  public void backendsLeftOpen() {
    Counter.builder(BACKENDS_LEFT_OPEN)
        .description(
            "Closes that left the backends open for a worker thread still running (a hung call)")
        .register(registry)
        .increment();
  }

  /**
   * Registers the readiness of a backend this pool is meant to serve but does not have (a GPU pool
   * without {@code DJL_MODEL_PATH}): always 0, so GenGuardGeneratorBackendNotReady fires.
   */
  public void backendNotConfigured(String backend) {
    Gauge.builder(BACKEND_READY, () -> 0)
        .description("1 while the backend can serve, 0 while its model does not load")
        .tag("backend", backend)
        .strongReference(true)
        .register(registry);
  }

  public void batch(int size) {
    batchSize.record(size);
  }

  /**
   * Counts what a backend spent on one request; the worker calls it once the request's event is
   * committed, so a batch that is aborted and read again counts once.
   */
  public void generated(BatchProcessor.Usage usage) {
    generated(usage.backend(), usage.tokens(), usage.latency());
  }

  public void generated(String backend, int tokens, Duration latency) {
    Counter.builder(TOKENS)
        .description("Generated tokens")
        .tag("backend", backend)
        .register(registry)
        .increment(tokens);
    Timer.builder(LATENCY)
        .description("Time a backend took per request")
        .tag("backend", backend)
        .register(registry)
        .record(latency);
  }

  /** Counts a request's outcome: output, failure (with its code) or dead_letter. */
  public void outcome(String outcome, String code) {
    Counter.builder(REQUESTS)
        .tag("outcome", outcome)
        .tag("code", code)
        .register(registry)
        .increment();
  }

  public void retry(String backend) {
    Counter.builder(RETRIES).tag("backend", backend).register(registry).increment();
  }
}
