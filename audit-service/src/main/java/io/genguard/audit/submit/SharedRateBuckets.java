package io.genguard.audit.submit;

import io.genguard.audit.submit.TenantRateLimiter.Allowance;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Tenants' token buckets in PostgreSQL ({@code tenant_submit_bucket}), so that every audit-service
 * process sharing the database counts one allowance per tenant: with three replicas behind a load
 * balancer a tenant still gets its rate, not three times it. One statement per submission takes a
 * token under the row's lock and refills by the database's clock, so that the replicas' clocks do
 * not matter. A bucket that has refilled is the same as none; {@link #sweep} drops those.
 */
public final class SharedRateBuckets implements TenantRateLimiter.SharedBuckets {
  private static final double NANOS_PER_SECOND = 1e9;

  /**
   * Longest a take may run (waiting for the row's lock included) before the submission is counted
   * in the process's own bucket instead.
   */
  public static final int TAKE_TIMEOUT_SECONDS = 2;

  /**
   * The bucket refilled at its old rate until now, up to its old burst and the new one: a changed
   * allowance keeps what the tenant had left, as the process-local buckets do.
   */
  private static final String REFILLED =
      "least(excluded.burst::float8, b.burst::float8, b.tokens"
          + " + greatest(0, extract(epoch from excluded.at - b.at))::float8 * b.per_second)";

  private static final String TAKE =
      "insert into tenant_submit_bucket as b (tenant_id, per_second, burst, tokens, at, taken)"
          + " values (?, ?, ?, ?::float8 - 1, clock_timestamp(), true)"
          + " on conflict (tenant_id) do update set"
          + " per_second = excluded.per_second,"
          + " burst = excluded.burst,"
          + (" tokens = case when " + REFILLED + " >= 1")
          + (" then " + REFILLED + " - 1 else " + REFILLED + " end,")
          // A take that waited for the row's lock read the clock before the one it waited for: the
          // bucket's time never goes back, or the same moment would be refilled twice.
          + " at = greatest(b.at, excluded.at),"
          + (" taken = " + REFILLED + " >= 1")
          + " returning taken, tokens";

  private static final String SWEEP =
      "delete from tenant_submit_bucket"
          + " where tokens + extract(epoch from clock_timestamp() - at)::float8 * per_second"
          + " >= burst";

  private final DataSource dataSource;

  public SharedRateBuckets(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public long take(String tenant, Allowance allowance) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement take = connection.prepareStatement(TAKE)) {
      connection.setAutoCommit(true);
      take.setQueryTimeout(TAKE_TIMEOUT_SECONDS);
      take.setString(1, tenant);
      take.setInt(2, allowance.perSecond());
      take.setInt(3, allowance.burst());
      take.setInt(4, allowance.burst());
      try (ResultSet taken = take.executeQuery()) {
        taken.next();
        if (taken.getBoolean(1)) {
          return 0;
        }
        double missing = 1 - taken.getDouble(2);
        return Math.max(1, (long) Math.ceil(missing * NANOS_PER_SECOND / allowance.perSecond()));
      }
    }
  }

  @Override
  public double tokensLeft(String tenant, Allowance allowance) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement peek =
            connection.prepareStatement(
                "select least(?::float8, burst::float8, tokens + greatest(0, extract(epoch from"
                    + " clock_timestamp() - at))::float8 * per_second)"
                    + " from tenant_submit_bucket where tenant_id = ?")) {
      peek.setQueryTimeout(TAKE_TIMEOUT_SECONDS);
      peek.setInt(1, allowance.burst());
      peek.setString(2, tenant);
      try (ResultSet row = peek.executeQuery()) {
        // No bucket: it refilled and was dropped, or the tenant has not submitted.
        return row.next() ? row.getDouble(1) : allowance.burst();
      }
    }
  }

  /** Drops the buckets that have refilled; how many. */
  public int sweep() throws SQLException {
    try (Connection connection = dataSource.getConnection();
        Statement sweep = connection.createStatement()) {
      connection.setAutoCommit(true);
      return sweep.executeUpdate(SWEEP);
    }
  }
}
