package io.genguard.moderation.evaluation;

import io.genguard.events.v1.Decision;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.bias.PrejudiceFrames;
import io.genguard.moderation.policy.InvalidPolicyException;
import io.genguard.moderation.policy.ModerationFindings;
import io.genguard.moderation.policy.Policy;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.PolicyVerdict;
import io.genguard.moderation.policy.ReasonEvidence;
import io.genguard.moderation.policy.RuleFindings;
import io.genguard.moderation.policy.Thresholds;
import io.genguard.moderation.policy.VerdictReason;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.KeywordBaselineScorer;
import io.genguard.moderation.scoring.MinorSexualization;
import io.genguard.moderation.scoring.OnnxClassifierScorer;
import io.genguard.moderation.scoring.RuleMatch;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.moderation.scoring.SelfHarmPatterns;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.ThreatPatterns;
import io.genguard.moderation.scoring.WordOcclusion;
import io.genguard.moderation.train.DataDirectory;
import io.genguard.moderation.train.DeduplicatedSplit;
import io.genguard.moderation.train.EuroparlProse;
import io.genguard.moderation.train.EvaluationSets;
import io.genguard.moderation.train.EvaluationSets.GroupStatements;
import io.genguard.moderation.train.EvaluationSets.ProbeText;
import io.genguard.moderation.train.Heads;
import io.genguard.moderation.train.IdentityAugmentation;
import io.genguard.moderation.train.LabelledText;
import io.genguard.moderation.train.TrainingCorpus;
import io.genguard.provenance.text.EuroparlCorpus;
import io.genguard.schemas.ErrorMessages;
import io.genguard.schemas.ReplacingFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The quality command: measures scorers on texts they never trained on and writes {@code
 * moderation-stream/QUALITY.md}.
 *
 * <pre>
 * QualityReport [--data-dir DIR] [--scorers a,b,c] [--policy FILE] [--out FILE] [--holistic-sample N]
 *               [--classifier-dir DIR --classifier-labels MAP [--classifier-max-tokens N]]
 * </pre>
 *
 * The {@code --classifier-*} flags configure {@code onnx-classifier} among {@code --scorers}
 * ({@link ScorerConfig#fromOptions}).
 *
 * <ul>
 *   <li>Held-out test split of the training corpus (deduplicated, split by text and behaviour): per
 *       category AUPRC, overall AUPRC by the policy's decision score ({@link #decisionScore}) and
 *       by the {@code unsafe} head, and F1 / precision / recall at the policy's REVIEW threshold (a
 *       text counts as flagged when the policy would not RELEASE it).
 *   <li>False-positive rate on XSTest's safe prompts and on CoCoNot's contrast prompts, and on
 *       held-out human-written prose (the Europarl documents the built-in generator holds out).
 *   <li>Statements about groups the project wrote for the report: explicit hostility (every one
 *       should be held) and plain statements in the same shapes (none should be).
 *   <li>Threats of violence the project wrote, never trained on (every one should be held), and
 *       benign look-alikes that reuse their phrases (none should be).
 *   <li>The moderator's own bias on HolisticBias sentences: flag rate per axis and per descriptor,
 *       worst descriptors, min/max ratio of pass rates.
 *   <li>The bare scorer's throughput on ~100-token texts, batched.
 *   <li>A plain profanity word list ({@code keyword-baseline}) as the comparison row, same run,
 *       decided on its scores alone, and again with GenGuard's bias analysis and rules ({@value
 *       #WITH_RULES}).
 * </ul>
 *
 * <p>XSTest and the HolisticBias sample are development sets: never trained on, but read while
 * training choices were made; their targets are judged by 95% intervals ({@link Verdict}).
 */
public final class QualityReport {
  static final double TARGET_AUPRC = 0.85;
  static final double TARGET_XSTEST_FPR = 0.10;
  static final double TARGET_IDENTITY_FLAG_RATE = 0.02;
  static final double TARGET_PASS_RATE_RATIO = 0.95;

  /**
   * HolisticBias sentences scored by default: about 150 benign ones a descriptor, so that the
   * per-descriptor ratio measures the moderator; with 24,000 (about 35 a descriptor, the default
   * until 2026-12-02) sampling noise alone put a moderator without bias at about 0.92.
   */
  static final int HOLISTIC_SAMPLE = 100_000;

  /** The row name of the keyword baseline measured with GenGuard's bias analysis and rules. */
  static final String WITH_RULES = " + GenGuard rules";

  private final PrintStream log;
  private final PolicySet policies;
  private final TextScreening screening = TextScreening.defaults();
  private final BiasAnalyzer bias;
  private final boolean scoresOnly;

  QualityReport(PrintStream log, PolicySet policies) {
    this(log, policies, BiasAnalyzer.loadDefault(), false);
  }

  private QualityReport(
      PrintStream log, PolicySet policies, BiasAnalyzer bias, boolean scoresOnly) {
    this.log = log;
    this.policies = policies;
    this.bias = bias;
    this.scoresOnly = scoresOnly;
  }

  /**
   * The same report deciding on the scores alone: the policy's category (and unsafe) thresholds,
   * without the bias analysis (the stereotype head), the rules (threat, self-harm, minor and frame
   * patterns) and text screening. What the plain word-list baseline is measured with.
   */
  QualityReport scoresOnly() {
    return new QualityReport(log, policies, bias, true);
  }

  /**
   * One row of the report: a scorer, and whether the policy decides on its scores alone ({@link
   * #scoresOnly()}).
   */
  record Measurement(String name, ScorerConfig config, boolean scoresOnly) {}

  /**
   * The rows measured for {@code scorers}: each scorer with the whole policy, except the keyword
   * baseline, measured on its scores alone (a plain word list) and again, named with {@value
   * #WITH_RULES}, with GenGuard's bias analysis, rules and screening on top.
   */
  static List<Measurement> measurements(List<ScorerConfig> scorers) {
    List<Measurement> out = new ArrayList<>();
    for (ScorerConfig config : scorers) {
      if (config.name().equals(KeywordBaselineScorer.NAME)) {
        out.add(new Measurement(config.name(), config, true));
        out.add(new Measurement(config.name() + WITH_RULES, config, false));
      } else {
        out.add(new Measurement(config.name(), config, false));
      }
    }
    return out;
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs the command; 0 on success (targets missed are reported, not failures), 2 for a usage error
   * (an invalid policy file and a shared data folder that is missing, not a folder or unreadable
   * included), 1 on error.
   */
  public static int run(String[] args) {
    Map<String, String> options;
    List<ScorerConfig> scorers;
    try {
      Set<String> allowed =
          new HashSet<>(Set.of("data-dir", "scorers", "policy", "out", "holistic-sample"));
      allowed.addAll(ScorerConfig.OPTIONS);
      options = io.genguard.moderation.train.TrainCommand.parseOptions(args, allowed);
      io.genguard.moderation.train.TrainCommand.intOption(
          options, "holistic-sample", HOLISTIC_SAMPLE, 1, 1_000_000);
      try {
        scorers = scorers(options);
      } catch (IllegalArgumentException e) {
        // A classifier setting that cannot be used says what to change; the usage line after it
        // (as before) only hid that line.
        System.err.println("quality: " + e.getMessage());
        return 2;
      }
      if (options.containsKey("out")) {
        requireWritableOutFile(Path.of(options.get("out")));
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(
          "usage: QualityReport [--data-dir DIR] [--scorers minilm-ensemble,ngram-logistic,keyword-baseline]"
              + " [--policy FILE] [--out FILE] [--holistic-sample N]"
              + " [--classifier-dir DIR --classifier-labels LABEL=CATEGORY[,CATEGORY];..."
              + " [--classifier-max-tokens N]]");
      return 2;
    }
    PolicySet policies;
    try {
      policies =
          options.containsKey("policy")
              ? PolicyLoader.load(Path.of(options.get("policy")))
              : PolicyLoader.loadDefault();
    } catch (InvalidPolicyException e) {
      // Before anything is measured: the file given is wrong, a usage error refused with its line.
      System.err.println("quality: --policy: " + e.getMessage());
      return 2;
    }
    Path dataDir;
    try {
      dataDir = DataDirectory.resolve(options.get("data-dir"));
    } catch (DataDirectory.UnusableDataDirectoryException e) {
      // Before anything loads: the folder named (flag, setting or default) cannot be used. Before,
      // exit 1 with a stack trace.
      System.err.println("quality: " + e.getMessage());
      return 2;
    }
    try {
      Path out =
          options.containsKey("out")
              ? Path.of(options.get("out"))
              : io.genguard.moderation.train.TrainCommand.repositoryRoot()
                  .resolve("moderation-stream/QUALITY.md");
      int holisticSample =
          io.genguard.moderation.train.TrainCommand.intOption(
              options, "holistic-sample", HOLISTIC_SAMPLE, 1, 1_000_000);
      String markdown =
          new QualityReport(System.err, policies).report(dataDir, scorers, holisticSample, args);
      // Printed first: a write that fails after minutes of measuring must not lose the report.
      System.out.println(markdown);
      try {
        writeReplacing(out, markdown);
      } catch (IOException e) {
        throw new IOException(
            "could not write " + out + " (the report is on standard output): " + e, e);
      }
      System.err.println("Wrote " + out);
      return 0;
    } catch (RuntimeException | IOException e) {
      System.err.println("quality report failed: " + ErrorMessages.oneLine(e));
      e.printStackTrace(System.err);
      return 1;
    }
  }

  /**
   * Refuses an {@code --out} that is a directory or in a folder that does not exist, before the
   * minutes of measuring that a write at the end would otherwise throw away.
   */
  static void requireWritableOutFile(Path out) {
    if (Files.isDirectory(out)) {
      throw new IllegalArgumentException("--out " + out + " is a directory; name a file in it");
    }
    Path folder = out.toAbsolutePath().getParent();
    if (folder == null || !Files.isDirectory(folder)) {
      throw new IllegalArgumentException("the folder of --out " + out + " does not exist");
    }
  }

  /**
   * Writes {@code text} to a temporary file beside {@code out}, synced and moved over {@code out}
   * ({@link ReplacingFiles}), so that a failed or stopped write leaves the previous report
   * (QUALITY.md) whole rather than cut short.
   */
  static void writeReplacing(Path out, String text) throws IOException {
    ReplacingFiles.write(
        out,
        ReplacingFiles.OnStop.REMOVE,
        line -> System.err.println("quality report: " + line),
        stream -> stream.write(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Everything measured for one scorer. */
  record ScorerResults(
      String name,
      Map<String, String> versions,
      Map<String, HeadResult> test,
      Map<String, SourceResult> bySource,
      Rate xsTestSafe,
      Rate xsTestUnsafeRecall,
      Rate coconotContrast,
      ProseResult prose,
      List<GroupStatementsResult> groupStatements,
      Map<String, Rate> xsTestByType,
      HolisticResult holistic,
      Throughput throughput,
      List<HarmProbeResult> threatProbes,
      List<HarmProbeResult> selfHarmProbes,
      ChildrenResult children,
      Map<String, Reliability> reliability) {}

  /**
   * Benign texts about children ({@link EvaluationSets#childrenProbe()}): how many the policy held,
   * and which, each with its decision, reasons and their evidence words.
   */
  record ChildrenResult(Rate held, List<String> heldExplained) {}

  /**
   * One probe of a harm (threats, self-harm): how many of its harmful texts the policy held (and of
   * those, blocked outright), how many of its look-alikes it held, the same two counts without the
   * threat patterns (scores, bias and screening only), and which texts it got wrong.
   */
  record HarmProbeResult(
      String probe,
      Rate harmfulHeld,
      Rate harmfulBlocked,
      Rate lookAlikesHeld,
      Rate harmfulHeldWithoutPatterns,
      Rate lookAlikesHeldWithoutPatterns,
      List<String> harmfulReleased,
      List<String> lookAlikesHeldTexts) {}

  /**
   * The threat patterns on their own, on every evaluation set: how many texts they match per set,
   * and every match in the sets that hold no threats (what they would send to review wrongly).
   */
  record RuleResult(Map<String, Rate> matched, List<String> benignMatches) {}

  /**
   * Held-out human-written prose (Europarl): sentences the policy flagged, and sentences whose
   * overall unsafe probability is at least {@value #PROSE_UNSAFE_SCORE} (what the bias audit counts
   * as unsafe by default).
   */
  record ProseResult(Rate flagged, Rate unsafeScore) {}

  static final double PROSE_UNSAFE_SCORE = 0.5;

  /**
   * One probe of the project's statements about groups ({@link EvaluationSets#groupProbes()}): how
   * many hostile ones the policy held (and of those, blocked outright) and which it released; how
   * many plain ones it flagged (and blocked without a person's review), and which (each with its
   * decision, reasons and their evidence words).
   */
  record GroupStatementsResult(
      String probe,
      Rate hostileHeld,
      Rate hostileBlocked,
      List<String> hostileReleased,
      Rate plainFlagged,
      Rate plainBlocked,
      List<String> plainHeld) {}

  record HeadResult(
      int positives,
      int negatives,
      double auprc,
      double rocAuc,
      double threshold,
      double precision,
      double recall,
      double f1) {}

  record SourceResult(int benign, int unsafe, double flaggedBenign, double flaggedUnsafe) {}

  /** k of n, with the rate. */
  record Rate(int k, int n) {
    double rate() {
      return n == 0 ? Double.NaN : k / (double) n;
    }

    /** The rate's 95% Wilson score interval, {low, high}; NaNs when n is 0. */
    double[] interval() {
      return wilson(k, n, Z95);
    }
  }

  /** The standard normal quantile of 0.975: a two-sided 95% interval. */
  static final double Z95 = 1.959963984540054;

  /** Wilson score interval of k successes in n at normal quantile {@code z}: {low, high}. */
  static double[] wilson(int k, int n, double z) {
    if (n == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double p = k / (double) n;
    double z2 = z * z;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /**
   * Quantile of the standard normal distribution (Acklam's rational approximation, relative error
   * below 1.2e-9), for {@code 0 < p < 1}.
   */
  static double normalQuantile(double p) {
    if (!(p > 0 && p < 1)) {
      throw new IllegalArgumentException("p must be in (0, 1), got " + p);
    }
    double[] a = {
      -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
    };
    double[] b = {
      -5.447609879822406e+01,
      1.615858368580409e+02,
      -1.556989798598866e+02,
      6.680131188771972e+01,
      -1.328068155288572e+01
    };
    double[] c = {
      -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
    };
    double[] d = {
      7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
    };
    double low = 0.02425;
    if (p < low || p > 1 - low) {
      double q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
      double x =
          (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
              / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
      return p < low ? x : -x;
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }

  /**
   * A 95% interval for {@link #minMaxPassRatio} over the same groups: a Wilson interval for every
   * group's pass rate at the Bonferroni level 0.05 / groups, so that with probability at least
   * about 95% every group's true pass rate lies in its interval at once; then the true lowest pass
   * rate lies between the lowest lower bound and the lowest upper bound, the true highest between
   * the highest lower and the highest upper bound, and the true ratio between (lowest lower /
   * highest upper) and (lowest upper / highest lower), at most 1. Conservative, as Bonferroni is; a
   * bootstrap of a minimum over hundreds of groups would be biased, since the observed minimum is
   * itself the noisiest group's. {low, high}; NaNs when no group is large enough.
   */
  static double[] passRatioInterval(Map<String, Rate> groups, int minSize) {
    List<Rate> large = groups.values().stream().filter(r -> r.n() >= minSize).toList();
    if (large.isEmpty()) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double z = normalQuantile(1 - 0.05 / (2.0 * large.size()));
    double minLow = 1;
    double minHigh = 1;
    double maxLow = 0;
    double maxHigh = 0;
    for (Rate rate : large) {
      // pass = 1 - flag: the pass rate's bounds are the flag rate's, mirrored
      double[] flag = wilson(rate.k(), rate.n(), z);
      double passLow = 1 - flag[1];
      double passHigh = 1 - flag[0];
      minLow = Math.min(minLow, passLow);
      minHigh = Math.min(minHigh, passHigh);
      maxLow = Math.max(maxLow, passLow);
      maxHigh = Math.max(maxHigh, passHigh);
    }
    double low = maxHigh == 0 ? 0 : minLow / maxHigh;
    double high = maxLow == 0 ? 1 : Math.min(1, minHigh / maxLow);
    return new double[] {low, high};
  }

  /** Whether a target is met, as far as a 95% interval can tell. */
  enum Verdict {
    /** The whole interval is on the target's side. */
    MET("met"),
    /** The interval holds the target: the measurement cannot tell. */
    NOT_ESTABLISHED("not established"),
    /** The whole interval is on the wrong side. */
    MISSED("MISSED");

    final String label;

    Verdict(String label) {
      this.label = label;
    }

    /** The verdict on "value at most {@code target}" from its interval {low, high}. */
    static Verdict atMost(double[] interval, double target) {
      if (Double.isNaN(interval[0]) || Double.isNaN(interval[1])) {
        return NOT_ESTABLISHED;
      }
      return interval[1] <= target ? MET : interval[0] > target ? MISSED : NOT_ESTABLISHED;
    }

    /** The verdict on "value at least {@code target}" from its interval {low, high}. */
    static Verdict atLeast(double[] interval, double target) {
      if (Double.isNaN(interval[0]) || Double.isNaN(interval[1])) {
        return NOT_ESTABLISHED;
      }
      return interval[0] >= target ? MET : interval[1] < target ? MISSED : NOT_ESTABLISHED;
    }
  }

  record HolisticResult(
      int sentences,
      Rate benign,
      Rate negativeTemplates,
      Rate sexualizedChildren,
      Map<String, Rate> negativeByAxis,
      Map<String, Rate> byAxis,
      Map<String, Rate> byDescriptor,
      Map<String, String> descriptorAxis,
      double minMaxPassRatioDescriptors,
      double minMaxPassRatioAxes,
      Rate dispreferredBenign,
      Rate preferredBenign,
      double minMaxPassRatioPreferred,
      Map<String, Rate> byBucket,
      double minMaxPassRatioBuckets,
      double minMaxPassRatioPreferredBuckets,
      double sameRateDescriptorRatio,
      int unseenPreferredDescriptors,
      double minMaxPassRatioUnseenPreferred,
      double[] passRatioIntervalDescriptors,
      double[] passRatioIntervalPreferred) {}

  /** Texts per second, with the machine's 1-minute load average while measuring (2 cores here). */
  record Throughput(
      int texts, double averageTokens, double textsPerSecond, int batchSize, double loadAverage) {}

  /**
   * The scorers of {@code --scorers}; the classifier flags go to {@code onnx-classifier}, and are
   * refused when it is not among them.
   */
  static List<ScorerConfig> scorers(Map<String, String> options) {
    List<String> names =
        Arrays.stream(
                options
                    .getOrDefault("scorers", "minilm-ensemble,ngram-logistic,keyword-baseline")
                    .split(","))
            .map(String::strip)
            .toList();
    List<ScorerConfig> scorers = new ArrayList<>();
    for (String name : names) {
      scorers.add(
          ScorerConfig.fromOptions(
              name, name.equals(OnnxClassifierScorer.NAME) ? options : Map.of()));
    }
    for (String option : ScorerConfig.OPTIONS) {
      if (options.containsKey(option) && !names.contains(OnnxClassifierScorer.NAME)) {
        throw new IllegalArgumentException(
            "--"
                + option
                + " is set, but --scorers does not name "
                + OnnxClassifierScorer.NAME
                + ", the only scorer that reads it");
      }
    }
    return scorers;
  }

  String report(Path dataDir, List<ScorerConfig> scorers, int holisticSample, String[] args)
      throws IOException {
    long start = System.nanoTime();
    log.println("Loading the corpus and its held-out test split from " + dataDir);
    DeduplicatedSplit split = TrainingCorpus.load(dataDir);
    List<LabelledText> test = split.get(DeduplicatedSplit.Split.TEST);
    EvaluationSets sets = new EvaluationSets(dataDir);
    List<EvaluationSets.XsTestPrompt> xsTest = sets.xsTest();
    List<String> coconot = sets.coconotContrast();
    List<String> prose = EuroparlProse.heldOutSentences(EuroparlCorpus.load());
    Map<String, GroupStatements> groupProbes = EvaluationSets.groupProbes();
    Map<String, List<ProbeText>> threatProbes = new LinkedHashMap<>();
    for (String probe : EvaluationSets.THREAT_PROBES) {
      threatProbes.put(probe.substring(1), EvaluationSets.threatProbe(probe));
    }
    Map<String, List<ProbeText>> selfHarmProbes = new LinkedHashMap<>();
    for (String probe : EvaluationSets.SELF_HARM_PROBES) {
      selfHarmProbes.put(probe.substring(1), EvaluationSets.selfHarmProbe(probe));
    }
    List<EvaluationSets.HolisticSentence> holistic = sets.holisticBias(holisticSample, 20240604L);
    List<String> children = EvaluationSets.childrenProbe();
    Texts texts =
        new Texts(
            test,
            xsTest,
            coconot,
            prose,
            groupProbes,
            threatProbes,
            selfHarmProbes,
            children,
            holistic);
    List<String> throughputTexts = ThroughputBenchmark.hundredTokenTexts(test, 1024);
    List<ScorerResults> results = new ArrayList<>();
    QualityReport scoresOnlyReport = scoresOnly();
    List<Measurement> measurements = measurements(scorers);
    for (ScorerConfig config : scorers) {
      try (ContentScorer scorer = ScorerFactory.create(config)) {
        for (Measurement m : measurements) {
          if (m.config() == config) {
            log.println(
                "Scoring with " + m.name() + (m.scoresOnly() ? " (scores only, no rules)" : ""));
            QualityReport gate = m.scoresOnly() ? scoresOnlyReport : this;
            results.add(gate.measure(m.name(), scorer, texts, throughputTexts));
          }
        }
      }
    }
    RuleResult threatPatterns = threatPatterns(texts);
    RuleResult minorSexualization = minorSexualization(texts);
    RuleResult prejudiceFrames = ruleMatches(texts, PrejudiceFrames::find);
    RuleResult selfHarmPatterns = selfHarmPatterns(texts);
    log.printf("Quality report done in %.0f s%n", (System.nanoTime() - start) / 1e9);
    return QualityMarkdown.render(
        results,
        threatPatterns,
        minorSexualization,
        prejudiceFrames,
        selfHarmPatterns,
        split,
        policies,
        holisticSample,
        args,
        LocalDate.now(ZoneOffset.UTC).toString());
  }

  /** The evaluation sets, as the report reads them once for every scorer. */
  record Texts(
      List<LabelledText> test,
      List<EvaluationSets.XsTestPrompt> xsTest,
      List<String> coconot,
      List<String> prose,
      Map<String, GroupStatements> groupProbes,
      Map<String, List<ProbeText>> threatProbes,
      Map<String, List<ProbeText>> selfHarmProbes,
      List<String> children,
      List<EvaluationSets.HolisticSentence> holistic) {}

  ScorerResults measure(
      String name, ContentScorer scorer, Texts texts, List<String> throughputTexts) {
    List<LabelledText> test = texts.test();
    List<EvaluationSets.XsTestPrompt> xsTest = texts.xsTest();
    List<String> coconot = texts.coconot();
    List<String> prose = texts.prose();
    Map<String, List<ProbeText>> threatProbes = texts.threatProbes();
    List<EvaluationSets.HolisticSentence> holistic = texts.holistic();
    Policy policy = policies.defaultPolicy();
    // Held-out test split.
    List<String> testTexts = test.stream().map(LabelledText::text).toList();
    List<ContentScores> testScores = scoreInBatches(scorer, testTexts, name + " test split");
    boolean[] flagged = new boolean[test.size()];
    for (int i = 0; i < test.size(); i++) {
      flagged[i] = flagged(policy, testTexts.get(i), testScores.get(i));
    }
    Map<String, HeadResult> heads = testHeads(policy, test, testScores, flagged);
    Map<String, Reliability> reliability = testReliability(test, testScores);
    Map<String, int[]> sourceCounts = new TreeMap<>();
    for (int i = 0; i < test.size(); i++) {
      int[] c = sourceCounts.computeIfAbsent(test.get(i).source(), k -> new int[4]);
      if (test.get(i).isUnsafe()) {
        c[1]++;
        c[3] += flagged[i] ? 1 : 0;
      } else {
        c[0]++;
        c[2] += flagged[i] ? 1 : 0;
      }
    }
    Map<String, SourceResult> bySource = new LinkedHashMap<>();
    sourceCounts.forEach(
        (source, c) ->
            bySource.put(
                source,
                new SourceResult(
                    c[0],
                    c[1],
                    c[0] == 0 ? Double.NaN : c[2] / (double) c[0],
                    c[1] == 0 ? Double.NaN : c[3] / (double) c[1])));

    // Benign look-alikes.
    List<ContentScores> xsScores =
        scoreInBatches(
            scorer,
            xsTest.stream().map(EvaluationSets.XsTestPrompt::prompt).toList(),
            name + " XSTest");
    int safeFlagged = 0;
    int safe = 0;
    int unsafeFlagged = 0;
    int unsafe = 0;
    Map<String, int[]> byType = new TreeMap<>();
    for (int i = 0; i < xsTest.size(); i++) {
      EvaluationSets.XsTestPrompt prompt = xsTest.get(i);
      boolean isFlagged = flagged(policy, prompt.prompt(), xsScores.get(i));
      if (prompt.safe()) {
        safe++;
        safeFlagged += isFlagged ? 1 : 0;
        int[] t = byType.computeIfAbsent(prompt.type(), k -> new int[2]);
        t[0] += isFlagged ? 1 : 0;
        t[1]++;
      } else {
        unsafe++;
        unsafeFlagged += isFlagged ? 1 : 0;
      }
    }
    Map<String, Rate> xsByType = new LinkedHashMap<>();
    byType.forEach((type, t) -> xsByType.put(type, new Rate(t[0], t[1])));
    List<ContentScores> coScores = scoreInBatches(scorer, coconot, name + " CoCoNot contrast");
    int coFlagged = flaggedCount(policy, coconot, coScores);
    List<ContentScores> proseScores = scoreInBatches(scorer, prose, name + " Europarl prose");
    int proseFlagged = flaggedCount(policy, prose, proseScores);
    int proseUnsafe = 0;
    for (ContentScores scores : proseScores) {
      proseUnsafe += scores.unsafe() >= PROSE_UNSAFE_SCORE ? 1 : 0;
    }
    List<GroupStatementsResult> groupStatements = new ArrayList<>();
    texts
        .groupProbes()
        .forEach(
            (probe, statements) ->
                groupStatements.add(groupStatements(scorer, policy, name, probe, statements)));
    List<HarmProbeResult> threats = new ArrayList<>();
    threatProbes.forEach(
        (probe, probeTexts) ->
            threats.add(
                harmProbe(scorer, policy, name, probe, probeTexts, RuleFindings::withoutThreats)));
    List<HarmProbeResult> selfHarm = new ArrayList<>();
    texts
        .selfHarmProbes()
        .forEach(
            (probe, probeTexts) ->
                selfHarm.add(
                    harmProbe(
                        scorer, policy, name, probe, probeTexts, RuleFindings::withoutSelfHarm)));
    List<String> children = texts.children();
    List<String> childrenHeld =
        having(
            children,
            decisions(scorer, policy, children, name + " texts about children"),
            d -> d != Decision.RELEASE);

    HolisticResult holisticResult = holistic(scorer, name, policy, holistic);
    Throughput throughput = ThroughputBenchmark.measure(scorer, throughputTexts, log);
    return new ScorerResults(
        name,
        scorer.versions(),
        heads,
        bySource,
        new Rate(safeFlagged, safe),
        new Rate(unsafeFlagged, unsafe),
        new Rate(coFlagged, coconot.size()),
        new ProseResult(new Rate(proseFlagged, prose.size()), new Rate(proseUnsafe, prose.size())),
        List.copyOf(groupStatements),
        xsByType,
        holisticResult,
        throughput,
        threats,
        selfHarm,
        new ChildrenResult(
            new Rate(childrenHeld.size(), children.size()),
            explained(scorer, policy, childrenHeld)),
        reliability);
  }

  /** The row of the texts' overall label ranked by {@link #decisionScore}. */
  static final String OVERALL = "overall";

  /** The row of the texts' overall label ranked by the {@code unsafe} head's probability. */
  static final String UNSAFE_HEAD = "unsafe head";

  /**
   * AUPRC, ROC AUC and F1 / precision / recall on the test split: {@value #OVERALL} ranks the
   * texts' overall label by {@link #decisionScore}, what the policy's thresholds act on, and counts
   * a text flagged when the whole policy would not release it; {@value #UNSAFE_HEAD} ranks it by
   * the {@code unsafe} head, with F1 at the policy's {@code unsafe} REVIEW threshold where it has
   * one (the default policy has none, so the head decides nothing there); then one row per
   * category, flagged at its REVIEW threshold. Texts whose label is unknown, and the generated
   * identity sentences, are left out of each row.
   */
  static Map<String, HeadResult> testHeads(
      Policy policy, List<LabelledText> test, List<ContentScores> testScores, boolean[] flagged) {
    Map<String, HeadResult> heads = new LinkedHashMap<>();
    heads.put(
        OVERALL,
        headResult(
            test,
            Heads.UNSAFE,
            i -> decisionScore(policy, testScores.get(i)),
            i -> flagged[i],
            Double.NaN));
    Double unsafeReview = policy.unsafe() == null ? null : policy.unsafe().review();
    heads.put(
        UNSAFE_HEAD,
        headResult(
            test,
            Heads.UNSAFE,
            i -> testScores.get(i).unsafe(),
            unsafeReview == null ? null : i -> testScores.get(i).unsafe() >= unsafeReview,
            unsafeReview == null ? Double.NaN : unsafeReview));
    for (int h = 1; h < Heads.COUNT; h++) {
      Category category = Category.values()[h - 1];
      double review = policy.categories().get(category).review();
      heads.put(
          Heads.NAMES.get(h),
          headResult(
              test,
              h,
              i -> testScores.get(i).score(category),
              i -> testScores.get(i).score(category) >= review,
              review));
    }
    return heads;
  }

  /**
   * The reliability of the scores the scorer serves on the test split: the {@code unsafe} head,
   * then each category, over the texts {@link #testHeads} counts for that head (label known, no
   * generated identity sentence).
   */
  static Map<String, Reliability> testReliability(
      List<LabelledText> test, List<ContentScores> testScores) {
    Map<String, Reliability> out = new LinkedHashMap<>();
    out.put(UNSAFE_HEAD, reliability(test, Heads.UNSAFE, i -> testScores.get(i).unsafe()));
    for (int h = 1; h < Heads.COUNT; h++) {
      Category category = Category.values()[h - 1];
      out.put(Heads.NAMES.get(h), reliability(test, h, i -> testScores.get(i).score(category)));
    }
    return out;
  }

  private static Reliability reliability(
      List<LabelledText> test, int head, java.util.function.IntToDoubleFunction score) {
    List<Double> s = new ArrayList<>();
    List<Boolean> y = new ArrayList<>();
    for (int i = 0; i < test.size(); i++) {
      byte label = test.get(i).label(head);
      if (label == LabelledText.UNKNOWN || IdentityAugmentation.generated(test.get(i))) {
        continue;
      }
      s.add(score.applyAsDouble(i));
      y.add(label == LabelledText.POSITIVE);
    }
    return Reliability.of(s.stream().mapToDouble(Double::doubleValue).toArray(), toArray(y));
  }

  /**
   * One row of {@link #testHeads}; precision, recall and F1 are NaN when {@code flagged} is null
   * (the policy does not use that score).
   */
  private static HeadResult headResult(
      List<LabelledText> test,
      int head,
      java.util.function.IntToDoubleFunction score,
      java.util.function.IntPredicate flagged,
      double threshold) {
    List<Double> s = new ArrayList<>();
    List<Boolean> y = new ArrayList<>();
    List<Boolean> f = new ArrayList<>();
    for (int i = 0; i < test.size(); i++) {
      byte label = test.get(i).label(head);
      // generated sentences are easy by construction and would flatter every head
      if (label == LabelledText.UNKNOWN || IdentityAugmentation.generated(test.get(i))) {
        continue;
      }
      s.add(score.applyAsDouble(i));
      y.add(label == LabelledText.POSITIVE);
      f.add(flagged != null && flagged.test(i));
    }
    double[] scores = s.stream().mapToDouble(Double::doubleValue).toArray();
    boolean[] labels = toArray(y);
    BinaryMetrics.Confusion confusion = BinaryMetrics.confusion(toArray(f), labels);
    return new HeadResult(
        count(labels),
        labels.length - count(labels),
        BinaryMetrics.averagePrecision(scores, labels),
        BinaryMetrics.rocAuc(scores, labels),
        threshold,
        flagged == null ? Double.NaN : confusion.precision(),
        flagged == null ? Double.NaN : confusion.recall(),
        flagged == null ? Double.NaN : confusion.f1());
  }

  /**
   * The score the policy's thresholds decide on: the highest of each category's score over that
   * category's REVIEW threshold (and the unsafe probability over its own, where the policy sets
   * one). At 1 or above the scores alone send the text to REVIEW, so ranking by it is ranking as
   * the gate does; the bias analysis and the rules add held texts on top, which no score ranks.
   */
  static double decisionScore(Policy policy, ContentScores scores) {
    double max = 0;
    for (Category category : Category.values()) {
      max = Math.max(max, overThreshold(scores.score(category), policy.categories().get(category)));
    }
    if (policy.unsafe() != null) {
      max = Math.max(max, overThreshold(scores.unsafe(), policy.unsafe()));
    }
    return max;
  }

  /**
   * Score over the REVIEW threshold; a threshold of 0 holds everything: the largest finite value,
   * at or above every ratio ({@link BinaryMetrics} refuses an infinite score).
   */
  private static double overThreshold(double score, Thresholds thresholds) {
    return thresholds.review() == 0
        ? Double.MAX_VALUE
        : Math.min(score / thresholds.review(), Double.MAX_VALUE);
  }

  private GroupStatementsResult groupStatements(
      ContentScorer scorer, Policy policy, String name, String probe, GroupStatements statements) {
    List<String> hostile = statements.hostile();
    List<String> plain = statements.plain();
    List<Decision> hostileDecisions =
        decisions(scorer, policy, hostile, name + " " + probe + " hostile");
    List<String> hostileReleased = having(hostile, hostileDecisions, Decision.RELEASE::equals);
    List<Decision> plainDecisions = decisions(scorer, policy, plain, name + " " + probe + " plain");
    List<String> plainHeld = having(plain, plainDecisions, d -> d != Decision.RELEASE);
    return new GroupStatementsResult(
        probe,
        new Rate(hostile.size() - hostileReleased.size(), hostile.size()),
        new Rate(having(hostile, hostileDecisions, Decision.BLOCK::equals).size(), hostile.size()),
        hostileReleased,
        new Rate(plainHeld.size(), plain.size()),
        new Rate(having(plain, plainDecisions, Decision.BLOCK::equals).size(), plain.size()),
        explained(scorer, policy, plainHeld));
  }

  /**
   * One probe of harmful texts and look-alikes, decided with every rule and again without the rule
   * written for that harm ({@code without}), so that the report shows what the models do alone.
   */
  private HarmProbeResult harmProbe(
      ContentScorer scorer,
      Policy policy,
      String name,
      String probe,
      List<ProbeText> texts,
      UnaryOperator<RuleFindings> without) {
    List<String> threats = texts.stream().filter(ProbeText::held).map(ProbeText::text).toList();
    List<String> lookAlikes = texts.stream().filter(t -> !t.held()).map(ProbeText::text).toList();
    List<ContentScores> threatScores = scoreInBatches(scorer, threats, name + " " + probe);
    List<ContentScores> lookAlikeScores =
        scoreInBatches(scorer, lookAlikes, name + " " + probe + " look-alikes");
    List<Decision> threatDecisions =
        decisions(policy, threats, threatScores, UnaryOperator.identity());
    List<Decision> lookAlikeDecisions =
        decisions(policy, lookAlikes, lookAlikeScores, UnaryOperator.identity());
    List<Decision> threatDecisionsWithout = decisions(policy, threats, threatScores, without);
    List<Decision> lookAlikeDecisionsWithout =
        decisions(policy, lookAlikes, lookAlikeScores, without);
    List<String> released = having(threats, threatDecisions, Decision.RELEASE::equals);
    List<String> lookAlikesHeld =
        having(lookAlikes, lookAlikeDecisions, d -> d != Decision.RELEASE);
    return new HarmProbeResult(
        probe,
        new Rate(threats.size() - released.size(), threats.size()),
        new Rate(having(threats, threatDecisions, Decision.BLOCK::equals).size(), threats.size()),
        new Rate(lookAlikesHeld.size(), lookAlikes.size()),
        new Rate(
            threats.size()
                - having(threats, threatDecisionsWithout, Decision.RELEASE::equals).size(),
            threats.size()),
        new Rate(
            having(lookAlikes, lookAlikeDecisionsWithout, d -> d != Decision.RELEASE).size(),
            lookAlikes.size()),
        released,
        lookAlikesHeld);
  }

  /** The threat patterns alone on every evaluation set; they need no scorer. */
  static RuleResult threatPatterns(Texts texts) {
    return ruleMatches(texts, ThreatPatterns::find);
  }

  /** {@link MinorSexualization} on its own, on the same sets as the threat patterns. */
  static RuleResult minorSexualization(Texts texts) {
    return ruleMatches(texts, MinorSexualization::find);
  }

  /** {@link SelfHarmPatterns} on its own, on the same sets as the threat patterns. */
  static RuleResult selfHarmPatterns(Texts texts) {
    return ruleMatches(texts, SelfHarmPatterns::find);
  }

  /** What {@code rule} matches in every evaluation set, whatever the scores. */
  private static RuleResult ruleMatches(Texts texts, Function<String, List<RuleMatch>> rule) {
    Map<String, Rate> matched = new LinkedHashMap<>();
    List<String> benignMatches = new ArrayList<>();
    List<String> probeThreats = new ArrayList<>();
    List<String> probeLookAlikes = new ArrayList<>();
    texts
        .threatProbes()
        .values()
        .forEach(
            probe -> probe.forEach(t -> (t.held() ? probeThreats : probeLookAlikes).add(t.text())));
    countRuleMatches(rule, matched, null, "threat probes: threats", probeThreats);
    countRuleMatches(rule, matched, benignMatches, "threat probes: look-alikes", probeLookAlikes);
    List<String> probeSelfHarm = new ArrayList<>();
    List<String> probeSelfHarmLookAlikes = new ArrayList<>();
    texts
        .selfHarmProbes()
        .values()
        .forEach(
            probe ->
                probe.forEach(
                    t -> (t.held() ? probeSelfHarm : probeSelfHarmLookAlikes).add(t.text())));
    countRuleMatches(rule, matched, null, "self-harm probes: self-harm", probeSelfHarm);
    countRuleMatches(
        rule, matched, benignMatches, "self-harm probes: look-alikes", probeSelfHarmLookAlikes);
    countRuleMatches(
        rule,
        matched,
        null,
        "held-out test split: unsafe",
        labelled(texts.test(), LabelledText.POSITIVE));
    countRuleMatches(
        rule,
        matched,
        benignMatches,
        "held-out test split: benign",
        labelled(texts.test(), LabelledText.NEGATIVE));
    countRuleMatches(
        rule,
        matched,
        benignMatches,
        "XSTest safe prompts",
        texts.xsTest().stream()
            .filter(EvaluationSets.XsTestPrompt::safe)
            .map(p -> p.prompt())
            .toList());
    countRuleMatches(
        rule,
        matched,
        null,
        "XSTest unsafe prompts",
        texts.xsTest().stream().filter(p -> !p.safe()).map(p -> p.prompt()).toList());
    countRuleMatches(rule, matched, benignMatches, "CoCoNot contrast prompts", texts.coconot());
    countRuleMatches(rule, matched, benignMatches, "held-out prose", texts.prose());
    List<String> hostile = new ArrayList<>();
    List<String> plain = new ArrayList<>();
    texts
        .groupProbes()
        .values()
        .forEach(
            probe -> {
              hostile.addAll(probe.hostile());
              plain.addAll(probe.plain());
            });
    countRuleMatches(rule, matched, null, "hostile statements about groups", hostile);
    countRuleMatches(rule, matched, benignMatches, "plain statements about groups", plain);
    countRuleMatches(rule, matched, benignMatches, "benign texts about children", texts.children());
    countRuleMatches(
        rule,
        matched,
        benignMatches,
        "HolisticBias, benign templates",
        texts.holistic().stream().filter(s -> s.benign()).map(s -> s.text()).toList());
    countRuleMatches(
        rule,
        matched,
        null,
        "HolisticBias, dislike templates",
        texts.holistic().stream().filter(s -> s.negativeTemplate()).map(s -> s.text()).toList());
    countRuleMatches(
        rule,
        matched,
        null,
        "HolisticBias, \"sexy\" with child or kid",
        texts.holistic().stream().filter(s -> s.sexualizesChild()).map(s -> s.text()).toList());
    return new RuleResult(matched, benignMatches);
  }

  /** The texts whose overall label is {@code label}. */
  private static List<String> labelled(List<LabelledText> texts, byte label) {
    return texts.stream()
        .filter(t -> t.labels()[Heads.UNSAFE] == label)
        .map(LabelledText::text)
        .toList();
  }

  private static void countRuleMatches(
      Function<String, List<RuleMatch>> rule,
      Map<String, Rate> matched,
      List<String> benignMatches,
      String set,
      List<String> texts) {
    int k = 0;
    for (String text : texts) {
      List<RuleMatch> matches = rule.apply(text);
      if (!matches.isEmpty()) {
        k++;
        if (benignMatches != null) {
          benignMatches.add(
              set
                  + ": "
                  + text
                  + " ("
                  + matches.get(0).rule()
                  + ": \""
                  + matches.get(0).words()
                  + "\")");
        }
      }
    }
    matched.put(set, new Rate(k, texts.size()));
  }

  /** The policy's decision on each of {@code texts}, in order. */
  private List<Decision> decisions(
      ContentScorer scorer, Policy policy, List<String> texts, String what) {
    return decisions(policy, texts, scoreInBatches(scorer, texts, what), UnaryOperator.identity());
  }

  /** The policy's decision on each of {@code texts}, in order, on the rule findings as given. */
  private List<Decision> decisions(
      Policy policy,
      List<String> texts,
      List<ContentScores> scores,
      UnaryOperator<RuleFindings> rules) {
    List<Decision> decisions = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      decisions.add(decide(policy, texts.get(i), scores.get(i), rules).decision());
    }
    return decisions;
  }

  /** The texts, in order, whose decision passes {@code test}. */
  private static List<String> having(
      List<String> texts, List<Decision> decisions, Predicate<Decision> test) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      if (test.test(decisions.get(i))) {
        out.add(texts.get(i));
      }
    }
    return out;
  }

  HolisticResult holistic(
      ContentScorer scorer,
      String name,
      Policy policy,
      List<EvaluationSets.HolisticSentence> sentences) {
    List<ContentScores> scores =
        scoreInBatches(
            scorer,
            sentences.stream().map(EvaluationSets.HolisticSentence::text).toList(),
            name + " HolisticBias");
    Map<String, int[]> byAxis = new TreeMap<>();
    Map<String, int[]> negativeByAxis = new TreeMap<>();
    Map<String, int[]> byDescriptor = new TreeMap<>();
    Map<String, int[]> byPreferredDescriptor = new TreeMap<>();
    Map<String, int[]> byBucket = new TreeMap<>();
    Map<String, int[]> byPreferredBucket = new TreeMap<>();
    Map<String, String> descriptorAxis = new TreeMap<>();
    int benignFlagged = 0;
    int benign = 0;
    int negativeFlagged = 0;
    int negative = 0;
    int[] sexualizedChildren = new int[2];
    int[] dispreferred = new int[2];
    int[] preferred = new int[2];
    for (int i = 0; i < sentences.size(); i++) {
      EvaluationSets.HolisticSentence s = sentences.get(i);
      boolean isFlagged = flagged(policy, s.text(), scores.get(i));
      if (s.negativeTemplate()) {
        negative++;
        negativeFlagged += isFlagged ? 1 : 0;
        tally(negativeByAxis, s.axis(), isFlagged);
        continue;
      }
      if (s.sexualizesChild()) {
        sexualizedChildren[0] += isFlagged ? 1 : 0;
        sexualizedChildren[1]++;
        continue;
      }
      benign++;
      benignFlagged += isFlagged ? 1 : 0;
      tally(byAxis, s.axis(), isFlagged);
      tally(byDescriptor, s.descriptor(), isFlagged);
      // HolisticBias lists a few descriptors under two axes ("queer"); the sentences are the same.
      descriptorAxis.merge(
          s.descriptor(),
          s.axis(),
          (a, b) -> Arrays.asList(a.split(", ")).contains(b) ? a : String.join(", ", a, b));
      tally(byBucket, s.axis() + "/" + s.bucket(), isFlagged);
      if (!s.dispreferred()) {
        tally(byPreferredDescriptor, s.descriptor(), isFlagged);
        tally(byPreferredBucket, s.axis() + "/" + s.bucket(), isFlagged);
      }
      int[] p = s.dispreferred() ? dispreferred : preferred;
      p[0] += isFlagged ? 1 : 0;
      p[1]++;
    }
    Map<String, Rate> axes = rates(byAxis);
    Map<String, Rate> descriptors = rates(byDescriptor);
    Map<String, Rate> preferredDescriptors = rates(byPreferredDescriptor);
    Map<String, Rate> buckets = rates(byBucket);
    Map<String, Rate> unseenPreferred = unseen(preferredDescriptors, TRAINED_DESCRIPTORS);
    return new HolisticResult(
        sentences.size(),
        new Rate(benignFlagged, benign),
        new Rate(negativeFlagged, negative),
        new Rate(sexualizedChildren[0], sexualizedChildren[1]),
        rates(negativeByAxis),
        axes,
        descriptors,
        descriptorAxis,
        minMaxPassRatio(descriptors, 10),
        minMaxPassRatio(axes, 1),
        new Rate(dispreferred[0], dispreferred[1]),
        new Rate(preferred[0], preferred[1]),
        minMaxPassRatio(preferredDescriptors, 10),
        buckets,
        minMaxPassRatio(buckets, 10),
        minMaxPassRatio(rates(byPreferredBucket), 10),
        sameRateRatio(descriptors, 10, benign == 0 ? 0 : benignFlagged / (double) benign, 1000),
        unseenPreferred.size(),
        minMaxPassRatio(unseenPreferred, 10),
        passRatioInterval(descriptors, 10),
        passRatioInterval(preferredDescriptors, 10));
  }

  /**
   * The descriptors the training's identity sentences use (lower case): their HolisticBias pass
   * rates are no unseen measurement, since some were added after this report showed them.
   */
  static final Set<String> TRAINED_DESCRIPTORS =
      IdentityAugmentation.descriptors().stream()
          .map(d -> d.toLowerCase(Locale.ROOT))
          .collect(Collectors.toUnmodifiableSet());

  /** The groups whose name, in lower case, is not in {@code trained}. */
  static Map<String, Rate> unseen(Map<String, Rate> descriptors, Set<String> trained) {
    Map<String, Rate> out = new LinkedHashMap<>();
    descriptors.forEach(
        (descriptor, rate) -> {
          if (!trained.contains(descriptor.toLowerCase(Locale.ROOT))) {
            out.put(descriptor, rate);
          }
        });
    return out;
  }

  /** Counts one sentence of group {@code key}: [flagged, all]. */
  private static void tally(Map<String, int[]> counts, String key, boolean flagged) {
    int[] count = counts.computeIfAbsent(key, k -> new int[2]);
    count[0] += flagged ? 1 : 0;
    count[1]++;
  }

  private static Map<String, Rate> rates(Map<String, int[]> counts) {
    Map<String, Rate> rates = new LinkedHashMap<>();
    counts.forEach((k, v) -> rates.put(k, new Rate(v[0], v[1])));
    return rates;
  }

  /**
   * The median min/max pass-rate ratio that a moderator without any bias, one that flags every
   * sentence independently with the same probability {@code flagRate}, would show on groups of
   * these sizes: the floor that sampling noise alone puts under the ratio (seeded simulation).
   */
  static double sameRateRatio(Map<String, Rate> groups, int minSize, double flagRate, int runs) {
    int[] sizes = groups.values().stream().mapToInt(Rate::n).filter(n -> n >= minSize).toArray();
    if (sizes.length == 0) {
      return Double.NaN;
    }
    Random random = new Random(20_000L + sizes.length);
    double[] ratios = new double[runs];
    for (int run = 0; run < runs; run++) {
      double min = 1;
      double max = 0;
      for (int size : sizes) {
        int flagged = 0;
        for (int i = 0; i < size; i++) {
          flagged += random.nextDouble() < flagRate ? 1 : 0;
        }
        double pass = 1 - flagged / (double) size;
        min = Math.min(min, pass);
        max = Math.max(max, pass);
      }
      ratios[run] = min / max;
    }
    Arrays.sort(ratios);
    return ratios[runs / 2];
  }

  /**
   * Lowest pass rate over highest pass rate, over groups with at least {@code minSize} sentences.
   */
  static double minMaxPassRatio(Map<String, Rate> groups, int minSize) {
    double min = Double.MAX_VALUE;
    double max = 0;
    for (Rate rate : groups.values()) {
      if (rate.n() >= minSize) {
        double pass = 1 - rate.rate();
        min = Math.min(min, pass);
        max = Math.max(max, pass);
      }
    }
    return max == 0 ? Double.NaN : min / max;
  }

  /**
   * Whether the policy would hold the text back (REVIEW or BLOCK), as the moderation job decides:
   * screening, scores, bias findings and threat patterns (no provenance).
   */
  boolean flagged(Policy policy, String text, ContentScores scores) {
    return decide(policy, text, scores).decision() != Decision.RELEASE;
  }

  private PolicyVerdict decide(Policy policy, String text, ContentScores scores) {
    return decide(policy, text, scores, UnaryOperator.identity());
  }

  private PolicyVerdict decide(
      Policy policy, String text, ContentScores scores, UnaryOperator<RuleFindings> rules) {
    if (scoresOnly) {
      return PolicyEngine.decide(policy, ModerationFindings.scored(null, scores));
    }
    TextScreening.Result screened = screening.screen(text);
    BiasFindings findings = bias.analyze(text);
    return PolicyEngine.decide(
        policy,
        ModerationFindings.builder(null)
            .scores(scores)
            .bias(findings)
            .screening(screened.findings())
            .rules(rules.apply(RuleFindings.of(screened.textForScoring())))
            .build());
  }

  /**
   * Held texts with why: the decision, each reason's score and the words it rests on, by occlusion
   * ("... (BLOCK: hate 0.54, without "gay" 0.12)").
   */
  List<String> explained(ContentScorer scorer, Policy policy, List<String> held) {
    WordOcclusion occlusion = new WordOcclusion(scorer);
    List<String> out = new ArrayList<>();
    for (String text : held) {
      ContentScores scores = scorer.score(text);
      PolicyVerdict verdict = decide(policy, text, scores);
      Map<String, List<WordOcclusion.Evidence>> evidence =
          ReasonEvidence.of(occlusion, bias, text, scores, verdict);
      Set<String> parts = new LinkedHashSet<>();
      for (VerdictReason reason : verdict.reasons()) {
        List<WordOcclusion.Evidence> words = evidence.get(ReasonEvidence.key(reason));
        if (words == null) {
          continue;
        }
        StringBuilder part =
            new StringBuilder(reason.category() != null ? reason.category() : "stereotype")
                .append(String.format(Locale.ROOT, " %.2f", reason.score()));
        if (words.isEmpty()) {
          part.append(", no single word moves it");
        }
        for (int i = 0; i < words.size(); i++) {
          part.append(i == 0 ? ", without " : ", ")
              .append('"')
              .append(words.get(i).word())
              .append(String.format(Locale.ROOT, "\" %.2f", words.get(i).scoreWithout()));
        }
        parts.add(part.toString());
      }
      out.add(
          text
              + " ("
              + verdict.decision()
              + (parts.isEmpty() ? "" : ": " + String.join("; ", parts))
              + ")");
    }
    return out;
  }

  /** How many of {@code texts} the policy would hold back. */
  private int flaggedCount(Policy policy, List<String> texts, List<ContentScores> scores) {
    int count = 0;
    for (int i = 0; i < texts.size(); i++) {
      count += flagged(policy, texts.get(i), scores.get(i)) ? 1 : 0;
    }
    return count;
  }

  List<ContentScores> scoreInBatches(ContentScorer scorer, List<String> texts, String what) {
    List<ContentScores> out = new ArrayList<>(texts.size());
    int batch = 256;
    long start = System.nanoTime();
    for (int from = 0; from < texts.size(); from += batch) {
      out.addAll(scorer.scoreBatch(texts.subList(from, Math.min(texts.size(), from + batch))));
      if ((from / batch) % 20 == 19) {
        log.printf(
            "  %s: %d/%d (%.0f texts/s)%n",
            what, out.size(), texts.size(), out.size() / ((System.nanoTime() - start) / 1e9));
      }
    }
    return out;
  }

  static boolean[] toArray(List<Boolean> list) {
    boolean[] out = new boolean[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = list.get(i);
    }
    return out;
  }

  static int count(boolean[] labels) {
    int c = 0;
    for (boolean b : labels) {
      c += b ? 1 : 0;
    }
    return c;
  }

  static String pct(double rate) {
    return Double.isNaN(rate) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", rate * 100);
  }

  static String num(double value) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.3f", value);
  }

  static List<Map.Entry<String, Rate>> worst(Map<String, Rate> rates, int n, int minSize) {
    return rates.entrySet().stream()
        .filter(e -> e.getValue().n() >= minSize)
        .sorted(
            Comparator.comparingDouble((Map.Entry<String, Rate> e) -> e.getValue().rate())
                .reversed())
        .limit(n)
        .toList();
  }
}
