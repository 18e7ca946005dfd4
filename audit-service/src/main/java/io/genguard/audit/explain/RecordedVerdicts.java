package io.genguard.audit.explain;

import io.genguard.audit.InvalidInputException;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Recorded verdicts with the outputs they judged, read from their hash-chained records (not from a
 * query projection), for judging them again ({@code audit replay}, {@code audit what-if} and the
 * what-if route).
 */
public final class RecordedVerdicts {
  private RecordedVerdicts() {}

  /**
   * One verdict as the chain recorded it.
   *
   * @param output the output's payload, null when retention removed it
   * @param gate what the gate did on the verdict, oldest first ("RELEASED VERDICT",
   *     "HELD_FOR_REVIEW VERDICT, RELEASED REVIEW APPROVE by rita"), null when nothing yet
   */
  public record Row(String verdict, String output, String gate) {
    public PolicyWhatIf.Recorded decoded() {
      return new PolicyWhatIf.Recorded(
          CanonicalJson.toRecord(verdict, ModerationVerdict.class),
          output == null ? null : CanonicalJson.toRecord(output, GenerationOutput.class));
    }
  }

  /**
   * Which recorded verdicts to judge again: given requests' verdicts in chain order, or else the
   * newest {@code limit} (or, with {@code spread}, {@code limit} spread over the selection) of one
   * tenant's or every tenant's verdicts decided in {@code [since, until)}.
   *
   * @param requests requests whose verdicts to take; when not empty nothing else may be set
   * @param tenantId only this tenant's verdicts, or null for every tenant's
   * @param since only verdicts decided at or after this, or null
   * @param until only verdicts decided before this, or null
   * @param spread take {@code limit} verdicts spread over the whole selection (ordered by a digest
   *     of their ids, so the same store gives the same ones) instead of the newest
   * @param limit at most this many, without requests
   */
  public record Selection(
      List<String> requests,
      String tenantId,
      Instant since,
      Instant until,
      boolean spread,
      int limit) {

    /**
     * @throws InvalidInputException for requests combined with anything else, a tenant id that
     *     cannot be one, or a window that ends before it starts
     */
    public Selection {
      requests = List.copyOf(requests);
      if (!requests.isEmpty() && (tenantId != null || since != null || until != null || spread)) {
        throw new InvalidInputException(
            "Verdicts are chosen either by request or by tenant, time and sample, not both");
      }
      InvalidInputException.tenantOrNull("tenant", tenantId);
      if (since != null && until != null && !since.isBefore(until)) {
        throw new InvalidInputException(
            "since (" + since + ") must be before until (" + until + ")");
      }
    }

    /** Whether anything but the newest {@code limit} of every tenant's verdicts is asked for. */
    boolean narrowed() {
      return tenantId != null || since != null || until != null || spread;
    }

    /** The newest {@code limit} verdicts of every tenant. */
    public static Selection newest(int limit) {
      return new Selection(List.of(), null, null, null, false, limit);
    }

    /** The given requests' verdicts. */
    public static Selection of(List<String> requests) {
      return new Selection(requests, null, null, null, false, Integer.MAX_VALUE);
    }

    /** In words, for messages: "the newest 100 verdicts of tenant acme decided before ...". */
    public String describe() {
      if (!requests.isEmpty()) {
        return "the verdicts of " + String.join(", ", requests);
      }
      return (spread ? limit + " verdicts spread over those" : "the newest " + limit + " verdicts")
          + (tenantId == null ? "" : " of tenant " + tenantId)
          + (since == null ? "" : " decided from " + since)
          + (until == null ? "" : (since == null ? " decided" : "") + " before " + until);
    }

    /** The selection as the what-if action records it (only what was set). */
    public Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      if (tenantId != null) {
        map.put("tenantId", tenantId);
      }
      if (since != null) {
        map.put("since", since.toString());
      }
      if (until != null) {
        map.put("until", until.toString());
      }
      map.put("sample", spread ? "spread" : "newest");
      map.put("limit", limit);
      return map;
    }
  }

  /**
   * The selected verdicts: the requests' in chain order, or else newest first. A verdict whose
   * payload retention removed is left out.
   *
   * <p>One tenant's, a window's or a spread sample are chosen from the verdicts' projection before
   * their records are read: on a store of 1,000,000 verdicts (docs/experiments) a tenant's newest
   * 500 took 23-44 ms to choose and a sample spread over all of them about 1 s.
   */
  public static List<Row> load(DataSource dataSource, Selection selection) throws SQLException {
    List<Object> parameters = new ArrayList<>();
    // Which verdicts first, then their outputs and gate outcomes for those alone.
    StringBuilder picked = new StringBuilder();
    if (!selection.requests().isEmpty() || !selection.narrowed()) {
      picked.append(
          "select v.event_id from audit_log v"
              // A verdict whose payload retention removed is gone; it cannot be judged again.
              + " where v.event_type = 'ModerationVerdict' and v.payload is not null");
      if (selection.requests().isEmpty()) {
        picked.append(" order by v.seq desc limit ?");
      } else {
        picked.append(" and v.request_id = any (?)");
        parameters.add(selection.requests());
      }
    } else {
      // Chosen from the projection alone, joined to the chain only for the verdicts taken:
      // retention deletes a verdict's row when it removes the payload, so each can be judged.
      picked.append("select mv.event_id from moderation_verdict mv where true");
      if (selection.tenantId() != null) {
        picked.append(" and mv.tenant_id = ?");
        parameters.add(selection.tenantId());
      }
      if (selection.since() != null) {
        picked.append(" and mv.decided_at >= ?");
        parameters.add(selection.since());
      }
      if (selection.until() != null) {
        picked.append(" and mv.decided_at < ?");
        parameters.add(selection.until());
      }
      // A digest of the id spreads a sample over the whole selection, the same one every time.
      picked.append(
          selection.spread()
              ? " order by md5(mv.event_id) limit ?"
              // The projection's (decided_at, verdict_id) indexes, with or without a tenant.
              : " order by mv.decided_at desc, mv.verdict_id desc limit ?");
    }
    if (selection.requests().isEmpty()) {
      parameters.add(selection.limit());
    }
    String sql =
        "with picked as ("
            + picked
            + ") select v.payload as verdict, o.payload as output, gates.gate"
            + " from picked join audit_log v on v.event_id = picked.event_id"
            // Through the request's index: the projections have none on the event or verdict id.
            + " left join moderation_verdict mv"
            + " on mv.request_id = v.request_id and mv.event_id = v.event_id"
            + " left join generation_output go on go.output_id = mv.output_id"
            + " and go.tenant_id = mv.tenant_id"
            + " left join audit_log o on o.event_id = go.event_id"
            // What the gate did on the verdict, oldest first: outcome, basis, review action; and
            // what it restated of a decision on the output whose outcome this store never got
            // (the basis the restatement names, UNNAMED when it names none, the output's latest
            // review, marked "(restated)").
            + " left join lateral (select string_agg(x.gate, ', ' order by x.decided_at) as gate"
            + " from (select g.outcome || ' ' || g.basis || coalesce(' ' || r.action || ' by '"
            + " || r.reviewer, '') as gate, g.decided_at from gate_outcome g"
            + " left join review_decision r on r.review_id = g.review_id"
            + " where g.request_id = mv.request_id and g.verdict_id = mv.verdict_id"
            + " and g.tenant_id = mv.tenant_id"
            + " union all select s.decision || ' ' || coalesce(s.outcome_basis, 'UNNAMED')"
            + " || coalesce(' ' || d.action || ' by ' || d.reviewer, '') || ' (restated)',"
            + " s.decided_at from gate_restatement_unrecorded s left join lateral (select action,"
            + " reviewer from review_decision e where e.request_id = s.request_id"
            + " and e.output_id = s.output_id and e.tenant_id = s.tenant_id"
            + " order by e.decided_at desc limit 1) d on true"
            + " where s.request_id = mv.request_id and s.output_id = mv.output_id"
            + " and s.tenant_id = mv.tenant_id) x) gates on true"
            + " where v.payload is not null"
            + (selection.requests().isEmpty() ? " order by v.seq desc" : " order by v.seq");
    List<Row> rows = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < parameters.size(); i++) {
        Object parameter = parameters.get(i);
        if (parameter instanceof List<?> list) {
          statement.setArray(i + 1, connection.createArrayOf("text", list.toArray()));
        } else if (parameter instanceof Instant instant) {
          statement.setObject(i + 1, instant.atOffset(ZoneOffset.UTC));
        } else {
          statement.setObject(i + 1, parameter);
        }
      }
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getString("verdict"), rs.getString("output"), rs.getString("gate")));
        }
      }
    }
    return rows;
  }
}
