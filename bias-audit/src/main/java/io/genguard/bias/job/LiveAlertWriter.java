package io.genguard.bias.job;

import io.genguard.bias.persistence.LiveAlert;
import io.genguard.bias.persistence.LiveAlertRepository;
import io.genguard.schemas.LogText;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes live bias alerts to {@code bias_audit.live_alert} once the checkpoint that produced them
 * has completed (as the exactly-once Kafka sink makes them visible on {@code bias.alerts}), and
 * rides out an outage of that database instead of failing the whole job on it.
 *
 * <p>An alert is kept in this operator's state from the checkpoint after it arrived until it is
 * stored: at each completed checkpoint the alerts of that checkpoint and earlier are inserted, in
 * one batch, idempotently on their deterministic id. When the insert fails, they stay, the failure
 * is counted in {@value #ALERT_WRITE_FAILURES} and logged, and the insert is tried again at a later
 * checkpoint, waiting 1, 2, 4 ... up to 60 s between tries; every checkpoint keeps them, so neither
 * a restart nor a savepoint loses them ({@value #ALERTS_AWAITING_DATABASE} says how many wait).
 * Only when the database has failed every try for {@code outageLimit} does the operator fail the
 * job, which restarts from its latest checkpoint with the alerts still in it: the outage is then
 * past what waiting should hide. An alert of a checkpoint that failed is never written: the replay
 * decides that window again, and its alert, or none, is the one stored.
 *
 * <p>An alert PostgreSQL refuses for what it holds (SQLState class 22, a data exception such as a
 * value too long or an invalid byte sequence; class 23, a constraint violation) would be refused at
 * every try, so it is not taken for an outage: when the batch is refused so, the alerts are
 * inserted one at a time, each refused one is logged with its id and the database's reason (not its
 * content), counted in {@value #ALERTS_REFUSED_BY_DATABASE} and dropped from the state, and the
 * others are stored. It stays on {@code bias.alerts}, which the audit service records. Any other
 * error (a connection error, class 08, 53, 57, a timeout) is an outage as above.
 *
 * <p>Until the forty-first session a committer inserted the alerts and failed the job at the first
 * failed insert, so an alert-database outage restarted the whole job (campaign totals and live
 * metrics included) in a loop.
 *
 * <p>Alerts are stored only at completed checkpoints: a job without checkpointing stores none (the
 * jobs always checkpoint, {@link BiasAggregationJob#configure}).
 */
final class LiveAlertWriter extends AbstractStreamOperator<Void>
    implements OneInputStreamOperator<BiasAlert, Void> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(LiveAlertWriter.class);

  /** Inserts into the alert database that failed (each try of a batch counts once). */
  static final String ALERT_WRITE_FAILURES = "alert_write_failures";

  /** Alerts the database refused for what they hold (SQLState class 22 or 23), dropped. */
  static final String ALERTS_REFUSED_BY_DATABASE = "alerts_refused_by_database";

  /** Alerts of completed checkpoints (or of checkpoints to come) not yet in the database. */
  static final String ALERTS_AWAITING_DATABASE = "alerts_awaiting_database";

  static final long MAX_BACKOFF_MS = 60_000;
  private static final long LOG_INTERVAL_MS = 60_000;

  /** Tag of an alert whose checkpoint has completed (restored, or past its checkpoint). */
  private static final long DUE = Long.MIN_VALUE;

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final long outageLimitMillis;

  private transient ListState<byte[]> state;
  private transient List<LiveAlert> arrived;
  private transient TreeMap<Long, List<LiveAlert>> byCheckpoint;
  private transient List<LiveAlert> due;
  private transient Connection connection;
  private transient Counter failures;
  private transient Counter refused;
  private transient long failingSince;
  private transient long nextTryAt;
  private transient long backoff;
  private transient long loggedAt;

  /** {@link #awaiting()} as of the task thread's last change, for the gauge (another thread). */
  private transient volatile int awaitingNow;

  /**
   * @param outageLimit how long the database may fail every try before the job is failed
   */
  LiveAlertWriter(String jdbcUrl, String user, String password, Duration outageLimit) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.outageLimitMillis = outageLimit.toMillis();
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    state =
        context
            .getOperatorStateStore()
            .getListState(
                new ListStateDescriptor<>(
                    "live-alerts-to-store", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    arrived = new ArrayList<>();
    byCheckpoint = new TreeMap<>();
    due = new ArrayList<>();
    failingSince = Long.MIN_VALUE;
    loggedAt = Long.MIN_VALUE;
    if (context.isRestored()) {
      // Every alert a restored checkpoint holds belongs to a completed checkpoint.
      for (byte[] bytes : state.get()) {
        due.add(decode(bytes));
      }
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    failures = getMetricGroup().addGroup("genguard").counter(ALERT_WRITE_FAILURES);
    refused = getMetricGroup().addGroup("genguard").counter(ALERTS_REFUSED_BY_DATABASE);
    getMetricGroup()
        .addGroup("genguard")
        .gauge(ALERTS_AWAITING_DATABASE, (Gauge<Integer>) () -> awaitingNow);
    awaitingNow = awaiting();
  }

  /** Alerts not yet stored: due, waiting for their checkpoint, or arrived since the last one. */
  int awaiting() {
    int count = due.size() + arrived.size();
    for (List<LiveAlert> alerts : byCheckpoint.values()) {
      count += alerts.size();
    }
    return count;
  }

  /** Alerts the database has refused for what they hold since this operator opened. */
  long refused() {
    return refused.getCount();
  }

  @Override
  public void processElement(StreamRecord<BiasAlert> element) {
    arrived.add(liveAlert(element.getValue()));
    awaitingNow++;
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    if (!arrived.isEmpty()) {
      byCheckpoint
          .computeIfAbsent(context.getCheckpointId(), id -> new ArrayList<>())
          .addAll(arrived);
      arrived.clear();
    }
    List<byte[]> kept = new ArrayList<>();
    for (LiveAlert alert : due) {
      kept.add(encode(alert));
    }
    for (List<LiveAlert> alerts : byCheckpoint.values()) {
      for (LiveAlert alert : alerts) {
        kept.add(encode(alert));
      }
    }
    state.update(kept);
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) throws Exception {
    super.notifyCheckpointComplete(checkpointId);
    Map<Long, List<LiveAlert>> completed = byCheckpoint.headMap(checkpointId, true);
    completed.values().forEach(due::addAll);
    completed.clear();
    try {
      store(getProcessingTimeService().getCurrentProcessingTime());
    } finally {
      awaitingNow = awaiting();
    }
  }

  /**
   * Inserts the due alerts unless the last failure's backoff has not passed; fails past the limit.
   */
  void store(long now) throws IOException {
    boolean failing = failingSince != Long.MIN_VALUE;
    boolean overdue = failing && now - failingSince >= outageLimitMillis;
    if (due.isEmpty() || (failing && now < nextTryAt && !overdue)) {
      return;
    }
    if (tryStore()) {
      if (failingSince != Long.MIN_VALUE) {
        LOG.info(
            "The alert database {} answers again after {} s; the live bias alerts kept meanwhile"
                + " are stored",
            jdbcUrl,
            (now - failingSince) / 1000);
      }
      failingSince = Long.MIN_VALUE;
      return;
    }
    failures.inc();
    if (failingSince == Long.MIN_VALUE) {
      failingSince = now;
      backoff = 1_000;
    } else {
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    nextTryAt = now + backoff;
    if (now - failingSince >= outageLimitMillis) {
      throw new IOException(
          "The alert database "
              + jdbcUrl
              + " has failed every insert for "
              + (now - failingSince) / 1000
              + " s (GENGUARD_BIAS_ALERT_OUTAGE_MINUTES): failing the job, which restarts from its"
              + " latest checkpoint with the "
              + awaiting()
              + " live bias alert(s) not yet stored");
    }
    if (loggedAt == Long.MIN_VALUE || now - loggedAt >= LOG_INTERVAL_MS) {
      LOG.warn(
          "Cannot store {} live bias alert(s) in {} ({} {} so far), failing for {} s; they are"
              + " kept in the job's checkpoints and tried again in {} s. The job fails after {}"
              + " min of failures (GENGUARD_BIAS_ALERT_OUTAGE_MINUTES). The alerts are on"
              + " bias.alerts meanwhile",
          due.size(),
          jdbcUrl,
          ALERT_WRITE_FAILURES,
          failures.getCount(),
          (now - failingSince) / 1000,
          backoff / 1000,
          outageLimitMillis / 60_000);
      loggedAt = now;
    }
  }

  private boolean tryStore() {
    try {
      if (connection == null || connection.isClosed()) {
        Properties properties = new Properties();
        if (user != null) {
          properties.setProperty("user", user);
        }
        if (password != null) {
          properties.setProperty("password", password);
        }
        // A database that does not answer fails a try in seconds, not the TCP timeout: the try
        // holds up this task (and so the next checkpoint's barrier) while it waits.
        properties.setProperty("connectTimeout", "5");
        properties.setProperty("loginTimeout", "10");
        properties.setProperty("socketTimeout", "10");
        connection = DriverManager.getConnection(jdbcUrl, properties);
      }
      try {
        LiveAlertRepository.insert(connection, due);
        due.clear();
      } catch (SQLException e) {
        if (!refusesForContent(e)) {
          throw e;
        }
        storeOneByOne();
      }
      return true;
    } catch (SQLException e) {
      LOG.debug("Insert of live bias alerts failed", e);
      closeConnection();
      return false;
    }
  }

  /**
   * Inserts the due alerts one at a time, dropping each that the database refuses for what it
   * holds; any other error stops here, the alerts not yet stored still due.
   */
  private void storeOneByOne() throws SQLException {
    for (Iterator<LiveAlert> alerts = due.iterator(); alerts.hasNext(); ) {
      LiveAlert alert = alerts.next();
      try {
        LiveAlertRepository.insert(connection, List.of(alert));
      } catch (SQLException e) {
        if (!refusesForContent(e)) {
          throw e;
        }
        refused.inc();
        LOG.error(
            "The alert database {} refuses live bias alert {} for good (SQLState {}): {}. It is"
                + " dropped from the job's state ({} {} so far); it is on bias.alerts and in the"
                + " audit log",
            jdbcUrl,
            alert.alertId(),
            state(e),
            LogText.databaseRefusal(e),
            ALERTS_REFUSED_BY_DATABASE,
            refused.getCount());
      }
      alerts.remove();
    }
  }

  /**
   * Whether the database refused the insert for what an alert holds (class 22, data exception; 23,
   * integrity constraint violation): a refusal that no retry changes.
   */
  static boolean refusesForContent(SQLException e) {
    String state = state(e);
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  private static String state(SQLException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return e.getNextException() == null ? null : e.getNextException().getSQLState();
  }

  @Override
  public void close() throws Exception {
    int left = awaiting();
    if (left > 0) {
      LOG.warn(
          "Closing with {} live bias alert(s) not yet stored in {}: they are in the job's latest"
              + " checkpoint or savepoint if their checkpoint completed, and on bias.alerts",
          left,
          jdbcUrl);
    }
    closeConnection();
    super.close();
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // Closing after a failure; the failure itself has been counted.
      }
      connection = null;
    }
  }

  static LiveAlert liveAlert(BiasAlert alert) {
    return new LiveAlert(
        alert.alertId,
        alert.model,
        Instant.ofEpochMilli(alert.windowStart),
        Instant.ofEpochMilli(alert.windowEnd),
        alert.groupsCompared,
        alert.tests,
        alert.correction,
        alert.alpha,
        alert.findings,
        Instant.ofEpochMilli(alert.detectedAt));
  }

  private static byte[] encode(LiveAlert alert) throws IOException {
    JdbcAlertSink.AlertSerializer serializer = new JdbcAlertSink.AlertSerializer();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(serializer.getVersion());
      byte[] body = serializer.serialize(alert);
      out.writeInt(body.length);
      out.write(body);
    }
    return bytes.toByteArray();
  }

  private static LiveAlert decode(byte[] bytes) throws IOException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int version = in.readInt();
      byte[] body = in.readNBytes(in.readInt());
      return new JdbcAlertSink.AlertSerializer().deserialize(version, body);
    }
  }
}
