package io.genguard.stack.bench;

import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.stack.GenGuardStack;
import io.genguard.stack.StackConfig;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Plumbing throughput of the embedded stack: generation outputs written straight to gen.outputs,
 * judged by the trivial benchmark scorer (selected explicitly: it measures the pipeline, not a
 * model), gated, and persisted. Reports outputs/s until the last verdict and gate outcome are in
 * PostgreSQL, end-to-end latency percentiles (output time to the later of the two audit records),
 * and the peak heap in use.
 */
public final class PlumbingBenchmark {
  /** What a run measured. */
  public record Result(
      int outputs,
      double rate,
      int warmupOutputs,
      double seconds,
      double outputsPerSecond,
      double p50Millis,
      double p99Millis,
      long peakHeapMiB,
      long maxHeapMiB) {
    public String json() {
      return String.format(
          Locale.ROOT,
          "{\"outputs\":%d,\"target_rate\":%.0f,\"warmup_outputs\":%d,\"seconds\":%.2f,"
              + "\"outputs_per_second\":%.0f,\"p50_ms\":%.0f,\"p99_ms\":%.0f,\"peak_heap_mib\":%d,"
              + "\"max_heap_mib\":%d}",
          outputs,
          rate,
          warmupOutputs,
          seconds,
          outputsPerSecond,
          p50Millis,
          p99Millis,
          peakHeapMiB,
          maxHeapMiB);
    }
  }

  /** Fewest warm-up rounds. */
  static final int MIN_WARMUP_ROUNDS = 4;

  /** Most warm-up rounds before measuring anyway. */
  static final int MAX_WARMUP_ROUNDS = 8;

  private PlumbingBenchmark() {}

  /**
   * @param outputs how many outputs to send
   * @param rate outputs per second to offer, or 0 for as fast as the producer goes
   * @param warmup outputs per warm-up round (sent and waited for before measuring; rounds repeat
   *     until the rate is steady, see {@link #warmUp})
   */
  public static Result run(StackConfig config, int outputs, double rate, int warmup)
      throws Exception {
    HeapSampler heap = new HeapSampler();
    try (GenGuardStack stack =
        GenGuardStack.start(config.withModerationScorer("trivial-benchmark"))) {
      // The benchmark does not generate, but the generator trains its built-in model on a fresh
      // data directory; measuring while that runs would charge its CPU to the pipeline.
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (!stack.generator().warmedUp() && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      int warmedUpWith = warmUp(stack, warmup);

      String run = "bench-" + EventIds.random();
      System.err.println("[genguard] measuring: " + outputs + " outputs");
      heap.start();
      Map<String, Long> requestsBefore = brokerRequests();
      long cpuBefore = processCpuNanos();
      Instant begin = Instant.now();
      sendAndAwait(stack, run, outputs, rate, Duration.ofMinutes(10));
      long cpuNanos = processCpuNanos() - cpuBefore;
      heap.stop();
      reportRequests(requestsBefore, brokerRequests(), outputs);
      System.err.printf(
          Locale.ROOT,
          "[genguard] stack JVM CPU while measuring: %.0f ms per 1,000 outputs%n",
          cpuNanos / 1e6 / (outputs / 1000.0));
      double[] latency = latencies(stack, run);
      // Until the last of the run's audit records was written, not until the poll that saw it.
      double seconds = Duration.between(begin, lastRecorded(stack, run)).toNanos() / 1e9;
      long max = Runtime.getRuntime().maxMemory() / (1024 * 1024);
      return new Result(
          outputs,
          rate,
          warmedUpWith,
          seconds,
          outputs / seconds,
          latency[0],
          latency[1],
          heap.peakMiB(),
          max);
    }
  }

  /**
   * The embedded broker's requests handled so far by request type (its {@code
   * kafka.network:type=RequestMetrics,name=RequestsPerSec} meters, summed over request versions),
   * read from this JVM's MBean server: the broker runs in it.
   */
  private static Map<String, Long> brokerRequests() {
    Map<String, Long> counts = new TreeMap<>();
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      for (ObjectName name :
          server.queryNames(
              new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
        long count = ((Number) server.getAttribute(name, "Count")).longValue();
        counts.merge(name.getKeyProperty("request"), count, Long::sum);
      }
    } catch (Exception e) {
      System.err.println("[genguard] broker request metrics unreadable: " + e);
    }
    return counts;
  }

  /**
   * Prints the broker's requests during the measured run per 1,000 outputs, by request type (those
   * at 1 or more), and all of them.
   */
  private static void reportRequests(
      Map<String, Long> before, Map<String, Long> after, int outputs) {
    StringBuilder line = new StringBuilder("[genguard] broker requests per 1,000 outputs:");
    long total = 0;
    for (Map.Entry<String, Long> entry : after.entrySet()) {
      long delta = entry.getValue() - before.getOrDefault(entry.getKey(), 0L);
      // FetchConsumer and FetchFollower are the Fetch requests again, split by who sent them.
      if (!entry.getKey().equals("FetchConsumer") && !entry.getKey().equals("FetchFollower")) {
        total += delta;
      }
      if (delta * 1000L / outputs >= 1) {
        line.append(
            String.format(Locale.ROOT, " %s %.0f", entry.getKey(), delta * 1000.0 / outputs));
      }
    }
    line.append(String.format(Locale.ROOT, "; all %.0f", total * 1000.0 / outputs));
    System.err.println(line);
  }

  /**
   * Sends rounds of {@code perRound} outputs, each waited for, until the pipeline runs at a steady
   * rate: after at least {@link #MIN_WARMUP_ROUNDS} rounds, a round at most 5% faster than the
   * round before (single rounds are noisy on a shared machine); at most {@link #MAX_WARMUP_ROUNDS}
   * rounds. The JIT compiler is what takes that long: it keeps compiling the broker's, Flink's and
   * the clients' hot paths for minutes. Each round reports the compilers' elapsed time ({@link
   * CompilationMXBean#getTotalCompilationTime}, summed over the compiler threads, waiting for a
   * core included) as a share of the round's: not CPU. Their CPU, read per thread with {@code
   * docs/experiments/cpu_per_process.py --threads}, was a quarter of the JVM's in the forty-eighth
   * session ({@code docs/experiments/plumbing-cpu-split-48.md}). Returns the outputs sent.
   */
  private static int warmUp(GenGuardStack stack, int perRound) throws Exception {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    int sent = 0;
    double previousRate = 0;
    for (int round = 1; perRound > 0 && round <= MAX_WARMUP_ROUNDS; round++) {
      String warmupRun = "warmup-" + EventIds.random();
      long compiling = jit.getTotalCompilationTime();
      long begin = System.nanoTime();
      sendAndAwait(stack, warmupRun, perRound, 0, Duration.ofMinutes(5));
      sent += perRound;
      double millis = (System.nanoTime() - begin) / 1e6;
      double rate = perRound / (millis / 1000);
      System.err.println(
          String.format(
              Locale.ROOT,
              "[genguard] warm-up round %d: %d outputs, %.0f outputs/s, JIT compiling %.0f%% of the"
                  + " time (elapsed, summed over compiler threads; not CPU)",
              round,
              perRound,
              rate,
              (jit.getTotalCompilationTime() - compiling) / millis * 100));
      if (round >= MIN_WARMUP_ROUNDS && rate < previousRate * 1.05) {
        break;
      }
      previousRate = rate;
    }
    return sent;
  }

  /** Sends the run's outputs and waits until each has a persisted verdict and gate outcome. */
  private static void sendAndAwait(
      GenGuardStack stack, String run, int count, double rate, Duration limit) throws Exception {
    long persisted = stack.audit().persistedCount();
    send(stack, run, count, rate);
    awaitPersisted(stack, run, count, persisted, limit);
  }

  private static void send(GenGuardStack stack, String run, int count, double rate)
      throws Exception {
    Properties props = new Properties();
    props.putAll(stack.kafkaProperties());
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (var producer =
        new KafkaProducer<>(
            props, new StringSerializer(), Topics.GENERATION_OUTPUTS.valueSerde().serializer())) {
      long begin = System.nanoTime();
      for (int i = 0; i < count; i++) {
        awaitSlot(begin, i, rate);
        GenerationOutput output = output(run, i);
        producer.send(
            new ProducerRecord<>(Topics.GENERATION_OUTPUTS.name(), output.getRequestId(), output));
      }
      producer.flush();
    }
  }

  /** An output of about 100 tokens, as the benchmark describes. */
  static GenerationOutput output(String run, int i) {
    String requestId = run + "-" + i;
    return GenerationOutput.newBuilder()
        .setEventId(EventIds.nameBased("bench-output", requestId))
        .setOutputId(EventIds.nameBased("bench-output-id", requestId))
        .setRequestId(requestId)
        .setTenantId("bench")
        .setText(TEXT)
        .setModel(
            ModelRef.newBuilder().setName("bench").setVersion("1").setBackend("bench").build())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(100)
                .setTemperature(1)
                .setTopK(0)
                .setTopP(1)
                .setSeed((long) i)
                .build())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(5)
                .setOutputTokens(100)
                .setComputeMillis(0)
                .setDevice("none")
                .setEnergyJoules(0)
                .build())
        .setAttributes(Map.of("run", run))
        .setGeneratedAt(Instant.now())
        .build();
  }

  private static final String TEXT =
      String.join(
          " ",
          java.util.Collections.nCopies(
              10, "the committee discussed the budget for the coming year and agreed on"));

  /**
   * Waits until the database holds a verdict and a gate outcome for each of the run's outputs. The
   * database is asked only once the audit ingestor has persisted enough events for that to be
   * possible (an output, a verdict and a gate outcome each): counting the run's rows scans two
   * growing tables, and polling that every few milliseconds would take CPU from the pipeline under
   * test. The run's duration comes from the audit records' own times, not from this poll.
   *
   * @param persistedBefore the ingestor's persisted count before the run's first output was sent
   */
  private static void awaitPersisted(
      GenGuardStack stack, String run, int count, long persistedBefore, Duration limit)
      throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    String sql =
        "select (select count(*) from moderation_verdict where request_id like ?),"
            + " (select count(*) from gate_outcome where request_id like ?)";
    boolean enough = false;
    while (true) {
      // Once the count was reached, ask the database each time (other events count too).
      enough = enough || stack.audit().persistedCount() - persistedBefore >= 3L * count;
      if (enough) {
        try (Connection connection = stack.audit().database().dataSource().getConnection();
            PreparedStatement statement = connection.prepareStatement(sql)) {
          statement.setString(1, run + "-%");
          statement.setString(2, run + "-%");
          try (ResultSet rs = statement.executeQuery()) {
            rs.next();
            if (rs.getLong(1) >= count && rs.getLong(2) >= count) {
              return;
            }
          }
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Benchmark run " + run + " did not finish within " + limit);
      }
      Thread.sleep(100);
    }
  }

  /** When the run's last verdict or gate outcome was recorded in the audit log. */
  private static Instant lastRecorded(GenGuardStack stack, String run) throws Exception {
    String sql =
        "select max(a.recorded_at) from audit_log a"
            + " where a.request_id like ?"
            + " and a.event_type in ('ModerationVerdict', 'ReleaseGateOutcome')";
    try (Connection connection = stack.audit().database().dataSource().getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, run + "-%");
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getObject(1, OffsetDateTime.class).toInstant();
      }
    }
  }

  /** p50 and p99 of (later of verdict and gate-outcome audit time) - output time, in ms. */
  private static double[] latencies(GenGuardStack stack, String run) throws Exception {
    String sql =
        "with per as (select o.request_id, o.generated_at,"
            + "   greatest(max(a.recorded_at) filter (where a.event_type = 'ModerationVerdict'),"
            + "            max(a.recorded_at) filter (where a.event_type = 'ReleaseGateOutcome')) as done"
            + " from generation_output o"
            + " join audit_log a on a.request_id = o.request_id"
            + " where o.request_id like ? group by o.request_id, o.generated_at)"
            + " select percentile_cont(0.5) within group (order by extract(epoch from done - generated_at)),"
            + "        percentile_cont(0.99) within group (order by extract(epoch from done - generated_at))"
            + " from per";
    try (Connection connection = stack.audit().database().dataSource().getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, run + "-%");
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return new double[] {rs.getDouble(1) * 1000, rs.getDouble(2) * 1000};
      }
    }
  }

  /** Samples heap in use (all heap pools) every 100 ms; reports the peak. */
  private static final class HeapSampler {
    private final ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "heap-sampler");
              thread.setDaemon(true);
              return thread;
            });
    private final AtomicLong peak = new AtomicLong();

    void start() {
      timer.scheduleAtFixedRate(
          () -> {
            long used = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
              if (pool.getType() == MemoryType.HEAP) {
                used += pool.getUsage().getUsed();
              }
            }
            peak.accumulateAndGet(used, Math::max);
          },
          0,
          100,
          TimeUnit.MILLISECONDS);
    }

    void stop() {
      timer.shutdownNow();
    }

    long peakMiB() {
      return peak.get() / (1024 * 1024);
    }
  }

  /**
   * Paces a sender: returns when message {@code i} is due at {@code rate} per second counted from
   * {@code begin} (System.nanoTime); at once when {@code rate} is 0 (as fast as possible).
   */
  static void awaitSlot(long begin, int i, double rate) throws InterruptedException {
    if (rate > 0) {
      long wait = begin + (long) (i * 1e9 / rate) - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
    }
  }

  /** CPU time of this JVM (broker, Flink job, gate, audit; not PostgreSQL), in nanoseconds. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
