package io.genguard.bias.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.bias.campaign.PlannedSample;
import io.genguard.bias.persistence.SampleOutcome.Failure;
import io.genguard.bias.persistence.SampleOutcome.JudgedOutput;
import io.genguard.moderation.policy.ReasonCodes;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * Reads what the audit service persisted about a campaign's requests: verdicts, outputs, failures,
 * requests (to reconcile submissions) and the bias-aggregation job's campaign metrics. Read only:
 * the audit service owns {@code public.*}.
 *
 * <p>A campaign counts only its own tenant's events (the tenant its requests run as, {@code
 * bias_audit.campaign.tenant_id}): any submitter can name a campaign's id in its requests'
 * attributes, and the API binds a request to its token's tenant, so the tenant is what tells the
 * campaign's requests from others naming it. Those others are counted by {@link
 * #otherTenantRequests} and named in the report, never analysed.
 */
public final class AuditStoreReader {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, Double>> SCORES = new TypeReference<>() {};

  private final DataSource dataSource;
  private final CampaignRepository campaigns;

  public AuditStoreReader(DataSource dataSource) {
    this.dataSource = dataSource;
    this.campaigns = new CampaignRepository(dataSource);
  }

  /** Every planned sample of the campaign with what became of it, in sample order. */
  public List<SampleOutcome> outcomes(String campaignId) {
    List<PlannedSample> samples = campaigns.samples(campaignId);
    Map<Integer, List<String>> submissions = campaigns.submissions(campaignId);
    Map<String, JudgedOutput> verdicts = new HashMap<>();
    Map<String, Failure> failures = new HashMap<>();
    try (Connection connection = dataSource.getConnection()) {
      requireAuditTables(connection);
      try (PreparedStatement select =
          connection.prepareStatement(
              "select v.request_id, v.verdict_id, v.decision, v.unsafe_score,"
                  + " v.category_scores::text, v.groups, v.decided_at, o.text, o.backend,"
                  + " o.model_name, o.model_version,"
                  + " (select r->>'code' || ': ' || coalesce(r->>'message', '')"
                  + " from jsonb_array_elements(v.reasons) r"
                  + " where r->>'code' in ("
                  + ReasonCodes.SCORER_FAILURES.stream()
                      .map(code -> "'" + code + "'")
                      .collect(Collectors.joining(", "))
                  + ") limit 1)"
                  + " from bias_audit.campaign_submission s"
                  + " join bias_audit.campaign c on c.campaign_id = s.campaign_id"
                  + " join public.moderation_verdict v on v.request_id = s.request_id"
                  + " and v.tenant_id = c.tenant_id"
                  + " left join public.generation_output o on o.output_id = v.output_id"
                  + " and o.tenant_id = v.tenant_id"
                  + " where s.campaign_id = ? order by v.decided_at, v.verdict_id")) {
        select.setString(1, campaignId);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            String requestId = rows.getString(1);
            String model =
                rows.getString(9) == null
                    ? "unknown"
                    : rows.getString(9) + "/" + rows.getString(10) + "@" + rows.getString(11);
            // The first scored verdict per request wins (a re-judged output keeps its first
            // verdict here); one decided without scores only until a scored one comes, as the
            // aggregation job, which skips those, counts the first scored one.
            JudgedOutput judged =
                new JudgedOutput(
                    requestId,
                    rows.getString(2),
                    rows.getString(3),
                    rows.getDouble(4),
                    scores(rows.getString(5)),
                    Arrays.asList((String[]) rows.getArray(6).getArray()),
                    rows.getString(8) == null ? "" : rows.getString(8),
                    model,
                    rows.getTimestamp(7).toInstant(),
                    rows.getString(12));
            verdicts.merge(
                requestId,
                judged,
                (first, later) ->
                    first.scorerFailure() != null && later.scorerFailure() == null ? later : first);
          }
        }
      }
      try (PreparedStatement select =
          connection.prepareStatement(
              "select f.request_id, f.code, f.reason from bias_audit.campaign_submission s"
                  + " join bias_audit.campaign c on c.campaign_id = s.campaign_id"
                  + " join public.generation_failure f on f.request_id = s.request_id"
                  + " and f.tenant_id = c.tenant_id"
                  + " where s.campaign_id = ?")) {
        select.setString(1, campaignId);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            failures.putIfAbsent(
                rows.getString(1),
                new Failure(rows.getString(1), rows.getString(2), rows.getString(3)));
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot read the outcomes of campaign " + campaignId + ": " + e.getMessage(), e);
    }
    List<SampleOutcome> outcomes = new ArrayList<>(samples.size());
    for (PlannedSample sample : samples) {
      List<String> requestIds = submissions.getOrDefault(sample.sampleIndex(), List.of());
      Optional<JudgedOutput> judged =
          requestIds.stream()
              .map(verdicts::get)
              .filter(v -> v != null)
              .min(
                  Comparator.comparing((JudgedOutput v) -> v.scorerFailure() != null)
                      .thenComparing(JudgedOutput::decidedAt));
      Optional<Failure> failure =
          requestIds.stream().map(failures::get).filter(f -> f != null).findFirst();
      outcomes.add(new SampleOutcome(sample, requestIds, judged, failure));
    }
    return outcomes;
  }

  /**
   * A request of the campaign's tenant that the audit store holds for the campaign.
   *
   * @param requestId the request id the API assigned
   * @param sampleAttribute its {@code campaign.sample} attribute as written, or null without one:
   *     not necessarily a sample of the plan (the API does not check it)
   */
  public record ClaimedRequest(String requestId, String sampleAttribute) {}

  /**
   * Requests of the campaign's tenant the audit store holds for the campaign, earliest submitted
   * first, with the sample index their attributes claim: the way to recover request ids whose
   * submission was accepted but not recorded (a crash between the API's answer and the database
   * write). Requests of other tenants naming the campaign are not the campaign's: taking one would
   * let another tenant fill a sample. The claimed index is the submitter's word, unchecked: the
   * caller checks it against the plan.
   */
  public List<ClaimedRequest> requestsInAuditStore(String campaignId) {
    List<ClaimedRequest> found = new ArrayList<>();
    try (Connection connection = dataSource.getConnection()) {
      requireAuditTables(connection);
      try (PreparedStatement select =
          connection.prepareStatement(
              "select r.request_id, r.attributes->>'campaign.sample'"
                  + " from public.generation_request r"
                  + " join bias_audit.campaign c on c.campaign_id = ? and r.tenant_id = c.tenant_id"
                  + " where r.attributes->>'campaign.id' = c.campaign_id"
                  + " order by r.submitted_at, r.request_id")) {
        select.setString(1, campaignId);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            found.add(new ClaimedRequest(rows.getString(1), rows.getString(2)));
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot look up the requests of campaign " + campaignId + ": " + e.getMessage(), e);
    }
    return found;
  }

  /**
   * Requests of other tenants than the campaign's that name its id ({@code campaign.id}): not
   * counted anywhere in the campaign, only reported (a compliance team wants to know that another
   * tenant's traffic claimed to belong to its audit).
   */
  public long otherTenantRequests(String campaignId) {
    try (Connection connection = dataSource.getConnection()) {
      requireAuditTables(connection);
      try (PreparedStatement select =
          connection.prepareStatement(
              "select count(*) from public.generation_request r"
                  + " join bias_audit.campaign c on c.campaign_id = ?"
                  + " where r.attributes @> jsonb_build_object('campaign.id', c.campaign_id)"
                  + " and r.tenant_id <> c.tenant_id")) {
        select.setString(1, campaignId);
        try (ResultSet rows = select.executeQuery()) {
          rows.next();
          return rows.getLong(1);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot count other tenants' requests naming campaign "
              + campaignId
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The bias-aggregation job's newest CAMPAIGN-scope figures per group (from bias.metrics) of the
   * campaign's own tenant; figures from before metrics named their tenant (BiasMetric v1) only
   * where the job published none that names it.
   */
  public Map<String, StreamMetric> streamMetrics(String campaignId) {
    Map<String, StreamMetric> metrics = new LinkedHashMap<>();
    try (Connection connection = dataSource.getConnection()) {
      requireAuditTables(connection);
      try (PreparedStatement select =
          connection.prepareStatement(
              "select distinct on (m.group_name) m.group_name, m.count, m.unsafe_count,"
                  + " m.block_count, m.review_count, m.release_count, m.computed_at"
                  + " from public.bias_metric m"
                  + " join bias_audit.campaign c on c.campaign_id = m.campaign_id"
                  + " where m.scope = 'CAMPAIGN' and m.campaign_id = ?"
                  + " and (m.tenant_id = c.tenant_id or m.tenant_id is null)"
                  + " order by m.group_name, m.tenant_id is null, m.count desc,"
                  + " m.computed_at desc")) {
        select.setString(1, campaignId);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            metrics.put(
                rows.getString(1),
                new StreamMetric(
                    rows.getString(1),
                    rows.getLong(2),
                    rows.getLong(3),
                    rows.getLong(4),
                    rows.getLong(5),
                    rows.getLong(6)));
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot read the bias metrics of campaign " + campaignId + ": " + e.getMessage(), e);
    }
    return metrics;
  }

  /** One group's running totals as the Flink job last published them. */
  public record StreamMetric(
      String group,
      long count,
      long unsafeCount,
      long blockCount,
      long reviewCount,
      long releaseCount) {}

  private static Map<String, Double> scores(String json) {
    try {
      return json == null ? Map.of() : JSON.readValue(json, SCORES);
    } catch (IOException e) {
      throw new IllegalStateException("Unreadable category scores in the audit store: " + json, e);
    }
  }

  private static void requireAuditTables(Connection connection) throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select to_regclass('public.moderation_verdict') is not null")) {
      try (ResultSet rows = select.executeQuery()) {
        rows.next();
        if (!rows.getBoolean(1)) {
          throw new IllegalStateException(
              "The audit tables (public.moderation_verdict, public.generation_request, ...) are not"
                  + " in this database; point the JDBC URL at the GenGuard audit database");
        }
      }
    }
  }
}
