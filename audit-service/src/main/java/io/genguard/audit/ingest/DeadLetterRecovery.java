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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.avro.specific.SpecificRecord;

/**
 * Records what the audit service could not decode once it can: its own dead letters (stage {@code
 * audit}) keep the bytes, so after an upgrade that brings the schema they were written with, they
 * are decoded and recorded as the events they are, in the chain and the query tables, as the
 * ingestor would have. The dead letters stay (they are history); an event recorded before is
 * recognised by its id and not recorded twice. What stays undecoded is counted by why. Each run
 * that records anything is itself recorded ({@value #ACTION}).
 */
public final class DeadLetterRecovery {
  /** The action a run is recorded as. */
  public static final String ACTION = "audit.dead-letters.recover";

  /** Most dead letters one run reads. */
  public static final int MAX_LIMIT = 100_000;

  private DeadLetterRecovery() {}

  /**
   * What a run did.
   *
   * @param read the audit stage's dead letters read, oldest first
   * @param decoded how many now decode (in a dry run, all that would be recorded)
   * @param recorded events recorded now
   * @param kept the dead letters that stay undecoded, by why
   * @param examples the first dead letters' event ids of each reason
   */
  public record Result(
      boolean dryRun,
      int read,
      int decoded,
      int recorded,
      Map<String, Long> kept,
      Map<String, List<String>> examples) {}

  public static Result recover(
      DataSource dataSource, Clock clock, Caller caller, int limit, boolean dryRun)
      throws SQLException {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
    }
    Map<String, Topic<String, ?>> topics = new LinkedHashMap<>();
    Topics.all().forEach(topic -> topics.put(topic.name(), topic));
    List<IncomingEvent> events = new ArrayList<>();
    KeptDeadLetters kept = new KeptDeadLetters();
    int read = 0;
    try (Connection connection = dataSource.getConnection();
        PreparedStatement query =
            connection.prepareStatement(
                "select event_id, source_topic, source_partition, source_offset, reason,"
                    + " error_class, payload from dead_letter where stage = 'audit'"
                    + " order by failed_at, event_id limit ?")) {
      query.setInt(1, limit);
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          read++;
          String id = rs.getString("event_id");
          Topic<String, ?> topic = topics.get(rs.getString("source_topic"));
          byte[] payload = rs.getBytes("payload");
          String refusal;
          SpecificRecord event = null;
          if (!rs.getString("error_class").equals(EventDecodingException.class.getName())) {
            refusal =
                "refused for what it holds, not for its bytes ("
                    + rs.getString("error_class")
                    + "): the audit store would refuse it again";
          } else if (topic == null) {
            refusal =
                "from a topic this build does not read (" + rs.getString("source_topic") + ")";
          } else if (payload == null || !DeadLetters.isWhole(rs.getString("reason"))) {
            refusal = "the dead letter keeps only part of the record: read the source record";
          } else {
            try {
              event = topic.codec().decode(payload);
              refusal = null;
            } catch (EventDecodingException e) {
              refusal = "still does not decode";
            }
          }
          if (refusal == null) {
            events.add(
                new IncomingEvent(
                    topic.name(),
                    rs.getInt("source_partition"),
                    rs.getLong("source_offset"),
                    event));
          } else {
            kept.keep(refusal, id);
          }
        }
      }
    }
    int recorded = 0;
    if (!dryRun && !events.isEmpty()) {
      AuditWriter writer = new AuditWriter(dataSource, clock, PolicyArchive::archivePublished);
      recorded = writer.write(events);
      int recordedNow = recorded;
      int readNow = read;
      Transactions.inTransaction(
          dataSource,
          connection -> {
            ChainAppender.lock(connection);
            ActionLog.Action action = ActionLog.Action.of(ACTION, null, null, "dead_letter");
            action
                .details()
                .put("read", readNow)
                .put("decoded", events.size())
                .put("recorded", recordedNow);
            ActionLog.record(connection, caller, action, clock.instant());
            return null;
          });
    }
    return new Result(dryRun, read, events.size(), recorded, kept.counts(), kept.examples());
  }
}
