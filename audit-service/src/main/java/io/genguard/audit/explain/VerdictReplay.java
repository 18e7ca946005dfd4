package io.genguard.audit.explain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.pipeline.VerdictExplainer;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.scoring.ContentScorer;
import io.genguard.moderation.scoring.ContentScores;
import io.genguard.moderation.scoring.OnnxClassifierScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.provenance.text.DisguisingCharacters;
import io.genguard.provenance.watermark.WatermarkDetector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Judges a recorded output again with this build's moderator (the code the moderation job runs) and
 * compares the new verdict with the recorded one, every field but its timestamp; explains a
 * reproduced verdict that held its output. A verdict reproduces only with the policy version and
 * model versions it names. Shared by {@code audit replay} and the audit service's explanations for
 * reviewers. Not thread-safe: one caller at a time.
 *
 * <p>The built-in scorers are rebuilt by the name a verdict records. A verdict of the imported
 * classifier ({@link OnnxClassifierScorer}) is judged again only with the classifier settings the
 * moderation job ran (its folder, label map and window length, {@link
 * ScorerConfig#classifierFromEnvironment}): without them it is not replayable, and with a
 * classifier whose version (folder name and digest) differs from the recorded one it is refused
 * before any scoring ({@link #modelsDiffer}).
 */
public final class VerdictReplay implements AutoCloseable {
  /** What became of one recorded verdict. */
  public enum Result {
    REPRODUCED,
    DIFFERS,
    NOT_REPLAYABLE
  }

  /** One recorded verdict judged again. */
  public record Replayed(String verdictId, String requestId, Result result, String detail) {}

  private final Path policyFile;
  private final PolicySet policy;
  private final Path keyDirectory;
  private final ScorerConfig classifier;
  private final Map<String, Judge> judges = new HashMap<>();

  /**
   * The moderator and the explainer of one scorer, over one copy of its models (the moderator owns
   * and closes it).
   */
  private record Judge(
      ContentScorer scorer, BatchModerator moderator, VerdictExplainer explainer) {}

  /**
   * This replay's copy of a scorer's models, lent to another moderator, which must not close it.
   */
  private record Lent(ContentScorer scorer) implements ContentScorer {
    @Override
    public List<ContentScores> scoreBatch(List<String> texts) {
      return scorer.scoreBatch(texts);
    }

    @Override
    public Map<String, String> versions() {
      return scorer.versions();
    }

    @Override
    public void close() {
      // The replay's moderator closes the models.
    }
  }

  /**
   * A moderator under the {@code candidate} policy over this replay's copy of {@code scorerName}'s
   * models, loading them if needed: for {@link PolicyWhatIf}. Closing it leaves the models to this
   * replay; like the replay, it is for one caller at a time.
   */
  public BatchModerator moderatorUnder(
      String scorerName, io.genguard.moderation.policy.PolicySet candidate) {
    return ModerationPipelines.over(new Lent(judge(scorerName).scorer()), candidate, keyDirectory);
  }

  /**
   * @param policyFile the policy file the moderation job runs with, or null for the built-in one
   * @param keyDirectory the provenance key directory the job uses
   */
  public VerdictReplay(Path policyFile, Path keyDirectory) {
    this(policyFile, keyDirectory, null);
  }

  /**
   * @param policyFile the policy file the moderation job runs with, or null for the built-in one
   * @param keyDirectory the provenance key directory the job uses
   * @param classifier the imported classifier's settings the job ran with ({@link
   *     ScorerConfig#classifierFromEnvironment}), or null when none is configured here
   */
  public VerdictReplay(Path policyFile, Path keyDirectory, ScorerConfig classifier) {
    this(policyFile, null, keyDirectory, classifier);
  }

  /**
   * A replay under a policy already loaded, which stays as it is (no file is read): for {@code
   * audit replay}, which checks its policy file before it reads the store and must then judge under
   * the policy it checked, not under the file as it is at the first verdict.
   *
   * @param policy the policy the moderation job runs with, as loaded ({@link
   *     PolicyLoader#loadDefault} for the built-in one)
   * @param keyDirectory the provenance key directory the job uses
   * @param classifier as {@link #VerdictReplay(Path, Path, ScorerConfig)}
   */
  public static VerdictReplay under(PolicySet policy, Path keyDirectory, ScorerConfig classifier) {
    return new VerdictReplay(null, Objects.requireNonNull(policy), keyDirectory, classifier);
  }

  private VerdictReplay(
      Path policyFile, PolicySet policy, Path keyDirectory, ScorerConfig classifier) {
    if (classifier != null && !classifier.name().equals(OnnxClassifierScorer.NAME)) {
      throw new IllegalArgumentException(
          "The classifier settings name scorer '" + classifier.name() + "', not the classifier");
    }
    this.policyFile = policyFile;
    this.policy = policy;
    this.keyDirectory = keyDirectory;
    this.classifier = classifier;
  }

  /**
   * @param output the output as recorded, null when it is no longer recorded
   */
  public Replayed replay(ModerationVerdict recorded, GenerationOutput output) {
    String verdictId = recorded.getVerdictId();
    String requestId = recorded.getRequestId();
    if (output == null) {
      return new Replayed(
          verdictId,
          requestId,
          Result.NOT_REPLAYABLE,
          "the output it judged is not in the audit store (removed by retention?)");
    }
    recorded = asThisBuildNames(recorded, output.getText());
    String scorer = scorerOf(recorded.getScorerVersions());
    if (scorer == null) {
      return new Replayed(
          verdictId,
          requestId,
          Result.NOT_REPLAYABLE,
          "no known scorer among the recorded versions " + recorded.getScorerVersions());
    }
    Judge judge;
    try {
      judge = judge(scorer);
    } catch (RuntimeException e) {
      return new Replayed(
          verdictId,
          requestId,
          Result.NOT_REPLAYABLE,
          "cannot build the " + scorer + " moderator here: " + e.getMessage());
    }
    // Refused before scoring: another model's scores would not be the verdict's.
    String differ = modelsDiffer(recorded.getScorerVersions(), judge.scorer().versions());
    if (differ != null) {
      return new Replayed(verdictId, requestId, Result.NOT_REPLAYABLE, differ);
    }
    BatchModerator moderator = judge.moderator();
    ModerationVerdict again = moderator.moderate(List.of(output)).get(0);
    ObjectNode before = CanonicalJson.toTree(recorded);
    ObjectNode after = CanonicalJson.toTree(again);
    before.remove("decidedAt");
    after.remove("decidedAt");
    if (recorded.getPolicySha256().isEmpty()) {
      // Recorded before verdicts named their policy file: the rules are compared by what they
      // decide, as then. Otherwise another file under the same version shows as a difference in
      // policySha256, with whatever else it changed.
      before.remove("policySha256");
      after.remove("policySha256");
    }
    if (before.equals(after)) {
      return new Replayed(
          verdictId, requestId, Result.REPRODUCED, recorded.getDecision() + ", every field equal");
    }
    if (!recorded.getPolicyId().equals(again.getPolicyId())
        || !recorded.getPolicyVersion().equals(again.getPolicyVersion())) {
      return new Replayed(
          verdictId,
          requestId,
          Result.NOT_REPLAYABLE,
          "recorded under policy "
              + recorded.getPolicyId()
              + " "
              + recorded.getPolicyVersion()
              + ", this replay has "
              + again.getPolicyId()
              + " "
              + again.getPolicyVersion()
              + " (pass --policy with the file the job ran)");
    }
    if (!before.get("scorerVersions").equals(after.get("scorerVersions"))) {
      return new Replayed(
          verdictId,
          requestId,
          Result.NOT_REPLAYABLE,
          "recorded with models "
              + before.get("scorerVersions")
              + ", this build has "
              + after.get("scorerVersions"));
    }
    return new Replayed(verdictId, requestId, Result.DIFFERS, differences(before, after));
  }

  /**
   * The evidence of each category and stereotype reason of a verdict that held its output, in the
   * verdict's reason order; null when there is nothing to explain (a RELEASE, or a verdict {@link
   * #replay} did not reproduce, whose words would be another model's).
   */
  public List<VerdictExplainer.Explained> explain(
      Replayed replayed, ModerationVerdict verdict, GenerationOutput output) {
    if (replayed.result() != Result.REPRODUCED || verdict.getDecision() == Decision.RELEASE) {
      return null;
    }
    return judge(scorerOf(verdict.getScorerVersions()))
        .explainer()
        .explain(output.getText(), verdict);
  }

  private Judge judge(String scorerName) {
    Judge judge = judges.get(scorerName);
    if (judge == null) {
      // The scorer name and the policy file are checked before the models load (an imported
      // classifier is checked as it loads; the factory would load it once more). A policy
      // already loaded reads no file: policyFile is then null.
      if (!scorerName.equals(OnnxClassifierScorer.NAME)) {
        ModerationPipelines.factory(scorerName, policyFile, keyDirectory);
      } else if (policyFile != null) {
        PolicyLoader.load(policyFile);
      }
      ContentScorer scorer = scorer(scorerName, classifier);
      try {
        judge =
            new Judge(
                scorer,
                policy != null
                    ? ModerationPipelines.over(scorer, policy, keyDirectory)
                    : ModerationPipelines.over(scorer, policyFile, keyDirectory),
                new VerdictExplainer(scorer, BiasAnalyzer.loadDefault()));
      } catch (RuntimeException e) {
        scorer.close(); // nothing owns it yet
        throw e;
      }
      judges.put(scorerName, judge);
    }
    return judge;
  }

  /**
   * A scorer by the name a verdict records: a built-in one with the model in the jar, the imported
   * classifier with {@code classifier}'s settings.
   *
   * @throws IllegalArgumentException for the imported classifier without settings, naming them
   */
  static ContentScorer scorer(String scorerName, ScorerConfig classifier) {
    if (!scorerName.equals(OnnxClassifierScorer.NAME)) {
      return ScorerFactory.create(ScorerConfig.named(scorerName));
    }
    if (classifier == null) {
      throw new IllegalArgumentException(
          "the verdict was made by an imported classifier, and none is configured here: give the"
              + " settings the moderation job ran, "
              + ScorerConfig.DIR_SETTING
              + ", "
              + ScorerConfig.LABELS_SETTING
              + " and "
              + ScorerConfig.MAX_TOKENS_SETTING);
    }
    return ScorerFactory.create(classifier);
  }

  /**
   * The scorer-versions key of the watermark detection (moderation's {@code ModerationPipelines}).
   */
  static final String WATERMARK_DETECTOR = "watermark-detector";

  /**
   * {@code recorded} with its versions as this build names the same reading of {@code text}:
   * watermark detector 4 (the forty-first session) differs from 3 only on text holding a blank that
   * displays as a space ({@link DisguisingCharacters#isBlank}), which it reads as a space, as
   * moderation's reading of disguised text does since then; any other text is read by both exactly
   * alike, so its verdict of 3 is judged again as one of 4 rather than refused. Any other version
   * is kept as recorded.
   */
  public static ModerationVerdict asThisBuildNames(ModerationVerdict recorded, String text) {
    Map<String, String> versions = recorded.getScorerVersions();
    if (!"3".equals(versions.get(WATERMARK_DETECTOR))
        || !"4".equals(WatermarkDetector.VERSION)
        || text.chars().anyMatch(DisguisingCharacters::isBlank)) {
      return recorded;
    }
    Map<String, String> same = new HashMap<>(versions);
    same.put(WATERMARK_DETECTOR, WatermarkDetector.VERSION);
    return ModerationVerdict.newBuilder(recorded).setScorerVersions(same).build();
  }

  /**
   * Why a scorer with the model versions {@code current} cannot judge a verdict again that recorded
   * {@code recorded}: one of them differs from the recorded one or is not recorded; null when every
   * one agrees. Checked before scoring, so that no other model's scores are compared.
   */
  public static String modelsDiffer(Map<String, String> recorded, Map<String, String> current) {
    String classifier = current.get(OnnxClassifierScorer.NAME);
    if (classifier != null && !classifier.equals(recorded.get(OnnxClassifierScorer.NAME))) {
      return "recorded with the imported classifier "
          + recorded.get(OnnxClassifierScorer.NAME)
          + ", the one configured here is "
          + classifier
          + ": give the folder, label map and window length the moderation job ran ("
          + ScorerConfig.DIR_SETTING
          + ", "
          + ScorerConfig.LABELS_SETTING
          + ", "
          + ScorerConfig.MAX_TOKENS_SETTING
          + "); the version names the folder and a digest of all three";
    }
    Map<String, String> differing = new java.util.TreeMap<>();
    current.forEach(
        (name, version) -> {
          if (!version.equals(recorded.get(name))) {
            differing.put(name, version);
          }
        });
    if (differing.isEmpty()) {
      return null;
    }
    Map<String, String> before = new java.util.TreeMap<>();
    differing.keySet().forEach(name -> before.put(name, recorded.getOrDefault(name, "(none)")));
    return "recorded with models "
        + before
        + ", this build has "
        + differing
        + ": the recorded versions are not available here, and another version's scores would not"
        + " be the verdict's";
  }

  /** The scorer that made a verdict, from the versions it recorded (the ensemble first). */
  public static String scorerOf(Map<String, String> versions) {
    for (String name : ScorerFactory.NAMES) {
      if (versions.containsKey(name)) {
        return name;
      }
    }
    return null;
  }

  /** "field: recorded -> replayed" for every top-level field that differs. */
  static String differences(ObjectNode recorded, ObjectNode replayed) {
    TreeSet<String> names = new TreeSet<>();
    recorded.fieldNames().forEachRemaining(names::add);
    replayed.fieldNames().forEachRemaining(names::add);
    List<String> parts = new ArrayList<>();
    for (String name : names) {
      JsonNode a = recorded.get(name);
      JsonNode b = replayed.get(name);
      if (a == null || !a.equals(b)) {
        parts.add(name + ": " + a + " -> " + b);
      }
    }
    return String.join("; ", parts);
  }

  @Override
  public void close() {
    judges.values().forEach(judge -> judge.moderator().close());
  }
}
