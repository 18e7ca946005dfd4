package io.genguard.moderation.gate;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.moderation.pipeline.ContentModerator;
import io.genguard.moderation.pipeline.ModeratorMicrobenchmark;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.schemas.Topics;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Not a test: a main that times the release gate's per-output work on the plumbing benchmark's
 * outputs (local-stack's PlumbingBenchmark: the same 100-token text, tenant "bench") and the
 * verdicts the moderator gives them (the trivial benchmark scorer, the default policy: {@link
 * ModeratorMicrobenchmark#moderator}), an output and then its verdict per request, and prints the
 * calling thread's CPU per output and a digest of what the gate wrote, so that two builds can be
 * shown to write byte-identically. Two modes (the first argument):
 *
 * <ul>
 *   <li>{@code processor} (the default): the processor driven directly, in a {@code
 *       MockProcessorContext}, on a RocksDB store as the topology's but without its changelog (the
 *       mock context has none): its own work per output, the store's writes included, and then one
 *       sweep of the store (the decided markers of every round, none due at the fixed clock), timed
 *       per entry read. The digest covers the outcomes forwarded and the entries stored.
 *   <li>{@code driver}: the whole topology in Kafka Streams' TopologyTestDriver, which commits
 *       after every record (it flushes the RocksDB store and writes a checkpoint each time, what a
 *       stream thread does every 100 ms), so that commit is most of the time. The digest covers the
 *       outcomes and the store's changelog. Neither mode is a throughput figure of the stack.
 * </ul>
 *
 * <p>Run it with the module's test classpath ({@code mvn -o -q test-compile
 * dependency:build-classpath -pl moderation-stream -am -Dmdep.outputFile=cp.txt
 * -Dmdep.includeScope=test}, then {@code java -Dkeys=DIR -cp
 * moderation-stream/target/test-classes:moderation-stream/target/classes:$(cat
 * moderation-stream/cp.txt) io.genguard.moderation.gate.ReleaseGateMicrobenchmark [MODE [ROUNDS
 * [OUTPUTS]]]}), with the same key folder DIR for two builds whose digests are compared.
 */
public final class ReleaseGateMicrobenchmark {
  private static final Instant NOW = Instant.parse("2026-12-07T00:00:00Z");
  private static final String TEXT =
      String.join(
          " ",
          Collections.nCopies(
              10, "the committee discussed the budget for the coming year and agreed on"));
  private static final int DIGESTED = 1_000;

  private ReleaseGateMicrobenchmark() {}

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "processor";
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    int perRound = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
    String keyDirectory = System.getProperty("keys");
    Path keys =
        keyDirectory == null
            ? Files.createTempDirectory("gate-microbenchmark-keys")
            : Path.of(keyDirectory);
    ProvenanceKeys.loadOrCreate(keys);
    ContentModerator moderator = ModeratorMicrobenchmark.moderator(keys);
    try {
      switch (mode) {
        case "processor" -> processor(moderator, rounds, perRound);
        case "driver" -> driver(moderator, rounds, perRound);
        default ->
            throw new IllegalArgumentException("The mode must be processor or driver, was " + mode);
      }
    } finally {
      moderator.close();
    }
  }

  /** The processor alone, in a mock context, on a RocksDB store; then one sweep of that store. */
  private static void processor(ContentModerator moderator, int rounds, int perRound)
      throws Exception {
    Path stateDir = Files.createTempDirectory("gate-microbenchmark");
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    Properties props = ReleaseGateTopology.streamsConfig("unused:9092", stateDir.toString(), 1);
    MockProcessorContext<String, byte[]> context =
        new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
    KeyValueStore<String, GateEntry> store =
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(ReleaseGateTopology.STATE_STORE),
                Serdes.String(),
                GateEntry.serde())
            .withLoggingDisabled()
            .build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    // One sweep piece long enough to read the whole store.
    ReleaseGateProcessor gate =
        new ReleaseGateProcessor(
            clock,
            GateTimings.DEFAULTS,
            ReleaseGateProcessor.MAX_HOLDS_PER_SWEEP,
            Duration.ofMinutes(10),
            GateEntry.FORMAT);
    gate.init(context);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    long outcomes = 0;
    long offset = 0;
    try {
      for (int round = 0; round <= rounds; round++) {
        // Round 0 warms up and is digested; its requests are not those of later rounds.
        int count = round == 0 ? DIGESTED : perRound;
        List<byte[][]> pairs = pairs(moderator, "r" + round, count);
        long begin = System.nanoTime();
        long cpuBegin = threads.getCurrentThreadCpuTime();
        for (byte[][] pair : pairs) {
          context.setRecordMetadata(Topics.GENERATION_OUTPUTS.name(), 0, offset);
          gate.process(new Record<>(pair[0], pair[1], NOW.toEpochMilli()));
          context.setRecordMetadata(Topics.MODERATION_VERDICTS.name(), 0, offset++);
          gate.process(new Record<>(pair[0], pair[2], NOW.toEpochMilli()));
        }
        double micros = (System.nanoTime() - begin) / 1e3 / count;
        double cpuMicros = (threads.getCurrentThreadCpuTime() - cpuBegin) / 1e3 / count;
        for (MockProcessorContext.CapturedForward<? extends String, ? extends byte[]> forward :
            context.forwarded()) {
          if (round == 0) {
            sha.update(forward.childName().orElse("").getBytes(StandardCharsets.UTF_8));
            sha.update(forward.record().key().getBytes(StandardCharsets.UTF_8));
            sha.update(forward.record().value());
          }
          outcomes++;
        }
        context.resetForwards();
        if (round == 0) {
          try (KeyValueIterator<String, GateEntry> all = store.all()) {
            while (all.hasNext()) {
              KeyValue<String, GateEntry> entry = all.next();
              sha.update(entry.key.getBytes(StandardCharsets.UTF_8));
              sha.update(GateEntry.serde().serializer().serialize("store", entry.value));
            }
          }
          System.out.println(
              "digest of outcomes and stored entries " + HexFormat.of().formatHex(sha.digest()));
        } else {
          printRound(round, micros, cpuMicros);
        }
      }
      System.out.println("records forwarded " + outcomes);
      long entries = 0;
      try (KeyValueIterator<String, GateEntry> all = store.all()) {
        for (; all.hasNext(); all.next()) {
          entries++;
        }
      }
      long begin = System.nanoTime();
      long cpuBegin = threads.getCurrentThreadCpuTime();
      // The first punctuator scheduled is the sweep (the second resumes one cut short).
      context.scheduledPunctuators().get(0).getPunctuator().punctuate(NOW.toEpochMilli());
      System.out.println(
          String.format(
              Locale.ROOT,
              "sweep of %d entries: %.3f us per entry (wall), %.3f us CPU; %d forwarded",
              entries,
              (System.nanoTime() - begin) / 1e3 / entries,
              (threads.getCurrentThreadCpuTime() - cpuBegin) / 1e3 / entries,
              context.forwarded().size()));
    } finally {
      store.close();
    }
  }

  private static void printRound(int round, double micros, double cpuMicros) {
    System.out.println(
        String.format(
            Locale.ROOT,
            "round %d: %.1f us per output (wall), %.1f us CPU of the calling thread",
            round,
            micros,
            cpuMicros));
  }

  /** The whole topology in a TopologyTestDriver, which commits after every record. */
  private static void driver(ContentModerator moderator, int rounds, int perRound)
      throws Exception {
    Path stateDir = Files.createTempDirectory("gate-microbenchmark");
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    Properties props = ReleaseGateTopology.streamsConfig("unused:9092", stateDir.toString(), 1);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (TopologyTestDriver driver =
        new TopologyTestDriver(
            ReleaseGateTopology.buildTopology(clock, GateTimings.DEFAULTS), props, NOW)) {
      TestInputTopic<String, byte[]> outputs = input(driver, Topics.GENERATION_OUTPUTS.name());
      TestInputTopic<String, byte[]> verdicts = input(driver, Topics.MODERATION_VERDICTS.name());
      List<TestOutputTopic<String, byte[]>> written = new ArrayList<>();
      for (String topic :
          List.of(
              Topics.CONTENT_RELEASED.name(),
              Topics.CONTENT_QUARANTINED.name(),
              Topics.REVIEW_PENDING.name(),
              Topics.GATE_RESTATEMENTS.name(),
              ReleaseGateTopology.CHANGELOG_TOPIC)) {
        written.add(
            driver.createOutputTopic(
                topic, Serdes.String().deserializer(), Serdes.ByteArray().deserializer()));
      }
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long outcomes = 0;
      for (int round = 0; round <= rounds; round++) {
        // Round 0 warms up and is digested; its requests are not those of later rounds.
        int count = round == 0 ? DIGESTED : perRound;
        List<byte[][]> pairs = pairs(moderator, "r" + round, count);
        long begin = System.nanoTime();
        long cpuBegin = threads.getCurrentThreadCpuTime();
        for (byte[][] pair : pairs) {
          outputs.pipeInput(key(pair), pair[1], NOW);
          verdicts.pipeInput(key(pair), pair[2], NOW);
        }
        double micros = (System.nanoTime() - begin) / 1e3 / count;
        double cpuMicros = (threads.getCurrentThreadCpuTime() - cpuBegin) / 1e3 / count;
        for (TestOutputTopic<String, byte[]> topic : written) {
          for (TestRecord<String, byte[]> record : topic.readRecordsToList()) {
            if (round == 0) {
              sha.update(record.key().getBytes(StandardCharsets.UTF_8));
              if (record.value() != null) {
                sha.update(record.value());
              }
            }
            outcomes++;
          }
        }
        if (round == 0) {
          System.out.println(
              "digest of outcomes and changelog " + HexFormat.of().formatHex(sha.digest()));
        } else {
          printRound(round, micros, cpuMicros);
        }
      }
      System.out.println("records written " + outcomes);
    }
  }

  private static String key(byte[][] pair) {
    return new String(pair[0], StandardCharsets.UTF_8);
  }

  /** Request id, encoded output and encoded verdict of {@code count} requests of {@code run}. */
  private static List<byte[][]> pairs(ContentModerator moderator, String run, int count)
      throws Exception {
    List<byte[][]> pairs = new ArrayList<>();
    List<GenerationOutput> batch = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      batch.add(output(run, i));
      if (batch.size() == 64 || i == count - 1) {
        List<ModerationVerdict> judged = moderator.moderate(batch);
        for (int j = 0; j < batch.size(); j++) {
          pairs.add(
              new byte[][] {
                batch.get(j).getRequestId().getBytes(StandardCharsets.UTF_8),
                Topics.GENERATION_OUTPUTS.codec().encode(batch.get(j)),
                Topics.MODERATION_VERDICTS.codec().encode(judged.get(j))
              });
        }
        batch.clear();
      }
    }
    return pairs;
  }

  private static TestInputTopic<String, byte[]> input(TopologyTestDriver driver, String topic) {
    return driver.createInputTopic(
        topic, Serdes.String().serializer(), Serdes.ByteArray().serializer());
  }

  /** As local-stack's PlumbingBenchmark makes them, generated at the gate's (fixed) clock. */
  private static GenerationOutput output(String run, int i) {
    String requestId = run + "-" + i;
    GenerationOutput.Builder output = ModeratorMicrobenchmark.outputBuilder(requestId, TEXT);
    return output
        .setParameters(
            SamplingParameters.newBuilder(output.getParameters()).setSeed((long) i).build())
        .setAttributes(Map.of("run", run))
        .setGeneratedAt(NOW)
        .build();
  }
}
