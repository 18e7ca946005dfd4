package io.genguard.audit.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** Read side of the audit store: a request's full story and counts. Parameterised SQL only. */
public final class AuditQueries {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final DataSource dataSource;

  public AuditQueries(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Everything recorded about one request, or empty if the request is unknown. */
  public Optional<ObjectNode> story(String requestId) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      ObjectNode story = JSON.createObjectNode();
      ArrayNode requests = rows(connection, "select * from generation_request where request_id = ?", requestId);
      ArrayNode outputs = rows(connection,
          "select * from generation_output where request_id = ? order by generated_at", requestId);
      ArrayNode failures = rows(connection,
          "select * from generation_failure where request_id = ? order by failed_at", requestId);
      ArrayNode verdicts = rows(connection,
          "select * from moderation_verdict where request_id = ? order by decided_at", requestId);
      ArrayNode outcomes = rows(connection,
          "select * from gate_outcome where request_id = ? order by decided_at", requestId);
      ArrayNode reviews = rows(connection,
          "select * from review_decision where request_id = ? order by decided_at", requestId);
      if (requests.isEmpty() && outputs.isEmpty() && verdicts.isEmpty()) {
        return Optional.empty();
      }
      story.put("requestId", requestId);
      story.set("request", requests.isEmpty() ? null : requests.get(0));
      story.set("outputs", outputs);
      story.set("failures", failures);
      story.set("verdicts", verdicts);
      story.set("gateOutcomes", outcomes);
      story.set("reviews", reviews);
      story.put("status", status(outcomes, failures));
      return Optional.of(story);
    }
  }

  private static String status(ArrayNode outcomes, ArrayNode failures) {
    if (!failures.isEmpty()) {
      return "FAILED";
    }
    if (outcomes.isEmpty()) {
      return "IN_PROGRESS";
    }
    return outcomes.get(outcomes.size() - 1).get("outcome").asText();
  }

  /** Totals over the whole store. */
  public Map<String, Long> summary() throws SQLException {
    String sql = "select"
        + " (select count(*) from generation_request) as requests,"
        + " (select count(*) from generation_output) as outputs,"
        + " (select count(*) from generation_failure) as failures,"
        + " (select count(*) from moderation_verdict) as verdicts,"
        + " (select count(*) from gate_outcome where outcome = 'RELEASED') as released,"
        + " (select count(*) from gate_outcome where outcome = 'QUARANTINED') as quarantined,"
        + " (select count(*) from gate_outcome g where outcome = 'HELD_FOR_REVIEW' and not exists"
        + "   (select 1 from gate_outcome f where f.request_id = g.request_id"
        + "    and f.outcome in ('RELEASED', 'QUARANTINED'))) as awaiting_review,"
        + " (select count(*) from dead_letter) as dead_letters,"
        + " (select count(*) from audit_log) as audit_records";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rs = statement.executeQuery()) {
      rs.next();
      Map<String, Long> counts = new LinkedHashMap<>();
      ResultSetMetaData meta = rs.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        counts.put(meta.getColumnLabel(i), rs.getLong(i));
      }
      return counts;
    }
  }

  /**
   * Per-request completeness for a set of requests: how many have exactly one output, one verdict
   * and a final or held gate outcome. Used by the demo and the invariant tests.
   */
  public Completeness completeness(Collection<String> requestIds) throws SQLException {
    String sql = "with ids as (select unnest(?::text[]) as request_id),"
        + " per as (select ids.request_id,"
        + "   (select count(*) from generation_request r where r.request_id = ids.request_id) as requests,"
        + "   (select count(*) from generation_output o where o.request_id = ids.request_id) as outputs,"
        + "   (select count(*) from generation_failure f where f.request_id = ids.request_id) as failures,"
        + "   (select count(*) from moderation_verdict v where v.request_id = ids.request_id) as verdicts,"
        + "   (select count(*) from gate_outcome g where g.request_id = ids.request_id"
        + "      and g.outcome = 'RELEASED') as released,"
        + "   (select count(*) from gate_outcome g where g.request_id = ids.request_id"
        + "      and g.outcome = 'QUARANTINED') as quarantined,"
        + "   (select count(*) from gate_outcome g where g.request_id = ids.request_id"
        + "      and g.outcome = 'HELD_FOR_REVIEW') as held,"
        + "   (select count(*) from gate_outcome g join moderation_verdict v on v.verdict_id = g.verdict_id"
        + "      where g.request_id = ids.request_id and g.outcome = 'RELEASED' and g.basis = 'VERDICT'"
        + "      and v.decision <> 'RELEASE') as released_without_release_verdict"
        + "   from ids)"
        + " select count(*) filter (where requests = 1),"
        + "  coalesce(sum(outputs), 0), count(*) filter (where outputs = 1),"
        + "  coalesce(sum(failures), 0),"
        + "  coalesce(sum(verdicts), 0), count(*) filter (where verdicts = 1),"
        + "  count(*) filter (where released > 0), count(*) filter (where quarantined > 0),"
        + "  count(*) filter (where held > 0 and released = 0 and quarantined = 0),"
        + "  count(*) filter (where released + quarantined + held > 0),"
        + "  count(*) filter (where released > 1),"
        + "  coalesce(sum(released_without_release_verdict), 0)"
        + " from per";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      Array ids = connection.createArrayOf("text", requestIds.toArray());
      statement.setArray(1, ids);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return new Completeness(requestIds.size(), rs.getLong(1), rs.getLong(2), rs.getLong(3),
            rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9),
            rs.getLong(10), rs.getLong(11), rs.getLong(12));
      }
    }
  }

  /**
   * Counts over a set of requests.
   *
   * @param requested how many request ids were asked about
   * @param audited requests persisted exactly once
   * @param outputs output rows in total
   * @param withOneOutput requests with exactly one output
   * @param failures generation failures in total
   * @param verdicts verdict rows in total
   * @param withOneVerdict requests with exactly one verdict
   * @param released requests released
   * @param quarantined requests quarantined
   * @param awaitingReview requests held for review and not yet decided
   * @param gated requests with any gate outcome
   * @param releasedTwice requests released more than once (must be 0)
   * @param releasedWithoutReleaseVerdict released on a verdict that was not RELEASE (must be 0)
   */
  public record Completeness(long requested, long audited, long outputs, long withOneOutput,
      long failures, long verdicts, long withOneVerdict, long released, long quarantined,
      long awaitingReview, long gated, long releasedTwice, long releasedWithoutReleaseVerdict) {

    /** Every request generated, judged and gated (or failed with a recorded reason). */
    public boolean settled() {
      return audited == requested && gated + failures >= requested;
    }
  }

  private static ArrayNode rows(Connection connection, String sql, String param) throws SQLException {
    ArrayNode rows = JSON.createArrayNode();
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, param);
      try (ResultSet rs = statement.executeQuery()) {
        ResultSetMetaData meta = rs.getMetaData();
        while (rs.next()) {
          ObjectNode row = rows.addObject();
          for (int i = 1; i <= meta.getColumnCount(); i++) {
            row.set(camel(meta.getColumnLabel(i)), value(rs, i, meta.getColumnType(i), meta.getColumnTypeName(i)));
          }
        }
      }
    }
    return rows;
  }

  private static JsonNode value(ResultSet rs, int column, int type, String typeName) throws SQLException {
    Object raw = rs.getObject(column);
    if (raw == null) {
      return JSON.nullNode();
    }
    if ("jsonb".equals(typeName) || "json".equals(typeName)) {
      try {
        return JSON.readTree(rs.getString(column));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new SQLException("Stored JSON does not parse", e);
      }
    }
    if (type == Types.ARRAY) {
      ArrayNode array = JSON.createArrayNode();
      for (Object element : (Object[]) rs.getArray(column).getArray()) {
        array.add(String.valueOf(element));
      }
      return array;
    }
    if (type == Types.TIMESTAMP || type == Types.TIMESTAMP_WITH_TIMEZONE) {
      return JSON.getNodeFactory().textNode(rs.getObject(column, OffsetDateTime.class).toInstant().toString());
    }
    if (type == Types.BINARY || type == Types.VARBINARY) {
      return JSON.getNodeFactory().textNode(java.util.Base64.getEncoder().encodeToString(rs.getBytes(column)));
    }
    return JSON.valueToTree(raw);
  }

  private static String camel(String column) {
    StringBuilder out = new StringBuilder();
    boolean upper = false;
    for (char c : column.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }
}
