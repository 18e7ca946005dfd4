package io.genguard.audit.persistence;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.release.RejectedReleases;
import io.genguard.events.v1.BiasAlert;
import io.genguard.events.v1.BiasMetric;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.DeadLetter;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.PolicyFile;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RestatedDecision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.ContentHash;
import io.genguard.schemas.LogText;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.avro.specific.SpecificRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Persists events idempotently: an event id already in the audit log is skipped, and the audit
 * record, its hash-chain link and its query projection are written in one transaction. Writers
 * serialise on an advisory lock, so several writers (ingestors, audit instances) still build one
 * unbroken chain; the lock is taken only for the chain append, after the projections are written,
 * so one writer's projections overlap another's append. The projections' foreign keys to the audit
 * log are deferred to commit (migration V3) for that. Two writers given the same event at once
 * (during a consumer-group rebalance) both see it as new; the second's chain insert violates the
 * audit log's unique event id, its transaction rolls back, and its retry skips the event.
 *
 * <p>Only an exact redelivery is skipped without a trace: an event with a recorded id (or the id of
 * an earlier event of its batch) but other content (the SHA-256 of its canonical JSON differs from
 * the record's) is kept once in {@code event_id_conflict} (migration V32), logged and counted
 * ({@link #eventIdConflicts()}); the record read first stays the one on the chain. Output and
 * verdict ids are derived from the request id, so a writer of their topics could otherwise send an
 * event under the id of one yet to come and make the genuine one vanish. Only outputs and verdicts
 * are compared: their producers write the same content again under an id (a transaction the
 * generator or the job retries is aborted, not written twice), whereas other events may be written
 * again under their id with other content on purpose (a gate restatement carries when it was
 * restated) and stay skipped as redeliveries. A verdict that differs from the record only in {@code
 * decidedAt} is the same output judged again (sent again, rescored after a savepoint restore): a
 * redelivery too, also once retention or an erasure removed the record's content: each verdict is
 * recorded with the SHA-256 of its canonical JSON without {@code decidedAt} ({@code
 * audit_log.judgement_sha256}, migration V35), which stays with the digest (a verdict recorded
 * before V35 is given it by the retention batch or erasure that removes its content, {@link
 * JudgementDigests}). Where that differs while the payload is still stored, the payload read back
 * decides, as before V35: a record of an older schema lacks a nullable field added since, which the
 * verdict read again has as null ({@link #sameJudgementAsPayload}); the removals give such a record
 * the digest of its payload read back, so that it decides as that did once the payload is gone.
 * Other content read under a record of the same request and tenant after that request's unfinished
 * flow was sent again, or while its resend was under way (migration V34), for {@link
 * #RESEND_UNDER_WAY} after the last send or marker, is kept marked {@code after_resend} (migration
 * V33) and counted apart ({@link #eventIdConflictsAfterResend()}).
 *
 * <p>A release of an output a person rejected in review (the gate released it on a verdict that
 * came after it held the output, before it read the rejection) is taken down in the transaction
 * that records it ({@link RejectedReleases}).
 */
public final class AuditWriter {
  private static final Logger LOG = LoggerFactory.getLogger(AuditWriter.class);

  /**
   * Closes the review items of a batch's final outcomes: arrays of request ids, their tenants and
   * the outcomes, one per request and tenant. An item is matched on its request id and tenant (the
   * primary key): another tenant's outcome under the same request id leaves it open.
   */
  static final String CLOSE_FINALS =
      "update review_item r set state = f.outcome"
          + " from unnest(?::text[], ?::text[], ?::text[]) f (request_id, tenant_id, outcome)"
          + " where r.request_id = f.request_id and r.tenant_id = f.tenant_id"
          + " and r.state in ('PENDING', 'DECIDED')";

  /**
   * How long a resend's marker ({@code unfinished_flow.resend_started_at}, committed before the
   * send) marks other content under its request's records as {@code after_resend} while the resend
   * is not recorded as done: longer than a bulk resend of {@code MAX_BULK_RESEND} flows takes,
   * short enough that a marker left by a process that stopped mid-send hides no real conflict for
   * long. A recorded resend ({@code resent_at}, its last send) quiets them as long after it: its
   * answers come within the flows' deadlines (minutes) once the pipeline reads again; later content
   * under the id is not explained by the resend and is alerted. The default of the audit service's
   * {@code GENGUARD_AUDIT_RESEND_QUIET_SECONDS} ({@link #AuditWriter(DataSource, Clock,
   * RecordedEventsListener, Duration)}), to be raised while the pipeline is further behind.
   */
  public static final Duration RESEND_UNDER_WAY = Duration.ofHours(1);

  private final DataSource dataSource;
  private final Clock clock;
  private final RecordedEventsListener listener;
  private final Duration resendQuiet;
  private final AtomicLong rejectedReleasesTakenDown = new AtomicLong();
  private final AtomicLong eventIdConflicts = new AtomicLong();
  private final AtomicLong eventIdConflictsAfterResend = new AtomicLong();

  public AuditWriter(DataSource dataSource, Clock clock) {
    this(dataSource, clock, RecordedEventsListener.NONE);
  }

  /**
   * @param listener what else to do for newly recorded events, in their transaction
   */
  public AuditWriter(DataSource dataSource, Clock clock, RecordedEventsListener listener) {
    this(dataSource, clock, listener, RESEND_UNDER_WAY);
  }

  /**
   * @param listener what else to do for newly recorded events, in their transaction
   * @param resendQuiet how long after a resend other content under its request's records is kept as
   *     after the resend ({@link #RESEND_UNDER_WAY} by default)
   */
  public AuditWriter(
      DataSource dataSource, Clock clock, RecordedEventsListener listener, Duration resendQuiet) {
    if (resendQuiet.isNegative() || resendQuiet.isZero()) {
      throw new IllegalArgumentException("resendQuiet must be positive, was " + resendQuiet);
    }
    this.dataSource = dataSource;
    this.clock = clock;
    this.listener = listener;
    this.resendQuiet = resendQuiet;
  }

  /** The audit database this writer writes to. */
  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * Releases of outputs a person had rejected that this writer recorded and took down since it was
   * made ({@link RejectedReleases}).
   */
  public long rejectedReleasesTakenDown() {
    return rejectedReleasesTakenDown.get();
  }

  /**
   * Events this writer read under the id of a record with other content, and kept in {@code
   * event_id_conflict} (migration V32), since it was made; an exact redelivery is not counted, nor
   * a verdict that differs from the record only in when it was decided (the output judged again),
   * nor other content read after the request's records were sent again ({@link
   * #eventIdConflictsAfterResend}).
   */
  public long eventIdConflicts() {
    return eventIdConflicts.get();
  }

  /**
   * Events this writer kept in {@code event_id_conflict} with {@code after_resend} (migration V33)
   * since it was made: other content under a recorded output's or verdict's id, read after a person
   * sent the request's unfinished flow again (an answered request answered again, an output judged
   * again under a changed scorer). Counted apart from {@link #eventIdConflicts}, which alerts.
   */
  public long eventIdConflictsAfterResend() {
    return eventIdConflictsAfterResend.get();
  }

  /** Of these event ids, those the audit log has. */
  public Set<String> recorded(Collection<String> eventIds) throws SQLException {
    if (eventIds.isEmpty()) {
      return Set.of();
    }
    try (Connection connection = dataSource.getConnection()) {
      return existing(connection, eventIds);
    }
  }

  /**
   * Writes the events not yet recorded; returns how many were new.
   *
   * @throws FailedWriteException when the write failed once the writer knew which of the events
   *     were not on record (a plain {@link SQLException} when it failed before)
   */
  public int write(List<IncomingEvent> events) throws SQLException {
    if (events.isEmpty()) {
      return 0;
    }
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      Map<String, IncomingEvent> fresh = null;
      try {
        Sorted sorted = notRecorded(connection, events);
        fresh = sorted.fresh();
        Written written = writeInTransaction(connection, fresh);
        List<Kept> conflicts = recordConflicts(connection, sorted.conflicts());
        connection.commit();
        rejectedReleasesTakenDown.addAndGet(written.rejectedReleasesTakenDown());
        for (Kept kept : conflicts) {
          Conflict conflict = kept.conflict();
          if (kept.afterResend()) {
            eventIdConflictsAfterResend.incrementAndGet();
            LOG.info(
                "{} after request {} was sent again: the audit log keeps the first, the other is"
                    + " kept in event_id_conflict (after_resend)",
                readAgain(conflict),
                LogText.quoted(conflict.event().field("requestId")));
            continue;
          }
          eventIdConflicts.incrementAndGet();
          LOG.warn(
              "{}: the audit log keeps the first, the other is kept in event_id_conflict; a producer"
                  + " reused the id, or someone wrote an event under an id not theirs",
              readAgain(conflict));
        }
        return written.events();
      } catch (SQLException e) {
        connection.rollback();
        throw fresh == null ? e : new FailedWriteException(e, fresh.keySet());
      } catch (RuntimeException e) {
        connection.rollback();
        throw e;
      }
    }
  }

  /**
   * A write that failed, with the ids of the batch's events that were not on record when it began:
   * a unique violation none of them is on record for since is theirs, not another writer's. It
   * carries the failure's message, SQLState and vendor code, and has it as its cause.
   */
  public static final class FailedWriteException extends SQLException {
    private final Set<String> freshEventIds;

    FailedWriteException(SQLException failure, Collection<String> freshEventIds) {
      super(failure.getMessage(), failure.getSQLState(), failure.getErrorCode(), failure);
      if (failure.getNextException() != null) {
        setNextException(failure.getNextException());
      }
      this.freshEventIds = Set.copyOf(freshEventIds);
    }

    /** The ids of the batch's events that the audit log did not have when the write began. */
    public Set<String> freshEventIds() {
      return freshEventIds;
    }
  }

  /** What one transaction wrote: new events, and releases of rejected outputs it took down. */
  private record Written(int events, int rejectedReleasesTakenDown) {}

  /**
   * A batch's events not on record, by id, in the batch's order (the first of each id), and those
   * that have the id of a record (on record or first in the batch) but other content.
   */
  private record Sorted(Map<String, IncomingEvent> fresh, List<Conflict> conflicts) {}

  /** What the log says of a conflict: which event was read again, from where, with what digests. */
  private static String readAgain(Conflict conflict) {
    IncomingEvent event = conflict.event();
    return String.format(
        Locale.ROOT,
        "Event id %s (%s from %s-%d offset %d) was read again with different content (SHA-256 %s,"
            + " the record's %s)",
        LogText.quoted(event.eventId()),
        event.type(),
        event.topic(),
        event.partition(),
        event.offset(),
        conflict.sha256(),
        conflict.recordedSha256());
  }

  /**
   * An event whose id is another content's: the SHA-256 (lowercase hex) of its canonical JSON and
   * of the recorded content's.
   */
  private record Conflict(
      IncomingEvent event, String payload, String sha256, String recordedSha256) {}

  /**
   * What the audit log holds under an event id: its payload's SHA-256 (null: unknown, a tombstone
   * of chain version 1 or 2), a verdict's {@link #judgementSha256} (null for other events and for
   * verdicts recorded before migration V35), and such an older verdict's payload (null for other
   * events, for verdicts with a judgement digest, and when removed).
   */
  private record Recorded(String sha256, String judgementSha256, String verdict) {}

  private static Sorted notRecorded(Connection connection, List<IncomingEvent> events)
      throws SQLException {
    Map<String, IncomingEvent> first = new LinkedHashMap<>();
    for (IncomingEvent event : events) {
      first.putIfAbsent(event.eventId(), event);
    }
    Map<String, Recorded> recorded = recorded(connection, first.keySet());
    Map<String, IncomingEvent> fresh = new LinkedHashMap<>(first);
    fresh.keySet().removeAll(recorded.keySet());
    // An exact redelivery (same id, same canonical JSON) is skipped without a trace, and so is a
    // verdict judged again that differs only in when it was decided; other content under a recorded
    // id (or the id of an earlier event of this batch) is a conflict.
    Map<String, String> digests = new HashMap<>();
    Map<String, Conflict> conflicts = new LinkedHashMap<>();
    Set<String> digestDiffers = new HashSet<>();
    for (IncomingEvent event : events) {
      if (!(event.event() instanceof GenerationOutput
          || event.event() instanceof ModerationVerdict)) {
        continue; // other events are not compared: see the class comment
      }
      String id = event.eventId();
      Recorded against = recorded.get(id);
      ModerationVerdict recordedVerdict;
      if (against == null) {
        if (first.get(id) == event) {
          continue;
        }
        against = new Recorded(sha256Of(first.get(id), digests), null, null);
        recordedVerdict = first.get(id).event() instanceof ModerationVerdict v ? v : null;
      } else {
        recordedVerdict = verdictOf(against.verdict());
      }
      if (against.sha256() == null) {
        continue; // a tombstone of chain version 1 or 2: nothing left to compare with
      }
      String payload = CanonicalJson.of(event.event());
      String sha256 = AuditChain.payloadSha256(payload);
      if (sha256.equals(against.sha256())) {
        continue;
      }
      String key = id + " " + sha256;
      if (event.event() instanceof ModerationVerdict verdict) {
        // The same output judged again, later: a redelivery. Compared by the judgement digest,
        // which retention and erasures leave, where the verdict was recorded with one; an older
        // verdict by its payload, and by its digest alone once that was removed.
        if (against.judgementSha256() == null) {
          if (recordedVerdict != null && sameJudgement(verdict, recordedVerdict)) {
            continue;
          }
        } else if (against.judgementSha256().equals(judgementSha256(verdict))) {
          continue;
        } else {
          // Another digest may still be the same judgement: one recorded under an older schema
          // lacks the keys of the nullable fields added since, which this verdict has as null.
          digestDiffers.add(key);
        }
      }
      conflicts.putIfAbsent(key, new Conflict(event, payload, sha256, against.sha256()));
    }
    if (!digestDiffers.isEmpty()) {
      sameJudgementAsPayload(connection, conflicts, digestDiffers);
    }
    return new Sorted(fresh, List.copyOf(conflicts.values()));
  }

  /**
   * Drops from {@code conflicts} the verdicts (by key, in {@code digestDiffers}) whose judgement
   * digest differs from their record's but which are the same judgement as its payload, where that
   * is still stored, read back into the current class: compared as before migration V35. A record
   * written under an older schema has neither the key of a nullable field added since nor that key
   * in its digest, while the same verdict read again now has it as null (old bytes read after an
   * upgrade, a rescoring after a savepoint restore). Its payload read back has the field as null
   * (its default), as the verdict read again. A payload with a key the current class lacks (a newer
   * writer's) is read back only when that key holds null: what a newer writer stores for a field
   * its schema added as nullable when it reads a verdict written without it, as the one this older
   * writer reads again during a rolling upgrade (since the fifty-first session: before, that was a
   * conflict). With a value there, it says more than the record read back: the verdict stays a
   * conflict. The payloads are read only for these rare mismatches; once retention or an erasure
   * removed one, the digest alone decides (they refresh it from the payload read back first, {@link
   * JudgementDigests}).
   */
  private static void sameJudgementAsPayload(
      Connection connection, Map<String, Conflict> conflicts, Set<String> digestDiffers)
      throws SQLException {
    Map<String, ModerationVerdict> stored = new HashMap<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select event_id, payload from audit_log where event_id = any(?)"
                + " and event_type = 'ModerationVerdict' and payload is not null")) {
      Set<String> ids = new HashSet<>();
      for (String key : digestDiffers) {
        ids.add(conflicts.get(key).event().eventId());
      }
      query.setArray(1, connection.createArrayOf("text", ids.toArray()));
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          ModerationVerdict verdict = verdictOf(rs.getString(2));
          if (verdict != null) {
            stored.put(rs.getString(1), verdict);
          }
        }
      }
    }
    conflicts
        .entrySet()
        .removeIf(
            entry -> {
              if (!digestDiffers.contains(entry.getKey())) {
                return false;
              }
              IncomingEvent event = entry.getValue().event();
              ModerationVerdict recorded = stored.get(event.eventId());
              return recorded != null && sameJudgement((ModerationVerdict) event.event(), recorded);
            });
  }

  /**
   * Whether two verdicts are one judgement: equal but for {@code decidedAt}, which the moderation
   * job sets each time it judges an output (an output sent again, a job restored from an older
   * savepoint), whereas everything else it writes is the same for the same output and policy.
   */
  static boolean sameJudgement(ModerationVerdict verdict, ModerationVerdict other) {
    return CanonicalJson.of(undated(verdict)).equals(CanonicalJson.of(undated(other)));
  }

  /**
   * The SHA-256 (lowercase hex) of a verdict's canonical JSON without {@code decidedAt} (set to the
   * epoch, as {@link #sameJudgement} compares them): equal for two verdicts exactly when they are
   * one judgement. Kept with the verdict's record ({@code audit_log.judgement_sha256}, migration
   * V35) when its content is removed.
   */
  static String judgementSha256(ModerationVerdict verdict) {
    return AuditChain.payloadSha256(CanonicalJson.of(undated(verdict)));
  }

  /**
   * {@link #judgementSha256(ModerationVerdict)} of a verdict from its canonical tree, which the
   * writer has made already for its payload: the verdict is not copied and its tree not made again.
   */
  static String judgementSha256(ObjectNode verdictTree) {
    return AuditChain.payloadSha256(
        CanonicalJson.write(CanonicalJson.withField(verdictTree, "decidedAt", Instant.EPOCH)));
  }

  /**
   * {@link #judgementSha256(ObjectNode)} from the verdict's canonical text written already ({@link
   * CanonicalJson#writeFields} of {@code verdictTree}): its time's text replaced, not the whole
   * verdict written again.
   */
  static String judgementSha256(ObjectNode verdictTree, CanonicalJson.Written verdictText) {
    return AuditChain.payloadSha256(verdictText.withField(verdictTree, "decidedAt", Instant.EPOCH));
  }

  private static ModerationVerdict undated(ModerationVerdict verdict) {
    return ModerationVerdict.newBuilder(verdict).setDecidedAt(Instant.EPOCH).build();
  }

  /**
   * A recorded verdict's payload read back; null when there is none or it cannot be read (a field
   * this class has without a default missing from it, since the fifty-first session also a
   * primitive one, which read as 0 or false before), or when it has a key, at any level, that the
   * current class lacks with a value other than null: recorded by a newer writer, it would read
   * back without that field and look the same judgement as a verdict that differs from it only
   * there. A null there is what the newer writer stored for a verdict written without that field
   * ({@link CanonicalJson#toRecordOfKnownOrNullFields}), as this class reads it.
   */
  private static ModerationVerdict verdictOf(String payload) {
    if (payload == null) {
      return null;
    }
    try {
      return CanonicalJson.toRecordOfKnownOrNullFields(payload, ModerationVerdict.class);
    } catch (RuntimeException e) {
      return null; // compared by its digest only, as other events are
    }
  }

  /** The SHA-256 of an event's canonical JSON, remembered by event id. */
  private static String sha256Of(IncomingEvent event, Map<String, String> digests) {
    return digests.computeIfAbsent(
        event.eventId(), id -> AuditChain.payloadSha256(CanonicalJson.of(event.event())));
  }

  /** Of these event ids, those the audit log has, with what it has of each one's content. */
  private static Map<String, Recorded> recorded(Connection connection, Collection<String> eventIds)
      throws SQLException {
    Map<String, Recorded> found = new HashMap<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "select event_id, payload_sha256, case when payload_sha256 is null then payload end,"
                + " judgement_sha256, case when event_type = 'ModerationVerdict'"
                + " and judgement_sha256 is null then payload end"
                + " from audit_log where event_id = any(?)")) {
      query.setArray(1, connection.createArrayOf("text", eventIds.toArray()));
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          byte[] sha256 = rs.getBytes(2);
          String payload = rs.getString(3);
          byte[] judgement = rs.getBytes(4);
          found.put(
              rs.getString(1),
              new Recorded(
                  sha256 != null
                      ? AuditChain.hex(sha256)
                      : payload == null ? null : AuditChain.payloadSha256(payload),
                  judgement == null ? null : AuditChain.hex(judgement),
                  rs.getString(5)));
        }
      }
    }
    return found;
  }

  /**
   * Keeps each conflict not kept yet in {@code event_id_conflict}, after the chain append (its
   * record may be of this batch); returns those kept now, each with whether it came after a resend.
   *
   * <p>Under the chain lock, which an erasure and a retention batch hold while they remove the
   * record's content and the kept rows' payloads: so each row's payload is decided on what the
   * record holds once such a removal committed (none is kept when the record's content is gone, nor
   * when the row's own request was erased: its content may sit under another request's record). An
   * erasure noted for one tenant (a data subject's, V39) reaches the row when it names the row's
   * tenant or the contested record's (a note of no tenant, or a row or record of none, reaches
   * every row): another tenant's note of the request id dropped the payload, evidence lost.
   *
   * <p>A row is marked {@code after_resend} only when the contested record is of the same request
   * and tenant as the content read now, and that request's flow of a kind whose resend writes other
   * content under the id ({@link #resentKinds}) was sent again, or its resend was under way (its
   * {@code resend_started_at}, committed before the send), less than {@code this.resendQuiet} ago
   * (the last recorded send's {@code resent_at}, or the marker). The request id read from the
   * content alone would let a forged event naming any resent request pass as one. The chain lock
   * does not order this against a resend: the send comes before the resend's action and count
   * commit, so the marker committed before the send is what the answers read meanwhile see.
   */
  private List<Kept> recordConflicts(Connection connection, List<Conflict> conflicts)
      throws SQLException {
    if (conflicts.isEmpty()) {
      return List.of();
    }
    ChainAppender.lock(connection);
    List<Kept> kept = new ArrayList<>();
    OffsetDateTime now = time(clock.instant());
    try (PreparedStatement insert =
        connection.prepareStatement(
            "insert into event_id_conflict (event_id, payload_sha256, recorded_payload_sha256,"
                + " event_type, tenant_id, request_id, source_topic, source_partition,"
                + " source_offset, payload, seen_at, after_resend) values (?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?, case when exists (select 1 from audit_log r where r.event_id = ? and"
                + " r.payload is not null and not exists (select 1 from request_erasure e where"
                + " e.request_id = ? and (e.tenant_id is null or r.tenant_id is null"
                + " or ?::text is null or e.tenant_id in (r.tenant_id, ?)))) then ? end, ?,"
                + " exists (select 1 from unfinished_flow f"
                + " join audit_log a on a.event_id = ? and a.request_id = f.request_id"
                + " and a.tenant_id is not distinct from ? where f.request_id = ?"
                + " and f.kind = any(?) and greatest(f.resent_at, f.resend_started_at) >= ?))"
                + " on conflict do nothing returning after_resend")) {
      for (Conflict conflict : conflicts) {
        IncomingEvent event = conflict.event();
        insert.setString(1, event.eventId());
        insert.setBytes(2, HexFormat.of().parseHex(conflict.sha256()));
        insert.setBytes(3, HexFormat.of().parseHex(conflict.recordedSha256()));
        insert.setString(4, event.type());
        insert.setString(5, tenantOf(event));
        insert.setString(6, event.field("requestId"));
        insert.setString(7, event.topic());
        insert.setInt(8, event.partition());
        insert.setLong(9, event.offset());
        insert.setString(10, event.eventId());
        insert.setString(11, event.field("requestId"));
        insert.setString(12, tenantOf(event));
        insert.setString(13, tenantOf(event));
        insert.setString(14, conflict.payload());
        insert.setObject(15, now);
        insert.setString(16, event.eventId());
        insert.setString(17, tenantOf(event));
        insert.setString(18, event.field("requestId"));
        insert.setArray(19, connection.createArrayOf("text", resentKinds(event).toArray()));
        // One cutoff: greatest() skips a null and is null only when both are, so it is at or after
        // the cutoff exactly when either time is, as "resent_at >= ? or resend_started_at >= ?"
        // (the same cutoff bound twice) was; AuditWriterITCase.shouldMarkAfterResendByEitherTime.
        insert.setObject(20, time(clock.instant().minus(resendQuiet)));
        try (ResultSet rs = insert.executeQuery()) {
          if (rs.next()) {
            kept.add(new Kept(conflict, rs.getBoolean(1)));
          }
        }
      }
    }
    return kept;
  }

  /**
   * The kinds of unfinished flow whose resend makes the pipeline write other content under an
   * event's id: a request sent to the generators again, which had been answered after all, is
   * answered again (another text under the same output id, and its verdict under the same verdict
   * id); a verdict of an output sent to the gate again is one judged again, which a scorer changed
   * since may judge differently. An output sent to the gate again is the recorded one, byte for
   * byte, so other content under an output's id after that is not explained by it.
   */
  private static List<String> resentKinds(IncomingEvent event) {
    return event.event() instanceof ModerationVerdict
        ? List.of("NO_ANSWER", "NO_GATE_OUTCOME")
        : List.of("NO_ANSWER");
  }

  /** A conflict kept now, and whether its request's records had been sent again by then. */
  private record Kept(Conflict conflict, boolean afterResend) {}

  private Written writeInTransaction(Connection connection, Map<String, IncomingEvent> fresh)
      throws SQLException {
    if (fresh.isEmpty()) {
      return new Written(0, 0);
    }
    List<ChainRecord> records = new ArrayList<>(fresh.size());
    // Each event's canonical tree is built and written once: its audit record's payload is that
    // text, its projection's JSON columns are the text of its fields in it, and a verdict's
    // judgement digest hashes it with the time's text replaced (the same texts as written apart).
    Map<SpecificRecord, CanonicalJson.Written> written = new IdentityHashMap<>(fresh.size());
    for (IncomingEvent event : fresh.values()) {
      ObjectNode tree = CanonicalJson.toTree(event.event());
      CanonicalJson.Written text = CanonicalJson.writeFields(tree);
      written.put(event.event(), text);
      records.add(
          new ChainRecord(
              event.eventId(),
              event.type(),
              tenantOf(event),
              event.field("requestId"),
              event.topic(),
              event.partition(),
              event.offset(),
              text.text(),
              event.event() instanceof ModerationVerdict ? judgementSha256(tree, text) : null));
    }
    Projections projections = new Projections(connection, fresh.values(), written);
    projections.writeRows();
    Instant now = clock.instant();
    ChainAppender.append(connection, records, now); // takes the chain lock
    // The review queue reconciles a held outcome with a final one read from another topic, maybe
    // by another writer: under the lock, each statement sees every earlier writer's commit.
    int takenDown = projections.updateReviewQueue(now);
    projections.countPoliciesInUse();
    listener.recorded(connection, List.copyOf(fresh.values()), clock.instant());
    return new Written(fresh.size(), takenDown);
  }

  private static Set<String> existing(Connection connection, Collection<String> eventIds)
      throws SQLException {
    Set<String> found = new HashSet<>();
    try (PreparedStatement query =
        connection.prepareStatement("select event_id from audit_log where event_id = any(?)")) {
      Array ids = connection.createArrayOf("text", eventIds.toArray());
      query.setArray(1, ids);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          found.add(rs.getString(1));
        }
      }
    }
    return found;
  }

  /**
   * The tenant an event's record names: its {@code tenantId}, except the empty one of an erasure
   * notice for a request known only by its dead letters (Retention.NO_TENANT), which names none.
   */
  private static String tenantOf(IncomingEvent event) {
    String tenant = event.field("tenantId");
    return event.event() instanceof ErasureNotice && tenant != null && tenant.isEmpty()
        ? null
        : tenant;
  }

  public static OffsetDateTime time(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  /** Typed rows for queries, one statement per table, batched. */
  private static final class Projections {
    private final Connection connection;
    private final Map<SpecificRecord, CanonicalJson.Written> written;
    private final List<GenerationRequest> requests = new ArrayList<>();
    private final List<GenerationOutput> outputs = new ArrayList<>();
    private final List<GenerationFailure> failures = new ArrayList<>();
    private final List<ModerationVerdict> verdicts = new ArrayList<>();
    private final List<ReleaseGateOutcome> outcomes = new ArrayList<>();
    private final List<GateDecisionRestated> restatements = new ArrayList<>();
    private final List<ReviewDecision> reviews = new ArrayList<>();
    private final List<DeadLetter> deadLetters = new ArrayList<>();
    private final List<BiasMetric> metrics = new ArrayList<>();

    /**
     * @param written each event's canonical text ({@link CanonicalJson#writeFields} of its tree),
     *     by the event itself
     */
    Projections(
        Connection connection,
        Iterable<IncomingEvent> events,
        Map<SpecificRecord, CanonicalJson.Written> written) {
      this.connection = connection;
      this.written = written;
      for (IncomingEvent incoming : events) {
        Object event = incoming.event();
        if (event instanceof GenerationRequest e) {
          requests.add(e);
        } else if (event instanceof GenerationOutput e) {
          outputs.add(e);
        } else if (event instanceof GenerationFailure e) {
          failures.add(e);
        } else if (event instanceof ModerationVerdict e) {
          verdicts.add(e);
        } else if (event instanceof ReleaseGateOutcome e) {
          outcomes.add(e);
        } else if (event instanceof ReviewDecision e) {
          reviews.add(e);
        } else if (event instanceof DeadLetter e) {
          deadLetters.add(e);
        } else if (event instanceof BiasMetric e) {
          metrics.add(e);
        } else if (event instanceof PolicyFile) {
          // Audit log only: the policy archive keeps the file (RecordedEventsListener).
          continue;
        } else if (event instanceof ErasureNotice) {
          // Audit log only: the erasure's own record is in the chain already; this one shows the
          // gate was told, and request_erasure is where erasures are looked up.
          continue;
        } else if (event instanceof ContentRetraction) {
          // Audit log only: this one shows the publishers were told; content_retraction, written
          // with the action that retracted it, is where retractions are looked up.
          continue;
        } else if (event instanceof GateDecisionRestated e) {
          // The gate restating a decision whose outcome this store never got (its audit record
          // closes the output's unfinished flow; gate_restatement is where search, the story and a
          // takedown find it).
          restatements.add(e);
        } else if (event instanceof BiasAlert) {
          // Audit log only: the bias job's bias_audit.live_alert table is where alerts are queried.
          continue;
        } else {
          throw new IllegalArgumentException("No projection for " + incoming.type());
        }
      }
    }

    /**
     * One row per event in its table, before the chain lock: an event's rows are its own. (The same
     * event handed to two writers at once: the later insert waits for, or deadlocks with, the other
     * transaction; the loser rolls back and its retry skips the event.)
     */
    void writeRows() throws SQLException {
      requests(requests);
      outputs(outputs);
      failures(failures);
      verdicts(verdicts);
      outcomes(outcomes);
      restatements(restatements);
      reviews(reviews);
      deadLetters(deadLetters);
      metrics(metrics);
    }

    /**
     * Review items opened, closed or decided by this batch's gate outcomes, restatements and
     * decisions.
     *
     * @return how many releases of outputs a person had rejected this batch took down
     */
    int updateReviewQueue(Instant now) throws SQLException {
      queueHeld(outcomes);
      // Decisions first: a REJECT read in the same batch as the gate's release of its item is then
      // enforced as one read earlier is.
      reviewDecided(reviews);
      // A release of an item decided with REJECT is taken down, and the item closed as RETRACTED:
      // the finals below then leave it alone.
      int takenDown = RejectedReleases.takeDown(connection, releases(), now).size();
      closeFinals(outcomes);
      // A restated final decision closes the item as the lost outcome would have: its tenant's
      // item only.
      batch(
          restatements,
          "update review_item set state = ? where request_id = ? and tenant_id = ?"
              + " and state in ('PENDING', 'DECIDED')",
          (s, e) -> {
            s.setString(1, closedAs(e.getDecision()));
            s.setString(2, e.getRequestId());
            s.setString(3, e.getTenantId());
          });
      // A REJECT read after the gate released its item (on a late verdict, not on an approval)
      // takes that release down too.
      takenDown += RejectedReleases.takeDownOnRejection(connection, rejections(), now).size();
      return takenDown;
    }

    /** This batch's REJECT decisions. */
    private List<ReviewDecision> rejections() {
      return reviews.stream().filter(e -> e.getAction() == ReviewAction.REJECT).toList();
    }

    /**
     * The requests this batch's RELEASED outcomes and restated releases name, with their tenant.
     */
    private Set<RejectedReleases.Release> releases() {
      Set<RejectedReleases.Release> released = new LinkedHashSet<>();
      for (ReleaseGateOutcome outcome : outcomes) {
        if (outcome.getOutcome() == GateOutcome.RELEASED) {
          released.add(new RejectedReleases.Release(outcome.getTenantId(), outcome.getRequestId()));
        }
      }
      for (GateDecisionRestated restated : restatements) {
        if (restated.getDecision() == RestatedDecision.RELEASED) {
          released.add(
              new RejectedReleases.Release(restated.getTenantId(), restated.getRequestId()));
        }
      }
      return released;
    }

    /** The review item's state a restated decision leaves (an erased request's was quarantined). */
    private static String closedAs(RestatedDecision decision) {
      return decision == RestatedDecision.RELEASED ? "RELEASED" : "QUARANTINED";
    }

    /**
     * Adds this batch's verdicts to {@code policy_in_use}, one row per policy file. A verdict
     * without a digest (from before ModerationVerdict v2) or with one that is not a SHA-256 (64
     * lowercase hex characters, which no file has) is not counted: it is still audited, and an
     * oversized key must not make PostgreSQL refuse the verdict's batch. Under the chain lock: two
     * writers never wait for each other's row there while holding a lock the other needs.
     */
    void countPoliciesInUse() throws SQLException {
      Map<String, PolicyUse> uses = new LinkedHashMap<>();
      for (ModerationVerdict verdict : verdicts) {
        if (ContentHash.isSha256Hex(verdict.getPolicySha256())) {
          uses.computeIfAbsent(verdict.getPolicySha256(), sha256 -> new PolicyUse(verdict))
              .add(verdict.getDecidedAt());
        }
      }
      batch(
          List.copyOf(uses.values()),
          "insert into policy_in_use (sha256, policy_id, policy_version, first_decided_at,"
              + " last_decided_at, verdicts) values (?, ?, ?, ?, ?, ?) on conflict (sha256) do update"
              + " set first_decided_at = least(policy_in_use.first_decided_at, excluded.first_decided_at),"
              + " last_decided_at = greatest(policy_in_use.last_decided_at, excluded.last_decided_at),"
              + " verdicts = policy_in_use.verdicts + excluded.verdicts",
          (s, use) -> {
            s.setString(1, use.first.getPolicySha256());
            s.setString(2, use.first.getPolicyId());
            s.setString(3, use.first.getPolicyVersion());
            s.setObject(4, time(use.firstDecidedAt));
            s.setObject(5, time(use.lastDecidedAt));
            s.setLong(6, use.verdicts);
          });
    }

    private void requests(List<GenerationRequest> rows) throws SQLException {
      batch(
          rows,
          "insert into generation_request (request_id, event_id, tenant_id, prompt, backend,"
              + " model, parameters, attributes, submitted_at) values (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)"
              + " on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getRequestId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getTenantId());
            s.setString(4, e.getPrompt());
            s.setString(5, e.getBackend());
            s.setString(6, e.getModel());
            s.setString(7, json(e, "parameters"));
            s.setString(8, json(e, "attributes"));
            s.setObject(9, time(e.getSubmittedAt()));
          });
    }

    private void outputs(List<GenerationOutput> rows) throws SQLException {
      batch(
          rows,
          "insert into generation_output (output_id, event_id, request_id, tenant_id, text,"
              + " model_name, model_version, backend, watermark, manifest, cost, attributes, generated_at)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getOutputId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getRequestId());
            s.setString(4, e.getTenantId());
            s.setString(5, e.getText());
            s.setString(6, e.getModel().getName());
            s.setString(7, e.getModel().getVersion());
            s.setString(8, e.getModel().getBackend());
            s.setString(9, e.getWatermark() == null ? null : json(e, "watermark"));
            s.setString(10, e.getManifest() == null ? null : json(e, "manifest"));
            s.setString(11, json(e, "cost"));
            s.setString(12, json(e, "attributes"));
            s.setObject(13, time(e.getGeneratedAt()));
          });
    }

    private void failures(List<GenerationFailure> rows) throws SQLException {
      batch(
          rows,
          "insert into generation_failure (event_id, request_id, tenant_id, code, reason, backend,"
              + " attempts, failed_at) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getEventId());
            s.setString(2, e.getRequestId());
            s.setString(3, e.getTenantId());
            s.setString(4, e.getCode());
            s.setString(5, e.getReason());
            s.setString(6, e.getBackend());
            s.setInt(7, e.getAttempts());
            s.setObject(8, time(e.getFailedAt()));
          });
    }

    private void verdicts(List<ModerationVerdict> rows) throws SQLException {
      batch(
          rows,
          "insert into moderation_verdict (verdict_id, event_id, output_id, request_id, tenant_id,"
              + " output_sha256, decision, unsafe_score, category_scores, reasons, groups, provenance,"
              + " text_truncated, policy_id, policy_version, scorer_versions, model, attributes, decided_at,"
              + " policy_sha256) values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?::jsonb, ?, ?, ?,"
              + " ?::jsonb, ?::jsonb, ?::jsonb, ?, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getVerdictId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getOutputId());
            s.setString(4, e.getRequestId());
            s.setString(5, e.getTenantId());
            s.setString(6, e.getOutputSha256());
            s.setString(7, e.getDecision().name());
            s.setDouble(8, e.getUnsafeScore());
            s.setString(9, json(e, "categoryScores"));
            s.setString(10, json(e, "reasons"));
            s.setArray(11, connection.createArrayOf("text", e.getGroups().toArray()));
            s.setString(12, e.getProvenance() == null ? null : json(e, "provenance"));
            s.setBoolean(13, e.getTextTruncated());
            s.setString(14, e.getPolicyId());
            s.setString(15, e.getPolicyVersion());
            s.setString(16, json(e, "scorerVersions"));
            s.setString(17, e.getModel() == null ? null : json(e, "model"));
            s.setString(18, json(e, "attributes"));
            s.setObject(19, time(e.getDecidedAt()));
            s.setString(20, e.getPolicySha256());
          });
    }

    private void outcomes(List<ReleaseGateOutcome> rows) throws SQLException {
      batch(
          rows,
          "insert into gate_outcome (event_id, request_id, output_id, tenant_id, outcome, basis,"
              + " verdict_id, decision, review_id, output_sha256, policy_version, reasons, decided_at)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getEventId());
            s.setString(2, e.getRequestId());
            s.setString(3, e.getOutputId());
            s.setString(4, e.getTenantId());
            s.setString(5, e.getOutcome().name());
            s.setString(6, e.getBasis().name());
            s.setString(7, e.getVerdictId());
            s.setString(8, e.getDecision().name());
            s.setString(9, e.getReviewId());
            s.setString(10, e.getOutputSha256());
            s.setString(11, e.getPolicyVersion());
            s.setString(12, json(e, "reasons"));
            s.setObject(13, time(e.getDecidedAt()));
          });
    }

    private void restatements(List<GateDecisionRestated> rows) throws SQLException {
      batch(
          rows,
          "insert into gate_restatement (event_id, request_id, tenant_id, output_id, decision,"
              + " decided_at, restated_at, outcome_event_id, outcome_basis)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getEventId());
            s.setString(2, e.getRequestId());
            s.setString(3, e.getTenantId());
            s.setString(4, e.getOutputId());
            s.setString(5, e.getDecision().name());
            s.setObject(6, time(e.getDecidedAt()));
            s.setObject(7, time(e.getRestatedAt()));
            s.setString(8, e.getOutcomeEventId());
            s.setString(9, e.getOutcomeBasis() == null ? null : e.getOutcomeBasis().name());
          });
    }

    /**
     * Keeps the review queue in step with the gate: an output held for review becomes a PENDING
     * item ({@link #closeFinals} closes it once the gate decides, whatever the order in which the
     * topics are read).
     *
     * <p>An item the gate held because no verdict came in time (empty verdict id) gains the verdict
     * when a late one holds it again, while it waits for a person (the API refuses a decision made
     * on the item as it was before: see {@code ReviewQueue.decide}). Once decided, or closed, it
     * keeps the verdict and hold the decision was made on, and the late ones are kept beside them
     * (late_verdict_id, late_gate_event_id). A hold that names the item's own review is the gate
     * refusing that approval, made on another verdict than the output is held on now: the item is
     * opened again (PENDING, unclaimed, on that hold's verdict) for a person to decide under it.
     */
    private void queueHeld(List<ReleaseGateOutcome> rows) throws SQLException {
      List<ReleaseGateOutcome> held =
          rows.stream().filter(e -> e.getOutcome() == GateOutcome.HELD_FOR_REVIEW).toList();
      batch(
          heldOncePerRequest(rows),
          "insert into review_item (request_id, output_id, tenant_id, verdict_id, gate_event_id,"
              + " held_at, state) values (?, ?, ?, ?, ?, ?, 'PENDING')"
              + " on conflict (request_id, tenant_id) do nothing",
          (s, e) -> {
            s.setString(1, e.getRequestId());
            s.setString(2, e.getOutputId());
            s.setString(3, e.getTenantId());
            s.setString(4, e.getVerdictId());
            s.setString(5, e.getEventId());
            s.setObject(6, time(e.getDecidedAt()));
          });
      // The gate kept the output held instead of acting on the item's approval: opened again. The
      // decision stays on record (review_decision, the chain), and the first hold's time is kept.
      batch(
          held.stream().filter(e -> e.getReviewId() != null).toList(),
          "update review_item set state = 'PENDING', verdict_id = ?, gate_event_id = ?,"
              + " late_verdict_id = null, late_gate_event_id = null, review_id = null, action = null,"
              + " note = null, decided_by = null, decided_at = null, claimed_by = null,"
              + " claimed_token_id = null, claimed_at = null, claim_expires_at = null"
              + " where request_id = ? and tenant_id = ? and state = 'DECIDED' and review_id = ?",
          (s, e) -> {
            s.setString(1, e.getVerdictId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getRequestId());
            s.setString(4, e.getTenantId());
            s.setString(5, e.getReviewId());
          });
      List<ReleaseGateOutcome> withVerdict =
          held.stream().filter(e -> !e.getVerdictId().isEmpty()).toList();
      batch(
          withVerdict,
          "update review_item set verdict_id = ?, gate_event_id = ?"
              + " where request_id = ? and tenant_id = ? and state = 'PENDING' and verdict_id = ''",
          (s, e) -> {
            s.setString(1, e.getVerdictId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getRequestId());
            s.setString(4, e.getTenantId());
          });
      batch(
          withVerdict,
          "update review_item set late_verdict_id = ?, late_gate_event_id = ?"
              + " where request_id = ? and tenant_id = ? and state <> 'PENDING' and verdict_id = ''"
              + " and late_verdict_id is null",
          (s, e) -> {
            s.setString(1, e.getVerdictId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getRequestId());
            s.setString(4, e.getTenantId());
          });
    }

    /**
     * This batch's holds, one per request and tenant, as the upsert below would leave the item had
     * each been written in a batch of its own: the first hold, with the verdict id and gate event
     * id of the first later hold that has a verdict when it has none (a timeout hold, then the
     * gate's hold on the late verdict). The gate writes a request's outcomes in order to one
     * partition, so the batch has them in that order. Two rows for one request in one statement
     * would make PostgreSQL refuse the whole batch ("ON CONFLICT DO UPDATE command cannot affect
     * row a second time").
     */
    private static List<ReleaseGateOutcome> heldOncePerRequest(List<ReleaseGateOutcome> rows) {
      Map<TenantRequest, ReleaseGateOutcome> held = new LinkedHashMap<>();
      for (ReleaseGateOutcome e : rows) {
        if (e.getOutcome() != GateOutcome.HELD_FOR_REVIEW) {
          continue;
        }
        held.merge(
            // Another tenant's hold under the same request id is an item of its own.
            new TenantRequest(e.getTenantId(), e.getRequestId()),
            e,
            (first, later) ->
                first.getVerdictId().isEmpty() && !later.getVerdictId().isEmpty()
                    ? ReleaseGateOutcome.newBuilder(first)
                        .setVerdictId(later.getVerdictId())
                        .setEventId(later.getEventId())
                        .build()
                    : first);
      }
      return List.copyOf(held.values());
    }

    /**
     * A final outcome for a request closes its item. Finals are applied after the inserts, and a
     * newly held item is checked against stored finals, so the order in which the topics are read
     * does not matter.
     */
    private void closeFinals(List<ReleaseGateOutcome> rows) throws SQLException {
      if (rows.isEmpty()) {
        return;
      }
      List<ReleaseGateOutcome> held =
          rows.stream().filter(e -> e.getOutcome() == GateOutcome.HELD_FOR_REVIEW).toList();
      // A final outcome closes its item: one statement for the batch's finals (most requests were
      // never held, so most ids match nothing). Only an outcome of the item's own tenant closes it:
      // another tenant's outcome under the same request id leaves it open. A request's first final
      // of the item's tenant in the batch closes it, as when each was its own update in batch
      // order (the later ones found the item closed); one row per request and tenant, since
      // PostgreSQL would pick any one of several joined to an item.
      Map<TenantRequest, String> finals = new LinkedHashMap<>();
      for (ReleaseGateOutcome e : rows) {
        if (e.getOutcome() == GateOutcome.RELEASED || e.getOutcome() == GateOutcome.QUARANTINED) {
          finals.putIfAbsent(
              new TenantRequest(e.getTenantId(), e.getRequestId()), e.getOutcome().name());
        }
      }
      if (!finals.isEmpty()) {
        try (PreparedStatement close = connection.prepareStatement(CLOSE_FINALS)) {
          close.setArray(
              1,
              connection.createArrayOf(
                  "text", finals.keySet().stream().map(TenantRequest::requestId).toArray()));
          close.setArray(
              2,
              connection.createArrayOf(
                  "text", finals.keySet().stream().map(TenantRequest::tenantId).toArray()));
          close.setArray(3, connection.createArrayOf("text", finals.values().toArray()));
          close.executeUpdate();
        }
      }
      if (held.isEmpty()) {
        return;
      }
      // An item queued now whose final outcome was read earlier (another topic) is closed at once;
      // driven by the few held ids, so the cost does not grow with the table.
      try (PreparedStatement close =
          connection.prepareStatement(
              "update review_item r set state = f.outcome from (select request_id, tenant_id,"
                  + " outcome from gate_outcome where outcome in ('RELEASED', 'QUARANTINED')"
                  + " union all select request_id, tenant_id, case decision when 'RELEASED' then"
                  + " 'RELEASED' else 'QUARANTINED' end from gate_restatement) f"
                  + " where r.request_id = any(?) and f.request_id = r.request_id"
                  + " and f.tenant_id = r.tenant_id and r.state in ('PENDING', 'DECIDED')")) {
        close.setArray(
            1,
            connection.createArrayOf(
                "text", held.stream().map(ReleaseGateOutcome::getRequestId).distinct().toArray()));
        close.executeUpdate();
      }
    }

    /** A request of a tenant: what a review item is matched on when a gate outcome closes it. */
    private record TenantRequest(String tenantId, String requestId) {}

    private void reviews(List<ReviewDecision> rows) throws SQLException {
      batch(
          rows,
          "insert into review_decision (review_id, event_id, request_id, output_id, tenant_id,"
              + " action, reviewer, note, decided_at, verdict_id)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getReviewId());
            s.setString(2, e.getEventId());
            s.setString(3, e.getRequestId());
            s.setString(4, e.getOutputId());
            s.setString(5, e.getTenantId());
            s.setString(6, e.getAction().name());
            s.setString(7, e.getReviewer());
            s.setString(8, e.getNote());
            s.setObject(9, time(e.getDecidedAt()));
            s.setString(10, e.getVerdictId());
          });
    }

    /**
     * A decision made outside this service's API (another instance, a tool) closes the item too. A
     * review id names one item's decision (review_item.review_id is unique): a decision that reuses
     * the id of another item's (a tool's bug; another tenant's item under the same request id is
     * another item) still marks its own item decided, without the id, and is in the chain like any
     * event. Setting the id again would make PostgreSQL refuse the whole batch, on every retry, and
     * stop ingesting its partitions. A decision that names the verdict it was made on decides only
     * an item on that verdict: one made before a late verdict reached the item (the item opened
     * again once the gate refused it) leaves it to a person.
     */
    private void reviewDecided(List<ReviewDecision> rows) throws SQLException {
      batch(
          rows,
          "update review_item set state = 'DECIDED', review_id = case when exists (select 1 from"
              + " review_item other where other.review_id = ?"
              + " and (other.request_id, other.tenant_id) <> (?, ?)) then null"
              + " else ? end, action = ?, decided_by = ?, note = ?, decided_at = ?"
              + " where request_id = ? and tenant_id = ? and state = 'PENDING'"
              + " and (?::text is null or verdict_id = ?::text)",
          (s, e) -> {
            s.setString(1, e.getReviewId());
            s.setString(2, e.getRequestId());
            s.setString(3, e.getTenantId());
            s.setString(4, e.getReviewId());
            s.setString(5, e.getAction().name());
            s.setString(6, e.getReviewer());
            s.setString(7, e.getNote());
            s.setObject(8, time(e.getDecidedAt()));
            s.setString(9, e.getRequestId());
            s.setString(10, e.getTenantId());
            s.setString(11, e.getVerdictId());
            s.setString(12, e.getVerdictId());
          });
      warnOfReusedReviewIds(rows);
    }

    /**
     * Says which of these decisions reuse the review id another item holds: their item was not
     * given it, and review_decision keeps the first decision of that id only.
     */
    private void warnOfReusedReviewIds(List<ReviewDecision> rows) throws SQLException {
      if (rows.isEmpty()) {
        return;
      }
      try (PreparedStatement query =
          connection.prepareStatement(
              "select d.request_id, d.tenant_id, d.review_id, r.request_id, r.tenant_id"
                  + " from unnest(?::text[], ?::text[], ?::text[])"
                  + " as d(request_id, tenant_id, review_id) join review_item r"
                  + " on r.review_id = d.review_id"
                  + " and (r.request_id, r.tenant_id) <> (d.request_id, d.tenant_id)")) {
        query.setArray(
            1,
            connection.createArrayOf(
                "text", rows.stream().map(ReviewDecision::getRequestId).toArray()));
        query.setArray(
            2,
            connection.createArrayOf(
                "text", rows.stream().map(ReviewDecision::getTenantId).toArray()));
        query.setArray(
            3,
            connection.createArrayOf(
                "text", rows.stream().map(ReviewDecision::getReviewId).toArray()));
        try (ResultSet rs = query.executeQuery()) {
          while (rs.next()) {
            LOG.warn(
                "The review decision for request {} of tenant {} reuses review id {}, which the"
                    + " decision of request {} of tenant {} has: recorded in the audit log, and the"
                    + " review item is marked decided without the id",
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5));
          }
        }
      }
    }

    private void deadLetters(List<DeadLetter> rows) throws SQLException {
      batch(
          rows,
          "insert into dead_letter (event_id, source_topic, source_partition, source_offset, stage,"
              + " reason, error_class, payload, failed_at, source_key)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getEventId());
            s.setString(2, e.getSourceTopic());
            s.setInt(3, e.getSourcePartition());
            s.setLong(4, e.getSourceOffset());
            s.setString(5, e.getStage());
            s.setString(6, e.getReason());
            s.setString(7, e.getErrorClass());
            if (e.getPayload() == null) {
              s.setNull(8, Types.BINARY);
            } else {
              s.setBytes(8, bytes(e.getPayload()));
            }
            s.setObject(9, time(e.getFailedAt()));
            s.setString(10, e.getKey() == null ? null : sourceKey(bytes(e.getKey())));
          });
    }

    private void metrics(List<BiasMetric> rows) throws SQLException {
      batch(
          rows,
          "insert into bias_metric (event_id, scope, campaign_id, model, group_name, window_start,"
              + " window_end, count, unsafe_count, unsafe_score_sum, block_count, review_count, release_count,"
              + " category_counts, computed_at, tenant_id)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)"
              + " on conflict do nothing",
          (s, e) -> {
            s.setString(1, e.getEventId());
            s.setString(2, e.getScope().name());
            s.setString(3, e.getCampaignId());
            s.setString(4, e.getModel());
            s.setString(5, e.getGroup());
            s.setObject(6, time(e.getWindowStart()));
            s.setObject(7, time(e.getWindowEnd()));
            s.setLong(8, e.getCount());
            s.setLong(9, e.getUnsafeCount());
            s.setDouble(10, e.getUnsafeScoreSum());
            s.setLong(11, e.getBlockCount());
            s.setLong(12, e.getReviewCount());
            s.setLong(13, e.getReleaseCount());
            s.setString(14, json(e, "categoryCounts"));
            s.setObject(15, time(e.getComputedAt()));
            s.setString(16, e.getTenantId());
          });
    }

    private <T> void batch(List<T> rows, String sql, RowBinder<T> binder) throws SQLException {
      if (rows.isEmpty()) {
        return;
      }
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        for (T row : rows) {
          binder.bind(statement, row);
          statement.addBatch();
        }
        statement.executeBatch();
      }
    }

    /**
     * The canonical JSON of one of the event's fields, as it appears in the event's audit record
     * ({@link CanonicalJson#ofField}): the field's text in the record's payload (every event given
     * to the projections has one).
     */
    private String json(SpecificRecord event, String field) {
      return written.get(event).field(field);
    }

    /**
     * A dead letter's source key as text, by which erasure and retention find the dead letters of a
     * request (every topic with dead letters is keyed by request id); null when it is not UTF-8
     * text, or holds a NUL character, which PostgreSQL text cannot: then it names no request.
     */
    static String sourceKey(byte[] key) {
      try {
        String text =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(key))
                .toString();
        return text.indexOf('\0') >= 0 ? null : text;
      } catch (CharacterCodingException e) {
        return null;
      }
    }

    private static byte[] bytes(ByteBuffer buffer) {
      ByteBuffer copy = buffer.duplicate();
      byte[] raw = new byte[copy.remaining()];
      copy.get(raw);
      return raw;
    }
  }

  /** A batch's verdicts under one policy file. */
  private static final class PolicyUse {
    private final ModerationVerdict first;
    private Instant firstDecidedAt;
    private Instant lastDecidedAt;
    private long verdicts;

    PolicyUse(ModerationVerdict first) {
      this.first = first;
    }

    void add(Instant decidedAt) {
      if (firstDecidedAt == null || decidedAt.isBefore(firstDecidedAt)) {
        firstDecidedAt = decidedAt;
      }
      if (lastDecidedAt == null || decidedAt.isAfter(lastDecidedAt)) {
        lastDecidedAt = decidedAt;
      }
      verdicts++;
    }
  }

  @FunctionalInterface
  private interface RowBinder<T> {
    void bind(PreparedStatement statement, T row) throws SQLException;
  }
}
