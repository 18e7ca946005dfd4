package io.genguard.moderation.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.TinyOnnxClassifier;
import io.genguard.moderation.scoring.TrivialBenchmarkScorer;
import io.genguard.provenance.ProvenanceKeys;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job's moderator factory: what policy a task starts under, whatever the file says then. */
class ModerationPipelinesTest {
  @TempDir Path dir;

  private static final String VERSION_7 =
      PolicyLoader.defaultText().replaceFirst("(?m)^version: .*$", "version: \"restart-7\"");

  @Test
  void shouldStartATaskUnderThePolicyItWasSubmittedWithWhenTheFileIsNowInvalid() throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, VERSION_7);
    BatchModerator.Factory factory = shipped(factory(file));
    Files.writeString(file, "policyId: half-written\nversion: \"8\"\ndefault: {categ");

    try (BatchModerator moderator = factory.create()) {
      assertThat(moderator.policy().version()).isEqualTo("restart-7");
      assertThat(decide(moderator).getPolicySha256())
          .isEqualTo(PolicyLoader.parse(VERSION_7, "x").sha256());
    }
  }

  @Test
  void shouldStartARestoredTaskUnderThePolicyInForceAtItsCheckpointWhenTheFileIsNowInvalid()
      throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, VERSION_7);
    BatchModerator.Factory factory = shipped(factory(file));
    Files.writeString(file, "policyId: half-written\nversion: \"8\"\ndefault: {categ");
    PolicySet atCheckpoint =
        PolicyLoader.parse(
            VERSION_7.replace("version: \"restart-7\"", "version: \"restart-6\""), "checkpoint");

    try (BatchModerator moderator = factory.create(atCheckpoint)) {
      assertThat(moderator.policy()).isSameAs(atCheckpoint);
      assertThat(decide(moderator).getPolicyVersion()).isEqualTo("restart-6");
    }
  }

  @Test
  void shouldJudgeTheFirstBatchOfARestoredTaskUnderTheNewVersionSettledOnDisk() throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, VERSION_7);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofMinutes(1))));
    BatchModerator.Factory factory = shipped(factory(file));
    PolicySet atCheckpoint =
        PolicyLoader.parse(
            VERSION_7.replace("version: \"restart-7\"", "version: \"restart-6\""), "checkpoint");

    try (BatchModerator moderator = factory.create(atCheckpoint)) {
      assertThat(decide(moderator).getPolicySha256())
          .isEqualTo(PolicyLoader.parse(VERSION_7, "x").sha256());
      assertThat(moderator.policyVersionsSeen()).containsOnlyKeys("restart-6", "restart-7");
    }
  }

  @Test
  void shouldWaitForAFileJustWrittenToSettleBeforeARestoredTaskJudgesItsFirstBatch()
      throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, VERSION_7);
    BatchModerator.Factory factory = shipped(factory(file));
    PolicySet atCheckpoint =
        PolicyLoader.parse(
            VERSION_7.replace("version: \"restart-7\"", "version: \"restart-6\""), "checkpoint");
    // Written just now: settled only once it has stayed the same for a second.
    Files.writeString(file, VERSION_7.replace("restart-7", "restart-8"));

    try (BatchModerator moderator = factory.create(atCheckpoint)) {
      assertThat(decide(moderator).getPolicyVersion()).isEqualTo("restart-8");
    }
  }

  @Test
  void shouldRefuseInARestoredTaskAVersionSeenBeforeTheCheckpointReusedForOtherRules()
      throws Exception {
    // Version restart-7 was in force, then restart-8; the file now says restart-7 with other rules.
    String version8 = VERSION_7.replace("version: \"restart-7\"", "version: \"restart-8\"");
    String other7 =
        VERSION_7.replace("hate:          {review: 0.50", "hate:          {review: 0.45");
    assertThat(other7).isNotEqualTo(VERSION_7);
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, version8);
    BatchModerator.Factory factory = shipped(factory(file));
    Files.writeString(file, other7);
    PolicySet atCheckpoint = PolicyLoader.parse(version8, "checkpoint");
    Map<String, String> seen =
        Map.of(
            "restart-7",
            PolicyLoader.parse(VERSION_7, "x").sha256(),
            "restart-8",
            atCheckpoint.sha256());

    try (BatchModerator moderator = factory.create(atCheckpoint, seen)) {
      assertThat(moderator.policyVersionsSeen()).isEqualTo(seen);
      // The reloader checks at most once a second and reads a change once it has settled for one.
      await()
          .during(Duration.ofMillis(3500))
          .atMost(Duration.ofSeconds(10))
          .until(() -> moderator.policy().version().equals("restart-8"));
      assertThat(decide(moderator).getPolicySha256()).isEqualTo(atCheckpoint.sha256());
    }
  }

  @Test
  void shouldIgnoreACheckpointPolicyWhenTheJobRunsTheBuiltInPolicy() {
    BatchModerator.Factory factory =
        ModerationPipelines.factory(TrivialBenchmarkScorer.NAME, null, dir.resolve("keys"));
    PolicySet other = PolicyLoader.parse(VERSION_7, "checkpoint");

    try (BatchModerator moderator = factory.create(other)) {
      assertThat(moderator.policy().sha256()).isEqualTo(PolicyLoader.loadDefault().sha256());
    }
  }

  @Test
  void shouldTrustNoSigningKeyInTheKeyDirectoryOnlyThePublishedPublicKeys() throws Exception {
    // A signing-keys file in the job's key directory: one the job used to make for itself when no
    // GENGUARD_SIGNING_KEYS was set, readable by whoever reads the directory.
    Path keys = dir.resolve("keys");
    ProvenanceKeys inDirectory = ProvenanceKeys.loadOrCreate(keys);
    GenerationOutput forged =
        ProvenanceCheckerTest.signed(
            Events.output("req-1", "a plain sentence"), inDirectory.signing(), null);
    BatchModerator.Factory factory =
        shipped(ModerationPipelines.factory(TrivialBenchmarkScorer.NAME, null, keys));

    try (BatchModerator moderator = factory.create()) {
      ModerationVerdict verdict = moderator.moderate(List.of(forged)).get(0);
      assertThat(verdict.getProvenance().getManifest()).isEqualTo(ManifestStatus.INVALID);
      assertThat(verdict.getReasons())
          .extracting(Reason::getCode)
          .contains(ReasonCodes.MANIFEST_UNKNOWN_KEY);
    }
    assertThat(keys.resolve(ProvenanceKeys.SIGNING_FILE)).exists();

    // The embedded stack signs with that key and publishes its public half for its verifiers.
    inDirectory.publishVerificationKeys(keys);
    try (BatchModerator moderator = factory.create()) {
      assertThat(moderator.moderate(List.of(forged)).get(0).getProvenance().getManifest())
          .isEqualTo(ManifestStatus.VALID);
    }
  }

  @Test
  void shouldLogTheTrustedKeysOnceUntilTheyChange() {
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(ModerationPipelines.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    log.addAppender(logged);
    // The tests' log configuration keeps this logger's start-up lines off the standard output.
    ch.qos.logback.classic.Level level = log.getLevel();
    log.setLevel(ch.qos.logback.classic.Level.INFO);
    try {
      Path first = dir.resolve("first-keys");
      ProvenanceKeys.loadOrCreate(first).publishVerificationKeys(first);
      for (int task = 0; task < 3; task++) {
        ModerationPipelines.factory(TrivialBenchmarkScorer.NAME, null, first).create().close();
      }
      Path second = dir.resolve("second-keys");
      ProvenanceKeys.loadOrCreate(second).publishVerificationKeys(second);
      ModerationPipelines.factory(TrivialBenchmarkScorer.NAME, null, second).create().close();

      assertThat(logged.list)
          .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .filteredOn(line -> line.startsWith("Verification keys trusted"))
          .as("one line per change of the trusted keys, not one per moderator")
          .hasSize(2);
    } finally {
      log.setLevel(level);
      log.detachAppender(logged);
    }
  }

  @Test
  void shouldCreateNoSigningKeyInAnEmptyKeyDirectory() {
    Path keys = dir.resolve("fresh-keys");
    try (BatchModerator moderator =
        ModerationPipelines.factory(TrivialBenchmarkScorer.NAME, null, keys).create()) {
      assertThat(moderator.moderate(List.of(Events.output("req-1", "a plain sentence"))))
          .hasSize(1);
    }
    assertThat(keys.resolve(ProvenanceKeys.SIGNING_FILE)).doesNotExist();
  }

  @Test
  void shouldRunAnImportedClassifierFromTheJobsSettings() throws Exception {
    Path folder = TinyOnnxClassifier.write(dir.resolve("tiny"), TinyOnnxClassifier.CONFIG);
    Map<String, String> env =
        Map.of(
            ScorerConfig.CLASSIFIER_DIR,
            folder.toString(),
            ScorerConfig.CLASSIFIER_LABELS,
            "toxic=harassment;neutral=none");
    BatchModerator.Factory factory =
        shipped(
            ModerationPipelines.factory(
                ScorerConfig.fromEnvironment("onnx-classifier", env), null, dir.resolve("keys")));

    try (BatchModerator moderator = factory.create()) {
      ModerationVerdict verdict =
          moderator.moderate(List.of(Events.output("req-1", "zebra zebra zebra"))).get(0);
      assertThat(verdict.getScorerVersions().get("onnx-classifier"))
          .startsWith("tiny+sha256:")
          .contains("covers [harassment]");
      assertThat(verdict.getReasons())
          .extracting(Reason::getCode)
          .doesNotContain(ReasonCodes.SCORER_ERROR);
      assertThat(verdict.getUnsafeScore()).isGreaterThan(0.9);
    }
  }

  @Test
  void shouldRefuseAnImportedClassifierItCannotLoadBeforeAnyTaskStarts() throws Exception {
    Path folder = TinyOnnxClassifier.write(dir.resolve("tiny"), TinyOnnxClassifier.CONFIG);
    assertThatThrownBy(
            () -> ModerationPipelines.factory("onnx-classifier", null, dir.resolve("keys")))
        .hasMessageContaining("set GENGUARD_MODERATION_CLASSIFIER_DIR");
    assertThatThrownBy(
            () ->
                ModerationPipelines.factory(
                    ScorerConfig.fromEnvironment(
                        "onnx-classifier",
                        Map.of(
                            ScorerConfig.CLASSIFIER_DIR,
                            folder.toString(),
                            ScorerConfig.CLASSIFIER_LABELS,
                            "toxic=harassment")),
                    null,
                    dir.resolve("keys")))
        .hasMessageContaining("labels [neutral] are not in GENGUARD_MODERATION_CLASSIFIER_LABELS");
  }

  private BatchModerator.Factory factory(Path file) {
    return ModerationPipelines.factory(TrivialBenchmarkScorer.NAME, file, dir.resolve("keys"));
  }

  private static ModerationVerdict decide(BatchModerator moderator) {
    return moderator.moderate(List.of(Events.output("req-1", "a plain sentence"))).get(0);
  }

  /** Through Java serialization, as the job graph ships it to a task manager. */
  private static BatchModerator.Factory shipped(BatchModerator.Factory factory) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(factory);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (BatchModerator.Factory) in.readObject();
    }
  }
}
