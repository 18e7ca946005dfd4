package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.infra.EmbeddedKafkaBroker;
import io.genguard.schemas.Topic;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.schemas.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GENGUARD_PARTITIONS changed on a data directory whose topics have another count: the stack
 * refuses to start, naming the topics, their count, the setting and what to do, and creates no
 * topic with the new count (it used to keep the old count on the topics that existed and give the
 * new one to a missing topic the release gate reads with them). Starts its own broker on the data
 * directory, as the stack does.
 */
class PartitionCountITCase {
  @TempDir Path dataDir;

  @Test
  void shouldRefuseAPartitionCountOtherThanTheGateTopicsHaveAndCreateNothing() throws Exception {
    Path kafkaDir = dataDir.resolve("kafka");
    // A data directory whose stack ran with 4 partitions, and whose audit.erasures is gone.
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(kafkaDir, 0);
        Admin admin = admin(kafka)) {
      TopicProvisioner.provisionCatalogue(properties(kafka), 4, (short) 1);
      admin.deleteTopics(List.of(Topics.AUDIT_ERASURES.name())).all().get(30, TimeUnit.SECONDS);
    }
    StackConfig eight =
        StackConfig.fromEnvironment(Map.of(StackConfig.PARTITIONS, "8"))
            .withDataDir(dataDir)
            .withPorts(0, 0, 0);

    assertThatThrownBy(() -> GenGuardStack.start(eight).close())
        .hasMessageContaining(
            "gen.requests has 4, gen.outputs has 4, moderation.verdicts has 4, review.decisions has"
                + " 4 partitions,"
                + " but GENGUARD_PARTITIONS is 8")
        .hasMessageContaining("set GENGUARD_PARTITIONS=4 (the count they have)")
        .hasMessageContaining("No topic was created or changed");

    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(kafkaDir, 0);
        Admin admin = admin(kafka)) {
      Map<String, Integer> counts = partitionCounts(admin);
      assertThat(counts).doesNotContainKey(Topics.AUDIT_ERASURES.name());
      assertThat(counts.values()).as(counts.toString()).containsOnly(4);

      // With the count the topics have, the missing one comes back with it.
      TopicProvisioner.provisionCatalogue(properties(kafka), 4, (short) 1);
      assertThat(partitionCounts(admin)).containsEntry(Topics.AUDIT_ERASURES.name(), 4);
    }
  }

  private static Map<String, Object> properties(EmbeddedKafkaBroker kafka) {
    return Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
  }

  private static Admin admin(EmbeddedKafkaBroker kafka) {
    Properties props = new Properties();
    props.putAll(properties(kafka));
    return Admin.create(props);
  }

  /** The partition count of each catalogue topic that exists. */
  private static Map<String, Integer> partitionCounts(Admin admin) throws Exception {
    List<String> catalogue = Topics.all().stream().map(Topic::name).toList();
    Map<String, Integer> counts = new TreeMap<>();
    for (var description :
        admin
            .describeTopics(
                admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                    .filter(catalogue::contains)
                    .toList())
            .allTopicNames()
            .get(30, TimeUnit.SECONDS)
            .values()) {
      counts.put(description.name(), description.partitions().size());
    }
    return counts;
  }
}
