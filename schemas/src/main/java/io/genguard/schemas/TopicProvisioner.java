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
import org.apache.kafka.common.KafkaFuture;
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
  /** The setting that gives the partition count, named in refusals. */
  public static final String PARTITIONS_KEY = "GENGUARD_PARTITIONS";

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
   * @throws IllegalStateException before anything is created or changed, when a topic of {@link
   *     Topics#coPartitioned()} exists with another partition count than {@code partitions}
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
    Set<String> coPartitioned =
        Topics.coPartitioned().stream().map(Topic::name).collect(Collectors.toSet());
    return provision(adminProperties, configs, partitions, replication, coPartitioned);
  }

  /**
   * Creates the topics {@code names} with {@code partitions} partitions (existing ones are left as
   * they are, whatever their count: tests that share a broker create their own topics this way).
   */
  public static void provision(
      Map<String, Object> adminProperties,
      Collection<String> names,
      int partitions,
      short replication) {
    Map<String, Map<String, String>> configs = new LinkedHashMap<>();
    names.forEach(name -> configs.put(name, Map.of()));
    provision(adminProperties, configs, partitions, replication, Set.of());
  }

  /**
   * Creates what is missing, then sets the configurations; refuses first when a topic of {@code
   * coPartitioned} exists with another count than {@code partitions}.
   */
  private static List<String> provision(
      Map<String, Object> adminProperties,
      Map<String, Map<String, String>> configs,
      int partitions,
      short replication,
      Set<String> coPartitioned) {
    Collection<String> names = configs.keySet();
    Properties props = new Properties();
    props.putAll(adminProperties);
    try (Admin admin = Admin.create(props)) {
      requireOnePartitionCount(
          admin, names.stream().filter(coPartitioned::contains).toList(), partitions);
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
   * Refuses, before anything is created or changed, when a topic of {@code coPartitioned} exists
   * with another partition count than {@code partitions}: the count asked for would otherwise be
   * ignored for the existing topics and given to the missing ones, and the release gate, which
   * joins these topics per partition, would never see the records of one request together.
   */
  private static void requireOnePartitionCount(
      Admin admin, List<String> coPartitioned, int partitions)
      throws InterruptedException, TimeoutException {
    if (coPartitioned.isEmpty()) {
      return;
    }
    Map<String, KafkaFuture<TopicDescription>> described =
        admin.describeTopics(coPartitioned).topicNameValues();
    Map<String, Integer> existing = new LinkedHashMap<>();
    for (String name : coPartitioned) {
      try {
        existing.put(name, described.get(name).get(30, TimeUnit.SECONDS).partitions().size());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new IllegalStateException(
              "Cannot describe topic " + name + ": " + e.getCause().getMessage(), e.getCause());
        }
      }
    }
    List<String> differing = new ArrayList<>();
    existing.forEach(
        (name, count) -> {
          if (count != partitions) {
            differing.add(name + " has " + count);
          }
        });
    if (differing.isEmpty()) {
      return;
    }
    Set<Integer> counts = Set.copyOf(existing.values());
    String remedy =
        counts.size() == 1
            ? "set "
                + PARTITIONS_KEY
                + "="
                + counts.iterator().next()
                + " (the count they have) to go on with them"
                + (partitions > counts.iterator().next()
                    ? ", or raise every topic to "
                        + partitions
                        + " partitions together while the pipeline is drained"
                        + " (docs/OPERATIONS.md, Scaling)"
                    : " (Kafka cannot take partitions away from a topic)")
            : "they already differ among themselves, so bring them to one count (kafka-topics"
                + " --alter --partitions, which can only add partitions) while the pipeline is"
                + " drained (docs/OPERATIONS.md, Scaling), then set "
                + PARTITIONS_KEY
                + " to it";
    throw new IllegalStateException(
        "Topic partition counts do not match: "
            + String.join(", ", differing)
            + " partitions, but "
            + PARTITIONS_KEY
            + " is "
            + partitions
            + ". The release gate joins "
            + String.join(", ", coPartitioned)
            + " per partition, so they must all have the same count: "
            + remedy
            + ". No topic was created or changed.");
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
