package io.genguard.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates topics (idempotently) and waits until every partition has a leader, so that the first
 * producer does not race the broker's metadata and trip over NOT_LEADER errors. The catalogue's
 * request-data topics also get their {@link ContentRetention}, set again on topics that exist.
 */
public final class TopicProvisioner {
  private TopicProvisioner() {}

  /**
   * Creates every catalogue topic with {@code partitions} partitions and the default {@link
   * ContentRetention} on the request-data topics.
   */
  public static List<String> provisionCatalogue(
      Map<String, Object> adminProperties, int partitions, short replication) {
    return provisionCatalogue(
        adminProperties, partitions, replication, ContentRetention.defaults());
  }

  /**
   * Creates every catalogue topic with {@code partitions} partitions, and gives the request-data
   * topics {@code retention}: new ones at creation, existing ones by changing their configuration
   * where it differs.
   *
   * @return the changes made to existing topics, one line each ("gen.outputs: retention.ms
   *     604800000 -> 86400000"), empty when they already had it or the retention is unmanaged
   */
  public static List<String> provisionCatalogue(
      Map<String, Object> adminProperties,
      int partitions,
      short replication,
      ContentRetention retention) {
    Set<String> requestData =
        Topics.requestDataTopics().stream().map(Topic::name).collect(Collectors.toSet());
    Map<String, Map<String, String>> configs = new LinkedHashMap<>();
    for (Topic<?, ?> topic : Topics.all()) {
      configs.put(
          topic.name(), requestData.contains(topic.name()) ? retention.topicConfig() : Map.of());
    }
    return provision(adminProperties, configs, partitions, replication);
  }

  public static void provision(
      Map<String, Object> adminProperties,
      Collection<String> names,
      int partitions,
      short replication) {
    Map<String, Map<String, String>> configs = new LinkedHashMap<>();
    names.forEach(name -> configs.put(name, Map.of()));
    provision(adminProperties, configs, partitions, replication);
  }

  private static List<String> provision(
      Map<String, Object> adminProperties,
      Map<String, Map<String, String>> configs,
      int partitions,
      short replication) {
    Collection<String> names = configs.keySet();
    Properties props = new Properties();
    props.putAll(adminProperties);
    try (Admin admin = Admin.create(props)) {
      List<NewTopic> topics = new ArrayList<>();
      for (var entry : configs.entrySet()) {
        topics.add(new NewTopic(entry.getKey(), partitions, replication).configs(entry.getValue()));
      }
      for (var result : admin.createTopics(topics).values().entrySet()) {
        try {
          result.getValue().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "Cannot create topic " + result.getKey() + ": " + e.getCause().getMessage(), e);
          }
        }
      }
      awaitLeaders(admin, names, Duration.ofSeconds(30));
      return reconcile(admin, configs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "Timed out creating topics " + names + "; is Kafka reachable?", e);
    }
  }

  /**
   * Sets each configuration entry that an existing topic holds with another value (or not at all);
   * entries a topic does not name are left as they are.
   */
  private static List<String> reconcile(Admin admin, Map<String, Map<String, String>> wanted)
      throws InterruptedException, TimeoutException {
    Map<ConfigResource, Map<String, String>> resources = new LinkedHashMap<>();
    wanted.forEach(
        (name, config) -> {
          if (!config.isEmpty()) {
            resources.put(new ConfigResource(ConfigResource.Type.TOPIC, name), config);
          }
        });
    if (resources.isEmpty()) {
      return List.of();
    }
    Map<ConfigResource, Config> current;
    try {
      current = admin.describeConfigs(resources.keySet()).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "Cannot read the configuration of topics " + wanted.keySet(), e.getCause());
    }
    List<String> changes = new ArrayList<>();
    Map<ConfigResource, Collection<AlterConfigOp>> alterations = new LinkedHashMap<>();
    resources.forEach(
        (resource, config) -> {
          List<AlterConfigOp> ops = new ArrayList<>();
          config.forEach(
              (key, value) -> {
                ConfigEntry entry = current.get(resource).get(key);
                String was = entry == null ? null : entry.value();
                if (!value.equals(was)) {
                  ops.add(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET));
                  changes.add(resource.name() + ": " + key + " " + was + " -> " + value);
                }
              });
          if (!ops.isEmpty()) {
            alterations.put(resource, ops);
          }
        });
    if (!alterations.isEmpty()) {
      try {
        admin.incrementalAlterConfigs(alterations).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new IllegalStateException(
            "Cannot set "
                + changes
                + " ("
                + e.getCause().getMessage()
                + "); grant the configuration change or set "
                + ContentRetention.KEY
                + "="
                + ContentRetention.UNMANAGED,
            e.getCause());
      }
    }
    return changes;
  }

  private static void awaitLeaders(Admin admin, Collection<String> names, Duration limit)
      throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      try {
        Map<String, TopicDescription> described =
            admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
        boolean ready =
            described.values().stream()
                .flatMap(description -> description.partitions().stream())
                .map(TopicPartitionInfo::leader)
                .allMatch(leader -> leader != null && !leader.isEmpty());
        if (ready) {
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new IllegalStateException("Cannot describe topics " + names, e.getCause());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(
            "Partitions of " + names + " still have no leader after " + limit.toSeconds() + " s");
      }
      Thread.sleep(50);
    }
  }
}
