package io.genguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.schemas.TopicProvisioner;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.junit.jupiter.api.Test;

/**
 * A start that fails after the ingestors began reading (here: the API's port is taken) closes what
 * it had opened. The ingestors used to go on reading in the service's consumer group, on threads
 * that kept the JVM alive, with the producers and the connection pool beside them.
 */
class AuditServiceFailedStartITCase {
  /** The threads a start opens, by the start of their names. */
  private static final List<String> STARTED_THREADS =
      List.of(
          "audit-ingestor-", "review-outbox", "kafka-producer-network-thread", "genguard-audit");

  @Test
  void shouldCloseWhatItOpenedWhenTheApiCannotListen() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    Map<String, Object> kafka = infra.kafkaClientProperties();
    TopicProvisioner.provisionCatalogue(kafka, 2, (short) 1);
    String url = infra.createDatabase("failed_start");
    String group = "audit-failed-start";
    RunningAuditService.skipHistory(kafka, group);
    Map<String, Integer> before = startedThreads();

    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      AuditConfig config =
          AuditConfig.of(url, infra.jdbcUser(), infra.jdbcPassword(), busy.getLocalPort())
              .withConsumerGroup(group)
              .withRetention(0, 0);

      assertThatThrownBy(() -> new AuditService(config, kafka, Clock.systemUTC()).close())
          .isInstanceOf(RuntimeException.class);
    }

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!startedThreads().equals(before) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(startedThreads()).as("the start's threads are gone").isEqualTo(before);
    try (Admin admin = Admin.create(kafka)) {
      ConsumerGroupDescription description =
          admin
              .describeConsumerGroups(List.of(group))
              .describedGroups()
              .get(group)
              .get(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS);
      assertThat(description.members()).as("members of %s", group).isEmpty();
    }
  }

  /** How many live threads each prefix of {@link #STARTED_THREADS} names. */
  private static Map<String, Integer> startedThreads() {
    Map<String, Integer> counts = new TreeMap<>();
    STARTED_THREADS.forEach(prefix -> counts.put(prefix, 0));
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (!thread.isAlive()) {
        continue;
      }
      for (String prefix : STARTED_THREADS) {
        if (thread.getName().startsWith(prefix)) {
          counts.merge(prefix, 1, Integer::sum);
        }
      }
    }
    return counts;
  }
}
