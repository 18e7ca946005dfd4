package io.genguard.audit.explain;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.query.JsonRows;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Explanations that leave the audit service only through the hash chain: each one is recorded as a
 * {@value #ACTION} action holding everything its caller is shown (which words, for which verdict,
 * to whom, when) before it is returned, and retention removes it with the rest of the tenant's
 * content. A verdict explained once (by a reviewer or in the background) is shown again as it was
 * recorded, with an {@code explainedBefore} field naming that record, rather than computed again.
 * One is computed at a time (each costs up to 64 scorings); the reviewers' route and the background
 * explainer of held verdicts ({@code GENGUARD_AUDIT_EXPLAIN_HELD_SECONDS}) take turns.
 */
public final class RecordedExplanations {
  public static final String ACTION = "requests.explain";

  /** The caller the background explainer records its explanations as. */
  public static final Caller BACKGROUND = Caller.system("explain-held");

  private static final Logger LOG = LoggerFactory.getLogger(RecordedExplanations.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  private final DataSource dataSource;
  private final AuditQueries queries;
  private final VerdictExplanations explanations;
  private final Clock clock;
  private final Semaphore explaining = new Semaphore(1);
  // Background rounds only (explainHeld); in memory, so a restart searches the whole chain once.
  private long handledUpTo;

  public RecordedExplanations(
      DataSource dataSource, AuditQueries queries, VerdictExplanations explanations, Clock clock) {
    this.dataSource = dataSource;
    this.queries = queries;
    this.explanations = explanations;
    this.clock = clock;
  }

  /**
   * Explains the newest verdict of one tenant's request ({@code tenant}; null: the caller's own, or
   * for a caller of every tenant the only tenant with verdicts under the request id).
   *
   * @throws io.genguard.audit.ConflictException when the caller and {@code tenant} name no tenant
   *     and several tenants have verdicts under the request id (naming them)
   */
  public Map<String, Object> explain(String requestId, String tenant, Caller caller)
      throws SQLException {
    return explain(
        requestId, caller, queries.recordedVerdictOfOne(requestId, caller.scope(tenant)));
  }

  /**
   * Explains the verdict found to {@code caller} and records what it is shown.
   *
   * @return the body shown; null, with nothing recorded, while another explanation is computed
   * @throws NotFoundException if nothing was found (no verdict the caller may see)
   */
  private Map<String, Object> explain(
      String requestId, Caller caller, Optional<AuditQueries.RecordedVerdict> found)
      throws SQLException {
    AuditQueries.RecordedVerdict recorded =
        found.orElseThrow(
            () ->
                new NotFoundException(
                    "No verdict for a request with id '"
                        + requestId
                        + "' that this token may see (it may still be on its way: retry in a"
                        + " moment)"));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("requestId", requestId);
    VerdictExplanations.Explanation explanation;
    // The verdict's tenant; the caller's own when retention removed the verdict.
    String tenantId = caller.tenantId();
    ModerationVerdict verdict =
        recorded.verdict() == null
            ? null
            : CanonicalJson.toRecord(recorded.verdict(), ModerationVerdict.class);
    if (verdict != null) {
      tenantId = verdict.getTenantId();
      body.put("verdictId", verdict.getVerdictId());
      body.put("decision", verdict.getDecision().name());
    }
    if (verdict == null || recorded.output() == null) {
      // Recorded against the verdict when it is still there, so the background does not ask again.
      explanation =
          VerdictExplanations.Explanation.notExplained(
              "the "
                  + (verdict == null ? "verdict" : "output")
                  + " is no longer in the audit store (removed by retention)");
    } else {
      ObjectNode earlier = earlierExplanation(verdict.getVerdictId());
      if (earlier != null) {
        // Explained before (by a reviewer or in the background): shown again as recorded, with
        // where it was recorded, instead of 64 more scorings.
        Map<String, Object> shown = JSON.convertValue(earlier.remove("details"), MAP);
        shown.put("explainedBefore", JSON.convertValue(earlier, MAP));
        return recordIfStillThere(caller, tenantId, requestId, verdict, shown);
      }
      if (!explaining.tryAcquire()) {
        return null;
      }
      try {
        explanation =
            explanations.explain(
                verdict, CanonicalJson.toRecord(recorded.output(), GenerationOutput.class));
      } finally {
        explaining.release();
      }
    }
    body.put("status", explanation.status().name());
    body.put("detail", explanation.detail());
    body.put("reasons", explanation.reasons());
    if (verdict == null || recorded.output() == null) {
      record(caller, tenantId, requestId, (String) body.get("verdictId"), body);
      return body;
    }
    return recordIfStillThere(caller, tenantId, requestId, verdict, body);
  }

  /**
   * Records an explanation drawn from the request's content, unless that content was erased (or
   * removed by retention) since it was read: the check and the record are made under the chain
   * lock, which an erasure holds while it removes the content, so an explanation is either recorded
   * before the erasure (which then removes it with the rest) or, after it, as not explained, with
   * none of the erased text's words.
   *
   * @return the body recorded and shown
   */
  private Map<String, Object> recordIfStillThere(
      Caller caller,
      String tenantId,
      String requestId,
      ModerationVerdict verdict,
      Map<String, Object> body)
      throws SQLException {
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          ChainAppender.lock(connection);
          Map<String, Object> shown = body;
          if (!contentStillThere(connection, verdict)) {
            shown = new LinkedHashMap<>();
            shown.put("requestId", requestId);
            shown.put("verdictId", verdict.getVerdictId());
            shown.put("decision", verdict.getDecision().name());
            shown.put("status", VerdictExplanations.Status.NOT_EXPLAINED.name());
            shown.put(
                "detail",
                "the request's content was erased (or removed by retention) while it was"
                    + " explained");
            shown.put("reasons", List.of());
          }
          ActionLog.Action action =
              ActionLog.Action.of(ACTION, tenantId, requestId, verdict.getVerdictId());
          action.details().setAll((ObjectNode) JSON.valueToTree(shown));
          ActionLog.record(connection, caller, action, clock.instant());
          return shown;
        });
  }

  /** Whether the verdict's record and the output it judged still hold their content. */
  private static boolean contentStillThere(Connection connection, ModerationVerdict verdict)
      throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "select 1 from moderation_verdict mv join audit_log v on v.event_id = mv.event_id"
                + " join generation_output go on go.output_id = mv.output_id"
                + " and go.tenant_id = mv.tenant_id"
                + " join audit_log o on o.event_id = go.event_id"
                + " where mv.verdict_id = ? and mv.tenant_id = ?"
                + " and v.payload is not null and o.payload is not null")) {
      query.setString(1, verdict.getVerdictId());
      query.setString(2, verdict.getTenantId());
      try (ResultSet rs = query.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Most recorded verdicts one what-if judges: about 10 s of the built-in models here. */
  public static final int MAX_WHAT_IF = 500;

  /** The action a what-if is recorded as. */
  public static final String WHAT_IF_ACTION = "policies.what-if";

  /**
   * Judges the recorded verdicts {@code selection} picks ({@link RecordedVerdicts.Selection}) under
   * the candidate policy {@code yaml} ({@link PolicyWhatIf}) with the explanations' models, and
   * records who tried which file on which verdicts and what it found as a {@value #WHAT_IF_ACTION}
   * action. Nothing else is written.
   *
   * @return the body shown; null, with nothing recorded, while an explanation or another what-if is
   *     computed
   * @throws io.genguard.audit.InvalidInputException for a file that is not a valid policy (line and
   *     reason) or a limit out of range
   */
  public Map<String, Object> whatIf(
      String yaml, RecordedVerdicts.Selection selection, Caller caller) throws SQLException {
    if (!selection.requests().isEmpty()
        || selection.limit() < 1
        || selection.limit() > MAX_WHAT_IF) {
      throw new io.genguard.audit.InvalidInputException(
          "limit must be from 1 to " + MAX_WHAT_IF + ", was " + selection.limit());
    }
    io.genguard.moderation.policy.PolicySet candidate;
    try {
      candidate = io.genguard.moderation.policy.PolicyLoader.parse(yaml, "the candidate policy");
    } catch (io.genguard.moderation.policy.InvalidPolicyException e) {
      throw new io.genguard.audit.InvalidInputException("Not a valid policy: " + e.getMessage());
    }
    List<RecordedVerdicts.Row> rows = RecordedVerdicts.load(dataSource, selection);
    if (!explaining.tryAcquire()) {
      return null;
    }
    List<PolicyWhatIf.Judged> judged;
    try {
      judged =
          explanations.whatIf(candidate, rows.stream().map(RecordedVerdicts.Row::decoded).toList());
    } finally {
      explaining.release();
    }
    PolicyWhatIf.Summary summary = PolicyWhatIf.Summary.of(judged);
    Map<String, Object> policy = new LinkedHashMap<>();
    policy.put("policyId", candidate.policyId());
    policy.put("version", candidate.version());
    policy.put("sha256", candidate.sha256());
    Map<String, Object> body = summary.toMap(policy);
    body.put("selection", selection.toMap());
    ActionLog.Action action = ActionLog.Action.of(WHAT_IF_ACTION, null, null, candidate.sha256());
    action.details().setAll((ObjectNode) JSON.valueToTree(body));
    Transactions.inTransaction(
        dataSource, connection -> ActionLog.record(connection, caller, action, clock.instant()));
    body.put(
        "items",
        judged.stream()
            .filter(one -> one.outcome() != PolicyWhatIf.Outcome.SAME)
            .map(PolicyWhatIf.Judged::toMap)
            .toList());
    return body;
  }

  private void record(
      Caller caller, String tenantId, String requestId, String verdictId, Map<String, Object> body)
      throws SQLException {
    ActionLog.Action action = ActionLog.Action.of(ACTION, tenantId, requestId, verdictId);
    action.details().setAll((ObjectNode) JSON.valueToTree(body));
    Transactions.inTransaction(
        dataSource, connection -> ActionLog.record(connection, caller, action, clock.instant()));
  }

  /**
   * The newest explanation recorded for the verdict that explains it (EXPLAINED): its action id,
   * who asked, when, and the details shown then; null if none. An explanation shown again is not
   * one: it is the first it repeats that counts.
   */
  private ObjectNode earlierExplanation(String verdictId) throws SQLException {
    String sql =
        "select action_id, caller_name, acted_at, details from api_action"
            + " where action = '"
            + ACTION
            + "' and target = ? and details->>'status' = 'EXPLAINED'"
            + " and details->'explainedBefore' is null"
            + " order by acted_at desc, action_id desc limit 1";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, verdictId);
      try (ResultSet rs = statement.executeQuery()) {
        return rs.next() ? JsonRows.row(rs) : null;
      }
    }
  }

  /**
   * One round of the background explainer: explains and records up to {@code max} held verdicts
   * (REVIEW or BLOCK, the newest of their request) that have no recorded explanation yet, in the
   * order the audit chain recorded them, searching only the records appended since the verdicts it
   * handled last ({@link HeldVerdictSearch}; after a start, the first round searches the whole
   * chain). It stops early when a reviewer's explanation is being computed, and the next round
   * starts with the verdict it did not reach. An explanation that fails is recorded as not
   * explained, with the error, so it is not tried again every round.
   *
   * @param running checked before each verdict; false stops the round
   * @return how many it explained and recorded
   */
  public synchronized int explainHeld(int max, BooleanSupplier running) throws SQLException {
    HeldVerdictSearch.Found found = HeldVerdictSearch.after(dataSource, handledUpTo, max);
    int done = 0;
    for (HeldVerdictSearch.Candidate candidate : found.candidates()) {
      if (!running.getAsBoolean()) {
        return done;
      }
      try {
        // The newest verdict of the candidate's tenant under the id: before the fifty-first
        // session the newest of any tenant's, so another tenant's verdict was explained instead.
        if (explain(
                candidate.requestId(),
                BACKGROUND,
                queries.recordedVerdict(candidate.requestId(), candidate.tenantId()))
            == null) {
          return done; // a reviewer's explanation is running; the rest wait for the next round
        }
      } catch (RuntimeException e) {
        LOG.warn(
            "Explaining the held verdict of {} failed: {}", candidate.requestId(), e.toString());
        recordFailure(candidate.requestId(), candidate.tenantId(), e);
      }
      handledUpTo = candidate.seq();
      done++;
    }
    if (found.candidates().size() < max) {
      handledUpTo = Math.max(handledUpTo, found.head()); // nothing else held up to the head
    }
    return done;
  }

  /**
   * The audit chain seq up to which the background explainer has handled every held verdict (0
   * before its first round).
   */
  public synchronized long handledUpTo() {
    return handledUpTo;
  }

  /**
   * Records that explaining the held verdict of {@code tenantId} under {@code requestId} failed.
   * Two tenants may use one request id: before the fiftieth session the failure was recorded
   * against the newest verdict of any tenant under the id.
   */
  private void recordFailure(String requestId, String tenantId, RuntimeException error)
      throws SQLException {
    AuditQueries.RecordedVerdict recorded =
        queries.recordedVerdict(requestId, tenantId).orElse(null);
    if (recorded == null || recorded.verdict() == null) {
      return;
    }
    ModerationVerdict verdict = CanonicalJson.toRecord(recorded.verdict(), ModerationVerdict.class);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("requestId", requestId);
    body.put("verdictId", verdict.getVerdictId());
    body.put("decision", verdict.getDecision().name());
    body.put("status", VerdictExplanations.Status.NOT_EXPLAINED.name());
    body.put("detail", "explaining failed: " + error);
    body.put("reasons", List.of());
    record(BACKGROUND, verdict.getTenantId(), requestId, verdict.getVerdictId(), body);
  }
}
