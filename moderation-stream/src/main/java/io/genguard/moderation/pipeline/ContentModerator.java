package io.genguard.moderation.pipeline;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.policy.ModerationFindings;
import io.genguard.moderation.policy.ModerationFindings.ScorerFailure;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.PolicyVerdict;
import io.genguard.moderation.policy.RuleFindings;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.NormalizedText;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Judges outputs: screens the text (empty, enormous, invalid UTF-8, unsupported language), scores
 * it in one batched model call, finds the demographic groups it mentions, the threats of violence
 * it states and any child it describes in sexual terms, checks its provenance, and lets the policy
 * decide. Plain Java: the Flink job and tests call the same code.
 *
 * <p>Fails closed: if the scorer throws or does not answer within the timeout, the affected outputs
 * get a verdict built from a {@link ScorerFailure}, which the policy turns into REVIEW or BLOCK.
 * The timeout bounds a whole batch, the texts scored again one at a time after a failed batch call
 * included, so that a flush (which a checkpoint waits for) never waits on the model for longer.
 */
public final class ContentModerator implements BatchModerator {
  private final Supplier<ContentScorer> scorerFactory;
  private final PolicyEngine policy;
  private final TextScreening screening;
  private final Function<String, BiasFindings> biasAnalysis;
  private final ProvenanceChecker provenance;
  private final Duration scorerTimeout;
  private final Clock clock;
  private final Map<String, String> componentVersions;
  private ContentScorer scorer;
  private ScoringThread scoringThread;

  public ContentModerator(
      Supplier<ContentScorer> scorerFactory,
      PolicyEngine policy,
      TextScreening screening,
      Function<String, BiasFindings> biasAnalysis,
      ProvenanceChecker provenance,
      Map<String, String> componentVersions,
      Duration scorerTimeout,
      Clock clock) {
    this.scorerFactory = scorerFactory;
    this.policy = policy;
    this.screening = screening;
    this.biasAnalysis = biasAnalysis;
    this.provenance = provenance;
    this.componentVersions = Map.copyOf(componentVersions);
    this.scorerTimeout = scorerTimeout;
    this.clock = clock;
    this.scorer = scorerFactory.get();
    this.scoringThread = new ScoringThread(scorer);
  }

  @Override
  public PolicySet policy() {
    return policy.current();
  }

  @Override
  public List<ModerationVerdict> moderate(List<GenerationOutput> outputs) {
    int count = outputs.size();
    List<TextScreening.Result> screened = new ArrayList<>(count);
    // Why an output's own checks threw (a parser or rule failing on one hostile text): that output
    // is decided as a scorer error, fail closed, and the rest of the batch as usual, rather than
    // the whole task failing and replaying the batch for ever.
    String[] failed = new String[count];
    // Where each output's text is in the batch sent to the model; -1 when it is not sent.
    int[] scoreIndex = new int[count];
    List<String> toScore = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String text = outputs.get(i).getText();
      TextScreening.Result result;
      try {
        result = screening.screen(text);
      } catch (RuntimeException | StackOverflowError e) {
        failed[i] = failure("screening", e);
        result = new TextScreening.Result("", List.of(), text.length());
      }
      screened.add(result);
      scoreIndex[i] = -1;
      if (failed[i] == null && result.scorable()) {
        scoreIndex[i] = toScore.size();
        toScore.add(result.textForScoring());
      }
    }
    // The model call runs on the scoring thread while this thread does the work that does not
    // need its scores (groups and stereotype signal, the rules, provenance), so that
    // work costs no time.
    long deadline = System.nanoTime() + scorerTimeout.toNanos();
    PendingScores pending = submit(toScore, deadline);
    List<BiasFindings> bias = new ArrayList<>(count);
    List<RuleFindings> rules = new ArrayList<>(count);
    List<ProvenanceChecker.Checked> provenanceFindings = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      BiasFindings groups = null;
      RuleFindings matched = null;
      ProvenanceChecker.Checked checked = null;
      if (failed[i] == null) {
        try {
          groups = bias(screened.get(i));
          matched = RuleFindings.of(screened.get(i).textForScoring());
          checked = provenance.inspect(outputs.get(i), outputs.get(i).getText());
        } catch (RuntimeException | StackOverflowError e) {
          failed[i] = failure("analysis", e);
          groups = null;
          matched = null;
          checked = null;
        }
      }
      bias.add(groups);
      rules.add(matched);
      provenanceFindings.add(checked);
    }
    ScoringOutcome scoring = await(pending, toScore.size());
    // One text the model could not take must not decide the others (of any tenant): after an
    // error, not a timeout, each text is scored again on its own, within what is left of the
    // batch's deadline. A text not scored by then gets a timeout, as the whole batch would have:
    // a fresh timeout for each text let one flush wait on a model that fails batches and is slow
    // on single texts for many times the checkpoint timeout, so that the checkpoint expired, the
    // job restarted and the same batch came back.
    List<ScoringOutcome> alone = null;
    if (scoring.failure() != null
        && scoring.failure().kind() == ScorerFailure.Kind.ERROR
        && toScore.size() > 1) {
      alone = new ArrayList<>(toScore.size());
      for (String text : toScore) {
        alone.add(
            deadline - System.nanoTime() > 0
                ? await(submit(List.of(text), deadline), 1)
                : new ScoringOutcome(
                    null,
                    new ScorerFailure(
                        ScorerFailure.Kind.TIMEOUT,
                        "the batch failed ("
                            + scoring.failure().message()
                            + ") and this text was not scored again within the batch's "
                            + scorerTimeout.toMillis()
                            + " ms")));
      }
    }
    // Once per batch, not per verdict: the scorer (a fresh one after a timeout above) does not
    // change while the verdicts are built. Sorted, so that scoring the same output again writes
    // the same verdict bytes; every verdict of the batch holds this one (read-only) map.
    Map<String, String> sorted = new TreeMap<>(componentVersions);
    sorted.putAll(scorer.versions());
    Map<String, String> versions = Collections.unmodifiableMap(sorted);
    List<ModerationVerdict> verdicts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      GenerationOutput output = outputs.get(i);
      TextScreening.Result result = screened.get(i);
      ContentScores scores = null;
      ScorerFailure failure = null;
      if (failed[i] != null) {
        failure = new ScorerFailure(ScorerFailure.Kind.ERROR, failed[i]);
      } else if (scoreIndex[i] >= 0) {
        ScoringOutcome own = alone == null ? scoring : alone.get(scoreIndex[i]);
        if (own.failure() != null) {
          failure = own.failure();
        } else {
          scores = own.scores().get(alone == null ? scoreIndex[i] : 0);
        }
      }
      ProvenanceChecker.Checked checked = provenanceFindings.get(i);
      ModerationFindings.Builder found =
          ModerationFindings.builder(output.getTenantId())
              .scores(scores)
              .scorerFailure(failure)
              .bias(bias.get(i))
              .screening(result.findings())
              .rules(rules.get(i))
              .backend(output.getModel() == null ? null : output.getModel().getBackend());
      if (checked != null) {
        found
            .provenance(checked.findings())
            .manifestReason(checked.manifestReason())
            .watermarkReason(checked.watermarkReason())
            .manifestKeyUnknown(checked.manifestKeyUnknown())
            .watermarkClaimMismatch(checked.watermarkClaimMismatch())
            .watermarkRepetitive(checked.watermarkRepetitive());
      }
      ModerationFindings findings = found.build();
      verdicts.add(verdict(output, result, findings, policy.decide(findings), versions));
    }
    return verdicts;
  }

  /**
   * The groups of one screened text. The analyzer reads the words the screening's language check
   * normalized and split already (the same words, {@link NormalizedText}); another function (a
   * test's) gets the text.
   */
  private BiasFindings bias(TextScreening.Result screened) {
    return biasAnalysis instanceof BiasAnalyzer analyzer
        ? analyzer.analyze(screened.normalized())
        : biasAnalysis.apply(screened.textForScoring());
  }

  /** What failed on one output, for its verdict's scorer-error reason (cut to 200 characters). */
  private static String failure(String stage, Throwable e) {
    String message = stage + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage();
    return message.length() > 200 ? message.substring(0, 200) + "..." : message;
  }

  private record ScoringOutcome(List<ContentScores> scores, ScorerFailure failure) {}

  /** A model call in flight; {@code deadline} is when it counts as timed out (System.nanoTime). */
  private record PendingScores(Future<List<ContentScores>> future, long deadline) {}

  private PendingScores submit(List<String> texts, long deadline) {
    if (texts.isEmpty()) {
      return null;
    }
    return new PendingScores(scoringThread.score(texts), deadline);
  }

  private ScoringOutcome await(PendingScores pending, int texts) {
    if (pending == null) {
      return new ScoringOutcome(List.of(), null);
    }
    try {
      List<ContentScores> scores =
          pending
              .future()
              .get(Math.max(0, pending.deadline() - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (scores.size() != texts) {
        return new ScoringOutcome(
            null,
            new ScorerFailure(
                ScorerFailure.Kind.ERROR,
                "scorer returned " + scores.size() + " results for " + texts + " texts"));
      }
      return new ScoringOutcome(scores, null);
    } catch (TimeoutException e) {
      pending.future().cancel(true);
      // The stuck call keeps its thread and scorer instance; later batches get fresh ones. The
      // thread closes its scorer once the call returns (not under it, and not never: a scorer
      // holds native memory), unless the factory gave the same instance again.
      ContentScorer stuck = scorer;
      scorer = scorerFactory.get();
      scoringThread.retire(scorer != stuck);
      scoringThread = new ScoringThread(scorer);
      return new ScoringOutcome(
          null,
          new ScorerFailure(
              ScorerFailure.Kind.TIMEOUT,
              "scorer did not answer within " + scorerTimeout.toMillis() + " ms"));
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return new ScoringOutcome(
          null,
          new ScorerFailure(
              ScorerFailure.Kind.ERROR,
              cause.getClass().getSimpleName() + ": " + cause.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ScoringOutcome(null, new ScorerFailure(ScorerFailure.Kind.ERROR, "interrupted"));
    }
  }

  private ModerationVerdict verdict(
      GenerationOutput output,
      TextScreening.Result screened,
      ModerationFindings findings,
      PolicyVerdict decided,
      Map<String, String> versions) {
    Map<String, Double> categories = new LinkedHashMap<>();
    double unsafe = 0;
    if (findings.scores() != null) {
      unsafe = findings.scores().unsafe();
      for (Category category : Category.values()) {
        categories.put(category.id(), findings.scores().score(category));
      }
    }
    return ModerationVerdict.newBuilder()
        .setEventId(
            EventIds.nameBased("verdict-event", output.getOutputId(), decided.policyVersion()))
        .setVerdictId(EventIds.nameBased("verdict", output.getOutputId(), decided.policyVersion()))
        .setOutputId(output.getOutputId())
        .setRequestId(output.getRequestId())
        .setTenantId(output.getTenantId())
        .setOutputSha256(ContentHash.sha256Hex(output.getText()))
        .setDecision(decided.decision())
        .setReasons(decided.avroReasons())
        .setUnsafeScore(unsafe)
        .setCategoryScores(categories)
        .setGroups(findings.bias() == null ? List.of() : findings.bias().groups())
        .setProvenance(findings.provenance())
        .setTextTruncated(screened.truncated())
        .setPolicyId(decided.policyId())
        .setPolicyVersion(decided.policyVersion())
        .setPolicySha256(decided.policySha256())
        .setScorerVersions(versions)
        .setModel(output.getModel())
        .setAttributes(Map.copyOf(output.getAttributes()))
        .setDecidedAt(clock.instant())
        .build();
  }

  /**
   * Closes the scorer: at once when no call is in flight (waiting up to a second for the thread to
   * stop), else when the call returns.
   */
  @Override
  public void close() {
    scoringThread.retire(true);
    try {
      scoringThread.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The one thread that calls a scorer instance (scorers are thread-confined). Once retired it
   * takes no more calls, and closes its scorer when the call in flight, if any, has returned.
   */
  private static final class ScoringThread extends ThreadPoolExecutor {
    private final ContentScorer scorer;
    private volatile boolean closeScorer;

    ScoringThread(ContentScorer scorer) {
      super(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(),
          runnable -> {
            Thread thread = new Thread(runnable, "content-scorer");
            thread.setDaemon(true);
            return thread;
          });
      this.scorer = scorer;
    }

    Future<List<ContentScores>> score(List<String> texts) {
      return submit(() -> scorer.scoreBatch(texts));
    }

    /** Takes no more calls; interrupts the one in flight; closes the scorer after it if asked. */
    void retire(boolean closeScorerAfter) {
      closeScorer = closeScorerAfter;
      shutdownNow();
    }

    /** Runs once no call is in flight and none can start (after {@link #retire}). */
    @Override
    protected void terminated() {
      if (closeScorer) {
        scorer.close();
      }
    }
  }
}
