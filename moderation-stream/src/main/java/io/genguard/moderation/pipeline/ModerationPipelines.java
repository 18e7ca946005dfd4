package io.genguard.moderation.pipeline;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicyReloader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.RuleFindings;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.OnnxClassifierScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkParameters;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the moderator the Flink job runs, from names and paths only, so the factory can be shipped
 * to task managers: the scorer by name (with an imported classifier's folder, label map and window
 * length), the policy file (re-read when it changes; an invalid file leaves the running policy in
 * force), and the provenance keys a verifier holds, from the environment or a key directory ({@link
 * ProvenanceKeys#forVerifier}: public keys only, no signing key).
 */
public final class ModerationPipelines {
  private static final Logger LOG = LoggerFactory.getLogger(ModerationPipelines.class);

  /**
   * The verification-key line this process logged last, so that an unchanged one is not repeated.
   */
  private static final AtomicReference<String> TRUST_LOGGED = new AtomicReference<>();

  /** How long one scoring call may take before its outputs go to policy as a scorer timeout. */
  public static final Duration SCORER_TIMEOUT = Duration.ofSeconds(30);

  /**
   * How long a starting task waits for a policy file that is still being written to settle before
   * it decides anything ({@link PolicyReloader#takeFileOnceSettled(Duration)}); then it decides
   * under the policy it started with and takes the file once settled, as a live reload does.
   */
  public static final Duration POLICY_SETTLE_WAIT_AT_START = Duration.ofSeconds(5);

  private ModerationPipelines() {}

  /**
   * @param scorerName a name from {@link ScorerFactory#NAMES}, or "default"; a scorer that needs
   *     settings ({@code onnx-classifier}) takes the other overload
   * @param policyFile policy YAML, or null for the built-in default policy
   * @param keyDirectory where the watermark key file and the published verification keys are
   *     ({@link ProvenanceKeys#forVerifier}; environment keys take precedence)
   */
  public static BatchModerator.Factory factory(
      String scorerName, Path policyFile, Path keyDirectory) {
    String scorer =
        scorerName == null || scorerName.equals("default") ? ScorerConfig.DEFAULT_NAME : scorerName;
    if (!ScorerFactory.NAMES.contains(scorer)) {
      throw new IllegalArgumentException(
          "Unknown scorer '" + scorerName + "'; known scorers: " + ScorerFactory.NAMES);
    }
    return factory(ScorerConfig.named(scorer), policyFile, keyDirectory);
  }

  /**
   * The same with a scorer's settings ({@link ScorerConfig#fromEnvironment}: the imported
   * classifier's folder, label map and window length). An imported classifier is loaded once here,
   * so that a folder or label map it cannot run with fails at start-up with what to set, not in
   * every task's restart.
   */
  public static BatchModerator.Factory factory(
      ScorerConfig scorer, Path policyFile, Path keyDirectory) {
    if (!ScorerFactory.NAMES.contains(scorer.name())) {
      throw new IllegalArgumentException(
          "Unknown scorer '" + scorer.name() + "'; known scorers: " + ScorerFactory.NAMES);
    }
    if (scorer.name().equals(OnnxClassifierScorer.NAME)) {
      ScorerFactory.create(scorer).close();
    }
    String policy = policyFile == null ? null : policyFile.toAbsolutePath().toString();
    // Checked here, to fail at start-up with the line rather than in a task; and kept, as the
    // policy a task starts under when no checkpoint says which policy was in force.
    String submitted = policy == null ? null : PolicyLoader.load(Path.of(policy)).text();
    return new FileModeratorFactory(
        scorer.name(),
        scorer.modelPath() == null ? null : scorer.modelPath().toAbsolutePath().toString(),
        scorer.labelMapSpec(),
        scorer.maxTokens(),
        policy,
        submitted,
        keyDirectory.toAbsolutePath().toString());
  }

  /**
   * The job's factory. A task starts under the policy in force at its checkpoint, else under the
   * file as it was when the job was submitted; the file on disk is then read like any change (once
   * settled, valid, and under a new version if its rules differ), before the task's first batch: at
   * once when it was last modified a while ago, else once it has settled, waiting at most {@link
   * #POLICY_SETTLE_WAIT_AT_START}. So a task restart never fails on a file that is half-written or
   * invalid at that instant, never takes changed rules that keep the version in force, and judges
   * the backlog of an upgrade under the new version deployed for it.
   */
  private record FileModeratorFactory(
      String scorerName,
      String modelPath,
      String labelMap,
      int maxTokens,
      String policyFile,
      String submittedPolicy,
      String keyDirectory)
      implements BatchModerator.Factory {
    /** The scorer's settings, from the strings shipped to the task (a Path is not serializable). */
    private ScorerConfig scorerConfig() {
      return new ScorerConfig(
          scorerName,
          modelPath == null ? null : Path.of(modelPath),
          ScorerConfig.parseLabelMap(labelMap),
          maxTokens);
    }

    @Override
    public BatchModerator create() {
      return create(null);
    }

    @Override
    public BatchModerator create(PolicySet inForceAtCheckpoint) {
      return create(inForceAtCheckpoint, Map.of());
    }

    @Override
    public BatchModerator create(
        PolicySet inForceAtCheckpoint, Map<String, String> versionsSeenAtCheckpoint) {
      ScorerConfig config = scorerConfig();
      Supplier<ContentScorer> scorer = () -> ScorerFactory.create(config);
      if (policyFile == null) {
        return ModerationPipelines.create(
            scorer, constant(PolicyLoader.loadDefault()), keyDirectory);
      }
      PolicySet start =
          inForceAtCheckpoint != null
              ? inForceAtCheckpoint
              : PolicyLoader.parse(submittedPolicy, policyFile);
      PolicyReloader reloader =
          new PolicyReloader(Path.of(policyFile), start, versionsSeenAtCheckpoint);
      reloader.takeFileOnceSettled(POLICY_SETTLE_WAIT_AT_START);
      return new RememberingVersions(
          ModerationPipelines.create(scorer, reloading(reloader), keyDirectory), reloader);
    }
  }

  /** The job's moderator, answering which policy versions it has seen from its reloader. */
  private record RememberingVersions(BatchModerator moderator, PolicyReloader reloader)
      implements BatchModerator {
    @Override
    public List<ModerationVerdict> moderate(List<GenerationOutput> outputs) {
      return moderator.moderate(outputs);
    }

    @Override
    public PolicySet policy() {
      return moderator.policy();
    }

    @Override
    public Map<String, String> policyVersionsSeen() {
      return reloader.versionsSeen();
    }

    @Override
    public void close() {
      moderator.close();
    }
  }

  /**
   * The job's moderator (its policy, keys, rules and versions) over a scorer the caller built: for
   * judging recorded outputs again in another process that explains them with the same scorer, so
   * that the models are loaded once. The moderator closes the scorer, and keeps it after a scoring
   * timeout (the job's moderator takes a fresh one).
   *
   * @param policyFile policy YAML, already checked ({@link PolicyLoader#load}), or null for the
   *     built-in default policy
   */
  public static BatchModerator over(ContentScorer scorer, Path policyFile, Path keyDirectory) {
    return create(
        () -> scorer,
        policyFile == null ? null : policyFile.toAbsolutePath().toString(),
        keyDirectory.toAbsolutePath().toString());
  }

  /**
   * The same over a policy already parsed, which stays as it is (no file is read): for judging
   * recorded outputs under a candidate policy.
   */
  public static BatchModerator over(ContentScorer scorer, PolicySet policy, Path keyDirectory) {
    return create(() -> scorer, constant(policy), keyDirectory.toAbsolutePath().toString());
  }

  private static BatchModerator create(
      Supplier<ContentScorer> scorer, String policyFile, String keyDirectory) {
    return create(
        scorer,
        policyFile == null
            ? constant(PolicyLoader.loadDefault())
            : reloading(new PolicyReloader(Path.of(policyFile))),
        keyDirectory);
  }

  private static BatchModerator create(
      Supplier<ContentScorer> scorer, Supplier<PolicySet> policies, String keyDirectory) {
    // Verify only: the job trusts the configured public keys and never makes a signing key.
    ProvenanceKeys keys = ProvenanceKeys.forVerifier(System.getenv(), Path.of(keyDirectory));
    // Which keys from which source: a key removed from the variable but still in a key file
    // shows here (the runbook's check after removing a compromised key). Logged when it differs
    // from the line logged last: every task, restart and what-if builds a moderator.
    String trust = ProvenanceKeys.describeVerifierTrust(System.getenv(), Path.of(keyDirectory));
    if (!trust.equals(TRUST_LOGGED.getAndSet(trust))) {
      LOG.info(trust);
    }
    BiasAnalyzer bias = BiasAnalyzer.loadDefault();
    Map<String, String> versions = new java.util.LinkedHashMap<>(bias.versions());
    versions.put("provenance", WatermarkParameters.SCHEME);
    versions.put("watermark-detector", WatermarkDetector.VERSION);
    versions.put("screening", "text-screening-2");
    versions.putAll(RuleFindings.versions());
    return new ContentModerator(
        scorer,
        new PolicyEngine(policies),
        TextScreening.defaults(),
        bias,
        new ProvenanceChecker(keys),
        versions,
        SCORER_TIMEOUT,
        Clock.systemUTC());
  }

  private static Supplier<PolicySet> constant(PolicySet set) {
    return () -> set;
  }

  /**
   * Checks the file at most once a second (a change is read once it has settled, {@link
   * PolicyReloader#SETTLE}); keeps the last valid policy.
   */
  private static Supplier<PolicySet> reloading(PolicyReloader reloader) {
    long[] lastCheck = {System.nanoTime()};
    return () -> {
      long now = System.nanoTime();
      if (now - lastCheck[0] > 1_000_000_000L) {
        lastCheck[0] = now;
        reloader.reloadIfChanged();
      }
      return reloader.get();
    };
  }
}
