package io.genguard.audit.retention;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.ChainRecord;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.ErasureLocks;
import io.genguard.audit.persistence.JudgementDigests;
import io.genguard.audit.persistence.RequestOwner;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.persistence.UnreadRecords;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.release.Retractions;
import io.genguard.audit.review.ReviewOutbox;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.ForbiddenException;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.ErasureCause;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.TenantIds;
import io.genguard.schemas.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention: records older than a tenant's retention period lose their content, but not their place
 * in the hash chain. A tombstone keeps the record's seq, ids, hashes and entry digest and drops the
 * payload (prompt, text, scores); the query projections of those records are deleted. Each batch is
 * justified by a {@value #EVENT_TYPE} record appended to the chain in the same transaction, naming
 * the scope, the cutoff and how many records it tombstoned, so the verifier can tell retention from
 * tampering.
 *
 * <p>Tenants without their own period use the default (0 = keep forever); records of no tenant
 * (dead letters, bias metrics) also use the default. A dead letter whose key is a request of a
 * tenant with its own period also goes at that period, whichever comes first; the retention record
 * names such dead letters ({@link ChainVerifier#DEAD_LETTER_SEQS}), since they name no tenant.
 * Retention records themselves, recorded policy files ({@link PolicyArchive}) and the ranges the
 * audit store never read ({@link UnreadRecords}) are never removed.
 *
 * <p>An output still waiting for a person's review when its records go is not kept at the release
 * gate for ever: the batch tells the gate as an erasure does ({@link ErasureNotice}, through the
 * outbox in its transaction), and the gate quarantines it without its text ({@link
 * #stillHeldForReview}).
 */
public final class Retention {
  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);

  public static final String EVENT_TYPE = "RetentionApplied";

  /** The name of the caller of the scheduled run ({@link #runScheduled}). */
  public static final String SCHEDULE = "retention-schedule";

  /** The longest retention period, in days (a century). */
  public static final int MAX_DAYS = 36_500;

  private static final List<String> PROJECTIONS =
      List.of(
          "generation_request",
          "generation_output",
          "generation_failure",
          "moderation_verdict",
          "gate_outcome",
          "gate_restatement",
          "review_decision",
          "dead_letter",
          "bias_metric",
          "api_action");

  private final DataSource dataSource;
  private final Clock clock;
  private final int defaultDays;
  private final int batchSize;
  private final KafkaCopies kafkaCopies;
  private final AtomicLong followUpsFailed = new AtomicLong();
  private final AtomicLong biasReportsPruned = new AtomicLong();

  public Retention(DataSource dataSource, Clock clock, int defaultDays) {
    this(dataSource, clock, defaultDays, null);
  }

  /**
   * @param kafkaCopies where an erasure learns by when Kafka drops the request's copies, which it
   *     records and answers; null: it says nothing of them
   */
  public Retention(DataSource dataSource, Clock clock, int defaultDays, KafkaCopies kafkaCopies) {
    this(dataSource, clock, defaultDays, 20_000, kafkaCopies);
  }

  Retention(DataSource dataSource, Clock clock, int defaultDays, int batchSize) {
    this(dataSource, clock, defaultDays, batchSize, null);
  }

  private Retention(
      DataSource dataSource, Clock clock, int defaultDays, int batchSize, KafkaCopies kafkaCopies) {
    if (defaultDays < 0 || defaultDays > MAX_DAYS) {
      throw new IllegalArgumentException(
          "default retention must be 0 (keep forever) to "
              + MAX_DAYS
              + " days, was "
              + defaultDays);
    }
    this.dataSource = dataSource;
    this.clock = clock;
    this.defaultDays = defaultDays;
    this.batchSize = batchSize;
    this.kafkaCopies = kafkaCopies;
  }

  /** A tenant's retention period. */
  public record Policy(String tenantId, int retentionDays, Instant updatedAt, String updatedBy) {}

  /** What one retention batch removed. */
  public record Applied(
      String scope, String tenantId, Instant cutoff, long tombstoned, long retentionSeq) {}

  public int defaultDays() {
    return defaultDays;
  }

  public List<Policy> policies(Caller caller) throws SQLException {
    List<Policy> policies = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select tenant_id, retention_days, updated_at, updated_by from tenant_retention"
                    + " where (?::text is null or tenant_id = ?) order by tenant_id")) {
      query.setString(1, caller.tenantId());
      query.setString(2, caller.tenantId());
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          policies.add(
              new Policy(
                  rs.getString(1),
                  rs.getInt(2),
                  rs.getObject(3, OffsetDateTime.class).toInstant(),
                  rs.getString(4)));
        }
      }
    }
    return policies;
  }

  /**
   * Sets a tenant's retention period (audited). Where the operator set a default period, a
   * tenant-bound admin may only shorten its tenant's retention: a longer period than the default is
   * for a global admin to set, as a tenant's submission rate is.
   */
  public Policy set(String tenant, int days, Caller caller) throws SQLException {
    checkTenant(tenant, caller);
    if (days < 1 || days > MAX_DAYS) {
      throw new InvalidInputException(
          "retentionDays must be between 1 and "
              + MAX_DAYS
              + ", was "
              + days
              + " (remove the tenant's policy to fall back to the default)");
    }
    if (!caller.isGlobal() && defaultDays > 0 && days > defaultDays) {
      throw new ForbiddenException(
          "A tenant's admin may keep its content at most as long as this service's default of "
              + defaultDays
              + " days (GENGUARD_AUDIT_RETENTION_DAYS), not "
              + days
              + "; a shorter period is yours to set, a longer one a global admin's");
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement upsert =
              connection.prepareStatement(
                  "insert into tenant_retention (tenant_id, retention_days, updated_at, updated_by) values (?, ?, ?, ?)"
                      + " on conflict (tenant_id) do update set retention_days = excluded.retention_days,"
                      + " updated_at = excluded.updated_at, updated_by = excluded.updated_by")) {
            upsert.setString(1, tenant);
            upsert.setInt(2, days);
            upsert.setObject(3, utc(now));
            upsert.setString(4, caller.describe());
            upsert.executeUpdate();
          }
          ActionLog.Action action = ActionLog.Action.of("retention.set", tenant, null, tenant);
          action.details().put("retentionDays", days);
          ActionLog.record(connection, caller, action, now);
          return null;
        });
    return new Policy(tenant, days, now, caller.describe());
  }

  /** Removes a tenant's own period; the default applies again (audited). */
  public void remove(String tenant, Caller caller) throws SQLException {
    checkTenant(tenant, caller);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement delete =
              connection.prepareStatement("delete from tenant_retention where tenant_id = ?")) {
            delete.setString(1, tenant);
            if (delete.executeUpdate() == 0) {
              throw new NotFoundException(
                  "Tenant '" + tenant + "' has no retention policy of its own");
            }
          }
          ActionLog.record(
              connection,
              caller,
              ActionLog.Action.of("retention.remove", tenant, null, tenant),
              clock.instant());
          return null;
        });
  }

  /**
   * A stored bias report whose output texts retention removed ({@link
   * ReportRedaction#removeTexts}).
   *
   * @param textsRemoved how many of its rows lost their text
   */
  public record ReportPruned(
      String reportId, String scope, String tenantId, Instant cutoff, int textsRemoved) {}

  /**
   * What one retention run removed.
   *
   * @param batches one entry per batch that removed records' content
   * @param biasReports the stored bias reports whose texts it removed
   */
  public record Run(List<Applied> batches, List<ReportPruned> biasReports) {}

  /**
   * Applies every tenant's period and the default; returns one entry per batch that removed
   * something. Also removes the texts of the stored bias reports past their period ({@link #run}).
   */
  public List<Applied> apply(Caller caller) throws SQLException {
    return run(caller).batches();
  }

  /**
   * Applies every tenant's period and the default to the audit log, as {@link #apply} says, and to
   * the stored bias reports: a report ({@code bias_report}) stored longer ago than the period of
   * its tenant (the default for a report of no tenant, or of a tenant without its own) loses the
   * output texts its rows keep, each report in a transaction of its own with a {@value
   * ReportRedaction#ACTION} action in the chain ({@link ReportRedaction#removeTexts}). Its figures,
   * and its rows' request and verdict ids, decisions and scores, stay: a report is the record of a
   * bias assessment, kept as long as the report is, while the texts are the outputs' content, which
   * retention removes everywhere else at that age.
   */
  public Run run(Caller caller) throws SQLException {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    List<Applied> applied = new ArrayList<>();
    List<ReportPruned> pruned = new ArrayList<>();
    List<Policy> policies = policies(caller);
    // A scope that fails (a lock timeout, a constraint) does not keep the other scopes, nor their
    // sweeps, from this run: scopes are disjoint, each batch is a transaction of its own, and the
    // failed scope is tried again by the next run, which a PartlyFailedException naming it says.
    List<ScopeFailure> failures = new ArrayList<>();
    for (Policy policy : policies) {
      Instant cutoff = now.minus(Duration.ofDays(policy.retentionDays()));
      // Each step adds what it committed as it goes: a scope that fails after some batches (or
      // reports) reports those, which are done.
      orNoted(
          failures,
          "TENANT",
          policy.tenantId(),
          () ->
              applyScope(
                  "TENANT",
                  policy.tenantId(),
                  List.of(),
                  cutoff,
                  policy.retentionDays(),
                  now,
                  applied));
      orNoted(
          failures,
          "TENANT",
          policy.tenantId(),
          () ->
              pruneReports(
                  "TENANT",
                  policy.tenantId(),
                  List.of(),
                  cutoff,
                  policy.retentionDays(),
                  caller,
                  now,
                  pruned));
    }
    if (defaultDays > 0 && caller.isGlobal()) {
      Instant cutoff = now.minus(Duration.ofDays(defaultDays));
      List<String> ownPolicies = policies.stream().map(Policy::tenantId).toList();
      orNoted(
          failures,
          "DEFAULT",
          null,
          () -> applyScope("DEFAULT", null, ownPolicies, cutoff, defaultDays, now, applied));
      orNoted(
          failures,
          "DEFAULT",
          null,
          () ->
              pruneReports("DEFAULT", null, ownPolicies, cutoff, defaultDays, caller, now, pruned));
    }
    // A batch deletes only the conflict rows of its own scope; each scope's other rows whose
    // record lost its content (a batch of another scope, an erasure) go by the scope's sweep, once
    // every scope's batches are done, so those a later scope's batch emptied go in this run too.
    // A scope whose batches failed is swept too: a sweep reads only the rows' age and whether their
    // record still has its content, whatever the scope's batches got to (a record its failed batch
    // left keeps its conflict rows, their payload removed past the period, until a batch empties
    // it and deletes them).
    for (Policy policy : policies) {
      orNoted(
          failures,
          "TENANT",
          policy.tenantId(),
          () -> {
            removeLateConflicts(
                "TENANT",
                policy.tenantId(),
                List.of(),
                now.minus(Duration.ofDays(policy.retentionDays())));
          });
    }
    if (defaultDays > 0 && caller.isGlobal()) {
      List<String> ownPolicies = policies.stream().map(Policy::tenantId).toList();
      orNoted(
          failures,
          "DEFAULT",
          null,
          () -> {
            removeLateConflicts(
                "DEFAULT", null, ownPolicies, now.minus(Duration.ofDays(defaultDays)));
          });
    }
    Run run = new Run(applied, pruned);
    if (!failures.isEmpty()) {
      throw new PartlyFailedException(run, failures);
    }
    return run;
  }

  /** A run of {@link #runRecorded} and the id of the {@code retention.run} action recording it. */
  public record RecordedRun(Run run, String actionId) {}

  /**
   * Runs retention ({@link #run}) for a call of {@code POST /api/v1/retention/run} and records it
   * as a {@code retention.run} action: what it tombstoned and pruned, and, for a run that failed in
   * some scopes, those scopes ({@code failedScopes}) before the {@link PartlyFailedException} is
   * thrown on, since the other scopes were applied; that exception names the action too ({@link
   * PartlyFailedException#actionId}).
   */
  public RecordedRun runRecorded(Caller caller) throws SQLException {
    return runRecorded(caller, true);
  }

  /**
   * The run the audit service schedules ({@code GENGUARD_AUDIT_RETENTION_INTERVAL_MINUTES}), as the
   * caller {@value #SCHEDULE}: recorded as a {@code retention.run} action as {@link #runRecorded}
   * records a call of the API's, where it tombstoned a record, pruned a bias report or failed in a
   * scope (since the fifty-first session: before, only its log lines said what it did). A run that
   * did nothing is not recorded: one action an hour (the default interval) that says nothing would
   * bury the others in the action list. Its {@link RecordedRun#actionId} is then null.
   */
  public RecordedRun runScheduled() throws SQLException {
    return runRecorded(Caller.system(SCHEDULE), false);
  }

  private RecordedRun runRecorded(Caller caller, boolean idleRecorded) throws SQLException {
    Run run;
    List<String> failedScopes = List.of();
    PartlyFailedException partly = null;
    try {
      run = run(caller);
    } catch (PartlyFailedException e) {
      partly = e;
      run = e.run();
      failedScopes = e.failedScopes();
    }
    List<Applied> applied = run.batches();
    int reports = run.biasReports().size();
    List<String> failed = failedScopes;
    if (!idleRecorded && applied.isEmpty() && reports == 0 && failed.isEmpty()) {
      return new RecordedRun(run, null);
    }
    String actionId;
    try {
      actionId =
          Transactions.inTransaction(
              dataSource,
              connection -> {
                ActionLog.Action action =
                    ActionLog.Action.of("retention.run", caller.tenantId(), null, null);
                action
                    .details()
                    .put("batches", applied.size())
                    .put("tombstoned", applied.stream().mapToLong(Applied::tombstoned).sum())
                    .put("biasReportsPruned", reports);
                if (!failed.isEmpty()) {
                  ArrayNode scopes = action.details().putArray("failedScopes");
                  failed.forEach(scopes::add);
                }
                return ActionLog.record(connection, caller, action, clock.instant());
              });
    } catch (SQLException | RuntimeException e) {
      // The run stands (each batch committed on its own): say what it did, and that its action
      // was most likely not recorded (a commit whose answer was lost is recorded), rather than
      // only that "the run failed" (before the fifty-second session).
      NotRecordedException notRecorded = new NotRecordedException(run, failed, caller, e);
      if (partly != null) {
        notRecorded.addSuppressed(partly);
      }
      LOG.error("{}: {}", notRecorded.getMessage(), e.toString());
      throw notRecorded;
    }
    if (partly != null) {
      LOG.warn("The partly failed retention run is recorded as action {}", actionId);
      throw partly.recordedAs(actionId);
    }
    return new RecordedRun(run, actionId);
  }

  /**
   * A retention run that was applied (in every scope but {@link #failedScopes}) whose {@code
   * retention.run} action could not be recorded afterwards: the chain holds no action for it, while
   * what it removed stays removed. The message says what the run did ({@link #run}) and that its
   * action was not recorded; the cause says why.
   */
  public static final class NotRecordedException extends SQLException {
    private static final long serialVersionUID = 1L;
    private final transient Run run;
    private final List<String> failedScopes;

    NotRecordedException(Run run, List<String> failedScopes, Caller caller, Exception cause) {
      super(words(run, failedScopes, caller), cause);
      this.run = run;
      this.failedScopes = List.copyOf(failedScopes);
    }

    private static String words(Run run, List<String> failedScopes, Caller caller) {
      return "The retention run of "
          + caller.name()
          + " was applied: it tombstoned "
          + run.batches().stream().mapToLong(Applied::tombstoned).sum()
          + " record(s) in "
          + run.batches().size()
          + " batch(es) and removed the texts of "
          + run.biasReports().size()
          + " bias report(s)"
          + (failedScopes.isEmpty()
              ? ""
              : ", and failed in the scope of "
                  + String.join(", ", failedScopes)
                  + " (tried again at the next run)")
          + "; but recording its retention.run action failed, so the audit chain holds no"
          + " action for this run unless the database committed it before the failure reached"
          + " us (what it removed stays removed)";
    }

    /** What the run did, committed batch by batch. */
    public Run run() {
      return run;
    }

    /** The scopes the run failed in, if any ("tenant acme", "the default"). */
    public List<String> failedScopes() {
      return failedScopes;
    }
  }

  /**
   * One scope's step of a run (its batches, its bias reports, its sweep); what it did it adds to
   * the run's lists as each part commits.
   */
  @FunctionalInterface
  private interface ScopeStep {
    void apply() throws SQLException;
  }

  /** Runs {@code step}, noting its failure, naming the scope. */
  private static void orNoted(
      List<ScopeFailure> failures, String scope, String tenant, ScopeStep step) {
    try {
      step.apply();
    } catch (SQLException | RuntimeException e) {
      String named = scope.equals("TENANT") ? "tenant " + tenant : "the default";
      LOG.warn(
          "Retention failed in the scope of {}; the other scopes go on and it is tried again at"
              + " the next run: {}",
          named,
          e.toString());
      failures.add(new ScopeFailure(named, e));
    }
  }

  /** A scope's step that failed in a run: the scope ("tenant acme", "the default") and why. */
  public record ScopeFailure(String scope, Exception cause) {}

  /**
   * A retention run that failed in one or more scopes: the others were applied and every scope
   * swept ({@link #run() run()} says what was done); the failed scopes are tried again by the next
   * run.
   */
  public static final class PartlyFailedException extends SQLException {
    private static final long serialVersionUID = 1L;
    private final transient Run run;
    private final transient List<ScopeFailure> failures;
    private final String actionId;

    PartlyFailedException(Run run, List<ScopeFailure> failures) {
      this(run, failures, null);
    }

    private PartlyFailedException(Run run, List<ScopeFailure> failures, String actionId) {
      super(
          words(
              run,
              failures.stream().map(f -> f.scope() + " (" + f.cause() + ")").distinct().toList()),
          failures.get(0).cause());
      failures.stream().skip(1).forEach(f -> addSuppressed(f.cause()));
      this.run = run;
      this.failures = List.copyOf(failures);
      this.actionId = actionId;
    }

    /** The same failure, naming the {@code retention.run} action that recorded the run. */
    PartlyFailedException recordedAs(String actionId) {
      PartlyFailedException recorded = new PartlyFailedException(run, failures, actionId);
      recorded.setStackTrace(getStackTrace());
      return recorded;
    }

    /**
     * The id of the {@code retention.run} action that recorded the run ({@link
     * Retention#runRecorded}, {@link Retention#runScheduled}); null for a run not recorded as an
     * action ({@link Retention#run}).
     */
    public String actionId() {
      return actionId;
    }

    private static String words(Run run, List<String> failed) {
      return "Retention failed in the scope of "
          + String.join(", ", failed)
          + "; the other scopes were applied ("
          + run.batches().size()
          + " batch(es)) and swept, and the failed ones are tried again at the next run";
    }

    /**
     * The message without why each scope failed (the causes, whose text may quote SQL values): for
     * an answer to the caller, while the log has the message.
     */
    public String summary() {
      return words(run, failedScopes());
    }

    /** The scopes that failed ("tenant acme", "the default"), each once, in the run's order. */
    public List<String> failedScopes() {
      return failures.stream().map(ScopeFailure::scope).distinct().toList();
    }

    /**
     * What the run did: the scopes that did not fail, and the batches and bias reports the failed
     * ones committed before they failed.
     */
    public Run run() {
      return run;
    }

    /** The steps that failed, in the run's order. */
    public List<ScopeFailure> failures() {
      return failures;
    }
  }

  /**
   * Removes the texts of the scope's bias reports stored before {@code cutoff}, one report per
   * transaction, a page of ids at a time; adds each report to {@code pruned} once its transaction
   * committed.
   */
  private void pruneReports(
      String scope,
      String tenant,
      List<String> excluded,
      Instant cutoff,
      int days,
      Caller caller,
      Instant now,
      List<ReportPruned> pruned)
      throws SQLException {
    ObjectNode retention = JsonNodeFactory.instance.objectNode();
    retention.put("scope", scope);
    retention.put("tenantId", tenant);
    retention.put("retentionDays", days);
    retention.put("cutoff", cutoff.toString());
    ReportRedaction.Stored after = null;
    while (true) {
      List<ReportRedaction.Stored> page;
      try (Connection connection = dataSource.getConnection()) {
        page =
            ReportRedaction.keepingTexts(
                connection, scope, tenant, excluded, cutoff, after, REPORTS_PER_QUERY);
      }
      for (ReportRedaction.Stored report : page) {
        int removed;
        try {
          removed =
              Transactions.inTransaction(
                  dataSource,
                  connection ->
                      ReportRedaction.removeTexts(
                          connection, report.reportId(), retention, caller, now));
        } catch (SQLException | RuntimeException e) {
          // One report that cannot be changed does not keep the others (nor the next scopes) as
          // they are; it is tried again by the next run.
          LOG.warn(
              "Retention could not remove the texts of bias report {}; the others go on and it is"
                  + " tried again at the next run: {}",
              report.reportId(),
              e.toString());
          continue;
        }
        if (removed > 0) {
          pruned.add(new ReportPruned(report.reportId(), scope, tenant, cutoff, removed));
          biasReportsPruned.incrementAndGet();
        }
      }
      if (page.size() < REPORTS_PER_QUERY) {
        return;
      }
      after = page.get(page.size() - 1);
    }
  }

  /** Ids of bias reports read at a time by {@link #pruneReports}. */
  private static final int REPORTS_PER_QUERY = 100;

  /**
   * Stored bias reports whose output texts this instance's retention runs removed ({@link #run}),
   * since it was made.
   */
  public long biasReportsPruned() {
    return biasReportsPruned.get();
  }

  /**
   * Applies the scope's period, batch by batch; adds each batch to {@code batches} once committed.
   */
  private void applyScope(
      String scope,
      String tenant,
      List<String> excluded,
      Instant cutoff,
      int days,
      Instant now,
      List<Applied> batches)
      throws SQLException {
    // Requests being resent when a batch came to them: left alone for the rest of this run.
    List<String> beingResent = new ArrayList<>();
    while (true) {
      Batch batch =
          Transactions.inTransaction(
              dataSource,
              connection ->
                  tombstoneBatch(
                      connection, scope, tenant, excluded, cutoff, days, now, beingResent));
      if (batch.applied() != null) {
        batches.add(batch.applied());
      }
      if (!batch.more()) {
        return;
      }
    }
  }

  /**
   * Deletes the scope's {@code event_id_conflict} rows (migration V32) read before {@code cutoff}
   * whose record has lost its content: a batch deletes those of its scope under the records it
   * tombstones, and this those kept after their record lost its content (read after retention or an
   * erasure came to it, or under a record of another scope's batch), which no batch of the scope
   * comes to again. The scope is the row's own tenant, which the other content names (a forgery
   * picks it): a row whose record still has its content (another tenant's, kept longer; a record
   * retention leaves alone) stays, the trace that the record was contested, and only loses its
   * payload, the content of the scope's tenant past its period.
   */
  private void removeLateConflicts(
      String scope, String tenant, List<String> excluded, Instant cutoff) throws SQLException {
    String inScope =
        " where seen_at < ? and "
            + (scope.equals("TENANT")
                ? "tenant_id = ?"
                : "(tenant_id is null or tenant_id <> all(?))");
    String recordKept =
        " exists (select 1 from audit_log a where a.event_id = event_id_conflict.event_id"
            + " and a.payload is not null)";
    Transactions.inTransaction(
        dataSource,
        connection -> {
          for (String sql :
              List.of(
                  "delete from event_id_conflict" + inScope + " and not" + recordKept,
                  "update event_id_conflict set payload = null"
                      + inScope
                      + " and payload is not null and"
                      + recordKept)) {
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
              statement.setObject(1, utc(cutoff));
              if (scope.equals("TENANT")) {
                statement.setString(2, tenant);
              } else {
                statement.setArray(2, connection.createArrayOf("text", excluded.toArray()));
              }
              statement.executeUpdate();
            }
          }
          return null;
        });
  }

  /**
   * Requests whose erasure lock ({@link ErasureLocks}) one batch takes at most: each is a lock in
   * PostgreSQL's shared lock table until the batch commits.
   */
  static final int ERASURE_LOCKS_PER_BATCH = 100;

  /**
   * One batch: what it removed (null: nothing), and whether records may be left that a next batch
   * of the run should take (a full batch, or one that left requests for the next).
   */
  private record Batch(Applied applied, boolean more) {}

  /**
   * Tombstones the next batch of the scope's records, oldest first. An unfinished flow's record can
   * be sent to Kafka again ({@link io.genguard.audit.watch.UnfinishedFlows#resend}), which holds
   * its request's erasure lock while it reads and sends it: so, as an erasure does, the batch takes
   * the erasure locks of the requests among its records that have an open flow before the chain
   * lock, and a resend that comes after waits for the batch and finds the content removed. It only
   * tries them (a batch holds the chain lock, and waiting for a send there would stop every
   * writer): a request whose lock is held, by a resend or an erasure, keeps its records until the
   * next run, and a batch locks at most {@value #ERASURE_LOCKS_PER_BATCH} requests, leaving the
   * records of further ones to the next batch.
   *
   * @param beingResent requests left alone for the rest of the run; the batch adds those whose lock
   *     it found held
   */
  private Batch tombstoneBatch(
      Connection connection,
      String scope,
      String tenant,
      List<String> excluded,
      Instant cutoff,
      int days,
      Instant now,
      List<String> beingResent)
      throws SQLException {
    String which =
        scope.equals("TENANT") ? "tenant_id = ?" : "(tenant_id is null or tenant_id <> all(?))";
    List<Long> seqs = new ArrayList<>();
    List<String> requestIds = new ArrayList<>();
    try (PreparedStatement select =
        connection.prepareStatement(
            "select seq, request_id from audit_log where payload is not null"
                + " and chain_version >= 2 and event_type <> '"
                + EVENT_TYPE
                // What the audit store never read stays known as long as the store exists.
                + "' and event_type <> '"
                + UnreadRecords.EVENT_TYPE
                + "' and recorded_at < ? and "
                + which
                // Recorded policy files decide every tenant's verdicts: kept for as long as those.
                + " and not (event_type = '"
                + ActionLog.EVENT_TYPE
                + "' and tenant_id is null and payload::jsonb ->> 'action' = '"
                + PolicyArchive.ACTION
                + "')"
                + " and (request_id is null or request_id <> all(?))"
                + " order by seq limit ?")) {
      select.setObject(1, utc(cutoff));
      if (scope.equals("TENANT")) {
        select.setString(2, tenant);
      } else {
        select.setArray(2, connection.createArrayOf("text", excluded.toArray()));
      }
      select.setArray(3, connection.createArrayOf("text", beingResent.toArray()));
      select.setInt(4, batchSize);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          seqs.add(rs.getLong(1));
          requestIds.add(rs.getString(2));
        }
      }
    }
    List<String> resendable = withOpenFlows(connection, seqs);
    List<String> locked =
        resendable.subList(0, Math.min(resendable.size(), ERASURE_LOCKS_PER_BATCH));
    List<String> busy = ErasureLocks.tryLock(connection, locked);
    beingResent.addAll(busy);
    Set<String> leftAlone = new HashSet<>(busy);
    leftAlone.addAll(resendable.subList(locked.size(), resendable.size()));
    List<Long> taken = new ArrayList<>();
    for (int i = 0; i < seqs.size(); i++) {
      if (requestIds.get(i) == null || !leftAlone.contains(requestIds.get(i))) {
        taken.add(seqs.get(i));
      }
    }
    boolean more = seqs.size() == batchSize || resendable.size() > locked.size();
    // A verdict keeps the digest of its judgement as its payload reads now (one recorded before
    // migration V35 has none, one of an older schema a digest without a newer field): computed
    // before the chain lock, since it parses every verdict of the batch, and kept under it only
    // where the payload is still there (an erasure may have come in between).
    JudgementDigests digests = JudgementDigests.ofRecords(connection, taken);
    ChainAppender.lock(connection);
    long retentionSeq = ChainAppender.tail(connection).seq() + 1;
    digests.keep(connection);
    int tombstoned;
    try (PreparedStatement update =
        connection.prepareStatement(
            "update audit_log set payload = null, tombstoned_at = ?, tombstone_seq = ?"
                // An erasure of a request not locked here may have come in between.
                + " where seq = any(?) and payload is not null")) {
      update.setObject(1, utc(now));
      update.setLong(2, retentionSeq);
      update.setArray(3, connection.createArrayOf("bigint", taken.toArray()));
      tombstoned = update.executeUpdate();
    }
    // Dead letters name no tenant, so the default's batches take them with the other records of no
    // tenant; a tenant's own period reaches those of its requests here, in what room is left.
    List<Long> deadLetters =
        scope.equals("TENANT") && tombstoned < batchSize
            ? deadLettersOfTenant(connection, tenant, cutoff, batchSize - tombstoned)
            : List.of();
    tombstoned += tombstoneDeadLetters(connection, deadLetters, retentionSeq, now);
    // A full batch (dead letters may have filled what room the records left) may have left more.
    more = more || tombstoned >= batchSize;
    if (tombstoned == 0) {
      return new Batch(null, more);
    }
    List<HeldForReview> held = stillHeldForReview(connection, retentionSeq);
    removeProjections(connection, retentionSeq, false);
    removeConflictsOfBatch(connection, retentionSeq, scope, tenant, excluded);
    ObjectNode payload = JsonNodeFactory.instance.objectNode();
    payload.put("scope", scope);
    payload.put("tenantId", tenant);
    ArrayNode excludedNode = payload.putArray("excludedTenants");
    excluded.forEach(excludedNode::add);
    payload.put("retentionDays", days);
    payload.put("cutoff", cutoff.toString());
    payload.put("tombstoned", tombstoned);
    putDeadLetters(payload, deadLetters);
    if (!held.isEmpty()) {
      payload.put("pendingReviewsQuarantined", held.size());
    }
    payload.put("at", now.toString());
    appendRecord(connection, tenant, null, payload, retentionSeq, now);
    for (HeldForReview item : held) {
      noticeToTheGate(
          connection, item.requestId(), item.tenantId(), retentionSeq, ErasureCause.RETENTION, now);
    }
    return new Batch(new Applied(scope, tenant, cutoff, tombstoned, retentionSeq), more);
  }

  /**
   * The requests of the records (a bigint array) that an open unfinished flow could send again, in
   * the order of their first such record; read through the partial index of migration V31.
   */
  static final String OPEN_FLOWS =
      "select request_id from unfinished_flow where record_seq = any(?)"
          + " and answered_seq is null and dismissed_at is null"
          + " group by request_id order by min(record_seq)";

  /**
   * The requests of the records {@code seqs} that an open unfinished flow could send again, in the
   * order of their first such record ({@link #OPEN_FLOWS}).
   */
  private static List<String> withOpenFlows(Connection connection, List<Long> seqs)
      throws SQLException {
    List<String> requests = new ArrayList<>();
    if (seqs.isEmpty()) {
      return requests;
    }
    try (PreparedStatement query = connection.prepareStatement(OPEN_FLOWS)) {
      query.setArray(1, connection.createArrayOf("bigint", seqs.toArray()));
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          requests.add(rs.getString(1));
        }
      }
    }
    return requests;
  }

  /** An output the release gate holds for a person's review, as the review queue lists it. */
  private record HeldForReview(String requestId, String tenantId) {}

  /**
   * The review items, among the records the retention record at {@code retentionSeq} tombstoned,
   * that still wait for a person (PENDING, claimed or not): the release gate holds their output,
   * text and verdict, until a decision comes, and once their item is gone none ever does. Retention
   * tells the gate, as an erasure does, so that it quarantines the output without its text and
   * keeps none of it: content past its period is not kept, and the output is not released without a
   * review. A DECIDED item's decision is on its way to the gate (the outbox sends it whatever
   * becomes of the item), which then forgets the text; a notice could overtake it on its own topic
   * and quarantine an approved output, so those are left to their decision.
   */
  private static List<HeldForReview> stillHeldForReview(Connection connection, long retentionSeq)
      throws SQLException {
    List<HeldForReview> held = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select request_id, tenant_id from review_item where state = 'PENDING'"
                + " and gate_event_id in (select event_id from audit_log where tombstone_seq = ?)"
                + " order by request_id")) {
      query.setLong(1, retentionSeq);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          held.add(new HeldForReview(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return held;
  }

  /**
   * The dead letters (their records' seqs, oldest first, at most {@code limit}) whose source key is
   * a request of {@code tenant}, recorded before {@code cutoff}, with their content.
   */
  private static List<Long> deadLettersOfTenant(
      Connection connection, String tenant, Instant cutoff, int limit) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            DEAD_LETTERS
                + " and d.source_key is not null and exists (select 1 from audit_log r"
                + " where r.request_id = d.source_key and r.tenant_id = ?)"
                + " order by a.seq limit ?")) {
      query.setObject(1, utc(cutoff));
      query.setString(2, tenant);
      query.setInt(3, limit);
      return seqs(query);
    }
  }

  /**
   * The dead letters (their records' seqs, oldest first) of one request, recorded before {@code
   * cutoff}, with their content: those whose source key is the request's id. Every topic with dead
   * letters is keyed by request id, and request ids are random ids the audit service gives, so the
   * key names the request (and through it the tenant) even when the bytes it kept cannot be read.
   */
  private static List<Long> deadLettersOfRequest(
      Connection connection, String requestId, Instant cutoff) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(DEAD_LETTERS + " and d.source_key = ? order by a.seq")) {
      query.setObject(1, utc(cutoff));
      query.setString(2, requestId);
      return seqs(query);
    }
  }

  /**
   * Dead letters with their content, recorded before a cutoff: found through the dead_letter table
   * (few rows, its source key indexed) rather than the audit log, which names no request for them.
   */
  private static final String DEAD_LETTERS =
      "select a.seq from dead_letter d join audit_log a on a.event_id = d.event_id"
          + " where a.payload is not null and a.chain_version >= 2 and a.event_type = '"
          + ChainVerifier.DEAD_LETTER_TYPE
          + "' and a.recorded_at < ?";

  private static List<Long> seqs(PreparedStatement query) throws SQLException {
    List<Long> seqs = new ArrayList<>();
    try (ResultSet rs = query.executeQuery()) {
      while (rs.next()) {
        seqs.add(rs.getLong(1));
      }
    }
    return seqs;
  }

  /**
   * Removes the content of the dead letters {@code seqs} as it removes the other records', each
   * tombstone pointing to the retention record at {@code retentionSeq}, which names them ({@link
   * #putDeadLetters}): they name no request or tenant by which the verifier could otherwise tell
   * they were in its scope.
   */
  private static int tombstoneDeadLetters(
      Connection connection, List<Long> seqs, long retentionSeq, Instant now) throws SQLException {
    if (seqs.isEmpty()) {
      return 0;
    }
    try (PreparedStatement update =
        connection.prepareStatement(
            "update audit_log set payload = null, tombstoned_at = ?, tombstone_seq = ?"
                + " where seq = any(?) and payload is not null")) {
      update.setObject(1, utc(now));
      update.setLong(2, retentionSeq);
      update.setArray(3, connection.createArrayOf("bigint", seqs.toArray()));
      return update.executeUpdate();
    }
  }

  /** Names the dead letters a retention record emptied, for the verifier. */
  private static void putDeadLetters(ObjectNode payload, List<Long> deadLetters) {
    if (!deadLetters.isEmpty()) {
      ArrayNode seqs = payload.putArray(ChainVerifier.DEAD_LETTER_SEQS);
      deadLetters.forEach(seqs::add);
    }
  }

  /**
   * Deletes what the query tables, the review queue and the review outbox hold of the records the
   * retention record at {@code retentionSeq} tombstoned. Four query tables have no index on
   * event_id, so their rows are found through the tombstoned records' request ids (each table's
   * request index) rather than by reading those tables whole, once per retention batch or erased
   * request.
   */
  private static void removeProjections(Connection connection, long retentionSeq, boolean erasure)
      throws SQLException {
    List<String> statements = new ArrayList<>();
    statements.add(
        "delete from review_item where gate_event_id in"
            + " (select event_id from audit_log where tombstone_seq = ?)");
    statements.add(
        "delete from review_outbox where published_at is not null and request_id in"
            + " (select request_id from audit_log where tombstone_seq = ? and request_id is not null)");
    // Other content read under an erased record's id (migration V32) loses its payload with the
    // record's content; the row stays (the digests and source, the trace that the id was contested,
    // as the erasure record keeps the request id). Retention deletes the rows of its own scope
    // instead (removeConflictsOfBatch).
    if (erasure) {
      statements.add(
          "update event_id_conflict set payload = null where payload is not null and event_id"
              + " in (select event_id from audit_log where tombstone_seq = ?)");
    }
    for (String table : PROJECTIONS) {
      // Table names come from the constant list above, never from input.
      statements.add(
          FOUND_BY_REQUEST.contains(table)
              ? "delete from "
                  + table
                  + " t using audit_log a where a.tombstone_seq = ?"
                  + " and t.request_id = a.request_id and t.event_id = a.event_id"
              : "delete from "
                  + table
                  + " where event_id in (select event_id from audit_log where tombstone_seq = ?)");
    }
    for (String sql : statements) {
      try (PreparedStatement delete = connection.prepareStatement(sql)) {
        delete.setLong(1, retentionSeq);
        delete.executeUpdate();
      }
    }
  }

  /**
   * Deletes the {@code event_id_conflict} rows (migration V32) of the batch's scope read under the
   * records the retention record at {@code retentionSeq} tombstoned, as it deletes the rest of the
   * scope's rows of their requests. The scope is the row's own tenant, which its content names: a
   * forgery read first picks the record's tenant, and the genuine content under it, another
   * tenant's, stays until that tenant's period ({@link #removeLateConflicts}). Before the
   * forty-seventh session's review the batch deleted every row under its records, and with it
   * another tenant's content and the only trace that its output was contested.
   */
  private static void removeConflictsOfBatch(
      Connection connection, long retentionSeq, String scope, String tenant, List<String> excluded)
      throws SQLException {
    try (PreparedStatement delete =
        connection.prepareStatement(
            "delete from event_id_conflict where event_id in"
                + " (select event_id from audit_log where tombstone_seq = ?) and "
                + (scope.equals("TENANT")
                    ? "tenant_id = ?"
                    : "(tenant_id is null or tenant_id <> all(?))"))) {
      delete.setLong(1, retentionSeq);
      if (scope.equals("TENANT")) {
        delete.setString(2, tenant);
      } else {
        delete.setArray(2, connection.createArrayOf("text", excluded.toArray()));
      }
      delete.executeUpdate();
    }
  }

  /**
   * Query tables with no index on event_id, whose rows are found through their (not null, indexed)
   * request id; the others have event_id as their key or a unique column.
   */
  private static final List<String> FOUND_BY_REQUEST =
      List.of("generation_request", "generation_output", "moderation_verdict", "review_decision");

  /** Appends the retention record that justifies the tombstones, at {@code retentionSeq}. */
  private static void appendRecord(
      Connection connection,
      String tenant,
      String requestId,
      ObjectNode payload,
      long retentionSeq,
      Instant now)
      throws SQLException {
    long seq =
        ChainAppender.append(
            connection,
            List.of(
                ChainRecord.ofService(
                    EventIds.random(),
                    EVENT_TYPE,
                    tenant,
                    requestId,
                    CanonicalJson.write(payload))),
            now);
    if (seq != retentionSeq) {
      throw new IllegalStateException(
          "Retention record landed at seq "
              + seq
              + ", expected "
              + retentionSeq
              + " (the chain lock was not held?)");
    }
  }

  /**
   * What erasing a request removed.
   *
   * @param tombstoned records whose content was removed now
   * @param retentionSeq the seq of the record that justifies them (null when nothing was removed):
   *     the first of {@code retentionSeqs}
   * @param keptVersionOne records written before chain version 2, which cannot lose their content
   *     without breaking the chain, so keep it
   * @param kafkaCopies by when Kafka's request-data topics drop their copies of the request's
   *     records (they cannot be erased one by one), as recorded with the erasure; null when the
   *     service has no broker to ask
   * @param retractedEventId the first of {@code retractedEventIds}, or null when it retracted
   *     nothing (kept for clients that read it from before two tenants' releases under one request
   *     id were each retracted)
   * @param tenantId the request's tenant; null for a request known only by its dead letters, which
   *     name none (its notice to the release gate names the empty tenant, {@link #NO_TENANT})
   * @param biasReportsRedacted the stored bias reports this call removed the request's output text
   *     from ({@link ReportRedaction})
   * @param retractedEventIds the {@code content.released} outcomes this call retracted (for each, a
   *     {@link ContentRetraction} of basis ERASURE went to content.retractions): one per tenant
   *     whose release under the request id was on record and not retracted before (an admin's
   *     erasure removes every tenant's records, so retracts every tenant's release); empty when it
   *     retracted nothing
   * @param retentionSeqs the erasure records this call wrote, in seq order: one, or, for an admin's
   *     erasure of a request id two tenants use (since the fifty-first session), one per tenant
   *     whose records it removed (each accounting for that tenant's records alone), and one naming
   *     no tenant for the request's records of no tenant and its dead letters, when it has any;
   *     empty when nothing was removed
   */
  public record Erased(
      String requestId,
      String tenantId,
      long tombstoned,
      Long retentionSeq,
      long keptVersionOne,
      Instant at,
      KafkaCopies.Bound kafkaCopies,
      String retractedEventId,
      List<String> biasReportsRedacted,
      List<String> retractedEventIds,
      List<Long> retentionSeqs) {
    public Erased {
      retractedEventIds = List.copyOf(retractedEventIds);
      retentionSeqs = List.copyOf(retentionSeqs);
    }

    /**
     * The first of {@code retractedEventIds}, the one {@code retractedEventId} names; null: none.
     */
    static String first(List<String> retractedEventIds) {
      return retractedEventIds.isEmpty() ? null : retractedEventIds.get(0);
    }
  }

  /**
   * One erasure record an erasure writes: the tenant it names (null: none), its seq, how many
   * records it removed and the dead letters among them.
   */
  private record ErasurePart(String tenantId, long seq, int tombstoned, List<Long> deadLetters) {}

  /**
   * Removes the content of the request's records (of chain version 2 or later, recorded before
   * {@code cutoff}, but for the records of its erasures and what told the gate and publishers),
   * each tombstone pointing to the erasure record at {@code seq}: of {@code tenant} (null: of any
   * tenant), or, when {@code otherThan} is not null, of no tenant or of one not in it.
   *
   * @return how many records lost their content
   */
  private static int tombstoneOfRequest(
      Connection connection,
      String requestId,
      Instant now,
      Instant cutoff,
      long seq,
      String tenant,
      List<String> otherThan)
      throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "update audit_log set payload = null, tombstoned_at = ?, tombstone_seq = ?"
                + " where request_id = ? and payload is not null and chain_version >= 2"
                + " and event_type <> '"
                + EVENT_TYPE
                // An earlier erasure's call (who asked, why) stays with its erasure record.
                // The notices that told the gate and the publishers show they were told.
                + "' and event_type <> '"
                + NOTICE_TYPE
                + "' and event_type <> '"
                + RETRACTION_TYPE
                + "' and not (event_type = '"
                + ActionLog.EVENT_TYPE
                + "' and payload::jsonb ->> 'action' = 'requests.erase')"
                + " and recorded_at < ? and "
                + (otherThan == null
                    ? "(?::text is null or tenant_id = ?)"
                    : "(tenant_id is null or tenant_id <> all(?))"))) {
      update.setObject(1, utc(now));
      update.setLong(2, seq);
      update.setString(3, requestId);
      update.setObject(4, utc(cutoff));
      if (otherThan == null) {
        update.setString(5, tenant);
        update.setString(6, tenant);
      } else {
        update.setArray(5, connection.createArrayOf("text", otherThan.toArray()));
      }
      return update.executeUpdate();
    }
  }

  /** Longest reason an erasure may give. */
  public static final int MAX_REASON = 2_000;

  /**
   * Removes the content of every record of one request now, as retention would once its period
   * passed (a data subject's erasure request, a court order, a leak), and of its dead letters
   * (whose key is the request id; the erasure record names them): the records keep their place in
   * the chain, the query tables and the review queue lose them, and a {@value #EVENT_TYPE} record
   * of scope {@code REQUEST} (naming the request, who asked and the reason) justifies the
   * tombstones to the verifier, which accepts them for that request only. An admin's erasure of a
   * request id two tenants use writes one such record per tenant (since the fifty-first session),
   * each for its tenant's records, so that each tenant's evidence bundle proves its removals
   * without naming the other, and one naming no tenant for the rest (records of no tenant, dead
   * letters), when there are any. In the same transaction an {@link ErasureNotice} goes to the
   * outbox for the release gate, which then never publishes the request's output and drops the text
   * it holds. Records that arrive later (an output still on its way) are erased by {@link
   * #eraseLateRecords}. What Kafka's topics hold stays until their own retention: by when, as the
   * broker says ({@link KafkaCopies}), is in the answer and in the erasure's {@code requests.erase}
   * action record. A resend of the request's unfinished flows that is sending its records to Kafka
   * is waited for, before the chain lock ({@link ErasureLocks}), so that no erased content is sent
   * again after the erasure; a review decision the outbox is sending is not (the outbox drops it if
   * Kafka does not take it).
   *
   * @throws NotFoundException when the chain holds no record of the request the caller may see
   */
  public Erased erase(String requestId, String reason, Caller caller) throws SQLException {
    return erase(requestId, reason, caller, false);
  }

  /**
   * @param followUp a follow-up of an earlier erasure ({@link #eraseLateRecords}): when another
   *     process's follow-up erased the records first, nothing is recorded
   */
  Erased erase(String requestId, String reason, Caller caller, boolean followUp)
      throws SQLException {
    return erase(requestId, reason, caller, followUp, null);
  }

  /**
   * @param onlyTenant the tenant whose records alone are erased (a data subject's erasure, {@link
   *     #eraseSubject}, and its follow-ups): another tenant's records and release under the same
   *     request id stay; the request's dead letters, which name no tenant, go as well. Null: every
   *     record of the request the caller may see, as {@link #erase(String, String, Caller)} says: a
   *     tenant's caller's erasure is scoped to its own tenant as if it named it
   */
  Erased erase(String requestId, String reason, Caller caller, boolean followUp, String onlyTenant)
      throws SQLException {
    String why = reason(reason);
    // Asked before the chain lock: the broker may take its time.
    KafkaCopies.Stay stay = kafkaCopies == null ? null : kafkaCopies.stay();
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          // Before the chain lock: a resend of the request's unfinished flows that is sending its
          // records to Kafka holds it until Kafka took them, and then sees this erasure.
          ErasureLocks.lock(connection, List.of(requestId));
          ChainAppender.lock(connection);
          String tenant =
              onlyTenant != null ? onlyTenant : tenantToErase(connection, requestId, caller);
          // The erasure's tenant scope: the tenant named (a data subject's), else the caller's (a
          // tenant's admin erases its own tenant's records alone); null for a caller of every
          // tenant. Its follow-ups keep it (request_erasure), and the gate's notice names it.
          String scope = onlyTenant != null ? onlyTenant : caller.tenantId();
          Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
          Instant cutoff = now.plus(1, ChronoUnit.MICROS);
          long retentionSeq = ChainAppender.tail(connection).seq() + 1;
          KafkaCopies.Bound copies = stay == null ? null : stay.boundFor(now);
          // A verdict keeps the digest of its judgement as its payload reads now (one recorded
          // before migration V35 has none, one of an older schema a digest without a newer field).
          // Under the chain lock: a request has few verdicts, and one recorded just before is in.
          JudgementDigests.ofRequest(connection, requestId).keep(connection);
          // Whose records it removes, each with the outputs it removes: one action each. Read
          // before the tombstones (their tenants stay; the output rows go with the projections).
          Map<String, List<String>> erasedTenants =
              erasedTenants(connection, requestId, tenant, onlyTenant, caller);
          // An admin's erasure of a request id two tenants use: one erasure record per tenant,
          // each accounting for its own tenant's records alone, so that each tenant's evidence
          // bundle proves its removals without naming the other (before the fifty-first session one
          // record named the lowest tenant, withheld from the others' bundles); the records of no
          // tenant and the dead letters go to one more, naming no tenant, when there are any.
          List<ErasurePart> parts = new ArrayList<>();
          List<Long> deadLetters;
          int tombstoned;
          if (erasedTenants.size() > 1) {
            long next = retentionSeq;
            for (String one : erasedTenants.keySet()) {
              int removed = tombstoneOfRequest(connection, requestId, now, cutoff, next, one, null);
              if (removed > 0) {
                parts.add(new ErasurePart(one, next++, removed, List.of()));
              }
            }
            deadLetters = deadLettersOfRequest(connection, requestId, cutoff);
            int rest =
                tombstoneOfRequest(
                        connection,
                        requestId,
                        now,
                        cutoff,
                        next,
                        null,
                        List.copyOf(erasedTenants.keySet()))
                    + tombstoneDeadLetters(connection, deadLetters, next, now);
            if (rest > 0) {
              parts.add(new ErasurePart(null, next, rest, deadLetters));
            }
            tombstoned = parts.stream().mapToInt(ErasurePart::tombstoned).sum();
          } else {
            tombstoned =
                tombstoneOfRequest(connection, requestId, now, cutoff, retentionSeq, scope, null);
            // The request's dead letters keep the bytes of its records (a prompt, an output) but
            // name no request in the audit log: found by their key, and named in the erasure
            // record.
            deadLetters = deadLettersOfRequest(connection, requestId, cutoff);
            tombstoned += tombstoneDeadLetters(connection, deadLetters, retentionSeq, now);
            if (tombstoned > 0) {
              parts.add(new ErasurePart(tenant, retentionSeq, tombstoned, deadLetters));
            }
          }
          // Content naming the request kept as other content under another request's record (a
          // forgery read first, or an id reused across requests): the rows of the request's own
          // records lose theirs below (removeProjections), these by the row's request, whatever
          // the record's. Each row stays without its payload, as those do.
          try (PreparedStatement conflicts =
              connection.prepareStatement(
                  "update event_id_conflict set payload = null"
                      + " where request_id = ? and payload is not null"
                      // A tenant's erasure: its rows, and those naming no tenant (as its dead
                      // letters, they may hold its content).
                      + " and (?::text is null or tenant_id is null or tenant_id = ?)")) {
            conflicts.setString(1, requestId);
            conflicts.setString(2, scope);
            conflicts.setString(3, scope);
            conflicts.executeUpdate();
          }
          long versionOne;
          try (PreparedStatement count =
              connection.prepareStatement(
                  "select (select count(*) from audit_log where request_id = ? and chain_version = 1"
                      + " and (?::text is null or tenant_id = ?))"
                      + " + (select count(*) from dead_letter d join audit_log a"
                      + " on a.event_id = d.event_id where d.source_key = ? and a.chain_version = 1)")) {
            count.setString(1, requestId);
            count.setString(2, scope);
            count.setString(3, scope);
            count.setString(4, requestId);
            try (ResultSet rs = count.executeQuery()) {
              rs.next();
              versionOne = rs.getLong(1);
            }
          }
          if (tombstoned == 0 && followUp) {
            return new Erased(
                requestId,
                tenant,
                0,
                null,
                versionOne,
                now,
                copies,
                null,
                List.of(),
                List.of(),
                List.of());
          }
          // An output released before the erasure comes down: read before its row goes. Also when
          // nothing is left to tombstone (records of chain version 1, or content retention removed
          // before): what platforms published is still out there.
          // The caller's tenant's release; an admin's erasure (no tenant) removes every tenant's
          // records under the request id, so takes down every tenant's release on record: `tenant`
          // names the lowest tenant of the request's records, which need not be one that released.
          // A tenant's erasure (a data subject's) takes down that tenant's release only.
          List<Retractions.Released> released =
              tenant == null
                  ? List.of()
                  : Retractions.releasedNotRetractedOnRecord(connection, requestId, scope);
          if (tombstoned == 0) {
            Map<String, String> actionIds =
                recordErasure(
                    connection,
                    caller,
                    requestId,
                    erasedTenants,
                    why,
                    List.of(),
                    copies,
                    released,
                    now);
            tellTheGate(connection, requestId, gateTenant(scope, tenant), scope, null, now);
            List<String> retracted = retract(connection, released, actionIds, now);
            List<String> reports =
                ReportRedaction.redact(connection, requestId, scope, caller, now);
            return new Erased(
                requestId,
                tenant,
                0,
                null,
                versionOne,
                now,
                copies,
                Erased.first(retracted),
                reports,
                retracted,
                List.of());
          }
          for (ErasurePart part : parts) {
            removeProjections(connection, part.seq(), true);
          }
          // A review decision not yet sent to the gate is not sent: erased content is not
          // released. (A retraction not yet sent still goes: it carries no content.) One the
          // outbox is sending now is left to it rather than waited for under the chain lock (the
          // outbox holds its rows while Kafka acknowledges them, up to 35 s): it went out as the
          // erasure began, and if Kafka did not take it, the outbox drops it, as it drops every
          // decision an erasure reaches (ReviewOutbox#publishPending).
          // A data subject's erasure drops its tenant's decisions only (two tenants may use one
          // request id); the whole request's erasure, every tenant's.
          ReviewOutbox.dropDecisionsOfErased(connection, requestId, scope);
          for (ErasurePart part : parts) {
            ObjectNode payload = JsonNodeFactory.instance.objectNode();
            payload.put("scope", "REQUEST");
            payload.put("tenantId", part.tenantId());
            payload.put("requestId", requestId);
            payload.put("reason", why);
            payload.put("by", caller.describe());
            payload.put("cutoff", cutoff.toString());
            payload.put("tombstoned", part.tombstoned());
            putDeadLetters(payload, part.deadLetters());
            payload.put("at", now.toString());
            appendRecord(connection, part.tenantId(), requestId, payload, part.seq(), now);
          }
          Map<String, String> actionIds =
              recordErasure(
                  connection, caller, requestId, erasedTenants, why, parts, copies, released, now);
          tellTheGate(connection, requestId, gateTenant(scope, tenant), scope, retentionSeq, now);
          List<String> retracted = retract(connection, released, actionIds, now);
          List<String> reports = ReportRedaction.redact(connection, requestId, scope, caller, now);
          return new Erased(
              requestId,
              tenant,
              tombstoned,
              retentionSeq,
              versionOne,
              now,
              copies,
              Erased.first(retracted),
              reports,
              retracted,
              parts.stream().map(ErasurePart::seq).toList());
        });
  }

  /**
   * Retracts the releases, each for the erasure's action of its tenant; the retracted outcomes'
   * event ids.
   */
  private static List<String> retract(
      Connection connection,
      List<Retractions.Released> released,
      Map<String, String> actionIds,
      Instant now)
      throws SQLException {
    List<String> retracted = new ArrayList<>();
    for (Retractions.Released one : released) {
      String actionId = actionIds.get(one.tenantId());
      if (actionId == null) {
        actionId = actionIds.values().iterator().next();
      }
      Retractions.record(connection, one, RetractionBasis.ERASURE, actionId, now);
      retracted.add(one.eventId());
    }
    return retracted;
  }

  /**
   * The tenants whose records the erasure removes, each with the ids of its outputs under the
   * request id (read before the erasure removes their rows), in tenant order: the caller's tenant
   * for a tenant's erasure; for an admin's, every tenant with a pipeline record under the id (two
   * tenants may use one request id), or {@code tenant} (null for a request known only by its dead
   * letters) when none has.
   */
  private static Map<String, List<String>> erasedTenants(
      Connection connection, String requestId, String tenant, String onlyTenant, Caller caller)
      throws SQLException {
    List<String> tenants = new ArrayList<>();
    // A tenant's erasure (a data subject's) removes that tenant's records alone.
    if (caller.tenantId() == null && onlyTenant == null) {
      try (PreparedStatement query =
          connection.prepareStatement(
              "select distinct tenant_id from audit_log where request_id = ?"
                  + " and tenant_id is not null and event_type <> '"
                  + ActionLog.EVENT_TYPE
                  + "' order by tenant_id")) {
        query.setString(1, requestId);
        try (ResultSet rs = query.executeQuery()) {
          while (rs.next()) {
            tenants.add(rs.getString(1));
          }
        }
      }
    }
    if (tenants.isEmpty()) {
      tenants.add(tenant);
    }
    Map<String, List<String>> outputs = new LinkedHashMap<>();
    for (String one : tenants) {
      List<String> ids = new ArrayList<>();
      if (one != null) {
        try (PreparedStatement query =
            connection.prepareStatement(
                "select output_id from generation_output where request_id = ? and tenant_id = ?"
                    + " order by output_id")) {
          query.setString(1, requestId);
          query.setString(2, one);
          try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
              ids.add(rs.getString(1));
            }
          }
        }
      }
      outputs.put(one, ids);
    }
    return outputs;
  }

  /**
   * The tenant of the request's records, if the caller may see them. A request the chain knows only
   * by its dead letters (every record of it failed to decode: a schema skew, a malformed producer)
   * names no tenant: a caller of every tenant may erase those (null tenant), since they hold its
   * content; a tenant's caller may not, as it cannot tell whose they are.
   *
   * @throws NotFoundException when the chain holds no record of the request the caller may see
   */
  private static String tenantToErase(Connection connection, String requestId, Caller caller)
      throws SQLException {
    if (caller.tenantId() == null
        && RequestOwner.find(connection, requestId, null).isEmpty()
        && hasDeadLetters(connection, requestId)) {
      return null;
    }
    return visibleTenant(connection, requestId, caller);
  }

  private static boolean hasDeadLetters(Connection connection, String requestId)
      throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement("select 1 from dead_letter where source_key = ? limit 1")) {
      query.setString(1, requestId);
      try (ResultSet rs = query.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * Event type of the notices that tell the release gate a request was erased, as the audit store
   * records them when they come back from audit.erasures.
   */
  static final String NOTICE_TYPE = ErasureNotice.getClassSchema().getName();

  /**
   * Event type of the notices that tell publishers to take a released output down, as the audit
   * store records them when they come back from content.retractions.
   */
  static final String RETRACTION_TYPE = ContentRetraction.getClassSchema().getName();

  /**
   * Pipeline events: what can still reach the audit store after its request was erased (an output
   * on its way, its verdict, the gate's outcome for it, or its restatement of a release whose
   * outcome never arrived, which the follow-up then takes down).
   */
  private static final List<String> PIPELINE_EVENTS =
      List.of(
          "GenerationRequest",
          "GenerationOutput",
          "GenerationFailure",
          "ModerationVerdict",
          "ReleaseGateOutcome",
          "GateDecisionRestated",
          "ReviewDecision");

  /**
   * How long after an erasure {@link #eraseLateRecords} looks for its request's records: the
   * release gate's default decision retention (GENGUARD_GATE_DECISION_RETENTION_HOURS), which is
   * also Kafka's default topic retention.
   */
  public static final Duration FOLLOW = Duration.ofDays(7);

  /** Most erased requests one follow-up erases; the rest wait for the next. */
  static final int FOLLOW_BATCH = 1_000;

  /**
   * The tenant an {@link ErasureNotice} names for a request known only by its dead letters, which
   * name none: empty, which no tenant id is; the audit store records such a notice with no tenant
   * ({@code AuditWriter}).
   */
  public static final String NO_TENANT = "";

  /**
   * The tenant the release gate's notice names: the erasure's tenant scope (a tenant's erasure), or
   * none (null) for an erasure of every tenant's records (a global caller's that names no tenant),
   * so that a gate keyed by tenant erases every tenant's entry under the id, also those of tenants
   * whose records have not reached the audit store yet (reported by the fifty-first session's
   * review: it named the one tenant the store knew); {@code tenant} is null, too, for a request
   * known only by its dead letters.
   */
  private static String gateTenant(String scope, String tenant) {
    return scope == null ? null : tenant;
  }

  /**
   * Tells the release gate, through the outbox in this transaction, that the request is erased, so
   * that it never publishes the output it holds or still gets; and notes the erasure, so that
   * records arriving later are erased too ({@link #eraseLateRecords}): of {@code scope} when the
   * erasure was that tenant's (a data subject's, or a tenant's admin's), else (null) of every
   * tenant. One note per request and scope (V39): tenant A's and tenant B's erasures of one id are
   * followed up for A and for B, never for a third tenant; each note keeps its last erasure's time.
   * The notes are in {@code request_erasure_note} (V40), which inherits {@code request_erasure},
   * where the reads find them; an older instance's insert into {@code request_erasure} lands there
   * too, through its trigger.
   */
  private static void tellTheGate(
      Connection connection,
      String requestId,
      String tenant,
      String scope,
      Long erasureSeq,
      Instant now)
      throws SQLException {
    // A request known only by its dead letters names no tenant, nor does an erasure of several
    // tenants' records (see gateTenant): its notice names the empty one (ErasureNotice.tenantId is
    // a string), which a gate keyed by tenant (state format 4) reads as every tenant's entry under
    // the request id, and one keyed by request id alone (format 3) as its one entry; so that a gate
    // that got an output, which the audit store could not read, does not release it.
    noticeToTheGate(
        connection,
        requestId,
        tenant == null ? NO_TENANT : tenant,
        erasureSeq,
        ErasureCause.ERASURE,
        now);
    try (PreparedStatement noted =
        connection.prepareStatement(
            "insert into request_erasure_note (request_id, tenant_id, erased_at) values (?, ?, ?)"
                + " on conflict (request_id, (coalesce(tenant_id, ''))) do update"
                + " set erased_at = excluded.erased_at")) {
      noted.setString(1, requestId);
      noted.setString(2, scope);
      noted.setObject(3, utc(now));
      noted.executeUpdate();
    }
  }

  /**
   * The {@link ErasureNotice} that has the release gate quarantine the request's output without its
   * text and keep none of it, into the outbox in this transaction; {@code erasureSeq} is the
   * retention record that removed the request's content (of scope REQUEST for an erasure), and
   * {@code cause} says whether a person erased it or the tenant's retention period removed it.
   */
  private static void noticeToTheGate(
      Connection connection,
      String requestId,
      String tenant,
      Long erasureSeq,
      ErasureCause cause,
      Instant now)
      throws SQLException {
    ErasureNotice notice =
        ErasureNotice.newBuilder()
            .setEventId(EventIds.nameBased("erasure", requestId, now.toString()))
            .setRequestId(requestId)
            .setTenantId(tenant)
            .setErasureSeq(erasureSeq)
            .setErasedAt(now)
            .setCause(cause)
            .build();
    ReviewOutbox.enqueue(
        connection, notice.getEventId(), requestId, Topics.AUDIT_ERASURES, notice, now);
  }

  /**
   * Erases again the requests erased within {@link #FOLLOW} that got pipeline records since (an
   * output that was on its way, its verdict, the gate's outcome for it, a dead letter of one of
   * them): each with its own erasure record, whose reason names the erasure it follows up. Also
   * erases the requests an erasure by attribute ({@link #eraseSubject}) within {@link #FOLLOW}
   * would have found had the audit store read them before the call: submitted before it, read after
   * it. The audit service runs this once a minute, so such a record keeps its content for about
   * that long. Several audit processes may run it at once: the chain lock orders them, and the
   * later finds nothing and records nothing. A follow-up that fails (one request's erasure) is
   * logged and counted ({@link #followUpsFailed}) and does not stop the others; it is tried again
   * by the next pass. A pass that fails as a whole (its lookups) counts one failure too.
   *
   * @return what each follow-up erased, oldest erasure first
   */
  public List<Erased> eraseLateRecords(Caller caller) throws SQLException {
    try {
      return followUps(caller);
    } catch (SQLException | RuntimeException e) {
      followUpsFailed.incrementAndGet();
      throw e;
    }
  }

  private List<Erased> followUps(Caller caller) throws SQLException {
    Instant since = clock.instant().minus(FOLLOW);
    List<String> requests = new ArrayList<>();
    List<Instant> erasedAt = new ArrayList<>();
    List<String> onlyTenants = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select e.request_id, e.erased_at, e.tenant_id from request_erasure e"
                    + " where e.erased_at >= ?"
                    + " and (exists (select 1 from audit_log a where a.request_id = e.request_id"
                    + " and a.payload is not null and a.chain_version >= 2"
                    // A tenant's erasure (a data subject's) follows up its tenant's records.
                    + " and (e.tenant_id is null or a.tenant_id = e.tenant_id)"
                    + " and a.event_type = any(?))"
                    // A dead letter of the request, written after the erasure (those before it
                    // lost their content with it).
                    + " or exists (select 1 from dead_letter d join audit_log a"
                    + " on a.event_id = d.event_id where d.source_key = e.request_id"
                    + " and a.payload is not null and a.chain_version >= 2))"
                    + " order by e.erased_at, e.request_id limit ?")) {
      query.setObject(1, utc(since));
      query.setArray(2, connection.createArrayOf("text", PIPELINE_EVENTS.toArray()));
      query.setInt(3, FOLLOW_BATCH);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          requests.add(rs.getString(1));
          erasedAt.add(rs.getObject(2, OffsetDateTime.class).toInstant());
          onlyTenants.add(rs.getString(3));
        }
      }
    }
    List<Erased> erased = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      // One that fails keeps its records' content, so the next pass finds it again.
      Erased followed =
          followUp(
              requests.get(i),
              "follow-up of the erasure at " + erasedAt.get(i) + ": records that arrived after it",
              caller,
              onlyTenants.get(i));
      if (followed != null && followed.tombstoned() > 0) {
        erased.add(followed);
      }
    }
    // Requests of a data subject erased by attribute that were submitted before the call and
    // reached the audit store after it: in the records appended up to the head read now (those
    // appended later get seqs above it, since the chain lock orders the appends).
    long head;
    List<SubjectFollowUp> subjects;
    try (Connection connection = dataSource.getConnection()) {
      try (PreparedStatement tail =
              connection.prepareStatement("select coalesce(max(seq), 0) from audit_log");
          ResultSet rs = tail.executeQuery()) {
        rs.next();
        head = rs.getLong(1);
      }
      subjects = subjectsToFollowUp(connection, since, head);
    }
    // The calls whose follow-up of a request failed keep the head they had checked, so that the
    // next pass reads those records again (the requests erased meanwhile have lost their content
    // and are not found twice).
    List<Long> unchecked = new ArrayList<>();
    for (SubjectFollowUp late : subjects) {
      Erased followed =
          followUp(
              late.requestId(),
              cut(
                  "follow-up of the erasure by attribute at "
                      + late.erasedAt()
                      + " (a request submitted before it that reached the audit store after"
                      + " it): "
                      + late.reason()),
              caller,
              late.tenantId());
      if (followed == null) {
        unchecked.add(late.erasureId());
      } else if (followed.tombstoned() > 0) {
        erased.add(followed);
      }
    }
    try (Connection connection = dataSource.getConnection();
        PreparedStatement checked =
            connection.prepareStatement(
                "update subject_erasure set checked_seq = ? where checked_seq < ?"
                    + " and erasure_id <> all(?)");
        PreparedStatement expired =
            connection.prepareStatement("delete from subject_erasure where erased_at < ?")) {
      checked.setLong(1, head);
      checked.setLong(2, head);
      checked.setArray(3, connection.createArrayOf("bigint", unchecked.toArray()));
      checked.executeUpdate();
      expired.setObject(1, utc(since));
      expired.executeUpdate();
    }
    return erased;
  }

  /**
   * One follow-up: erases the request's late records ({@link #erase} as a follow-up), or, when that
   * fails, logs and counts the failure ({@link #followUpsFailed}) and answers null, so that the
   * pass goes on with the others; the failed one is tried again by the next pass.
   */
  private Erased followUp(String requestId, String reason, Caller caller, String onlyTenant) {
    try {
      return erase(requestId, reason, caller, true, onlyTenant);
    } catch (SQLException | RuntimeException e) {
      followUpsFailed.incrementAndGet();
      LOG.warn(
          "The erasure follow-up of request {} failed; the others go on and it is tried again at"
              + " the next pass: {}",
          requestId,
          e.toString());
      return null;
    }
  }

  /**
   * Follow-ups of an erased request ({@link #eraseLateRecords}) that failed, and passes that failed
   * before they could try any, since this instance was made: each is tried again by the next pass.
   */
  public long followUpsFailed() {
    return followUpsFailed.get();
  }

  /**
   * The call, as every state-changing call is recorded ({@code requests.erase} actions): one action
   * per tenant whose records it removes (an admin's erasure of a request id two tenants use removes
   * both tenants' records, and each tenant's story lists its own tenant's actions), each naming
   * only its own tenant's outputs and retractions, and its own tenant's erasure record ({@code
   * retentionSeq}, with its {@code tombstoned}; before the fifty-first session they shared the one
   * record and its count). Before the fiftieth session an admin's erasure was one action of the
   * request's lowest tenant naming every tenant's retractions, and without {@code outputIds}: the
   * verifiers check no erasure details, so those still verify.
   *
   * @param tenants each tenant's output ids under the request, in tenant order (one null tenant for
   *     a request known only by its dead letters)
   * @param parts the erasure records the erasure wrote, each with the records it tombstoned: one,
   *     or one per tenant and one naming no tenant (its dead letters among them)
   * @param retracted the releases the erasure takes down: each named in its tenant's action ({@code
   *     retractions}), so the chain alone shows what the erasure took down, also after the query
   *     rows that show it are gone (the retractions' own records name the action)
   * @return each tenant's action id, in tenant order
   */
  private static Map<String, String> recordErasure(
      Connection connection,
      Caller caller,
      String requestId,
      Map<String, List<String>> tenants,
      String reason,
      List<ErasurePart> parts,
      KafkaCopies.Bound kafkaCopies,
      List<Retractions.Released> retracted,
      Instant now)
      throws SQLException {
    Map<String, String> actionIds = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> tenant : tenants.entrySet()) {
      ActionLog.Action action =
          ActionLog.Action.of("requests.erase", tenant.getKey(), requestId, requestId);
      // Its tenant's erasure record (the one record, unless the erasure wrote one per tenant).
      ErasurePart own =
          tenants.size() == 1
              ? (parts.isEmpty() ? null : parts.get(0))
              : parts.stream()
                  .filter(part -> part.tenantId() != null)
                  .filter(part -> part.tenantId().equals(tenant.getKey()))
                  .findFirst()
                  .orElse(null);
      action
          .details()
          .put("reason", reason)
          .put("tombstoned", own == null ? 0 : own.tombstoned())
          .put("retentionSeq", own == null ? null : own.seq());
      ArrayNode outputIds = action.details().putArray("outputIds");
      tenant.getValue().forEach(outputIds::add);
      ArrayNode retractions = action.details().putArray("retractions");
      for (Retractions.Released one : retracted) {
        if (tenants.size() > 1 && !one.tenantId().equals(tenant.getKey())) {
          continue; // in its own tenant's action
        }
        retractions
            .addObject()
            .put("tenantId", one.tenantId())
            .put("releasedEventId", one.eventId())
            .put("retractionEventId", Retractions.retractionEventId(one.eventId()));
      }
      if (kafkaCopies != null) {
        // What the erasure could not reach, and until when: Kafka's copies.
        action
            .details()
            .put(
                "kafkaCopiesGoneBy",
                kafkaCopies.goneBy() == null ? null : kafkaCopies.goneBy().toString())
            .put("kafkaCopiesBasis", kafkaCopies.basis());
      }
      actionIds.put(tenant.getKey(), ActionLog.record(connection, caller, action, now));
    }
    return actionIds;
  }

  /** Most requests one subject erasure erases; the answer says when there are more. */
  public static final int MAX_SUBJECT_REQUESTS = 10_000;

  /** Longest attribute key or value a subject erasure takes. */
  public static final int MAX_ATTRIBUTE_CHARS = 256;

  /**
   * What erasing a data subject's requests removed.
   *
   * @param tombstoned records whose content was removed, over all the requests
   * @param erased each request erased, in the order they were submitted
   * @param more whether more requests match than one call erases ({@value #MAX_SUBJECT_REQUESTS}):
   *     call again
   * @param followUpUntil until when the follow-up ({@link #eraseLateRecords}) erases the requests
   *     of the tenant with this attribute that were submitted before this call but reach the audit
   *     store after it (still on their way, an audit service behind or down, a request record
   *     recovered from the dead letters): {@link #FOLLOW} after the call
   */
  public record SubjectErased(
      String tenantId,
      String key,
      String value,
      long tombstoned,
      List<Erased> erased,
      boolean more,
      Instant followUpUntil) {}

  /**
   * Erases ({@link #erase}) every request of one tenant whose submitted attribute {@code key} is
   * {@code value}: how a platform that tags requests with its user's id (e.g. {@code "attributes":
   * {"userId": "u-123"}}) answers that user's erasure request. Each request is erased in its own
   * transaction, with its own erasure record. A request is found by the attributes of its request,
   * its output or its verdict (whichever the audit store holds: its request record may have been
   * dead-lettered). The call's criterion is kept ({@code subject_erasure}, the value as its SHA-256
   * only) before the requests are looked up, so that the follow-up erases the requests submitted
   * before the call that the audit store reads only after it, for {@link #FOLLOW}. Requests whose
   * content retention removed before are no longer found by their attributes, and need nothing
   * more; nor are requests erased before with nothing left to erase (records of chain version 1,
   * which keep their content and query rows, are all that is left of them).
   */
  public SubjectErased eraseSubject(
      String tenant, String key, String value, String reason, Caller caller) throws SQLException {
    checkTenant(tenant, caller);
    String attributeKey = attribute("attribute key", key);
    String attributeValue = attributeValue(value);
    String why = reason(reason);
    Instant at = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          // What the chain holds up to its head now is found by the lookup below; the follow-up
          // reads what is appended after it.
          try (PreparedStatement noted =
              connection.prepareStatement(
                  "insert into subject_erasure (tenant_id, attr_key, value_sha256, reason,"
                      + " erased_at, checked_seq) values (?, ?, ?, ?, ?,"
                      + " (select coalesce(max(seq), 0) from audit_log))")) {
            noted.setString(1, tenant);
            noted.setString(2, attributeKey);
            noted.setString(3, sha256(attributeValue));
            noted.setString(4, why);
            noted.setObject(5, utc(at));
            noted.executeUpdate();
          }
          return null;
        });
    List<String> requestIds = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select request_id from (select request_id, submitted_at as at"
                    + " from generation_request where tenant_id = ?"
                    + " and attributes @> jsonb_build_object(?::text, ?::text)"
                    + " union all select request_id, generated_at from generation_output"
                    + " where tenant_id = ? and attributes @> jsonb_build_object(?::text, ?::text)"
                    + " union all select request_id, decided_at from moderation_verdict"
                    + " where tenant_id = ? and attributes @> jsonb_build_object(?::text, ?::text))"
                    + " found group by request_id"
                    // A request erased before is left out when nothing of it is left to erase:
                    // its records of chain version 1 keep their content and their query rows,
                    // so it would be found, and erased again with new records, by every call.
                    + " having not exists (select 1 from request_erasure e"
                    + " where e.request_id = found.request_id"
                    // The tenant's erasure, or one of every tenant: another tenant's (a note per
                    // tenant scope, V39) left out what this tenant had not erased yet.
                    + " and (e.tenant_id is null or e.tenant_id = ?))"
                    + " or exists (select 1 from audit_log a where a.request_id = found.request_id"
                    + " and a.payload is not null and a.chain_version >= 2"
                    // The tenant's: another tenant's records under the id are not its to erase.
                    + " and a.tenant_id = ? and a.event_type = any(?))"
                    + " or exists (select 1 from dead_letter d join audit_log a"
                    + " on a.event_id = d.event_id where d.source_key = found.request_id"
                    + " and a.payload is not null and a.chain_version >= 2)"
                    + " order by min(at), request_id limit ?")) {
      for (int i = 0; i < 3; i++) {
        query.setString(3 * i + 1, tenant);
        query.setString(3 * i + 2, attributeKey);
        query.setString(3 * i + 3, attributeValue);
      }
      query.setString(10, tenant);
      query.setString(11, tenant);
      query.setArray(12, connection.createArrayOf("text", PIPELINE_EVENTS.toArray()));
      query.setInt(13, MAX_SUBJECT_REQUESTS + 1);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          requestIds.add(rs.getString(1));
        }
      }
    }
    boolean more = requestIds.size() > MAX_SUBJECT_REQUESTS;
    List<Erased> erased = new ArrayList<>();
    for (String requestId :
        requestIds.subList(0, Math.min(requestIds.size(), MAX_SUBJECT_REQUESTS))) {
      // The subject's tenant's records and release only: another tenant may use the request id.
      erased.add(erase(requestId, reason, caller, false, tenant));
    }
    return new SubjectErased(
        tenant,
        attributeKey,
        attributeValue,
        erased.stream().mapToLong(Erased::tombstoned).sum(),
        List.copyOf(erased),
        more,
        at.plus(FOLLOW));
  }

  /**
   * The requests a subject erasure within {@link #FOLLOW} would have erased had the audit store
   * read them before the call: records with content appended since the call (after the chain's head
   * at the call, and after the head this follow-up checked last), of the call's tenant, whose
   * attribute matches, of a request submitted before the call (as its request record says; without
   * one, the earlier of its {@code request.submit} action and its output's time). Each call's rows
   * are read once: the follow-up notes the head it checked ({@code checked_seq}) once the requests
   * it found are erased, so a minute's follow-up reads only the records appended since the last.
   * Oldest call first; each request once, with the first call that finds it.
   */
  private List<SubjectFollowUp> subjectsToFollowUp(Connection connection, Instant since, long head)
      throws SQLException {
    List<SubjectFollowUp> found = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select distinct on (a.request_id) a.request_id, s.erasure_id, s.erased_at, s.reason,"
                + " s.tenant_id"
                + " from subject_erasure s join audit_log a on a.seq > s.checked_seq"
                + " and a.seq <= ? and a.tenant_id = s.tenant_id and a.payload is not null"
                + " where s.erased_at >= ? and s.checked_seq < ? and a.chain_version >= 2"
                + " and a.request_id is not null"
                + " and a.event_type in ('GenerationRequest', 'GenerationOutput',"
                + " 'ModerationVerdict')"
                + " and encode(sha256(convert_to(a.payload::jsonb -> 'attributes' ->>"
                + " s.attr_key, 'UTF8')), 'hex') = s.value_sha256"
                + " and coalesce((select r.submitted_at from generation_request r"
                + " where r.request_id = a.request_id), least((select min(x.acted_at)"
                + " from api_action x where x.request_id = a.request_id"
                + " and x.action = 'request.submit'), (select min(o.generated_at)"
                + " from generation_output o where o.request_id = a.request_id)))"
                + " < s.erased_at"
                + " order by a.request_id, s.erased_at, s.erasure_id")) {
      query.setLong(1, head);
      query.setObject(2, utc(since));
      query.setLong(3, head);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          found.add(
              new SubjectFollowUp(
                  rs.getString(1),
                  rs.getLong(2),
                  rs.getObject(3, OffsetDateTime.class).toInstant(),
                  rs.getString(4),
                  rs.getString(5)));
        }
      }
    }
    found.sort(
        java.util.Comparator.comparing(SubjectFollowUp::erasedAt)
            .thenComparing(SubjectFollowUp::requestId));
    return found;
  }

  private static String cut(String reason) {
    return reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON);
  }

  /** A request a subject erasure's follow-up erases, and the call it follows up. */
  private record SubjectFollowUp(
      String requestId, long erasureId, Instant erasedAt, String reason, String tenantId) {}

  private static String sha256(String text) {
    try {
      return java.util.HexFormat.of()
          .formatHex(
              java.security.MessageDigest.getInstance("SHA-256")
                  .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String attribute(String what, String text) {
    if (text == null || text.isBlank()) {
      throw new InvalidInputException(what + " is required");
    }
    return InvalidInputException.oneLine(what, text, MAX_ATTRIBUTE_CHARS);
  }

  /**
   * An attribute value as the submit API takes it (RequestSubmitter): any text of at most {@value
   * #MAX_ATTRIBUTE_CHARS} characters without C0 control characters or DEL, the empty or blank one
   * included, so that every value a request was submitted with can be erased by it.
   */
  private static String attributeValue(String value) {
    if (value == null) {
      throw new InvalidInputException(
          "attribute value is required (\"\" for requests submitted with an empty one)");
    }
    if (value.length() > MAX_ATTRIBUTE_CHARS) {
      throw new InvalidInputException(
          "attribute value has "
              + value.length()
              + " characters; the limit is "
              + MAX_ATTRIBUTE_CHARS);
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new InvalidInputException(
            "attribute value contains a control character (code "
                + (int) c
                + "); the submit API refuses those, so no request holds one");
      }
    }
    return value;
  }

  /** The tenant of the request's records, if the caller may see them; else not found. */
  private static String visibleTenant(Connection connection, String requestId, Caller caller)
      throws SQLException {
    return RequestOwner.visibleTenant(connection, requestId, caller.tenantId());
  }

  private static String reason(String reason) {
    String trimmed = reason == null ? "" : reason.strip();
    if (trimmed.isEmpty()) {
      throw new InvalidInputException(
          "reason is required: why the content is erased (e.g. \"data subject request 2026-118\");"
              + " it stays in the chain, so name a case, not the person");
    }
    return InvalidInputException.oneLine("reason", trimmed, MAX_REASON);
  }

  private static void checkTenant(String tenant, Caller caller) {
    if (!TenantIds.isValid(tenant)) {
      throw new InvalidInputException(
          "tenant '" + tenant + "' is not valid: use " + TenantIds.RULE);
    }
    if (!caller.canSee(tenant)) {
      throw new ForbiddenException(
          "This token is for tenant '"
              + caller.tenantId()
              + "' and may not change the retention of tenant '"
              + tenant
              + "'");
    }
  }

  private static OffsetDateTime utc(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
