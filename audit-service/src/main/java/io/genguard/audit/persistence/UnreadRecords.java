package io.genguard.audit.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.schemas.EventIds;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import javax.sql.DataSource;

/**
 * Records in the audit chain that records of a topic were never read by the audit service: the
 * broker deleted them (the topic's retention ran out while the audit service was down or behind),
 * or the partition no longer reaches where the audit service had read to (the topic was deleted and
 * created again). The audit store cannot hold what it never read; it can say exactly what it is
 * missing, and it does so in the chain itself, so a compliance check sees the hole instead of a
 * silent jump. One {@value #EVENT_TYPE} record per partition and episode: the same episode seen
 * again (a restart before the new position was committed) is not recorded twice, and what the
 * broker deleted after the recorded range meanwhile is recorded as the range that continues it.
 */
public final class UnreadRecords {
  public static final String EVENT_TYPE = "RecordsNeverAudited";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Why a range was never read. */
  public enum Cause {
    /** The broker deleted the records before the audit service read them. */
    EXPIRED,
    /** The partition now ends before where the audit service had read to. */
    POSITION_PAST_END
  }

  /**
   * A range of one partition the audit service did not read.
   *
   * @param fromOffset the first offset not read
   * @param toOffset the offset reading goes on from (exclusive end of the range)
   */
  public record Range(
      String group, String topic, int partition, long fromOffset, long toOffset, Cause cause) {

    /** The records in the range: for EXPIRED, how many the audit store never saw. */
    public long records() {
      return Math.max(0, toOffset - fromOffset);
    }

    /** One sentence for people: what was not read, and why. */
    public String describe() {
      return switch (cause) {
        case EXPIRED ->
            records()
                + " record(s) of "
                + topic
                + "-"
                + partition
                + " (offsets "
                + fromOffset
                + " to "
                + (toOffset - 1)
                + ") were deleted by the broker before the audit service read them";
        case POSITION_PAST_END ->
            topic
                + "-"
                + partition
                + " now ends at offset "
                + fromOffset
                + ", before offset "
                + toOffset
                + " the audit service had read to (the topic was deleted and created again, or"
                + " lost records): reading it again from its first record";
      };
    }
  }

  private UnreadRecords() {}

  /**
   * Appends the range's record to the chain unless this episode is there already. An EXPIRED range
   * found again with a later end (the broker deleted more records before the position after the
   * first finding was committed) adds the continuation from where the recorded range ended, as its
   * own record keyed on that offset, so every record deleted unread is recorded exactly once.
   *
   * @return the range appended: {@code range} itself, the continuation of a range already recorded,
   *     or empty when the chain holds all of it already
   */
  public static Optional<Range> record(DataSource dataSource, Range range, Instant now)
      throws SQLException {
    return Transactions.inTransaction(
        dataSource,
        connection -> {
          ChainAppender.lock(connection);
          Range remaining = range;
          while (true) {
            String eventId = eventId(remaining);
            OptionalLong recordedTo = recordedTo(connection, eventId);
            if (recordedTo.isEmpty()) {
              ChainAppender.append(
                  connection,
                  List.of(
                      ChainRecord.ofService(
                          eventId,
                          EVENT_TYPE,
                          null,
                          null,
                          CanonicalJson.write(payload(remaining, now)))),
                  now);
              return Optional.of(remaining);
            }
            if (remaining.cause() != Cause.EXPIRED
                || recordedTo.getAsLong() <= remaining.fromOffset()
                || recordedTo.getAsLong() >= remaining.toOffset()) {
              return Optional.<Range>empty();
            }
            remaining =
                new Range(
                    remaining.group(),
                    remaining.topic(),
                    remaining.partition(),
                    recordedTo.getAsLong(),
                    remaining.toOffset(),
                    remaining.cause());
          }
        });
  }

  /** One episode's event id: the partition, where the range begins and why. */
  private static String eventId(Range range) {
    return EventIds.nameBased(
        "never-audited",
        range.group(),
        range.topic(),
        Integer.toString(range.partition()),
        Long.toString(range.fromOffset()),
        range.cause().name());
  }

  private static ObjectNode payload(Range range, Instant now) {
    ObjectNode payload = JsonNodeFactory.instance.objectNode();
    payload.put("cause", range.cause().name());
    payload.put("group", range.group());
    payload.put("topic", range.topic());
    payload.put("partition", range.partition());
    payload.put("fromOffset", range.fromOffset());
    payload.put("toOffset", range.toOffset());
    if (range.cause() == Cause.EXPIRED) {
      payload.put("records", range.records());
    }
    payload.put("detail", range.describe());
    payload.put("detectedAt", now.toString());
    return payload;
  }

  /**
   * Where the episode's recorded range ends; empty when the chain has no such record. A record
   * whose content is gone (it should not be) counts as ending where it begins: nothing is added
   * after it.
   */
  private static OptionalLong recordedTo(Connection connection, String eventId)
      throws SQLException {
    try (PreparedStatement known =
        connection.prepareStatement("select payload from audit_log where event_id = ?")) {
      known.setString(1, eventId);
      try (ResultSet rs = known.executeQuery()) {
        if (!rs.next()) {
          return OptionalLong.empty();
        }
        String payload = rs.getString(1);
        if (payload == null) {
          return OptionalLong.of(Long.MIN_VALUE);
        }
        try {
          return OptionalLong.of(JSON.readTree(payload).path("toOffset").asLong(Long.MIN_VALUE));
        } catch (JsonProcessingException e) {
          throw new SQLException("Unreadable record of a range never audited: " + eventId, e);
        }
      }
    }
  }
}
