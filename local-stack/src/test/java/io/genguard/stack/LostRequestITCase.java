package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.security.Role;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Records the broker deleted before a stage read them, end to end on the embedded stack: a request
 * no generator read and an output the release gate never read. The audit store recorded both, the
 * stages that came back after the deletion never saw them, the unfinished-flow watch finds them, an
 * admin sends each again, and the real pipeline answers them, which closes both flows.
 */
class LostRequestITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TENANT = "lost-request";
  private static final String PROMPT = "The library opens at nine on Saturdays.";
  private static final String UNGATED_PROMPT = "The museum closes at five on Sundays.";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void shouldFindARequestAndAnOutputTheBrokerDeletedUnreadAndAnswerThemWhenSentAgain()
      throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    StackConfig config = SharedServers.stackOn(infra.createDatabase("lost_request_it"));
    String requestId;
    String ungatedId;
    try (GenGuardStack first = GenGuardStack.start(config)) {
      String api = "http://127.0.0.1:" + first.httpPort();
      String submitter = first.audit().issueToken(Role.SUBMITTER, TENANT, "app").token();
      // The gate is down: a request is answered and judged, and its output audited, not decided.
      first.releaseGate().close(Duration.ofSeconds(10));
      ungatedId = submit(api, submitter, UNGATED_PROMPT);
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  !story(api, submitter, ungatedId).path("outputs").isEmpty()
                      && !story(api, submitter, ungatedId).path("verdicts").isEmpty());
      // The generators are down too; a request comes in and is audited.
      first.generator().close();
      requestId = submit(api, submitter, PROMPT);
      String id = requestId;
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> story(api, submitter, id).path("request").hasNonNull("prompt"));
      // As the topics' retention would, while they are down: what nobody served is deleted.
      try (Admin admin = Admin.create(infra.kafkaClientProperties())) {
        deleteAll(admin, Topics.GENERATION_REQUESTS.name());
        deleteAll(admin, Topics.GENERATION_OUTPUTS.name());
      }
    }

    try (GenGuardStack second = GenGuardStack.start(config)) {
      String api = "http://127.0.0.1:" + second.httpPort();
      String admin = second.audit().issueToken(Role.ADMIN, null, "ops").token();
      // The generators and the gate are back, past the deleted records: neither gets an answer.
      await()
          .atMost(Duration.ofMinutes(1))
          .until(() -> second.generator().warmedUp() && second.generator().runningWorkers() > 0);
      await()
          .during(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  story(api, admin, requestId).path("outputs").isEmpty()
                      && story(api, admin, ungatedId).path("gateOutcomes").isEmpty());
      UnfinishedFlows watch =
          new UnfinishedFlows(
              second.audit().database().dataSource(),
              Clock.offset(Clock.systemUTC(), Duration.ofMinutes(31)),
              UnfinishedFlows.Deadlines.DEFAULTS);
      watch.check();
      JsonNode open =
          JSON.readTree(send(api, admin, "GET", "/api/v1/audit/unfinished", null).body());
      assertThat(open.path("items"))
          .extracting(item -> item.path("requestId").asText() + "/" + item.path("kind").asText())
          .contains(requestId + "/NO_ANSWER", ungatedId + "/NO_GATE_OUTCOME");

      // Each sent again: the request to the generators, the output to the moderation job and gate.
      for (String id : List.of(requestId, ungatedId)) {
        HttpResponse<String> resent =
            send(api, admin, "POST", "/api/v1/audit/unfinished/" + id + "/resend", null);
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
      }
      for (String id : List.of(requestId, ungatedId)) {
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> !story(api, admin, id).path("gateOutcomes").isEmpty());
      }
      assertThat(story(api, admin, requestId).path("outputs").get(0).path("text").asText())
          .isEqualTo(PROMPT);
      JsonNode ungated = story(api, admin, ungatedId);
      assertThat(ungated.path("outputs")).as("the output sent again is the same one").hasSize(1);
      assertThat(ungated.path("gateOutcomes")).hasSize(1);
      assertThat(ungated.path("gateOutcomes").get(0).path("outcome").asText())
          .isEqualTo("RELEASED");

      watch.check();
      for (String id : List.of(requestId, ungatedId)) {
        JsonNode answered = story(api, admin, id).path("unfinished");
        assertThat(answered).hasSize(1);
        assertThat(answered.get(0).hasNonNull("answeredAt"))
            .as("the answer to what was sent again closed the flow of " + id)
            .isTrue();
      }
    }
  }

  private String submit(String api, String submitter, String prompt) throws Exception {
    HttpResponse<String> submitted =
        send(
            api,
            submitter,
            "POST",
            "/api/v1/requests",
            JSON.createObjectNode().put("prompt", prompt).put("backend", "echo").toString());
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    return JSON.readTree(submitted.body()).path("requestId").asText();
  }

  /** Deletes every record of {@code topic} up to its end. */
  private static void deleteAll(Admin admin, String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(30, TimeUnit.SECONDS)
        .get(topic)
        .partitions()
        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    Map<TopicPartition, RecordsToDelete> deletions = new HashMap<>();
    admin
        .listOffsets(latest)
        .all()
        .get(30, TimeUnit.SECONDS)
        .forEach(
            (partition, end) ->
                deletions.put(partition, RecordsToDelete.beforeOffset(end.offset())));
    admin.deleteRecords(deletions).all().get(30, TimeUnit.SECONDS);
  }

  private JsonNode story(String api, String token, String requestId) throws Exception {
    return JSON.readTree(send(api, token, "GET", "/api/v1/requests/" + requestId, null).body());
  }

  private HttpResponse<String> send(
      String api, String token, String method, String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api + path))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
