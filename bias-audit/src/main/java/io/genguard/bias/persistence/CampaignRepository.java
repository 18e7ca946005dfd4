package io.genguard.bias.persistence;

import io.genguard.bias.campaign.PlannedSample;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** Campaigns, their planned samples and the request ids they were submitted under. */
public final class CampaignRepository {
  private final DataSource dataSource;

  public CampaignRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Thrown when a campaign id is already taken. */
  public static final class DuplicateCampaignException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DuplicateCampaignException(String campaignId) {
      super(
          "A campaign with id '"
              + campaignId
              + "' already exists; resume it (./genguard audit campaign --resume "
              + campaignId
              + ") or give the new one another id");
    }
  }

  /** Stores the campaign and every planned sample in one transaction. */
  public void insertPlan(CampaignRecord campaign, List<PlannedSample> samples) {
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      try {
        if (exists(connection, campaign.campaignId())) {
          throw new DuplicateCampaignException(campaign.campaignId());
        }
        try (PreparedStatement insert =
            connection.prepareStatement(
                "insert into bias_audit.campaign (campaign_id, name, design, tenant_id, backend,"
                    + " model, samples_per_group, group_names, template_count, planned_samples,"
                    + " spec, spec_sha256, data_sources, created_at) values (?, ?, ?, ?, ?, ?, ?,"
                    + " ?, ?, ?, cast(? as jsonb), ?, cast(? as jsonb), ?)")) {
          insert.setString(1, campaign.campaignId());
          insert.setString(2, campaign.name());
          insert.setString(3, campaign.design());
          insert.setString(4, campaign.tenantId());
          insert.setString(5, campaign.backend());
          insert.setString(6, campaign.model());
          insert.setInt(7, campaign.samplesPerGroup());
          insert.setArray(8, connection.createArrayOf("text", campaign.groups().toArray()));
          insert.setInt(9, campaign.templateCount());
          insert.setInt(10, campaign.plannedSamples());
          insert.setString(11, campaign.spec());
          insert.setString(12, campaign.specSha256());
          insert.setString(13, campaign.dataSources());
          insert.setTimestamp(14, Timestamp.from(campaign.createdAt()));
          insert.executeUpdate();
        }
        try (PreparedStatement insert =
            connection.prepareStatement(
                "insert into bias_audit.campaign_sample (campaign_id, sample_index, group_name,"
                    + " slot, template_index, template, term, prompt, seed)"
                    + " values (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          int batched = 0;
          for (PlannedSample sample : samples) {
            insert.setString(1, campaign.campaignId());
            insert.setInt(2, sample.sampleIndex());
            insert.setString(3, sample.group());
            insert.setInt(4, sample.slot());
            insert.setInt(5, sample.templateIndex());
            insert.setString(6, sample.template());
            insert.setString(7, sample.term());
            insert.setString(8, sample.prompt());
            insert.setLong(9, sample.seed());
            insert.addBatch();
            if (++batched % 500 == 0) {
              insert.executeBatch();
            }
          }
          insert.executeBatch();
        }
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot store the plan of campaign " + campaign.campaignId() + ": " + e.getMessage(), e);
    }
  }

  /** Records that a sample was submitted as {@code requestId} (idempotent on the request id). */
  public void recordSubmission(
      String campaignId, int sampleIndex, String requestId, String source, Instant at) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement insert =
            connection.prepareStatement(
                "insert into bias_audit.campaign_submission (request_id, campaign_id,"
                    + " sample_index, submitted_at, source) values (?, ?, ?, ?, ?)"
                    + " on conflict (request_id) do nothing")) {
      insert.setString(1, requestId);
      insert.setString(2, campaignId);
      insert.setInt(3, sampleIndex);
      insert.setTimestamp(4, Timestamp.from(at));
      insert.setString(5, source);
      insert.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot record the submission of sample "
              + sampleIndex
              + " of campaign "
              + campaignId
              + " as request "
              + requestId
              + ": "
              + e.getMessage(),
          e);
    }
  }

  public Optional<CampaignRecord> find(String campaignId) {
    List<CampaignRecord> found =
        query("select * from bias_audit.campaign where campaign_id = ?", campaignId);
    return found.stream().findFirst();
  }

  /** Every campaign, newest first. */
  public List<CampaignRecord> list() {
    return query("select * from bias_audit.campaign order by created_at desc", null);
  }

  /** The planned samples, in sample order. */
  public List<PlannedSample> samples(String campaignId) {
    List<PlannedSample> samples = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select =
            connection.prepareStatement(
                "select sample_index, group_name, slot, template_index, template, term, prompt,"
                    + " seed from bias_audit.campaign_sample where campaign_id = ?"
                    + " order by sample_index")) {
      select.setString(1, campaignId);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          samples.add(
              new PlannedSample(
                  rows.getInt(1),
                  rows.getString(2),
                  rows.getInt(3),
                  rows.getInt(4),
                  rows.getString(5),
                  rows.getString(6),
                  rows.getString(7),
                  rows.getLong(8)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot read the samples of campaign " + campaignId + ": " + e.getMessage(), e);
    }
    return samples;
  }

  /** Sample index to the request ids it was submitted under, oldest first. */
  public Map<Integer, List<String>> submissions(String campaignId) {
    Map<Integer, List<String>> submissions = new LinkedHashMap<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select =
            connection.prepareStatement(
                "select sample_index, request_id from bias_audit.campaign_submission"
                    + " where campaign_id = ? order by sample_index, submitted_at, request_id")) {
      select.setString(1, campaignId);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          submissions
              .computeIfAbsent(rows.getInt(1), i -> new ArrayList<>())
              .add(rows.getString(2));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot read the submissions of campaign " + campaignId + ": " + e.getMessage(), e);
    }
    return submissions;
  }

  private boolean exists(Connection connection, String campaignId) throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement("select 1 from bias_audit.campaign where campaign_id = ?")) {
      select.setString(1, campaignId);
      try (ResultSet rows = select.executeQuery()) {
        return rows.next();
      }
    }
  }

  private List<CampaignRecord> query(String sql, String parameter) {
    List<CampaignRecord> campaigns = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement select = connection.prepareStatement(sql)) {
      if (parameter != null) {
        select.setString(1, parameter);
      }
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          Array groups = rows.getArray("group_names");
          campaigns.add(
              new CampaignRecord(
                  rows.getString("campaign_id"),
                  rows.getString("name"),
                  rows.getString("design"),
                  rows.getString("tenant_id"),
                  rows.getString("backend"),
                  rows.getString("model"),
                  rows.getInt("samples_per_group"),
                  Arrays.asList((String[]) groups.getArray()),
                  rows.getInt("template_count"),
                  rows.getInt("planned_samples"),
                  rows.getString("spec"),
                  rows.getString("spec_sha256"),
                  rows.getString("data_sources"),
                  rows.getTimestamp("created_at").toInstant()));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot read campaigns: " + e.getMessage(), e);
    }
    return campaigns;
  }
}
