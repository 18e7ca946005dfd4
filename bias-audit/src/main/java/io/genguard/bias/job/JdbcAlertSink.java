package io.genguard.bias.job;

import io.genguard.bias.persistence.LiveAlert;
import io.genguard.bias.persistence.LiveAlertRepository;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Writes live bias alerts to {@code bias_audit.live_alert} once the checkpoint that produced them
 * has completed, as the exactly-once Kafka sink makes them visible on {@code bias.alerts}: the
 * writer hands its alerts to Flink as committables at the checkpoint barrier, and the committer
 * inserts them when the checkpoint is complete (again after a failure, from the checkpoint, which
 * is why the inserts are idempotent on the deterministic alert id). An alert of a checkpoint that
 * failed is never written: the replay decides that window again, and its alert, or none, is the one
 * stored. (Until the thirty-eighth session the writer inserted at the flush before each checkpoint,
 * so a row could outlive a failed checkpoint and disagree with the replay.)
 */
final class JdbcAlertSink implements Sink<BiasAlert>, SupportsCommitter<LiveAlert> {
  private static final long serialVersionUID = 1L;

  private final String jdbcUrl;
  private final String user;
  private final String password;

  JdbcAlertSink(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  @Override
  public SinkWriter<BiasAlert> createWriter(WriterInitContext context) {
    return new Writer();
  }

  @Override
  public Committer<LiveAlert> createCommitter(CommitterInitContext context) {
    return new AlertCommitter();
  }

  @Override
  public SimpleVersionedSerializer<LiveAlert> getCommittableSerializer() {
    return new AlertSerializer();
  }

  /** Keeps the alerts of the current checkpoint until its barrier. */
  static final class Writer implements CommittingSinkWriter<BiasAlert, LiveAlert> {
    private final List<LiveAlert> pending = new ArrayList<>();

    @Override
    public void write(BiasAlert alert, Context context) {
      pending.add(
          new LiveAlert(
              alert.alertId,
              alert.model,
              Instant.ofEpochMilli(alert.windowStart),
              Instant.ofEpochMilli(alert.windowEnd),
              alert.groupsCompared,
              alert.tests,
              alert.correction,
              alert.alpha,
              alert.findings,
              Instant.ofEpochMilli(alert.detectedAt)));
    }

    @Override
    public void flush(boolean endOfInput) {
      // Nothing is written before its checkpoint completes; prepareCommit hands the alerts over.
    }

    @Override
    public Collection<LiveAlert> prepareCommit() {
      List<LiveAlert> committables = List.copyOf(pending);
      pending.clear();
      return committables;
    }

    @Override
    public void close() {}
  }

  /** Inserts the alerts of completed checkpoints, all of one call in one batch. */
  final class AlertCommitter implements Committer<LiveAlert> {
    private Connection connection;

    @Override
    public void commit(Collection<CommitRequest<LiveAlert>> requests) throws IOException {
      if (requests.isEmpty()) {
        return;
      }
      List<LiveAlert> alerts = new ArrayList<>(requests.size());
      requests.forEach(request -> alerts.add(request.getCommittable()));
      try {
        if (connection == null || connection.isClosed()) {
          connection = DriverManager.getConnection(jdbcUrl, user, password);
        }
        LiveAlertRepository.insert(connection, alerts);
      } catch (SQLException e) {
        closeQuietly();
        // The job fails over and commits them again from the completed checkpoint.
        throw new IOException(
            "Cannot write "
                + alerts.size()
                + " live bias alert(s) to "
                + jdbcUrl
                + ": "
                + e.getMessage(),
            e);
      }
    }

    @Override
    public void close() {
      closeQuietly();
    }

    private void closeQuietly() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException ignored) {
          // Closing after a failure; the failure itself has been reported.
        }
        connection = null;
      }
    }
  }

  /** An alert as it waits in a checkpoint for its commit. */
  static final class AlertSerializer implements SimpleVersionedSerializer<LiveAlert> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(LiveAlert alert) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        writeString(out, alert.alertId());
        writeString(out, alert.model());
        out.writeLong(alert.windowStart().toEpochMilli());
        out.writeLong(alert.windowEnd().toEpochMilli());
        out.writeInt(alert.groupsCompared());
        out.writeInt(alert.tests());
        writeString(out, alert.correction());
        out.writeDouble(alert.alpha());
        writeString(out, alert.findings());
        out.writeLong(alert.detectedAt().toEpochMilli());
      }
      return bytes.toByteArray();
    }

    @Override
    public LiveAlert deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1) {
        throw new IOException("Unknown live-alert committable version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        return new LiveAlert(
            readString(in),
            readString(in),
            Instant.ofEpochMilli(in.readLong()),
            Instant.ofEpochMilli(in.readLong()),
            in.readInt(),
            in.readInt(),
            readString(in),
            in.readDouble(),
            readString(in),
            Instant.ofEpochMilli(in.readLong()));
      }
    }

    /** Length-prefixed UTF-8: the findings JSON can exceed writeUTF's 64 KiB. */
    private static void writeString(DataOutputStream out, String value) throws IOException {
      byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
      out.writeInt(bytes.length);
      out.write(bytes);
    }

    private static String readString(DataInputStream in) throws IOException {
      return new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
    }
  }
}
