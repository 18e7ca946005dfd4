package io.genguard.generator.bench;

import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.SamplingSettings;
import io.genguard.generator.builtin.BuiltinBackend;
import io.genguard.generator.builtin.BuiltinModelStore;
import io.genguard.generator.builtin.KneserNeyModel;
import io.genguard.generator.djl.DjlBackend;
import io.genguard.generator.djl.TorchScriptLanguageModelWriter;
import io.genguard.provenance.text.EuroparlCorpus;
import io.genguard.provenance.text.WordTokenizer;
import io.genguard.provenance.watermark.DetectionStatus;
import io.genguard.provenance.watermark.WatermarkDetection;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import io.genguard.provenance.watermark.WatermarkParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measures the generator: built-in model tokens/s on one thread; watermark detection quality on the
 * built-in model (true positives on watermarked samples, false positives on unwatermarked samples
 * and on held-out human-written Europarl text, and true positives after replacing 10% and 30% of
 * the words at random) at 50, 100 and 200 tokens and z = 4; and DJL CPU throughput at batch 1 vs
 * batch 8 on a synthetic TorchScript model. A command, not a test: results go to the README.
 *
 * <pre>
 *   mvn -q -pl generator-service exec:java -Dexec.mainClass=io.genguard.generator.bench.GeneratorBenchmark \
 *       [-Dexec.args="--samples 200 --cache-dir target/bench-cache"]
 * </pre>
 */
public final class GeneratorBenchmark {
  private static final double Z_THRESHOLD = 4.0;
  private static final int[] LENGTHS = {50, 100, 200};

  private GeneratorBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    int samples = 200;
    Path cacheDirectory = Path.of("target", "bench-cache");
    boolean skipDjl = false;
    boolean skipBuiltin = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--samples" -> samples = Integer.parseInt(args[++i]);
        case "--cache-dir" -> cacheDirectory = Path.of(args[++i]);
        case "--skip-djl" -> skipDjl = true;
        case "--djl-only" -> skipBuiltin = true;
        default ->
            throw new IllegalArgumentException(
                "Unknown argument "
                    + args[i]
                    + "; use --samples N, --cache-dir DIR, --skip-djl, --djl-only");
      }
    }
    System.out.printf(
        Locale.ROOT,
        "GenGuard generator benchmark (%d cores, Java %s)%n%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));

    long loadStarted = System.nanoTime();
    BuiltinModelStore.Loaded loaded = BuiltinModelStore.loadOrTrain(cacheDirectory, 3, 2);
    System.out.printf(
        Locale.ROOT,
        "Built-in model %s %s: %d words, %s in %.1f s%n%n",
        loaded.name(),
        loaded.version(),
        loaded.model().vocabularySize(),
        loaded.trained() ? "trained" : "loaded",
        (System.nanoTime() - loadStarted) / 1e9);
    // A fixed key, so that a rerun reproduces the detection numbers exactly.
    WatermarkKey key =
        new WatermarkKey(
            "bench",
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(
                    "genguard benchmark watermark key"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    if (skipBuiltin) {
      djlBatching(loaded.model(), key);
      return;
    }
    BuiltinBackend backend =
        new BuiltinBackend(loaded, key, WatermarkParameters.DEFAULTS, Clock.systemUTC());
    EuroparlCorpus corpus = EuroparlCorpus.load();
    List<String> prompts = prompts(corpus.heldOutDocuments());

    builtinThroughput(backend, prompts);
    watermarkQuality(backend, key, loaded.model(), prompts, corpus.heldOutDocuments(), samples);
    if (!skipDjl) {
      djlBatching(loaded.model(), key);
    }
  }

  private static void builtinThroughput(BuiltinBackend backend, List<String> prompts)
      throws BackendException {
    System.out.println("## Built-in model, one thread (watermark on, best of 3 runs)");
    System.out.println("| sampling | requests | tokens | seconds | tokens/s |");
    System.out.println("|---|---|---|---|---|");
    // Warm-up: JIT.
    for (int i = 0; i < 20; i++) {
      backend.generate(request(prompts.get(i % prompts.size()), 100, 1.0, 0, 1.0, i), true);
    }
    for (double[] setting : new double[][] {{1.0, 0, 1.0}, {0.8, 40, 1.0}, {0.8, 0, 0.9}}) {
      int requests = 40;
      int tokens = 0;
      double seconds = Double.MAX_VALUE;
      // Best of three: the machine may be shared, and the fastest run is the least disturbed one.
      for (int repeat = 0; repeat < 3; repeat++) {
        tokens = 0;
        long started = System.nanoTime();
        for (int i = 0; i < requests; i++) {
          Generation generation =
              backend.generate(
                  request(
                      prompts.get(i % prompts.size()),
                      200,
                      setting[0],
                      (int) setting[1],
                      setting[2],
                      1000 + i),
                  true);
          tokens += generation.outputTokens();
        }
        seconds = Math.min(seconds, (System.nanoTime() - started) / 1e9);
      }
      System.out.printf(
          Locale.ROOT,
          "| T=%.1f top-k=%d top-p=%.2f | %d | %d | %.2f | %.0f |%n",
          setting[0],
          (int) setting[1],
          setting[2],
          requests,
          tokens,
          seconds,
          tokens / seconds);
    }
    String prompt = "The Commission's proposal on energy";
    System.out.printf(
        Locale.ROOT,
        "%nSample (prompt \"%s\", 60 tokens, T=0.8, top-p=0.9, seed 7, watermarked):%n> %s%n%n",
        prompt,
        backend.generate(request(prompt, 60, 0.8, 0, 0.9, 7), true).text());
  }

  private static void watermarkQuality(
      BuiltinBackend backend,
      WatermarkKey key,
      KneserNeyModel model,
      List<String> prompts,
      List<String> heldOut,
      int samples)
      throws BackendException {
    WatermarkDetector detector = new WatermarkDetector(WatermarkKeyRing.of(key), Z_THRESHOLD, 25);
    WatermarkParameters parameters = WatermarkParameters.DEFAULTS;
    List<String> vocabulary = new ArrayList<>();
    for (int i = 2; i < model.vocabularySize(); i++) {
      vocabulary.add(model.word(i));
    }
    System.out.printf(
        Locale.ROOT,
        "## Watermark detection, built-in model (gamma=%.2f, delta=%.1f, h=%d, z >= %.0f, min 25"
            + " scored tokens, %d samples per cell, T=1.0 multinomial sampling)%n",
        parameters.gamma(),
        parameters.delta(),
        parameters.contextWidth(),
        Z_THRESHOLD,
        samples);
    System.out.println(
        "| tokens | TPR watermarked | mean z | FPR model unwatermarked | FPR human (held-out"
            + " Europarl, windows) | TPR 10% words replaced | TPR 30% words replaced | too short"
            + " (wm / unwm / human) |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (int length : LENGTHS) {
      Counts marked = new Counts();
      Counts plain = new Counts();
      Counts edited10 = new Counts();
      Counts edited30 = new Counts();
      double zSum = 0;
      for (int i = 0; i < samples; i++) {
        String prompt = prompts.get(i % prompts.size());
        long seed = 50_000L * length + i;
        String watermarked =
            backend.generate(request(prompt, length, 1.0, 0, 1.0, seed), true).text();
        WatermarkDetection detection = detector.detect(watermarked, key.id(), parameters);
        marked.add(detection);
        zSum += detection.zScore();
        plain.add(
            detector.detect(
                backend.generate(request(prompt, length, 1.0, 0, 1.0, seed), false).text(),
                key.id(),
                parameters));
        SplittableRandom random = new SplittableRandom(seed);
        edited10.add(
            detector.detect(
                replaceWords(watermarked, 0.10, vocabulary, random), key.id(), parameters));
        edited30.add(
            detector.detect(
                replaceWords(watermarked, 0.30, vocabulary, random), key.id(), parameters));
      }
      Counts human = new Counts();
      for (String window : windows(heldOut, length)) {
        human.add(detector.detect(window, key.id(), parameters));
      }
      System.out.printf(
          Locale.ROOT,
          "| %d | %s | %.2f | %s | %s | %s | %s | %d / %d / %d |%n",
          length,
          marked.rate(),
          zSum / samples,
          plain.rate(),
          human.rate(),
          edited10.rate(),
          edited30.rate(),
          marked.tooShort,
          plain.tooShort,
          human.tooShort);
    }
    System.out.println();
  }

  private static void djlBatching(KneserNeyModel model, WatermarkKey key)
      throws IOException, BackendException {
    Path directory = Files.createTempDirectory("genguard-bench-djl");
    List<String> vocabulary = new ArrayList<>();
    for (int i = 0; i < model.vocabularySize(); i++) {
      vocabulary.add(model.word(i));
    }
    int v = vocabulary.size();
    int d = 256;
    SplittableRandom random = new SplittableRandom(1);
    TorchScriptLanguageModelWriter.writeModelDirectory(
        directory,
        new TorchScriptLanguageModelWriter.Weights(
            v,
            d,
            gaussian(v * d, 1.0, random),
            gaussian(d * d, 1.0 / Math.sqrt(d), random),
            gaussian(d * d, 0.1 / Math.sqrt(d), random),
            gaussian(d * v, 1.0 / Math.sqrt(d), random)),
        vocabulary);
    System.out.printf(
        Locale.ROOT,
        "## DJL backend, PyTorch engine on CPU: synthetic TorchScript causal LM (vocabulary %d,"
            + " width %d, random weights), 16 requests x 64 new tokens, prompt 8 words, watermark"
            + " on, best of 3 runs%n",
        v,
        d);
    System.out.println("| batch size | forward passes | seconds | tokens/s | speed-up |");
    System.out.println("|---|---|---|---|---|");
    double baseline = 0;
    for (int batchSize : new int[] {1, 8}) {
      DjlBackend backend =
          new DjlBackend(
              directory,
              "cpu",
              batchSize,
              512,
              key,
              WatermarkParameters.DEFAULTS,
              Clock.systemUTC());
      backend.warmUp();
      List<BackendRequest> requests = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        requests.add(
            request("the commission has today presented its proposal on the", 64, 1.0, 0, 1.0, i));
      }
      backend.generateBatch(requests.subList(0, batchSize), true); // warm-up
      int tokens = 0;
      double seconds = Double.MAX_VALUE;
      for (int repeat = 0; repeat < 3; repeat++) {
        tokens = 0;
        long started = System.nanoTime();
        for (int from = 0; from < requests.size(); from += batchSize) {
          for (BackendOutcome outcome :
              backend.generateBatch(requests.subList(from, from + batchSize), true)) {
            tokens += ((BackendOutcome.Generated) outcome).generation().outputTokens();
          }
        }
        seconds = Math.min(seconds, (System.nanoTime() - started) / 1e9);
      }
      double rate = tokens / seconds;
      if (batchSize == 1) {
        baseline = rate;
      }
      System.out.printf(
          Locale.ROOT,
          "| %d | %d | %.2f | %.0f | %.2fx |%n",
          batchSize,
          16 / batchSize * 64,
          seconds,
          rate,
          rate / baseline);
      backend.close();
    }
    System.out.println();
  }

  /**
   * Replaces a fraction of the words (not punctuation) with words drawn uniformly from the
   * vocabulary.
   */
  static String replaceWords(
      String text, double fraction, List<String> vocabulary, SplittableRandom random) {
    List<String> tokens = new ArrayList<>(WordTokenizer.tokenize(text));
    List<Integer> wordPositions = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      if (Character.isLetterOrDigit(tokens.get(i).codePointAt(0))) {
        wordPositions.add(i);
      }
    }
    int replacements = (int) Math.round(fraction * wordPositions.size());
    for (int r = 0; r < replacements; r++) {
      int pick = r + random.nextInt(wordPositions.size() - r);
      int position = wordPositions.get(pick);
      wordPositions.set(pick, wordPositions.get(r));
      wordPositions.set(r, position);
      tokens.set(position, vocabulary.get(random.nextInt(vocabulary.size())));
    }
    return WordTokenizer.detokenize(tokens);
  }

  /** Non-overlapping windows of exactly {@code length} tokens from held-out documents. */
  static List<String> windows(List<String> documents, int length) {
    List<String> windows = new ArrayList<>();
    for (String document : documents) {
      List<String> tokens = WordTokenizer.tokenize(document);
      for (int from = 0; from + length <= tokens.size(); from += length) {
        windows.add(WordTokenizer.detokenize(tokens.subList(from, from + length)));
      }
    }
    return windows;
  }

  /** The first eight words of each held-out document: prompts the model never trained on. */
  private static List<String> prompts(List<String> heldOut) {
    List<String> prompts = new ArrayList<>();
    for (String document : heldOut) {
      List<String> tokens = WordTokenizer.tokenize(document);
      if (tokens.size() >= 8) {
        prompts.add(WordTokenizer.detokenize(tokens.subList(0, 8)));
      }
    }
    return prompts;
  }

  private static BackendRequest request(
      String prompt, int maxTokens, double temperature, int topK, double topP, long seed) {
    return new BackendRequest(
        "bench-" + seed,
        prompt,
        "bench",
        new SamplingSettings(maxTokens, temperature, topK, topP, seed),
        Instant.now().plusSeconds(600));
  }

  private static float[] gaussian(int size, double scale, SplittableRandom random) {
    float[] values = new float[size];
    for (int i = 0; i < size; i++) {
      // Box-Muller from two uniforms.
      double u = 1.0 - random.nextDouble();
      double w = random.nextDouble();
      values[i] = (float) (scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w));
    }
    return values;
  }

  /** Detection outcomes of one cell. */
  private static final class Counts {
    int total;
    int detected;
    int tooShort;

    void add(WatermarkDetection detection) {
      total++;
      if (detection.status() == DetectionStatus.WATERMARKED) {
        detected++;
      } else if (detection.status() == DetectionStatus.TOO_SHORT) {
        tooShort++;
      }
    }

    String rate() {
      return String.format(
          Locale.ROOT, "%.1f%% (%d/%d)", 100.0 * detected / total, detected, total);
    }
  }
}
