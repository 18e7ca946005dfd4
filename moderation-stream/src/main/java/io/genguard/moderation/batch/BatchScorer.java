package io.genguard.moderation.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.policy.InvalidPolicyException;
import io.genguard.moderation.policy.ModerationFindings;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.PolicyVerdict;
import io.genguard.moderation.policy.ReasonEvidence;
import io.genguard.moderation.policy.RuleFindings;
import io.genguard.moderation.policy.VerdictReason;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.RuleMatch;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.WordOcclusion;
import io.genguard.schemas.ErrorMessages;
import io.genguard.schemas.ReplacingFiles;
import io.genguard.schemas.UnusablePaths;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The {@code score} batch command: moderates a JSON-lines file offline, for backfills and
 * evaluation, with the same scorers, bias analysis, text screening and policy as the stream job.
 *
 * <pre>
 * score --in IN.jsonl --out OUT.jsonl [--policy FILE] [--scorer NAME] [--tenant ID] [--batch-size N]
 *       [--explain] [--classifier-dir DIR --classifier-labels MAP [--classifier-max-tokens N]]
 * </pre>
 *
 * The {@code --classifier-*} flags configure {@code --scorer onnx-classifier} ({@link
 * ScorerConfig#fromOptions}); they are refused with any other scorer.
 *
 * <p>IN holds one JSON object a line with {@code id} and {@code text} (a UTF-8 byte-order mark
 * before the first is skipped). OUT gets exactly one line per input line, in order: {@code id},
 * {@code unsafe}, {@code categories}, {@code groups}, {@code decision}, {@code reasons}, {@code
 * textTruncated}, {@code policyId}, {@code policyVersion}, {@code policySha256}, {@code
 * scorerVersions}; or {@code id} (when known), {@code line} and {@code error} for a line that is
 * not a JSON object with a string {@code text}, or whose text the analysis failed on (the other
 * lines are still judged). Text that is empty, enormous, not UTF-8 or not English is still judged
 * and gets a reason saying so (an empty text is never given to the scorer, and is counted as empty,
 * not as scored). When the scorer fails on a batch, each of its texts is scored alone, and only a
 * text the scorer fails on alone is held as the policy's scorer-error rule says (its row has {@code
 * unsafe} and {@code categories} null and is counted apart, not as scored). With {@code --explain},
 * every category or stereotype reason of a text that was not released carries {@code evidence}: the
 * words whose removal lowers that score the most, each with the score without it ({@link
 * WordOcclusion}). The rows go to a temporary file beside OUT, which replaces OUT (atomically where
 * the file system can) only when every line is written: a run that fails or is stopped (SIGTERM,
 * Ctrl-C) leaves the previous OUT as it was and removes its temporary file. Progress goes to
 * stderr. Exit 0 when every line was judged (scored, or empty), {@value #SCORER_FAILED} when the
 * scorer failed on some (whatever else), {@value #SOME_LINES_FAILED} when some were errors (the
 * rest scored and written), 2 for a usage error (the benchmark scorer included), 1 when the run
 * failed.
 */
public final class BatchScorer {
  /** Lines longer than this are reported as errors without being parsed. */
  static final int MAX_LINE_BYTES = 16 * 1024 * 1024;

  static final int DEFAULT_BATCH_SIZE = 64;

  /** The largest {@code --batch-size}: a model call over more texts only holds more at once. */
  static final int MAX_BATCH_SIZE = 4096;

  /**
   * A batch is scored once its lines hold this many bytes, full or not: so at most this much, plus
   * one line, is held however long the lines ({@link #MAX_LINE_BYTES} each).
   */
  static final long MAX_PENDING_BYTES = 32L * 1024 * 1024;

  static final String USAGE =
      "usage: score --in IN.jsonl --out OUT.jsonl [--policy FILE] [--scorer NAME] [--tenant ID] [--batch-size N] [--explain]"
          + " [--classifier-dir DIR --classifier-labels LABEL=CATEGORY[,CATEGORY];... [--classifier-max-tokens N]]";

  /** Strict: text after a line's JSON value makes the line an error, not a silently cut one. */
  /** Strict: a repeated key makes the line an error too, so no second "text" wins silently. */
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** The exit status of a run that wrote every line but some of them as errors. */
  static final int SOME_LINES_FAILED = 4;

  /**
   * The exit status of a run that wrote every line but the scorer failed on some of them: they have
   * no scores and are held as the policy's scorer-error rule says.
   */
  static final int SCORER_FAILED = 5;

  /** What the command is run with. */
  public record Options(
      Path in,
      Path out,
      Path policy,
      ScorerConfig scorer,
      String tenant,
      int batchSize,
      boolean explain) {}

  /**
   * Counts of one run: {@code scorerFailures} are the lines judged without scores because the
   * scorer failed on their text (scored alone, after it failed on their batch); {@code emptyTexts}
   * are the lines whose text is empty, judged by screening without the scorer; {@code scored}
   * counts neither.
   */
  public record Summary(
      long lines,
      long scored,
      long errors,
      long scorerFailures,
      long emptyTexts,
      Map<String, Long> decisions) {}

  private final ContentScorer scorer;
  private final PolicyEngine policy;
  private final PolicySet policies;
  private final Function<String, BiasFindings> bias;
  private final TextScreening screening;
  private final String tenant;
  private final int batchSize;
  private long pendingBytesLimit = MAX_PENDING_BYTES;
  private final PrintStream progress;
  private final Map<String, String> versions;
  private WordOcclusion occlusion;

  public BatchScorer(
      ContentScorer scorer,
      PolicySet policies,
      Function<String, BiasFindings> bias,
      Map<String, String> biasVersions,
      TextScreening screening,
      String tenant,
      int batchSize,
      PrintStream progress) {
    this.scorer = scorer;
    this.policies = policies;
    this.policy = PolicyEngine.of(policies);
    this.bias = bias;
    this.screening = screening;
    this.tenant = tenant;
    this.batchSize = batchSize;
    this.progress = progress;
    // Sorted, so that two runs over the same input write the same bytes.
    Map<String, String> all = new TreeMap<>(scorer.versions());
    all.putAll(biasVersions);
    all.put("text-screening", "max-chars=" + screening.maxChars());
    all.putAll(RuleFindings.versions());
    this.versions = Collections.unmodifiableMap(all);
  }

  /** With another bound on the bytes of the lines held for one batch: a seam for the tests. */
  BatchScorer withPendingBytesLimit(long limit) {
    this.pendingBytesLimit = limit;
    return this;
  }

  /** Adds evidence words to the category and stereotype reasons of texts that are not released. */
  public BatchScorer explainingHeldTexts() {
    this.occlusion = new WordOcclusion(scorer);
    return this;
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs the command with stderr for progress; returns the exit status (0 ok, 1 failed, 2 usage,
   * including a {@code --tenant} the policy does not name).
   */
  public static int run(String[] args) {
    return run(args, System.err);
  }

  public static int run(String[] args, PrintStream stderr) {
    return run(args, stderr, ScorerFactory::create);
  }

  /** With the scorer built by {@code scorers}: a seam for the tests. */
  static int run(String[] args, PrintStream stderr, Function<ScorerConfig, ContentScorer> scorers) {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      stderr.println(e.getMessage());
      // A classifier setting that cannot be used says what to change: the usage line is for the
      // form of the command.
      if (!(e instanceof ClassifierSettingException)) {
        stderr.println(USAGE);
      }
      return 2;
    }
    // The file the user named: a usage error (exit 2), as every other command's input file is,
    // found before any model loads; one that is there but fails as it is read fails the run (1).
    String unusableInput = unusableInput(options.in());
    if (unusableInput != null) {
      stderr.println("score: --in " + options.in() + " " + unusableInput);
      return 2;
    }
    // Checked before scoring: the rows replace OUT only at the end, and a folder there (or no
    // folder to write in) would fail the run only after every line was scored.
    if (Files.isDirectory(options.out())) {
      stderr.println("score: --out " + options.out() + " is a directory; name a file in it");
      stderr.println(USAGE);
      return 2;
    }
    Path outFolder = options.out().toAbsolutePath().getParent();
    if (outFolder == null || !Files.isDirectory(outFolder)) {
      stderr.println("score: the folder of --out " + options.out() + " does not exist");
      stderr.println(USAGE);
      return 2;
    }
    // The output replaces OUT at the end: the input itself (or a link to it) would be replaced.
    try {
      if (Files.exists(options.out()) && Files.isSameFile(options.in(), options.out())) {
        stderr.println(
            "score: --out "
                + options.out()
                + " is the input file; the output would replace the input");
        stderr.println(USAGE);
        return 2;
      }
    } catch (java.io.IOException e) {
      stderr.println("score: cannot compare --in and --out: " + e);
      return 1;
    }
    PolicySet policies;
    try {
      policies =
          options.policy() == null
              ? PolicyLoader.loadDefault()
              : PolicyLoader.load(options.policy());
    } catch (InvalidPolicyException e) {
      // The file given is wrong (or cannot be read): a usage error, refused with its line.
      stderr.println("score: --policy: " + e.getMessage());
      return 2;
    }
    try {
      // Named on purpose, so a typo must not quietly score with the default rules.
      if (options.tenant() != null && !policies.tenants().containsKey(options.tenant())) {
        stderr.println(
            "score: unknown tenant '"
                + options.tenant()
                + "': policy "
                + policies.policyId()
                + " names "
                + (policies.tenants().isEmpty()
                    ? "no tenants"
                    : "the tenants "
                        + String.join(", ", new TreeSet<>(policies.tenants().keySet())))
                + "; leave out --tenant for its default rules");
        return 2;
      }
      BiasAnalyzer bias = BiasAnalyzer.loadDefault();
      stderr.println("score: loading scorer " + options.scorer().name());
      try (ContentScorer scorer = scorers.apply(options.scorer());
          InputStream in = Files.newInputStream(options.in());
          // Removed on failure and by a shutdown hook (SIGTERM, Ctrl-C): the previous OUT stays.
          ReplacingFiles.Replacement out =
              ReplacingFiles.open(
                  options.out(),
                  ReplacingFiles.OnStop.REMOVE,
                  line -> stderr.println("score: " + line))) {
        BatchScorer batch =
            new BatchScorer(
                scorer,
                policies,
                bias,
                bias.versions(),
                TextScreening.defaults(),
                options.tenant(),
                options.batchSize(),
                stderr);
        if (options.explain()) {
          batch.explainingHeldTexts();
        }
        stderr.println(
            "score: policy "
                + policies.policyId()
                + " version "
                + policies.version()
                + ", versions "
                + batch.versions);
        Summary summary = batch.score(in, out.stream());
        out.commit();
        stderr.printf(
            "score: done: %d lines, %d scored, %d errors, %d not scored (the scorer failed),"
                + " %d empty (judged without scores), decisions %s; wrote %s%n",
            summary.lines(),
            summary.scored(),
            summary.errors(),
            summary.scorerFailures(),
            summary.emptyTexts(),
            summary.decisions(),
            options.out());
        if (summary.errors() > 0) {
          stderr.printf(
              "score: %d of %d lines were not scored (their \"error\" says why)%s%n",
              summary.errors(),
              summary.lines(),
              summary.scorerFailures() > 0 ? "" : "; exit " + SOME_LINES_FAILED);
        }
        if (summary.scorerFailures() > 0) {
          stderr.printf(
              "score: the scorer failed on %d of %d lines: they have no scores (\"unsafe\": null)"
                  + " and the decision of the policy's scorer-error rule; exit %d%n",
              summary.scorerFailures(), summary.lines(), SCORER_FAILED);
          return SCORER_FAILED;
        }
        if (summary.errors() > 0) {
          return SOME_LINES_FAILED;
        }
      }
      return 0;
    } catch (RuntimeException | IOException e) {
      stderr.println(
          "score: failed: " + ErrorMessages.oneLine(e) + "; left " + options.out() + " as it was");
      return 1;
    }
  }

  /**
   * Why {@code in} cannot be scored, in the words of the other commands' input files (a missing
   * file, a folder, a file this user may not read), or null when it can be opened.
   */
  private static String unusableInput(Path in) {
    String why = UnusablePaths.whyNotAFileToRead(in);
    if (why == null && !Files.isRegularFile(in)) {
      // A pipe or a device is not taken as input.
      return "is not a regular file";
    }
    return why;
  }

  static Options parse(String[] args) {
    Map<String, String> values = new LinkedHashMap<>();
    boolean explain = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--explain")) {
        explain = true;
        continue;
      }
      // A flag where its value should be ("--out --explain") is a missing value, not a file name.
      if (!arg.startsWith("--") || i + 1 >= args.length || args[i + 1].startsWith("--")) {
        throw new IllegalArgumentException(
            "score: unexpected argument '"
                + arg
                + "'"
                + (arg.startsWith("--") ? " (no value)" : ""));
      }
      // Given twice, the last would win silently: "--policy strict.yaml ... --policy old.yaml".
      if (values.put(arg.substring(2), args[++i]) != null) {
        throw new IllegalArgumentException(
            "score: option " + arg + " is given twice; give it once");
      }
    }
    for (String key : values.keySet()) {
      if (!List.of("in", "out", "policy", "scorer", "tenant", "batch-size").contains(key)
          && !ScorerConfig.OPTIONS.contains(key)) {
        throw new IllegalArgumentException("score: unknown option --" + key);
      }
    }
    if (!values.containsKey("in") || !values.containsKey("out")) {
      throw new IllegalArgumentException("score: --in and --out are required");
    }
    int batchSize;
    try {
      batchSize =
          Integer.parseInt(values.getOrDefault("batch-size", String.valueOf(DEFAULT_BATCH_SIZE)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("score: --batch-size must be a number");
    }
    if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new IllegalArgumentException(
          "score: --batch-size must be 1-" + MAX_BATCH_SIZE + ", was " + batchSize);
    }
    return new Options(
        Path.of(values.get("in")),
        Path.of(values.get("out")),
        values.containsKey("policy") ? Path.of(values.get("policy")) : null,
        scorer(values),
        values.get("tenant"),
        batchSize,
        explain);
  }

  private static ScorerConfig scorer(Map<String, String> values) {
    String name = values.getOrDefault("scorer", ScorerConfig.DEFAULT_NAME);
    try {
      // It scores every text 0: a backfill with it would release whatever the rules miss.
      ScorerFactory.configured("--scorer", name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("score: " + e.getMessage(), e);
    }
    try {
      return ScorerConfig.fromOptions(name, values);
    } catch (IllegalArgumentException e) {
      throw new ClassifierSettingException("score: " + e.getMessage(), e);
    }
  }

  /**
   * A {@code --classifier-*} setting that cannot be used (a folder missing or incomplete, a label
   * map that does not fit, a flag with another scorer): refused in one line, without the usage
   * line.
   */
  static final class ClassifierSettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    ClassifierSettingException(String message, IllegalArgumentException cause) {
      super(message, cause);
    }
  }

  /** One input line, parsed or failed. */
  private record Item(long line, JsonNode id, String text, String error) {}

  /**
   * Scores every line of {@code in} into {@code out}; streams, so inputs may be larger than memory.
   */
  public Summary score(InputStream in, OutputStream out) throws IOException {
    BufferedInputStream input = new BufferedInputStream(in, 1 << 16);
    BufferedOutputStream output = new BufferedOutputStream(out, 1 << 16);
    List<Item> pending = new ArrayList<>();
    long pendingBytes = 0;
    long[] counts = new long[5];
    Map<String, Long> decisions = new LinkedHashMap<>();
    long started = System.nanoTime();
    long lastReport = started;
    long lineNumber = 0;
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    boolean tooLong = false;
    int b;
    boolean more = true;
    try {
      while (more) {
        b = input.read();
        if (b == -1) {
          more = false;
          if (line.size() == 0 && !tooLong) {
            break; // no trailing partial line
          }
        } else if (b != '\n') {
          if (line.size() < MAX_LINE_BYTES) {
            line.write(b);
          } else {
            tooLong = true;
          }
          continue;
        }
        lineNumber++;
        pending.add(
            tooLong
                ? new Item(
                    lineNumber,
                    null,
                    null,
                    "the line is longer than "
                        + MAX_LINE_BYTES
                        + " bytes; split the text or shorten it")
                : parse(lineNumber, line.toByteArray()));
        pendingBytes += line.size();
        line.reset();
        tooLong = false;
        if (pending.size() >= batchSize || pendingBytes >= pendingBytesLimit) {
          flush(pending, output, counts, decisions);
          pendingBytes = 0;
        }
        long now = System.nanoTime();
        if (now - lastReport > 5_000_000_000L) {
          progress.printf(
              "score: %d lines (%.0f lines/s)%n", lineNumber, lineNumber / ((now - started) / 1e9));
          lastReport = now;
        }
      }
      flush(pending, output, counts, decisions);
    } finally {
      // The rows already written stay written when reading or scoring fails part way.
      output.flush();
    }
    return new Summary(lineNumber, counts[1], counts[2], counts[3], counts[4], decisions);
  }

  private Item parse(long lineNumber, byte[] bytes) {
    int length = bytes.length;
    if (length > 0 && bytes[length - 1] == '\r') {
      length--;
    }
    // Lenient decoding: invalid UTF-8 becomes U+FFFD, which text screening reports as a reason.
    String raw = new String(bytes, 0, length, StandardCharsets.UTF_8);
    if (lineNumber == 1 && raw.startsWith("\uFEFF")) {
      raw = raw.substring(1); // a UTF-8 byte-order mark, as some editors write, is not content
    }
    if (raw.isBlank()) {
      return new Item(
          lineNumber,
          null,
          null,
          "the line is empty; expected a JSON object with \"id\" and \"text\"");
    }
    JsonNode node;
    try {
      node = JSON.readTree(raw);
    } catch (JsonProcessingException e) {
      return new Item(lineNumber, null, null, "not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      return new Item(
          lineNumber,
          null,
          null,
          "expected a JSON object with \"id\" and \"text\", got "
              + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase()));
    }
    JsonNode id = node.get("id");
    JsonNode text = node.get("text");
    if (text == null || text.isNull()) {
      return new Item(lineNumber, id, null, "missing \"text\"");
    }
    if (!text.isTextual()) {
      return new Item(
          lineNumber,
          id,
          null,
          "\"text\" must be a string, got " + text.getNodeType().toString().toLowerCase());
    }
    return new Item(lineNumber, id, text.asText(), null);
  }

  private void flush(List<Item> items, OutputStream out, long[] counts, Map<String, Long> decisions)
      throws IOException {
    if (items.isEmpty()) {
      return;
    }
    List<TextScreening.Result> screened = new ArrayList<>();
    List<String> toScore = new ArrayList<>();
    for (Item item : items) {
      TextScreening.Result result = item.error() == null ? screening.screen(item.text()) : null;
      screened.add(result);
      if (result != null && result.scorable()) {
        toScore.add(result.textForScoring());
      }
    }
    // Scores of the scorable texts in order; a text the scorer failed on alone has null scores and
    // its failure in failures.
    List<ContentScores> scores = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    if (!toScore.isEmpty()) {
      String batchFailure = null;
      try {
        scores.addAll(scorer.scoreBatch(toScore));
        toScore.forEach(t -> failures.add(null));
      } catch (RuntimeException | StackOverflowError e) {
        batchFailure = describe(e);
      }
      if (batchFailure != null && toScore.size() == 1) {
        scores.add(null);
        failures.add(batchFailure);
      } else if (batchFailure != null) {
        // One text the scorer cannot handle must not cost its neighbours their scores: score each
        // text of the batch alone, and hold only those that fail alone.
        progress.println(
            "score: the scorer failed on lines "
                + items.get(0).line()
                + ".."
                + items.get(items.size() - 1).line()
                + " ("
                + batchFailure
                + "); scoring each of their texts alone");
        for (String text : toScore) {
          ContentScores alone = null;
          String failure = null;
          try {
            alone = scorer.scoreBatch(List.of(text)).get(0);
          } catch (RuntimeException | StackOverflowError e) {
            failure = describe(e);
          }
          scores.add(alone);
          failures.add(failure);
        }
      }
    }
    int next = 0;
    for (int i = 0; i < items.size(); i++) {
      Item item = items.get(i);
      ObjectNode row = JSON.createObjectNode();
      row.set("id", item.id() == null ? JSON.nullNode() : item.id());
      if (item.error() != null) {
        row.put("line", item.line());
        row.put("error", item.error());
        counts[2]++;
      } else {
        TextScreening.Result result = screened.get(i);
        ContentScores s = null;
        ModerationFindings.ScorerFailure scorerFailure = null;
        if (result.scorable()) {
          String failure = failures.get(next);
          s = scores.get(next++);
          if (failure != null) {
            progress.println(
                "score: line "
                    + item.line()
                    + ": the scorer failed on its text alone ("
                    + failure
                    + "); it gets the policy's scorer-error decision");
            scorerFailure =
                new ModerationFindings.ScorerFailure(
                    ModerationFindings.ScorerFailure.Kind.ERROR, failure);
          }
        }
        try {
          PolicyVerdict verdict = judge(row, item, result, s, scorerFailure);
          // Judged, but without scores: held by the scorer-error rule, not scored; an empty text
          // is judged by screening alone, never given to the scorer, so not scored either.
          counts[scorerFailure != null ? 3 : result.scorable() ? 1 : 4]++;
          decisions.merge(verdict.decision().name(), 1L, Long::sum);
        } catch (RuntimeException | StackOverflowError e) {
          // One text the analysis cannot handle (a regex recursing on hostile input throws
          // StackOverflowError, which unwinds cleanly) is that line's error, not the run's end.
          String error =
              "could not judge the text ("
                  + e.getClass().getSimpleName()
                  + (e.getMessage() == null ? "" : ": " + e.getMessage())
                  + "); it has no verdict: report the line as a moderator defect";
          progress.println("score: line " + item.line() + ": " + error);
          row.removeAll();
          row.set("id", item.id() == null ? JSON.nullNode() : item.id());
          row.put("line", item.line());
          row.put("error", error);
          counts[2]++;
        }
      }
      out.write(JSON.writeValueAsBytes(row));
      out.write('\n');
    }
    items.clear();
  }

  private static String describe(Throwable e) {
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /** Judges one screened text into {@code row}; returns its verdict. */
  private PolicyVerdict judge(
      ObjectNode row,
      Item item,
      TextScreening.Result result,
      ContentScores s,
      ModerationFindings.ScorerFailure scorerFailure) {
    BiasFindings findings =
        result.scorable() ? bias.apply(result.textForScoring()) : BiasFindings.NONE;
    RuleFindings rules =
        result.scorable() ? RuleFindings.of(result.textForScoring()) : RuleFindings.NONE;
    PolicyVerdict verdict =
        policy.decide(
            ModerationFindings.builder(tenant)
                .scores(s)
                .scorerFailure(scorerFailure)
                .bias(findings)
                .screening(result.findings())
                .rules(rules)
                .build());
    write(row, s, findings, rules, verdict, result, evidence(item, result, s, verdict));
    return verdict;
  }

  /** Evidence words per reason of a held text ({@link ReasonEvidence}), when explaining. */
  private Map<String, List<WordOcclusion.Evidence>> evidence(
      Item item, TextScreening.Result screened, ContentScores scores, PolicyVerdict verdict) {
    if (occlusion == null || !screened.scorable()) {
      return Map.of();
    }
    try {
      return ReasonEvidence.of(occlusion, bias, screened.textForScoring(), scores, verdict);
    } catch (RuntimeException | StackOverflowError e) {
      // The verdict stands without its explanation.
      progress.println(
          "score: could not explain line " + item.line() + " (" + e + "); no evidence");
      return Map.of();
    }
  }

  private void write(
      ObjectNode row,
      ContentScores scores,
      BiasFindings findings,
      RuleFindings rules,
      PolicyVerdict verdict,
      TextScreening.Result screened,
      Map<String, List<WordOcclusion.Evidence>> evidence) {
    if (scores != null) {
      row.put("unsafe", round(scores.unsafe()));
      ObjectNode categories = row.putObject("categories");
      for (Category category : Category.values()) {
        categories.put(category.id(), round(scores.score(category)));
      }
    } else {
      row.putNull("unsafe");
      row.putNull("categories");
    }
    ArrayNode groups = row.putArray("groups");
    findings.groups().forEach(groups::add);
    putMatches(row.putArray("threats"), rules.threats());
    putMatches(row.putArray("sexualizedMinors"), rules.sexualizedMinors());
    putMatches(row.putArray("framedPrejudice"), rules.framedPrejudice());
    putMatches(row.putArray("selfHarm"), rules.selfHarm());
    row.put("decision", verdict.decision().name());
    ArrayNode reasons = row.putArray("reasons");
    for (VerdictReason reason : verdict.reasons()) {
      ObjectNode r = reasons.addObject();
      r.put("code", reason.code());
      r.put("decision", reason.decision().name());
      if (reason.category() != null) {
        r.put("category", reason.category());
      }
      if (reason.score() != null) {
        r.put("score", round(reason.score()));
      }
      if (reason.threshold() != null) {
        r.put("threshold", reason.threshold());
      }
      r.put("message", reason.message());
      List<WordOcclusion.Evidence> words = evidence.get(ReasonEvidence.key(reason));
      if (words != null) {
        ArrayNode list = r.putArray("evidence");
        for (WordOcclusion.Evidence word : words) {
          list.addObject().put("word", word.word()).put("scoreWithout", round(word.scoreWithout()));
        }
      }
    }
    if (!findings.targetedGroups().isEmpty()) {
      ArrayNode targeted = row.putArray("targetedGroups");
      findings.targetedGroups().forEach(targeted::add);
    }
    row.put("textTruncated", screened.truncated());
    row.put("policyId", verdict.policyId());
    row.put("policyVersion", verdict.policyVersion());
    row.put("policySha256", verdict.policySha256());
    ObjectNode scorerVersions = row.putObject("scorerVersions");
    versions.forEach(scorerVersions::put);
  }

  private static void putMatches(ArrayNode list, List<RuleMatch> matches) {
    for (RuleMatch match : matches) {
      list.addObject()
          .put("rule", match.rule())
          .put("words", match.words())
          .put("sentence", match.sentence());
    }
  }

  static double round(double value) {
    return Math.round(value * 1e6) / 1e6;
  }

  /** The policy set this scorer decides with. */
  public PolicySet policies() {
    return policies;
  }
}
