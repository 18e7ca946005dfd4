package io.genguard.audit.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.PolicyFile;
import io.genguard.moderation.policy.InvalidPolicyException;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.LogText;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy files verdicts were decided under, kept in the hash chain: each file is recorded once,
 * as a {@value #ACTION} action whose target is the SHA-256 of its bytes and whose details hold the
 * whole text, so that the {@code policySha256} of any verdict leads to the rules that decided it.
 * Only valid policies are recorded (the moderation job would not run anything else). Policies are
 * kept whatever a tenant's retention says: a file holds every tenant's rules and is not a tenant's
 * content.
 */
public final class PolicyArchive {
  /** The action that records a policy file. */
  public static final String ACTION = "policies.record";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(PolicyArchive.class);

  /**
   * Most characters of why a published file is not a valid policy that a log line shows: the
   * parser's message may quote the file, which anyone who can write moderation.policies chose.
   */
  private static final int MAX_LOGGED_REASON_CHARS = 1_000;

  /** Policy files that decided verdicts and are not archived. */
  private static final String UNARCHIVED_SQL =
      "select count(*) from policy_in_use u where not exists (select 1 from api_action a"
          + " where a.action = '"
          + ACTION
          + "' and a.target = u.sha256)";

  private final DataSource dataSource;
  private final Clock clock;

  public PolicyArchive(DataSource dataSource, Clock clock) {
    this.dataSource = dataSource;
    this.clock = clock;
  }

  /** A recorded policy file. */
  public record RecordedPolicy(
      String sha256,
      String policyId,
      String version,
      String yaml,
      Instant recordedAt,
      String recordedBy,
      String actionId) {}

  /** What recording did: the file as recorded, and whether it had been recorded before. */
  public record Recorded(RecordedPolicy policy, boolean recordedBefore) {}

  /** One line of the list: the file without its text. */
  public record Summary(String sha256, String policyId, String version, Instant recordedAt) {}

  /**
   * A policy file that decided verdicts, by the digest they carry: when it decided its first and
   * last, how many, and whether the archive holds the file (a verdict of a file it lacks cannot be
   * traced to its rules until someone records the file).
   */
  public record InUse(
      String sha256,
      String policyId,
      String version,
      Instant firstDecidedAt,
      Instant lastDecidedAt,
      long verdicts,
      boolean archived) {}

  /**
   * Records the policy file {@code yaml} unless a file with the same bytes is recorded already.
   *
   * @param origin names the file in a validation error
   * @throws InvalidInputException when it is not a valid policy (line and reason)
   */
  public Recorded record(String yaml, String origin, Caller caller) throws SQLException {
    PolicySet parsed;
    try {
      parsed = PolicyLoader.parse(yaml, origin);
    } catch (InvalidPolicyException e) {
      throw new InvalidInputException("Not a valid policy: " + e.getMessage());
    }
    return Transactions.inTransaction(
        dataSource, connection -> recordIn(connection, parsed, caller, clock.instant()));
  }

  /**
   * Records {@code parsed} (its text and digest) in the caller's transaction unless it is recorded
   * already. Takes the chain lock first: recorders of a file then run one at a time, so a file is
   * recorded once, and in the order the audit writer takes its locks (chain first), so the two
   * never wait for each other.
   */
  private static Recorded recordIn(
      Connection connection, PolicySet parsed, Caller caller, Instant now) throws SQLException {
    ChainAppender.lock(connection);
    Optional<RecordedPolicy> earlier = find(connection, parsed.sha256());
    if (earlier.isPresent()) {
      return new Recorded(earlier.get(), true);
    }
    ActionLog.Action action = ActionLog.Action.of(ACTION, null, null, parsed.sha256());
    action
        .details()
        .put("policyId", parsed.policyId())
        .put("version", parsed.version())
        .put("sha256", parsed.sha256())
        .put("yaml", parsed.text());
    ActionLog.record(connection, caller, action, now);
    return new Recorded(find(connection, parsed.sha256()).orElseThrow(), false);
  }

  /** Who records the files the moderation job publishes. */
  public static final String JOB_PUBLISHER = "moderation-job";

  /**
   * Records the policy files among {@code events} (what the moderation job publishes on {@code
   * moderation.policies}) that are not archived yet, in the audit writer's transaction. A file is
   * taken only if it is a valid policy whose text has the digest it claims: an event that names one
   * digest and carries other rules would otherwise put the wrong rules behind that digest's
   * verdicts. Such an event stays in the audit log, and the file stays missing from the archive
   * (listed by {@link #inUse}).
   */
  public static void archivePublished(
      Connection connection, List<IncomingEvent> events, Instant now) throws SQLException {
    for (IncomingEvent event : events) {
      if (!(event.event() instanceof PolicyFile file)) {
        continue;
      }
      PolicySet parsed;
      try {
        parsed = PolicyLoader.parse(file.getYaml(), file.getOrigin());
      } catch (InvalidPolicyException e) {
        LOG.warn(
            "The published policy file {} (event {}) is not a valid policy and is not archived: {}",
            LogText.quoted(file.getSha256()),
            LogText.quoted(file.getEventId()),
            LogText.quoted(e.getMessage(), MAX_LOGGED_REASON_CHARS));
        continue;
      }
      if (!parsed.sha256().equals(file.getSha256())) {
        LOG.warn(
            "The published policy file of event {} claims SHA-256 {} but its text has {}; not"
                + " archived",
            LogText.quoted(file.getEventId()),
            LogText.quoted(file.getSha256()),
            parsed.sha256());
        continue;
      }
      Recorded recorded = recordIn(connection, parsed, Caller.system(JOB_PUBLISHER), now);
      if (!recorded.recordedBefore()) {
        LOG.info(
            "Policy {} version {} (SHA-256 {}), published by the moderation job, is now in the"
                + " policy archive",
            LogText.quoted(parsed.policyId()),
            LogText.quoted(parsed.version()),
            parsed.sha256());
      }
    }
  }

  /**
   * The recorded file with this digest.
   *
   * @throws InvalidInputException when {@code sha256} is not 64 lowercase hex characters
   * @throws NotFoundException when no such file was recorded
   */
  public RecordedPolicy get(String sha256) throws SQLException {
    if (!ContentHash.isSha256Hex(sha256)) {
      throw new InvalidInputException(
          "A policy is named by the SHA-256 of its file: 64 lowercase hex characters");
    }
    try (Connection connection = dataSource.getConnection()) {
      return find(connection, sha256)
          .orElseThrow(
              () ->
                  new NotFoundException(
                      "No policy file with SHA-256 "
                          + sha256
                          + " is recorded; record it with POST /api/v1/policies"));
    }
  }

  /** Every recorded file, newest first, without their texts (at most {@code limit}). */
  public List<Summary> list(int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select target, details ->> 'policyId', details ->> 'version', acted_at"
                    + " from api_action where action = ? order by acted_at desc, action_id desc"
                    + " limit ?")) {
      query.setString(1, ACTION);
      query.setInt(2, limit);
      List<Summary> out = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          out.add(
              new Summary(
                  rows.getString(1),
                  rows.getString(2),
                  rows.getString(3),
                  rows.getObject(4, java.time.OffsetDateTime.class).toInstant()));
        }
      }
      return out;
    }
  }

  /**
   * The policy files verdicts were decided under, those the archive lacks first, then by their
   * latest verdict, newest first (at most {@code limit}).
   */
  public List<InUse> inUse(int limit) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select u.sha256, u.policy_id, u.policy_version, u.first_decided_at,"
                    + " u.last_decided_at, u.verdicts, exists (select 1 from api_action a"
                    + "   where a.action = ? and a.target = u.sha256) as archived"
                    + " from policy_in_use u order by archived, u.last_decided_at desc, u.sha256"
                    + " limit ?")) {
      query.setString(1, ACTION);
      query.setInt(2, limit);
      List<InUse> out = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          out.add(
              new InUse(
                  rows.getString(1),
                  rows.getString(2),
                  rows.getString(3),
                  rows.getObject(4, java.time.OffsetDateTime.class).toInstant(),
                  rows.getObject(5, java.time.OffsetDateTime.class).toInstant(),
                  rows.getLong(6),
                  rows.getBoolean(7)));
        }
      }
      return out;
    }
  }

  /** How many policy files decided verdicts and are not in the archive. */
  public long unarchived() throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query = connection.prepareStatement(UNARCHIVED_SQL)) {
      try (ResultSet rows = query.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private static Optional<RecordedPolicy> find(Connection connection, String sha256)
      throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "select details::text, acted_at, caller_name, action_id from api_action"
                + " where action = ? and target = ? order by acted_at, action_id limit 1")) {
      query.setString(1, ACTION);
      query.setString(2, sha256);
      try (ResultSet rows = query.executeQuery()) {
        if (!rows.next()) {
          return Optional.empty();
        }
        JsonNode details = JSON.readTree(rows.getString(1));
        return Optional.of(
            new RecordedPolicy(
                sha256,
                details.path("policyId").asText(),
                details.path("version").asText(),
                details.path("yaml").asText(),
                rows.getObject(2, java.time.OffsetDateTime.class).toInstant(),
                rows.getString(3),
                rows.getString(4)));
      } catch (IOException e) {
        throw new SQLException("A recorded policy's details are not JSON", e);
      }
    }
  }
}
