package io.genguard.jobs;

import io.genguard.moderation.job.ModerationJobConfig;
import io.genguard.moderation.scoring.OnnxClassifierScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import io.genguard.moderation.scoring.ScorerFactory;
import io.genguard.settings.KnownSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the moderation job needs on a cluster, parsed once in {@code main}: the job's own
 * settings ({@link ModerationJobConfig}, GENGUARD_MODERATION_* and
 * GENGUARD_KAFKA_BOOTSTRAP_SERVERS), the scorer (with an imported classifier's
 * GENGUARD_MODERATION_CLASSIFIER_* settings, {@link ScorerConfig#fromEnvironment}), the policy file
 * and where the TaskManagers keep provenance key files they create. Values come from the
 * environment of the process that runs {@code main} (the one calling {@code flink run}), then from
 * {@code KEY=VALUE} program arguments, which win.
 *
 * @param scorer the scorer and its settings; an imported classifier's folder must be at the same
 *     path on the client and every TaskManager, like the policy file ({@link #parse} refuses one
 *     that is missing on the client or lacks a file the classifier loads)
 * @param policyFile policy YAML, present at the same path on the client and every TaskManager
 * @param keyDirectory key files on the TaskManagers, used only for keys missing from their
 *     environment (GENGUARD_WATERMARK_KEYS and GENGUARD_VERIFICATION_KEYS should be set there)
 */
public record ModerationJobSettings(
    ModerationJobConfig job, ScorerConfig scorer, Optional<Path> policyFile, Path keyDirectory) {
  private static final Logger LOG = LoggerFactory.getLogger(ModerationJobSettings.class);

  public static final String SCORER = "GENGUARD_MODERATION_SCORER";
  public static final String POLICY_FILE = "GENGUARD_POLICY_FILE";
  public static final String KEY_DIR = "GENGUARD_MODERATION_KEY_DIR";

  public ModerationJobSettings {
    if (scorer == null) {
      throw new IllegalArgumentException(SCORER + " must name a scorer (or 'default')");
    }
    ScorerFactory.configured(SCORER, scorer.name());
  }

  /**
   * @param args {@code KEY=VALUE} pairs overriding {@code env}, e.g. {@code
   *     GENGUARD_MODERATION_PARALLELISM=4}
   */
  public static ModerationJobSettings parse(Map<String, String> env, String... args) {
    Map<String, String> values = new HashMap<>(env);
    for (String arg : args) {
      int equals = arg.indexOf('=');
      if (!arg.startsWith("GENGUARD_") || equals < 0) {
        throw new IllegalArgumentException(
            "Argument '"
                + arg
                + "' is not KEY=VALUE with a GENGUARD_* key;"
                + " e.g. flink run genguard-flink-jobs.jar GENGUARD_MODERATION_PARALLELISM=4");
      }
      values.put(arg.substring(0, equals), arg.substring(equals + 1));
    }
    // A misspelt key, in the environment or an argument, is refused rather than left unread.
    KnownSettings.check(values).forEach(LOG::warn);
    ScorerConfig scorer =
        ScorerConfig.fromEnvironment(
            ScorerFactory.configured(SCORER, values.getOrDefault(SCORER, "default")), values);
    if (scorer.name().equals(OnnxClassifierScorer.NAME)) {
      // Checked before the job is built and submitted, as the commands check theirs: else a folder
      // that is missing or incomplete, or a label map that does not fit its config.json's labels,
      // showed only as the classifier loaded while the job was built, in the loader's words.
      ScorerConfig.requireClassifier(ScorerConfig.CLASSIFIER_DIR, scorer);
    }
    return new ModerationJobSettings(
        ModerationJobConfig.fromEnvironment(values),
        scorer,
        Optional.ofNullable(values.get(POLICY_FILE))
            .filter(value -> !value.isBlank())
            .map(Path::of),
        Path.of(
            values.getOrDefault(
                KEY_DIR,
                Path.of(System.getProperty("java.io.tmpdir"), "genguard-moderation-keys")
                    .toString())));
  }
}
