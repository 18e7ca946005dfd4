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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
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
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Not a test: a main that times the release gate's per-output work (its topology, processor and
 * RocksDB store run in-process by Kafka Streams' TopologyTestDriver) on the plumbing benchmark's
 * outputs (local-stack's PlumbingBenchmark: the same 100-token text, tenant "bench") and the
 * verdicts the moderator gives them (the trivial benchmark scorer, the default policy: {@link
 * ModeratorMicrobenchmark#moderator}), an output and then its verdict per request, and prints the
 * calling thread's CPU per output and a digest of every record the gate wrote (outcomes and the
 * store's changelog), so that two builds can be shown to write byte-identically. The driver commits
 * after every record and runs no transactions: fine for a CPU profile of the processor, not a
 * throughput figure of the stack. Run it with the module's test classpath ({@code mvn -o -q
 * test-compile dependency:build-classpath -pl moderation-stream -am -Dmdep.outputFile=cp.txt
 * -Dmdep.includeScope=test}, then {@code java -Dkeys=DIR -cp
 * moderation-stream/target/test-classes:moderation-stream/target/classes:$(cat
 * moderation-stream/cp.txt) io.genguard.moderation.gate.ReleaseGateMicrobenchmark [ROUNDS
 * [OUTPUTS]]}), with the same key folder DIR for two builds whose digests are compared.
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
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
    int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    String keyDirectory = System.getProperty("keys");
    Path keys =
        keyDirectory == null
            ? Files.createTempDirectory("gate-microbenchmark-keys")
            : Path.of(keyDirectory);
    ProvenanceKeys.loadOrCreate(keys);
    ContentModerator moderator = ModeratorMicrobenchmark.moderator(keys);
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
              sha.update(record.key().getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
          System.out.println(
              String.format(
                  Locale.ROOT,
                  "round %d: %.1f us per output (wall), %.1f us CPU of the calling thread",
                  round,
                  micros,
                  cpuMicros));
        }
      }
      System.out.println("records written " + outcomes);
    } finally {
      moderator.close();
    }
  }

  private static String key(byte[][] pair) {
    return new String(pair[0], java.nio.charset.StandardCharsets.UTF_8);
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
                batch.get(j).getRequestId().getBytes(java.nio.charset.StandardCharsets.UTF_8),
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
