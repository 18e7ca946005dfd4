package io.genguard.audit.explain;

import io.genguard.audit.json.CanonicalJson;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
   * The verdicts of {@code requests} in chain order, or without them the newest {@code limit},
   * newest first. A verdict whose payload retention removed is left out.
   */
  public static List<Row> load(DataSource dataSource, List<String> requests, int limit)
      throws SQLException {
    String select =
        "select v.payload as verdict, o.payload as output, gates.gate"
            + " from audit_log v"
            + " left join moderation_verdict mv on mv.event_id = v.event_id"
            + " left join generation_output go on go.output_id = mv.output_id"
            + " left join audit_log o on o.event_id = go.event_id"
            // What the gate did on the verdict, oldest first: outcome, basis, review action.
            + " left join lateral (select string_agg(g.outcome || ' ' || g.basis || coalesce(' '"
            + " || r.action || ' by ' || r.reviewer, ''), ', ' order by g.decided_at) as gate"
            + " from gate_outcome g left join review_decision r on r.review_id = g.review_id"
            + " where g.verdict_id = mv.verdict_id) gates on true"
            // A verdict whose payload retention removed is gone; it cannot be judged again.
            + " where v.event_type = 'ModerationVerdict' and v.payload is not null";
    String sql =
        requests.isEmpty()
            ? select + " order by v.seq desc limit ?"
            : select + " and v.request_id = any (?) order by v.seq";
    List<Row> rows = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      if (requests.isEmpty()) {
        statement.setInt(1, limit);
      } else {
        statement.setArray(1, connection.createArrayOf("text", requests.toArray()));
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
