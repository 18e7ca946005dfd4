package io.genguard.moderation.pipeline;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ProvenanceFindings;
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
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.EventIds;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
  private ExecutorService scoringThread;

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
    this.scoringThread = newScoringThread();
  }

  @Override
  public PolicySet policy() {
    return policy.current();
  }

  @Override
  public List<ModerationVerdict> moderate(List<GenerationOutput> outputs) {
    List<TextScreening.Result> screened = new ArrayList<>(outputs.size());
    List<String> toScore = new ArrayList<>();
    for (GenerationOutput output : outputs) {
      TextScreening.Result result = screening.screen(output.getText());
      screened.add(result);
      if (result.scorable()) {
        toScore.add(result.textForScoring());
      }
    }
    // The model call runs on the scoring thread while this thread does the work that does not
    // need its scores (groups and stereotype signal, the rules, provenance), so that
    // work costs no time.
    PendingScores pending = submit(toScore);
    List<BiasFindings> bias = new ArrayList<>(outputs.size());
    List<RuleFindings> rules = new ArrayList<>(outputs.size());
    List<ProvenanceFindings> provenanceFindings = new ArrayList<>(outputs.size());
    for (int i = 0; i < outputs.size(); i++) {
      bias.add(biasAnalysis.apply(screened.get(i).textForScoring()));
      rules.add(RuleFindings.of(screened.get(i).textForScoring()));
      provenanceFindings.add(provenance.check(outputs.get(i), outputs.get(i).getText()));
    }
    ScoringOutcome scoring = await(pending, toScore.size());
    List<ModerationVerdict> verdicts = new ArrayList<>(outputs.size());
    int next = 0;
    for (int i = 0; i < outputs.size(); i++) {
      GenerationOutput output = outputs.get(i);
      TextScreening.Result result = screened.get(i);
      ContentScores scores = null;
      ScorerFailure failure = null;
      if (result.scorable()) {
        if (scoring.failure() != null) {
          failure = scoring.failure();
        } else {
          scores = scoring.scores().get(next);
        }
        next++;
      }
      ModerationFindings findings =
          new ModerationFindings(
              output.getTenantId(),
              scores,
              failure,
              bias.get(i),
              provenanceFindings.get(i),
              result.findings(),
              rules.get(i));
      verdicts.add(verdict(output, result, findings, policy.decide(findings)));
    }
    return verdicts;
  }

  private record ScoringOutcome(List<ContentScores> scores, ScorerFailure failure) {}

  /** A model call in flight; {@code deadline} is when it counts as timed out (System.nanoTime). */
  private record PendingScores(Future<List<ContentScores>> future, long deadline) {}

  private PendingScores submit(List<String> texts) {
    if (texts.isEmpty()) {
      return null;
    }
    return new PendingScores(
        scoringThread.submit(() -> scorer.scoreBatch(texts)),
        System.nanoTime() + scorerTimeout.toNanos());
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
      // The stuck call keeps its thread and scorer instance; later batches get fresh ones.
      scoringThread.shutdownNow();
      scoringThread = newScoringThread();
      scorer = scorerFactory.get();
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
      PolicyVerdict decided) {
    Map<String, Double> categories = new LinkedHashMap<>();
    double unsafe = 0;
    if (findings.scores() != null) {
      unsafe = findings.scores().unsafe();
      for (Category category : Category.values()) {
        categories.put(category.id(), findings.scores().score(category));
      }
    }
    // Sorted, so that scoring the same output again writes the same verdict bytes.
    Map<String, String> versions = new TreeMap<>(componentVersions);
    versions.putAll(scorer.versions());
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

  private static ExecutorService newScoringThread() {
    return Executors.newSingleThreadExecutor(
        runnable -> {
          Thread thread = new Thread(runnable, "content-scorer");
          thread.setDaemon(true);
          return thread;
        });
  }

  @Override
  public void close() {
    scoringThread.shutdownNow();
    scorer.close();
  }
}
