package io.genguard.bias.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Live bias alerts in {@code bias_audit.live_alert}. Writes are idempotent on the alert id (a
 * window replayed after a job restart inserts nothing new), which makes the job's at-least-once
 * JDBC sink effectively exactly-once.
 */
public final class LiveAlertRepository {
  static final String INSERT =
      "insert into bias_audit.live_alert (alert_id, model, window_start, window_end,"
          + " groups_compared, tests, correction, alpha, findings, detected_at) values (?, ?, ?, ?,"
          + " ?, ?, ?, ?, cast(? as jsonb), ?) on conflict (alert_id) do nothing";

  private LiveAlertRepository() {}

  /** Inserts the alerts not yet stored, in one transaction on {@code connection}. */
  public static int insert(Connection connection, List<LiveAlert> alerts) throws SQLException {
    if (alerts.isEmpty()) {
      return 0;
    }
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
      for (LiveAlert alert : alerts) {
        insert.setString(1, alert.alertId());
        insert.setString(2, alert.model());
        insert.setTimestamp(3, Timestamp.from(alert.windowStart()));
        insert.setTimestamp(4, Timestamp.from(alert.windowEnd()));
        insert.setInt(5, alert.groupsCompared());
        insert.setInt(6, alert.tests());
        insert.setString(7, alert.correction());
        insert.setDouble(8, alert.alpha());
        insert.setString(9, alert.findings());
        insert.setTimestamp(10, Timestamp.from(alert.detectedAt()));
        insert.addBatch();
      }
      int inserted = 0;
      for (int count : insert.executeBatch()) {
        inserted += Math.max(0, count);
      }
      connection.commit();
      return inserted;
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** The newest alerts first. */
  public static List<LiveAlert> newest(DataSource dataSource, int limit) {
    List<LiveAlert> alerts = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select =
            connection.prepareStatement(
                "select alert_id, model, window_start, window_end, groups_compared, tests,"
                    + " correction, alpha, findings::text, detected_at from bias_audit.live_alert"
                    + " order by window_end desc, model limit ?")) {
      select.setInt(1, limit);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          alerts.add(
              new LiveAlert(
                  rows.getString(1),
                  rows.getString(2),
                  rows.getTimestamp(3).toInstant(),
                  rows.getTimestamp(4).toInstant(),
                  rows.getInt(5),
                  rows.getInt(6),
                  rows.getString(7),
                  rows.getDouble(8),
                  rows.getString(9),
                  rows.getTimestamp(10).toInstant()));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot read live bias alerts: " + e.getMessage(), e);
    }
    return alerts;
  }
}
