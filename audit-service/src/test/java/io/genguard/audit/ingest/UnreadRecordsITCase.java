package io.genguard.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.UnreadRecords;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.Decision;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Records the broker deletes while the audit service is down (its retention ran out) cannot be
 * audited; on the real broker, the audit chain then says exactly which were never read, once, and
 * keeps saying it after retention, instead of the consumer jumping over them silently.
 */
class UnreadRecordsITCase {
  private static final Instant NOW = Instant.parse("2026-12-05T10:00:00Z");
  private static final TopicPartition PARTITION =
      new TopicPartition(Topics.GENERATION_REQUESTS.name(), 1);

  private final IntegrationInfrastructure infra = IntegrationInfrastructure.get();

  @Test
  void shouldRecordWhatTheBrokerDeletedBeforeTheAuditServiceReadItAndGoOn() throws Exception {
    String url = infra.createDatabase("ingest_never_audited_it");
    String group = "audit-never-audited-it";
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    try (AuditDatabase database =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        KafkaProducer<String, byte[]> producer = producer()) {
      long unreadFrom = auditOneThenStop(database, group, producer, "seen-1");

      // Down: three requests come and the broker deletes them (their retention ran out).
      send(producer, "lost-1");
      send(producer, "lost-2");
      long unreadTo = send(producer, "lost-3") + 1;
      deleteBefore(unreadTo);

      AuditIngestor second = ingestor(database, group);
      try {
        second.start();
        send(producer, "after-1");
        await().atMost(Duration.ofSeconds(60)).until(() -> audited(database, "after-1"));
        assertThat(second.neverAuditedCount()).isEqualTo(3);
      } finally {
        second.close();
      }

      JsonNode never = neverAudited(database);
      assertThat(never.path("cause").asText()).isEqualTo("EXPIRED");
      assertThat(never.path("group").asText()).isEqualTo(group);
      assertThat(never.path("topic").asText()).isEqualTo(PARTITION.topic());
      assertThat(never.path("partition").asInt()).isEqualTo(PARTITION.partition());
      assertThat(never.path("fromOffset").asLong()).isEqualTo(unreadFrom);
      assertThat(never.path("toOffset").asLong()).isEqualTo(unreadTo);
      assertThat(never.path("records").asLong()).isEqualTo(3);
      assertThat(never.path("detail").asText())
          .isEqualTo(
              "3 record(s) of gen.requests-1 (offsets "
                  + unreadFrom
                  + " to "
                  + (unreadTo - 1)
                  + ") were deleted by the broker before the audit service read them");
      for (String lost : new String[] {"lost-1", "lost-2", "lost-3"}) {
        assertThat(audited(database, lost)).as(lost).isFalse();
      }

      // The same episode found again (a restart before the new position was committed): once.
      UnreadRecords.Range same =
          new UnreadRecords.Range(
              group,
              PARTITION.topic(),
              PARTITION.partition(),
              unreadFrom,
              unreadTo,
              UnreadRecords.Cause.EXPIRED);
      assertThat(UnreadRecords.record(database.dataSource(), same, Instant.now())).isEmpty();
      // Found again after the broker deleted five more: those five are recorded, as the range
      // that continues the one recorded, and nothing twice.
      UnreadRecords.Range grown =
          new UnreadRecords.Range(
              group,
              PARTITION.topic(),
              PARTITION.partition(),
              unreadFrom,
              unreadTo + 5,
              UnreadRecords.Cause.EXPIRED);
      assertThat(UnreadRecords.record(database.dataSource(), grown, Instant.now()))
          .hasValueSatisfying(
              continuation -> {
                assertThat(continuation.fromOffset()).isEqualTo(unreadTo);
                assertThat(continuation.toOffset()).isEqualTo(unreadTo + 5);
                assertThat(continuation.records()).isEqualTo(5);
              });
      assertThat(UnreadRecords.record(database.dataSource(), grown, Instant.now())).isEmpty();
      assertThat(neverAuditedRanges(database))
          .containsExactly(List.of(unreadFrom, unreadTo, 3L), List.of(unreadTo, unreadTo + 5, 5L));

      // Retention removes content, not the record of what was never read.
      new Retention(
              database.dataSource(), Clock.fixed(NOW.plus(Duration.ofDays(400)), ZoneOffset.UTC), 1)
          .apply(Caller.system("retention-it"));
      assertThat(audited(database, "seen-1")).as("retention did run").isFalse();
      assertThat(neverAuditedRanges(database))
          .containsExactly(List.of(unreadFrom, unreadTo, 3L), List.of(unreadTo, unreadTo + 5, 5L));
      ChainVerifier.Verification verified = ChainVerifier.verify(database.dataSource());
      assertThat(verified.valid()).isTrue();
      assertThat(verified.neverAuditedRanges()).isEqualTo(2);
      assertThat(verified.neverAuditedRecords()).isEqualTo(8);
      assertThat(verified.summary())
          .endsWith(
              "; the chain records 2 range(s) the audit service never read (8 Kafka record(s)"
                  + " deleted unread: event type RecordsNeverAudited)");
    }
  }

  @Test
  void shouldRecordWhatTheBrokerDeletesWhileTheRangeBeforeItIsBeingRecorded() throws Exception {
    String url = infra.createDatabase("ingest_never_audited_meanwhile_it");
    String group = "audit-never-audited-meanwhile-it";
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    try (AuditDatabase database =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        KafkaProducer<String, byte[]> producer = producer()) {
      long unreadFrom = auditOneThenStop(database, group, producer, "meanwhile-seen-1");

      send(producer, "meanwhile-lost-1");
      long firstCut = send(producer, "meanwhile-lost-2") + 1;
      send(producer, "meanwhile-late-1");
      long secondCut = send(producer, "meanwhile-late-2") + 1;
      deleteBefore(firstCut);

      // Retention runs again while the first range is being recorded: the first connection the
      // ingestor asks for (to record that range) comes after the broker deleted two more records.
      AtomicBoolean retentionDue = new AtomicBoolean(true);
      AuditIngestor second =
          ingestor(deletingFirst(database.dataSource(), secondCut, retentionDue), group);
      try {
        second.start();
        send(producer, "meanwhile-after-1");
        await().atMost(Duration.ofSeconds(60)).until(() -> audited(database, "meanwhile-after-1"));
        assertThat(retentionDue).isFalse();
        assertThat(second.neverAuditedCount()).as("every record deleted unread").isEqualTo(4);
      } finally {
        second.close();
      }

      assertThat(neverAuditedRanges(database))
          .containsExactly(List.of(unreadFrom, firstCut, 2L), List.of(firstCut, secondCut, 2L));
      for (String lost :
          new String[] {"meanwhile-lost-1", "meanwhile-late-1", "meanwhile-late-2"}) {
        assertThat(audited(database, lost)).as(lost).isFalse();
      }
      assertThat(ChainVerifier.verify(database.dataSource()).neverAuditedRecords()).isEqualTo(4);
    }
  }

  private static AuditIngestor ingestor(AuditDatabase database, String group) {
    return ingestor(database.dataSource(), group);
  }

  private static AuditIngestor ingestor(DataSource dataSource, String group) {
    return new AuditIngestor(
        IntegrationInfrastructure.get().kafkaClientProperties(),
        group,
        new AuditWriter(dataSource, Clock.systemUTC()),
        Clock.systemUTC());
  }

  /**
   * Runs an ingestor until it has audited one request, then stops it; returns the offset after that
   * request, where what the broker deletes next begins.
   */
  private static long auditOneThenStop(
      AuditDatabase database,
      String group,
      KafkaProducer<String, byte[]> producer,
      String requestId)
      throws Exception {
    AuditIngestor ingestor = ingestor(database, group);
    try {
      ingestor.start();
      long next = send(producer, requestId) + 1;
      await().atMost(Duration.ofSeconds(60)).until(() -> audited(database, requestId));
      return next;
    } finally {
      ingestor.close();
    }
  }

  /**
   * The first connection asked for while {@code due} is set comes after the broker deleted the
   * partition's records before {@code offset}.
   */
  private DataSource deletingFirst(DataSource delegate, long offset, AtomicBoolean due) {
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection") && due.compareAndSet(true, false)) {
                deleteBefore(offset);
              }
              try {
                return method.invoke(delegate, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Each range recorded as never audited, in chain order: from offset, to offset, records. */
  private static List<List<Long>> neverAuditedRanges(AuditDatabase database) throws Exception {
    List<List<Long>> ranges = new ArrayList<>();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload from audit_log where event_type = 'RecordsNeverAudited'"
                    + " order by seq")) {
      while (rs.next()) {
        JsonNode range = new ObjectMapper().readTree(rs.getString(1));
        ranges.add(
            List.of(
                range.path("fromOffset").asLong(),
                range.path("toOffset").asLong(),
                range.path("records").asLong()));
      }
    }
    return ranges;
  }

  private static JsonNode neverAudited(AuditDatabase database) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload from audit_log where event_type = 'RecordsNeverAudited'")) {
      assertThat(rs.next()).as("a record of what was never audited").isTrue();
      return new ObjectMapper().readTree(rs.getString(1));
    }
  }

  private static boolean audited(AuditDatabase database, String requestId) throws SQLException {
    return count(
            database,
            "select count(*) from audit_log where event_type = 'GenerationRequest'"
                + " and payload is not null and request_id = '"
                + requestId
                + "'")
        == 1;
  }

  private static long count(AuditDatabase database, String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void deleteBefore(long offset) throws Exception {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    try (Admin admin = Admin.create(props)) {
      admin
          .deleteRecords(Map.of(PARTITION, RecordsToDelete.beforeOffset(offset)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static KafkaProducer<String, byte[]> producer() {
    Properties props = new Properties();
    props.putAll(IntegrationInfrastructure.get().kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /** Sends one request to the partition; returns its offset. */
  private static long send(KafkaProducer<String, byte[]> producer, String requestId)
      throws Exception {
    return producer
        .send(
            new ProducerRecord<>(
                PARTITION.topic(),
                PARTITION.partition(),
                requestId,
                Topics.GENERATION_REQUESTS
                    .codec()
                    .encode(
                        AuditEvents.request(
                            Scenario.of(requestId, "acme", Decision.RELEASE, NOW)))))
        .get()
        .offset();
  }
}
