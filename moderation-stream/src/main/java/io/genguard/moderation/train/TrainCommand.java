package io.genguard.moderation.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.genguard.moderation.bias.IdentityLexicon;
import io.genguard.moderation.evaluation.BinaryMetrics;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.HashedNgramFeatures.SparseVector;
import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.scoring.KnownWords;
import io.genguard.moderation.scoring.LinearHead;
import io.genguard.moderation.scoring.NgramLogisticModel;
import io.genguard.moderation.scoring.PlattCalibration;
import io.genguard.moderation.train.DeduplicatedSplit.Split;
import io.genguard.schemas.ErrorMessages;
import io.genguard.schemas.ReplacingFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Trains GenGuard's built-in scorers from the shared data and writes the artifacts, metrics and
 * model cards that are committed under {@code src/main/resources/models}.
 *
 * <pre>
 * train --model ngram|stereotype|minilm|all [--data-dir DIR] [--out DIR] [--epochs N]
 * </pre>
 */
public final class TrainCommand {
  static final String NGRAM_VERSION = "1.1.0";
  static final int NGRAM_DIMENSIONS = 1 << 18;

  /**
   * Occurrences in the training texts from which a dictionary word keeps its character n-grams:
   * below it, the word is judged by itself ({@link KnownWords}). In the training and validation
   * texts "bigger" occurs 24 times, "queer" 310, "stupid" about 200 (2026-12-02).
   */
  static final int FREQUENT_WORD = 50;

  /**
   * The heads that score with the dictionary: the ones whose slur n-grams fired on look-alike words
   * ("fitch", "bigger"), and the overall head, which bias audits count. The other categories keep
   * every word's n-grams: with the dictionary for every head (and no stem n-grams), their held-out
   * AUPRC fell (violence 0.934 -> 0.913, illicit 0.937 -> 0.923, 2026-12-02), since rare words of
   * their own share real evidence through n-grams.
   */
  static final List<String> DICTIONARY_HEADS = List.of("unsafe", "hate", "harassment");

  private final PrintStream log;

  TrainCommand(PrintStream log) {
    this.log = log;
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs the command; returns the exit status (0 success, 2 usage error, a shared data folder that
   * is missing, not a folder or unreadable included, 1 failure).
   */
  public static int run(String[] args) {
    Map<String, String> options;
    try {
      options = parseOptions(args, java.util.Set.of("model", "data-dir", "out", "epochs"));
      // Checked before minutes of loading the corpus, and before anything is overwritten.
      intOption(options, "epochs", 8, 1, 1_000);
      if (!List.of("ngram", "stereotype", "minilm", "all")
          .contains(options.getOrDefault("model", "all"))) {
        throw new IllegalArgumentException(
            "unknown --model '"
                + options.get("model")
                + "'; expected ngram, stereotype, minilm or all");
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(
          "usage: train --model ngram|stereotype|minilm|all [--data-dir DIR] [--out DIR] [--epochs N]");
      return 2;
    }
    Path dataDir;
    try {
      dataDir = DataDirectory.resolve(options.get("data-dir"));
    } catch (DataDirectory.UnusableDataDirectoryException e) {
      // Before the corpus loads, in one line naming the folder and where it came from (flag,
      // setting or default); before, exit 1 with a stack trace, as for a run that failed.
      System.err.println("train: " + e.getMessage());
      return 2;
    }
    try {
      Path outRoot =
          options.containsKey("out")
              ? Path.of(options.get("out"))
              : DataDirectory.repositoryRoot(Path.of("").toAbsolutePath())
                  .resolve("moderation-stream/src/main/resources/models");
      String model = options.getOrDefault("model", "all");
      TrainCommand command = new TrainCommand(System.err);
      command.log.println("Loading and splitting the training corpus from " + dataDir);
      DeduplicatedSplit split = TrainingCorpus.load(dataDir);
      command.log.printf(
          "%d texts, %d near-duplicates removed, %d label conflicts merged; train %d, validation %d,"
              + " test %d%n",
          split.inputCount(),
          split.duplicatesRemoved(),
          split.labelConflicts(),
          split.get(Split.TRAIN).size(),
          split.get(Split.VALIDATION).size(),
          split.get(Split.TEST).size());
      if (model.equals("ngram") || model.equals("all")) {
        int epochs = intOption(options, "epochs", 8, 1, 1_000);
        // (the minilm model re-derives the same out-of-fold n-gram margins with the same epochs)
        command.trainNgram(split, outRoot.resolve("ngram-logistic"), epochs, args);
      }
      if (model.equals("stereotype") || model.equals("all")) {
        command.trainStereotype(split, outRoot.resolve("stereotype"), args);
      }
      if (model.equals("minilm") || model.equals("all")) {
        new EmbeddingHeadTraining(command.log)
            .train(split, outRoot, intOption(options, "epochs", 8, 1, 1_000), args);
      }
      return 0;
    } catch (RuntimeException | IOException e) {
      System.err.println("train failed: " + ErrorMessages.oneLine(e));
      e.printStackTrace(System.err);
      return 1;
    }
  }

  void trainNgram(DeduplicatedSplit split, Path outDir, int epochs, String[] args)
      throws IOException {
    long start = System.nanoTime();
    SparseLogisticTrainer.Options options = ngramOptions(epochs);
    List<LabelledText> pool = CrossFitting.pool(split);
    KnownWords dictionary =
        WordNetVocabulary.load(KeywordBaselineScorer.loadDefault().words(), LEXICON.words());
    KnownWords knownWords =
        dictionary
            .withFrequent(WordNetVocabulary.frequentWords(pool, dictionary, FREQUENT_WORD))
            .forHeads(DICTIONARY_HEADS);
    log.printf(
        "Dictionary words: %d from WordNet 3.1, %d of them seen %d+ times in training%n",
        knownWords.size(), knownWords.sortedFrequentWords().length, FREQUENT_WORD);
    HashedNgramFeatures features = new HashedNgramFeatures(NGRAM_DIMENSIONS, 2, 2, 5, knownWords);
    log.printf(
        "Cross-fitting the n-gram heads on %d texts (%d folds)%n", pool.size(), CrossFitting.FOLDS);
    CrossFitting.NgramResult fitted =
        CrossFitting.ngram(pool, features, options, NGRAM_VERSION, log);
    // Platt per head on the out-of-fold margins (quantized models, as shipped).
    Map<String, LinearHead> calibrated = new LinkedHashMap<>();
    for (int h = 0; h < Heads.COUNT; h++) {
      String name = Heads.NAMES.get(h);
      HeadData data = HeadData.of(fitted.outOfFoldMargins(), pool, h);
      PlattCalibration platt = PlattCalibration.fit(data.scores, data.labels);
      LinearHead head = fitted.rawModel().heads().get(name);
      calibrated.put(name, new LinearHead(name, head.weights(), head.bias(), platt));
    }
    NgramLogisticModel model = new NgramLogisticModel(NGRAM_VERSION, features, calibrated);
    double[][] outOfFold = new double[pool.size()][Heads.COUNT];
    for (int i = 0; i < pool.size(); i++) {
      for (int h = 0; h < Heads.COUNT; h++) {
        outOfFold[i][h] =
            calibrated
                .get(Heads.NAMES.get(h))
                .calibration()
                .probability(fitted.outOfFoldMargins()[i][h]);
      }
    }

    Files.createDirectories(outDir);
    Path modelFile = outDir.resolve("ngram-logistic.bin.gz");
    writeReplacing(modelFile, model::write);
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("model", "ngram-logistic");
    metrics.put("version", NGRAM_VERSION);
    metrics.put(
        "features",
        Map.of(
            "dimensions",
            features.dimensions(),
            "wordNgrams",
            "1-2",
            "charNgrams",
            "2-5",
            "dictionaryWords",
            features.knownWords().size(),
            "frequentDictionaryWords",
            features.knownWords().sortedFrequentWords().length,
            "frequentFrom",
            FREQUENT_WORD,
            "dictionaryHeads",
            String.join(", ", DICTIONARY_HEADS)));
    metrics.put(
        "training",
        Map.of(
            "epochs",
            epochs,
            "learningRate",
            options.learningRate(),
            "l2",
            options.l2(),
            "maxPositiveWeight",
            options.maxPositiveWeight(),
            "optimizer",
            "AdaGrad",
            "crossFittingFolds",
            CrossFitting.FOLDS));
    metrics.put("corpus", corpusSummary(split));
    Measured measured = Measured.of(outOfFold, pool);
    metrics.put("outOfFold", evaluateProbabilities(measured.probabilities(), measured.texts()));
    metrics.put("test", evaluate(model, measuredTest(split)));
    writeJson(outDir.resolve("metrics.json"), metrics);
    ModelCards.writeNgramCard(outDir.resolve("MODEL_CARD.md"), metrics, args);
    log.printf("Wrote %s (%d bytes) in %.1f s%n", modelFile, Files.size(modelFile), seconds(start));
  }

  /**
   * Out-of-fold probabilities and their texts without the generated ones, which are easy by
   * construction: the out-of-fold figures (and the policy's threshold evidence) are measured on
   * these, as the test figures are on {@link #measuredTest}.
   */
  record Measured(double[][] probabilities, List<LabelledText> texts) {
    static Measured of(double[][] probabilities, List<LabelledText> texts) {
      List<double[]> rows = new ArrayList<>();
      List<LabelledText> kept = new ArrayList<>();
      for (int i = 0; i < texts.size(); i++) {
        if (!IdentityAugmentation.generated(texts.get(i))) {
          rows.add(probabilities[i]);
          kept.add(texts.get(i));
        }
      }
      return new Measured(rows.toArray(new double[0][]), kept);
    }
  }

  /**
   * The test texts the model cards measure on: the test split without the generated identity
   * sentences and contrast twins, which are easy by construction and would flatter every head.
   */
  static List<LabelledText> measuredTest(DeduplicatedSplit split) {
    return split.get(Split.TEST).stream()
        .filter(text -> !IdentityAugmentation.generated(text))
        .toList();
  }

  static SparseLogisticTrainer.Options ngramOptions(int epochs) {
    return new SparseLogisticTrainer.Options(epochs, 0.3, 1e-6, 8.0, 20240601L);
  }

  /** Sources whose benign texts are fair negatives for the stereotype head: they mention people. */
  static final java.util.Set<String> STEREOTYPE_NEGATIVE_SOURCES =
      java.util.Set.of(
          "toxigen",
          "bold",
          "davidson",
          "coconot",
          "coconot-response",
          "jailbreakbench-response",
          AuthoredExamples.SOURCE,
          IdentityAugmentation.SOURCE);

  private static final IdentityLexicon LEXICON = IdentityLexicon.loadDefault();

  /**
   * Stereotype label: ToxiGen implicit hate and the project's authored hate statements (explicit
   * contempt for a group, the open end of the same scale) 1; ToxiGen neutral statements and benign
   * texts of the sources above that mention a group (the signal is only consulted when a group is
   * mentioned, so that is the population it must be calibrated on) 0; anything else unknown.
   */
  static byte stereotypeLabel(LabelledText text) {
    if (text.source().equals("toxigen")) {
      return text.isUnsafe() ? LabelledText.POSITIVE : LabelledText.NEGATIVE;
    }
    if (text.source().equals(AuthoredExamples.SOURCE)
        && text.label(Heads.index(Category.HATE)) == LabelledText.POSITIVE) {
      return LabelledText.POSITIVE;
    }
    return !text.isUnsafe()
            && STEREOTYPE_NEGATIVE_SOURCES.contains(text.source())
            && !LEXICON.mentions(IdentityLexicon.words(text.text())).isEmpty()
        ? LabelledText.NEGATIVE
        : LabelledText.UNKNOWN;
  }

  void trainStereotype(DeduplicatedSplit split, Path outDir, String[] args) throws IOException {
    long start = System.nanoTime();
    HashedNgramFeatures features = new HashedNgramFeatures(1 << 17, 2, 2, 5);
    List<LabelledText> train = split.get(Split.TRAIN);
    List<SparseVector> xs = new ArrayList<>();
    List<byte[]> labels = new ArrayList<>();
    CounterfactualAugmentation counterfactuals = new CounterfactualAugmentation(LEXICON);
    int swapped = 0;
    for (LabelledText text : train) {
      byte label = stereotypeLabel(text);
      if (label != LabelledText.UNKNOWN) {
        xs.add(features.extract(text.text()));
        labels.add(new byte[] {label});
        String counterfactual = counterfactuals.swap(text.text(), swapRandom(text.text()));
        if (counterfactual != null) {
          xs.add(features.extract(counterfactual));
          labels.add(new byte[] {label});
          swapped++;
        }
      }
    }
    log.printf("Stereotype head: %d counterfactual copies (groups swapped)%n", swapped);
    SparseLogisticTrainer.Options options =
        new SparseLogisticTrainer.Options(10, 0.3, 1e-6, 8.0, 20240602L);
    SparseLogisticTrainer.Trained trained =
        new SparseLogisticTrainer(options)
            .train(xs, labels.toArray(new byte[0][]), features.dimensions())[0];
    String head = "stereotype";
    NgramLogisticModel raw =
        new NgramLogisticModel(
                NGRAM_VERSION,
                features,
                Map.of(
                    head,
                    new LinearHead(
                        head, trained.weights(), trained.bias(), PlattCalibration.IDENTITY)))
            .quantized();
    List<double[]> validationMargins = new ArrayList<>();
    List<Boolean> validationLabels = new ArrayList<>();
    for (LabelledText text : split.get(Split.VALIDATION)) {
      byte label = stereotypeLabel(text);
      if (label != LabelledText.UNKNOWN) {
        validationMargins.add(
            new double[] {raw.heads().get(head).margin(features.extract(text.text()))});
        validationLabels.add(label == LabelledText.POSITIVE);
      }
    }
    double[] margins = validationMargins.stream().mapToDouble(m -> m[0]).toArray();
    boolean[] y = new boolean[validationLabels.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = validationLabels.get(i);
    }
    PlattCalibration platt = PlattCalibration.fit(margins, y);
    LinearHead rawHead = raw.heads().get(head);
    NgramLogisticModel model =
        new NgramLogisticModel(
            NGRAM_VERSION,
            features,
            Map.of(head, new LinearHead(head, rawHead.weights(), rawHead.bias(), platt)));
    Files.createDirectories(outDir);
    writeReplacing(outDir.resolve("stereotype-ngram.bin.gz"), model::write);
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("model", "stereotype-ngram");
    metrics.put("version", NGRAM_VERSION);
    metrics.put("trainingTexts", xs.size());
    metrics.put("validation", stereotypeMetrics(model, split.get(Split.VALIDATION)));
    metrics.put("test", stereotypeMetrics(model, measuredTest(split)));
    writeJson(outDir.resolve("metrics.json"), metrics);
    ModelCards.writeStereotypeCard(outDir.resolve("MODEL_CARD.md"), metrics, args);
    log.printf(
        "Wrote the stereotype model to %s in %.1f s: %s%n",
        outDir, seconds(start), metrics.get("test"));
  }

  /**
   * The groups swapped into a text's counterfactual copy depend on that text alone (a seed from its
   * content), not on its position in the corpus. With one random stream for the whole corpus,
   * adding any training line reshuffled every later copy, and the draw alone moves the head's flags
   * on benign HolisticBias sentences by a fifth (QUALITY.md, "Bias mitigation").
   */
  static Random swapRandom(String text) {
    return new Random(20240603L * 31 + text.hashCode());
  }

  static Map<String, Object> stereotypeMetrics(NgramLogisticModel model, List<LabelledText> texts) {
    Map<String, Object> result = new LinkedHashMap<>();
    for (boolean toxigenOnly : new boolean[] {false, true}) {
      List<Double> scores = new ArrayList<>();
      List<Boolean> labels = new ArrayList<>();
      for (LabelledText text : texts) {
        byte label = stereotypeLabel(text);
        if (label != LabelledText.UNKNOWN && (!toxigenOnly || text.source().equals("toxigen"))) {
          scores.add(model.probability("stereotype", text.text()));
          labels.add(label == LabelledText.POSITIVE);
        }
      }
      double[] s = scores.stream().mapToDouble(Double::doubleValue).toArray();
      boolean[] y = new boolean[labels.size()];
      int positives = 0;
      for (int i = 0; i < y.length; i++) {
        y[i] = labels.get(i);
        positives += y[i] ? 1 : 0;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("positives", positives);
      m.put("negatives", y.length - positives);
      m.put("auprc", round(BinaryMetrics.averagePrecision(s, y)));
      m.put("rocAuc", round(BinaryMetrics.rocAuc(s, y)));
      m.put("f1At0.5", round(BinaryMetrics.confusionAt(s, y, 0.5).f1()));
      m.put("ece", round(expectedCalibrationError(s, y, 10)));
      result.put(toxigenOnly ? "toxigenHateVsNeutral" : "allGroupMentioningNegatives", m);
    }
    return result;
  }

  static double[][] margins(NgramLogisticModel model, List<LabelledText> texts) {
    double[][] margins = new double[texts.size()][];
    for (int i = 0; i < texts.size(); i++) {
      Map<String, Double> m = model.margins(texts.get(i).text());
      double[] row = new double[Heads.COUNT];
      for (int h = 0; h < Heads.COUNT; h++) {
        row[h] = m.get(Heads.NAMES.get(h));
      }
      margins[i] = row;
    }
    return margins;
  }

  /** Per head: positives, negatives, AUPRC, ROC AUC, and the expected calibration error. */
  static Map<String, Object> evaluate(NgramLogisticModel model, List<LabelledText> texts) {
    double[][] probabilities = new double[texts.size()][Heads.COUNT];
    for (int i = 0; i < texts.size(); i++) {
      var scores = model.score(texts.get(i).text());
      probabilities[i][Heads.UNSAFE] = scores.unsafe();
      for (var category : Category.values()) {
        probabilities[i][Heads.index(category)] = scores.score(category);
      }
    }
    return evaluateProbabilities(probabilities, texts);
  }

  static Map<String, Object> evaluateProbabilities(
      double[][] probabilities, List<LabelledText> texts) {
    Map<String, Object> perHead = new LinkedHashMap<>();
    for (int h = 0; h < Heads.COUNT; h++) {
      HeadData data = HeadData.of(probabilities, texts, h);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("positives", data.positives());
      m.put("negatives", data.labels.length - data.positives());
      m.put("auprc", round(BinaryMetrics.averagePrecision(data.scores, data.labels)));
      m.put("rocAuc", round(BinaryMetrics.rocAuc(data.scores, data.labels)));
      m.put("f1At0.5", round(BinaryMetrics.confusionAt(data.scores, data.labels, 0.5).f1()));
      m.put("ece", round(expectedCalibrationError(data.scores, data.labels, 10)));
      perHead.put(Heads.NAMES.get(h), m);
    }
    return perHead;
  }

  /** Expected calibration error with equal-width bins (Naeini et al. 2015). */
  static double expectedCalibrationError(double[] p, boolean[] y, int bins) {
    double[] sumP = new double[bins];
    double[] sumY = new double[bins];
    int[] count = new int[bins];
    for (int i = 0; i < p.length; i++) {
      int b = Math.min(bins - 1, (int) (p[i] * bins));
      sumP[b] += p[i];
      sumY[b] += y[i] ? 1 : 0;
      count[b]++;
    }
    double ece = 0;
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) {
        ece += Math.abs(sumP[b] - sumY[b]) / p.length;
      }
    }
    return ece;
  }

  public static Map<String, Object> corpusSummary(DeduplicatedSplit split) {
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("inputTexts", split.inputCount());
    summary.put("nearDuplicatesRemoved", split.duplicatesRemoved());
    summary.put("labelConflictsMerged", split.labelConflicts());
    for (Split s : Split.values()) {
      Map<String, Object> perSplit = new LinkedHashMap<>();
      List<LabelledText> texts = split.get(s);
      perSplit.put("texts", texts.size());
      Map<String, int[]> bySource = new TreeMap<>();
      for (LabelledText t : texts) {
        int[] counts = bySource.computeIfAbsent(t.source(), k -> new int[2]);
        counts[t.isUnsafe() ? 1 : 0]++;
      }
      Map<String, Object> sources = new LinkedHashMap<>();
      bySource.forEach((k, v) -> sources.put(k, Map.of("benign", v[0], "unsafe", v[1])));
      perSplit.put("sources", sources);
      Map<String, Object> positives = new LinkedHashMap<>();
      for (int h = 0; h < Heads.COUNT; h++) {
        int pos = 0;
        for (LabelledText t : texts) {
          pos += t.label(h) == LabelledText.POSITIVE ? 1 : 0;
        }
        positives.put(Heads.NAMES.get(h), pos);
      }
      perSplit.put("positives", positives);
      summary.put(s.name().toLowerCase(java.util.Locale.ROOT), perSplit);
    }
    return summary;
  }

  /** Scores and labels of the texts whose label for one head is known. */
  record HeadData(double[] scores, boolean[] labels) {
    static HeadData of(double[][] scoresByText, List<LabelledText> texts, int head) {
      List<Integer> known = new ArrayList<>();
      for (int i = 0; i < texts.size(); i++) {
        if (texts.get(i).label(head) != LabelledText.UNKNOWN) {
          known.add(i);
        }
      }
      double[] scores = new double[known.size()];
      boolean[] labels = new boolean[known.size()];
      for (int k = 0; k < known.size(); k++) {
        scores[k] = scoresByText[known.get(k)][head];
        labels[k] = texts.get(known.get(k)).label(head) == LabelledText.POSITIVE;
      }
      return new HeadData(scores, labels);
    }

    int positives() {
      int count = 0;
      for (boolean label : labels) {
        count += label ? 1 : 0;
      }
      return count;
    }
  }

  static double round(double value) {
    return Double.isNaN(value) ? Double.NaN : Math.round(value * 10000) / 10000.0;
  }

  static void writeJson(Path file, Object value) {
    try {
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(file.toFile(), stableOrder(value));
      Files.writeString(
          file, Files.readString(file, StandardCharsets.UTF_8) + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file, e);
    }
  }

  /**
   * The same value with every map that has no order of its own ({@code Map.of}, {@code HashMap})
   * sorted by key: their iteration order changes between JVM runs, and a retrained model's
   * metrics.json should differ only where the numbers do. Ordered maps keep their order.
   */
  static Object stableOrder(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out =
          map instanceof LinkedHashMap<?, ?> || map instanceof java.util.SortedMap<?, ?>
              ? new LinkedHashMap<>()
              : new TreeMap<>();
      map.forEach((key, entry) -> out.put(key, stableOrder(entry)));
      return out;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(TrainCommand::stableOrder).toList();
    }
    return value;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** The repository root above the working directory (where the parent pom is). */
  public static Path repositoryRoot() {
    return DataDirectory.repositoryRoot(Path.of("").toAbsolutePath());
  }

  /**
   * Parses {@code --name value} and {@code --name=value} options, refusing a name not in {@code
   * allowed} (a typo must not quietly run with the default, and overwrite what the default writes)
   * and one given twice.
   */
  public static Map<String, String> parseOptions(String[] args, java.util.Set<String> allowed) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (allowed != null && !allowed.contains(name)) {
        throw new IllegalArgumentException(
            "unknown option --"
                + name
                + "; the options are --"
                + String.join(", --", new java.util.TreeSet<>(allowed)));
      }
      if (value == null) {
        // "--out --data-dir" is a missing value, not a file named --data-dir (--out=--x names one).
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new IllegalArgumentException("option --" + name + " needs a value");
        }
        value = args[++i];
      }
      if (options.put(name, value) != null && allowed != null) {
        throw new IllegalArgumentException("option --" + name + " is given twice; give it once");
      }
    }
    return options;
  }

  /** A whole number option within {@code min..max}, or {@code fallback} when it is not given. */
  public static int intOption(
      Map<String, String> options, String name, int fallback, int min, int max) {
    String value = options.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      int number = Integer.parseInt(value.trim());
      if (number >= min && number <= max) {
        return number;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "--"
            + name
            + " must be a whole number from "
            + min
            + " to "
            + max
            + ", was '"
            + value
            + "'");
  }

  /** What writes a model file's bytes. */
  @FunctionalInterface
  public interface ModelWriter {
    void write(OutputStream out) throws IOException;
  }

  /**
   * Writes a model file through a temporary file beside it, synced and moved over it once whole
   * ({@link ReplacingFiles}): a run that fails or is stopped while writing (out of memory, Ctrl-C,
   * a full disk) leaves the previous model as it was, not a cut one that the next build would pack
   * and fail to load, and no temporary file.
   */
  public static void writeReplacing(Path file, ModelWriter writer) throws IOException {
    ReplacingFiles.write(
        file,
        ReplacingFiles.OnStop.REMOVE,
        line -> System.err.println("train: " + line),
        writer::write);
  }

  /** Parses {@code --name value} and {@code --name=value} options, any names. */
  public static Map<String, String> parseOptions(String[] args) {
    return parseOptions(args, null);
  }
}
