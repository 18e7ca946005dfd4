package io.genguard.audit.security;

import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.query.Cursor;
import io.genguard.audit.query.QueryTimedOutException;
import io.genguard.audit.query.ReadTimeout;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.TenantIds;
import java.security.MessageDigest;
import java.security.SecureRandom;
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
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * API tokens: {@code ggt_<id>_<secret>}, 12 hex characters of public id and 256 random bits of
 * secret. Only the SHA-256 of the whole token is stored (a high-entropy secret needs no slow hash);
 * a presented token is looked up by its public id and compared in constant time. The token itself
 * is returned once, at creation, and appears in no log, record or error message.
 */
public final class ApiTokens {
  /** Longest a token may be valid, in days (about ten years), through the API or the CLI. */
  public static final int MAX_VALID_DAYS = 3650;

  public static final String PREFIX = "ggt_";
  private static final Pattern FORMAT = Pattern.compile("ggt_([0-9a-f]{12})_[A-Za-z0-9_-]{43}");
  private static final Pattern NAME = Pattern.compile("[\\p{L}\\p{N}][\\p{L}\\p{N} ._@+-]{0,63}");

  /** Compared against when the token id is unknown, so a miss costs the same as a wrong secret. */
  private static final byte[] NO_SUCH_TOKEN = sha256("ggt_000000000000_" + "x".repeat(43));

  private final DataSource dataSource;
  private final Clock clock;
  private final ReadTimeout readTimeout;
  private final SecureRandom random = new SecureRandom();

  public ApiTokens(DataSource dataSource, Clock clock) {
    this(dataSource, clock, ReadTimeout.DEFAULT);
  }

  /**
   * @param readTimeout how long the query of a page of {@link #list} and that of {@link
   *     #authenticate} may run ({@link QueryTimedOutException} beyond it)
   */
  public ApiTokens(DataSource dataSource, Clock clock, ReadTimeout readTimeout) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.readTimeout = readTimeout;
  }

  /** A token as stored: everything but the secret. */
  public record TokenInfo(
      String tokenId,
      String name,
      Role role,
      String tenantId,
      Instant createdAt,
      String createdBy,
      Instant expiresAt,
      Instant revokedAt) {}

  /** A newly created token: the only time the secret is available. */
  public record IssuedToken(String token, TokenInfo info) {
    @Override
    public String toString() {
      return "IssuedToken[token=***, info=" + info + "]";
    }
  }

  /**
   * What {@link #create} refuses of a token's own fields, checked without the database (the command
   * line refuses them before it connects).
   *
   * @throws InvalidInputException naming the field and what to give
   */
  public static void requireValid(Role role, String tenantId, String name, Duration validity) {
    if (role == null) {
      throw new InvalidInputException(
          "role is required: one of submitter, reviewer, compliance, admin");
    }
    if (tenantId != null && !TenantIds.isValid(tenantId)) {
      throw new InvalidInputException(
          "tenant '" + tenantId + "' is not valid: use " + TenantIds.RULE);
    }
    if (tenantId == null && !role.mayBeGlobal()) {
      throw new InvalidInputException(
          "A "
              + role.name().toLowerCase()
              + " token must be bound to a tenant:"
              + " pass a tenant (only compliance and admin tokens may be global)");
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidInputException(
          "name '"
              + name
              + "' is not valid: say who the token is for in 1-64"
              + " letters, digits, spaces or . _ @ + -");
    }
    if (validity != null && (validity.isNegative() || validity.isZero())) {
      throw new InvalidInputException("validity must be positive, was " + validity);
    }
  }

  /**
   * Creates a token and records who created it in the audit chain.
   *
   * @param validity how long the token is valid; null for no expiry
   */
  public IssuedToken create(
      Role role, String tenantId, String name, Duration validity, Caller createdBy)
      throws SQLException {
    requireValid(role, tenantId, name, validity);
    if (createdBy.tenantId() != null && !createdBy.tenantId().equals(tenantId)) {
      throw new ForbiddenException(
          "A token bound to tenant '"
              + createdBy.tenantId()
              + "' may only create tokens for that tenant");
    }
    byte[] idBytes = new byte[6];
    byte[] secret = new byte[32];
    random.nextBytes(idBytes);
    random.nextBytes(secret);
    String tokenId = HexFormat.of().formatHex(idBytes);
    String token =
        PREFIX + tokenId + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Instant expiresAt = validity == null ? null : now.plus(validity);
    TokenInfo info =
        new TokenInfo(tokenId, name, role, tenantId, now, createdBy.describe(), expiresAt, null);
    Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "insert into api_token (token_id, name, role, tenant_id, token_sha256, created_at, created_by,"
                      + " expires_at) values (?, ?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, tokenId);
            insert.setString(2, name);
            insert.setString(3, role.name());
            insert.setString(4, tenantId);
            insert.setBytes(5, sha256(token));
            insert.setObject(6, utc(now));
            insert.setString(7, info.createdBy());
            insert.setObject(8, utc(expiresAt));
            insert.executeUpdate();
          }
          ActionLog.Action action = ActionLog.Action.of("token.create", tenantId, null, tokenId);
          action
              .details()
              .put("name", name)
              .put("role", role.name())
              .put("expiresAt", expiresAt == null ? null : expiresAt.toString());
          ActionLog.record(connection, createdBy, action, now);
          return null;
        });
    return new IssuedToken(token, info);
  }

  /**
   * The caller a presented token stands for, or empty when the token is malformed, unknown, revoked
   * or expired (deliberately not told apart to the client).
   *
   * @throws QueryTimedOutException when its query ran longer than the read timeout: the token was
   *     neither accepted nor rejected, and the caller must not be treated as either
   */
  public Optional<Caller> authenticate(String presented) throws SQLException {
    if (presented == null) {
      return Optional.empty();
    }
    var matcher = FORMAT.matcher(presented);
    if (!matcher.matches()) {
      MessageDigest.isEqual(sha256(presented), NO_SUCH_TOKEN);
      return Optional.empty();
    }
    String tokenId = matcher.group(1);
    byte[] presentedHash = sha256(presented);
    return readTimeout.read(
        dataSource,
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "select name, role, tenant_id, token_sha256, expires_at, revoked_at from api_token where token_id = ?")) {
            query.setString(1, tokenId);
            try (ResultSet rs = query.executeQuery()) {
              if (!rs.next()) {
                MessageDigest.isEqual(presentedHash, NO_SUCH_TOKEN);
                return Optional.empty();
              }
              boolean matches = MessageDigest.isEqual(presentedHash, rs.getBytes("token_sha256"));
              OffsetDateTime expiresAt = rs.getObject("expires_at", OffsetDateTime.class);
              boolean expired =
                  expiresAt != null && !expiresAt.toInstant().isAfter(clock.instant());
              boolean revoked = rs.getObject("revoked_at") != null;
              if (!matches || expired || revoked) {
                return Optional.empty();
              }
              return Optional.of(
                  new Caller(
                      tokenId,
                      rs.getString("name"),
                      Role.valueOf(rs.getString("role")),
                      rs.getString("tenant_id")));
            }
          }
        });
  }

  /** Most tokens one page lists. */
  public static final int MAX_PAGE = 200;

  /** One page of tokens and the cursor of the next page (null on the last page). */
  public record Page(List<TokenInfo> items, String nextCursor) {}

  /**
   * One page of the tokens the caller may see (a tenant admin only its tenant's), newest first,
   * with keyset pagination on (created_at, token_id).
   *
   * @param after the cursor a previous page returned; null for the first page
   * @param limit tokens on the page, 1 to {@link #MAX_PAGE}
   * @throws QueryTimedOutException when its query ran longer than the read timeout
   */
  public Page list(Caller caller, Cursor after, int limit) throws SQLException {
    if (limit < 1 || limit > MAX_PAGE) {
      throw new IllegalArgumentException("limit must be 1.." + MAX_PAGE);
    }
    String sql =
        "select token_id, name, role, tenant_id, created_at, created_by, expires_at, revoked_at"
            + " from api_token where (?::text is null or tenant_id = ?)"
            + (after == null ? "" : " and (created_at, token_id) < (?, ?)")
            + " order by created_at desc, token_id desc limit ?";
    return readTimeout.read(
        dataSource,
        connection -> {
          List<TokenInfo> tokens = new ArrayList<>();
          String next = null;
          try (PreparedStatement query = connection.prepareStatement(sql)) {
            int parameter = 1;
            query.setString(parameter++, caller.tenantId());
            query.setString(parameter++, caller.tenantId());
            if (after != null) {
              query.setObject(parameter++, after.timeColumn());
              query.setString(parameter++, after.id());
            }
            query.setInt(parameter, limit + 1);
            try (ResultSet rs = query.executeQuery()) {
              while (rs.next()) {
                if (tokens.size() == limit) {
                  TokenInfo last = tokens.get(tokens.size() - 1);
                  next = new Cursor(last.createdAt(), last.tokenId()).encode();
                  break;
                }
                tokens.add(
                    new TokenInfo(
                        rs.getString(1),
                        rs.getString(2),
                        Role.valueOf(rs.getString(3)),
                        rs.getString(4),
                        instant(rs, 5),
                        rs.getString(6),
                        instant(rs, 7),
                        instant(rs, 8)));
              }
            }
          }
          return new Page(tokens, next);
        });
  }

  /** Revokes a token (it stops working at once) and records who did it. */
  public void revoke(String tokenId, Caller caller) throws SQLException {
    Transactions.inTransaction(
        dataSource,
        connection -> {
          String tenant;
          try (PreparedStatement query =
              connection.prepareStatement(
                  "select tenant_id from api_token where token_id = ? for update")) {
            query.setString(1, tokenId);
            try (ResultSet rs = query.executeQuery()) {
              if (!rs.next() || !caller.canSee(rs.getString(1))) {
                throw new NotFoundException(
                    "No token with id '" + tokenId + "'; list tokens with GET /api/v1/tokens");
              }
              tenant = rs.getString(1);
            }
          }
          Instant now = clock.instant();
          try (PreparedStatement update =
              connection.prepareStatement(
                  "update api_token set revoked_at = ? where token_id = ? and revoked_at is null")) {
            update.setObject(1, utc(now));
            update.setString(2, tokenId);
            update.executeUpdate();
          }
          ActionLog.record(
              connection, caller, ActionLog.Action.of("token.revoke", tenant, null, tokenId), now);
          return null;
        });
  }

  static byte[] sha256(String token) {
    return ContentHash.sha256(token);
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }
}
