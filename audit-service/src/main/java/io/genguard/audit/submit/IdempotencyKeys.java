package io.genguard.audit.submit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.submit.RequestSubmitter.Submission;
import io.genguard.events.v1.GenerationRequest;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The {@code Idempotency-Key} of {@code POST /api/v1/requests} ({@code submit_idempotency_key},
 * migration V24): a client that cannot tell whether a request was accepted (its answer was lost, it
 * timed out, the API answered 503 because Kafka did not acknowledge in time) sends it again with
 * the same key and gets the same request, never a second one.
 *
 * <p>The invariant: a key's row, with the request id and event id it stands for, is committed
 * before that request goes to Kafka. So whatever happens after (a lost answer, a 503, a crash of
 * the process), a retry finds the row and either answers with the request (Kafka acknowledged it)
 * or sends that same request again (same request id, event id and submission time). A request
 * written twice that way is one request downstream: the audit writer skips an event id it has, the
 * generator names its output after the request id, and the gate takes one output per request. The
 * table's primary key makes two concurrent first tries one request: the second waits for the
 * first's row and finds it held ({@link Outcome#IN_PROGRESS}).
 *
 * <p>Keys are scoped per tenant, kept for {@link #KEPT} from their first use and then free again;
 * {@link #purgeExpired} deletes them (the service's timer runs it).
 */
public final class IdempotencyKeys {
  /** The request header. */
  public static final String HEADER = "Idempotency-Key";

  /** The answer header that marks a replayed answer (nothing was submitted by this call). */
  public static final String REPLAYED_HEADER = "Idempotent-Replayed";

  /** How long a key stands for its request, from its first use. */
  public static final Duration KEPT = Duration.ofHours(24);

  /** Longest key accepted. */
  public static final int MAX_KEY_CHARS = 128;

  /** What a key may hold: a UUID, a ULID or a campaign's {@code id:sample:n} all fit. */
  public static final String KEY_RULE =
      "1-" + MAX_KEY_CHARS + " characters: letters, digits, '-', '_', '.' or ':'";

  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_KEY_CHARS + "}");

  /**
   * How long a try that sends the request holds its key: Kafka's acknowledgement wait and a margin
   * for the database. A retry meanwhile is told to wait (409); after it the try is taken to have
   * died, and a retry sends the same request again.
   */
  static final Duration CLAIM = RequestSubmitter.ACK_WAIT.plusSeconds(5);

  /** Rows deleted per statement by {@link #purgeExpired}. */
  private static final int PURGE_BATCH = 10_000;

  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private static final String RESERVE =
      "insert into submit_idempotency_key as k (tenant_id, idempotency_key, body_sha256,"
          + " request_id, event_id, submitted_at, created_at, expires_at, accepted_at,"
          + " claimed_until) values (?, ?, ?, ?, ?, ?, ?, ?, null, ?)"
          + " on conflict (tenant_id, idempotency_key) do update set"
          + " body_sha256 = excluded.body_sha256, request_id = excluded.request_id,"
          + " event_id = excluded.event_id, submitted_at = excluded.submitted_at,"
          + " created_at = excluded.created_at, expires_at = excluded.expires_at,"
          + " accepted_at = null, claimed_until = excluded.claimed_until"
          // Only an expired key is taken anew; a live one is read below.
          + " where k.expires_at <= excluded.created_at"
          + " returning request_id";

  private final DataSource dataSource;
  private final Clock clock;

  public IdempotencyKeys(DataSource dataSource, Clock clock) {
    this.dataSource = dataSource;
    this.clock = clock;
  }

  /** What a key says about the request sent with it. */
  public enum Outcome {
    /** A key not used before (or expired): this call sends the request. */
    NEW,
    /**
     * A key whose earlier try did not learn whether Kafka took its request (a 503, a crash): this
     * call sends that same request again.
     */
    RESEND,
    /** Kafka acknowledged the key's request: answer with it, send nothing. */
    ACCEPTED,
    /** Another try is sending the key's request right now: send nothing, the client waits. */
    IN_PROGRESS,
    /** The key stands for a request with another body: refused, nothing is sent. */
    OTHER_BODY
  }

  /**
   * What {@link #reserve} found.
   *
   * @param requestId the request the key stands for
   * @param eventId its event id
   * @param submittedAt its submission time (milliseconds, as the event carries it)
   * @param claimedUntil how long this call holds the key ({@link Outcome#NEW}, {@link
   *     Outcome#RESEND}), or another call does ({@link Outcome#IN_PROGRESS})
   */
  public record Reservation(
      Outcome outcome,
      String tenantId,
      String key,
      String requestId,
      String eventId,
      Instant submittedAt,
      Instant claimedUntil) {

    /** The request the key stands for: the one built for this call, under the key's ids. */
    public GenerationRequest applyTo(GenerationRequest built) {
      return GenerationRequest.newBuilder(built)
          .setRequestId(requestId)
          .setEventId(eventId)
          .setSubmittedAt(submittedAt)
          .build();
    }

    /** Whole seconds until the key's holder gives it up (at least 1), for Retry-After. */
    public long retryAfterSeconds(Instant now) {
      long millis = Duration.between(now, claimedUntil).toMillis();
      return Math.max(1, (millis + 999) / 1000);
    }
  }

  /**
   * The key a request carries: null without the header.
   *
   * @param values every value of the header in the request
   * @throws InvalidInputException for more than one, or a key that breaks {@link #KEY_RULE}
   */
  public static String key(List<String> values) {
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw new InvalidInputException(
          "Send one " + HEADER + " header, not " + values.size() + "; nothing was submitted");
    }
    String key = values.get(0);
    if (!KEY.matcher(key).matches()) {
      throw new InvalidInputException(
          HEADER
              + (key.isEmpty()
                  ? " is empty"
                  : " '"
                      + (key.length() > 64 ? key.substring(0, 64) + "..." : key)
                          .replaceAll("[^\\x20-\\x7e]", "?")
                      + "' is not valid")
              + "; it must be "
              + KEY_RULE
              + " (a UUID will do). Nothing was submitted");
    }
    return key;
  }

  /**
   * SHA-256 (hex) of a submission as the API read it: the same members with the same values give
   * the same digest, whatever their order or spacing in the body.
   */
  public static String fingerprint(Submission submission) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(CANONICAL.writeValueAsBytes(submission)));
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("Cannot digest a submission", e);
    }
  }

  /**
   * Finds or takes the tenant's key for a request, in one committed transaction, before anything is
   * sent: a key not in use is written with the ids of {@code built} and held by this call.
   *
   * @param bodySha256 {@link #fingerprint} of the submission
   * @param built the request as validated for this call (fresh ids)
   */
  public Reservation reserve(
      String tenantId, String key, String bodySha256, GenerationRequest built) throws SQLException {
    // Microseconds, as PostgreSQL keeps them: release() finds its hold by this exact time.
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Instant claim = now.plus(CLAIM);
    Instant submittedAt = built.getSubmittedAt().truncatedTo(ChronoUnit.MILLIS);
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          try (PreparedStatement insert = connection.prepareStatement(RESERVE)) {
            insert.setString(1, tenantId);
            insert.setString(2, key);
            insert.setString(3, bodySha256);
            insert.setString(4, built.getRequestId());
            insert.setString(5, built.getEventId());
            insert.setObject(6, AuditWriter.time(submittedAt));
            insert.setObject(7, AuditWriter.time(now));
            insert.setObject(8, AuditWriter.time(now.plus(KEPT)));
            insert.setObject(9, AuditWriter.time(claim));
            try (ResultSet rs = insert.executeQuery()) {
              if (rs.next()) {
                return new Reservation(
                    Outcome.NEW,
                    tenantId,
                    key,
                    built.getRequestId(),
                    built.getEventId(),
                    submittedAt,
                    claim);
              }
            }
          }
          return existing(connection, tenantId, key, bodySha256, now, claim);
        });
  }

  /** The key's live row, locked: what it says, and taken over when its last try gave up. */
  private static Reservation existing(
      Connection connection,
      String tenantId,
      String key,
      String bodySha256,
      Instant now,
      Instant claim)
      throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement(
            "select body_sha256, request_id, event_id, submitted_at, accepted_at, claimed_until"
                + " from submit_idempotency_key where tenant_id = ? and idempotency_key = ?"
                + " for update")) {
      select.setString(1, tenantId);
      select.setString(2, key);
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next()) {
          // The insert found the row and left it; only a purge of a live key could remove it.
          throw new IllegalStateException(
              "The idempotency key of tenant '" + tenantId + "' vanished while it was read");
        }
        String requestId = rs.getString(2);
        String eventId = rs.getString(3);
        Instant submittedAt = rs.getObject(4, OffsetDateTime.class).toInstant();
        boolean accepted = rs.getObject(5, OffsetDateTime.class) != null;
        Instant claimedUntil = rs.getObject(6, OffsetDateTime.class).toInstant();
        Outcome outcome;
        if (!rs.getString(1).equals(bodySha256)) {
          outcome = Outcome.OTHER_BODY;
        } else if (accepted) {
          outcome = Outcome.ACCEPTED;
        } else if (claimedUntil.isAfter(now)) {
          outcome = Outcome.IN_PROGRESS;
        } else {
          outcome = Outcome.RESEND;
          claimedUntil = claim;
          try (PreparedStatement take =
              connection.prepareStatement(
                  "update submit_idempotency_key set claimed_until = ?"
                      + " where tenant_id = ? and idempotency_key = ?")) {
            take.setObject(1, AuditWriter.time(claim));
            take.setString(2, tenantId);
            take.setString(3, key);
            take.executeUpdate();
          }
        }
        return new Reservation(
            outcome, tenantId, key, requestId, eventId, submittedAt, claimedUntil);
      }
    }
  }

  /**
   * Marks the key's request as acknowledged by Kafka, in the caller's transaction (the one that
   * records the submission): retries are answered from now on, nothing is sent again.
   */
  public void accepted(Connection connection, Reservation reservation) throws SQLException {
    try (PreparedStatement update =
        connection.prepareStatement(
            "update submit_idempotency_key set accepted_at = ?, claimed_until = ?"
                + " where tenant_id = ? and idempotency_key = ? and request_id = ?")) {
      Instant now = clock.instant();
      update.setObject(1, AuditWriter.time(now));
      update.setObject(2, AuditWriter.time(now));
      update.setString(3, reservation.tenantId());
      update.setString(4, reservation.key());
      update.setString(5, reservation.requestId());
      update.executeUpdate();
    }
  }

  /**
   * Gives up this call's hold on the key after its request was not acknowledged, so that a retry
   * may send it again at once. With {@code nothingSent} (refused before sending, e.g. for the
   * tenant's rate) a key this call wrote is deleted instead: its retry is a new request. A hold
   * another call has taken since is left alone.
   */
  public void release(Reservation reservation, boolean nothingSent) throws SQLException {
    String sql =
        nothingSent && reservation.outcome() == Outcome.NEW
            ? "delete from submit_idempotency_key"
                + " where tenant_id = ? and idempotency_key = ? and request_id = ?"
                + " and accepted_at is null and claimed_until = ?"
            : "update submit_idempotency_key set claimed_until = least(claimed_until, ?)"
                + " where tenant_id = ? and idempotency_key = ? and request_id = ?"
                + " and accepted_at is null and claimed_until = ?";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      int i = 1;
      if (!sql.startsWith("delete")) {
        statement.setObject(i++, AuditWriter.time(clock.instant()));
      }
      statement.setString(i++, reservation.tenantId());
      statement.setString(i++, reservation.key());
      statement.setString(i++, reservation.requestId());
      statement.setObject(i, AuditWriter.time(reservation.claimedUntil()));
      statement.executeUpdate();
    }
  }

  /**
   * Deletes the keys kept longer than {@link #KEPT} (the service runs this every few minutes).
   *
   * @return how many were deleted
   */
  public long purgeExpired() throws SQLException {
    long purged = 0;
    try (Connection connection = dataSource.getConnection();
        PreparedStatement delete =
            connection.prepareStatement(
                "delete from submit_idempotency_key where ctid = any (array("
                    + "select ctid from submit_idempotency_key where expires_at <= ?"
                    + " and claimed_until <= ? limit "
                    + PURGE_BATCH
                    + "))")) {
      OffsetDateTime now = AuditWriter.time(clock.instant());
      delete.setObject(1, now);
      delete.setObject(2, now);
      int deleted;
      do {
        deleted = delete.executeUpdate();
        purged += deleted;
      } while (deleted == PURGE_BATCH);
    }
    return purged;
  }
}
