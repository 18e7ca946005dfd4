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
 * A request the broker deleted before any generator read it, end to end on the embedded stack: the
 * audit store recorded it, the generators that came back after the deletion never saw it, the
 * unfinished-flow watch finds it, an admin sends it again, and the real pipeline answers it, which
 * closes the flow.
 */
class LostRequestITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TENANT = "lost-request";
  private static final String PROMPT = "The library opens at nine on Saturdays.";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void shouldFindARequestTheBrokerDeletedUnreadAndAnswerItWhenSentAgain() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    StackConfig config =
        StackConfig.defaults()
            .withPorts(0, 0, 0)
            .withExternal(
                new StackConfig.ExternalInfrastructure(
                    infra.kafkaBootstrapServers(),
                    infra.createDatabase("lost_request_it"),
                    infra.jdbcUser(),
                    infra.jdbcPassword()));
    String requestId;
    try (GenGuardStack first = GenGuardStack.start(config)) {
      // The generators are down; a request comes in and is audited.
      first.generator().close();
      String api = "http://127.0.0.1:" + first.httpPort();
      String submitter = first.audit().issueToken(Role.SUBMITTER, TENANT, "app").token();
      HttpResponse<String> submitted =
          send(
              api,
              submitter,
              "POST",
              "/api/v1/requests",
              JSON.createObjectNode().put("prompt", PROMPT).put("backend", "echo").toString());
      assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
      requestId = JSON.readTree(submitted.body()).path("requestId").asText();
      String id = requestId;
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> story(api, submitter, id).path("request").hasNonNull("prompt"));
      // As the topic's retention would, while they are down: what nobody served is deleted.
      try (Admin admin = Admin.create(infra.kafkaClientProperties())) {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin
            .describeTopics(List.of(Topics.GENERATION_REQUESTS.name()))
            .allTopicNames()
            .get(30, TimeUnit.SECONDS)
            .get(Topics.GENERATION_REQUESTS.name())
            .partitions()
            .forEach(
                p ->
                    latest.put(
                        new TopicPartition(Topics.GENERATION_REQUESTS.name(), p.partition()),
                        OffsetSpec.latest()));
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
    }

    try (GenGuardStack second = GenGuardStack.start(config)) {
      String api = "http://127.0.0.1:" + second.httpPort();
      String admin = second.audit().issueToken(Role.ADMIN, null, "ops").token();
      // The generators are back, past the deleted records: the request gets no answer.
      await()
          .atMost(Duration.ofMinutes(1))
          .until(() -> second.generator().warmedUp() && second.generator().runningWorkers() > 0);
      await()
          .during(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(15))
          .until(() -> story(api, admin, requestId).path("outputs").isEmpty());
      UnfinishedFlows watch =
          new UnfinishedFlows(
              second.audit().database().dataSource(),
              Clock.offset(Clock.systemUTC(), Duration.ofMinutes(20)),
              UnfinishedFlows.Deadlines.DEFAULTS);
      watch.check();
      JsonNode open =
          JSON.readTree(send(api, admin, "GET", "/api/v1/audit/unfinished", null).body());
      assertThat(open.path("items"))
          .extracting(item -> item.path("requestId").asText() + "/" + item.path("kind").asText())
          .contains(requestId + "/NO_ANSWER");

      HttpResponse<String> resent =
          send(api, admin, "POST", "/api/v1/audit/unfinished/" + requestId + "/resend", null);
      assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> !story(api, admin, requestId).path("gateOutcomes").isEmpty());
      JsonNode story = story(api, admin, requestId);
      assertThat(story.path("outputs").get(0).path("text").asText()).isEqualTo(PROMPT);

      watch.check();
      JsonNode answered = story(api, admin, requestId).path("unfinished");
      assertThat(answered).hasSize(1);
      assertThat(answered.get(0).path("kind").asText()).isEqualTo("NO_ANSWER");
      assertThat(answered.get(0).hasNonNull("answeredAt"))
          .as("the answer to the request sent again closed the flow")
          .isTrue();
    }
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
