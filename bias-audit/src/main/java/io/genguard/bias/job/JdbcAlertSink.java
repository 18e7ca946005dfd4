package io.genguard.bias.job;

import io.genguard.bias.persistence.LiveAlert;
import io.genguard.bias.persistence.LiveAlertRepository;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes live bias alerts to {@code bias_audit.live_alert}. Buffered alerts are written when Flink
 * flushes the writer, which it does before every checkpoint completes; inserts are idempotent on
 * the deterministic alert id, so the replay after a failure writes nothing twice (at-least-once
 * delivery, exactly-once effect).
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

  @Override
  public SinkWriter<BiasAlert> createWriter(WriterInitContext context) {
    return new Writer();
  }

  private final class Writer implements SinkWriter<BiasAlert> {
    private final List<LiveAlert> buffer = new ArrayList<>();
    private Connection connection;

    @Override
    public void write(BiasAlert alert, Context context) {
      buffer.add(
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
    public void flush(boolean endOfInput) throws IOException {
      if (buffer.isEmpty()) {
        return;
      }
      try {
        if (connection == null || connection.isClosed()) {
          connection = DriverManager.getConnection(jdbcUrl, user, password);
        }
        LiveAlertRepository.insert(connection, buffer);
        buffer.clear();
      } catch (SQLException e) {
        closeQuietly();
        throw new IOException(
            "Cannot write "
                + buffer.size()
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
}
