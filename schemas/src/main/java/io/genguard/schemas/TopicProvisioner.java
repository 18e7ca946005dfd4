package io.genguard.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates topics (idempotently) and waits until every partition has a leader, so that the first
 * producer does not race the broker's metadata and trip over NOT_LEADER errors.
 */
public final class TopicProvisioner {
  private TopicProvisioner() {}

  /** Creates every catalogue topic with {@code partitions} partitions. */
  public static void provisionCatalogue(
      Map<String, Object> adminProperties, int partitions, short replication) {
    provision(
        adminProperties, Topics.all().stream().map(Topic::name).toList(), partitions, replication);
  }

  public static void provision(
      Map<String, Object> adminProperties,
      Collection<String> names,
      int partitions,
      short replication) {
    Properties props = new Properties();
    props.putAll(adminProperties);
    try (Admin admin = Admin.create(props)) {
      List<NewTopic> topics = new ArrayList<>();
      for (String name : names) {
        topics.add(new NewTopic(name, partitions, replication));
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
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "Timed out creating topics " + names + "; is Kafka reachable?", e);
    }
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
