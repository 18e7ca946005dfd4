package io.genguard.audit.bias;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;

/**
 * A stored bias report's bodies (JSON, CSV, HTML), kept in pieces of {@link #PIECE_CHARS}
 * characters ({@code bias_report_piece}, migration V30), every piece but the last full, so that a
 * body is served a piece at a time with each piece read by its key: a piece of one text column made
 * PostgreSQL decompress and count the text up to it. Pieces are written and read one at a time, so
 * neither the driver's bytes nor the database's answer ever hold a whole body.
 */
public final class ReportBodies {
  /** Characters (code points, as PostgreSQL counts them) in each piece but the last: 1 Mi. */
  public static final int PIECE_CHARS = 1 << 20;

  private ReportBodies() {}

  /** Stores {@code body} as the report's {@code format} body, replacing what it had. */
  public static void write(
      Connection connection, String reportId, BiasReports.Format format, String body)
      throws SQLException {
    try (PreparedStatement delete =
        connection.prepareStatement(
            "delete from bias_report_piece where report_id = ? and format = ?")) {
      delete.setString(1, reportId);
      delete.setString(2, format.name());
      delete.executeUpdate();
    }
    try (PreparedStatement insert =
        connection.prepareStatement(
            "insert into bias_report_piece (report_id, format, piece, body) values (?, ?, ?, ?)")) {
      int from = 0;
      int piece = 0;
      do {
        int to = from;
        for (int n = 0; n < PIECE_CHARS && to < body.length(); n++) {
          to += Character.charCount(body.codePointAt(to));
        }
        insert.setString(1, reportId);
        insert.setString(2, format.name());
        insert.setInt(3, piece++);
        insert.setString(4, body.substring(from, to));
        insert.executeUpdate();
        from = to;
      } while (from < body.length());
    }
  }

  /**
   * The report's {@code format} body whole, read a piece at a time; null when it has none (no such
   * report).
   */
  public static String read(Connection connection, String reportId, BiasReports.Format format)
      throws SQLException {
    StringBuilder body = null;
    try (PreparedStatement query =
        connection.prepareStatement(
            "select body from bias_report_piece where report_id = ? and format = ? and piece = ?")) {
      for (int piece = 0; ; piece++) {
        String text = piece(query, reportId, format, piece);
        if (text == null) {
          return body == null ? null : body.toString();
        }
        if (body == null) {
          body = new StringBuilder(text.length());
        }
        body.append(text);
      }
    }
  }

  /** The SHA-256 of the body's UTF-8 bytes, hex, read a piece at a time; null when it has none. */
  public static String sha256(Connection connection, String reportId, BiasReports.Format format)
      throws SQLException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM has SHA-256", e);
    }
    try (PreparedStatement query =
        connection.prepareStatement(
            "select body from bias_report_piece where report_id = ? and format = ? and piece = ?")) {
      for (int piece = 0; ; piece++) {
        String text = piece(query, reportId, format, piece);
        if (text == null) {
          return piece == 0 ? null : HexFormat.of().formatHex(digest.digest());
        }
        digest.update(text.getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  /** The body's length in characters (code points), from its last piece; -1 when it has none. */
  static long characters(Connection connection, String reportId, BiasReports.Format format)
      throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "select piece, char_length(body) from bias_report_piece where report_id = ?"
                + " and format = ? order by piece desc limit 1")) {
      query.setString(1, reportId);
      query.setString(2, format.name());
      try (ResultSet rs = query.executeQuery()) {
        return rs.next() ? (long) rs.getInt(1) * PIECE_CHARS + rs.getInt(2) : -1;
      }
    }
  }

  /** One piece of a body, or null when it has no such piece. */
  static String piece(
      PreparedStatement query, String reportId, BiasReports.Format format, int piece)
      throws SQLException {
    query.setString(1, reportId);
    query.setString(2, format.name());
    query.setInt(3, piece);
    try (ResultSet rs = query.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
