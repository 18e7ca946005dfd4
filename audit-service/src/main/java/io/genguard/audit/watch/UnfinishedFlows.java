package io.genguard.audit.watch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.ChainRecord;
import io.genguard.audit.persistence.ErasureLocks;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.moderation.gate.GateTimings;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.avro.specific.SpecificRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's promises checked from the audit store, whichever stage broke them: every
 * generation request gets an answer (an output or a failure), and every output gets a release-gate
 * outcome (released, quarantined or held). A request the broker deleted before the generator read
 * it, a generator that stopped serving a partition, a gate that lost an output: each shows here,
 * durably, once its deadline has passed, as a {@value #EVENT_TYPE} record in the hash chain (so the
 * request's evidence bundle shows it too) and a row of {@code unfinished_flow}.
 *
 * <p>A round reads each kind's records in seq order from where the last round stopped (a row of
 * {@code unfinished_flow_watch}, locked for the round, so several audit-service processes take
 * turns and a restart goes on where the last round stopped, with no record checked twice or
 * skipped), up to the last one recorded before its deadline, and looks up each one's answer through
 * the request index. It then closes the open flows whose answer was recorded after all. A flow
 * whose answer will never come (its request was lost for good) stays open until a person dismisses
 * it, with a reason, as an audited action.
 */
public final class UnfinishedFlows {
  private static final Logger LOG = LoggerFactory.getLogger(UnfinishedFlows.class);

  public static final String EVENT_TYPE = "FlowUnfinished";

  /** Records one batch reads at most. */
  static final int BATCH = 10_000;

  /**
   * How long one round reads each kind's batches at most: a store checked for the first time (an
   * upgrade) takes several rounds; a minute of records at 2,000 outputs/s takes about 3 s.
   */
  static final Duration ROUND_BUDGET = Duration.ofSeconds(10);

  /** Longest reason a dismissal may give. */
  public static final int MAX_REASON = 1_000;

  /** A promise the pipeline makes about one record. */
  public enum Kind {
    /** A generation request that has neither an output nor a failure. */
    NO_ANSWER("GenerationRequest", List.of("GenerationOutput", "GenerationFailure")),
    /** A generation output that has no release-gate outcome. */
    NO_GATE_OUTCOME("GenerationOutput", List.of("ReleaseGateOutcome", "GateDecisionRestated"));

    private final String recordType;
    private final List<String> answerTypes;

    Kind(String recordType, List<String> answerTypes) {
      this.recordType = recordType;
      this.answerTypes = answerTypes;
    }

    /** The event type of the records the promise is about. */
    public String recordType() {
      return recordType;
    }

    /** The event types that keep the promise. */
    public List<String> answerTypes() {
      return answerTypes;
    }

    /** Parses a kind name case-insensitively, with an error that lists the valid names. */
    public static Kind parse(String name) {
      return named(
          Kind.class,
          name,
          "kind",
          "is neither NO_ANSWER (a request without an output or failure) nor NO_GATE_OUTCOME (an"
              + " output without a release-gate outcome)");
    }
  }

  /**
   * How long each promise may take before a record without its answer is unfinished. A zero
   * deadline turns the check of its kind off: the records that pass meanwhile are never checked.
   *
   * @param answer from a request's record to its output's or failure's
   * @param gate from an output's record to its gate outcome's; longer than the gate's verdict
   *     timeout and half of it again (its sweep), since an output without a verdict gets its
   *     outcome only then
   */
  public record Deadlines(Duration answer, Duration gate) {
    public static final Deadlines DEFAULTS =
        new Deadlines(Duration.ofMinutes(15), Duration.ofMinutes(30));

    public Duration of(Kind kind) {
      return kind == Kind.NO_ANSWER ? answer : gate;
    }
  }

  /** A record found without its answer past the deadline. */
  public record Found(
      Kind kind, String requestId, String tenantId, long recordSeq, Instant recordedAt) {}

  /**
   * What one round did.
   *
   * @param checked records looked at, per kind
   * @param found those without their answer, recorded now
   * @param answered open flows whose answer was recorded after all, closed now
   */
  public record Round(Map<Kind, Integer> checked, List<Found> found, int answered) {}

  private final DataSource dataSource;
  private final Clock clock;
  private final Deadlines deadlines;
  private final Duration gateMemory;
  private final int batch;
  private final ReadTimeout readTimeout;
  private volatile boolean stopping;

  /** With the release gate's default decision retention ({@link GateTimings#DEFAULTS}). */
  public UnfinishedFlows(DataSource dataSource, Clock clock, Deadlines deadlines) {
    this(dataSource, clock, deadlines, GateTimings.DEFAULTS.decisionRetention());
  }

  /**
   * @param gateMemory the release gate's decision retention: how long it remembers a decision and
   *     ignores another copy of the output; older outputs are not sent again
   */
  public UnfinishedFlows(
      DataSource dataSource, Clock clock, Deadlines deadlines, Duration gateMemory) {
    this(dataSource, clock, deadlines, gateMemory, ReadTimeout.DEFAULT);
  }

  /**
   * @param gateMemory the release gate's decision retention: how long it remembers a decision and
   *     ignores another copy of the output; older outputs are not sent again
   * @param readTimeout how long each statement of a caller's {@link #list} may run ({@link
   *     QueryTimedOutException} beyond it)
   */
  public UnfinishedFlows(
      DataSource dataSource,
      Clock clock,
      Deadlines deadlines,
      Duration gateMemory,
      ReadTimeout readTimeout) {
    this(dataSource, clock, deadlines, gateMemory, BATCH, readTimeout);
  }

  /** With batches of {@code batch} records, for tests of the batch boundaries. */
  UnfinishedFlows(
      DataSource dataSource, Clock clock, Deadlines deadlines, Duration gateMemory, int batch) {
    this(dataSource, clock, deadlines, gateMemory, batch, ReadTimeout.DEFAULT);
  }

  private UnfinishedFlows(
      DataSource dataSource,
      Clock clock,
      Deadlines deadlines,
      Duration gateMemory,
      int batch,
      ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.deadlines = deadlines;
    this.gateMemory = gateMemory;
    this.batch = batch;
    this.readTimeout = readTimeout;
  }

  public Deadlines deadlines() {
    return deadlines;
  }

  /**
   * Makes a round in progress stop after its current batch (each batch commits with its watermark,
   * so the next start goes on from there), and later rounds read nothing.
   */
  public void stop() {
    stopping = true;
  }

  /** One round: checks what passed its deadline since the last round, then closes the answered. */
  public Round check() throws SQLException {
    Map<Kind, Integer> checked = new EnumMap<>(Kind.class);
    List<Found> found = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      if (deadlines.of(kind).isZero()) {
        // Not checked: what passes meanwhile is skipped, so the unchecked-age gauge does not grow
        // for a kind nobody checks, and a deadline set again later checks from then on.
        Transactions.inTransaction(dataSource, connection -> skipAll(connection, kind));
        continue;
      }
      int looked = 0;
      long started = System.nanoTime();
      boolean more = true;
      while (more && !stopping && System.nanoTime() - started < ROUND_BUDGET.toNanos()) {
        Batch checkedBatch =
            Transactions.inTransaction(dataSource, connection -> checkBatch(connection, kind));
        // Committed: only now are its flows reported.
        found.addAll(checkedBatch.found());
        looked += checkedBatch.rows();
        more = checkedBatch.full();
      }
      checked.put(kind, looked);
    }
    int answered = Transactions.inTransaction(dataSource, this::closeAnswered);
    return new Round(checked, found, answered);
  }

  private static int skipAll(Connection connection, Kind kind) throws SQLException {
    try (PreparedStatement skip =
        connection.prepareStatement(
            "update unfinished_flow_watch set checked_seq = greatest(checked_seq,"
                + " (select coalesce(max(seq), 0) from audit_log)) where kind = ?")) {
      skip.setString(1, kind.name());
      return skip.executeUpdate();
    }
  }

  /**
   * One batch checked.
   *
   * @param rows records read
   * @param full whether a full batch was read (more may wait)
   * @param found the flows recorded
   */
  private record Batch(int rows, boolean full, List<Found> found) {}

  /** Checks the next batch of one kind's records that are past their deadline. */
  private Batch checkBatch(Connection connection, Kind kind) throws SQLException {
    long from;
    try (PreparedStatement watch =
        connection.prepareStatement(
            "select checked_seq from unfinished_flow_watch where kind = ? for update")) {
      watch.setString(1, kind.name());
      try (ResultSet rs = watch.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("unfinished_flow_watch has no row for " + kind);
        }
        from = rs.getLong(1);
      }
    }
    Instant now = clock.instant();
    OffsetDateTime cutoff = AuditWriter.time(now.minus(deadlines.of(kind)));
    // The next batch of records, up to the first one recorded after the cutoff: recorded times
    // follow the seq (each writer takes its time just before the chain lock), and what comes after
    // it waits for a later round. Seqs visible to this snapshot are a prefix of the chain: each
    // append commits before the next one takes the lock.
    long to;
    int rows;
    boolean full;
    try (PreparedStatement bound =
        connection.prepareStatement(
            "with next as (select seq, recorded_at from audit_log where seq > ? order by seq"
                + " limit ?), stop as (select min(seq) as seq from next where recorded_at > ?)"
                + " select max(n.seq), count(n.seq), (select count(*) from next),"
                + " (select seq from stop) is not null"
                + " from next n where n.seq < coalesce((select seq from stop), n.seq + 1)")) {
      bound.setLong(1, from);
      bound.setInt(2, batch);
      bound.setObject(3, cutoff);
      try (ResultSet rs = bound.executeQuery()) {
        rs.next();
        to = rs.getLong(1);
        rows = rs.getInt(2);
        full = !rs.getBoolean(4) && rs.getInt(3) >= batch;
      }
    }
    if (rows == 0) {
      return new Batch(0, false, List.of());
    }
    List<Found> missing = new ArrayList<>();
    try (PreparedStatement records =
        connection.prepareStatement(
            "select a.seq, a.request_id, a.tenant_id, a.recorded_at from audit_log a"
                + " where a.seq > ? and a.seq <= ? and a.event_type = ? and a.request_id is not null"
                + " and not exists (select 1 from audit_log b where b.request_id = a.request_id"
                + " and b.event_type = any(?))"
                + " order by a.seq")) {
      records.setLong(1, from);
      records.setLong(2, to);
      records.setString(3, kind.recordType());
      records.setArray(4, connection.createArrayOf("text", kind.answerTypes().toArray()));
      try (ResultSet rs = records.executeQuery()) {
        while (rs.next()) {
          missing.add(
              new Found(
                  kind,
                  rs.getString(2),
                  rs.getString(3),
                  rs.getLong(1),
                  rs.getObject(4, OffsetDateTime.class).toInstant()));
        }
      }
    }
    List<Found> found = record(connection, kind, missing, now);
    try (PreparedStatement advance =
        connection.prepareStatement(
            "update unfinished_flow_watch set checked_seq = ? where kind = ?")) {
      advance.setLong(1, to);
      advance.setString(2, kind.name());
      advance.executeUpdate();
    }
    return new Batch(rows, full, found);
  }

  /**
   * Appends the flows' chain records, in one append, and their rows; except for a request that has
   * a flow of this kind already, or twice in the list (a request sent twice with the same id, or a
   * duplicate output: one flow per request). Returns the flows recorded.
   */
  private List<Found> record(Connection connection, Kind kind, List<Found> missing, Instant now)
      throws SQLException {
    if (missing.isEmpty()) {
      return List.of();
    }
    Set<String> requests = new HashSet<>();
    try (PreparedStatement known =
        connection.prepareStatement(
            "select request_id from unfinished_flow where kind = ? and request_id = any(?)")) {
      known.setString(1, kind.name());
      known.setArray(
          2,
          connection.createArrayOf(
              "text", missing.stream().map(Found::requestId).distinct().toArray()));
      try (ResultSet rs = known.executeQuery()) {
        while (rs.next()) {
          requests.add(rs.getString(1));
        }
      }
    }
    List<Found> found = new ArrayList<>();
    for (Found flow : missing) {
      if (requests.add(flow.requestId())) {
        found.add(flow);
      }
    }
    if (found.isEmpty()) {
      return found;
    }
    Instant at = now.truncatedTo(ChronoUnit.MICROS);
    Duration deadline = deadlines.of(kind);
    List<ChainRecord> records = new ArrayList<>(found.size());
    for (Found flow : found) {
      ObjectNode payload = JsonNodeFactory.instance.objectNode();
      payload.put("kind", kind.name());
      payload.put("requestId", flow.requestId());
      payload.put("tenantId", flow.tenantId());
      payload.put("recordSeq", flow.recordSeq());
      payload.put("recordedAt", flow.recordedAt().toString());
      payload.put("deadlineSeconds", deadline.toSeconds());
      payload.put("detail", describe(flow, deadline));
      payload.put("detectedAt", at.toString());
      records.add(
          ChainRecord.ofService(
              eventId(flow),
              EVENT_TYPE,
              flow.tenantId(),
              flow.requestId(),
              CanonicalJson.write(payload)));
    }
    ChainAppender.append(connection, records, at);
    try (PreparedStatement insert =
        connection.prepareStatement(
            "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
                + " recorded_at, found_at) values (?, ?, ?, ?, ?, ?, ?)")) {
      for (Found flow : found) {
        insert.setString(1, eventId(flow));
        insert.setString(2, kind.name());
        insert.setString(3, flow.requestId());
        insert.setString(4, flow.tenantId());
        insert.setLong(5, flow.recordSeq());
        insert.setObject(6, AuditWriter.time(flow.recordedAt()));
        insert.setObject(7, AuditWriter.time(at));
        insert.addBatch();
      }
      insert.executeBatch();
    }
    return found;
  }

  /** The flow's chain record's event id: one per kind and request. */
  private static String eventId(Found flow) {
    return EventIds.nameBased("unfinished", flow.kind().name(), flow.requestId());
  }

  /** One sentence for people: what has no answer, for how long it was given. */
  public static String describe(Found flow, Duration deadline) {
    String within = minutes(deadline);
    return switch (flow.kind()) {
      case NO_ANSWER ->
          "generation request "
              + flow.requestId()
              + " (audit seq "
              + flow.recordSeq()
              + ") got neither an output nor a failure within "
              + within
              + ": lost before the generator read it, or its generator stopped serving it";
      case NO_GATE_OUTCOME ->
          "the output of request "
              + flow.requestId()
              + " (audit seq "
              + flow.recordSeq()
              + ") got no release-gate outcome within "
              + within
              + ": lost before the release gate read it, or the gate stopped serving it";
    };
  }

  private static String minutes(Duration duration) {
    long seconds = duration.toSeconds();
    return seconds % 60 == 0 ? (seconds / 60) + " minute(s)" : seconds + " second(s)";
  }

  /** Closes the open flows whose answer has been recorded since; returns how many. */
  private int closeAnswered(Connection connection) throws SQLException {
    // Every open flow, whatever its age: a window of the oldest would fill with flows whose answer
    // never comes and hide the newer ones answered late. Each is one or two lookups through the
    // request index, in one pass over the open flows: no join of the table with itself, which on a
    // table whose statistics still say empty (thousands of flows found in this round) was planned
    // as a nested loop over every pair, 18 s for 10,000 flows. The conditions are re-checked on
    // the row, so a flow another process closed or a person dismissed meanwhile is left alone.
    int closed = 0;
    try (PreparedStatement close =
        connection.prepareStatement(
            "update unfinished_flow u set (answered_seq, answered_at) = (select seq, recorded_at"
                + " from audit_log where request_id = u.request_id and event_type = any(?)"
                + " order by seq limit 1)"
                + " where u.kind = ? and u.answered_seq is null and u.dismissed_at is null"
                + " and exists (select 1 from audit_log where request_id = u.request_id"
                + " and event_type = any(?))")) {
      for (Kind kind : Kind.values()) {
        Array answers = connection.createArrayOf("text", kind.answerTypes().toArray());
        close.setArray(1, answers);
        close.setString(2, kind.name());
        close.setArray(3, answers);
        closed += close.executeUpdate();
      }
    }
    return closed;
  }

  /** Which flows a listing shows. */
  public enum State {
    OPEN,
    ANSWERED,
    DISMISSED,
    ALL;

    public static State parse(String name) {
      return named(State.class, name, "state", "is none of open, answered, dismissed, all");
    }

    String condition() {
      return switch (this) {
        case OPEN -> " and answered_seq is null and dismissed_at is null";
        case ANSWERED -> " and answered_seq is not null";
        case DISMISSED -> " and dismissed_at is not null";
        case ALL -> "";
      };
    }
  }

  /**
   * The flows in a state, oldest record first, and how many are open per kind: a page of at most
   * {@code limit}, with {@code nextCursor} (null on the last page) for the rest and {@code before},
   * how many of the listing come before the page now.
   *
   * @param tenant only this tenant's; null for all
   * @param kind only this kind; null for both
   * @param after the {@code nextCursor} of the previous page; null for the first
   * @throws QueryTimedOutException when one of its statements ran longer than the read timeout
   */
  public ObjectNode list(String tenant, Kind kind, State state, Cursor after, int limit)
      throws SQLException {
    ObjectNode answer = JsonNodeFactory.instance.objectNode();
    ObjectNode open = answer.putObject("open");
    for (Kind each : Kind.values()) {
      open.put(each.name(), 0);
    }
    StringBuilder where = new StringBuilder(" where true");
    List<Object> arguments = new ArrayList<>();
    if (tenant != null) {
      where.append(" and tenant_id = ?");
      arguments.add(tenant);
    }
    return readTimeout.read(
        dataSource,
        connection -> {
          try (PreparedStatement counts =
              connection.prepareStatement(
                  "select kind, count(*) from unfinished_flow"
                      + where
                      + State.OPEN.condition()
                      + " group by kind")) {
            bind(counts, arguments);
            try (ResultSet rs = counts.executeQuery()) {
              while (rs.next()) {
                open.put(rs.getString(1), rs.getLong(2));
              }
            }
          }
          if (kind != null) {
            where.append(" and kind = ?");
            arguments.add(kind.name());
          }
          // How many of the listing come before this page, counted now: a page's place stays exact
          // when flows before it were closed since the previous page was read.
          long before = 0;
          if (after != null) {
            long seq = seqOf(after);
            try (PreparedStatement count =
                connection.prepareStatement(
                    "select count(*) from unfinished_flow"
                        + where
                        + state.condition()
                        + " and (recorded_at, record_seq) <= (?, ?)")) {
              List<Object> counted = new ArrayList<>(arguments);
              counted.add(after.timeColumn());
              counted.add(seq);
              bind(count, counted);
              try (ResultSet rs = count.executeQuery()) {
                rs.next();
                before = rs.getLong(1);
              }
            }
            // The record's seq breaks ties: unique, and of the cursor's id form, which a client's
            // event id need not be.
            where.append(" and (recorded_at, record_seq) > (?, ?)");
            arguments.add(after.timeColumn());
            arguments.add(seq);
          }
          answer.put("before", before);
          arguments.add(limit + 1);
          var items = answer.putArray("items");
          String next = null;
          try (PreparedStatement rows =
              connection.prepareStatement(
                  "select event_id, kind, request_id, tenant_id, record_seq, recorded_at, found_at,"
                      + " answered_seq, answered_at, dismissed_at, dismissed_by, dismiss_action,"
                      + " resent_count, resent_at, resend_action"
                      + " from unfinished_flow"
                      + where
                      + state.condition()
                      + " order by recorded_at, record_seq limit ?")) {
            bind(rows, arguments);
            try (ResultSet rs = rows.executeQuery()) {
              while (rs.next()) {
                if (items.size() == limit) {
                  JsonNode last = items.get(limit - 1);
                  next =
                      new Cursor(
                              Instant.parse(last.get("recordedAt").asText()),
                              last.get("recordSeq").asText())
                          .encode();
                  break;
                }
                ObjectNode item = items.addObject();
                item.put("eventId", rs.getString(1));
                item.put("kind", rs.getString(2));
                item.put("requestId", rs.getString(3));
                item.put("tenantId", rs.getString(4));
                item.put("recordSeq", rs.getLong(5));
                item.put("recordedAt", instant(rs, 6));
                item.put("foundAt", instant(rs, 7));
                long answeredSeq = rs.getLong(8);
                boolean answered = !rs.wasNull();
                String dismissedAt = instant(rs, 10);
                item.put(
                    "state",
                    answered
                        ? State.ANSWERED.name()
                        : dismissedAt != null ? State.DISMISSED.name() : State.OPEN.name());
                if (answered) {
                  item.put("answeredSeq", answeredSeq);
                  item.put("answeredAt", instant(rs, 9));
                }
                if (dismissedAt != null) {
                  item.put("dismissedAt", dismissedAt);
                  item.put("dismissedBy", rs.getString(11));
                  item.put("dismissAction", rs.getString(12));
                }
                item.put("resentCount", rs.getInt(13));
                if (rs.getInt(13) > 0) {
                  item.put("resentAt", instant(rs, 14));
                  item.put("resendAction", rs.getString(15));
                }
              }
            }
          }
          answer.put("nextCursor", next);
          return answer;
        });
  }

  /**
   * {@code after}, checked to be a cursor of this listing (its id a record's seq, as {@link #list}
   * gives) without the database, so that the command line refuses another listing's before it
   * connects; null stays null.
   *
   * @throws InvalidInputException for a cursor that decodes but came from another listing
   */
  public static Cursor requireListingCursor(Cursor after) {
    if (after != null) {
      seqOf(after);
    }
    return after;
  }

  private static long seqOf(Cursor cursor) {
    try {
      return Long.parseLong(cursor.id());
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          "cursor is not one this listing returned; pass its 'nextCursor' unchanged");
    }
  }

  private static void bind(PreparedStatement statement, List<Object> arguments)
      throws SQLException {
    for (int i = 0; i < arguments.size(); i++) {
      statement.setObject(i + 1, arguments.get(i));
    }
  }

  private static String instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime time = rs.getObject(column, OffsetDateTime.class);
    return time == null ? null : time.toInstant().toString();
  }

  /**
   * Closes an open flow whose answer will not come (the request was lost for good, and was sent
   * again or given up), with the reason, as an {@code unfinished.dismiss} action in the chain.
   *
   * @return the action's id
   * @throws NotFoundException when the request has no flow of the kind the caller may see
   * @throws ConflictException when the flow was answered or dismissed already
   */
  public String dismiss(String requestId, Kind kind, String reason, Caller caller)
      throws SQLException {
    String why = reason(reason);
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          String eventId;
          String tenant;
          try (PreparedStatement select =
              connection.prepareStatement(
                  "select event_id, tenant_id, answered_seq is not null, dismissed_at is not null"
                      + " from unfinished_flow where kind = ? and request_id = ? for update")) {
            select.setString(1, kind.name());
            select.setString(2, requestId);
            try (ResultSet rs = select.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString(2))) {
                throw new NotFoundException(
                    "Request " + requestId + " has no unfinished flow of kind " + kind);
              }
              eventId = rs.getString(1);
              tenant = rs.getString(2);
              if (rs.getBoolean(3) || rs.getBoolean(4)) {
                throw new ConflictException(
                    "The "
                        + kind
                        + " flow of request "
                        + requestId
                        + " is closed already ("
                        + (rs.getBoolean(3) ? "answered" : "dismissed")
                        + ")");
              }
            }
          }
          Instant now = clock.instant();
          ActionLog.Action action =
              ActionLog.Action.of("unfinished.dismiss", tenant, requestId, eventId);
          action.details().put("kind", kind.name()).put("reason", why);
          String actionId = ActionLog.record(connection, caller, action, now);
          markDismissed(connection, List.of(eventId), actionId, caller, now);
          return actionId;
        });
  }

  /**
   * Writes recorded events back to the topics they came from (a request to gen.requests, for the
   * generators; an output to gen.outputs, for the moderation job and the release gate), keyed by
   * request id as the pipeline writes them, and waits for Kafka to take them.
   */
  @FunctionalInterface
  public interface Resender {
    /**
     * Sends the requests and outputs.
     *
     * @return which were taken (the flags in the records' order) and the first failure, if any
     */
    Batch sendAll(List<SpecificRecord> records);

    /** What {@link #sendAll} did: which records Kafka took, and the first failure (or null). */
    record Batch(boolean[] taken, RuntimeException failure) {}
  }

  /** What {@link #resend} sent: the flow's kind, the event sent again, and the action. */
  public record Resent(Kind kind, String eventId, String actionId) {}

  /**
   * Sends the record of an open flow again, exactly as it was recorded (the same event id, ids and
   * times, read back from its chain record), and records an {@code unfinished.resend} action. Sent
   * before the action is recorded, so no action claims a send that did not happen; the flow's
   * {@code resend_started_at} is committed before the send (and cleared when the send fails or is
   * not reached, but kept when Kafka took the record and only recording it failed), so that the
   * audit writer takes answers read before the action commits as coming after a resend.
   *
   * <ul>
   *   <li>NO_ANSWER: the request goes to the generators again, for one the broker deleted before a
   *       generator read it, or one a generator dropped. Its answer closes the flow as answered
   *       late; a request a generator did answer after all gets a second output of the same id,
   *       which the audit store and the release gate ignore.
   *   <li>NO_GATE_OUTCOME: the output goes to gen.outputs again, for one the gate never got (or
   *       whose verdict it never got): the moderation job judges it again (the same verdict id
   *       under the same policy, which the audit store keeps once) and the gate decides it, which
   *       closes the flow. A gate that did decide it, and whose outcome was lost on the way here,
   *       still remembers that for its decision retention and ignores the copy, so the flow stays
   *       open for a person to dismiss; an output older than that retention is refused, since the
   *       gate could decide, and release, it a second time.
   * </ul>
   *
   * @param kind the flow's kind; null for the request's one open flow
   * @param sender writes the event to its topic, throwing when Kafka does not take it
   * @throws NotFoundException when the request has no flow (of that kind) the caller may see
   * @throws ConflictException when the flow is closed, the record's content was removed (retention
   *     or an erasure), so there is nothing to send, or the output is older than the gate's memory
   * @throws InvalidInputException when no kind is named and both of the request's flows are open
   */
  public Resent resend(String requestId, Kind kind, Caller caller, Resender sender)
      throws SQLException {
    // The resend's marker, committed before the send: the audit writer reads the answers given
    // again while the send is under way, before this resend's action and count commit.
    Instant started = clock.instant();
    String marked =
        Transactions.inTransaction(
            dataSource,
            connection -> {
              ErasureLocks.lock(connection, List.of(requestId));
              Flow flow = flowToResend(connection, requestId, kind, caller);
              refuseForgottenByGate(requestId, decode(flow.kind(), flow.payload()));
              markResendStarted(connection, List.of(flow.eventId()), started);
              return flow.eventId();
            });
    AtomicReference<Sending> taken = new AtomicReference<>();
    try {
      return send(requestId, kind, caller, sender, taken);
    } catch (RuntimeException | SQLException e) {
      if (taken.get() != null) {
        // Sent, but its action and count did not commit (a lost connection, a failed commit):
        // recorded again in a transaction of its own, as a bulk resend records what the chunks
        // before a failed one sent, so that a repeated call is not needed. The marker stays either
        // way (for the quiet time after a resend), so that the answer to this send is not alerted
        // as a forgery.
        try {
          Resent recorded = recordSentAfterFailure(requestId, taken.get(), caller, e);
          LOG.warn(
              "Request {}'s unfinished flow was sent again (Kafka took the record), but recording"
                  + " the send failed; recorded in a transaction of its own (action {}): {}",
              requestId,
              recorded.actionId(),
              e.toString());
          return recorded;
        } catch (RuntimeException | SQLException again) {
          e.addSuppressed(again);
        }
        LOG.warn(
            "Request {}'s unfinished flow was sent again (Kafka took the record), but recording"
                + " the send failed, twice: no unfinished.resend action and no count. Its resend"
                + " marker stays, so what the send brings back within the quiet time after a"
                + " resend (GENGUARD_AUDIT_RESEND_QUIET_SECONDS) is kept as after a resend; look"
                + " for the answer before sending it again: {}",
            requestId,
            e.toString());
      } else {
        // Not sent (or not known to be): no marker left to count later conflicts as resent ones.
        takeBackResendStarted(List.of(marked), started, e);
      }
      throw e;
    }
  }

  /**
   * Sends the flow's record and records the send, in one transaction; {@code taken} is set once
   * Kafka took the record, so that a failure after it (the action, the count, the commit) is told
   * from one of the send.
   */
  private Resent send(
      String requestId, Kind kind, Caller caller, Resender sender, AtomicReference<Sending> taken)
      throws SQLException {
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          // Held until the send is recorded, as an erasure of the request holds it: an erasure
          // waits for this send, or this reads what it erased; none slips in between.
          ErasureLocks.lock(connection, List.of(requestId));
          Flow flow = flowToResend(connection, requestId, kind, caller);
          SpecificRecord record = decode(flow.kind(), flow.payload());
          refuseForgottenByGate(requestId, record);
          RuntimeException failure = sender.sendAll(List.of(record)).failure();
          if (failure != null) {
            throw failure;
          }
          // The action's id is made before it is recorded: a retry after a lost transaction
          // looks for this send's own row, not any send of the flow (another caller's resend).
          Sending sending =
              new Sending(
                  flow.eventId(), flow.kind(), flow.tenant(), eventId(record), EventIds.random());
          taken.set(sending);
          return recordSend(connection, requestId, sending, caller, null);
        });
  }

  /**
   * A flow whose record Kafka took: its flow, kind and tenant, the event sent again, and the id its
   * {@code unfinished.resend} action is recorded under.
   */
  private record Sending(
      String flowEventId, Kind kind, String tenant, String eventId, String actionId) {}

  /**
   * Records a single resend: its {@code unfinished.resend} action (naming {@code failure}'s class
   * when the first transaction that sent it could not record it) and the flow's count.
   */
  private Resent recordSend(
      Connection connection, String requestId, Sending sent, Caller caller, Exception failure)
      throws SQLException {
    Instant now = clock.instant();
    ActionLog.Action action =
        ActionLog.Action.of("unfinished.resend", sent.tenant(), requestId, sent.eventId());
    action.details().put("kind", sent.kind().name());
    if (failure != null) {
      // An exception's text may quote SQL values: the action names its class, the log has it.
      action
          .details()
          .put(
              "recordedAfter",
              "failed: " + failure.getClass().getName() + " (in the audit service's log)");
    }
    String actionId = ActionLog.record(connection, caller, action, now, sent.actionId());
    markResent(connection, List.of(sent.flowEventId()), actionId, now);
    return new Resent(sent.kind(), sent.eventId(), actionId);
  }

  /**
   * Records a single resend Kafka took whose own transaction failed to record it, in a transaction
   * of its own. A send the failed transaction did record after all (its commit failed on the way
   * back, yet committed) is not recorded twice: its count is found by the action id made before the
   * send (not by time, which another caller's resend of the flow, committed meanwhile, would match
   * too) and returned.
   */
  private Resent recordSentAfterFailure(
      String requestId, Sending sent, Caller caller, Exception failure) throws SQLException {
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          ErasureLocks.lock(connection, List.of(requestId));
          try (PreparedStatement counted =
              connection.prepareStatement(
                  "select 1 from unfinished_flow_resend where flow_event_id = ?"
                      + " and action_id = ?")) {
            counted.setString(1, sent.flowEventId());
            counted.setString(2, sent.actionId());
            try (ResultSet rs = counted.executeQuery()) {
              if (rs.next()) {
                return new Resent(sent.kind(), sent.eventId(), sent.actionId());
              }
            }
          }
          return recordSend(connection, requestId, sent, caller, failure);
        });
  }

  /** Refuses to send an output again that the release gate may have forgotten deciding. */
  private void refuseForgottenByGate(String requestId, SpecificRecord record) {
    if (record instanceof GenerationOutput output && forgottenByGate(output)) {
      throw new ConflictException(
          "Output "
              + output.getOutputId()
              + " of request "
              + requestId
              + " was generated at "
              + output.getGeneratedAt()
              + ", longer ago than the release gate remembers its decisions ("
              + gateMemoryNote()
              + "): if the gate decided it and only the outcome was lost, sending it again"
              + " could release it twice; look for it on "
              + Topics.CONTENT_RELEASED.name()
              + " and dismiss the flow instead");
    }
  }

  /**
   * Marks the flows' resend as under way ({@code resend_started_at}), in a transaction committed
   * before their records are sent: what the audit writer reads meanwhile is seen as coming after a
   * resend ({@code event_id_conflict.after_resend}) for the audit service's quiet time after a
   * resend ({@link AuditWriter#RESEND_UNDER_WAY} by default), and for good once {@link #markResent}
   * counted the send.
   */
  private static void markResendStarted(
      Connection connection, List<String> flowEventIds, Instant started) throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "update unfinished_flow set resend_started_at = ? where event_id = any(?)")) {
      update.setObject(1, AuditWriter.time(started.truncatedTo(ChronoUnit.MICROS)));
      update.setArray(2, connection.createArrayOf("text", flowEventIds.toArray()));
      update.executeUpdate();
    }
  }

  /**
   * Takes back the marker of a resend that did not send these flows' records (one a later resend
   * set is left), so that other content read under their records later is an alerted conflict.
   */
  private void clearResendStarted(List<String> flowEventIds, Instant started) throws SQLException {
    if (flowEventIds.isEmpty()) {
      return;
    }
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "update unfinished_flow set resend_started_at = null"
                      + " where event_id = any(?) and resend_started_at = ?")) {
            update.setArray(1, connection.createArrayOf("text", flowEventIds.toArray()));
            update.setObject(2, AuditWriter.time(started.truncatedTo(ChronoUnit.MICROS)));
            return update.executeUpdate();
          }
        });
  }

  /** {@link #clearResendStarted} after a failure, which a failure to clear does not hide. */
  private void takeBackResendStarted(
      List<String> flowEventIds, Instant started, Exception failure) {
    try {
      clearResendStarted(flowEventIds, started);
    } catch (SQLException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /** The request or output a flow's chain record holds. */
  private static SpecificRecord decode(Kind kind, String payload) {
    return kind == Kind.NO_ANSWER
        ? CanonicalJson.toRecord(payload, GenerationRequest.class)
        : CanonicalJson.toRecord(payload, GenerationOutput.class);
  }

  /**
   * Whether the release gate may have forgotten whether it decided the output: generated longer ago
   * than its decision retention, less a margin for clocks.
   */
  private boolean forgottenByGate(GenerationOutput output) {
    // The gate's own horizon, so that what this service sends again the gate decides rather than
    // quarantines as older than its memory.
    return !clock
        .instant()
        .isBefore(output.getGeneratedAt().plus(GateTimings.decisionHorizon(gateMemory)));
  }

  private String gateMemoryNote() {
    return GateTimings.DECISION_RETENTION_HOURS
        + "="
        + gateMemory.toHours()
        + ", less "
        + GateTimings.CLOCK_SKEW_ALLOWANCE.toMinutes()
        + " minutes for clocks";
  }

  /** The event id of a request or an output. */
  private static String eventId(SpecificRecord record) {
    return record instanceof GenerationRequest request
        ? request.getEventId()
        : ((GenerationOutput) record).getEventId();
  }

  /**
   * Counts a send of the flows' records and keeps the action that recorded it, beside those of
   * earlier sends.
   */
  private static void markResent(
      Connection connection, List<String> flowEventIds, String actionId, Instant now)
      throws SQLException {
    OffsetDateTime at = AuditWriter.time(now.truncatedTo(ChronoUnit.MICROS));
    Array flows = connection.createArrayOf("text", flowEventIds.toArray());
    try (PreparedStatement update =
            connection.prepareStatement(
                "update unfinished_flow set resent_count = resent_count + 1, resent_at = ?,"
                    + " resend_action = ? where event_id = any(?)");
        PreparedStatement each =
            connection.prepareStatement(
                "insert into unfinished_flow_resend (flow_event_id, action_id, resent_at)"
                    + " select unnest(?::text[]), ?, ?")) {
      update.setObject(1, at);
      update.setString(2, actionId);
      update.setArray(3, flows);
      update.executeUpdate();
      each.setArray(1, flows);
      each.setString(2, actionId);
      each.setObject(3, at);
      each.executeUpdate();
    }
  }

  /**
   * Whether a flow's request was erased (a column of a select from {@code unfinished_flow f}): its
   * records' content is not sent again, also where the chain still holds it (records of chain
   * version 1, or one that arrived after the erasure and waits for its follow-up). A note of one
   * tenant's erasure (a data subject's, one note per tenant scope since V39) covers that tenant's
   * flow only; a note naming no tenant counts for every flow, and any note for a flow of none.
   * Matching the request id alone made one tenant's subject erasure refuse another tenant's resend
   * of its own request under the id (reported by the fifty-second session's review).
   */
  private static final String ERASED =
      " exists (select 1 from request_erasure e where e.request_id = f.request_id and (e.tenant_id"
          + " is null or f.tenant_id is null or e.tenant_id = f.tenant_id))";

  /**
   * An open flow's event id, kind, tenant, the payload of its record (null when removed) and
   * whether its request was erased.
   */
  private record Flow(String eventId, Kind kind, String tenant, String payload, boolean erased) {}

  /** The flow to send again, read with the request's erasure lock held. */
  private static Flow flowToResend(
      Connection connection, String requestId, Kind kind, Caller caller) throws SQLException {
    List<Flow> open = new ArrayList<>();
    String closed = null;
    try (PreparedStatement select =
        connection.prepareStatement(
            "select f.kind, f.tenant_id, f.answered_seq is not null,"
                + " f.dismissed_at is not null,"
                + " (select a.payload from audit_log a where a.seq = f.record_seq), f.event_id,"
                + ERASED
                + " from unfinished_flow f where f.request_id = ?"
                + (kind == null ? "" : " and f.kind = ?")
                + " order by f.kind")) {
      select.setString(1, requestId);
      if (kind != null) {
        select.setString(2, kind.name());
      }
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          if (!caller.canSee(rs.getString(2))) {
            continue;
          }
          Kind found = Kind.valueOf(rs.getString(1));
          if (rs.getBoolean(3) || rs.getBoolean(4)) {
            closed = found + " flow " + (rs.getBoolean(3) ? "answered" : "dismissed");
          } else {
            open.add(
                new Flow(
                    rs.getString(6), found, rs.getString(2), rs.getString(5), rs.getBoolean(7)));
          }
        }
      }
    }
    if (open.isEmpty() && closed == null) {
      throw new NotFoundException(
          "Request "
              + requestId
              + " has no unfinished flow"
              + (kind == null ? "" : " of kind " + kind));
    }
    if (open.isEmpty()) {
      throw new ConflictException(
          "Request " + requestId + " is not waiting for anything any more (its " + closed + ")");
    }
    if (open.size() > 1) {
      throw new InvalidInputException(
          "Request "
              + requestId
              + " has an open flow of each kind; name the one to send again: {\"kind\":"
              + " \"NO_ANSWER\"} sends the request, {\"kind\": \"NO_GATE_OUTCOME\"} the output");
    }
    Flow flow = open.get(0);
    if (flow.payload() == null) {
      throw new ConflictException(
          "Request "
              + requestId
              + "'s "
              + (flow.kind() == Kind.NO_ANSWER ? "content" : "output's content")
              + " was removed (retention or an erasure): there is nothing to send"
              + " again; dismiss the flow instead");
    }
    if (flow.erased()) {
      // Content of chain version 1, or an output that arrived after the erasure and waits for its
      // follow-up: still in the chain, never sent again.
      throw new ConflictException(
          "Request "
              + requestId
              + " was erased: its "
              + (flow.kind() == Kind.NO_ANSWER ? "request" : "output")
              + " is not sent again, since that would put erased content back into Kafka;"
              + " dismiss the flow instead");
    }
    return flow;
  }

  /** Most flows one bulk dismissal closes; more must be narrowed (tenant, kind or time). */
  public static final int MAX_BULK = 100_000;

  /** What a bulk dismissal closed, and its action. */
  public record Dismissed(int flows, String actionId) {}

  /**
   * Closes every open flow of {@code kind} recorded before {@code recordedBefore} (of one tenant,
   * or of all for a global caller) as one {@code unfinished.dismiss} action in the chain, which
   * names the selection, how many it closed and the reason: after an outage that lost requests by
   * the thousand, sent again or given up.
   *
   * @return how many were closed, and the action (null when none was open: nothing is recorded)
   * @throws InvalidInputException when more than {@value #MAX_BULK} match
   */
  public Dismissed dismissAll(
      Kind kind, String tenant, Instant recordedBefore, String reason, Caller caller)
      throws SQLException {
    String why = reason(reason);
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          List<String> ids = new ArrayList<>();
          try (PreparedStatement select =
              openFlows(connection, "event_id", kind, tenant, recordedBefore, MAX_BULK + 1, true)) {
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                ids.add(rs.getString(1));
              }
            }
          }
          if (ids.size() > MAX_BULK) {
            throw new InvalidInputException(
                "More than "
                    + MAX_BULK
                    + " open flows match; narrow the selection (tenantId, an earlier"
                    + " recordedBefore) and dismiss in parts");
          }
          if (ids.isEmpty()) {
            return new Dismissed(0, null);
          }
          Instant now = clock.instant();
          ActionLog.Action action = ActionLog.Action.of("unfinished.dismiss", tenant, null, null);
          action
              .details()
              .put("kind", kind.name())
              .put("recordedBefore", recordedBefore.toString())
              .put("flows", ids.size())
              .put("reason", why);
          String actionId = ActionLog.record(connection, caller, action, now);
          markDismissed(connection, ids, actionId, caller, now);
          return new Dismissed(ids.size(), actionId);
        });
  }

  /** Most flows one bulk resend sends; more must be narrowed (tenant or time). */
  public static final int MAX_BULK_RESEND = 10_000;

  /** Flows whose records one bulk resend reads from the chain at a time. */
  private static final int RESEND_CHUNK = 500;

  /**
   * What a bulk resend did.
   *
   * @param sent flows whose record was sent again
   * @param contentRemoved skipped: retention or an erasure removed the record's content
   * @param erased skipped: the request was erased, though the chain still holds the record's
   *     content (chain version 1, or a record that arrived after the erasure, before its follow-up)
   * @param sentBefore skipped: sent again before (unless asked to include those)
   * @param forgottenByGate skipped: outputs older than the gate's decision retention
   * @param actionId the {@code unfinished.resend} action; null when nothing was sent
   */
  public record Resends(
      int sent,
      int contentRemoved,
      int erased,
      int sentBefore,
      int forgottenByGate,
      String actionId) {}

  /**
   * Thrown when sending stopped part way through a bulk resend (Kafka stopped taking records). What
   * was sent is recorded (its action is named); the rest was not sent.
   */
  public static final class PartlySentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PartlySentException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Sends the records of every open flow of {@code kind} recorded before {@code recordedBefore} (of
   * one tenant, or of all for a global caller) again, oldest first, as {@link #resend} does one:
   * after an outage in which the broker deleted requests or outputs by the thousand. One {@code
   * unfinished.resend} action names the selection and how many were sent and skipped, and each flow
   * sent counts the send. Skipped: a record whose content was removed, one of an erased request, an
   * output the gate may have forgotten deciding, and (unless {@code includeResent}) a flow sent
   * again before, so that repeating the call after a partial failure sends only the rest. Each
   * chunk's records are read and sent with their requests' erasure locks held ({@link
   * ErasureLocks}), as a single resend's are.
   *
   * @throws InvalidInputException when more than {@value #MAX_BULK_RESEND} open flows match
   * @throws PartlySentException when Kafka stopped taking them part way; what was sent is recorded
   * @throws SQLException (or another exception) when a chunk failed otherwise: what the chunks
   *     before it sent, and what Kafka took of it, is recorded first (the action's {@code
   *     stoppedBecause} names the failure's class), unless recording fails too (then suppressed)
   */
  public Resends resendAll(
      Kind kind,
      String tenant,
      Instant recordedBefore,
      boolean includeResent,
      Caller caller,
      Resender sender)
      throws SQLException {
    Map<String, String> selected = new java.util.LinkedHashMap<>(); // flow event id: request
    int sentBefore = 0;
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select =
            openFlows(
                connection,
                "event_id, resent_count > 0, request_id",
                kind,
                tenant,
                recordedBefore,
                MAX_BULK_RESEND + 1,
                false)) {
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          if (rs.getBoolean(2) && !includeResent) {
            sentBefore++;
          } else {
            selected.put(rs.getString(1), rs.getString(3));
          }
        }
      }
    }
    if (selected.size() + sentBefore > MAX_BULK_RESEND) {
      throw new InvalidInputException(
          "More than "
              + MAX_BULK_RESEND
              + " open flows match; narrow the selection (tenantId, an earlier recordedBefore)"
              + " and send them again in parts");
    }
    List<String> flowEventIds = new ArrayList<>(selected.keySet());
    List<String> sent = new ArrayList<>();
    int removed = 0;
    int erased = 0;
    int forgotten = 0;
    RuntimeException failure = null;
    // A chunk that failed with an exception (the database, the erasure locks): thrown once what the
    // chunks before it sent, and what Kafka took of it, is recorded.
    Exception stopped = null;
    // A chunk at a time: its records read from the chain, sent at once, and what Kafka took kept;
    // a chunk with a failure is the last.
    for (int from = 0;
        from < flowEventIds.size() && failure == null && stopped == null;
        from += RESEND_CHUNK) {
      List<String> chunk =
          flowEventIds.subList(from, Math.min(flowEventIds.size(), from + RESEND_CHUNK));
      // The chunk's marker, committed before its send, as a single resend's (the action and the
      // counts commit after the last chunk); taken back from the flows the chunk did not send.
      Instant started = clock.instant();
      Chunk done;
      AtomicReference<Chunk> reached = new AtomicReference<>();
      try {
        Transactions.inTransaction(
            dataSource,
            connection -> {
              markResendStarted(connection, chunk, started);
              return null;
            });
        done =
            Transactions.inTransaction(
                dataSource,
                connection -> {
                  // Held while the chunk is read and sent, as an erasure of one of its requests
                  // holds it: an erasure waits for the send, or the read sees it.
                  ErasureLocks.lock(connection, chunk.stream().map(selected::get).toList());
                  Chunk chunkDone = sendChunk(connection, kind, chunk, sender);
                  reached.set(chunkDone);
                  return chunkDone;
                });
        Set<String> chunkSent = new HashSet<>(done.sent());
        clearResendStarted(chunk.stream().filter(id -> !chunkSent.contains(id)).toList(), started);
      } catch (RuntimeException | SQLException e) {
        // What Kafka took before the failure (its commit) keeps its marker and is recorded with
        // what the chunks before it sent; the rest loses its marker.
        Set<String> taken = reached.get() == null ? Set.of() : new HashSet<>(reached.get().sent());
        takeBackResendStarted(
            chunk.stream().filter(id -> !taken.contains(id)).toList(), started, e);
        chunk.stream().filter(taken::contains).forEach(sent::add);
        if (reached.get() != null) {
          removed += reached.get().removed();
          erased += reached.get().erased();
          forgotten += reached.get().forgotten();
        }
        stopped = e;
        break;
      }
      sent.addAll(done.sent());
      removed += done.removed();
      erased += done.erased();
      forgotten += done.forgotten();
      failure = done.failure();
    }
    String actionId = null;
    if (!sent.isEmpty()) {
      int skippedRemoved = removed;
      int skippedErased = erased;
      int skippedForgotten = forgotten;
      int skippedSentBefore = sentBefore;
      // An exception's text may quote SQL values: the action names its class, the log has it.
      String because =
          stopped != null
              ? "failed: " + stopped.getClass().getName() + " (in the audit service's log)"
              : failure == null ? null : String.valueOf(failure.getMessage());
      String stoppedBecause =
          because == null || because.length() <= 500 ? because : because.substring(0, 500);
      try {
        actionId =
            Transactions.inTransaction(
                dataSource,
                connection -> {
                  Instant now = clock.instant();
                  ActionLog.Action action =
                      ActionLog.Action.of("unfinished.resend", tenant, null, null);
                  action
                      .details()
                      .put("kind", kind.name())
                      .put("recordedBefore", recordedBefore.toString())
                      .put("includeResent", includeResent)
                      .put("flows", sent.size())
                      .put("skippedContentRemoved", skippedRemoved)
                      .put("skippedErased", skippedErased)
                      .put("skippedSentBefore", skippedSentBefore)
                      .put("skippedForgottenByGate", skippedForgotten)
                      .put("stoppedBecause", stoppedBecause);
                  String id = ActionLog.record(connection, caller, action, now);
                  markResent(connection, sent, id, now);
                  return id;
                });
      } catch (RuntimeException | SQLException e) {
        warnSentNotRecorded(sent.size(), e);
        if (stopped == null) {
          throw e;
        }
        stopped.addSuppressed(e);
      }
    }
    if (stopped != null) {
      LOG.warn(
          "A bulk resend stopped with an error after {} of {} flows were sent again{}; the rest"
              + " were not sent: call again once the error is mended, and the flows sent are"
              + " skipped",
          sent.size(),
          selected.size(),
          actionId == null ? "" : " (recorded as action " + actionId + ")",
          stopped);
      throw rethrown(stopped);
    }
    if (failure != null) {
      throw new PartlySentException(
          "Sending again stopped with "
              + sent.size()
              + " of "
              + selected.size()
              + " flows sent"
              + (actionId == null ? "" : " (recorded as action " + actionId + ")")
              + ": "
              + failure.getMessage()
              + "; the rest were not sent: call again once Kafka takes records, and the flows"
              + " sent now are skipped",
          failure);
    }
    return new Resends(sent.size(), removed, erased, sentBefore, forgotten, actionId);
  }

  /** The failure that stopped a bulk resend, to throw as it was. */
  private static RuntimeException rethrown(Exception failure) throws SQLException {
    if (failure instanceof SQLException e) {
      throw e;
    }
    return (RuntimeException) failure;
  }

  /**
   * Says that a bulk resend sent {@code sent} flows' records (Kafka took them) but could not record
   * it: their markers stay, so that what the sends bring back within the quiet time after a resend
   * ({@link AuditWriter#RESEND_UNDER_WAY} by default) is kept as after a resend, not alerted.
   */
  private static void warnSentNotRecorded(int sent, Exception failure) {
    if (sent > 0) {
      LOG.warn(
          "A bulk resend sent {} unfinished flows' records again (Kafka took them), but recording"
              + " the sends failed: no unfinished.resend action and no counts. Their resend markers"
              + " stay, so what the sends bring back within the quiet time after a resend"
              + " (GENGUARD_AUDIT_RESEND_QUIET_SECONDS) is kept as after a resend; they are not"
              + " skipped as sent before if the call is repeated: {}",
          sent,
          failure.toString());
    }
  }

  /**
   * What sending one chunk did: the flows whose records Kafka took, those skipped, and the failure
   * that stopped it (null when none did).
   */
  private record Chunk(
      List<String> sent, int removed, int erased, int forgotten, RuntimeException failure) {}

  /**
   * Reads the chunk's records from the chain and sends them, skipping the removed, the erased and
   * the outputs the gate may have forgotten; call with the requests' erasure locks held.
   */
  private Chunk sendChunk(Connection connection, Kind kind, List<String> chunk, Resender sender)
      throws SQLException {
    List<String> flowIds = new ArrayList<>();
    List<SpecificRecord> records = new ArrayList<>();
    int removed = 0;
    int erased = 0;
    int forgotten = 0;
    RuntimeException failure = null;
    for (Map.Entry<String, Content> flow : contents(connection, chunk).entrySet()) {
      if (flow.getValue().payload() == null) {
        removed++;
        continue;
      }
      if (flow.getValue().erased()) {
        erased++;
        continue;
      }
      SpecificRecord record;
      try {
        record = decode(kind, flow.getValue().payload());
      } catch (RuntimeException e) {
        failure = e; // a chain record that is not the event it claims: send nothing after it
        break;
      }
      if (record instanceof GenerationOutput output && forgottenByGate(output)) {
        forgotten++;
        continue;
      }
      flowIds.add(flow.getKey());
      records.add(record);
    }
    Resender.Batch batch;
    try {
      batch = sender.sendAll(records);
    } catch (RuntimeException e) {
      batch = new Resender.Batch(new boolean[records.size()], e); // nothing of it taken
    }
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      if (batch.taken()[i]) {
        sent.add(flowIds.get(i));
      }
    }
    return new Chunk(sent, removed, erased, forgotten, failure != null ? failure : batch.failure());
  }

  /** The payload of a flow's chain record (null where removed), and whether it was erased. */
  private record Content(String payload, boolean erased) {}

  /** The contents of the flows' chain records, in the flows' order. */
  private static Map<String, Content> contents(Connection connection, List<String> flowEventIds)
      throws SQLException {
    Map<String, Content> contents = new java.util.LinkedHashMap<>();
    flowEventIds.forEach(id -> contents.put(id, new Content(null, false)));
    try (PreparedStatement select =
        connection.prepareStatement(
            "select f.event_id, a.payload,"
                + ERASED
                + " from unfinished_flow f"
                + " join audit_log a on a.seq = f.record_seq where f.event_id = any(?)")) {
      select.setArray(1, connection.createArrayOf("text", flowEventIds.toArray()));
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          contents.put(rs.getString(1), new Content(rs.getString(2), rs.getBoolean(3)));
        }
      }
    }
    return contents;
  }

  /**
   * The open flows of {@code kind} recorded before {@code recordedBefore}, of one tenant (or all
   * with null), oldest first, at most {@code limit}; {@code lock}: locked for the transaction.
   */
  private static PreparedStatement openFlows(
      Connection connection,
      String columns,
      Kind kind,
      String tenant,
      Instant recordedBefore,
      int limit,
      boolean lock)
      throws SQLException {
    PreparedStatement select =
        connection.prepareStatement(
            "select "
                + columns
                + " from unfinished_flow where kind = ? and recorded_at < ?"
                + " and answered_seq is null and dismissed_at is null"
                + (tenant == null ? "" : " and tenant_id = ?")
                + " order by recorded_at, event_id limit ?"
                + (lock ? " for update" : ""));
    try {
      select.setString(1, kind.name());
      select.setObject(2, AuditWriter.time(recordedBefore));
      int next = 3;
      if (tenant != null) {
        select.setString(next++, tenant);
      }
      select.setInt(next, limit);
      return select;
    } catch (SQLException e) {
      select.close();
      throw e;
    }
  }

  /** Closes the flows as dismissed by the caller's action. */
  private static void markDismissed(
      Connection connection, List<String> eventIds, String actionId, Caller caller, Instant now)
      throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "update unfinished_flow set dismissed_at = ?, dismissed_by = ?, dismiss_action = ?"
                + " where event_id = any(?)")) {
      update.setObject(1, AuditWriter.time(now.truncatedTo(ChronoUnit.MICROS)));
      update.setString(2, caller.describe());
      update.setString(3, actionId);
      update.setArray(4, connection.createArrayOf("text", eventIds.toArray()));
      update.executeUpdate();
    }
  }

  /** The reason of a dismissal, stripped; refused when blank or too long. */
  private static String reason(String reason) {
    if (reason == null || reason.isBlank()) {
      throw new InvalidInputException(
          "reason is required: why this flow will get no answer, e.g. {\"reason\": \"request lost"
              + " to retention during the outage of 2026-12-01; sent again as ...\"}");
    }
    String why = reason.strip();
    if (why.length() > MAX_REASON) {
      throw new InvalidInputException(
          "reason is " + why.length() + " characters long; at most " + MAX_REASON);
    }
    // One line of plain text, as a takedown's or an erasure's reason (a NUL cannot be stored).
    return InvalidInputException.oneLine("reason", why, MAX_REASON);
  }

  /** The constant {@code name} names, ignoring case; else an error that quotes it (cut) and why. */
  private static <E extends Enum<E>> E named(
      Class<E> type, String name, String what, String otherwise) {
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(name.trim())) {
        return constant;
      }
    }
    throw new InvalidInputException(
        what
            + " '"
            + (name.length() > 40 ? name.substring(0, 40) + "..." : name)
            + "' "
            + otherwise);
  }

  /** The kind named in a listing or dismissal; null when not given. */
  public static Kind kindOrNull(String name) {
    return name == null || name.isBlank() ? null : Kind.parse(name);
  }
}
