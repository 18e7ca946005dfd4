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
 * The judgement digests ({@code audit_log.judgement_sha256}) that verdicts keep when retention or
 * an erasure removes their content: each that of its payload read back into the current class,
 * computed before the payload goes. The writer compares a verdict judged again with it, so that the
 * same output judged again after the removal is a redelivery and not an {@code event_id_conflict}.
 * A verdict recorded before migration V35 has none; one recorded since by a writer whose schema
 * lacked a nullable field added later has the digest of its payload without that key, which the
 * same verdict read again now has as null (the writer decides by the payload while it is stored,
 * {@link AuditWriter}). Both are given the digest of the payload read back, which has the field as
 * null: computed from the very payload that was recorded, it names the judgement that was recorded,
 * as the writer's comparison with the payload did. A payload with a key the current class lacks (a
 * newer writer's) keeps its digest. There is no backfill in SQL because the canonical form is
 * Java's ({@link CanonicalJson}). The digest is not on the hash chain, as those of verdicts
 * recorded since V35 are not.
 */
public final class JudgementDigests {
  private static final String VERDICTS =
      "select seq, payload, judgement_sha256 from audit_log"
          + " where event_type = 'ModerationVerdict' and payload is not null and ";

  private final List<Long> seqs;
  private final List<String> digests;

  private JudgementDigests(List<Long> seqs, List<String> digests) {
    this.seqs = seqs;
    this.digests = digests;
  }

  /**
   * The digests the verdicts among the records {@code seqs} are to keep, where they differ from
   * theirs. Reads and parses their payloads, so a caller that knows the records before it takes the
   * chain lock computes them there ({@link #keep} checks that each payload is still stored).
   */
  public static JudgementDigests ofRecords(Connection connection, Collection<Long> seqs)
      throws SQLException {
    if (seqs.isEmpty()) {
      return new JudgementDigests(List.of(), List.of());
    }
    try (PreparedStatement select = connection.prepareStatement(VERDICTS + "seq = any(?)")) {
      select.setArray(1, connection.createArrayOf("bigint", seqs.toArray()));
      return of(select);
    }
  }

  /**
   * The digests the verdicts of request {@code requestId} are to keep, where they differ from
   * theirs; computed in the transaction of its erasure, after it took the chain lock, so that no
   * verdict of the request recorded meanwhile is left out.
   */
  public static JudgementDigests ofRequest(Connection connection, String requestId)
      throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(VERDICTS + "request_id = ?")) {
      select.setString(1, requestId);
      return of(select);
    }
  }

  /**
   * Gives the verdicts their digest; to be called in the transaction that removes their content,
   * before it does. A verdict whose payload is gone meanwhile (an erasure that came in between
   * reading and this) keeps the digest that removal left: an upgraded one's, of the same payload.
   *
   * @return how many verdicts got one
   */
  public int keep(Connection connection) throws SQLException {
    if (seqs.isEmpty()) {
      return 0;
    }
    try (PreparedStatement update =
        connection.prepareStatement(
            "update audit_log a set judgement_sha256 = decode(d.digest, 'hex')"
                + " from unnest(?::bigint[], ?::text[]) d (seq, digest)"
                + " where a.seq = d.seq and a.payload is not null"
                + " and a.judgement_sha256 is distinct from decode(d.digest, 'hex')")) {
      update.setArray(1, connection.createArrayOf("bigint", seqs.toArray()));
      update.setArray(2, connection.createArrayOf("text", digests.toArray()));
      return update.executeUpdate();
    }
  }

  private static JudgementDigests of(PreparedStatement select) throws SQLException {
    List<Long> seqs = new ArrayList<>();
    List<String> digests = new ArrayList<>();
    try (ResultSet rs = select.executeQuery()) {
      while (rs.next()) {
        String digest = digestOf(rs.getString(2));
        byte[] kept = rs.getBytes(3);
        if (digest != null && (kept == null || !digest.equals(AuditChain.hex(kept)))) {
          seqs.add(rs.getLong(1));
          digests.add(digest);
        }
      }
    }
    return new JudgementDigests(seqs, digests);
  }

  /**
   * The judgement digest of a recorded verdict's payload, as {@link AuditWriter} compares a verdict
   * read again with one whose payload it reads back; null when the payload cannot be read as a
   * verdict (the record keeps what it has: compared by its digests only, as before). Also null when
   * the payload has a key, at any level, that the current class lacks: a newer writer recorded it
   * (an older instance's retention or erasure during a rolling upgrade), and its digest, which has
   * that key, is the right one; the payload read back would drop it.
   */
  private static String digestOf(String payload) {
    ModerationVerdict verdict;
    try {
      verdict = CanonicalJson.toRecordOfKnownFields(payload, ModerationVerdict.class);
    } catch (RuntimeException e) {
      return null;
    }
    return AuditWriter.judgementSha256(verdict);
  }
}
