package io.genguard.audit.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.RunningAuditService;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a test, skipped unless {@code -Dgenguard.measure.token-check=true}: what the
 * token check of every authenticated call costs now that it runs in a transaction of its own with
 * {@code statement_timeout} set ({@link ApiTokens#authenticate} through {@code ReadTimeout}: {@code
 * set_config} and the commit, two more round trips), against the plain lookup it replaced (the same
 * query on a pooled connection in autocommit). Both run on the service's own pool against the
 * embedded PostgreSQL, one call at a time, in alternating blocks so that drift on a shared machine
 * falls on both; it prints p50 and p99 per call and asserts no timing ({@link
 * TokenCheckHttpCostITCase} measures the check over HTTP, with concurrent clients). Run:
 *
 * <pre>
 * mvn -B -o verify -pl audit-service -am -Dspotless.check.skip=true -Dtest=none \
 *   -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=TokenCheckCostITCase \
 *   -Dfailsafe.failIfNoSpecifiedTests=false -Dgenguard.measure.token-check=true \
 *   [-Dgenguard.measure.calls=20000]
 * </pre>
 */
@EnabledIfSystemProperty(named = "genguard.measure.token-check", matches = "true")
class TokenCheckCostITCase {
  private static final int BLOCKS = 20;

  @Test
  void measureTheTokenCheckWithAndWithoutItsTimeoutTransaction() throws Exception {
    int calls = Integer.getInteger("genguard.measure.calls", 20_000);
    int perBlock = Math.max(1, calls / BLOCKS);
    try (RunningAuditService audit = RunningAuditService.start("token_check_cost_it")) {
      String token = audit.token(Role.COMPLIANCE, "acme", "tess");
      ApiTokens tokens = audit.service().tokens();
      DataSource dataSource = audit.service().database().dataSource();
      String tokenId = token.split("_")[1];
      // Both ways find the same caller (the measurement times real checks).
      assertThat(tokens.authenticate(token)).map(Caller::tokenId).hasValue(tokenId);
      assertThat(plainLookup(dataSource, tokenId, token)).isTrue();

      // Warm-up: the pool's connections, the JIT, PostgreSQL's plan and cache.
      for (int n = 0; n < 2_000; n++) {
        tokens.authenticate(token);
        plainLookup(dataSource, tokenId, token);
      }
      long[] withTimeout = new long[perBlock * BLOCKS];
      long[] plain = new long[perBlock * BLOCKS];
      for (int block = 0; block < BLOCKS; block++) {
        boolean timeoutFirst = block % 2 == 0;
        for (int pass = 0; pass < 2; pass++) {
          boolean timed = (pass == 0) == timeoutFirst;
          for (int n = 0; n < perBlock; n++) {
            long started = System.nanoTime();
            boolean found =
                timed
                    ? tokens.authenticate(token).isPresent()
                    : plainLookup(dataSource, tokenId, token);
            long took = System.nanoTime() - started;
            if (!found) {
              throw new IllegalStateException("the token was not found");
            }
            (timed ? withTimeout : plain)[block * perBlock + n] = took;
          }
        }
      }
      System.out.println(
          "TOKEN CHECK COST ("
              + perBlock * BLOCKS
              + " calls each, one at a time, "
              + BLOCKS
              + " alternating blocks)");
      System.out.println(
          "  with its timeout transaction (ApiTokens.authenticate): " + stats(withTimeout));
      System.out.println("  plain lookup (autocommit, as before):                 " + stats(plain));
    }
  }

  /** The lookup {@link ApiTokens#authenticate} made before it had a timeout of its own. */
  private static boolean plainLookup(DataSource dataSource, String tokenId, String presented)
      throws Exception {
    byte[] presentedHash =
        MessageDigest.getInstance("SHA-256")
            .digest(presented.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select name, role, tenant_id, token_sha256, expires_at, revoked_at from api_token where token_id = ?")) {
      query.setString(1, tokenId);
      try (ResultSet rs = query.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        boolean matches = MessageDigest.isEqual(presentedHash, rs.getBytes("token_sha256"));
        Optional<OffsetDateTime> expiresAt =
            Optional.ofNullable(rs.getObject("expires_at", OffsetDateTime.class));
        boolean revoked = rs.getObject("revoked_at") != null;
        rs.getString("name");
        Role.valueOf(rs.getString("role"));
        rs.getString("tenant_id");
        boolean expired = expiresAt.map(at -> !at.toInstant().isAfter(Instant.now())).orElse(false);
        return matches && !expired && !revoked;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** p50, p99 and mean of these call times (also the HTTP measurement's). */
  static String stats(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return String.format(
        "p50 %.3f ms, p99 %.3f ms, mean %.3f ms",
        at(sorted, 0.50) / 1e6,
        at(sorted, 0.99) / 1e6,
        Arrays.stream(sorted).average().orElse(0) / 1e6);
  }

  private static long at(long[] sorted, double quantile) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)];
  }
}
