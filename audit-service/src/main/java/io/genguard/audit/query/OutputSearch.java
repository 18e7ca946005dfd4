package io.genguard.audit.query;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Searches judged outputs (a verdict joined with its output and its gate outcome: the release, or
 * else the latest; a decision the gate restated counts as its outcome), newest verdict first, with
 * keyset pagination on (decided_at, verdict_id).
 *
 * <p>The SQL is assembled only from constant fragments, one per filter that is present (so the
 * planner sees the real predicates and can use the indexes); every value is a bound parameter.
 */
public final class OutputSearch {
  public static final int MAX_PAGE = 200;

  /**
   * Rows an export reads in one query and holds while it writes them: the search's largest page.
   */
  static final int EXPORT_PAGE = 200;

  private static final String SELECT =
      "select v.verdict_id, v.request_id, v.output_id, v.tenant_id,"
          + " v.decision, v.unsafe_score, v.category_scores, v.reasons, v.groups, v.policy_id,"
          + " v.policy_version, v.decided_at, o.model_name, o.model_version, o.backend, o.generated_at,"
          + " o.text, g.outcome, g.basis, g.decided_at as gated_at, rt.retracted_at,"
          // Whether the row's request has an event id conflict (the story lists them), and one no
          // resend explains: as the eventIdConflict filter keeps the rows.
          + " "
          + conflict(false)
          + " as event_id_conflict, "
          + conflict(true)
          + " as event_id_conflict_unexplained"
          + " from moderation_verdict v"
          // By the tenant too: two tenants' outputs under one request id share the output id.
          + " left join generation_output o on o.output_id = v.output_id"
          + " and o.tenant_id = v.tenant_id"
          + " left join lateral (select outcome, basis, decided_at from (select outcome, basis,"
          + "   decided_at, 0 as restated from gate_outcome x where x.output_id = v.output_id"
          + "   and x.tenant_id = v.tenant_id"
          // What the gate restated of a decision whose outcome never reached this store (an
          // erased request's output was quarantined), with basis RESTATED: the story has the rest.
          // Once the outcome it stands for is on record after all, that record is shown instead.
          + "   union all select case y.decision when 'ERASED' then 'QUARANTINED' else y.decision"
          + "   end, 'RESTATED', y.decided_at, 1 from gate_restatement_unrecorded y"
          + "   where y.output_id = v.output_id and y.tenant_id = v.tenant_id) z"
          // A release is final: it stays the outcome shown whatever the gate wrote after it.
          + "   order by (z.outcome = 'RELEASED') desc, z.decided_at desc, z.restated limit 1) g"
          + " on true"
          // Taken down after its release (content.retractions): when.
          + " left join lateral (select retracted_at from content_retraction r"
          + "   where r.output_id = v.output_id and r.tenant_id = v.tenant_id"
          + "   order by r.retracted_at limit 1) rt on true";

  /**
   * Whether a row's request has an event id conflict of the row's tenant (or, with {@code
   * unexplained}, one no resend explains): other content naming the row's request and tenant, or
   * read under the id of one of that tenant's records under the request id. Two tenants may use one
   * request id: before the fiftieth session this joined by request id alone, so a conflict of one
   * tenant flagged (and the filter kept) the other tenant's rows. A conflict's content, or the
   * record it contests, of no tenant (a global erasure notice) cannot be placed with a tenant: it
   * flags every tenant's rows under the id.
   */
  private static String conflict(boolean unexplained) {
    String explained = unexplained ? " and not c.after_resend" : "";
    return "(exists (select 1 from event_id_conflict c where c.request_id = v.request_id"
        + " and (c.tenant_id = v.tenant_id or c.tenant_id is null)"
        + explained
        + ") or exists (select 1 from audit_log a join event_id_conflict c"
        + " on c.event_id = a.event_id where a.request_id = v.request_id"
        + " and (a.tenant_id = v.tenant_id or a.tenant_id is null)"
        + explained
        + "))";
  }

  private final DataSource dataSource;
  private final ReadTimeout readTimeout;

  public OutputSearch(DataSource dataSource) {
    this(dataSource, ReadTimeout.DEFAULT);
  }

  /**
   * @param readTimeout how long the query of a page (of a search or an export) may run ({@link
   *     QueryTimedOutException} beyond it)
   */
  public OutputSearch(DataSource dataSource, ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.readTimeout = readTimeout;
  }

  /** One page of results and the cursor of the next page (null on the last page). */
  public record Page(ArrayNode items, String nextCursor) {}

  /** Receives exported rows one at a time (no full result in memory). */
  @FunctionalInterface
  public interface RowSink {
    void accept(ObjectNode row) throws java.io.IOException;
  }

  public Page search(SearchFilter filter, Cursor after, int limit) throws SQLException {
    if (limit < 1 || limit > MAX_PAGE) {
      throw new IllegalArgumentException("limit must be 1.." + MAX_PAGE);
    }
    Query query = query(filter, after, limit + 1);
    return readTimeout.read(
        dataSource,
        connection -> {
          ArrayNode items = JsonNodeFactory.instance.arrayNode();
          String next = null;
          try (PreparedStatement statement = query.prepare(connection);
              ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
              if (items.size() == limit) {
                ObjectNode last = (ObjectNode) items.get(items.size() - 1);
                next =
                    new Cursor(
                            Instant.parse(last.get("decidedAt").asText()),
                            last.get("verdictId").asText())
                        .encode();
                break;
              }
              items.add(JsonRows.row(rs));
            }
          }
          return new Page(items, next);
        });
  }

  /**
   * Writes up to {@code max} matching rows to {@code sink}, newest first, reading them {@value
   * #EXPORT_PAGE} at a time with the search's keyset cursor, each page in one short query whose
   * connection is back in the pool before the page is written. A client that reads slowly, or not
   * at all, thus holds no connection and no transaction open: the pool is shared by token checks,
   * every route and the ingestors. Each page sees the database as it is when it is read (no single
   * snapshot): a row recorded during the export with an older verdict time than the page reached is
   * included, one newer than it is not, and no row is written twice. Each page's query may run at
   * most the read timeout ({@link QueryTimedOutException}).
   *
   * @return rows written; {@code max + 1} is never reached, so a result of {@code max} may mean
   *     more rows matched
   */
  public long export(SearchFilter filter, int max, RowSink sink)
      throws SQLException, java.io.IOException {
    long written = 0;
    Cursor after = null;
    while (written < max) {
      int limit = (int) Math.min(EXPORT_PAGE, max - written);
      Query query = query(filter, after, limit);
      List<ObjectNode> page =
          readTimeout.read(
              dataSource,
              connection -> {
                List<ObjectNode> rows = new ArrayList<>(limit);
                try (PreparedStatement statement = query.prepare(connection);
                    ResultSet rs = statement.executeQuery()) {
                  while (rs.next()) {
                    rows.add(JsonRows.row(rs));
                  }
                }
                return rows;
              });
      for (ObjectNode row : page) {
        sink.accept(row);
        written++;
      }
      if (page.size() < limit) {
        break;
      }
      ObjectNode last = page.get(page.size() - 1);
      after =
          new Cursor(Instant.parse(last.get("decidedAt").asText()), last.get("verdictId").asText());
    }
    return written;
  }

  private static Query query(SearchFilter filter, Cursor after, int limit) {
    StringBuilder sql = new StringBuilder(SELECT).append(" where true");
    List<Object> parameters = new ArrayList<>();
    if (filter.tenant() != null) {
      sql.append(" and v.tenant_id = ?");
      parameters.add(filter.tenant());
    }
    if (filter.decision() != null) {
      sql.append(" and v.decision = ?");
      parameters.add(filter.decision());
    }
    if (filter.attribute() != null) {
      // A data subject's outputs: the request was submitted with this attribute (answered by the
      // requests' attribute index), by the verdict's tenant: two tenants may use one request id,
      // and the attribute is one tenant's request's (before the forty-ninth session, any tenant's
      // verdict under the id matched).
      sql.append(
          " and (v.request_id, v.tenant_id) in (select r.request_id, r.tenant_id"
              + " from generation_request r where r.attributes @> jsonb_build_object(?::text, ?::text))");
      parameters.add(filter.attribute().key());
      parameters.add(filter.attribute().value());
    }
    if (filter.category() != null) {
      // Flagged in the category: a reason in that category that alone calls for REVIEW or BLOCK.
      sql.append(" and (v.reasons @> ?::jsonb or v.reasons @> ?::jsonb)");
      parameters.add(reasonPattern(filter.category(), "REVIEW"));
      parameters.add(reasonPattern(filter.category(), "BLOCK"));
      if (filter.minScore() != null) {
        sql.append(" and (v.category_scores ->> ?)::float8 >= ?");
        parameters.add(filter.category());
        parameters.add(filter.minScore());
      }
    }
    if (filter.eventIdConflict() != SearchFilter.ConflictFilter.ANY) {
      // The requests with a conflict: few, so found from the conflicts' side. Unexplained: only
      // the rows no resend explains (not after_resend), which raise GenGuardEventIdConflict.
      // Then the row's tenant's alone, as the flags say (two tenants may use one request id).
      boolean unexplained = filter.eventIdConflict() == SearchFilter.ConflictFilter.UNEXPLAINED;
      sql.append(
          " and v.request_id in (select c.request_id from event_id_conflict c"
              + " where c.request_id is not null"
              + (unexplained ? " and not c.after_resend" : "")
              + " union select a.request_id"
              + " from event_id_conflict c join audit_log a on a.event_id = c.event_id"
              + (unexplained ? " where not c.after_resend" : "")
              + ") and "
              + conflict(unexplained));
    }
    if (filter.group() != null) {
      sql.append(" and v.groups @> array[?::text]");
      parameters.add(filter.group());
    }
    if (filter.from() != null) {
      sql.append(" and v.decided_at >= ?");
      parameters.add(utc(filter.from()));
    }
    if (filter.to() != null) {
      sql.append(" and v.decided_at < ?");
      parameters.add(utc(filter.to()));
    }
    if (filter.outcome() != null) {
      if (filter.outcome().equals("PENDING")) {
        sql.append(" and g.outcome is null");
      } else if (filter.outcome().equals("RETRACTED")) {
        sql.append(" and rt.retracted_at is not null");
      } else {
        sql.append(" and g.outcome = ?");
        parameters.add(filter.outcome());
      }
    }
    if (after != null) {
      sql.append(" and (v.decided_at, v.verdict_id) < (?, ?)");
      parameters.add(after.timeColumn());
      parameters.add(after.id());
    }
    sql.append(" order by v.decided_at desc, v.verdict_id desc limit ?");
    parameters.add(limit);
    return new Query(sql.toString(), parameters);
  }

  private static String reasonPattern(String category, String decision) {
    ArrayNode pattern = JsonNodeFactory.instance.arrayNode();
    pattern.addObject().put("category", category).put("decision", decision);
    return CanonicalJson.write(pattern);
  }

  private static OffsetDateTime utc(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  /** SQL text from constant fragments and its bound parameters. */
  private record Query(String sql, List<Object> parameters) {
    PreparedStatement prepare(Connection connection) throws SQLException {
      PreparedStatement statement = connection.prepareStatement(sql);
      try {
        for (int i = 0; i < parameters.size(); i++) {
          statement.setObject(i + 1, parameters.get(i));
        }
      } catch (SQLException e) {
        statement.close();
        throw e;
      }
      return statement;
    }
  }
}
