package io.genguard.moderation.pipeline;

import io.genguard.events.v1.GenerationCost;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.RuleFindings;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.TrivialBenchmarkScorer;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkParameters;
import io.genguard.schemas.EventIds;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Not a test: a main that times the moderation operator's per-output work ({@link
 * ContentModerator#moderate}) on the plumbing benchmark's outputs (local-stack's PlumbingBenchmark:
 * the same 100-token text, the trivial benchmark scorer, the default policy, a watermark key held
 * but no manifest), and prints a digest of the verdicts' bytes so that two builds can be shown to
 * decide byte-identically. Run it with the module's test classpath (its test and main classes and
 * {@code mvn -o -q dependency:build-classpath -pl moderation-stream -Dmdep.outputFile=cp.txt},
 * which names the upstream modules' jars in ~/.m2: {@code mvn -o -q install -DskipTests} first):
 * {@code java -Dkeys=DIR -cp ... io.genguard.moderation.pipeline.ModeratorMicrobenchmark [ROUNDS]},
 * with the same key folder DIR for the two builds whose digests are compared.
 */
public final class ModeratorMicrobenchmark {
  private static final String PLUMBING_TEXT =
      String.join(
          " ",
          Collections.nCopies(
              10, "the committee discussed the budget for the coming year and agreed on"));

  /** Other texts, for the digest only: they reach other reasons (short, groups, threats). */
  private static final List<String> VARIED =
      List.of(
          "ok",
          "",
          "I will kill you tomorrow at your house.",
          "Women and immigrants from Mexico are always lazy, everyone knows that.",
          "the the the the the the the the the the the the the the the the the the the the the the"
              + " the the the the the the the the the the the the the the the the the the the",
          "Here is the recipe: mix flour, water and salt, then bake for 30 minutes.",
          "Muslims, Jews and Christians met at the town hall to discuss the new library.",
          // Normalizing changes more than case here: the checks that read the words once
          // normalized (NormalizedText) must decide as they did from the raw text.
          "I\u2019ll k\u0456ll y\u043Eu, I won't stop. RT @someone: see http://t.co/x &amp; soooooo",
          "Der Hund l\u00E4uft schnell \u00FCber die gro\u00DFe Wiese hinter dem alten Bauernhaus.",
          "\uFF37\uFF4F\uFF4D\uFF45\uFF4E are all the same,\n\nthose immigrants\tshould leave.",
          String.join(
              " ",
              Collections.nCopies(
                  12, "Those gay men are always like that, and black people never work hard.")));

  private static final int BATCH = 64;

  private ModeratorMicrobenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int perRound = 20_000;
    // A fixed key directory (-Dkeys=DIR, created when absent), so that two runs, of two builds,
    // detect the watermark with the same key and their digests can be compared.
    String keyDirectory = System.getProperty("keys");
    Path keys =
        keyDirectory == null
            ? Files.createTempDirectory("moderator-microbenchmark")
            : Path.of(keyDirectory);
    ProvenanceKeys.loadOrCreate(keys);
    ContentModerator moderator = moderator(keys);
    System.out.println("plumbing digest " + digest(moderator, List.of(PLUMBING_TEXT), 200));
    System.out.println("varied digest   " + digest(moderator, VARIED, VARIED.size()));
    List<GenerationOutput> batch = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      batch.add(output("bench-" + i, PLUMBING_TEXT));
    }
    // Thread CPU time as well as wall time: the machine is shared, and the wall time counts the
    // time other processes had the core.
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sink = 0;
    for (int round = 0; round < rounds; round++) {
      long begin = System.nanoTime();
      long cpuBegin = threads.getCurrentThreadCpuTime();
      for (int i = 0; i < perRound / BATCH; i++) {
        sink += moderator.moderate(batch).size();
      }
      int done = perRound / BATCH * BATCH;
      double micros = (System.nanoTime() - begin) / 1e3 / done;
      double cpuMicros = (threads.getCurrentThreadCpuTime() - cpuBegin) / 1e3 / done;
      System.out.println(
          String.format(
              Locale.ROOT,
              "round %d: %.1f us per output (wall), %.1f us CPU of the calling thread",
              round + 1,
              micros,
              cpuMicros));
    }
    System.out.println("verdicts " + sink);
    moderator.close();
  }

  private static String digest(ContentModerator moderator, List<String> texts, int count)
      throws Exception {
    List<GenerationOutput> outputs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      outputs.add(output("digest-" + i, texts.get(i % texts.size())));
    }
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (ModerationVerdict verdict : moderator.moderate(outputs)) {
      sha.update(VerdictBytes.encode(verdict));
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The moderator the benchmark times (the gate's microbenchmark takes its verdicts from it). */
  public static ContentModerator moderator(Path keyDirectory) {
    PolicySet policy = PolicyLoader.loadDefault();
    BiasAnalyzer bias = BiasAnalyzer.loadDefault();
    Map<String, String> versions = new LinkedHashMap<>(bias.versions());
    versions.put("provenance", WatermarkParameters.SCHEME);
    versions.put("watermark-detector", WatermarkDetector.VERSION);
    versions.put("screening", "text-screening-2");
    versions.putAll(RuleFindings.versions());
    return new ContentModerator(
        TrivialBenchmarkScorer::new,
        PolicyEngine.of(policy),
        TextScreening.defaults(),
        bias,
        new ProvenanceChecker(ProvenanceKeys.forVerifier(Map.of(), keyDirectory)),
        versions,
        ModerationPipelines.SCORER_TIMEOUT,
        Clock.fixed(Instant.parse("2026-12-07T00:00:00Z"), ZoneOffset.UTC));
  }

  private static GenerationOutput output(String requestId, String text) {
    return outputBuilder(requestId, text)
        .setAttributes(Map.of("run", "micro"))
        .setGeneratedAt(Instant.parse("2026-12-07T00:00:00Z"))
        .build();
  }

  /**
   * An output shaped as local-stack's {@code PlumbingBenchmark} sends them (seed 0), for the
   * microbenchmarks of this module's tests; the caller sets its attributes and generation time.
   */
  public static GenerationOutput.Builder outputBuilder(String requestId, String text) {
    return GenerationOutput.newBuilder()
        .setEventId(EventIds.nameBased("bench-output", requestId))
        .setOutputId(EventIds.nameBased("bench-output-id", requestId))
        .setRequestId(requestId)
        .setTenantId("bench")
        .setText(text)
        .setModel(
            ModelRef.newBuilder().setName("bench").setVersion("1").setBackend("bench").build())
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(100)
                .setTemperature(1)
                .setTopK(0)
                .setTopP(1)
                .setSeed(0L)
                .build())
        .setCost(
            GenerationCost.newBuilder()
                .setPromptTokens(5)
                .setOutputTokens(100)
                .setComputeMillis(0)
                .setDevice("none")
                .setEnergyJoules(0)
                .build());
  }
}
