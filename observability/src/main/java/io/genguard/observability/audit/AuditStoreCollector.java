package io.genguard.observability.audit;

import io.genguard.events.v1.BiasAlert;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReviewAction;
import io.genguard.observability.registry.RowGauges;
import io.genguard.schemas.LogText;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metrics that are best computed from the audit store, collected periodically with parameterised
 * SQL over audit-service's public tables: decisions by category, policy version and reason; gate
 * outcomes; dead letters by source topic; review decisions; generation failures; outputs and tokens
 * by model and device; the review queue's depth and oldest item; the end-to-end latency from an
 * output's {@code generatedAt} to its gate decision; and the latest live bias window.
 *
 * <p>Counters are running totals kept in the audit database ({@code metric_counter}, migration
 * V26), the only tables the collector writes. Each round adds what the audit log gained since
 * {@code metric_counter_cursor.seq}, at most {@link #MAX_RANGE} records, in the transaction that
 * moves the cursor, then exports the stored totals. The writer assigns {@code seq} under an
 * advisory lock and commits before the next writer takes it, so rows become visible in {@code seq}
 * order and the cursor never skips one; the cursor row's lock makes collectors of several replicas
 * take turns, each range counted once, every replica exporting the same totals. Invariants, which
 * the alerts' {@code increase()} relies on:
 *
 * <ul>
 *   <li>A total never goes down: not across a restart (nothing is recounted; the first round of a
 *       process exports the stored totals, and nothing is exported before it), and not after an
 *       erasure or a retention run, which empty payloads and delete projection rows of records
 *       already counted. A record erased before any round counted it is not counted.
 *   <li>A series is seen at 0 before its first count: the label sets known up front (every gate
 *       outcome, basis and decision; each input topic with a dead-letter topic and each stage; each
 *       Kafka event type; each review action; each decision of a policy version seen; the live bias
 *       alerts) are stored at 0 when first met, and a label set met for the first time in a round's
 *       records is stored at 0 and gets that round's count in the next round (column {@code
 *       pending}), one collection interval later. Keep the interval no shorter than Prometheus's
 *       scrape interval.
 * </ul>
 *
 * <p>Label values come from what events say, so they are bounded before they become a series
 * ({@link LabelValues}; past {@link #MAX_SERIES_PER_COUNTER} label sets a counter's new ones fold
 * into {@code other}), and a label set the store still refuses is left out of its round ({@link
 * #COLLECTOR_SERIES_SKIPPED}): what one event says never stops the rounds.
 *
 * <p>The very first round of a database counts the log's whole history at once (straight into the
 * totals, not as news); records whose payload was already erased count only in {@link #EVENTS}.
 *
 * <p>End-to-end latency is measured from the audit store rather than in the gate: both timestamps
 * are already persisted ({@code generation_output.generated_at}, written by the generator, and
 * {@code gate_outcome.decided_at}, written by the gate), it needs no change to either service, and
 * it works the same in the embedded stack and on real infrastructure. It mixes two hosts' clocks
 * (keep them NTP-synchronised) and is recorded, by the collector that counted the outcome, for
 * outcomes counted after the history; label {@code basis} tells the gate's decisions on a verdict
 * from those that waited for a person's review or for the verdict timeout.
 */
public final class AuditStoreCollector implements AutoCloseable {
  /** Audit log records by event type. */
  public static final String EVENTS = "genguard.audit.events";

  /** Moderation verdicts by decision and policy version: one per verdict. */
  public static final String VERDICTS = "genguard.audit.verdicts";

  /**
   * Moderation verdicts by decision, category and policy version: a REVIEW or BLOCK verdict counts
   * once for each distinct category among the reasons that called for it (so a verdict may count
   * under several categories); RELEASE verdicts, and verdicts with no such category, under {@code
   * none}.
   */
  public static final String VERDICT_CATEGORIES = "genguard.audit.verdict.categories";

  /** Reasons of verdicts that called for the verdict's decision, by decision and reason code. */
  public static final String VERDICT_REASONS = "genguard.audit.verdict.reasons";

  /** Release-gate outcomes by outcome, basis and decision. */
  public static final String GATE_OUTCOMES = "genguard.audit.gate.outcomes";

  /** Dead letters by source topic and stage. */
  public static final String DEAD_LETTERS = "genguard.audit.dead.letters";

  /** Review decisions by action. */
  public static final String REVIEW_DECISIONS = "genguard.audit.review.decisions";

  /** Generation failures by code. */
  public static final String GENERATION_FAILURES = "genguard.audit.generation.failures";

  /** Generation outputs by model and device. */
  public static final String OUTPUTS = "genguard.audit.outputs";

  /** Generated tokens by model and device. */
  public static final String OUTPUT_TOKENS = "genguard.audit.output.tokens";

  /**
   * Requests held for review with no final outcome yet: the review queue's PENDING and DECIDED
   * items.
   */
  public static final String REVIEW_QUEUE_DEPTH = "genguard.audit.review.queue.depth";

  /** Age of the oldest of those items since the gate first held it, seconds (0 when none waits). */
  public static final String REVIEW_QUEUE_OLDEST_AGE = "genguard.audit.review.queue.oldest.age";

  /**
   * Review decisions, erasure notices and retractions committed in the audit store and not yet
   * acknowledged by Kafka (the audit service's outbox to the release gate and the publishers).
   */
  public static final String OUTBOX_UNPUBLISHED = "genguard.audit.outbox.unpublished";

  /**
   * Age of the oldest outbox row not yet published, seconds (0 when none waits): a review or an
   * erasure the release gate has not been told of, or a takedown the publishers have not.
   */
  public static final String OUTBOX_OLDEST_AGE = "genguard.audit.outbox.oldest.age";

  /**
   * Generation requests with neither an output nor a failure past the audit service's answer
   * deadline ({@code unfinished_flow} rows of kind NO_ANSWER still open: the audit service's
   * UnfinishedFlows, durable across restarts).
   */
  public static final String REQUESTS_UNANSWERED = "genguard.audit.requests.unanswered";

  /** How long the oldest unanswered request has waited since it was recorded, seconds (0: none). */
  public static final String REQUESTS_UNANSWERED_OLDEST_AGE =
      "genguard.audit.requests.unanswered.oldest.age";

  /**
   * Generation outputs with no release-gate outcome past the audit service's gate deadline (open
   * {@code unfinished_flow} rows of kind NO_GATE_OUTCOME).
   */
  public static final String OUTPUTS_WITHOUT_OUTCOME = "genguard.audit.outputs.without.outcome";

  /** How long the oldest output without a gate outcome has waited, seconds (0 when none). */
  public static final String OUTPUTS_WITHOUT_OUTCOME_OLDEST_AGE =
      "genguard.audit.outputs.without.outcome.oldest.age";

  /**
   * Per kind of unfinished flow, the age of the oldest record the audit service has not checked
   * yet: about the kind's deadline while the watch keeps up, growing while it does not run.
   */
  public static final String UNFINISHED_UNCHECKED_AGE = "genguard.audit.unfinished.unchecked.age";

  /**
   * Per kind, open unfinished flows whose record an admin has sent again (POST
   * /api/v1/audit/unfinished/{requestId}/resend or the bulk resend), still without their answer.
   */
  public static final String UNFINISHED_RESENT_OPEN = "genguard.audit.unfinished.resent.open";

  /**
   * Per kind, how long ago the flow sent again longest ago, and still open, was last sent, seconds
   * (0 when none): past the deadline the resend did not help (a gate that had decided the output
   * ignores the copy; the stage is still down), and the flow needs a person.
   */
  public static final String UNFINISHED_RESENT_AGE = "genguard.audit.unfinished.resent.oldest.age";

  /**
   * Kafka records the audit store never read because the broker deleted them first (the audit
   * service was down or behind longer than the topic's retention): the sum over its {@code
   * RecordsNeverAudited} chain records. It only grows; any rise is an audit hole.
   */
  public static final String NEVER_AUDITED = "genguard.audit.never.audited.records";

  /**
   * Policy files that decided verdicts (by the {@code policySha256} they carry) and are not in the
   * audit service's policy archive: their verdicts cannot be traced to their rules until someone
   * records the file.
   */
  public static final String POLICIES_UNARCHIVED = "genguard.audit.policies.unarchived";

  /**
   * Output generatedAt to gate decision, by outcome and basis: {@code basis="VERDICT"} is the
   * pipeline's own latency; REVIEW waited for a person, VERDICT_TIMEOUT for the verdict timeout.
   */
  public static final String END_TO_END_LATENCY = "genguard.end.to.end.latency";

  /** Latest live bias window: a group's rate of a metric (unsafe_rate, block_rate, review_rate). */
  public static final String BIAS_GROUP_RATE = "genguard.bias.group.rate";

  /**
   * Latest live bias window: group rate minus the pooled rate of the model's window, each verdict
   * once (the window's {@value #WHOLE_WINDOW} row).
   */
  public static final String BIAS_GROUP_DISPARITY = "genguard.bias.group.disparity";

  /** Latest live bias window: outputs mentioning the group. */
  public static final String BIAS_GROUP_OUTPUTS = "genguard.bias.group.outputs";

  /**
   * The bias job's group of a live window's every verdict, each counted once (its {@code
   * LiveGroupWindow.ALL}): the pool a group's disparity is measured against.
   */
  static final String WHOLE_WINDOW = "*";

  /** Seconds since the end of the latest live bias window, per model. */
  public static final String BIAS_WINDOW_AGE = "genguard.bias.window.age";

  /**
   * Live bias alerts the bias-aggregation job raised: its {@code bias.alerts} events in the audit
   * log (the same alerts as the rows of {@code bias_audit.live_alert}, which may live in another
   * database and which nothing guarantees only grows).
   */
  public static final String BIAS_LIVE_ALERTS = "genguard.bias.live.alerts";

  /**
   * Groups of the latest live bias windows left without gauges because the cap's ({@code
   * GENGUARD_METRICS_BIAS_MAX_PAIRS}, {@link #DEFAULT_MAX_BIAS_GROUPS} by default) (model, group)
   * pairs of those windows already have them (a pair missing from them gives its place up first):
   * each refused pair counts once per round (logged once).
   */
  public static final String BIAS_GROUPS_REFUSED = "genguard.bias.group.series.refused";

  /** Failed collection rounds. */
  public static final String COLLECTOR_ERRORS = "genguard.audit.collector.errors";

  /**
   * Label sets of a round that the audit store refused to store (a value PostgreSQL cannot keep in
   * {@code metric_counter}): left out, with a log line, so that the round and every later one still
   * count; their counts of that round are lost.
   */
  public static final String COLLECTOR_SERIES_SKIPPED = "genguard.audit.collector.series.skipped";

  /** When the last collection round succeeded, epoch seconds. */
  public static final String COLLECTOR_LAST_SUCCESS =
      "genguard.audit.collector.last.success.timestamp";

  /** Most audit records one round aggregates after the first. */
  static final long MAX_RANGE = 50_000;

  /**
   * Most label sets a counter gets from what events say ({@link LabelValues}): past it, a new label
   * set counts with its model, device, policy version, code, category and stage labels reading
   * {@value LabelValues#OTHER}, so a stream of distinct values cannot grow the series without end.
   */
  static final int MAX_SERIES_PER_COUNTER = 1_000;

  /**
   * A model whose latest live bias window ended longer ago than this is taken as retired: its bias
   * gauges read NaN (no value), so GenGuardBiasDisparity and GenGuardBiasWindowStale clear.
   */
  public static final Duration BIAS_WINDOW_MAX_AGE = Duration.ofHours(24);

  /**
   * The default of the most (model, group) pairs of the live bias windows with gauges ({@code
   * GENGUARD_METRICS_BIAS_MAX_PAIRS}, a setting since the forty-eighth session; each pair up to
   * seven series: three rates, three disparities, the outputs), the window's {@value
   * #WHOLE_WINDOW}, {@code none} and {@code unknown-group} rows among them: the bias job's default
   * bound of 16 models per live window ({@code BiasJobConfig.DEFAULT_LIVE_MAX_MODELS}) plus its
   * pooled {@code unknown-model}, each with the lexicon's 62 groups plus those three rows, 17 × 65
   * = 1,105 (a test in deploy-tests keeps it no less than the bias job's bound). With the cap full
   * a new pair takes the place of a pair missing from the latest windows or whose model is no
   * longer current (see {@link #BIAS_GROUP_KEPT_WINDOWS}), the one that stopped counting longest
   * ago first; one past the cap while every pair with gauges is current gets none ({@link
   * #BIAS_GROUPS_REFUSED}), new pairs ordered by their outputs.
   */
  public static final int DEFAULT_MAX_BIAS_GROUPS = (16 + 1) * (62 + 3);

  /**
   * A (model, group) pair missing from its model's latest live window (or whose model's window is
   * past {@link #BIAS_WINDOW_MAX_AGE}) reads NaN; after this many window lengths of its model's
   * last window, and at most {@link #BIAS_WINDOW_MAX_AGE} (the length comes from the rows a writer
   * of bias.metrics sent, unchecked; a window claiming no length counts as one of that longest
   * length, see {@link #currentSeconds}), it is removed: its gauges go, and so does a model's
   * window age once none of its groups is left. A model whose latest window ended more than this
   * many of its window lengths ago (a version retired by an upgrade) is no longer current: its
   * pairs keep their gauges and values (GenGuardBiasWindowStale) until the day is up, but give
   * their places up to the pairs of current windows when the cap is full, and take no place from
   * anyone.
   */
  static final int BIAS_GROUP_KEPT_WINDOWS = 3;

  /** The row of {@code metric_counter_cursor} this collector moves. */
  private static final String CURSOR = "audit-store";

  /**
   * Stages that write dead letters ({@code DeadLetter.stage}): the generator's main pool, the
   * moderation and bias jobs, the release gate and the audit ingestor. A pool's own stage name is
   * met in the records instead (stored at 0 first, then counted).
   */
  private static final List<String> DEAD_LETTER_STAGES =
      List.of("generator", "moderation", "gate", "bias-aggregation", "audit");

  /** How long a gate outcome waits for its output to be audited before its latency is dropped. */
  static final Duration PENDING_LIMIT = Duration.ofMinutes(10);

  private static final int MAX_PENDING = 10_000;
  private static final String NONE = "none";

  private static final Logger LOG = LoggerFactory.getLogger(AuditStoreCollector.class);

  private static final String MAX_SEQ = "select coalesce(max(seq), 0) from audit_log";
  private static final String EVENTS_SQL =
      "select event_type, count(*) from audit_log where seq > ? and seq <= ? group by event_type";
  // The verdicts as audited (canonical JSON), each payload parsed once (a materialized CTE; an
  // inlined subquery would parse it again for every reference): one row per (metric, labels).
  // VERDICT_CATEGORIES: a REVIEW or BLOCK verdict counts once for each distinct category among the
  // reasons that called for its decision; RELEASE verdicts, and verdicts with no such category
  // (e.g. provenance), count under 'none'. VERDICT_REASONS: reasons that called for the decision.
  private static final String VERDICTS_SQL =
      "with v as materialized (select payload::jsonb as p from audit_log"
          + "   where seq > ? and seq <= ? and event_type = 'ModerationVerdict'"
          + "   and payload is not null)"
          + " select 'verdicts', v.p->>'decision', v.p->>'policyVersion', null, count(*)"
          + " from v group by 2, 3"
          + " union all"
          + " select 'categories', v.p->>'decision', coalesce(c.category, 'none'),"
          + "   v.p->>'policyVersion', count(*)"
          + " from v left join lateral (select distinct r->>'category' as category"
          + "       from jsonb_array_elements(v.p->'reasons') r"
          + "       where r->>'decision' = v.p->>'decision' and r->>'category' is not null"
          + "       and v.p->>'decision' <> 'RELEASE') c on true"
          + " group by 2, 3, 4"
          + " union all"
          + " select 'reasons', v.p->>'decision', r->>'code', null, count(*)"
          + " from v cross join lateral jsonb_array_elements(v.p->'reasons') r"
          + " where r->>'decision' = v.p->>'decision'"
          + " group by 2, 3";
  private static final String GATE_OUTCOMES_SQL =
      "select g.outcome, g.basis, g.decision, count(*)"
          + " from audit_log a join gate_outcome g on g.event_id = a.event_id"
          + " where a.seq > ? and a.seq <= ? and a.event_type = 'ReleaseGateOutcome'"
          + " group by 1, 2, 3";
  // The outcome's own tenant's output: two tenants may use one request id, and their outputs then
  // share the output id (the generator derives it from the request id alone); by output id alone
  // (before the fiftieth session) one tenant's outcome was timed from the other's output.
  private static final String GATE_LATENCY_SQL =
      "select g.outcome, g.basis, g.output_id, g.decided_at, o.generated_at, g.tenant_id"
          + " from audit_log a join gate_outcome g on g.event_id = a.event_id"
          + " left join generation_output o on o.output_id = g.output_id"
          + " and o.tenant_id = g.tenant_id"
          + " where a.seq > ? and a.seq <= ? and a.event_type = 'ReleaseGateOutcome'";
  private static final String OUTPUT_TIMES_SQL =
      "select output_id, tenant_id, generated_at from generation_output"
          + " where output_id = any(?)";
  private static final String DEAD_LETTERS_SQL =
      "select d.source_topic, d.stage, count(*)"
          + " from audit_log a join dead_letter d on d.event_id = a.event_id"
          + " where a.seq > ? and a.seq <= ? and a.event_type = 'DeadLetter'"
          + " group by 1, 2";
  private static final String FAILURES_SQL =
      "select f.code, count(*)"
          + " from audit_log a join generation_failure f on f.event_id = a.event_id"
          + " where a.seq > ? and a.seq <= ? and a.event_type = 'GenerationFailure'"
          + " group by 1";
  private static final String REVIEW_DECISIONS_SQL =
      "select payload::jsonb->>'action', count(*) from audit_log"
          + " where seq > ? and seq <= ? and event_type = 'ReviewDecision' and payload is not null"
          + " group by 1";
  private static final String OUTPUTS_SQL =
      "with o as materialized (select payload::jsonb as p from audit_log"
          + "   where seq > ? and seq <= ? and event_type = 'GenerationOutput'"
          + "   and payload is not null)"
          + " select o.p->'model'->>'name', o.p->'cost'->>'device', count(*),"
          + " coalesce(sum((o.p->'cost'->>'outputTokens')::bigint), 0)"
          + " from o group by 1, 2";
  // What the audit service's review queue holds open: one item per request (however often the gate
  // held it: a VERDICT_TIMEOUT hold and the re-hold on a late verdict are one), since its first
  // hold (held_at), until a final outcome or a restatement of one closes it. PENDING items are the
  // audit API's awaiting_review; DECIDED ones, decided by a person and not yet released or
  // quarantined by the gate, are counted too: their output is still withheld. Index
  // review_item_state_idx.
  private static final String REVIEW_QUEUE_SQL =
      "select count(*), coalesce(extract(epoch from (now() - min(held_at))), 0)"
          + " from review_item where state in ('PENDING', 'DECIDED')";
  // The audit service's ReviewOutbox: rows the broker has not acknowledged yet.
  private static final String OUTBOX_SQL =
      "select count(*), coalesce(extract(epoch from (now() - min(created_at))), 0)"
          + " from review_outbox where published_at is null";
  // The audit service's UnreadRecords, through the partial index audit_log_never_audited_idx;
  // retention never removes these records.
  private static final String NEVER_AUDITED_SQL =
      "select coalesce(sum((payload::jsonb ->> 'records')::bigint), 0) from audit_log"
          + " where event_type = 'RecordsNeverAudited' and payload is not null";
  // The audit service's PolicyArchive.unarchived(): files in use with no policies.record action.
  private static final String POLICIES_UNARCHIVED_SQL =
      "select count(*) from policy_in_use u where not exists (select 1 from api_action a"
          + " where a.action = 'policies.record' and a.target = u.sha256)";
  // The audit service's UnfinishedFlows: open flows (partial index unfinished_flow_open_idx), and
  // per kind the first record after where its watch has checked to.
  // Read once the audit service's migrations have added the resends (V15).
  private static final String UNFINISHED_TABLE_SQL =
      "select exists (select 1 from information_schema.columns where table_schema ="
          + " current_schema() and table_name = 'unfinished_flow' and column_name = 'resent_at')";
  private static final String UNFINISHED_OPEN_SQL =
      "select kind, count(*), min(recorded_at), count(*) filter (where resent_count > 0),"
          + " min(resent_at) from unfinished_flow"
          + " where answered_seq is null and dismissed_at is null group by kind";
  private static final List<String> UNFINISHED_KINDS = List.of("NO_ANSWER", "NO_GATE_OUTCOME");
  private static final String UNFINISHED_WATCH_SQL =
      "select w.kind, (select a.recorded_at from audit_log a where a.seq > w.checked_seq"
          + " and a.event_type = case w.kind when 'NO_ANSWER' then 'GenerationRequest'"
          + " else 'GenerationOutput' end order by a.seq limit 1) from unfinished_flow_watch w";
  // The running totals (migration V26). The cursor row's lock serialises the rounds of replicas.
  private static final String CURSOR_LOCK_SQL =
      "select seq from metric_counter_cursor where collector = ? for update";
  private static final String CURSOR_CREATE_SQL =
      "insert into metric_counter_cursor (collector, seq, updated_at) values (?, -1, now())"
          + " on conflict (collector) do nothing";
  private static final String CURSOR_MOVE_SQL =
      "update metric_counter_cursor set seq = ?, updated_at = now() where collector = ?";
  // Label sets stored at 0 in an earlier round get their first count now.
  private static final String COUNTERS_BORN_SQL =
      "update metric_counter set value = value + pending, pending = 0 where pending <> 0";
  private static final String COUNTER_ADD_SQL =
      "insert into metric_counter (name, labels, value, pending) values (?, ?, ?, ?)"
          + " on conflict (name, labels) do update"
          + " set value = metric_counter.value + excluded.value + excluded.pending";
  private static final String COUNTER_KNOWN_SQL =
      "insert into metric_counter (name, labels, value) values (?, ?, 0)"
          + " on conflict (name, labels) do nothing";
  private static final String COUNTERS_SQL = "select name, labels, value from metric_counter";

  /**
   * Each group of each model's latest live window. A window is counted once even when it is stored
   * twice: the bias job's LIVE ids name the window end since the forty-second session, so a window
   * emitted before an upgrade and again after a restore from an older savepoint has two ids.
   */
  private static final String BIAS_SQL =
      "with latest as (select model, max(window_end) as window_end from bias_metric"
          + "   where scope = 'LIVE' group by model),"
          + " windows as (select distinct on (b.model, b.group_name, b.window_start, b.window_end)"
          + "   b.model, b.group_name, b.count, b.unsafe_count, b.block_count, b.review_count,"
          + "   b.window_end, b.window_start"
          + "   from bias_metric b join latest l on l.model = b.model and l.window_end = b.window_end"
          + "   where b.scope = 'LIVE'"
          + "   order by b.model, b.group_name, b.window_start, b.window_end, b.computed_at desc)"
          + " select model, group_name, sum(count), sum(unsafe_count), sum(block_count),"
          + "   sum(review_count), extract(epoch from (now() - window_end)),"
          + "   max(extract(epoch from (window_end - window_start)))"
          + " from windows group by model, group_name, window_end";

  private final DataSource dataSource;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Map<String, Map<Tags, AtomicLong>> counters = new ConcurrentHashMap<>();
  private final Map<Tags, Timer> latencies = new ConcurrentHashMap<>();
  private final List<PendingLatency> pending = new ArrayList<>();
  private final AtomicReference<Double> lastSuccess = new AtomicReference<>(0.0);
  private final AtomicLong policiesUnarchived = new AtomicLong();
  private final AtomicLong neverAudited = new AtomicLong();
  private final Waiting reviewQueue;
  private final Waiting outbox;
  private final Waiting requestsUnanswered;
  private final Waiting outputsWithoutOutcome;
  private final RowGauges uncheckedAges;
  private final RowGauges resentOpen;
  private final RowGauges resentAges;
  private final RowGauges biasRates;
  private final RowGauges biasDisparities;
  private final RowGauges biasOutputs;
  private final RowGauges biasWindowAges;
  private final Map<List<String>, KeptPair> biasGroupsKept = new HashMap<>();
  private final Counter biasGroupsRefused;
  private final int maxBiasGroups;
  private boolean biasCapLogged;
  private final Counter errors;
  private final Counter seriesSkipped;
  private final int maxSeries;
  private final ScheduledExecutorService scheduler;
  private boolean knownStored;

  AuditStoreCollector(DataSource dataSource, MeterRegistry registry, Clock clock) {
    this(dataSource, registry, clock, null, MAX_SERIES_PER_COUNTER, DEFAULT_MAX_BIAS_GROUPS);
  }

  /** With {@code maxSeries} label sets a counter gets from events before folding (tests). */
  AuditStoreCollector(DataSource dataSource, MeterRegistry registry, Clock clock, int maxSeries) {
    this(dataSource, registry, clock, null, maxSeries, DEFAULT_MAX_BIAS_GROUPS);
  }

  /** With at most {@code maxBiasGroups} (model, group) pairs with bias gauges (tests). */
  AuditStoreCollector(
      DataSource dataSource,
      MeterRegistry registry,
      Clock clock,
      int maxSeries,
      int maxBiasGroups) {
    this(dataSource, registry, clock, null, maxSeries, maxBiasGroups);
  }

  private AuditStoreCollector(
      DataSource dataSource,
      MeterRegistry registry,
      Clock clock,
      Duration interval,
      int maxSeries,
      int maxBiasGroups) {
    if (maxBiasGroups < 1) {
      throw new IllegalArgumentException(
          "the most (model, group) pairs with bias gauges must be at least 1, was "
              + maxBiasGroups);
    }
    this.dataSource = dataSource;
    this.maxSeries = maxSeries;
    this.maxBiasGroups = maxBiasGroups;
    this.registry = registry;
    this.clock = clock;
    reviewQueue =
        new Waiting(
            registry,
            REVIEW_QUEUE_DEPTH,
            "Requests held for review that have no final outcome yet (review items PENDING or"
                + " DECIDED)",
            REVIEW_QUEUE_OLDEST_AGE,
            "Age of the oldest of them since the gate first held it (0 when none waits)");
    outbox =
        new Waiting(
            registry,
            OUTBOX_UNPUBLISHED,
            "Review decisions, erasure notices and retractions not yet acknowledged by Kafka (the"
                + " outbox to the release gate and the publishers)",
            OUTBOX_OLDEST_AGE,
            "Age of the oldest review decision, erasure notice or retraction not yet sent"
                + " (0 when none waits)");
    requestsUnanswered =
        new Waiting(
            registry,
            REQUESTS_UNANSWERED,
            "Generation requests with neither an output nor a failure past the answer deadline",
            REQUESTS_UNANSWERED_OLDEST_AGE,
            "How long the oldest unanswered generation request has waited (0 when none)");
    outputsWithoutOutcome =
        new Waiting(
            registry,
            OUTPUTS_WITHOUT_OUTCOME,
            "Generation outputs with no release-gate outcome past the gate deadline",
            OUTPUTS_WITHOUT_OUTCOME_OLDEST_AGE,
            "How long the oldest output without a gate outcome has waited (0 when none)");
    uncheckedAges =
        new RowGauges(
            registry,
            UNFINISHED_UNCHECKED_AGE,
            "Age of the oldest record the unfinished-flow watch has not checked yet, per kind",
            "seconds");
    resentOpen =
        new RowGauges(
            registry,
            UNFINISHED_RESENT_OPEN,
            "Open unfinished flows whose record was sent again, per kind",
            null);
    resentAges =
        new RowGauges(
            registry,
            UNFINISHED_RESENT_AGE,
            "How long ago the open flow sent again longest ago was last sent, per kind (0: none)",
            "seconds");
    Gauge.builder(NEVER_AUDITED, neverAudited, AtomicLong::doubleValue)
        .description(
            "Kafka records the audit store never read because the broker deleted them first")
        .register(registry);
    Gauge.builder(POLICIES_UNARCHIVED, policiesUnarchived, AtomicLong::doubleValue)
        .description(
            "Policy files that decided verdicts and are not in the audit service's policy archive")
        .register(registry);
    Gauge.builder(COLLECTOR_LAST_SUCCESS, lastSuccess, AtomicReference::get)
        .description("When the audit-store collector last completed a round (Unix time)")
        .baseUnit("seconds")
        .register(registry);
    biasRates =
        new RowGauges(
            registry,
            BIAS_GROUP_RATE,
            "Latest live bias window: share of a group's outputs with the metric's property",
            null);
    biasDisparities =
        new RowGauges(
            registry,
            BIAS_GROUP_DISPARITY,
            "Latest live bias window: group rate minus the rate of the model's whole window",
            null);
    biasOutputs =
        new RowGauges(
            registry,
            BIAS_GROUP_OUTPUTS,
            "Latest live bias window: outputs that mention the group",
            null);
    biasWindowAges =
        new RowGauges(
            registry,
            BIAS_WINDOW_AGE,
            "Seconds since the end of the latest live bias window of the model",
            "seconds");
    biasGroupsRefused =
        Counter.builder(BIAS_GROUPS_REFUSED)
            .description(
                "Groups of the latest live bias windows left without gauges because "
                    + maxBiasGroups
                    + " (model, group) pairs of those windows have them, each once a round")
            .register(registry);
    errors =
        Counter.builder(COLLECTOR_ERRORS)
            .description("Failed audit-store collection rounds")
            .register(registry);
    seriesSkipped =
        Counter.builder(COLLECTOR_SERIES_SKIPPED)
            .description(
                "Label sets the audit store refused to store; left out of their round's counts")
            .register(registry);
    if (interval == null) {
      scheduler = null;
    } else {
      scheduler =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "genguard-audit-collector");
                thread.setDaemon(true);
                return thread;
              });
      scheduler.scheduleWithFixedDelay(
          this::collectQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Starts collecting every {@code interval} on a daemon thread.
   *
   * @param dataSource the audit database (the collector reads it and keeps its running totals in
   *     {@code metric_counter} and {@code metric_counter_cursor})
   * @param maxBiasGroups most (model, group) pairs of the live bias windows with gauges ({@code
   *     GENGUARD_METRICS_BIAS_MAX_PAIRS}, {@link #DEFAULT_MAX_BIAS_GROUPS} by default)
   */
  public static AuditStoreCollector start(
      DataSource dataSource,
      MeterRegistry registry,
      Duration interval,
      Clock clock,
      int maxBiasGroups) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive, was " + interval);
    }
    return new AuditStoreCollector(
        dataSource, registry, clock, interval, MAX_SERIES_PER_COUNTER, maxBiasGroups);
  }

  private void collectQuietly() {
    try {
      collect();
    } catch (SQLException | RuntimeException e) {
      errors.increment();
      LOG.warn("Audit-store metrics collection failed (will retry): {}", e.toString());
    }
  }

  /** One collection round. */
  synchronized void collect() throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      count(connection);
      long[] queue = countAndAge(connection, REVIEW_QUEUE_SQL);
      long[] unsent = countAndAge(connection, OUTBOX_SQL);
      long unarchived = single(connection, POLICIES_UNARCHIVED_SQL);
      long never = single(connection, NEVER_AUDITED_SQL);
      Unfinished unfinished =
          bool(connection, UNFINISHED_TABLE_SQL) ? unfinished(connection) : new Unfinished();
      List<BiasRow> bias = bias(connection);

      // Everything read: apply.
      reviewQueue.set(queue[0], queue[1] / 1000.0);
      outbox.set(unsent[0], unsent[1] / 1000.0);
      policiesUnarchived.set(unarchived);
      neverAudited.set(never);
      Instant now = clock.instant();
      requestsUnanswered.set(unfinished.count("NO_ANSWER"), unfinished.oldestAge("NO_ANSWER", now));
      outputsWithoutOutcome.set(
          unfinished.count("NO_GATE_OUTCOME"), unfinished.oldestAge("NO_GATE_OUTCOME", now));
      Map<Tags, Double> unchecked = new HashMap<>();
      unfinished.unchecked.forEach(
          (kind, oldest) ->
              unchecked.put(Tags.of("kind", kind), oldest == null ? 0.0 : age(oldest, now)));
      uncheckedAges.set(unchecked);
      Map<Tags, Double> resent = new HashMap<>();
      Map<Tags, Double> resentAge = new HashMap<>();
      for (String kind : UNFINISHED_KINDS) {
        Instant since = unfinished.lastResent.get(kind);
        resent.put(Tags.of("kind", kind), (double) unfinished.resent.getOrDefault(kind, 0L));
        resentAge.put(Tags.of("kind", kind), since == null ? 0.0 : age(since, now));
      }
      resentOpen.set(resent);
      resentAges.set(resentAge);
      publishBias(bias);
      lastSuccess.set(clock.millis() / 1000.0);
    }
  }

  /**
   * Counts the audit log's new records into the stored totals (one transaction, under the cursor
   * row's lock), then exports the totals and records the resolved latencies. A round that fails
   * before its commit changes nothing, here or there, and is simply repeated.
   */
  private void count(Connection connection) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    Counted counted;
    List<String> skipped = List.of();
    try {
      long countedTo = lockCursor(connection);
      boolean history = countedTo < 0;
      long max = single(connection, MAX_SEQ);
      long from = history ? 0 : countedTo;
      long to = history ? max : Math.min(max, countedTo + MAX_RANGE);
      if (!knownStored) {
        storeKnown(connection, KNOWN_SERIES);
      }
      execute(connection, COUNTERS_BORN_SQL);
      Deltas deltas = new Deltas();
      List<PendingLatency> fresh = new ArrayList<>();
      if (to > from) {
        aggregate(connection, EVENTS_SQL, from, to, deltas.of(EVENTS), "event_type");
        verdicts(connection, from, to, deltas);
        aggregate(
            connection,
            GATE_OUTCOMES_SQL,
            from,
            to,
            deltas.of(GATE_OUTCOMES),
            "outcome",
            "basis",
            "decision");
        aggregate(
            connection,
            DEAD_LETTERS_SQL,
            from,
            to,
            deltas.of(DEAD_LETTERS),
            "source_topic",
            "stage");
        aggregate(connection, FAILURES_SQL, from, to, deltas.of(GENERATION_FAILURES), "code");
        aggregate(
            connection, REVIEW_DECISIONS_SQL, from, to, deltas.of(REVIEW_DECISIONS), "action");
        outputs(connection, from, to, deltas);
        Long alerts = deltas.of(EVENTS).get(Tags.of("event_type", BIAS_ALERT_EVENT));
        if (alerts != null) {
          deltas.of(BIAS_LIVE_ALERTS).put(Tags.empty(), alerts);
        }
        if (!history) {
          fresh = gateLatencies(connection, from, to);
        }
        int folded = deltas.cap(totals(connection), maxSeries);
        if (folded > 0) {
          LOG.warn(
              "Audit-store metrics: {} new label set(s) counted with their free-form labels as"
                  + " '{}': their counter has {} label sets already (a source of ever-new model,"
                  + " device, policy version, code or stage names?)",
              folded,
              LabelValues.OTHER,
              maxSeries);
        }
        // History is not news: straight into the totals. New label sets wait a round at 0.
        skipped = deltas.store(connection, history);
      }
      if (history || to > from) {
        move(connection, to);
      }
      List<Duration> resolvedLatencies = new ArrayList<>();
      List<Tags> resolvedTags = new ArrayList<>();
      List<PendingLatency> nextPending =
          resolvePending(connection, fresh, resolvedTags, resolvedLatencies);
      Map<String, Map<Tags, Long>> totals = totals(connection);
      storeKnown(connection, decisionsOfPolicyVersions(totals));
      connection.commit();
      counted = new Counted(totals, resolvedTags, resolvedLatencies, nextPending);
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
    knownStored = true;
    for (String series : skipped) {
      seriesSkipped.increment();
      LOG.warn(
          "Audit-store metrics: the store refused label set {}; its count of this round is left out"
              + " ({})",
          series,
          COLLECTOR_SERIES_SKIPPED);
    }
    counted
        .totals()
        .forEach((name, series) -> series.forEach((tags, total) -> export(name, tags, total)));
    for (int i = 0; i < counted.latencies().size(); i++) {
      latency(counted.latencyTags().get(i)).record(counted.latencies().get(i));
    }
    pending.clear();
    pending.addAll(counted.pending());
  }

  /** Locks the cursor row, creating it on the database's first round; where it has counted to. */
  private static long lockCursor(Connection connection) throws SQLException {
    for (int attempt = 0; attempt < 2; attempt++) {
      try (PreparedStatement lock = connection.prepareStatement(CURSOR_LOCK_SQL)) {
        lock.setString(1, CURSOR);
        try (ResultSet row = lock.executeQuery()) {
          if (row.next()) {
            return row.getLong(1);
          }
        }
      }
      try (PreparedStatement create = connection.prepareStatement(CURSOR_CREATE_SQL)) {
        create.setString(1, CURSOR);
        create.executeUpdate();
      }
    }
    throw new IllegalStateException(
        "metric_counter_cursor has no row '" + CURSOR + "' after inserting it");
  }

  private static void move(Connection connection, long to) throws SQLException {
    try (PreparedStatement move = connection.prepareStatement(CURSOR_MOVE_SQL)) {
      move.setLong(1, to);
      move.setString(2, CURSOR);
      move.executeUpdate();
    }
  }

  /** Stores each series at 0 unless it is stored already. */
  private static void storeKnown(Connection connection, List<Series> series) throws SQLException {
    if (series.isEmpty()) {
      return;
    }
    try (PreparedStatement insert = connection.prepareStatement(COUNTER_KNOWN_SQL)) {
      for (Series one : series) {
        insert.setString(1, one.name());
        insert.setArray(2, labels(connection, one.tags()));
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }

  /** Every stored total of a counter this collector exports, by name and label set. */
  private static Map<String, Map<Tags, Long>> totals(Connection connection) throws SQLException {
    Map<String, Map<Tags, Long>> totals = new LinkedHashMap<>();
    try (PreparedStatement query = connection.prepareStatement(COUNTERS_SQL);
        ResultSet rows = query.executeQuery()) {
      while (rows.next()) {
        String name = rows.getString(1);
        if (!DESCRIPTIONS.containsKey(name)) {
          continue; // a counter this version no longer exports
        }
        String[] keyValues = (String[]) rows.getArray(2).getArray();
        totals
            .computeIfAbsent(name, key -> new LinkedHashMap<>())
            .put(Tags.of(keyValues), rows.getLong(3));
      }
    }
    return totals;
  }

  /**
   * Each decision of every policy version that has verdicts, not yet stored: the first BLOCK under
   * a policy version then rises from 0. (The totals of the first verdicts of a new version are
   * stored at 0 for a round like any new label set.)
   */
  private static List<Series> decisionsOfPolicyVersions(Map<String, Map<Tags, Long>> totals) {
    Map<Tags, Long> verdicts = totals.getOrDefault(VERDICTS, Map.of());
    List<Series> missing = new ArrayList<>();
    for (Tags tags : List.copyOf(verdicts.keySet())) {
      String version = tagValue(tags, "policy_version");
      for (Decision decision : Decision.values()) {
        Tags known = Tags.of("decision", decision.name(), "policy_version", version);
        if (!verdicts.containsKey(known)) {
          verdicts.put(known, 0L);
          missing.add(new Series(VERDICTS, known));
        }
      }
    }
    return missing;
  }

  private static String tagValue(Tags tags, String key) {
    for (Tag tag : tags) {
      if (tag.getKey().equals(key)) {
        return tag.getValue();
      }
    }
    return NONE;
  }

  /** A label set as stored: key, value, key, value, ... in Micrometer's order (by key). */
  private static Array labels(Connection connection, Tags tags) throws SQLException {
    List<String> keyValues = new ArrayList<>();
    for (Tag tag : tags) {
      keyValues.add(tag.getKey());
      keyValues.add(tag.getValue());
    }
    return connection.createArrayOf("text", keyValues.toArray());
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.executeUpdate();
    }
  }

  /** Exports a stored total; a counter never reads less than it did (the store's never does). */
  private void export(String name, Tags tags, long total) {
    AtomicLong value =
        counters
            .computeIfAbsent(name, key -> new ConcurrentHashMap<>())
            .computeIfAbsent(
                tags,
                key -> {
                  // Registered at its total: a scrape must never see a stored series at 0.
                  AtomicLong holder = new AtomicLong(total);
                  // The map keeps the holder strongly reachable; the registry only weakly.
                  FunctionCounter.builder(name, holder, AtomicLong::doubleValue)
                      .description(DESCRIPTIONS.get(name))
                      .tags(key)
                      .register(registry);
                  return holder;
                });
    value.accumulateAndGet(total, Math::max);
  }

  private static void verdicts(Connection connection, long from, long to, Deltas deltas)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(VERDICTS_SQL)) {
      statement.setLong(1, from);
      statement.setLong(2, to);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          String decision = label("decision", rows.getString(2));
          String second = rows.getString(3);
          long count = rows.getLong(5);
          switch (rows.getString(1)) {
            case "verdicts" ->
                deltas
                    .of(VERDICTS)
                    .merge(
                        Tags.of(
                            "decision",
                            decision,
                            "policy_version",
                            label("policy_version", second)),
                        count,
                        Long::sum);
            case "categories" ->
                deltas
                    .of(VERDICT_CATEGORIES)
                    .merge(
                        Tags.of(
                            "decision",
                            decision,
                            "category",
                            label("category", second),
                            "policy_version",
                            label("policy_version", rows.getString(4))),
                        count,
                        Long::sum);
            default ->
                deltas
                    .of(VERDICT_REASONS)
                    .merge(
                        Tags.of("decision", decision, "code", label("code", second)),
                        count,
                        Long::sum);
          }
        }
      }
    }
  }

  private void outputs(Connection connection, long from, long to, Deltas deltas)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(OUTPUTS_SQL)) {
      statement.setLong(1, from);
      statement.setLong(2, to);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          Tags tags =
              Tags.of(
                  "model",
                  label("model", rows.getString(1)),
                  "device",
                  label("device", rows.getString(2)));
          deltas.of(OUTPUTS).merge(tags, rows.getLong(3), Long::sum);
          deltas.of(OUTPUT_TOKENS).merge(tags, rows.getLong(4), Long::sum);
        }
      }
    }
  }

  private List<PendingLatency> gateLatencies(Connection connection, long from, long to)
      throws SQLException {
    List<PendingLatency> rowsRead = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(GATE_LATENCY_SQL)) {
      statement.setLong(1, from);
      statement.setLong(2, to);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          Timestamp generated = rows.getTimestamp(5);
          rowsRead.add(
              new PendingLatency(
                  Tags.of(
                      "outcome",
                      label("outcome", rows.getString(1)),
                      "basis",
                      label("basis", rows.getString(2))),
                  rows.getString(3),
                  rows.getString(6),
                  rows.getTimestamp(4).toInstant(),
                  generated == null ? null : generated.toInstant(),
                  clock.instant()));
        }
      }
    }
    return rowsRead;
  }

  /**
   * Latencies of this round's outcomes whose output is audited, plus earlier outcomes whose output
   * has arrived since; the audit ingestor may persist an outcome before its output.
   */
  private List<PendingLatency> resolvePending(
      Connection connection,
      List<PendingLatency> fresh,
      List<Tags> outcomes,
      List<Duration> latencies)
      throws SQLException {
    List<PendingLatency> waiting = new ArrayList<>(pending);
    for (PendingLatency row : fresh) {
      if (row.generatedAt() != null) {
        outcomes.add(row.tags());
        latencies.add(nonNegative(Duration.between(row.generatedAt(), row.decidedAt())));
      } else {
        waiting.add(row);
      }
    }
    Map<List<String>, Instant> found = new HashMap<>(); // by output id and tenant
    if (!waiting.isEmpty()) {
      try (PreparedStatement statement = connection.prepareStatement(OUTPUT_TIMES_SQL)) {
        Array ids =
            connection.createArrayOf(
                "text", waiting.stream().map(PendingLatency::outputId).distinct().toArray());
        statement.setArray(1, ids);
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            found.put(
                List.of(rows.getString(1), String.valueOf(rows.getString(2))),
                rows.getTimestamp(3).toInstant());
          }
        }
      }
    }
    List<PendingLatency> stillWaiting = new ArrayList<>();
    Instant now = clock.instant();
    for (PendingLatency row : waiting) {
      Instant generated = found.get(List.of(row.outputId(), String.valueOf(row.tenantId())));
      if (generated != null) {
        outcomes.add(row.tags());
        latencies.add(nonNegative(Duration.between(generated, row.decidedAt())));
      } else if (Duration.between(row.seenAt(), now).compareTo(PENDING_LIMIT) < 0) {
        stillWaiting.add(row);
      }
    }
    // Bounded: keep the newest; the caller swaps the list in with the rest of the round.
    return stillWaiting.subList(
        Math.max(0, stillWaiting.size() - MAX_PENDING), stillWaiting.size());
  }

  /** A count and an age in seconds, as milliseconds. */
  /** How many things wait, and how long the oldest has waited: two gauges. */
  private static final class Waiting {
    private final AtomicLong count = new AtomicLong();
    private final AtomicReference<Double> oldestAge = new AtomicReference<>(0.0);

    Waiting(
        MeterRegistry registry,
        String countName,
        String countDescription,
        String ageName,
        String ageDescription) {
      Gauge.builder(countName, count, AtomicLong::doubleValue)
          .description(countDescription)
          .register(registry);
      Gauge.builder(ageName, oldestAge, AtomicReference::get)
          .description(ageDescription)
          .baseUnit("seconds")
          .register(registry);
    }

    void set(long waiting, double oldestSeconds) {
      count.set(waiting);
      oldestAge.set(oldestSeconds);
    }
  }

  /** What the audit service's unfinished-flow watch holds, by kind. */
  private static final class Unfinished {
    final Map<String, Long> open = new HashMap<>();
    final Map<String, Instant> oldest = new HashMap<>();
    final Map<String, Instant> unchecked = new HashMap<>();
    final Map<String, Long> resent = new HashMap<>();
    final Map<String, Instant> lastResent = new HashMap<>();

    long count(String kind) {
      return open.getOrDefault(kind, 0L);
    }

    double oldestAge(String kind, Instant now) {
      Instant since = oldest.get(kind);
      return since == null ? 0.0 : age(since, now);
    }
  }

  private static double age(Instant since, Instant now) {
    return Math.max(0, Duration.between(since, now).toMillis()) / 1000.0;
  }

  private static Unfinished unfinished(Connection connection) throws SQLException {
    Unfinished unfinished = new Unfinished();
    try (PreparedStatement statement = connection.prepareStatement(UNFINISHED_OPEN_SQL);
        ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        unfinished.open.put(rows.getString(1), rows.getLong(2));
        unfinished.oldest.put(
            rows.getString(1), rows.getObject(3, OffsetDateTime.class).toInstant());
        unfinished.resent.put(rows.getString(1), rows.getLong(4));
        OffsetDateTime resentAt = rows.getObject(5, OffsetDateTime.class);
        if (resentAt != null) {
          unfinished.lastResent.put(rows.getString(1), resentAt.toInstant());
        }
      }
    }
    try (PreparedStatement statement = connection.prepareStatement(UNFINISHED_WATCH_SQL);
        ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        OffsetDateTime first = rows.getObject(2, OffsetDateTime.class);
        unfinished.unchecked.put(rows.getString(1), first == null ? null : first.toInstant());
      }
    }
    return unfinished;
  }

  private static long[] countAndAge(Connection connection, String sql) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rows = statement.executeQuery()) {
      rows.next();
      return new long[] {rows.getLong(1), Math.round(rows.getDouble(2) * 1000)};
    }
  }

  private static List<BiasRow> bias(Connection connection) throws SQLException {
    List<BiasRow> rowsRead = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(BIAS_SQL);
        ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        rowsRead.add(
            new BiasRow(
                label("model", rows.getString(1)),
                label("group", rows.getString(2)),
                rows.getLong(3),
                rows.getLong(4),
                rows.getLong(5),
                rows.getLong(6),
                Math.max(0, rows.getDouble(7)),
                Math.max(0, rows.getDouble(8))));
      }
    }
    return rowsRead;
  }

  private void publishBias(List<BiasRow> latest) {
    // A retired model's last window is no news: its gauges read NaN.
    List<BiasRow> rows =
        latest.stream()
            .filter(row -> row.windowAgeSeconds() <= BIAS_WINDOW_MAX_AGE.toSeconds())
            .toList();
    // The pooled rate is the whole window's: its "*" row counts each verdict once. The other rows
    // overlap ("*" holds them all, and a verdict naming two groups is in both), so their sum
    // counted most verdicts two or more times. A window without a "*" row (not written by the
    // bias job) is pooled over its rows as before.
    Map<String, long[]> pooled = new LinkedHashMap<>();
    Map<String, long[]> whole = new LinkedHashMap<>();
    Map<String, Double> ages = new LinkedHashMap<>();
    for (BiasRow row : rows) {
      long[] sums =
          (WHOLE_WINDOW.equals(row.group()) ? whole : pooled)
              .computeIfAbsent(row.model(), model -> new long[4]);
      sums[0] += row.count();
      sums[1] += row.unsafe();
      sums[2] += row.blocked();
      sums[3] += row.reviewed();
      ages.put(row.model(), row.windowAgeSeconds());
    }
    pooled.putAll(whole);
    List<List<String>> removed = admitBiasGroups(rows);
    rows = rows.stream().filter(row -> biasGroupsKept.containsKey(pair(row))).toList();
    Map<Tags, Double> rates = new LinkedHashMap<>();
    Map<Tags, Double> disparities = new LinkedHashMap<>();
    Map<Tags, Long> outputs = new LinkedHashMap<>();
    for (BiasRow row : rows) {
      long[] all = pooled.get(row.model());
      Tags group = Tags.of("model", row.model(), "group", row.group());
      outputs.put(group, row.count());
      if (row.count() == 0) {
        continue;
      }
      addRate(rates, disparities, group, "unsafe_rate", row.unsafe(), row.count(), all[1], all[0]);
      addRate(rates, disparities, group, "block_rate", row.blocked(), row.count(), all[2], all[0]);
      addRate(
          rates, disparities, group, "review_rate", row.reviewed(), row.count(), all[3], all[0]);
    }
    Map<Tags, Double> windowAges = new LinkedHashMap<>();
    rows.forEach(row -> windowAges.put(Tags.of("model", row.model()), ages.get(row.model())));
    biasRates.set(rates);
    biasDisparities.set(disparities);
    biasOutputs.set(outputs);
    biasWindowAges.set(windowAges);
    if (!removed.isEmpty()) {
      Set<List<String>> gone = new HashSet<>(removed);
      Predicate<Tags> groupGone =
          tags -> gone.contains(List.of(tagValue(tags, "model"), tagValue(tags, "group")));
      biasRates.remove(groupGone);
      biasDisparities.remove(groupGone);
      biasOutputs.remove(groupGone);
      Set<String> models = new HashSet<>();
      biasGroupsKept.keySet().forEach(pair -> models.add(pair.get(0)));
      biasWindowAges.remove(tags -> !models.contains(tagValue(tags, "model")));
    }
  }

  /**
   * Brings the (model, group) pairs with bias gauges up to date with the round's rows: a pair in
   * them is kept for {@value #BIAS_GROUP_KEPT_WINDOWS} lengths of its window from now, at most
   * {@link #BIAS_WINDOW_MAX_AGE} (a window claiming years would hold the cap for years); a pair
   * missing whose time is up is removed. A new pair gets gauges while fewer than the cap have them;
   * with the cap full it takes the place of a pair missing from the round or whose model is no
   * longer current (the one that stopped counting longest ago first, whose gauges go), and only
   * when every pair with gauges is current is it refused (counted, logged once); a new pair of a
   * model no longer current gets only room left over. Current new pairs come first, then new pairs
   * are admitted in order of their outputs in the window, most first (a model's whole-window row,
   * which holds all of them, ahead of its groups), so a writer of bias.metrics naming many small
   * models early in the alphabet or early in time does not take the room of the models in use; ties
   * by model and group, so that the query's order does not matter.
   *
   * @return the pairs removed
   */
  private List<List<String>> admitBiasGroups(List<BiasRow> rows) {
    Instant now = clock.instant();
    Set<List<String>> named = new HashSet<>();
    Set<List<String>> present = new HashSet<>();
    for (BiasRow row : rows) {
      named.add(pair(row));
      if (current(row)) {
        present.add(pair(row));
      }
    }
    List<List<String>> removed = new ArrayList<>();
    for (var iterator = biasGroupsKept.entrySet().iterator(); iterator.hasNext(); ) {
      Map.Entry<List<String>, KeptPair> kept = iterator.next();
      if (!named.contains(kept.getKey()) && now.isAfter(kept.getValue().keptUntil())) {
        removed.add(kept.getKey());
        iterator.remove();
      }
    }
    // Pairs with gauges that the round does not name or whose model is no longer current, the one
    // that stopped counting longest ago first: the room a present new pair takes once the cap is
    // full.
    List<List<String>> absent =
        biasGroupsKept.entrySet().stream()
            .filter(kept -> !present.contains(kept.getKey()))
            .sorted(
                Comparator.comparing(
                        (Map.Entry<List<String>, KeptPair> kept) -> kept.getValue().lastSeen())
                    .thenComparing(kept -> String.join("\n", kept.getKey())))
            .map(Map.Entry::getKey)
            .toList();
    int evictable = 0;
    List<BiasRow> ordered = new ArrayList<>(rows);
    ordered.sort(
        Comparator.comparing((BiasRow row) -> !current(row))
            .thenComparing(Comparator.comparingLong(BiasRow::count).reversed())
            .thenComparing((BiasRow row) -> !WHOLE_WINDOW.equals(row.group()))
            .thenComparing(BiasRow::model)
            .thenComparing(BiasRow::group));
    int refused = 0;
    for (BiasRow row : ordered) {
      List<String> pair = pair(row);
      long keptMillis = Math.round(currentSeconds(row) * 1000);
      // A pair of a model no longer current stopped counting when its window became too old.
      Instant lastSeen =
          current(row)
              ? now
              : now.minusMillis(Math.round(row.windowAgeSeconds() * 1000) - keptMillis);
      KeptPair kept = new KeptPair(lastSeen, now.plusMillis(keptMillis));
      if (biasGroupsKept.containsKey(pair) || biasGroupsKept.size() < maxBiasGroups) {
        biasGroupsKept.put(pair, kept);
      } else if (!current(row)) {
        // A window too old to count takes no place and is not refused: it stays out.
        continue;
      } else if (evictable < absent.size()) {
        List<String> evicted = absent.get(evictable++);
        biasGroupsKept.remove(evicted);
        removed.add(evicted);
        biasGroupsKept.put(pair, kept);
      } else {
        refused++;
        if (!biasCapLogged) {
          biasCapLogged = true;
          LOG.warn(
              "Live bias windows name more than {} (model, group) pairs at once: model {} group {}"
                  + " ({} outputs) and any later new pair with fewer outputs get no gauges while"
                  + " every pair that has them is in the latest windows (counted in {}; logged"
                  + " once)",
              maxBiasGroups,
              LogText.quoted(row.model()),
              LogText.quoted(row.group()),
              row.count(),
              BIAS_GROUPS_REFUSED);
        }
      }
    }
    biasGroupsRefused.increment(refused);
    return removed;
  }

  private static List<String> pair(BiasRow row) {
    return List.of(row.model(), row.group());
  }

  /**
   * {@value #BIAS_GROUP_KEPT_WINDOWS} lengths of the row's window, at most {@link
   * #BIAS_WINDOW_MAX_AGE} (a window claiming years would hold the cap for years). A window whose
   * rows claim no length (start at or after end) counts as one of that longest length: its model is
   * current while it is the model's latest window, up to the day (until the forty-eighth session
   * three lengths of 0 s made it never current, so its pairs got only the room left over).
   */
  private static double currentSeconds(BiasRow row) {
    double most = BIAS_WINDOW_MAX_AGE.toSeconds();
    return row.windowSeconds() <= 0
        ? most
        : Math.min(row.windowSeconds() * BIAS_GROUP_KEPT_WINDOWS, most);
  }

  /**
   * Whether the row's model is current: its latest window ended at most {@value
   * #BIAS_GROUP_KEPT_WINDOWS} of its lengths ago (a version retired by an upgrade is not).
   */
  private static boolean current(BiasRow row) {
    return row.windowAgeSeconds() <= currentSeconds(row);
  }

  private static void addRate(
      Map<Tags, Double> rates,
      Map<Tags, Double> disparities,
      Tags group,
      String metric,
      long hits,
      long count,
      long pooledHits,
      long pooledCount) {
    double rate = (double) hits / count;
    double pooledRate = pooledCount == 0 ? 0 : (double) pooledHits / pooledCount;
    rates.put(group.and("metric", metric), rate);
    disparities.put(group.and("metric", metric), rate - pooledRate);
  }

  private Timer latency(Tags outcomeAndBasis) {
    return latencies.computeIfAbsent(
        outcomeAndBasis,
        tags ->
            Timer.builder(END_TO_END_LATENCY)
                .description(
                    "From an output's generatedAt to the release gate's decision on it, by outcome"
                        + " and basis (VERDICT: on its verdict)")
                .tags(tags)
                .register(registry));
  }

  private static void aggregate(
      Connection connection,
      String sql,
      long from,
      long to,
      Map<Tags, Long> into,
      String... tagNames)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, from);
      statement.setLong(2, to);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          String[] keyValues = new String[tagNames.length * 2];
          for (int i = 0; i < tagNames.length; i++) {
            keyValues[2 * i] = tagNames[i];
            keyValues[2 * i + 1] = label(tagNames[i], rows.getString(i + 1));
          }
          into.merge(Tags.of(keyValues), rows.getLong(tagNames.length + 1), Long::sum);
        }
      }
    }
  }

  private static long single(Connection connection, String sql) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rows = statement.executeQuery()) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static boolean bool(Connection connection, String sql) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rows = statement.executeQuery()) {
      rows.next();
      return rows.getBoolean(1);
    }
  }

  /** The value label {@code key} shows for what an audit record says ({@link LabelValues}). */
  private static String label(String key, String value) {
    return LabelValues.of(key, value, DEAD_LETTER_STAGES);
  }

  private static Duration nonNegative(Duration duration) {
    return duration.isNegative() ? Duration.ZERO : duration;
  }

  /** Counter increments of one round, stored together with the cursor's move. */
  private static final class Deltas {
    private final Map<String, Map<Tags, Long>> byName = new LinkedHashMap<>();

    Map<Tags, Long> of(String name) {
      return byName.computeIfAbsent(name, key -> new LinkedHashMap<>());
    }

    /**
     * Folds each label set not stored yet whose counter already has {@code maxSeries} label sets
     * into one with its free-form labels reading {@value LabelValues#OTHER}.
     *
     * @param stored the stored label sets, by counter
     * @return how many label sets were folded
     */
    int cap(Map<String, Map<Tags, Long>> stored, int maxSeries) {
      int folded = 0;
      for (Map.Entry<String, Map<Tags, Long>> counter : byName.entrySet()) {
        Set<Tags> known = new HashSet<>(stored.getOrDefault(counter.getKey(), Map.of()).keySet());
        Map<Tags, Long> capped = new LinkedHashMap<>();
        for (Map.Entry<Tags, Long> increment : counter.getValue().entrySet()) {
          Tags tags = increment.getKey();
          if (!known.contains(tags) && known.size() >= maxSeries) {
            tags = LabelValues.folded(tags);
            folded++;
          }
          known.add(tags);
          capped.merge(tags, increment.getValue(), Long::sum);
        }
        counter.setValue(capped);
      }
      return folded;
    }

    /**
     * Adds the increments to the stored totals: to the value at once where the label set is stored
     * already (or for the history), else as the new row's pending count for the next round. A label
     * set the store refuses for what it holds (SQLState class 22 or 54: a value too long for the
     * index, say) is left out rather than failing the round, which would fail every round after it
     * the same way.
     *
     * @return the label sets left out, described for a log line
     */
    List<String> store(Connection connection, boolean history) throws SQLException {
      Savepoint whole = connection.setSavepoint();
      try (PreparedStatement add = connection.prepareStatement(COUNTER_ADD_SQL)) {
        for (Map.Entry<String, Map<Tags, Long>> counter : byName.entrySet()) {
          for (Map.Entry<Tags, Long> increment : counter.getValue().entrySet()) {
            bind(connection, add, counter.getKey(), increment, history);
            add.addBatch();
          }
        }
        add.executeBatch();
        connection.releaseSavepoint(whole);
        return List.of();
      } catch (SQLException e) {
        if (!refusedForContent(e)) {
          throw e;
        }
        connection.rollback(whole);
      }
      // One at a time, to leave out only what the store refuses.
      List<String> skipped = new ArrayList<>();
      try (PreparedStatement add = connection.prepareStatement(COUNTER_ADD_SQL)) {
        for (Map.Entry<String, Map<Tags, Long>> counter : byName.entrySet()) {
          for (Map.Entry<Tags, Long> increment : counter.getValue().entrySet()) {
            Savepoint one = connection.setSavepoint();
            try {
              bind(connection, add, counter.getKey(), increment, history);
              add.executeUpdate();
              connection.releaseSavepoint(one);
            } catch (SQLException e) {
              if (!refusedForContent(e)) {
                throw e;
              }
              connection.rollback(one);
              skipped.add(
                  LogText.quoted(counter.getKey() + increment.getKey())
                      + " (SQLState "
                      + e.getSQLState()
                      + ")");
            }
          }
        }
      }
      return skipped;
    }

    private static void bind(
        Connection connection,
        PreparedStatement add,
        String name,
        Map.Entry<Tags, Long> increment,
        boolean history)
        throws SQLException {
      add.setString(1, name);
      add.setArray(2, labels(connection, increment.getKey()));
      add.setLong(3, history ? increment.getValue() : 0);
      add.setLong(4, history ? 0 : increment.getValue());
    }

    /** Whether PostgreSQL refused the statement for the values it held (SQLState 22 or 54). */
    private static boolean refusedForContent(SQLException error) {
      for (SQLException e = error; e != null; e = e.getNextException()) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("22") || state.startsWith("54"))) {
          return true;
        }
      }
      return false;
    }
  }

  /** The counters this collector exports (and stores), with their descriptions. */
  private static final Map<String, String> DESCRIPTIONS =
      Map.ofEntries(
          Map.entry(EVENTS, "Audit log records by event type"),
          Map.entry(VERDICTS, "Moderation verdicts by decision and policy version"),
          Map.entry(
              VERDICT_CATEGORIES,
              "Moderation verdicts by decision, each category that called for a REVIEW or BLOCK,"
                  + " and policy version"),
          Map.entry(
              VERDICT_REASONS, "Reasons that called for a verdict's decision, by reason code"),
          Map.entry(GATE_OUTCOMES, "Release-gate outcomes by outcome, basis and decision"),
          Map.entry(DEAD_LETTERS, "Dead letters by source topic and stage"),
          Map.entry(REVIEW_DECISIONS, "Review decisions by action"),
          Map.entry(GENERATION_FAILURES, "Generation failures by code"),
          Map.entry(OUTPUTS, "Generation outputs by model and device"),
          Map.entry(OUTPUT_TOKENS, "Generated tokens by model and device"),
          Map.entry(BIAS_LIVE_ALERTS, "Live bias alerts raised by the bias-aggregation job"));

  /** The audit log's event type of a live bias alert. */
  private static final String BIAS_ALERT_EVENT = BiasAlert.getClassSchema().getName();

  /**
   * Label sets stored (and exported) at 0 before their first record: those the alerts watch (gate
   * outcomes by basis, dead letters) and the few others whose values are all known here.
   */
  private static final List<Series> KNOWN_SERIES = knownSeries();

  private static List<Series> knownSeries() {
    List<Series> known = new ArrayList<>();
    for (GateOutcome outcome : GateOutcome.values()) {
      for (GateBasis basis : GateBasis.values()) {
        for (Decision decision : Decision.values()) {
          known.add(
              new Series(
                  GATE_OUTCOMES,
                  Tags.of(
                      "outcome",
                      outcome.name(),
                      "basis",
                      basis.name(),
                      "decision",
                      decision.name())));
        }
      }
    }
    for (Topic<String, ?> topic : Topics.eventTopics()) {
      if (topic.deadLetterTopic().isPresent()) {
        for (String stage : DEAD_LETTER_STAGES) {
          known.add(
              new Series(DEAD_LETTERS, Tags.of("source_topic", topic.name(), "stage", stage)));
        }
      }
    }
    List<Class<?>> recordTypes = new ArrayList<>(List.of(DeadLetter.class));
    Topics.eventTopics().forEach(topic -> recordTypes.add(topic.valueType()));
    for (Class<?> type : recordTypes) {
      known.add(new Series(EVENTS, Tags.of("event_type", type.getSimpleName())));
    }
    for (ReviewAction action : ReviewAction.values()) {
      known.add(new Series(REVIEW_DECISIONS, Tags.of("action", action.name())));
    }
    known.add(new Series(BIAS_LIVE_ALERTS, Tags.empty()));
    return List.copyOf(known);
  }

  @Override
  public void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
      try {
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A gate outcome whose latency is not yet known or not yet recorded. */
  private record PendingLatency(
      Tags tags,
      String outputId,
      String tenantId,
      Instant decidedAt,
      Instant generatedAt,
      Instant seenAt) {}

  /** One counter's label set. */
  private record Series(String name, Tags tags) {}

  /** What a round's transaction counted: the stored totals and the latencies it resolved. */
  private record Counted(
      Map<String, Map<Tags, Long>> totals,
      List<Tags> latencyTags,
      List<Duration> latencies,
      List<PendingLatency> pending) {}

  /**
   * A (model, group) pair with bias gauges: the round that last saw it in the latest windows, and
   * until when it keeps them while missing.
   */
  private record KeptPair(Instant lastSeen, Instant keptUntil) {}

  /** One group of the latest live bias window of a model. */
  private record BiasRow(
      String model,
      String group,
      long count,
      long unsafe,
      long blocked,
      long reviewed,
      double windowAgeSeconds,
      double windowSeconds) {}
}
