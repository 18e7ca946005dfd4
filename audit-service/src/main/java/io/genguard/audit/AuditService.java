package io.genguard.audit;

import io.genguard.audit.bias.BiasReports;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.explain.RecordedExplanations;
import io.genguard.audit.explain.ReplayingExplanations;
import io.genguard.audit.explain.VerdictExplanations;
import io.genguard.audit.http.AuditApi;
import io.genguard.audit.ingest.AuditIngestor;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AnchorWitness;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.query.OutputSearch;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.audit.retention.KafkaCopies;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.review.ReviewOutbox;
import io.genguard.audit.review.ReviewQueue;
import io.genguard.audit.security.ApiTokens;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.submit.EventResender;
import io.genguard.audit.submit.IdempotencyKeys;
import io.genguard.audit.submit.RequestSubmitter;
import io.genguard.audit.submit.SharedRateBuckets;
import io.genguard.audit.submit.SubmitRates;
import io.genguard.audit.submit.TenantRateLimiter;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.moderation.policy.InvalidPolicyException;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.provenance.ProvenanceKeys;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit service: persists every event from Kafka into PostgreSQL, publishes review decisions,
 * applies retention and serves the HTTP API and compliance UI. Start order: database (migrations),
 * ingestor, review outbox, API; close in reverse, API first (stop intake).
 */
public final class AuditService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditService.class);

  /** Counter of submissions refused for their tenant's rate (Prometheus adds {@code _total}). */
  public static final String SUBMISSIONS_REFUSED_METRIC = "genguard_audit_submissions_rate_limited";

  /** Submissions counted in this process because the shared rate buckets did not answer. */
  public static final String SUBMIT_RATE_FALLBACKS_METRIC =
      "genguard_audit_submit_rate_local_fallbacks";

  /** Counter of held outputs rejected for waiting too long (Prometheus adds {@code _total}). */
  public static final String REVIEWS_EXPIRED_METRIC = "genguard_audit_reviews_expired";

  /**
   * Counter of releases of outputs a reviewer had rejected, which the gate made on a late verdict
   * and this service took down as it recorded them (Prometheus adds {@code _total}).
   */
  public static final String REJECTED_RELEASES_RETRACTED_METRIC =
      "genguard_audit_rejected_releases_retracted";

  /**
   * Counter of events read under the id of a recorded event but with other content, kept in {@code
   * event_id_conflict} (Prometheus adds {@code _total}); an exact redelivery is not counted.
   */
  public static final String EVENT_ID_CONFLICTS_METRIC = "genguard_audit_event_id_conflicts";

  /**
   * Other content under a recorded output's or verdict's id read after the request's unfinished
   * flow was sent again ({@link AuditWriter#eventIdConflictsAfterResend}); not in {@link
   * #EVENT_ID_CONFLICTS_METRIC} (Prometheus adds {@code _total}).
   */
  public static final String EVENT_ID_CONFLICTS_AFTER_RESEND_METRIC =
      "genguard_audit_event_id_conflicts_after_resend";

  /**
   * Counter of erasure follow-ups that failed (one erased request's late records not erased, or a
   * whole pass), each tried again by the next pass a minute later (Prometheus adds {@code _total}).
   */
  public static final String ERASURE_FOLLOW_UPS_FAILED_METRIC =
      "genguard_audit_erasure_follow_ups_failed";

  /**
   * Counter of a caller's reads (searches, stories, totals, the review queue, bias reports and
   * metrics, bias campaigns, token lists, unfinished flows, evidence bundles) PostgreSQL cancelled
   * after {@link AuditConfig#QUERY_TIMEOUT_MS} (answered 503; Prometheus adds {@code _total}).
   */
  public static final String QUERIES_TIMED_OUT_METRIC = "genguard_audit_queries_timed_out";

  /** Exports that failed after their first rows went out with 200, and whose connection was cut. */
  public static final String EXPORTS_CUT_SHORT_METRIC = "genguard_audit_exports_cut_short";

  /**
   * Counter of reads (searches, totals, bias reports and metrics, bias campaigns, unfinished flows)
   * refused (429) because their tenant already ran {@link
   * AuditConfig#TENANT_MAX_CONCURRENT_QUERIES} (Prometheus adds {@code _total}).
   */
  public static final String QUERIES_REFUSED_FOR_TENANT_METRIC =
      "genguard_audit_queries_refused_for_tenant";

  /**
   * Counter of stored bias reports whose output texts retention removed, by this process's runs
   * (Prometheus adds {@code _total}).
   */
  public static final String RETENTION_BIAS_REPORTS_PRUNED_METRIC =
      "genguard_audit_retention_bias_reports_pruned";

  /** How long one send to, or read of, the anchor witness topic may take. */
  private static final Duration WITNESS_TIMEOUT = Duration.ofSeconds(10);

  /** Minutes between two purges of expired Idempotency-Keys. */
  private static final long IDEMPOTENCY_PURGE = 10;

  /** How often a named job policy file is checked for a change. */
  static final Duration JOB_POLICY_CHECK = Duration.ofSeconds(5);

  /** The stamp of a job policy file that is not there. */
  private static final String MISSING = "missing";

  /** How long the job's policy file must stay unchanged before it is recorded again. */
  private static final Duration POLICY_SETTLE = Duration.ofSeconds(2);

  private final AuditDatabase database;
  private final List<AuditIngestor> ingestors = new ArrayList<>();
  private final AuditWriter ingestWriter;
  private final RequestSubmitter submitter;
  private final EventResender resender;
  private final AuditQueries queries;
  private final ApiTokens tokens;
  private final ReviewOutbox outbox;
  private final ReviewQueue reviews;
  private final BiasReports biasReports;
  private final Campaigns campaigns;
  private final Retention retention;
  private final KafkaCopies kafkaCopies;
  private final AuditApi api;
  private final AnchorLog anchors;
  private final AnchorWitness witness;
  private final ReplayingExplanations ownedExplanations;
  private final ScheduledExecutorService timer;
  private final AuditHealth health;
  private final ScheduledExecutorService heldExplainer;
  private final ScheduledExecutorService flowWatch;
  private final RecordedExplanations explained;
  private final UnfinishedFlows unfinished;

  /** The moderation job's policy file ("" for the built-in policy); null without explanations. */
  private final String jobPolicyFile;

  private final PolicyArchive policies;

  /** The job policy file's modification time and size when the timer last read it. */
  private String jobPolicyStamp;

  private final SubmitRates submitRates;

  /**
   * The tenants' buckets shared by every process on the database; null when counted per process.
   */
  private final SharedRateBuckets sharedBuckets;

  /** The Idempotency-Keys of POST /api/v1/requests, purged here once they expire. */
  private final IdempotencyKeys idempotencyKeys;

  private boolean intakeStopped;
  private boolean closed;

  public AuditService(AuditConfig config, Map<String, Object> kafkaProperties, Clock clock) {
    this(config, kafkaProperties, clock, null);
  }

  /**
   * @param explanations explains recorded verdicts for reviewers; null: those of {@link
   *     AuditConfig#explainKeyDirectory()} if set, else none (the explanation route answers that it
   *     cannot)
   */
  public AuditService(
      AuditConfig config,
      Map<String, Object> kafkaProperties,
      Clock clock,
      VerdictExplanations explanations) {
    // What this start has opened, most recent first: a later step that fails closes them all (an
    // ingestor left running would go on reading, in its consumer group, in a JVM that may live on).
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      if (explanations == null && !config.explainKeyDirectory().isEmpty()) {
        // A policy file that does not load stops the start here, with its line.
        this.ownedExplanations = ReplayingExplanations.of(config);
        explanations = ownedExplanations;
        opened.push(ownedExplanations);
      } else {
        this.ownedExplanations = null;
      }
      // A malformed anchor file stops the start here, before anything else is opened.
      this.anchors =
          config.anchorFile().isBlank()
              ? null
              : new AnchorLog(
                  Path.of(config.anchorFile()),
                  clock,
                  config.anchorSigningKeyFile().isBlank()
                      ? null
                      : ProvenanceKeys.signingKeysAt(
                          Path.of(config.anchorSigningKeyFile()), "anchor-1"));
      if (config.anchorWitnessTopic().isEmpty()) {
        this.witness = null;
      } else {
        // A topic with more than one partition, or no broker to create it on, stops the start here.
        this.witness =
            new AnchorWitness(
                kafkaProperties,
                config.anchorWitnessTopic(),
                Path.of(config.anchorFile()),
                WITNESS_TIMEOUT);
        opened.push(witness);
        witness.ensureTopic();
      }
      this.database =
          AuditDatabase.connect(
              config.jdbcUrl(),
              config.jdbcUser(),
              config.jdbcPassword(),
              config.poolSize() + config.ingestors());
      opened.push(database);
      if (config.tenantMaxConcurrentQueries() >= config.poolSize() && config.poolSize() > 1) {
        LOG.warn(
            "{}={} is not below {}={}: one tenant's slow reads (searches, totals, bias reports"
                + " and metrics, bias campaigns, unfinished-flow lists) can hold every"
                + " connection the API has",
            AuditConfig.TENANT_MAX_CONCURRENT_QUERIES,
            config.tenantMaxConcurrentQueries(),
            AuditConfig.POOL_SIZE,
            config.poolSize());
      }
      // The policy files the moderation job publishes go to the archive with their event. One
      // writer for all ingestors (it keeps no state but its counter).
      this.ingestWriter =
          new AuditWriter(
              database.dataSource(), clock, PolicyArchive::archivePublished, config.resendQuiet());
      for (int i = 0; i < config.ingestors(); i++) {
        ingestors.add(
            keep(
                opened,
                new AuditIngestor(
                    kafkaProperties,
                    config.consumerGroup(),
                    ingestWriter,
                    clock,
                    "audit-ingestor-" + i)));
      }
      this.submitter =
          keep(
              opened,
              new RequestSubmitter(
                  kafkaProperties,
                  RequestSubmitter.SubmissionLimits.defaults(),
                  new TenantRateLimiter(
                      new TenantRateLimiter.Allowance(config.submitRate(), config.submitBurst()),
                      TenantRateLimiter.parseAllowances(
                          AuditConfig.SUBMIT_RATES, config.submitRates())),
                  clock));
      ReadTimeout readTimeout = new ReadTimeout(config.queryTimeout());
      this.queries = new AuditQueries(database.dataSource(), readTimeout);
      this.tokens = new ApiTokens(database.dataSource(), clock, readTimeout);
      this.outbox =
          keep(
              opened,
              new ReviewOutbox(
                  database.dataSource(), kafkaProperties, clock, Duration.ofSeconds(1)));
      this.reviews =
          new ReviewQueue(
              database.dataSource(),
              outbox,
              clock,
              Duration.ofMinutes(config.reviewClaimMinutes()),
              Duration.ofHours(config.reviewExpireHours()),
              readTimeout);
      this.biasReports = new BiasReports(database.dataSource(), clock, readTimeout);
      this.campaigns = new Campaigns(database.dataSource(), clock, readTimeout);
      this.kafkaCopies = keep(opened, new KafkaCopies(kafkaProperties, clock));
      this.retention =
          new Retention(database.dataSource(), clock, config.retentionDays(), kafkaCopies);
      this.unfinished =
          new UnfinishedFlows(
              database.dataSource(),
              clock,
              config.flowDeadlines(),
              config.gateMemory(),
              readTimeout);
      this.resender = keep(opened, new EventResender(kafkaProperties));
      this.explained =
          explanations == null
              ? null
              : new RecordedExplanations(database.dataSource(), queries, explanations, clock);
      this.api =
          new AuditApi(
              new AuditApi.Services(
                  database.dataSource(),
                  queries,
                  submitter,
                  tokens,
                  reviews,
                  new OutputSearch(database.dataSource(), readTimeout),
                  biasReports,
                  campaigns,
                  retention,
                  clock,
                  new AuditApi.Limits(
                      config.maxBodyBytes(),
                      config.maxExportRows(),
                      config.maxConcurrentExports(),
                      config.tenantMaxConcurrentQueries()),
                  anchors,
                  witness,
                  explained,
                  unfinished,
                  resender));
      writeAdminTokenFile(config.adminTokenFile());
      this.submitRates = new SubmitRates(database.dataSource(), clock, submitter.rateLimiter());
      this.sharedBuckets =
          config.submitRateScope().equals(AuditConfig.SCOPE_CLUSTER)
              ? new SharedRateBuckets(database.dataSource())
              : null;
      submitter.rateLimiter().shareThrough(sharedBuckets);
      try {
        // Rates set through the API before this start apply from the first request.
        submitRates.refresh();
      } catch (SQLException e) {
        throw new IllegalStateException("Cannot read the tenants' submission rates", e);
      }
      this.idempotencyKeys = new IdempotencyKeys(database.dataSource(), clock);
      this.policies = new PolicyArchive(database.dataSource(), clock);
      this.jobPolicyFile =
          config.explainKeyDirectory().isEmpty() ? null : config.explainPolicyFile();
      if (jobPolicyFile != null) {
        // A file that cannot be read or recorded stops the start here.
        recordJobPolicy();
      }
      this.health =
          new AuditHealth(
              database.dataSource(),
              () ->
                  ingestors.stream()
                      .filter(AuditIngestor::stoppedOnItsOwn)
                      .map(AuditIngestor::name)
                      .toList(),
              clock);
      opened.push(health);
      ingestors.forEach(AuditIngestor::start);
      outbox.start();
      opened.push(api);
      api.start(config.httpHost(), config.httpPort());
      this.timer = daemonScheduler("audit-timer");
      opened.push(timer::shutdownNow);
      if (config.reviewExpireHours() > 0) {
        timer.scheduleWithFixedDelay(this::expireReviewsQuietly, 1, 1, TimeUnit.MINUTES);
        LOG.info(
            "Rejecting outputs held for review longer than {} hours without a decision",
            config.reviewExpireHours());
      }
      // Another process's PUT /api/v1/rates reaches this one within the refresh.
      timer.scheduleWithFixedDelay(
          this::refreshSubmitRates,
          SubmitRates.REFRESH.toSeconds(),
          SubmitRates.REFRESH.toSeconds(),
          TimeUnit.SECONDS);
      // Idempotency-Keys are kept for IdempotencyKeys.KEPT (24 h); gone within ten minutes after.
      timer.scheduleWithFixedDelay(
          this::purgeIdempotencyKeysQuietly,
          IDEMPOTENCY_PURGE,
          IDEMPOTENCY_PURGE,
          TimeUnit.MINUTES);
      // Records of an erased request that arrive after its erasure lose their content within a
      // minute.
      timer.scheduleWithFixedDelay(this::eraseLateRecordsQuietly, 1, 1, TimeUnit.MINUTES);
      // Its own thread: a round after an upgrade or an outage reads for up to 20 s, which anchoring
      // and retention must not wait for. With both deadlines 0 it only keeps the watermarks
      // current.
      flowWatch = daemonScheduler("audit-unfinished-flows");
      opened.push(flowWatch::shutdownNow);
      flowWatch.scheduleWithFixedDelay(
          this::checkFlowsQuietly,
          FLOW_CHECK.toSeconds(),
          FLOW_CHECK.toSeconds(),
          TimeUnit.SECONDS);
      if (config.retentionIntervalMinutes() > 0) {
        timer.scheduleWithFixedDelay(
            this::applyRetention,
            config.retentionIntervalMinutes(),
            config.retentionIntervalMinutes(),
            TimeUnit.MINUTES);
      }
      if (jobPolicyFile != null && !jobPolicyFile.isEmpty()) {
        // The job takes a changed file without a restart; its new rules are recorded within
        // seconds.
        timer.scheduleWithFixedDelay(
            this::recordChangedJobPolicy,
            JOB_POLICY_CHECK.toMillis(),
            JOB_POLICY_CHECK.toMillis(),
            TimeUnit.MILLISECONDS);
      }
      // AuditConfig accepts EXPLAIN_HELD_SECONDS only with the key directory, so explanations
      // exist.
      if (config.explainHeldSeconds() > 0) {
        // Its own thread: a round takes up to about 0.6 s a verdict, which anchoring must not wait
        // for.
        heldExplainer = daemonScheduler("audit-explain-held");
        opened.push(heldExplainer::shutdownNow);
        heldExplainer.scheduleWithFixedDelay(
            this::explainHeld,
            config.explainHeldSeconds(),
            config.explainHeldSeconds(),
            TimeUnit.SECONDS);
        LOG.info(
            "Explaining held verdicts in the background every {} s", config.explainHeldSeconds());
      } else {
        heldExplainer = null;
      }
      if (anchors != null) {
        timer.scheduleWithFixedDelay(
            this::anchorHead,
            config.anchorIntervalSeconds(),
            config.anchorIntervalSeconds(),
            TimeUnit.SECONDS);
        LOG.info(
            "Anchoring the audit chain head in {} every {} s{}",
            anchors.file(),
            config.anchorIntervalSeconds(),
            witness == null ? "" : ", witnessed in the Kafka topic " + witness.topic());
      }
    } catch (RuntimeException | Error e) {
      closeAfterFailedStart(opened, e);
      throw e;
    }
  }

  private static <T extends AutoCloseable> T keep(Deque<AutoCloseable> opened, T resource) {
    opened.push(resource);
    return resource;
  }

  /**
   * Closes what a start that failed had opened, most recent first, each whatever the others throw;
   * what they throw is added to the start's failure.
   */
  private static void closeAfterFailedStart(Deque<AutoCloseable> opened, Throwable failure) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Throwable e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        failure.addSuppressed(e);
      }
    }
  }

  /** Unfinished flows logged one by one per round; the rest as a count. */
  private static final int LOGGED_FLOWS = 20;

  /** How often the unfinished flows are checked. */
  static final Duration FLOW_CHECK = Duration.ofMinutes(1);

  /**
   * One round of the unfinished-flow watch ({@link UnfinishedFlows}); the service runs one a minute
   * on its own thread (with a deadline of 0 a kind's round only moves its watermark on).
   */
  public UnfinishedFlows.Round checkFlows() throws SQLException {
    UnfinishedFlows.Round round = unfinished.check();
    // One line each for the first few; after an outage that lost thousands, a count for the rest.
    round.found().stream()
        .limit(LOGGED_FLOWS)
        .forEach(
            flow ->
                LOG.error(
                    "Unfinished flow: {}",
                    UnfinishedFlows.describe(flow, unfinished.deadlines().of(flow.kind()))));
    if (round.found().size() > LOGGED_FLOWS) {
      LOG.error(
          "{} more unfinished flows found in this round; list them with ./genguard audit"
              + " unfinished or GET /api/v1/audit/unfinished",
          round.found().size() - LOGGED_FLOWS);
    }
    if (round.answered() > 0) {
      LOG.warn("{} unfinished flow(s) got their answer late", round.answered());
    }
    return round;
  }

  private void checkFlowsQuietly() {
    try {
      checkFlows();
    } catch (SQLException | RuntimeException e) {
      LOG.warn("Checking unfinished flows failed (will retry in a minute): {}", e.toString());
    }
  }

  /** The unfinished-flow watch, for listings and tests. */
  public UnfinishedFlows unfinishedFlows() {
    return unfinished;
  }

  /** Most items one expiry sweep rejects; the rest wait for the next minute's. */
  static final int EXPIRE_BATCH = 1_000;

  /**
   * Rejects the outputs held for review longer than {@code GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS}
   * without a decision (one sweep; the service runs one a minute when the key is set).
   *
   * @return how many were rejected (0 when the key is 0)
   */
  public int expireReviews() throws SQLException {
    List<ReviewQueue.Decided> rejected = reviews.expire(EXPIRE_BATCH);
    if (!rejected.isEmpty()) {
      LOG.warn(
          "Rejected {} output(s) held for review longer than {} hours without a decision"
              + " (oldest first: {})",
          rejected.size(),
          reviews.expiry().toHours(),
          rejected.get(0).requestId());
    }
    return rejected.size();
  }

  private void expireReviewsQuietly() {
    try {
      expireReviews();
    } catch (SQLException | RuntimeException e) {
      LOG.warn("Expiring overdue reviews failed (tried again in a minute): {}", e.getMessage());
    }
  }

  private void refreshSubmitRates() {
    try {
      submitRates.refresh();
    } catch (SQLException | RuntimeException e) {
      LOG.warn(
          "The tenants' submission rates were not read again (the last ones stay in force; tried"
              + " again in {} s): {}",
          SubmitRates.REFRESH.toSeconds(),
          e.getMessage());
    }
    if (sharedBuckets != null) {
      try {
        sharedBuckets.sweep();
      } catch (SQLException | RuntimeException e) {
        LOG.warn(
            "The tenants' refilled submission buckets were not dropped (tried again in {} s): {}",
            SubmitRates.REFRESH.toSeconds(),
            e.getMessage());
      }
    }
  }

  /** The tenants' submission rates set through the API. */
  public SubmitRates submitRates() {
    return submitRates;
  }

  /** The Idempotency-Keys of {@code POST /api/v1/requests}. */
  public IdempotencyKeys idempotencyKeys() {
    return idempotencyKeys;
  }

  private void purgeIdempotencyKeysQuietly() {
    try {
      long purged = idempotencyKeys.purgeExpired();
      if (purged > 0) {
        LOG.debug("Deleted {} expired Idempotency-Key(s)", purged);
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn(
          "Expired Idempotency-Keys were not deleted (tried again in {} minutes): {}",
          IDEMPOTENCY_PURGE,
          e.toString());
    }
  }

  private static ScheduledExecutorService daemonScheduler(String threadName) {
    return Executors.newSingleThreadScheduledExecutor(
        runnable -> {
          Thread thread = new Thread(runnable, threadName);
          thread.setDaemon(true);
          return thread;
        });
  }

  /**
   * Explains and records held verdicts that have no explanation; errors wait for the next round.
   */
  private void explainHeld() {
    try {
      int explained =
          this.explained.explainHeld(
              AuditConfig.EXPLAIN_HELD_BATCH, () -> !heldExplainer.isShutdown());
      if (explained > 0) {
        LOG.info("Explained and recorded {} held verdict(s)", explained);
      }
    } catch (Exception e) {
      LOG.warn("Explaining held verdicts failed; retried at the next interval: {}", e.toString());
    }
  }

  /**
   * Appends the chain head to the anchor file if it grew, then sends the witness the lines it
   * lacks; errors wait for the next round.
   */
  private void anchorHead() {
    try {
      anchors.publish(database.dataSource());
    } catch (Exception e) {
      LOG.warn(
          "Anchoring the audit chain head failed; retried at the next interval: {}", e.toString());
    }
    if (witness != null) {
      try {
        witness.catchUp(anchors.anchoredSeq());
      } catch (Exception e) {
        LOG.warn(
            "Sending anchor lines to the witness topic {} failed; retried at the next interval: {}",
            witness.topic(),
            e.toString());
      }
    }
  }

  /**
   * Registers the count of submissions refused for their tenant's rate, of expired reviews, of
   * rejected releases taken down, of failed erasure follow-ups and of searches, stories and totals
   * timed out or refused for their tenant, and the anchor log's and the witness's gauges (when
   * anchoring is on).
   */
  public void bindMetrics(MeterRegistry registry) {
    FunctionCounter.builder(REVIEWS_EXPIRED_METRIC, reviews, ReviewQueue::expired)
        .description(
            "Outputs held for review that this service rejected because no one decided them within"
                + " GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS")
        .register(registry);
    FunctionCounter.builder(
            REJECTED_RELEASES_RETRACTED_METRIC,
            ingestWriter,
            AuditWriter::rejectedReleasesTakenDown)
        .description(
            "Outputs the release gate released on a late verdict after a reviewer had rejected"
                + " them, which this service took down as it recorded the release")
        .register(registry);
    FunctionCounter.builder(EVENT_ID_CONFLICTS_METRIC, ingestWriter, AuditWriter::eventIdConflicts)
        .description(
            "Events read under the id of an event already recorded but with other content (a"
                + " producer reused the id, or someone wrote an event under an id not theirs); the"
                + " first stays on the chain, each other content is kept in event_id_conflict")
        .register(registry);
    FunctionCounter.builder(
            EVENT_ID_CONFLICTS_AFTER_RESEND_METRIC,
            ingestWriter,
            AuditWriter::eventIdConflictsAfterResend)
        .description(
            "Events read under the id of an output or verdict already recorded but with other"
                + " content, after a person sent the request's unfinished flow again (answered"
                + " again, judged again); kept in event_id_conflict with after_resend, not alerted")
        .register(registry);
    FunctionCounter.builder(ERASURE_FOLLOW_UPS_FAILED_METRIC, retention, Retention::followUpsFailed)
        .description(
            "Erasure follow-ups (records of an erased request that arrived after its erasure) that"
                + " failed; each is tried again a minute later, and its records keep their content"
                + " until one succeeds")
        .register(registry);
    FunctionCounter.builder(
            RETENTION_BIAS_REPORTS_PRUNED_METRIC, retention, Retention::biasReportsPruned)
        .description(
            "Stored bias reports whose output texts this process's retention runs removed (each"
                + " older than its tenant's retention period; the report's figures stay)")
        .register(registry);
    FunctionCounter.builder(SUBMISSIONS_REFUSED_METRIC, submitter, RequestSubmitter::refusedForRate)
        .description(
            "Generation requests the API refused (429) because their tenant submitted faster than"
                + " GENGUARD_AUDIT_SUBMIT_RATE allows")
        .register(registry);
    FunctionCounter.builder(
            SUBMIT_RATE_FALLBACKS_METRIC,
            submitter.rateLimiter(),
            TenantRateLimiter::sharedFailures)
        .description(
            "Submissions whose tenant's rate this process counted on its own because the shared"
                + " buckets in PostgreSQL did not answer (GENGUARD_AUDIT_SUBMIT_RATE_SCOPE=cluster)")
        .register(registry);
    FunctionCounter.builder(QUERIES_TIMED_OUT_METRIC, api, AuditApi::queriesTimedOut)
        .description(
            "Searches (an export's pages too), request stories, totals and other tenant reads (review"
                + " queue, bias reports and metrics, bias campaigns, tokens, unfinished flows,"
                + " evidence bundles, token checks, submissions' campaign checks) that PostgreSQL"
                + " cancelled after GENGUARD_AUDIT_QUERY_TIMEOUT_MS; each was answered 503 (an export"
                + " page or a report's piece after the first bytes went out: its connection was cut)")
        .register(registry);
    FunctionCounter.builder(EXPORTS_CUT_SHORT_METRIC, api, AuditApi::exportsCutShort)
        .description(
            "Exports that failed after their first rows went out with 200 (a later page timed out"
                + " or failed); the connection was cut so that the client sees a broken download")
        .register(registry);
    FunctionCounter.builder(
            QUERIES_REFUSED_FOR_TENANT_METRIC, api, AuditApi::queriesRefusedForTenant)
        .description(
            "Searches, totals, bias reports and metrics, bias campaigns and unfinished-flow lists"
                + " refused"
                + " (429) because their tenant already ran GENGUARD_AUDIT_TENANT_MAX_CONCURRENT_QUERIES"
                + " of them")
        .register(registry);
    if (anchors != null) {
      anchors.bindTo(registry);
    }
    if (witness != null) {
      witness.bindTo(registry);
    }
  }

  /**
   * Records the policy file the moderation job runs with (as configured for explanations; the
   * built-in policy when none is named) in the policy archive, so that its verdicts' {@code
   * policySha256} leads to the rules; a file recorded before is left as it is. Runs at start and,
   * for a named file, whenever it has changed (checked every {@link #JOB_POLICY_CHECK}), as the job
   * takes a changed file without a restart.
   *
   * @return what was recorded, or null without explanations (no job policy configured)
   * @throws InvalidInputException when the file is not a valid policy
   */
  public PolicyArchive.Recorded recordJobPolicy() {
    if (jobPolicyFile == null) {
      return null;
    }
    String yaml;
    try {
      yaml =
          jobPolicyFile.isEmpty()
              ? PolicyLoader.defaultText()
              : PolicyLoader.readText(Path.of(jobPolicyFile));
    } catch (InvalidPolicyException e) {
      throw new InvalidInputException("Not a valid policy: " + e.getMessage());
    } catch (UncheckedIOException e) {
      throw new UncheckedIOException("Cannot read the policy file " + jobPolicyFile, e.getCause());
    }
    try {
      PolicyArchive.Recorded recorded =
          policies.record(
              yaml,
              jobPolicyFile.isEmpty() ? "the built-in policy" : jobPolicyFile,
              Caller.system("audit-service"));
      if (!recorded.recordedBefore()) {
        LOG.info(
            "Policy {} version {} (SHA-256 {}) is now in the policy archive",
            recorded.policy().policyId(),
            recorded.policy().version(),
            recorded.policy().sha256());
      }
      return recorded;
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot record the policy file in the audit store", e);
    }
  }

  /**
   * A check of the job's policy file: read and recorded when its modification time or size has
   * changed since it was last read, once it has stayed the same for {@link #POLICY_SETTLE} (a
   * half-written file is not taken). An invalid file is logged once and read again when it changes
   * (the job keeps its running policy meanwhile); a file that could not be read or recorded is
   * tried again at the next check.
   */
  private void recordChangedJobPolicy() {
    try {
      BasicFileAttributes file;
      try {
        file = Files.readAttributes(Path.of(jobPolicyFile), BasicFileAttributes.class);
      } catch (java.nio.file.NoSuchFileException e) {
        if (!MISSING.equals(jobPolicyStamp)) {
          jobPolicyStamp = MISSING; // said once, not every check
          LOG.warn("The policy file {} is gone; the archive keeps what it recorded", jobPolicyFile);
        }
        return;
      }
      java.time.Instant modified = file.lastModifiedTime().toInstant();
      String stamp = modified + " " + file.size();
      if (stamp.equals(jobPolicyStamp)
          || modified.isAfter(java.time.Instant.now().minus(POLICY_SETTLE))) {
        return;
      }
      try {
        recordJobPolicy();
      } catch (InvalidInputException e) {
        jobPolicyStamp = stamp;
        throw e;
      }
      jobPolicyStamp = stamp;
    } catch (RuntimeException | IOException e) {
      LOG.warn(
          "The policy file {} was not recorded in the policy archive: {}",
          jobPolicyFile,
          e.getMessage());
    }
  }

  /**
   * Gives a fresh installation its first token: if {@code file} is set and absent, a global admin
   * token is created and written there, readable by the owner only. An existing file is left alone.
   */
  private void writeAdminTokenFile(String file) {
    if (file.isBlank()) {
      return;
    }
    Path path = Path.of(file);
    if (Files.exists(path)) {
      return;
    }
    try {
      ApiTokens.IssuedToken issued =
          tokens.create(Role.ADMIN, null, "local-admin", null, Caller.system("audit-service"));
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.createFile(path, posixOwnerOnly(path));
      Files.writeString(path, issued.token() + System.lineSeparator(), StandardCharsets.UTF_8);
      LOG.info("Wrote a new admin API token (id {}) to {}", issued.info().tokenId(), path);
    } catch (Exception e) {
      throw new IllegalStateException(
          "Cannot write the admin token file "
              + path
              + " ("
              + AuditConfig.ADMIN_TOKEN_FILE
              + "): "
              + e.getMessage(),
          e);
    }
  }

  private static FileAttribute<?>[] posixOwnerOnly(Path path) {
    if (path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return new FileAttribute<?>[] {
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
      };
    }
    return new FileAttribute<?>[0];
  }

  /**
   * Erases the records of erased requests that arrived after their erasure (one follow-up; the
   * service runs one a minute).
   *
   * @return how many records lost their content
   */
  public long eraseLateRecords() throws SQLException {
    var erased = retention.eraseLateRecords(Caller.system("erasure-follow-up"));
    long tombstoned = erased.stream().mapToLong(Retention.Erased::tombstoned).sum();
    if (!erased.isEmpty()) {
      LOG.info(
          "Erased {} record(s) of {} erased request(s) that arrived after their erasure (first:"
              + " request {})",
          tombstoned,
          erased.size(),
          erased.get(0).requestId());
    }
    return tombstoned;
  }

  private void eraseLateRecordsQuietly() {
    try {
      eraseLateRecords();
    } catch (Exception e) {
      LOG.warn(
          "Erasing records that arrived after their request's erasure failed; retried in a"
              + " minute: {}",
          e.toString());
    }
  }

  private void applyRetention() {
    try {
      logRetention(retention.runScheduled().run());
    } catch (Retention.NotRecordedException e) {
      // Applied, not recorded: Retention logged what the run did and why its action failed; the
      // next run records itself.
      logRetention(e.run());
    } catch (Retention.PartlyFailedException e) {
      // The other scopes were applied (and the failed ones' batches before they failed).
      logRetention(e.run());
      LOG.warn("Retention run failed; it is retried at the next interval: {}", e.toString());
    } catch (Exception e) {
      LOG.warn("Retention run failed; it is retried at the next interval: {}", e.toString());
    }
  }

  private static void logRetention(Retention.Run run) {
    var applied = run.batches();
    if (!applied.isEmpty() || !run.biasReports().isEmpty()) {
      LOG.info(
          "Retention tombstoned {} record(s) in {} batch(es) and removed the texts of {} bias"
              + " report(s)",
          applied.stream().mapToLong(Retention.Applied::tombstoned).sum(),
          applied.size(),
          run.biasReports().size());
    }
  }

  public int httpPort() {
    return api.port();
  }

  public AuditQueries queries() {
    return queries;
  }

  public RequestSubmitter submitter() {
    return submitter;
  }

  public AuditDatabase database() {
    return database;
  }

  public ApiTokens tokens() {
    return tokens;
  }

  public ReviewQueue reviews() {
    return reviews;
  }

  public BiasReports biasReports() {
    return biasReports;
  }

  public Campaigns campaigns() {
    return campaigns;
  }

  public Retention retention() {
    return retention;
  }

  public AuditApi api() {
    return api;
  }

  /** The anchor witness, when GENGUARD_AUDIT_ANCHOR_WITNESS_TOPIC is set; null otherwise. */
  public AnchorWitness anchorWitness() {
    return witness;
  }

  /** The anchor log, when GENGUARD_AUDIT_ANCHOR_FILE is set; null otherwise. */
  public AnchorLog anchors() {
    return anchors;
  }

  /**
   * Why the service cannot do its work (an ingestor stopped on an error, the database pool gives no
   * working connection within {@link AuditHealth#WAIT}); empty while it can. For {@code /health}:
   * cheap, the pool asked at most every {@link AuditHealth#CACHED_FOR}.
   */
  public Optional<String> whyUnhealthy() {
    return health.whyUnhealthy();
  }

  /** Events the ingestors persisted since start (duplicates not counted). */
  public long persistedCount() {
    return ingestors.stream().mapToLong(AuditIngestor::persistedCount).sum();
  }

  /**
   * Creates an API token on behalf of the service itself (the local stack uses this to give its
   * user a token); the creation is audited like any other. Returns the token: show it once.
   */
  public ApiTokens.IssuedToken issueToken(Role role, String tenantId, String name)
      throws java.sql.SQLException {
    return tokens.create(role, tenantId, name, null, Caller.system("audit-service"));
  }

  /** Stops accepting requests over HTTP; persisting goes on until {@link #close()}. */
  public synchronized void stopIntake() {
    if (!intakeStopped) {
      intakeStopped = true;
      api.close();
      submitter.close();
      resender.close();
    }
  }

  /**
   * Stops intake (API), publishes pending review decisions, drains the ingestor, closes the
   * database.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    health.close();
    stopIntake();
    timer.shutdownNow();
    unfinished.stop();
    flowWatch.shutdown();
    try {
      // A round in progress stops after the batch it is on.
      if (!flowWatch.awaitTermination(5, TimeUnit.SECONDS)) {
        flowWatch.shutdownNow();
      }
    } catch (InterruptedException e) {
      flowWatch.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (heldExplainer != null) {
      heldExplainer.shutdown();
      try {
        // A round in progress finishes the verdict it is on and stops; the rest wait for the next
        // start.
        if (!heldExplainer.awaitTermination(10, TimeUnit.SECONDS)) {
          heldExplainer.shutdownNow();
        }
      } catch (InterruptedException e) {
        heldExplainer.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    outbox.close();
    kafkaCopies.close();
    ingestors.forEach(AuditIngestor::close);
    if (anchors != null) {
      // The head as the service leaves it: whatever happens to the database while it is down
      // shows against this line.
      anchorHead();
    }
    if (witness != null) {
      witness.close();
    }
    if (ownedExplanations != null) {
      ownedExplanations.close();
    }
    database.close();
  }
}
