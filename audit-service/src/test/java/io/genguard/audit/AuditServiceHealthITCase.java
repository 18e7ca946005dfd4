package io.genguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.ingest.AuditIngestor;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.RecordedEventsListener;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The audit service's health (its /health, the container's health check) follows what it needs: a
 * database that takes no connection makes it unhealthy within seconds, and healthy again once it is
 * back; an ingestor that an error stopped is reported by name.
 */
class AuditServiceHealthITCase {

  @Test
  void shouldBeUnhealthyWhileTheDatabaseTakesNoConnection() throws Exception {
    try (RunningAuditService audit = RunningAuditService.start("health_it");
        // From another database: PostgreSQL refuses to disallow connections to the current one.
        Connection admin =
            DriverManager.getConnection(
                IntegrationInfrastructure.get().jdbcUrl(),
                IntegrationInfrastructure.get().jdbcUser(),
                IntegrationInfrastructure.get().jdbcPassword());
        Statement statement = admin.createStatement()) {
      AuditService service = audit.service();
      await().atMost(Duration.ofSeconds(30)).until(() -> service.whyUnhealthy().isEmpty());

      try {
        // No new connection, and the pool's connections cut: as a database that went away.
        statement.execute("alter database health_it allow_connections false");
        statement.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
                + " where datname = 'health_it'");
        long started = System.nanoTime();
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> service.whyUnhealthy().isPresent());
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .as("noticed within the cache and the wait, not the pool's 30 s timeout")
            .isLessThan(AuditHealth.CACHED_FOR.plus(AuditHealth.WAIT).plusSeconds(10));
        assertThat(service.whyUnhealthy())
            .hasValueSatisfying(why -> assertThat(why).contains("database pool"));
      } finally {
        statement.execute("alter database health_it allow_connections true");
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> service.whyUnhealthy().isEmpty());
    }
  }

  @Test
  void shouldReportAnIngestorThatAnErrorStopped() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("health_ingestor_it");
    String group = "audit-health-ingestor-it";
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
    RunningAuditService.skipHistory(infra.kafkaClientProperties(), group);
    // Not an SQLException, which the ingestor retries: an error it does not expect ends its thread.
    RecordedEventsListener failing =
        (connection, events, now) -> {
          throw new IllegalStateException("an error the ingestor does not handle");
        };
    try (AuditDatabase database =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        KafkaProducer<String, byte[]> producer = producer(infra)) {
      AuditIngestor ingestor =
          new AuditIngestor(
              infra.kafkaClientProperties(),
              group,
              new AuditWriter(database.dataSource(), Clock.systemUTC(), failing),
              Clock.systemUTC(),
              "audit-ingestor-health");
      try (AuditHealth health =
          new AuditHealth(
              database.dataSource(),
              () -> ingestor.stoppedOnItsOwn() ? List.of(ingestor.name()) : List.of(),
              Clock.systemUTC())) {
        assertThat(ingestor.stoppedOnItsOwn()).as("not started").isFalse();
        ingestor.start();
        assertThat(health.whyUnhealthy()).isEmpty();

        // Not Avro: recorded as a dead letter, whose write fails.
        producer
            .send(
                new ProducerRecord<>(
                    Topics.GENERATION_REQUESTS.name(),
                    "health-1",
                    "not an event".getBytes(StandardCharsets.UTF_8)))
            .get();
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(ingestor::stoppedOnItsOwn);
        assertThat(health.whyUnhealthy())
            .hasValueSatisfying(
                why ->
                    assertThat(why)
                        .contains("ingestion stopped")
                        .contains("audit-ingestor-health"));
      } finally {
        ingestor.close();
      }
      assertThat(ingestor.stoppedOnItsOwn()).as("closed: asked to stop").isFalse();
    }
  }

  private static KafkaProducer<String, byte[]> producer(IntegrationInfrastructure infra) {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }
}
