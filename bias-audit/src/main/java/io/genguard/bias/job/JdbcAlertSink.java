package io.genguard.bias.job;

import io.genguard.bias.persistence.LiveAlert;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Where live bias alerts are stored: {@code bias_audit.live_alert} of this database. {@link
 * BiasAggregationJob#buildPipeline} wires it as a {@link LiveAlertWriter}, an operator that stores
 * an alert once its checkpoint completes and keeps it in its checkpoints through an outage of the
 * database; it is a {@link Sink} only so that the pipeline takes it where tests give their own
 * sinks, and has no writer of its own.
 *
 * <p>From the thirty-eighth to the fortieth session this was a sink whose committer inserted the
 * alerts and failed the whole job at the first failed insert.
 */
final class JdbcAlertSink implements Sink<BiasAlert> {
  private static final long serialVersionUID = 1L;

  private final String jdbcUrl;
  private final String user;
  private final String password;

  JdbcAlertSink(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  /** The operator that stores the alerts, failing the job after {@code outageLimit} of outage. */
  LiveAlertWriter writer(Duration outageLimit) {
    return new LiveAlertWriter(jdbcUrl, user, password, outageLimit);
  }

  @Override
  public SinkWriter<BiasAlert> createWriter(WriterInitContext context) {
    throw new UnsupportedOperationException(
        "live alerts go to the alert database through LiveAlertWriter (BiasAggregationJob)");
  }

  /** An alert as it waits in a checkpoint to be stored (the format of the committer's days). */
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
