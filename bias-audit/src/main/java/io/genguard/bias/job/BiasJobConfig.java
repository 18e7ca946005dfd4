package io.genguard.bias.job;

import io.genguard.bias.analysis.AnalysisSettings;
import io.genguard.bias.campaign.CampaignLimits;
import io.genguard.bias.statistics.MultipleComparisons.Correction;
import io.genguard.moderation.job.ExactlyOnceKafka;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of the bias-aggregation job, parsed once in {@code main} (or built by the local stack).
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param consumerGroup group id under which the verdict source commits offsets on checkpoints
 * @param transactionalIdPrefix prefix of the exactly-once sink's transactional ids
 * @param parallelism operator parallelism
 * @param checkpointInterval how often to checkpoint; metrics become visible at each checkpoint
 * @param liveWindow length of the tumbling windows over live traffic
 * @param outOfOrderness how late (by decision time) a verdict may arrive and still count
 * @param idleAdvance with no verdict for this long, event time follows the wall clock so that a
 *     quiet system still closes its windows; zero disables it
 * @param campaignEmitInterval campaign totals are published at most this often per group; zero
 *     publishes on every verdict
 * @param campaignRetention a campaign group is retired (its state cleared, its totals final) once
 *     the job's event time is this far past the latest decision it counted
 * @param campaignMaxGroups the most groups one campaign of one tenant may have counted; a verdict
 *     of a further group is rejected ({@link CampaignAdmission})
 * @param liveMaxModels the most models one live window counts under their own key; the verdicts of
 *     further models of the window are pooled under {@value LiveGroupWindow#UNKNOWN_MODEL} ({@link
 *     LiveModelAdmission})
 * @param maxClockAhead a verdict decided further than this ahead of the job's wall clock when it is
 *     read counts as decided at the wall clock plus this ({@link DecisionTimeWatermarks})
 * @param unsafeThreshold a verdict counts as unsafe at or above this unsafe score
 * @param categoryThreshold a verdict counts in a category at or above this category score
 * @param categories the categories counted, in order
 * @param alertAlpha significance level of live alerts, after correction
 * @param alertCorrection the live alerts' multiple-comparison correction
 * @param alertMinGroupSize a group needs this many outputs in a window to be tested
 * @param alertOutageLimit how long the alert database may fail every insert before the job fails
 *     ({@link LiveAlertWriter}); until then alerts wait in the job's checkpoints
 * @param alertJdbcUrl where live alerts are written (bias_audit.live_alert); null writes none
 */
public record BiasJobConfig(
    String bootstrapServers,
    String consumerGroup,
    String transactionalIdPrefix,
    int parallelism,
    Duration checkpointInterval,
    Duration liveWindow,
    Duration outOfOrderness,
    Duration idleAdvance,
    Duration campaignEmitInterval,
    Duration campaignRetention,
    int campaignMaxGroups,
    int liveMaxModels,
    Duration maxClockAhead,
    double unsafeThreshold,
    double categoryThreshold,
    List<String> categories,
    double alertAlpha,
    Correction alertCorrection,
    int alertMinGroupSize,
    Duration alertOutageLimit,
    String alertJdbcUrl,
    String alertJdbcUser,
    String alertJdbcPassword)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final String BOOTSTRAP_SERVERS = "GENGUARD_KAFKA_BOOTSTRAP_SERVERS";
  public static final String CONSUMER_GROUP = "GENGUARD_BIAS_GROUP";
  public static final String TRANSACTIONAL_ID_PREFIX = "GENGUARD_BIAS_TRANSACTIONAL_ID_PREFIX";
  public static final String PARALLELISM = "GENGUARD_BIAS_PARALLELISM";
  public static final String CHECKPOINT_INTERVAL_MS = "GENGUARD_BIAS_CHECKPOINT_INTERVAL_MS";
  public static final String WINDOW_SECONDS = "GENGUARD_BIAS_WINDOW_SECONDS";
  public static final String OUT_OF_ORDERNESS_MS = "GENGUARD_BIAS_OUT_OF_ORDERNESS_MS";
  public static final String IDLE_ADVANCE_MS = "GENGUARD_BIAS_IDLE_ADVANCE_MS";
  public static final String CAMPAIGN_EMIT_MS = "GENGUARD_BIAS_CAMPAIGN_EMIT_MS";
  public static final String CAMPAIGN_RETENTION_HOURS = "GENGUARD_BIAS_CAMPAIGN_RETENTION_HOURS";
  public static final String CAMPAIGN_MAX_GROUPS = "GENGUARD_BIAS_CAMPAIGN_MAX_GROUPS";
  public static final String LIVE_MAX_MODELS = "GENGUARD_BIAS_LIVE_MAX_MODELS";
  public static final String MAX_CLOCK_AHEAD_MS = "GENGUARD_BIAS_MAX_CLOCK_AHEAD_MS";
  public static final String ALERT_MIN_GROUP = "GENGUARD_BIAS_ALERT_MIN_GROUP";
  public static final String ALERT_OUTAGE_MINUTES = "GENGUARD_BIAS_ALERT_OUTAGE_MINUTES";
  public static final String JDBC_URL = "GENGUARD_BIAS_JDBC_URL";
  public static final String JDBC_USER = "GENGUARD_BIAS_JDBC_USER";
  public static final String JDBC_PASSWORD = "GENGUARD_BIAS_JDBC_PASSWORD";

  /** The longest live window: a week of verdicts per model and group in the window's state. */
  public static final Duration MAX_LIVE_WINDOW = Duration.ofDays(7);

  /**
   * The shortest campaign retention: a day, no shorter than the longest allowed lateness or emit
   * interval, so neither a verdict still on time nor a pending publication meets a retired group.
   */
  public static final Duration MIN_CAMPAIGN_RETENTION = Duration.ofDays(1);

  /** The longest campaign retention: a year of a campaign group's counted samples in state. */
  public static final Duration MAX_CAMPAIGN_RETENTION = Duration.ofDays(365);

  /** The default of {@value #CAMPAIGN_MAX_GROUPS}. */
  public static final int DEFAULT_CAMPAIGN_MAX_GROUPS = 1_000;

  /**
   * The default of {@value #LIVE_MAX_MODELS}: a deployment serves a handful of models, twice that
   * for a window across an upgrade (old and new version both answering); 16 models and the pool,
   * each with at most the lexicon's 62 groups plus {@code *}, {@code none} and {@code
   * unknown-group}, are the 1,105 (model, group) pairs the audit service's collector keeps gauges
   * for by default ({@code GENGUARD_METRICS_BIAS_MAX_PAIRS}, to be raised with this; deploy-tests'
   * {@code BiasGaugeCapTest} keeps the two defaults in step). A retired version stops taking room
   * here in the next window, and in the collector once its last window ended three window lengths
   * ago.
   */
  public static final int DEFAULT_LIVE_MAX_MODELS = 16;

  /** The largest {@value #LIVE_MAX_MODELS}. */
  public static final int MAX_LIVE_MAX_MODELS = 1_000;

  /** The longest {@value #MAX_CLOCK_AHEAD_MS}: an hour, well short of the campaign retention. */
  public static final Duration MAX_MAX_CLOCK_AHEAD = Duration.ofHours(1);

  public BiasJobConfig {
    require(
        bootstrapServers != null && !bootstrapServers.isBlank(), BOOTSTRAP_SERVERS, "must be set");
    ExactlyOnceKafka.requireParallelism(PARALLELISM, parallelism);
    ExactlyOnceKafka.requireCheckpointInterval(
        CHECKPOINT_INTERVAL_MS, checkpointInterval, "metrics");
    require(
        liveWindow.compareTo(Duration.ofSeconds(1)) >= 0
            && liveWindow.compareTo(MAX_LIVE_WINDOW) <= 0,
        WINDOW_SECONDS,
        "must be 1-" + MAX_LIVE_WINDOW.toSeconds() + " s, was " + liveWindow.toSeconds());
    atMostADay(outOfOrderness, OUT_OF_ORDERNESS_MS);
    atMostADay(idleAdvance, IDLE_ADVANCE_MS);
    atMostADay(campaignEmitInterval, CAMPAIGN_EMIT_MS);
    require(
        campaignRetention.compareTo(MIN_CAMPAIGN_RETENTION) >= 0
            && campaignRetention.compareTo(MAX_CAMPAIGN_RETENTION) <= 0,
        CAMPAIGN_RETENTION_HOURS,
        "must be "
            + MIN_CAMPAIGN_RETENTION.toHours()
            + "-"
            + MAX_CAMPAIGN_RETENTION.toHours()
            + " h, was "
            + campaignRetention.toHours());
    require(
        campaignMaxGroups >= 2 && campaignMaxGroups <= CampaignLimits.CEILING,
        CAMPAIGN_MAX_GROUPS,
        "must be 2-" + CampaignLimits.CEILING + ", was " + campaignMaxGroups);
    require(
        liveMaxModels >= 1 && liveMaxModels <= MAX_LIVE_MAX_MODELS,
        LIVE_MAX_MODELS,
        "must be 1-" + MAX_LIVE_MAX_MODELS + ", was " + liveMaxModels);
    require(
        !maxClockAhead.isNegative() && maxClockAhead.compareTo(MAX_MAX_CLOCK_AHEAD) <= 0,
        MAX_CLOCK_AHEAD_MS,
        "must be 0-" + MAX_MAX_CLOCK_AHEAD.toMillis() + " ms, was " + maxClockAhead.toMillis());
    require(
        alertMinGroupSize >= 1, ALERT_MIN_GROUP, "must be at least 1, was " + alertMinGroupSize);
    require(
        alertOutageLimit.compareTo(Duration.ofMinutes(1)) >= 0
            && alertOutageLimit.compareTo(Duration.ofDays(1)) <= 0,
        ALERT_OUTAGE_MINUTES,
        "must be 1-1440 min, was " + alertOutageLimit.toMinutes());
    categories = List.copyOf(categories);
    require(categories.size() <= 31, "categories", "at most 31 categories fit the flag bits");
  }

  /** Defaults on the given broker; alerts written to {@code jdbcUrl} if not null. */
  public static BiasJobConfig defaults(
      String bootstrapServers, String jdbcUrl, String jdbcUser, String jdbcPassword) {
    AnalysisSettings analysis = AnalysisSettings.defaults();
    return new BiasJobConfig(
        bootstrapServers,
        "genguard-bias",
        "genguard-bias",
        1,
        Duration.ofSeconds(1),
        Duration.ofMinutes(5),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(1),
        Duration.ofDays(7),
        DEFAULT_CAMPAIGN_MAX_GROUPS,
        DEFAULT_LIVE_MAX_MODELS,
        Duration.ofMinutes(1),
        analysis.unsafeThreshold(),
        analysis.categoryThreshold(),
        analysis.categories(),
        analysis.alpha(),
        analysis.correction(),
        30,
        Duration.ofMinutes(60),
        jdbcUrl,
        jdbcUser,
        jdbcPassword);
  }

  /**
   * Defaults overridden by the GENGUARD_BIAS_* keys present in {@code env}; the alert database from
   * {@value #JDBC_URL} (and user, password) or the given fallback.
   */
  public static BiasJobConfig fromEnvironment(
      Map<String, String> env,
      String bootstrapServers,
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword) {
    AnalysisSettings analysis = AnalysisSettings.fromEnvironment(env);
    BiasJobConfig d = defaults(bootstrapServers, jdbcUrl, jdbcUser, jdbcPassword);
    return new BiasJobConfig(
        env.getOrDefault(BOOTSTRAP_SERVERS, bootstrapServers),
        env.getOrDefault(CONSUMER_GROUP, d.consumerGroup()),
        env.getOrDefault(TRANSACTIONAL_ID_PREFIX, d.transactionalIdPrefix()),
        whole(env, PARALLELISM, d.parallelism()),
        Duration.ofMillis(whole(env, CHECKPOINT_INTERVAL_MS, d.checkpointInterval().toMillis())),
        Duration.ofSeconds(whole(env, WINDOW_SECONDS, d.liveWindow().toSeconds())),
        Duration.ofMillis(whole(env, OUT_OF_ORDERNESS_MS, d.outOfOrderness().toMillis())),
        Duration.ofMillis(whole(env, IDLE_ADVANCE_MS, d.idleAdvance().toMillis())),
        Duration.ofMillis(whole(env, CAMPAIGN_EMIT_MS, d.campaignEmitInterval().toMillis())),
        Duration.ofHours(whole(env, CAMPAIGN_RETENTION_HOURS, d.campaignRetention().toHours())),
        whole(env, CAMPAIGN_MAX_GROUPS, d.campaignMaxGroups()),
        whole(env, LIVE_MAX_MODELS, d.liveMaxModels()),
        Duration.ofMillis(whole(env, MAX_CLOCK_AHEAD_MS, d.maxClockAhead().toMillis())),
        analysis.unsafeThreshold(),
        analysis.categoryThreshold(),
        analysis.categories(),
        analysis.alpha(),
        analysis.correction(),
        whole(env, ALERT_MIN_GROUP, d.alertMinGroupSize()),
        Duration.ofMinutes(whole(env, ALERT_OUTAGE_MINUTES, d.alertOutageLimit().toMinutes())),
        env.getOrDefault(JDBC_URL, jdbcUrl),
        env.getOrDefault(JDBC_USER, jdbcUser),
        env.getOrDefault(JDBC_PASSWORD, jdbcPassword));
  }

  public BiasJobConfig withNames(String group, String transactionalPrefix) {
    return new BiasJobConfig(
        bootstrapServers,
        group,
        transactionalPrefix,
        parallelism,
        checkpointInterval,
        liveWindow,
        outOfOrderness,
        idleAdvance,
        campaignEmitInterval,
        campaignRetention,
        campaignMaxGroups,
        liveMaxModels,
        maxClockAhead,
        unsafeThreshold,
        categoryThreshold,
        categories,
        alertAlpha,
        alertCorrection,
        alertMinGroupSize,
        alertOutageLimit,
        alertJdbcUrl,
        alertJdbcUser,
        alertJdbcPassword);
  }

  public BiasJobConfig withTiming(
      Duration checkpoint, Duration window, Duration lateness, Duration idle, Duration emit) {
    return new BiasJobConfig(
        bootstrapServers,
        consumerGroup,
        transactionalIdPrefix,
        parallelism,
        checkpoint,
        window,
        lateness,
        idle,
        emit,
        campaignRetention,
        campaignMaxGroups,
        liveMaxModels,
        maxClockAhead,
        unsafeThreshold,
        categoryThreshold,
        categories,
        alertAlpha,
        alertCorrection,
        alertMinGroupSize,
        alertOutageLimit,
        alertJdbcUrl,
        alertJdbcUser,
        alertJdbcPassword);
  }

  public BiasJobConfig withCampaignMaxGroups(int maxGroups) {
    return new BiasJobConfig(
        bootstrapServers,
        consumerGroup,
        transactionalIdPrefix,
        parallelism,
        checkpointInterval,
        liveWindow,
        outOfOrderness,
        idleAdvance,
        campaignEmitInterval,
        campaignRetention,
        maxGroups,
        liveMaxModels,
        maxClockAhead,
        unsafeThreshold,
        categoryThreshold,
        categories,
        alertAlpha,
        alertCorrection,
        alertMinGroupSize,
        alertOutageLimit,
        alertJdbcUrl,
        alertJdbcUser,
        alertJdbcPassword);
  }

  public BiasJobConfig withLiveMaxModels(int maxModels) {
    return new BiasJobConfig(
        bootstrapServers,
        consumerGroup,
        transactionalIdPrefix,
        parallelism,
        checkpointInterval,
        liveWindow,
        outOfOrderness,
        idleAdvance,
        campaignEmitInterval,
        campaignRetention,
        campaignMaxGroups,
        maxModels,
        maxClockAhead,
        unsafeThreshold,
        categoryThreshold,
        categories,
        alertAlpha,
        alertCorrection,
        alertMinGroupSize,
        alertOutageLimit,
        alertJdbcUrl,
        alertJdbcUser,
        alertJdbcPassword);
  }

  public BiasJobConfig withAlertMinGroupSize(int size) {
    return new BiasJobConfig(
        bootstrapServers,
        consumerGroup,
        transactionalIdPrefix,
        parallelism,
        checkpointInterval,
        liveWindow,
        outOfOrderness,
        idleAdvance,
        campaignEmitInterval,
        campaignRetention,
        campaignMaxGroups,
        liveMaxModels,
        maxClockAhead,
        unsafeThreshold,
        categoryThreshold,
        categories,
        alertAlpha,
        alertCorrection,
        size,
        alertOutageLimit,
        alertJdbcUrl,
        alertJdbcUser,
        alertJdbcPassword);
  }

  @Override
  public String toString() {
    return "BiasJobConfig[kafka="
        + bootstrapServers
        + ", group="
        + consumerGroup
        + ", window="
        + liveWindow
        + ", alerts="
        + (alertJdbcUrl == null ? "off" : alertJdbcUrl)
        + "]";
  }

  /** {@link AnalysisSettings#wholeNumber}, with a fallback a default's duration gives. */
  private static int whole(Map<String, String> env, String key, long fallback) {
    return AnalysisSettings.wholeNumber(env, key, Math.toIntExact(fallback));
  }

  private static void atMostADay(Duration duration, String key) {
    require(
        !duration.isNegative() && duration.compareTo(Duration.ofDays(1)) <= 0,
        key,
        "must be 0-86400000 ms, was " + duration.toMillis());
  }

  private static void require(boolean condition, String key, String problem) {
    if (!condition) {
      throw new IllegalArgumentException(key + " " + problem);
    }
  }
}
