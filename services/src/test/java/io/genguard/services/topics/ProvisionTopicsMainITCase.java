package io.genguard.services.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.genguard.schemas.ContentRetention;
import io.genguard.schemas.Topic;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The retention of the topics that carry requests' content, on a real broker: given at creation,
 * set again on existing topics when the key changes, left alone when unmanaged, and refused before
 * anything is touched when the key is invalid. The other topics keep the broker's.
 */
class ProvisionTopicsMainITCase {
  private static final long HOUR_MS = Duration.ofHours(1).toMillis();

  private final IntegrationInfrastructure infra = IntegrationInfrastructure.get();

  @AfterAll
  static void restoreTheDefault() {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    TopicProvisioner.provisionCatalogue(infra.kafkaClientProperties(), 2, (short) 1);
  }

  @Test
  void shouldKeepRequestDataForTheConfiguredHoursAndSetItAgainOnExistingTopics() throws Exception {
    ProvisionTopicsMain.provision(environment("48"));
    assertRetention(48);

    // The key changed between two runs: the existing topics follow, each change reported once.
    List<String> changes =
        TopicProvisioner.provisionCatalogue(
            infra.kafkaClientProperties(), 2, (short) 1, ContentRetention.hours(6));
    assertThat(changes)
        .hasSize(2 * Topics.requestDataTopics().size())
        .contains(
            "gen.outputs: retention.ms " + 48 * HOUR_MS + " -> " + 6 * HOUR_MS,
            "gen.outputs: segment.ms " + 6 * HOUR_MS + " -> " + 6 * HOUR_MS / 8);
    assertRetention(6);
    assertThat(
            TopicProvisioner.provisionCatalogue(
                infra.kafkaClientProperties(), 2, (short) 1, ContentRetention.hours(6)))
        .as("nothing to change the second time")
        .isEmpty();

    // Unmanaged: whatever the topics have stays.
    ProvisionTopicsMain.provision(environment("unmanaged"));
    assertRetention(6);
  }

  @Test
  void shouldRefuseAnInvalidRetentionBeforeTouchingTheTopics() throws Exception {
    ProvisionTopicsMain.provision(environment("12"));
    for (String invalid : List.of("0", "-5", "87841", "a week", "12h", "1e3", "9".repeat(30))) {
      assertThatThrownBy(() -> ProvisionTopicsMain.provision(environment(invalid)))
          .as(invalid)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(ContentRetention.KEY);
    }
    assertRetention(12);
  }

  /**
   * Another GENGUARD_PARTITIONS than the release gate's topics have is refused before anything is
   * touched; it used to be ignored for the topics that existed.
   */
  @Test
  void shouldRefuseAnotherPartitionCountThanTheGatesTopicsHave() throws Exception {
    ProvisionTopicsMain.provision(environment("12"));
    Map<String, String> three = environment("6");
    three.put(ProvisionTopicsMain.PARTITIONS, "3");

    assertThatThrownBy(() -> ProvisionTopicsMain.provision(three))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("gen.outputs has 2, moderation.verdicts has 2")
        .hasMessageContaining("but GENGUARD_PARTITIONS is 3")
        .hasMessageContaining("set GENGUARD_PARTITIONS=2 (the count they have)");
    assertRetention(12);
  }

  private Map<String, String> environment(String retentionHours) {
    Map<String, String> env = new HashMap<>();
    env.put("GENGUARD_KAFKA_BOOTSTRAP_SERVERS", infra.kafkaBootstrapServers());
    env.put(ProvisionTopicsMain.PARTITIONS, "2");
    env.put(ContentRetention.KEY, retentionHours);
    return env;
  }

  /** Request-data topics keep {@code hours}; every other topic has the broker's retention. */
  /**
   * Awaited: a broker can answer a describe with the configuration from before an alter it has just
   * acknowledged, for a moment.
   */
  private void assertRetention(long hours) {
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertRetentionNow(hours));
  }

  private void assertRetentionNow(long hours) throws Exception {
    Map<String, Config> configs = topicConfigs();
    List<String> requestData = Topics.requestDataTopics().stream().map(Topic::name).toList();
    for (var entry : configs.entrySet()) {
      String retention = entry.getValue().get(TopicConfig.RETENTION_MS_CONFIG).value();
      String segment = entry.getValue().get(TopicConfig.SEGMENT_MS_CONFIG).value();
      if (requestData.contains(entry.getKey())) {
        assertThat(List.of(retention, segment))
            .as(entry.getKey())
            .containsExactly(Long.toString(hours * HOUR_MS), Long.toString(hours * HOUR_MS / 8));
      } else {
        assertThat(entry.getValue().get(TopicConfig.RETENTION_MS_CONFIG).source())
            .as(entry.getKey() + " keeps the broker's retention, " + retention)
            .isNotEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
      }
    }
    assertThat(configs).hasSize(Topics.all().size());
  }

  private Map<String, Config> topicConfigs() throws Exception {
    Properties props = new Properties();
    props.putAll(infra.kafkaClientProperties());
    List<ConfigResource> resources =
        Topics.all().stream()
            .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic.name()))
            .toList();
    try (Admin admin = Admin.create(props)) {
      return admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS).entrySet().stream()
          .collect(Collectors.toMap(entry -> entry.getKey().name(), Map.Entry::getValue));
    }
  }
}
