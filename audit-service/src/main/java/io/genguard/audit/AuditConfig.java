package io.genguard.audit;

import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.moderation.gate.GateTimings;
import io.genguard.moderation.scoring.OnnxClassifierScorer;
import io.genguard.moderation.scoring.ScorerConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings of the audit service: defaults, overridden by GENGUARD_AUDIT_* environment keys, and by
 * the moderation job's imported-classifier keys (GENGUARD_MODERATION_CLASSIFIER_*) for explaining
 * its verdicts.
 *
 * @param jdbcUrl PostgreSQL JDBC URL
 * @param jdbcUser database user
 * @param jdbcPassword database password (never logged)
 * @param consumerGroup Kafka group of the audit ingestor
 * @param httpHost address the API binds to
 * @param httpPort API port (0 for a free one)
 * @param poolSize database connections for the API and background tasks (each ingestor gets one
 *     more)
 * @param ingestors audit ingestors (Kafka consumers of the one group, each with its own database
 *     transaction); their projection writes run in parallel, only the hash-chain append is serial
 * @param maxBodyBytes largest HTTP request body accepted
 * @param maxExportRows most rows one CSV/JSON export returns
 * @param reviewClaimMinutes how long a reviewer's claim on a queue item lasts
 * @param retentionDays default retention for tenants without their own (0 = keep forever)
 * @param retentionIntervalMinutes how often retention runs (0 = only when asked through the API)
 * @param adminTokenFile if set and the file does not exist, the service creates a global admin
 *     token at start and writes it there (owner-only permissions), so a local stack has a first
 *     token; empty string = off
 * @param anchorFile if set, the chain head is appended there every {@code anchorIntervalSeconds}
 *     and at stop ({@link io.genguard.audit.persistence.AnchorLog}), so that records removed or a
 *     chain rebuilt later in the database show against heads kept outside it; empty string = off
 * @param anchorIntervalSeconds how often the head is anchored
 * @param anchorSigningKeyFile if set, every anchor line is signed (Ed25519) with the last key of
 *     this file of {@code id:base64seed} lines, created with one fresh key and owner-only
 *     permissions when absent; the public keys go beside the anchor file ({@link
 *     io.genguard.audit.persistence.AnchorLog#publicKeyFile}); needs {@code anchorFile}; empty
 *     string = unsigned lines
 * @param anchorWitnessTopic if set, every anchor line is also sent, byte for byte, to this Kafka
 *     topic (one partition, records kept forever, created when absent; {@link
 *     io.genguard.audit.persistence.AnchorWitness}), a copy outside the database and the anchor
 *     file's disk that verification compares the file with; one topic per anchor file; needs {@code
 *     anchorFile}; empty string = off
 * @param explainKeyDirectory if set, reviewers get explanations of held verdicts ({@link
 *     io.genguard.audit.explain.ReplayingExplanations}): the provenance key directory of the
 *     moderation job, for the keys missing from this process's environment (GENGUARD_WATERMARK_KEYS
 *     and GENGUARD_VERIFICATION_KEYS, as the job has them, take precedence); the moderation models
 *     load on the first explanation asked for; empty string = off (the route answers 501)
 * @param explainPolicyFile the policy file the moderation job runs with, for explanations; empty
 *     string = the built-in policy
 * @param explainHeldSeconds if above 0, every so many seconds held verdicts (REVIEW or BLOCK) that
 *     have no recorded explanation yet are explained in the background, up to {@value
 *     #EXPLAIN_HELD_BATCH} a round, and recorded in the chain as reviewers' explanations are; needs
 *     {@code explainKeyDirectory}; 0 = off (explanations only when asked for)
 * @param submitRate generation requests per second each tenant may submit through the API, on
 *     average ({@link io.genguard.audit.submit.TenantRateLimiter}); more are answered 429 with
 *     Retry-After and not written; 0 = no limit
 * @param submitBurst requests a tenant may submit at once above that rate, after a pause
 * @param submitRates tenants with their own rate and burst, {@code tenant=rate[/burst]}
 *     comma-separated ({@link io.genguard.audit.submit.TenantRateLimiter#parseAllowances}); empty =
 *     none
 * @param reviewExpireHours outputs held for review longer than this with no decision are rejected
 *     by the service (quarantined, never released unreviewed); 0 = they wait for a person
 * @param submitRateScope where the tenants' rates are counted: {@value #SCOPE_CLUSTER} (once for
 *     every audit-service process sharing the database, {@link
 *     io.genguard.audit.submit.SharedRateBuckets}) or {@value #SCOPE_PROCESS} (each process on its
 *     own, so N processes allow N times the rate)
 * @param answerDeadlineMinutes a generation request with neither an output nor a failure this long
 *     after it was recorded is an unfinished flow ({@link
 *     io.genguard.audit.watch.UnfinishedFlows}): recorded in the chain, counted in the metrics; 0 =
 *     not checked
 * @param gateDeadlineMinutes an output with no release-gate outcome this long after it was recorded
 *     is an unfinished flow; longer than the gate's verdict timeout and half of it again (an output
 *     without a verdict gets its outcome only then); 0 = not checked
 * @param gateMemoryHours how long the release gate remembers a decision ({@link
 *     GateTimings#DECISION_RETENTION_HOURS}, the gate's own key, read here too): an output without
 *     a gate outcome older than this is not sent to the gate again, which could decide it twice
 * @param maxConcurrentExports output exports ({@code GET /api/v1/outputs/export}) that may run at
 *     once in this process; another is answered 429 with Retry-After. An export reads its rows a
 *     page at a time and holds no database connection while it writes them, so this bounds the
 *     threads, memory and database work that slow or stalled export clients can take
 * @param queryTimeoutMs how long each PostgreSQL statement of a caller's search (an export's page
 *     too), request story, totals, review queue, bias reports and metrics, bias campaigns, token
 *     list, unfinished flows, evidence bundle, token check (every call's) or campaign check (a
 *     submission's) may run ({@code statement_timeout}, set for its transaction only); a longer one
 *     is cancelled and the call answered 503
 * @param tenantMaxConcurrentQueries reads (searches, totals, bias reports and metrics, bias
 *     campaigns, unfinished-flow lists) one tenant (global tokens together count as one) may have
 *     running at once in this process; another is answered 429 with Retry-After, so that one
 *     tenant's slow reads cannot take every connection of the pool (a request's story and the
 *     review queue, which submitters and reviewers poll, the token list, which an admin needs to
 *     revoke a leaked token, and evidence bundles are not counted; the read timeout bounds them)
 * @param explainClassifier the imported classifier the moderation job runs ({@code
 *     onnx-classifier}), read from the job's own keys ({@value ScorerConfig#CLASSIFIER_DIR},
 *     {@value ScorerConfig#CLASSIFIER_LABELS}, {@value ScorerConfig#CLASSIFIER_MAX_TOKENS}), so
 *     that explanations and the what-if judge its verdicts again with it ({@link
 *     io.genguard.audit.explain.VerdictReplay}); null when none of them is set, and then such
 *     verdicts are not explained (the answer says what to set). Used only with {@code
 *     explainKeyDirectory}; the folder loads on the first such verdict asked for
 * @param resendQuietSeconds how long after a request's unfinished flow was sent again (the resend's
 *     marker, or its last recorded send) other content read under its records' ids is kept as after
 *     the resend ({@code event_id_conflict.after_resend}), not alerted ({@link
 *     io.genguard.audit.persistence.AuditWriter}); an hour by default, to be raised while the
 *     pipeline is further behind than that when flows are resent
 */
public record AuditConfig(
    String jdbcUrl,
    String jdbcUser,
    String jdbcPassword,
    String consumerGroup,
    String httpHost,
    int httpPort,
    int poolSize,
    int ingestors,
    long maxBodyBytes,
    int maxExportRows,
    int reviewClaimMinutes,
    int retentionDays,
    int retentionIntervalMinutes,
    String adminTokenFile,
    String anchorFile,
    int anchorIntervalSeconds,
    String anchorSigningKeyFile,
    String anchorWitnessTopic,
    String explainKeyDirectory,
    String explainPolicyFile,
    int explainHeldSeconds,
    int submitRate,
    int submitBurst,
    String submitRates,
    int reviewExpireHours,
    String submitRateScope,
    int answerDeadlineMinutes,
    int gateDeadlineMinutes,
    int gateMemoryHours,
    int maxConcurrentExports,
    int queryTimeoutMs,
    int tenantMaxConcurrentQueries,
    ScorerConfig explainClassifier,
    int resendQuietSeconds) {

  public static final String JDBC_URL = "GENGUARD_AUDIT_JDBC_URL";
  public static final String JDBC_USER = "GENGUARD_AUDIT_JDBC_USER";
  public static final String JDBC_PASSWORD = "GENGUARD_AUDIT_JDBC_PASSWORD";
  public static final String CONSUMER_GROUP = "GENGUARD_AUDIT_GROUP";
  public static final String HTTP_HOST = "GENGUARD_AUDIT_HTTP_HOST";
  public static final String HTTP_PORT = "GENGUARD_AUDIT_HTTP_PORT";
  public static final String POOL_SIZE = "GENGUARD_AUDIT_POOL_SIZE";
  public static final String INGESTORS = "GENGUARD_AUDIT_INGESTORS";

  /** Two: on two cores, one ingestor's projections overlap the other's chain append. */
  public static final int DEFAULT_INGESTORS = 2;

  public static final String MAX_BODY_BYTES = "GENGUARD_AUDIT_MAX_BODY_BYTES";
  public static final String MAX_EXPORT_ROWS = "GENGUARD_AUDIT_MAX_EXPORT_ROWS";
  public static final String REVIEW_CLAIM_MINUTES = "GENGUARD_AUDIT_REVIEW_CLAIM_MINUTES";
  public static final String RETENTION_DAYS = "GENGUARD_AUDIT_RETENTION_DAYS";
  public static final String RETENTION_INTERVAL_MINUTES =
      "GENGUARD_AUDIT_RETENTION_INTERVAL_MINUTES";
  public static final String ADMIN_TOKEN_FILE = "GENGUARD_AUDIT_ADMIN_TOKEN_FILE";
  public static final String ANCHOR_FILE = "GENGUARD_AUDIT_ANCHOR_FILE";
  public static final String ANCHOR_INTERVAL_SECONDS = "GENGUARD_AUDIT_ANCHOR_INTERVAL_SECONDS";
  public static final String ANCHOR_SIGNING_KEY_FILE = "GENGUARD_AUDIT_ANCHOR_SIGNING_KEY_FILE";
  public static final String ANCHOR_WITNESS_TOPIC = "GENGUARD_AUDIT_ANCHOR_WITNESS_TOPIC";
  public static final String EXPLAIN_KEY_DIR = "GENGUARD_AUDIT_EXPLAIN_KEY_DIR";
  public static final String EXPLAIN_POLICY_FILE = "GENGUARD_AUDIT_EXPLAIN_POLICY_FILE";
  public static final String EXPLAIN_HELD_SECONDS = "GENGUARD_AUDIT_EXPLAIN_HELD_SECONDS";
  public static final String SUBMIT_RATE = "GENGUARD_AUDIT_SUBMIT_RATE";
  public static final String SUBMIT_BURST = "GENGUARD_AUDIT_SUBMIT_BURST";
  public static final String SUBMIT_RATES = "GENGUARD_AUDIT_SUBMIT_RATES";
  public static final String REVIEW_EXPIRE_HOURS = "GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS";
  public static final String SUBMIT_RATE_SCOPE = "GENGUARD_AUDIT_SUBMIT_RATE_SCOPE";
  public static final String ANSWER_DEADLINE_MINUTES = "GENGUARD_AUDIT_ANSWER_DEADLINE_MINUTES";
  public static final String GATE_DEADLINE_MINUTES = "GENGUARD_AUDIT_GATE_DEADLINE_MINUTES";
  public static final String MAX_CONCURRENT_EXPORTS = "GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS";

  /** Two exports at once by default: one tenant's export does not shut out every other's. */
  public static final int DEFAULT_MAX_CONCURRENT_EXPORTS = 2;

  /** Highest {@link #MAX_CONCURRENT_EXPORTS}: each export takes one of Jetty's threads. */
  public static final int MOST_CONCURRENT_EXPORTS = 64;

  public static final String QUERY_TIMEOUT_MS = "GENGUARD_AUDIT_QUERY_TIMEOUT_MS";

  /** Ten seconds: far above what a page, a story or a tenant's totals take on an indexed store. */
  public static final int DEFAULT_QUERY_TIMEOUT_MS = 10_000;

  /** Longest {@link #QUERY_TIMEOUT_MS}: ten minutes. */
  public static final int MAX_QUERY_TIMEOUT_MS = 600_000;

  public static final String TENANT_MAX_CONCURRENT_QUERIES =
      "GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES";

  /**
   * Two reads at once per tenant by default: half of the default {@link #POOL_SIZE} of 4, so that
   * one tenant's slow reads leave connections to the others, the token checks and the background
   * tasks.
   */
  public static final int DEFAULT_TENANT_MAX_CONCURRENT_QUERIES = 2;

  /** Highest {@link #TENANT_MAX_CONCURRENT_QUERIES}: each read takes one of Jetty's threads. */
  public static final int MOST_TENANT_CONCURRENT_QUERIES = 64;

  public static final String RESEND_QUIET_SECONDS = "GENGUARD_AUDIT_RESEND_QUIET_SECONDS";

  /**
   * Shortest {@link #RESEND_QUIET_SECONDS}: a minute, less than the answers of a resend take to
   * come back from a pipeline that reads.
   */
  public static final int MIN_RESEND_QUIET_SECONDS = 60;

  /** Longest {@link #RESEND_QUIET_SECONDS}: a week, as the longest flow deadline. */
  public static final int MAX_RESEND_QUIET_SECONDS = 7 * 24 * 60 * 60;

  /** Longest deadline of an unfinished flow: a week. */
  public static final int MAX_DEADLINE_MINUTES = 7 * 24 * 60;

  /** {@link #SUBMIT_RATE_SCOPE}: one allowance per tenant for every process on the database. */
  public static final String SCOPE_CLUSTER = "cluster";

  /** {@link #SUBMIT_RATE_SCOPE}: each process counts the tenants' rates on its own. */
  public static final String SCOPE_PROCESS = "process";

  /** Longest {@link #REVIEW_EXPIRE_HOURS}: a year. */
  public static final int MAX_REVIEW_EXPIRE_HOURS = 8760;

  /** Highest {@link #SUBMIT_RATE} and {@link #SUBMIT_BURST} accepted. */
  public static final int MAX_SUBMIT_RATE = io.genguard.audit.submit.TenantRateLimiter.MAX_RATE;

  /** Held verdicts the background explainer takes in one round (about 0.6 s each here). */
  public static final int EXPLAIN_HELD_BATCH = 20;

  public AuditConfig {
    atLeast(POOL_SIZE, poolSize, 1);
    atLeast(INGESTORS, ingestors, 1);
    if (ingestors > 64) {
      throw new IllegalArgumentException(INGESTORS + "=" + ingestors + " must be at most 64");
    }
    atLeast(MAX_BODY_BYTES, maxBodyBytes, 1024);
    atLeast(MAX_EXPORT_ROWS, maxExportRows, 1);
    atLeast(REVIEW_CLAIM_MINUTES, reviewClaimMinutes, 1);
    atLeast(RETENTION_DAYS, retentionDays, 0);
    if (retentionDays > Retention.MAX_DAYS) {
      // Refused here with the key rather than by Retention when the service starts.
      throw new IllegalArgumentException(
          RETENTION_DAYS + "=" + retentionDays + " must be at most " + Retention.MAX_DAYS);
    }
    atLeast(RETENTION_INTERVAL_MINUTES, retentionIntervalMinutes, 0);
    adminTokenFile = adminTokenFile == null ? "" : adminTokenFile;
    anchorFile = anchorFile == null ? "" : anchorFile;
    atLeast(ANCHOR_INTERVAL_SECONDS, anchorIntervalSeconds, 1);
    anchorSigningKeyFile = anchorSigningKeyFile == null ? "" : anchorSigningKeyFile;
    if (!anchorSigningKeyFile.isEmpty() && anchorFile.isEmpty()) {
      throw new IllegalArgumentException(
          ANCHOR_SIGNING_KEY_FILE
              + " is set but "
              + ANCHOR_FILE
              + " is not: the key signs the lines of the anchor file");
    }
    anchorWitnessTopic = anchorWitnessTopic == null ? "" : anchorWitnessTopic.trim();
    if (!anchorWitnessTopic.isEmpty()) {
      if (anchorFile.isEmpty()) {
        throw new IllegalArgumentException(
            ANCHOR_WITNESS_TOPIC
                + " is set but "
                + ANCHOR_FILE
                + " is not: the topic witnesses the lines of the anchor file");
      }
      if (!anchorWitnessTopic.matches("[a-zA-Z0-9._-]{1,249}")
          || anchorWitnessTopic.equals(".")
          || anchorWitnessTopic.equals("..")) {
        throw new IllegalArgumentException(
            ANCHOR_WITNESS_TOPIC
                + "='"
                + anchorWitnessTopic
                + "' is not a Kafka topic name (1-249 of a-z, A-Z, 0-9, '.', '_', '-')");
      }
    }
    explainKeyDirectory = explainKeyDirectory == null ? "" : explainKeyDirectory;
    explainPolicyFile = explainPolicyFile == null ? "" : explainPolicyFile;
    atLeast(EXPLAIN_HELD_SECONDS, explainHeldSeconds, 0);
    if (explainClassifier != null && !explainClassifier.name().equals(OnnxClassifierScorer.NAME)) {
      throw new IllegalArgumentException(
          "The explanations' classifier settings name scorer '"
              + explainClassifier.name()
              + "', not the imported classifier");
    }
    needsKeyDirectory(EXPLAIN_POLICY_FILE, !explainPolicyFile.isEmpty(), explainKeyDirectory);
    needsKeyDirectory(EXPLAIN_HELD_SECONDS, explainHeldSeconds > 0, explainKeyDirectory);
    atLeast(SUBMIT_RATE, submitRate, 0);
    atMost(SUBMIT_RATE, submitRate, MAX_SUBMIT_RATE);
    atLeast(SUBMIT_BURST, submitBurst, 1);
    atMost(SUBMIT_BURST, submitBurst, MAX_SUBMIT_RATE);
    submitRates = submitRates == null ? "" : submitRates.trim();
    io.genguard.audit.submit.TenantRateLimiter.parseAllowances(SUBMIT_RATES, submitRates);
    atLeast(REVIEW_EXPIRE_HOURS, reviewExpireHours, 0);
    atMost(REVIEW_EXPIRE_HOURS, reviewExpireHours, MAX_REVIEW_EXPIRE_HOURS);
    submitRateScope =
        submitRateScope == null || submitRateScope.isBlank()
            ? SCOPE_CLUSTER
            : submitRateScope.trim();
    if (!submitRateScope.equals(SCOPE_CLUSTER) && !submitRateScope.equals(SCOPE_PROCESS)) {
      throw new IllegalArgumentException(
          SUBMIT_RATE_SCOPE
              + "='"
              + (submitRateScope.length() > 40
                  ? submitRateScope.substring(0, 40) + "..."
                  : submitRateScope)
              + "' is neither '"
              + SCOPE_CLUSTER
              + "' (one rate per tenant for every audit-service process on the database) nor '"
              + SCOPE_PROCESS
              + "' (each process on its own)");
    }
    atLeast(ANSWER_DEADLINE_MINUTES, answerDeadlineMinutes, 0);
    atMost(ANSWER_DEADLINE_MINUTES, answerDeadlineMinutes, MAX_DEADLINE_MINUTES);
    atLeast(GATE_DEADLINE_MINUTES, gateDeadlineMinutes, 0);
    atMost(GATE_DEADLINE_MINUTES, gateDeadlineMinutes, MAX_DEADLINE_MINUTES);
    atLeast(GateTimings.DECISION_RETENTION_HOURS, gateMemoryHours, 1);
    atMost(
        GateTimings.DECISION_RETENTION_HOURS, gateMemoryHours, GateTimings.LONGEST_RETENTION_HOURS);
    atLeast(MAX_CONCURRENT_EXPORTS, maxConcurrentExports, 1);
    atMost(MAX_CONCURRENT_EXPORTS, maxConcurrentExports, MOST_CONCURRENT_EXPORTS);
    atLeast(QUERY_TIMEOUT_MS, queryTimeoutMs, 1);
    atMost(QUERY_TIMEOUT_MS, queryTimeoutMs, MAX_QUERY_TIMEOUT_MS);
    atLeast(TENANT_MAX_CONCURRENT_QUERIES, tenantMaxConcurrentQueries, 1);
    atMost(
        TENANT_MAX_CONCURRENT_QUERIES, tenantMaxConcurrentQueries, MOST_TENANT_CONCURRENT_QUERIES);
    resendQuietInRange(resendQuietSeconds);
    if (httpPort < 0 || httpPort > 65535) {
      throw new IllegalArgumentException(
          HTTP_PORT + "=" + httpPort + " is not a TCP port (0-65535)");
    }
  }

  /** The settings of the first version; the rest take their defaults. */
  public AuditConfig(
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword,
      String consumerGroup,
      String httpHost,
      int httpPort,
      int poolSize) {
    this(
        jdbcUrl,
        jdbcUser,
        jdbcPassword,
        consumerGroup,
        httpHost,
        httpPort,
        poolSize,
        DEFAULT_INGESTORS,
        64 * 1024,
        100_000,
        15,
        0,
        60,
        "",
        "",
        60,
        "",
        "",
        "",
        "",
        0,
        50,
        100,
        "",
        0,
        SCOPE_CLUSTER,
        (int) UnfinishedFlows.Deadlines.DEFAULTS.answer().toMinutes(),
        (int) UnfinishedFlows.Deadlines.DEFAULTS.gate().toMinutes(),
        (int) GateTimings.DEFAULTS.decisionRetention().toHours(),
        DEFAULT_MAX_CONCURRENT_EXPORTS,
        DEFAULT_QUERY_TIMEOUT_MS,
        DEFAULT_TENANT_MAX_CONCURRENT_QUERIES,
        null,
        (int) AuditWriter.RESEND_UNDER_WAY.toSeconds());
  }

  @Override
  public String toString() {
    return "AuditConfig[jdbcUrl="
        + jdbcUrl
        + ", jdbcUser="
        + jdbcUser
        + ", jdbcPassword=***, consumerGroup="
        + consumerGroup
        + ", httpHost="
        + httpHost
        + ", httpPort="
        + httpPort
        + ", poolSize="
        + poolSize
        + ", ingestors="
        + ingestors
        + ", maxBodyBytes="
        + maxBodyBytes
        + ", maxExportRows="
        + maxExportRows
        + ", reviewClaimMinutes="
        + reviewClaimMinutes
        + ", retentionDays="
        + retentionDays
        + ", retentionIntervalMinutes="
        + retentionIntervalMinutes
        + ", adminTokenFile="
        + adminTokenFile
        + ", anchorFile="
        + anchorFile
        + ", anchorIntervalSeconds="
        + anchorIntervalSeconds
        + ", anchorSigningKeyFile="
        + anchorSigningKeyFile
        + ", anchorWitnessTopic="
        + anchorWitnessTopic
        + ", explainKeyDirectory="
        + explainKeyDirectory
        + ", explainPolicyFile="
        + explainPolicyFile
        + ", explainHeldSeconds="
        + explainHeldSeconds
        + ", submitRate="
        + submitRate
        + ", submitBurst="
        + submitBurst
        + ", submitRates="
        + submitRates
        + ", reviewExpireHours="
        + reviewExpireHours
        + ", submitRateScope="
        + submitRateScope
        + ", answerDeadlineMinutes="
        + answerDeadlineMinutes
        + ", gateDeadlineMinutes="
        + gateDeadlineMinutes
        + ", gateMemoryHours="
        + gateMemoryHours
        + ", maxConcurrentExports="
        + maxConcurrentExports
        + ", queryTimeoutMs="
        + queryTimeoutMs
        + ", tenantMaxConcurrentQueries="
        + tenantMaxConcurrentQueries
        + ", explainClassifier="
        + (explainClassifier == null
            ? "none"
            : explainClassifier.modelPath()
                + " "
                + explainClassifier.labelMapSpec()
                + " "
                + explainClassifier.maxTokens())
        + ", resendQuietSeconds="
        + resendQuietSeconds
        + "]";
  }

  public static AuditConfig of(String jdbcUrl, String user, String password, int httpPort) {
    return new AuditConfig(jdbcUrl, user, password, "genguard-audit", "127.0.0.1", httpPort, 4);
  }

  // The withers override keys exactly as the environment would, so every value passes the same
  // checks whichever way it arrives.

  public AuditConfig withRetention(int days, int intervalMinutes) {
    return fromEnvironment(
        Map.of(
            RETENTION_DAYS,
            Integer.toString(days),
            RETENTION_INTERVAL_MINUTES,
            Integer.toString(intervalMinutes)),
        this);
  }

  public AuditConfig withConsumerGroup(String group) {
    return fromEnvironment(Map.of(CONSUMER_GROUP, group), this);
  }

  /** Writes a first admin token to {@code file} at start if the file does not exist yet. */
  public AuditConfig withAdminTokenFile(java.nio.file.Path file) {
    return fromEnvironment(Map.of(ADMIN_TOKEN_FILE, file == null ? "" : file.toString()), this);
  }

  /** Anchors the chain head in {@code file} every {@code intervalSeconds} and at stop. */
  public AuditConfig withAnchorFile(java.nio.file.Path file, int intervalSeconds) {
    return fromEnvironment(
        Map.of(
            ANCHOR_FILE,
            file == null ? "" : file.toString(),
            ANCHOR_INTERVAL_SECONDS,
            Integer.toString(intervalSeconds)),
        this);
  }

  /** Signs every anchor line with the last key of {@code keyFile} (created when absent). */
  public AuditConfig withAnchorSigningKeyFile(java.nio.file.Path keyFile) {
    return fromEnvironment(
        Map.of(ANCHOR_SIGNING_KEY_FILE, keyFile == null ? "" : keyFile.toString()), this);
  }

  /** Sends every anchor line to the Kafka topic {@code topic} as well (null or empty: off). */
  public AuditConfig withAnchorWitnessTopic(String topic) {
    return fromEnvironment(Map.of(ANCHOR_WITNESS_TOPIC, topic == null ? "" : topic), this);
  }

  /**
   * Explains held verdicts to reviewers, with the moderation job's key directory and policy file
   * (null: the built-in policy).
   */
  public AuditConfig withExplanations(java.nio.file.Path keyDirectory, java.nio.file.Path policy) {
    return fromEnvironment(
        Map.of(
            EXPLAIN_KEY_DIR,
            keyDirectory.toString(),
            EXPLAIN_POLICY_FILE,
            policy == null ? "" : policy.toString()),
        this);
  }

  /** Explains held verdicts in the background every {@code seconds} (0: off). */
  public AuditConfig withExplainHeld(int seconds) {
    return fromEnvironment(Map.of(EXPLAIN_HELD_SECONDS, Integer.toString(seconds)), this);
  }

  /** Each tenant may submit {@code perSecond} requests a second, {@code burst} at once (0: off). */
  public AuditConfig withSubmitRate(int perSecond, int burst) {
    return fromEnvironment(
        Map.of(SUBMIT_RATE, Integer.toString(perSecond), SUBMIT_BURST, Integer.toString(burst)),
        this);
  }

  /** Tenants with their own rate, {@code tenant=rate[/burst]} comma-separated. */
  public AuditConfig withSubmitRates(String rates) {
    return fromEnvironment(Map.of(SUBMIT_RATES, rates), this);
  }

  /**
   * Counts the tenants' rates for the whole cluster or per process ({@link #SUBMIT_RATE_SCOPE}).
   */
  public AuditConfig withSubmitRateScope(String scope) {
    return fromEnvironment(Map.of(SUBMIT_RATE_SCOPE, scope), this);
  }

  /** Rejects outputs held for review longer than {@code hours} without a decision (0: never). */
  public AuditConfig withReviewExpiry(int hours) {
    return fromEnvironment(Map.of(REVIEW_EXPIRE_HOURS, Integer.toString(hours)), this);
  }

  /** The deadlines of unfinished flows, in minutes (0: that kind is not checked). */
  public AuditConfig withFlowDeadlines(int answerMinutes, int gateMinutes) {
    return fromEnvironment(
        Map.of(
            ANSWER_DEADLINE_MINUTES,
            Integer.toString(answerMinutes),
            GATE_DEADLINE_MINUTES,
            Integer.toString(gateMinutes)),
        this);
  }

  /** The deadlines of unfinished flows. */
  public UnfinishedFlows.Deadlines flowDeadlines() {
    return new UnfinishedFlows.Deadlines(
        Duration.ofMinutes(answerDeadlineMinutes), Duration.ofMinutes(gateDeadlineMinutes));
  }

  /** How long the release gate remembers a decision ({@link #gateMemoryHours}). */
  public Duration gateMemory() {
    return Duration.ofHours(gateMemoryHours);
  }

  public AuditConfig withLimits(long bodyBytes, int exportRows) {
    return fromEnvironment(
        Map.of(
            MAX_BODY_BYTES,
            Long.toString(bodyBytes),
            MAX_EXPORT_ROWS,
            Integer.toString(exportRows)),
        this);
  }

  /** Lets {@code exports} output exports run at once ({@link #MAX_CONCURRENT_EXPORTS}). */
  public AuditConfig withConcurrentExports(int exports) {
    return fromEnvironment(Map.of(MAX_CONCURRENT_EXPORTS, Integer.toString(exports)), this);
  }

  /**
   * Lets each statement of a caller's read run at most {@code timeoutMs} ({@link
   * #QUERY_TIMEOUT_MS}) and each tenant run {@code perTenant} reads at once ({@link
   * #TENANT_MAX_CONCURRENT_QUERIES}).
   */
  public AuditConfig withQueryLimits(int timeoutMs, int perTenant) {
    return fromEnvironment(
        Map.of(
            QUERY_TIMEOUT_MS,
            Integer.toString(timeoutMs),
            TENANT_MAX_CONCURRENT_QUERIES,
            Integer.toString(perTenant)),
        this);
  }

  /**
   * How long after a resend of a request's unfinished flow (its marker or its last recorded send)
   * other content under its records' ids is kept as after the resend, not alerted ({@link
   * #RESEND_QUIET_SECONDS}).
   */
  public Duration resendQuiet() {
    return Duration.ofSeconds(resendQuietSeconds);
  }

  /**
   * {@link #RESEND_QUIET_SECONDS} read from {@code env} alone, as the audit service reads it (the
   * same range and words when it is not a whole number or out of range): for the tools that record
   * events with the audit service's writer outside it, such as {@code ./genguard audit
   * recover-dead-letters}. Unset or blank: the service's default ({@link
   * AuditWriter#RESEND_UNDER_WAY}).
   *
   * @throws IllegalArgumentException naming the key and its value when it is not a whole number of
   *     {@link #MIN_RESEND_QUIET_SECONDS} to {@link #MAX_RESEND_QUIET_SECONDS} seconds
   */
  public static Duration resendQuiet(java.util.function.Function<String, String> env) {
    long seconds =
        number(
            RESEND_QUIET_SECONDS,
            env.apply(RESEND_QUIET_SECONDS),
            AuditWriter.RESEND_UNDER_WAY.toSeconds());
    resendQuietInRange(seconds);
    return Duration.ofSeconds(seconds);
  }

  private static void resendQuietInRange(long seconds) {
    atLeast(RESEND_QUIET_SECONDS, seconds, MIN_RESEND_QUIET_SECONDS);
    atMost(RESEND_QUIET_SECONDS, seconds, MAX_RESEND_QUIET_SECONDS);
  }

  /** Other content read within {@code seconds} of a resend is not alerted. */
  public AuditConfig withResendQuiet(int seconds) {
    return fromEnvironment(Map.of(RESEND_QUIET_SECONDS, Integer.toString(seconds)), this);
  }

  /** How long each statement of a caller's read may run ({@link #QUERY_TIMEOUT_MS}). */
  public Duration queryTimeout() {
    return Duration.ofMillis(queryTimeoutMs);
  }

  /**
   * Overrides {@code base} with any GENGUARD_AUDIT_* keys in {@code env}. Where {@code env} also
   * holds the release gate's verdict timeout (the embedded stack, compose), a gate deadline the
   * gate could still be waiting at is refused.
   */
  public static AuditConfig fromEnvironment(Map<String, String> env, AuditConfig base) {
    AuditConfig config = overridden(env, base);
    String timeout = env.get(GateTimings.VERDICT_TIMEOUT_SECONDS);
    if (config.gateDeadlineMinutes() > 0 && timeout != null && !timeout.isBlank()) {
      Duration longest;
      try {
        longest = GateTimings.fromEnvironment(env).longestWaitForOutcome();
      } catch (IllegalArgumentException e) {
        return config; // the gate refuses its own settings, with its own message
      }
      if (Duration.ofMinutes(config.gateDeadlineMinutes()).compareTo(longest) <= 0) {
        throw new IllegalArgumentException(
            GATE_DEADLINE_MINUTES
                + "="
                + config.gateDeadlineMinutes()
                + " is not longer than the release gate can take to decide an output without a"
                + " verdict ("
                + GateTimings.VERDICT_TIMEOUT_SECONDS
                + "="
                + timeout.trim()
                + " and one sweep: "
                + longest.toSeconds()
                + " s), so every such output would be reported as unfinished; set at least "
                + (longest.toMinutes() + 1)
                + ", or 0 not to check");
      }
    }
    return config;
  }

  private static AuditConfig overridden(Map<String, String> env, AuditConfig base) {
    return new AuditConfig(
        env.getOrDefault(JDBC_URL, base.jdbcUrl()),
        env.getOrDefault(JDBC_USER, base.jdbcUser()),
        env.getOrDefault(JDBC_PASSWORD, base.jdbcPassword()),
        env.getOrDefault(CONSUMER_GROUP, base.consumerGroup()),
        env.getOrDefault(HTTP_HOST, base.httpHost()),
        (int) number(HTTP_PORT, env.get(HTTP_PORT), base.httpPort()),
        (int) number(POOL_SIZE, env.get(POOL_SIZE), base.poolSize()),
        (int) number(INGESTORS, env.get(INGESTORS), base.ingestors()),
        number(MAX_BODY_BYTES, env.get(MAX_BODY_BYTES), base.maxBodyBytes()),
        (int) number(MAX_EXPORT_ROWS, env.get(MAX_EXPORT_ROWS), base.maxExportRows()),
        (int)
            number(REVIEW_CLAIM_MINUTES, env.get(REVIEW_CLAIM_MINUTES), base.reviewClaimMinutes()),
        (int) number(RETENTION_DAYS, env.get(RETENTION_DAYS), base.retentionDays()),
        (int)
            number(
                RETENTION_INTERVAL_MINUTES,
                env.get(RETENTION_INTERVAL_MINUTES),
                base.retentionIntervalMinutes()),
        env.getOrDefault(ADMIN_TOKEN_FILE, base.adminTokenFile()),
        env.getOrDefault(ANCHOR_FILE, base.anchorFile()),
        (int)
            number(
                ANCHOR_INTERVAL_SECONDS,
                env.get(ANCHOR_INTERVAL_SECONDS),
                base.anchorIntervalSeconds()),
        env.getOrDefault(ANCHOR_SIGNING_KEY_FILE, base.anchorSigningKeyFile()),
        env.getOrDefault(ANCHOR_WITNESS_TOPIC, base.anchorWitnessTopic()),
        env.getOrDefault(EXPLAIN_KEY_DIR, base.explainKeyDirectory()),
        env.getOrDefault(EXPLAIN_POLICY_FILE, base.explainPolicyFile()),
        (int)
            number(EXPLAIN_HELD_SECONDS, env.get(EXPLAIN_HELD_SECONDS), base.explainHeldSeconds()),
        (int) number(SUBMIT_RATE, env.get(SUBMIT_RATE), base.submitRate()),
        (int) number(SUBMIT_BURST, env.get(SUBMIT_BURST), base.submitBurst()),
        env.getOrDefault(SUBMIT_RATES, base.submitRates()),
        (int) number(REVIEW_EXPIRE_HOURS, env.get(REVIEW_EXPIRE_HOURS), base.reviewExpireHours()),
        env.getOrDefault(SUBMIT_RATE_SCOPE, base.submitRateScope()),
        (int)
            number(
                ANSWER_DEADLINE_MINUTES,
                env.get(ANSWER_DEADLINE_MINUTES),
                base.answerDeadlineMinutes()),
        (int)
            number(
                GATE_DEADLINE_MINUTES, env.get(GATE_DEADLINE_MINUTES), base.gateDeadlineMinutes()),
        (int)
            number(
                GateTimings.DECISION_RETENTION_HOURS,
                env.get(GateTimings.DECISION_RETENTION_HOURS),
                base.gateMemoryHours()),
        (int)
            number(
                MAX_CONCURRENT_EXPORTS,
                env.get(MAX_CONCURRENT_EXPORTS),
                base.maxConcurrentExports()),
        (int) number(QUERY_TIMEOUT_MS, env.get(QUERY_TIMEOUT_MS), base.queryTimeoutMs()),
        (int)
            number(
                TENANT_MAX_CONCURRENT_QUERIES,
                env.get(TENANT_MAX_CONCURRENT_QUERIES),
                base.tenantMaxConcurrentQueries()),
        classifier(env, base.explainClassifier()),
        (int)
            number(RESEND_QUIET_SECONDS, env.get(RESEND_QUIET_SECONDS), base.resendQuietSeconds()));
  }

  /** The moderation job's keys of the imported classifier, read for explanations. */
  public static final List<String> CLASSIFIER_KEYS =
      List.of(
          ScorerConfig.CLASSIFIER_DIR,
          ScorerConfig.CLASSIFIER_LABELS,
          ScorerConfig.CLASSIFIER_MAX_TOKENS);

  /**
   * The classifier of {@code env} when it holds any of {@link #CLASSIFIER_KEYS} (all three are then
   * read from it, so that one classifier's settings never mix two sources; blank ones count as
   * unset), else {@code base}.
   */
  private static ScorerConfig classifier(Map<String, String> env, ScorerConfig base) {
    Map<String, String> keys = new HashMap<>();
    for (String key : CLASSIFIER_KEYS) {
      if (env.get(key) != null) {
        keys.put(key, env.get(key));
      }
    }
    return keys.isEmpty() ? base : ScorerConfig.classifierFromEnvironment(keys);
  }

  private static long number(String key, String value, long fallback) {
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      long parsed = Long.parseLong(value.trim());
      if (parsed > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(key + "=" + value + " is too large");
      }
      if (parsed < Integer.MIN_VALUE) {
        // Cut to an int it would wrap around (-4294967216 would become port 80).
        throw new IllegalArgumentException(key + "=" + value + " is too small");
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + "='" + value + "' is not a whole number", e);
    }
  }

  private static void needsKeyDirectory(String key, boolean set, String keyDirectory) {
    if (set && keyDirectory.isEmpty()) {
      throw new IllegalArgumentException(
          key
              + " is set but "
              + EXPLAIN_KEY_DIR
              + " is not: explanations are on only with the moderation job's key directory");
    }
  }

  private static void atMost(String key, long value, long maximum) {
    if (value > maximum) {
      throw new IllegalArgumentException(key + "=" + value + " must be at most " + maximum);
    }
  }

  private static void atLeast(String key, long value, long minimum) {
    if (value < minimum) {
      throw new IllegalArgumentException(key + "=" + value + " must be at least " + minimum);
    }
  }
}
