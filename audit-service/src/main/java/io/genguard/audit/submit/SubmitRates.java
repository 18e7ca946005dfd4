package io.genguard.audit.submit;

import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.security.Caller;
import io.genguard.audit.submit.TenantRateLimiter.Allowance;
import io.genguard.schemas.TenantIds;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * Tenants' submission rates set while running: kept in {@code tenant_submit_rate}, each change a
 * {@code rates.set} or {@code rates.remove} action in the hash chain, and applied to this process's
 * {@link TenantRateLimiter} at once and to every other audit-service process sharing the database
 * within {@link #REFRESH}. A rate set here wins over the tenant's rate in {@code
 * GENGUARD_AUDIT_SUBMIT_RATES} and over the default; removing it gives those back.
 */
public final class SubmitRates {
  /** How often each process reads the stored rates again. */
  public static final Duration REFRESH = Duration.ofSeconds(10);

  /** Most tenants that may have a rate set through the API at once. */
  public static final int MAX_STORED = TenantRateLimiter.MAX_TENANTS;

  private final DataSource dataSource;
  private final Clock clock;
  private final TenantRateLimiter limiter;

  public SubmitRates(DataSource dataSource, Clock clock, TenantRateLimiter limiter) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.limiter = limiter;
  }

  /** A rate set through the API. */
  public record StoredRate(
      String tenantId, int perSecond, int burst, Instant setAt, String setBy) {}

  /**
   * What a tenant may submit and where that comes from: {@code api} (set here, with when and by
   * whom; {@code configured} is what it overrides, if anything) or {@code config}.
   */
  public record TenantRate(
      String tenantId,
      int perSecond,
      int burst,
      String source,
      Instant setAt,
      String setBy,
      Allowance configured) {}

  /**
   * Every rate in force: the default, and each tenant with its own (by tenant id); {@code scope}
   * says where they are counted ({@code cluster}: once for every process on the database; {@code
   * process}: by each process on its own).
   */
  public record Rates(
      Allowance defaultRate, List<TenantRate> tenants, long refreshSeconds, String scope) {}

  /**
   * Sets a tenant's rate (audited) and applies it in this process at once.
   *
   * @param perSecond requests a second on average, 0 = no limit
   * @param burst requests at once after a pause; null = twice the rate (at least 1)
   * @throws InvalidInputException naming what is out of range
   */
  public StoredRate set(String tenant, Integer perSecond, Integer burst, Caller caller)
      throws SQLException {
    if (!TenantIds.isValid(tenant)) {
      throw new InvalidInputException("tenantId must be " + TenantIds.RULE);
    }
    if (perSecond == null) {
      throw new InvalidInputException(
          "perSecond is required (0 = no limit), e.g. {\"perSecond\": 200, \"burst\": 400}");
    }
    if (perSecond < 0 || perSecond > TenantRateLimiter.MAX_RATE) {
      throw new InvalidInputException(
          "perSecond must be between 0 (no limit) and "
              + TenantRateLimiter.MAX_RATE
              + ", was "
              + perSecond);
    }
    int effectiveBurst = burst != null ? burst : TenantRateLimiter.defaultBurst(perSecond);
    if (effectiveBurst < 1 || effectiveBurst > TenantRateLimiter.MAX_RATE) {
      throw new InvalidInputException(
          "burst must be between 1 and " + TenantRateLimiter.MAX_RATE + ", was " + effectiveBurst);
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          // One setter at a time, so that two at once cannot both take the last place.
          try (PreparedStatement lock =
              connection.prepareStatement("lock table tenant_submit_rate in exclusive mode")) {
            lock.execute();
          }
          try (PreparedStatement count =
                  connection.prepareStatement(
                      "select count(*), count(*) filter (where tenant_id = ?) from tenant_submit_rate");
              ResultSet rows = bind(count, tenant).executeQuery()) {
            rows.next();
            if (rows.getLong(1) >= MAX_STORED && rows.getLong(2) == 0) {
              throw new InvalidInputException(
                  "At most "
                      + MAX_STORED
                      + " tenants may have a rate set through the API; remove one"
                      + " (DELETE /api/v1/rates/{tenantId}) or give tenants alike the default");
            }
          }
          try (PreparedStatement upsert =
              connection.prepareStatement(
                  "insert into tenant_submit_rate (tenant_id, per_second, burst, set_at, set_by)"
                      + " values (?, ?, ?, ?, ?) on conflict (tenant_id) do update set"
                      + " per_second = excluded.per_second, burst = excluded.burst,"
                      + " set_at = excluded.set_at, set_by = excluded.set_by")) {
            upsert.setString(1, tenant);
            upsert.setInt(2, perSecond);
            upsert.setInt(3, effectiveBurst);
            upsert.setObject(4, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
            upsert.setString(5, caller.describe());
            upsert.executeUpdate();
          }
          ActionLog.Action action = ActionLog.Action.of("rates.set", tenant, null, tenant);
          action.details().put("perSecond", perSecond).put("burst", effectiveBurst);
          ActionLog.record(connection, caller, action, now);
          return null;
        });
    refresh();
    return new StoredRate(tenant, perSecond, effectiveBurst, now, caller.describe());
  }

  /**
   * Removes a tenant's rate set through the API (audited); its configured rate or the default
   * applies again, in this process at once.
   *
   * @throws NotFoundException when the tenant has none
   */
  public void remove(String tenant, Caller caller) throws SQLException {
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement delete =
              connection.prepareStatement("delete from tenant_submit_rate where tenant_id = ?")) {
            delete.setString(1, tenant);
            if (delete.executeUpdate() == 0) {
              throw new NotFoundException(
                  "Tenant '" + tenant + "' has no submission rate set through the API");
            }
          }
          ActionLog.record(
              connection,
              caller,
              ActionLog.Action.of("rates.remove", tenant, null, tenant),
              clock.instant());
          return null;
        });
    refresh();
  }

  private static PreparedStatement bind(PreparedStatement statement, String tenant)
      throws SQLException {
    statement.setString(1, tenant);
    return statement;
  }

  /** Reads the stored rates and hands them to the limiter. */
  public void refresh() throws SQLException {
    Map<String, Allowance> allowances = new HashMap<>();
    for (StoredRate rate : stored()) {
      allowances.put(rate.tenantId(), new Allowance(rate.perSecond(), rate.burst()));
    }
    limiter.setStored(allowances);
  }

  /**
   * One tenant's rate and how much of it is left now: {@code source} is {@code api}, {@code config}
   * or {@code default}; {@code tokens} the requests it may submit at once now (null: no limit),
   * counted where {@code scope} says ({@code process}: in this process only).
   */
  public record TenantState(
      String tenantId,
      int perSecond,
      int burst,
      String source,
      String scope,
      Double tokens,
      Double fullInSeconds) {}

  /**
   * {@code tenant}'s rate in force here and its bucket now.
   *
   * @throws InvalidInputException for a tenant id that is not one
   */
  public TenantState state(String tenant) throws Exception {
    if (!TenantIds.isValid(tenant)) {
      throw new InvalidInputException("tenantId must be " + TenantIds.RULE);
    }
    Allowance allowance = limiter.allowance(tenant);
    java.util.OptionalDouble left = limiter.tokensLeft(tenant);
    Double tokens = left.isPresent() ? Math.floor(left.getAsDouble() * 1000) / 1000 : null;
    Double fullIn =
        left.isPresent()
            ? Math.ceil((allowance.burst() - left.getAsDouble()) * 1000 / allowance.perSecond())
                / 1000
            : null;
    return new TenantState(
        tenant,
        allowance.perSecond(),
        allowance.burst(),
        switch (limiter.source(tenant)) {
          case SET -> "api";
          case CONFIGURED -> "config";
          case STANDARD -> "default";
        },
        limiter.shared() ? "cluster" : "process",
        tokens,
        fullIn == null ? null : Math.max(0, fullIn));
  }

  /** Every rate in force, as this process applies it after a {@link #refresh}. */
  public Rates rates() throws SQLException {
    Map<String, StoredRate> stored = new HashMap<>();
    for (StoredRate rate : stored()) {
      stored.put(rate.tenantId(), rate);
    }
    TreeSet<String> tenants = new TreeSet<>(stored.keySet());
    tenants.addAll(limiter.configured().keySet());
    List<TenantRate> out = new ArrayList<>();
    for (String tenant : tenants) {
      Allowance configured = limiter.configured().get(tenant);
      StoredRate set = stored.get(tenant);
      out.add(
          set == null
              ? new TenantRate(
                  tenant, configured.perSecond(), configured.burst(), "config", null, null, null)
              : new TenantRate(
                  tenant,
                  set.perSecond(),
                  set.burst(),
                  "api",
                  set.setAt(),
                  set.setBy(),
                  configured));
    }
    return new Rates(
        limiter.standard(), out, REFRESH.toSeconds(), limiter.shared() ? "cluster" : "process");
  }

  private List<StoredRate> stored() throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select tenant_id, per_second, burst, set_at, set_by from tenant_submit_rate"
                    + " order by tenant_id");
        ResultSet rows = query.executeQuery()) {
      List<StoredRate> out = new ArrayList<>();
      while (rows.next()) {
        out.add(
            new StoredRate(
                rows.getString(1),
                rows.getInt(2),
                rows.getInt(3),
                rows.getObject(4, OffsetDateTime.class).toInstant(),
                rows.getString(5)));
      }
      return out;
    }
  }
}
