package io.genguard.audit.persistence;

import io.genguard.audit.json.CanonicalJson;
import io.genguard.events.v1.ModerationVerdict;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Gives verdicts recorded before migration V35, which have no judgement digest ({@code
 * audit_log.judgement_sha256}), the one {@link AuditWriter} records with every verdict since,
 * computed from their payload before retention or an erasure removes it: the writer compares a
 * verdict judged again with it, so that the same output judged again after the removal is a
 * redelivery and not an {@code event_id_conflict}. There is no backfill in SQL because the
 * canonical form is Java's ({@link CanonicalJson}). The digest is not on the hash chain, as those
 * of verdicts recorded since V35 are not.
 */
public final class JudgementDigests {
  private static final String WITHOUT_ONE =
      "select seq, payload from audit_log where event_type = 'ModerationVerdict'"
          + " and judgement_sha256 is null and payload is not null and ";

  private JudgementDigests() {}

  /**
   * Gives the verdicts among the records {@code seqs} that have none their judgement digest; to be
   * called in the transaction that removes their content, before it does.
   *
   * @return how many verdicts got one
   */
  public static int keepOfRecords(Connection connection, Collection<Long> seqs)
      throws SQLException {
    if (seqs.isEmpty()) {
      return 0;
    }
    try (PreparedStatement select = connection.prepareStatement(WITHOUT_ONE + "seq = any(?)")) {
      select.setArray(1, connection.createArrayOf("bigint", seqs.toArray()));
      return keep(connection, select);
    }
  }

  /**
   * Gives the verdicts of request {@code requestId} that have none their judgement digest; to be
   * called in the transaction of its erasure, before it removes their content.
   *
   * @return how many verdicts got one
   */
  public static int keepOfRequest(Connection connection, String requestId) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(WITHOUT_ONE + "request_id = ?")) {
      select.setString(1, requestId);
      return keep(connection, select);
    }
  }

  private static int keep(Connection connection, PreparedStatement select) throws SQLException {
    List<Long> seqs = new ArrayList<>();
    List<String> digests = new ArrayList<>();
    try (ResultSet rs = select.executeQuery()) {
      while (rs.next()) {
        String digest = digestOf(rs.getString(2));
        if (digest != null) {
          seqs.add(rs.getLong(1));
          digests.add(digest);
        }
      }
    }
    if (seqs.isEmpty()) {
      return 0;
    }
    try (PreparedStatement update =
        connection.prepareStatement(
            "update audit_log a set judgement_sha256 = decode(d.digest, 'hex')"
                + " from unnest(?::bigint[], ?::text[]) d (seq, digest)"
                + " where a.seq = d.seq and a.judgement_sha256 is null")) {
      update.setArray(1, connection.createArrayOf("bigint", seqs.toArray()));
      update.setArray(2, connection.createArrayOf("text", digests.toArray()));
      return update.executeUpdate();
    }
  }

  /**
   * The judgement digest of a recorded verdict's payload, as {@link AuditWriter} compares a verdict
   * read again with one whose payload it reads back; null when the payload cannot be read as a
   * verdict (the record is then compared by its payload's digest only, as before).
   */
  private static String digestOf(String payload) {
    ModerationVerdict verdict;
    try {
      verdict = CanonicalJson.toRecord(payload, ModerationVerdict.class);
    } catch (RuntimeException e) {
      return null;
    }
    return AuditWriter.judgementSha256(verdict);
  }
}
