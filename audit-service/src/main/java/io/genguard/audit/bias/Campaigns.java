package io.genguard.audit.bias;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.JsonRows;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.ForbiddenException;
import io.genguard.schemas.CampaignAttributeKeys;
import io.genguard.schemas.EventIds;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Bias-audit campaigns as records: what was asked (the definition, as the bias-audit feature
 * describes it), its status and headline numbers. Creation and status changes are audited.
 */
public final class Campaigns {
  private static final Pattern STATUS = Pattern.compile("[A-Z][A-Z_]{0,31}");

  /** The statuses of a campaign whose requests the API takes ({@link #checkCampaignAttributes}). */
  public static final Set<String> OPEN = Set.of("CREATED", "RUNNING");

  private final DataSource dataSource;
  private final Clock clock;
  private final ReadTimeout readTimeout;

  public Campaigns(DataSource dataSource, Clock clock) {
    this(dataSource, clock, ReadTimeout.DEFAULT);
  }

  /**
   * @param readTimeout how long the query of a caller's {@link #list} or {@link #get}, and that of
   *     the check of a submission's campaign ({@link #checkCampaignAttributes}), may run ({@link
   *     QueryTimedOutException} beyond it)
   */
  public Campaigns(DataSource dataSource, Clock clock, ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.readTimeout = readTimeout;
  }

  /**
   * A campaign to record.
   *
   * @param campaignId id, or null to generate one
   * @param tenantId the tenant whose verdicts the campaign counts (its requests run as it); null
   *     for a record over all tenants, which counts no tenant's campaign figures ({@link
   *     BiasReports#otherTenantFigures} lists them): every tenant may name a campaign's id
   * @param name short human name
   * @param status e.g. CREATED, RUNNING, COMPLETED, FAILED
   * @param definition the campaign as submitted (model, templates, groups, samples)
   */
  public record NewCampaign(
      String campaignId, String tenantId, String name, String status, JsonNode definition) {}

  public String create(NewCampaign campaign, Caller caller) throws SQLException {
    if (campaign.name() == null || campaign.name().isBlank() || campaign.definition() == null) {
      throw new InvalidInputException("A campaign needs a name and a definition");
    }
    String status = status(campaign.status());
    if (!caller.canSee(campaign.tenantId())) {
      throw new ForbiddenException(
          "A token of tenant '" + caller.tenantId() + "' may only create its own campaigns");
    }
    String id = campaign.campaignId() == null ? EventIds.random() : campaign.campaignId();
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "insert into campaign (campaign_id, tenant_id, name, status, definition, created_at, created_by)"
                      + " values (?, ?, ?, ?, ?::jsonb, ?, ?)")) {
            insert.setString(1, id);
            insert.setString(2, campaign.tenantId());
            insert.setString(3, campaign.name());
            insert.setString(4, status);
            insert.setString(5, CanonicalJson.write(campaign.definition()));
            insert.setObject(6, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
            insert.setString(7, caller.describe());
            insert.executeUpdate();
          }
          ActionLog.Action action =
              ActionLog.Action.of("campaign.create", campaign.tenantId(), null, id);
          action.details().put("name", campaign.name()).put("status", status);
          ActionLog.record(connection, caller, action, now);
          return null;
        });
    return id;
  }

  /**
   * Refuses a request whose attributes name a campaign ({@link CampaignAttributeKeys}) unless
   * {@code campaign.id} is an open campaign ({@link #OPEN}) of the request's tenant that this store
   * lists: a completed one takes no more requests. The bias job counts such a request toward that
   * campaign and leaves it out of live monitoring, so otherwise a tenant could hide requests from
   * monitoring under any id. Whether another tenant has a campaign of that id is not said.
   *
   * @throws InvalidInputException naming what to change
   * @throws QueryTimedOutException when its query ran longer than the read timeout (nothing was
   *     decided)
   */
  public void checkCampaignAttributes(String tenant, Map<String, String> attributes)
      throws SQLException {
    if (!CampaignAttributeKeys.namesCampaign(attributes)) {
      return;
    }
    String campaignId = attributes.get(CampaignAttributeKeys.ID);
    if (campaignId == null) {
      throw new InvalidInputException(
          "attributes under '"
              + CampaignAttributeKeys.PREFIX
              + "' are reserved for the requests of a bias campaign; name the campaign in '"
              + CampaignAttributeKeys.ID
              + "', or use other keys");
    }
    String status =
        readTimeout.read(
            dataSource,
            connection -> {
              try (PreparedStatement select =
                  connection.prepareStatement(
                      "select status from campaign where campaign_id = ? and tenant_id = ?")) {
                select.setString(1, campaignId);
                select.setString(2, tenant);
                try (ResultSet rs = select.executeQuery()) {
                  return rs.next() ? rs.getString(1) : null;
                }
              }
            });
    if (status == null) {
      throw new InvalidInputException(
          "attribute '"
              + CampaignAttributeKeys.ID
              + "' names no bias campaign of tenant '"
              + tenant
              + "' ('"
              + campaignId.substring(0, Math.min(64, campaignId.length()))
              + "'): attributes under '"
              + CampaignAttributeKeys.PREFIX
              + "' are reserved for the requests of a campaign of the request's tenant that"
              + " the audit service lists (./genguard audit campaign registers one before it"
              + " submits)");
    }
    if (!OPEN.contains(status)) {
      throw new InvalidInputException(
          "bias campaign '"
              + campaignId
              + "' of tenant '"
              + tenant
              + "' is "
              + status
              + " and takes no more requests; ./genguard audit campaign --resume "
              + campaignId
              + " opens it again for the samples it submits");
    }
  }

  /** Moves a campaign to a new status, optionally with headline numbers (audited). */
  public void updateStatus(String campaignId, String status, JsonNode summary, Caller caller)
      throws SQLException {
    String newStatus = status(status);
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          String tenant;
          try (PreparedStatement select =
              connection.prepareStatement(
                  "select tenant_id from campaign where campaign_id = ? for update")) {
            select.setString(1, campaignId);
            try (ResultSet rs = select.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString(1))) {
                throw notFound(campaignId);
              }
              tenant = rs.getString(1);
            }
          }
          try (PreparedStatement update =
              connection.prepareStatement(
                  "update campaign set status = ?, summary = coalesce(?::jsonb, summary),"
                      + " started_at = case when ? = 'RUNNING' and started_at is null then ? else started_at end,"
                      + " completed_at = case when ? in ('COMPLETED', 'FAILED', 'CANCELLED') then ? else completed_at end"
                      + " where campaign_id = ?")) {
            OffsetDateTime at = OffsetDateTime.ofInstant(now, ZoneOffset.UTC);
            update.setString(1, newStatus);
            update.setString(2, summary == null ? null : CanonicalJson.write(summary));
            update.setString(3, newStatus);
            update.setObject(4, at);
            update.setString(5, newStatus);
            update.setObject(6, at);
            update.setString(7, campaignId);
            update.executeUpdate();
          }
          ActionLog.Action action =
              ActionLog.Action.of("campaign.status", tenant, null, campaignId);
          action.details().put("status", newStatus);
          ActionLog.record(connection, caller, action, now);
          return null;
        });
  }

  /**
   * Campaigns newest first (at most 200), restricted to {@code tenant} when not null.
   *
   * @throws QueryTimedOutException when its query ran longer than the read timeout
   */
  public ArrayNode list(String tenant) throws SQLException {
    String sql =
        "select campaign_id, tenant_id, name, status, summary, created_at, created_by, started_at,"
            + " completed_at from campaign"
            + (tenant == null ? "" : " where tenant_id = ?")
            + " order by created_at desc, campaign_id desc limit 200";
    return readTimeout.read(
        dataSource,
        connection -> {
          try (PreparedStatement statement = connection.prepareStatement(sql)) {
            if (tenant != null) {
              statement.setString(1, tenant);
            }
            try (ResultSet rs = statement.executeQuery()) {
              return JsonRows.all(rs);
            }
          }
        });
  }

  /**
   * One campaign the caller may see.
   *
   * @throws NotFoundException when there is none of that id that the caller may see
   * @throws QueryTimedOutException when its query ran longer than the read timeout
   */
  public ObjectNode get(String campaignId, Caller caller) throws SQLException {
    return readTimeout.read(
        dataSource,
        connection -> {
          try (PreparedStatement statement =
              connection.prepareStatement("select * from campaign where campaign_id = ?")) {
            statement.setString(1, campaignId);
            try (ResultSet rs = statement.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString("tenant_id"))) {
                throw notFound(campaignId);
              }
              return JsonRows.row(rs);
            }
          }
        });
  }

  private static String status(String status) {
    if (status == null || !STATUS.matcher(status).matches()) {
      throw new InvalidInputException(
          "status '"
              + status
              + "' is not valid: use an upper-case word such as"
              + " CREATED, RUNNING, COMPLETED or FAILED");
    }
    return status;
  }

  private static NotFoundException notFound(String campaignId) {
    return new NotFoundException(
        "No campaign with id '"
            + campaignId
            + "' that this token may see;"
            + " list campaigns with GET /api/v1/bias/campaigns");
  }

  static JsonNode empty() {
    return JsonNodeFactory.instance.objectNode();
  }
}
