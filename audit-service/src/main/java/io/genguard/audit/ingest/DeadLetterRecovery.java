package io.genguard.audit.ingest;

import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.security.Caller;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.KeptDeadLetters;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.avro.specific.SpecificRecord;

/**
 * Records what the audit service could not decode once it can: its own dead letters (stage {@code
 * audit}) keep the bytes, so after an upgrade that brings the schema they were written with, they
 * are decoded and recorded as the events they are, in the chain and the query tables, as the
 * ingestor would have. The dead letters stay (they are history); one whose event is on record (a
 * run recovered it, or another copy of the event was recorded) is passed over, so each run takes up
 * the oldest dead letters not yet recovered, and runs with a small limit work through them all.
 * What stays is counted by why: undecoded, or refused by the audit store for what it holds (such an
 * event is left as a dead letter and the others are recorded). Each run that records anything is
 * itself recorded ({@value #ACTION}).
 *
 * <p>Other stages' dead letters are read too. A dead letter's id names its source record, not its
 * stage ({@link DeadLetters#of}), so when the audit service and another stage (the gate, the bias
 * job, the moderation job, a generator pool) both gave up on one record, the audit store kept
 * whichever copy it read first, often the other stage's from its {@code .dlq} topic, and the
 * audit's own was a duplicate. Another stage's dead letter therefore stands for the audit's: it is
 * passed over when the audit log has an event at its source position (the audit service recorded
 * that record; found through the request id it is keyed by) or its payload decodes to an event on
 * record, and is otherwise recovered or counted like the audit's own, whatever the other stage's
 * reason (the audit store refuses only what it cannot store). One from a topic this build does not
 * read is not the audit service's, and is passed over.
 */
public final class DeadLetterRecovery {
  /** The action a run is recorded as. */
  public static final String ACTION = "audit.dead-letters.recover";

  /** Most events one run records. */
  public static final int MAX_LIMIT = 100_000;

  /**
   * Most dead letters one run reads, those that stay included: dead letters that still do not
   * decode are read again by every run (a later build may decode them) and count here, not toward
   * the limit, so they never keep a run from the newer ones behind them.
   */
  public static final int MAX_READ = 1_000_000;

  /** Dead letters read, and events written, at a time. */
  static final int CHUNK = 500;

  private DeadLetterRecovery() {}

  /**
   * What a run did.
   *
   * @param read dead letters read whose event was not on record (the audit stage's, and other
   *     stages' for records the audit log has nothing at), oldest first (those that stay included)
   * @param decoded how many now decode (in a dry run, all that would be recorded)
   * @param recorded events recorded now
   * @param kept the dead letters that stay (undecoded, or refused by the audit store), by why
   * @param examples the first dead letters' event ids of each reason
   */
  public record Result(
      boolean dryRun,
      int read,
      int decoded,
      int recorded,
      Map<String, Long> kept,
      Map<String, List<String>> examples) {}

  /** One dead letter read: its event if it decodes, else why it stays. */
  private record DeadLetterRead(String deadLetterId, IncomingEvent event, String refusal) {}

  /** What writing a chunk did: events recorded, and left as dead letters the store refused. */
  private record Written(int recorded, int refused) {}

  /** Where a chunk of dead letters ended, oldest first. */
  private record Position(OffsetDateTime failedAt, String eventId) {}

  /**
   * @param limit most events to record (in a dry run: to decode), oldest first; dead letters whose
   *     event is on record are passed over, and those that stay are read (at most {@link #MAX_READ}
   *     a run) but not counted toward it
   */
  public static Result recover(
      DataSource dataSource, Clock clock, Caller caller, int limit, boolean dryRun)
      throws SQLException {
    return recover(dataSource, clock, caller, limit, dryRun, AuditWriter.RESEND_UNDER_WAY);
  }

  /**
   * As {@link #recover(DataSource, Clock, Caller, int, boolean)}, keeping other content under a
   * request's records as after its resend for {@code resendQuiet} after it, as the audit service's
   * writer does ({@code GENGUARD_AUDIT_RESEND_QUIET_SECONDS}, {@link
   * io.genguard.audit.AuditConfig#resendQuiet(java.util.function.Function)}).
   */
  public static Result recover(
      DataSource dataSource,
      Clock clock,
      Caller caller,
      int limit,
      boolean dryRun,
      java.time.Duration resendQuiet)
      throws SQLException {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
    }
    Map<String, Topic<String, ?>> topics = new LinkedHashMap<>();
    Topics.all().forEach(topic -> topics.put(topic.name(), topic));
    AuditWriter writer =
        new AuditWriter(dataSource, clock, PolicyArchive::archivePublished, resendQuiet);
    KeptDeadLetters kept = new KeptDeadLetters();
    int read = 0;
    int decoded = 0;
    int recorded = 0;
    int refused = 0;
    Position after = null;
    try {
      while (decoded < limit && read < MAX_READ) {
        List<DeadLetterRead> chunk = new ArrayList<>();
        Position next = readChunk(dataSource, topics, after, chunk);
        if (next == null) {
          break; // no dead letter after the last chunk
        }
        after = next;
        Set<String> onRecord =
            writer.recorded(
                chunk.stream()
                    .filter(r -> r.event() != null)
                    .map(r -> r.event().eventId())
                    .toList());
        List<DeadLetterRead> toRecord = new ArrayList<>();
        for (DeadLetterRead deadLetter : chunk) {
          if (decoded == limit || read == MAX_READ) {
            break;
          }
          if (deadLetter.event() == null) {
            read++;
            kept.keep(deadLetter.refusal(), deadLetter.deadLetterId());
          } else if (!onRecord.contains(deadLetter.event().eventId())) {
            read++;
            decoded++;
            toRecord.add(deadLetter);
          }
        }
        if (!dryRun) {
          Written written = record(writer, toRecord, kept);
          recorded += written.recorded();
          refused += written.refused();
        }
      }
    } catch (SQLException | RuntimeException e) {
      if (!dryRun && recorded > 0) {
        // What this run recorded before it failed is on record: so is the run.
        try {
          recordRun(dataSource, clock, caller, read, decoded, recorded, refused);
        } catch (SQLException | RuntimeException unrecorded) {
          e.addSuppressed(unrecorded);
        }
      }
      throw e;
    }
    if (!dryRun && decoded > 0) {
      recordRun(dataSource, clock, caller, read, decoded, recorded, refused);
    }
    return new Result(dryRun, read, decoded, recorded, kept.counts(), kept.examples());
  }

  /**
   * Reads the next {@link #CHUNK} dead letters after {@code after}, oldest first, decoding each
   * that may stand for a record the audit service could not record (another stage's is left out
   * when the audit log has an event at its source position, or its topic is not one the audit
   * service reads); returns where the chunk ends, or null when there was no dead letter after
   * {@code after}.
   */
  private static Position readChunk(
      DataSource dataSource,
      Map<String, Topic<String, ?>> topics,
      Position after,
      List<DeadLetterRead> chunk)
      throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select d.event_id, d.source_topic, d.source_partition, d.source_offset,"
                    + " d.reason, d.error_class, d.payload, d.failed_at, d.stage = 'audit' as own,"
                    // Another stage's, of a record the audit service recorded: the audit log has
                    // an event at its source position (through the request id index; the dead
                    // letter's own record is at its .dlq topic's position).
                    + " case when d.stage = 'audit' then false else exists (select 1 from"
                    + " audit_log a where a.request_id = d.source_key"
                    + " and a.source_topic = d.source_topic"
                    + " and a.source_partition = d.source_partition"
                    + " and a.source_offset = d.source_offset and a.event_id <> d.event_id)"
                    + " end as recorded_at_source from dead_letter d"
                    + (after == null ? "" : " where (d.failed_at, d.event_id) > (?, ?)")
                    + " order by d.failed_at, d.event_id limit ?")) {
      int parameter = 1;
      if (after != null) {
        query.setObject(parameter++, after.failedAt());
        query.setString(parameter++, after.eventId());
      }
      query.setInt(parameter, CHUNK);
      Position last = null;
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString("event_id");
          last = new Position(rs.getObject("failed_at", OffsetDateTime.class), id);
          Topic<String, ?> topic = topics.get(rs.getString("source_topic"));
          boolean own = rs.getBoolean("own");
          if (!own && (topic == null || rs.getBoolean("recorded_at_source"))) {
            continue; // not the audit service's, or it recorded that record
          }
          byte[] payload = rs.getBytes("payload");
          String refusal;
          SpecificRecord event = null;
          if (own && !rs.getString("error_class").equals(EventDecodingException.class.getName())) {
            refusal =
                "refused for what it holds, not for its bytes ("
                    + rs.getString("error_class")
                    + "): the audit store would refuse it again";
          } else if (topic == null) {
            refusal =
                "from a topic this build does not read (" + rs.getString("source_topic") + ")";
          } else if (payload == null || !DeadLetters.isWhole(rs.getString("reason"))) {
            refusal =
                own
                    ? "the dead letter keeps only part of the record: read the source record"
                    : "another stage's dead letter keeps only part of the record, and the audit log"
                        + " has no event at its source position: read the source record";
          } else {
            try {
              event = topic.codec().decode(payload);
              refusal = null;
            } catch (EventDecodingException e) {
              refusal = "still does not decode";
            }
          }
          chunk.add(
              refusal == null
                  ? new DeadLetterRead(
                      id,
                      new IncomingEvent(
                          topic.name(),
                          rs.getInt("source_partition"),
                          rs.getLong("source_offset"),
                          event),
                      null)
                  : new DeadLetterRead(id, null, refusal));
        }
      }
      return last;
    }
  }

  /**
   * Records the events in one write; when the audit store refuses that for what one of them holds
   * (as {@link AuditIngestor} judges it), one at a time, leaving each one it refuses a dead letter,
   * kept with PostgreSQL's reason.
   */
  private static Written record(
      AuditWriter writer, List<DeadLetterRead> deadLetters, KeptDeadLetters kept)
      throws SQLException {
    List<IncomingEvent> events = deadLetters.stream().map(DeadLetterRead::event).toList();
    try {
      return new Written(writer.write(events), 0);
    } catch (SQLException e) {
      if (!AuditIngestor.refuses(writer, events, e)) {
        throw e;
      }
    }
    int recorded = 0;
    int refused = 0;
    for (DeadLetterRead deadLetter : deadLetters) {
      try {
        recorded += writer.write(List.of(deadLetter.event()));
      } catch (SQLException e) {
        if (!AuditIngestor.refuses(writer, List.of(deadLetter.event()), e)) {
          throw e;
        }
        kept.keep(new AuditIngestor.RefusedException(e).getMessage(), deadLetter.deadLetterId());
        refused++;
      }
    }
    return new Written(recorded, refused);
  }

  private static void recordRun(
      DataSource dataSource,
      Clock clock,
      Caller caller,
      int read,
      int decoded,
      int recorded,
      int refused)
      throws SQLException {
    Transactions.inTransaction(
        dataSource,
        connection -> {
          ChainAppender.lock(connection);
          ActionLog.Action action = ActionLog.Action.of(ACTION, null, null, "dead_letter");
          action
              .details()
              .put("read", read)
              .put("decoded", decoded)
              .put("recorded", recorded)
              .put("refused", refused);
          ActionLog.record(connection, caller, action, clock.instant());
          return null;
        });
  }
}
