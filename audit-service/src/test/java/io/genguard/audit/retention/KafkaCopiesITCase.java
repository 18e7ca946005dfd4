package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.moderation.gate.ReleaseGateTopology;
import io.genguard.schemas.ContentRetention;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An erasure says, and records, by when Kafka drops the copies it cannot erase, from what the real
 * broker reports; a topic that keeps records forever, or a broker that does not answer, gives no
 * time and says why, and the erasure goes on.
 */
class KafkaCopiesITCase {
  private static final Instant NOW = Instant.parse("2026-12-05T10:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);

  /**
   * 24 hours of retention, segments of 3 hours, and the broker's defaults: a deleted segment's file
   * goes a minute later (file.delete.delay.ms) and retention is checked every 5 minutes
   * (log.retention.check.interval.ms).
   */
  private static final Duration DAY_STAY =
      Duration.ofHours(27).plus(Duration.ofMinutes(1)).plus(Duration.ofMinutes(5));

  private final IntegrationInfrastructure infra = IntegrationInfrastructure.get();

  @BeforeEach
  void topicsKeepRequestDataForADay() {
    TopicProvisioner.provisionCatalogue(
        infra.kafkaClientProperties(), 2, (short) 1, ContentRetention.hours(24));
  }

  @AfterAll
  static void restoreTheDefault() {
    TopicProvisioner.provisionCatalogue(
        IntegrationInfrastructure.get().kafkaClientProperties(), 2, (short) 1);
  }

  @Test
  void shouldRecordAndAnswerByWhenTheTopicsDropTheErasedRequestsCopies() throws Exception {
    try (AuditDatabase database = storyOf("kafka_copies_bound", "acme-1");
        KafkaCopies copies = new KafkaCopies(infra.kafkaClientProperties(), clock())) {
      KafkaCopies.Stay stay = copies.stay();
      assertThat(stay.longest()).isEqualTo(DAY_STAY);
      // The gate's changelog, when a test before this one ran a gate on the shared broker, keeps
      // replaced texts a day at most: shorter.
      assertThat(stay.basis())
          .containsPattern("^[a-z.]+ \\(the longest of 1[34] topics\\): ")
          .contains("retention.ms 86400000 + segment.ms 10800000");

      Retention.Erased erased =
          new Retention(database.dataSource(), clock(), 0, copies).erase("acme-1", "DSR-7", ADMIN);

      assertThat(erased.tombstoned()).isEqualTo(4);
      assertThat(erased.kafkaCopies().goneBy()).isEqualTo(NOW.plus(DAY_STAY));
      JsonNode action = eraseAction(database);
      assertThat(action.path("kafkaCopiesGoneBy").asText())
          .isEqualTo(NOW.plus(DAY_STAY).toString());
      assertThat(action.path("kafkaCopiesBasis").asText()).isEqualTo(stay.basis());
      assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
    }
  }

  @Test
  void shouldGiveNoTimeWhenATopicKeepsRecordsForever() throws Exception {
    alter(Topics.GENERATION_FAILURES.name(), TopicConfig.RETENTION_MS_CONFIG, "-1");
    try (KafkaCopies copies = new KafkaCopies(infra.kafkaClientProperties(), clock())) {
      KafkaCopies.Bound bound = copies.stay().boundFor(NOW);
      assertThat(bound.goneBy()).isNull();
      assertThat(bound.basis())
          .isEqualTo(
              "gen.failures keeps records until deleted by hand (retention.ms -1, cleanup.policy"
                  + " delete)");
    }
    alter(Topics.GENERATION_OUTPUTS.name(), TopicConfig.CLEANUP_POLICY_CONFIG, "compact");
    try (KafkaCopies copies = new KafkaCopies(infra.kafkaClientProperties(), clock())) {
      assertThat(copies.stay().basis()).startsWith("gen.outputs keeps records until deleted");
    } finally {
      alter(Topics.GENERATION_OUTPUTS.name(), TopicConfig.CLEANUP_POLICY_CONFIG, "delete");
    }
  }

  @Test
  void shouldCountTheReleaseGatesChangelogByItsCompactionLag() throws Exception {
    String changelog = ReleaseGateTopology.CHANGELOG_TOPIC;
    // A test before this one may have run a release gate on the shared broker: then its changelog
    // is there, and is left as it was found.
    boolean created;
    ConfigEntry lagBefore;
    try (Admin admin = admin()) {
      created = !admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(changelog);
      if (created) {
        admin
            .createTopics(
                List.of(
                    new NewTopic(changelog, 2, (short) 1)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"))))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
      lagBefore =
          admin
              .describeConfigs(List.of(topic))
              .all()
              .get(30, TimeUnit.SECONDS)
              .get(topic)
              .get(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG);
    }
    try {
      // As created before the gate asked for a compaction lag: replaced texts stay until
      // compaction.
      unset(changelog, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG);
      try (KafkaCopies copies = new KafkaCopies(infra.kafkaClientProperties(), clock())) {
        KafkaCopies.Stay stay = copies.stay();
        assertThat(stay.longest()).isNull();
        assertThat(stay.basis())
            .startsWith(changelog + " keeps records without a bound (the release gate's state)")
            .contains("max.compaction.lag.ms " + Long.MAX_VALUE);
      }
      alter(changelog, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, "172800000");
      try (KafkaCopies copies = new KafkaCopies(infra.kafkaClientProperties(), clock())) {
        KafkaCopies.Stay stay = copies.stay();
        // Two days, the minute a deleted file waits, and the cleaner's 15 s back-off.
        assertThat(stay.longest())
            .isEqualTo(Duration.ofDays(2).plus(Duration.ofMinutes(1)).plusSeconds(15));
        assertThat(stay.basis()).startsWith(changelog + " (the longest of ");
      }
    } finally {
      if (created) {
        try (Admin admin = admin()) {
          admin.deleteTopics(List.of(changelog)).all().get(30, TimeUnit.SECONDS);
        }
      } else if (lagBefore.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
        alter(changelog, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, lagBefore.value());
      } else {
        unset(changelog, TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG);
      }
    }
  }

  @Test
  void shouldEraseAndSayTheTimeIsNotKnownWhenTheBrokerDoesNotAnswer() throws Exception {
    Map<String, Object> nowhere = new HashMap<>(infra.kafkaClientProperties());
    try (ServerSocket closed = new ServerSocket(0)) {
      nowhere.put("bootstrap.servers", "127.0.0.1:" + closed.getLocalPort());
    }
    try (AuditDatabase database = storyOf("kafka_copies_unknown", "acme-2");
        KafkaCopies copies = new KafkaCopies(nowhere, clock())) {
      long started = System.nanoTime();
      Retention.Erased erased =
          new Retention(database.dataSource(), clock(), 0, copies).erase("acme-2", "DSR-8", ADMIN);
      Duration took = Duration.ofNanos(System.nanoTime() - started);

      assertThat(erased.tombstoned()).isEqualTo(4);
      assertThat(erased.kafkaCopies().goneBy()).isNull();
      assertThat(erased.kafkaCopies().basis()).startsWith("not known: ");
      assertThat(eraseAction(database).path("kafkaCopiesGoneBy").isNull()).isTrue();
      // Not a timing assertion on speed: the erasure must not wait for the broker forever.
      assertThat(took).isLessThan(KafkaCopies.TIMEOUT.multipliedBy(4));
    }
  }

  private AuditDatabase storyOf(String name, String requestId) throws Exception {
    AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase(name), infra.jdbcUser(), infra.jdbcPassword(), 2);
    new AuditWriter(database.dataSource(), clock())
        .write(
            AuditEvents.story(
                Scenario.of(requestId, "acme", Decision.REVIEW, NOW.minusSeconds(60))));
    return database;
  }

  /** The details of the erasure's {@code requests.erase} action record. */
  private static JsonNode eraseAction(AuditDatabase database) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload from audit_log where event_type = 'ApiAction'"
                    + " and payload::jsonb ->> 'action' = 'requests.erase'")) {
      assertThat(rs.next()).as("the erasure's action record").isTrue();
      JsonNode payload = new ObjectMapper().readTree(rs.getString(1));
      assertThat(rs.next()).isFalse();
      return payload.path("details");
    }
  }

  private Admin admin() {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    return Admin.create(props);
  }

  private void unset(String topic, String key) throws Exception {
    change(topic, new AlterConfigOp(new ConfigEntry(key, ""), AlterConfigOp.OpType.DELETE));
  }

  private void alter(String topic, String key, String value) throws Exception {
    change(topic, new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET));
  }

  private void change(String topic, AlterConfigOp op) throws Exception {
    try (Admin admin = admin()) {
      admin
          .incrementalAlterConfigs(
              Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(op)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static Clock clock() {
    return Clock.fixed(NOW, ZoneOffset.UTC);
  }
}
