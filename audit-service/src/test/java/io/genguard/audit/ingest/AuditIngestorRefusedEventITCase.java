package io.genguard.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.RecordedEventsListener;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationRequest;
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
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * An event that decodes but that PostgreSQL refuses for what it holds (a NUL character in a text
 * column) no longer stops audit ingestion: it becomes a dead letter of stage "audit", with its
 * bytes, and the events around it are recorded.
 */
class AuditIngestorRefusedEventITCase {
  private static final Instant NOW = Instant.parse("2026-12-03T23:30:00Z");

  @Test
  void shouldRecordAnEventTheDatabaseRefusesAsADeadLetterAndGoOn() throws Exception {
    try (RunningAuditService audit =
            RunningAuditService.start("ingest_refused_it", Clock.systemUTC(), config -> config);
        KafkaProducer<String, byte[]> producer = producer()) {
      GenerationRequest poisoned =
          GenerationRequest.newBuilder(
                  AuditEvents.request(Scenario.of("poison-1", "acme", Decision.RELEASE, NOW)))
              .setPrompt("hi\u0000there")
              .build();
      RecordMetadata before = send(producer, request("before-1"));
      RecordMetadata bad = send(producer, poisoned);
      RecordMetadata after = send(producer, request("after-1"));

      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  count(
                              audit,
                              "select count(*) from generation_request where request_id in"
                                  + " ('before-1', 'after-1')")
                          == 2
                      && count(audit, "select count(*) from dead_letter where stage = 'audit'")
                          == 1);
      assertThat(
              count(
                  audit,
                  "select count(*) from dead_letter where stage = 'audit'"
                      + " and source_topic = 'gen.requests'"
                      + " and source_partition = "
                      + bad.partition()
                      + " and source_offset = "
                      + bad.offset()
                      + " and reason like 'The audit store refused the event (SQLState 22%'"
                      + " and payload is not null"))
          .as("the dead letter names the record and the reason, and keeps its bytes")
          .isEqualTo(1);
      assertThat(
              count(audit, "select count(*) from generation_request where request_id = 'poison-1'"))
          .isZero();
      assertThat(before.offset()).isLessThan(after.offset());

      // Ingestion goes on.
      send(producer, request("later-1"));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  count(
                          audit,
                          "select count(*) from generation_request where request_id = 'later-1'")
                      == 1);
    }
  }

  @Test
  void shouldRecordAnEventRefusedForAKeyNoOtherWriterRecordedAsADeadLetterAndGoOn()
      throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("ingest_unique_refused_it");
    String group = "audit-unique-refused-it";
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    // A projection that refuses one event for a unique key another row holds, on every retry (as
    // review_item's unique review id once refused a decision that reused another item's). It is
    // not two writers given the same event: none of the events new to the batch is on record.
    RecordedEventsListener clash =
        (connection, events, now) -> {
          if (events.stream().anyMatch(e -> "clash-1".equals(e.field("requestId")))) {
            try (Statement statement = connection.createStatement()) {
              statement.execute(
                  "do $$ begin raise unique_violation using message ="
                      + " 'duplicate key value violates unique constraint \"clash_key\"'; end $$");
            }
          }
        };
    try (AuditDatabase database =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        KafkaProducer<String, byte[]> producer = producer()) {
      AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC(), clash);
      AuditIngestor first =
          new AuditIngestor(infra.kafkaClientProperties(), group, writer, Clock.systemUTC());
      try {
        first.start();
        send(producer, request("before-clash-1"));
        awaitRecorded(database, "before-clash-1", Duration.ofSeconds(60));
      } finally {
        first.close();
      }
      // Re-read after a crash: the batch holds an event already on record as well as the one the
      // store refuses, so it is not all new; the refusal is still the clashing event's own.
      RecordMetadata refused = send(producer, request("clash-1"));
      send(producer, request("before-clash-1"));
      send(producer, request("after-clash-1"));
      AuditIngestor ingestor =
          new AuditIngestor(infra.kafkaClientProperties(), group, writer, Clock.systemUTC());
      try {
        ingestor.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    count(
                                database,
                                "select count(*) from generation_request where request_id in"
                                    + " ('before-clash-1', 'after-clash-1')")
                            == 2
                        && count(
                                database,
                                "select count(*) from dead_letter where stage = 'audit'"
                                    + " and source_offset = "
                                    + refused.offset()
                                    + " and reason like"
                                    + " 'The audit store refused the event (SQLState 23505)%clash_key%'"
                                    + " and payload is not null")
                            == 1);
        assertThat(
                count(
                    database,
                    "select count(*) from generation_request where request_id = 'clash-1'"))
            .isZero();

        // Ingestion goes on.
        send(producer, request("later-clash-1"));
        awaitRecorded(database, "later-clash-1", Duration.ofSeconds(30));
      } finally {
        ingestor.close();
      }
    }
  }

  @Test
  void shouldWriteABatchRefusedForACardinalityViolationOneEventAtATimeLosingNone()
      throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("ingest_cardinality_it");
    String group = "audit-cardinality-it";
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    // A batch of several events that PostgreSQL refuses on every try for a row two of them update
    // (SQLState 21000, as two holds of one request once did in one upsert); each alone is written.
    AtomicBoolean refused = new AtomicBoolean();
    RecordedEventsListener twice =
        (connection, events, now) -> {
          if (events.size() > 1
              && events.stream().anyMatch(e -> "card-1".equals(e.field("requestId")))) {
            refused.set(true);
            try (Statement statement = connection.createStatement()) {
              statement.execute(
                  "do $$ begin raise cardinality_violation using message ="
                      + " 'ON CONFLICT DO UPDATE command cannot affect row a second time'; end $$");
            }
          }
        };
    try (AuditDatabase database =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        KafkaProducer<String, byte[]> producer = producer()) {
      // Sent before the ingestor starts, to one partition: read in one poll.
      send(producer, request("card-1"));
      send(producer, request("card-2"));
      send(producer, request("card-3"));
      AuditIngestor ingestor =
          new AuditIngestor(
              infra.kafkaClientProperties(),
              group,
              new AuditWriter(database.dataSource(), Clock.systemUTC(), twice),
              Clock.systemUTC());
      try {
        ingestor.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    count(
                            database,
                            "select count(*) from generation_request where request_id in"
                                + " ('card-1', 'card-2', 'card-3')")
                        == 3);
        assertThat(refused).as("the store refused the batch of several").isTrue();
        assertThat(count(database, "select count(*) from dead_letter"))
            .as("each event on its own was written, none set aside")
            .isZero();
      } finally {
        ingestor.close();
      }
    }
  }

  @Test
  void shouldKeepIngestingWhenAWriteOutlastsTheMaxPollIntervalAndTheCommitFails() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("ingest_commit_failed_it");
    String group = "audit-commit-failed-it";
    Map<String, Object> kafka = new HashMap<>(infra.kafkaClientProperties());
    // The group drops a member that has not polled for a second: a database outage longer than
    // max.poll.interval.ms in miniature.
    kafka.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 1_000);
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    AtomicBoolean slow = new AtomicBoolean();
    try (AuditDatabase database =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        KafkaProducer<String, byte[]> producer = producer()) {
      DataSource outage = slowOnce(database.dataSource(), slow);
      AuditIngestor ingestor =
          new AuditIngestor(
              kafka, group, new AuditWriter(outage, Clock.systemUTC()), Clock.systemUTC());
      try {
        ingestor.start();
        slow.set(true);
        send(producer, request("slow-1"));
        await().atMost(Duration.ofSeconds(30)).until(() -> !slow.get());
        send(producer, request("after-outage-1"));
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    count(
                            database,
                            "select count(*) from generation_request where request_id in"
                                + " ('slow-1', 'after-outage-1')")
                        == 2);
        assertThat(count(database, "select count(*) from audit_log where request_id = 'slow-1'"))
            .as("the batch re-read after the failed commit is not recorded twice")
            .isEqualTo(1);
      } finally {
        ingestor.close();
      }
    }
  }

  /** The first connection asked for after {@code slow} is set arrives 2.5 s late. */
  private static DataSource slowOnce(DataSource delegate, AtomicBoolean slow) {
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection") && slow.get()) {
                Thread.sleep(2_500);
                slow.set(false);
              }
              try {
                return method.invoke(delegate, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Waits until the audit store has the request. */
  private static void awaitRecorded(AuditDatabase database, String requestId, Duration atMost) {
    await()
        .atMost(atMost)
        .until(
            () ->
                count(
                        database,
                        "select count(*) from generation_request where request_id = '"
                            + requestId
                            + "'")
                    == 1);
  }

  private static long count(AuditDatabase database, String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static GenerationRequest request(String id) {
    return AuditEvents.request(Scenario.of(id, "acme", Decision.RELEASE, NOW));
  }

  private static long count(RunningAuditService audit, String sql) throws SQLException {
    return audit.count(sql);
  }

  private static KafkaProducer<String, byte[]> producer() {
    Properties props = new Properties();
    props.putAll(IntegrationInfrastructure.get().kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  private static RecordMetadata send(
      KafkaProducer<String, byte[]> producer, GenerationRequest event) throws Exception {
    // One key, so the three land in one partition in this order.
    return producer
        .send(
            new ProducerRecord<>(
                Topics.GENERATION_REQUESTS.name(),
                "refused-it",
                Topics.GENERATION_REQUESTS.codec().encode(event)))
        .get();
  }
}
