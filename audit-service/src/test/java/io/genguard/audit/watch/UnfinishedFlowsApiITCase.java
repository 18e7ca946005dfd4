package io.genguard.audit.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.MovingClock;
import io.genguard.testsupport.TopicReader;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Requests on real Kafka that no generator answers, found by a running audit service's watch; then
 * GET /api/v1/audit/unfinished, POST .../resend and POST .../dismiss: who may read, send again and
 * dismiss, what malformed calls are told, that a request and an output sent again are on their
 * topics as recorded, and that a dismissal closes the flow.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UnfinishedFlowsApiITCase {
  private static final Instant START = Instant.parse("2026-12-05T09:00:00Z");
  private static final Scenario UNGATED =
      Scenario.of("ungated-i", "initech", Decision.RELEASE, START);
  private static RunningAuditService audit;
  private static MovingClock clock;

  @BeforeAll
  static void start() throws Exception {
    clock = new MovingClock(START);
    audit =
        RunningAuditService.start(
            "unfinished_api_it", clock, config -> config.withFlowDeadlines(15, 30));
    // Two requests on Kafka that no generator serves: the audit service records them from the
    // topic, and its watch finds them unanswered once the deadline has passed.
    Properties props = new Properties();
    props.putAll(IntegrationInfrastructure.get().kafkaClientProperties());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (Scenario s :
          List.of(
              Scenario.of("lost-a", "acme", Decision.RELEASE, START),
              Scenario.of("lost-g", "globex", Decision.RELEASE, START),
              UNGATED)) {
        producer
            .send(
                new ProducerRecord<>(
                    Topics.GENERATION_REQUESTS.name(),
                    s.requestId(),
                    Topics.GENERATION_REQUESTS.codec().encode(AuditEvents.request(s))))
            .get();
      }
      // And an output that no moderation job or gate serves.
      producer
          .send(
              new ProducerRecord<>(
                  Topics.GENERATION_OUTPUTS.name(),
                  UNGATED.requestId(),
                  Topics.GENERATION_OUTPUTS.codec().encode(AuditEvents.output(UNGATED))))
          .get();
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                audit.count(
                        "select count(*) from audit_log where event_type in"
                            + " ('GenerationRequest', 'GenerationOutput')"
                            + " and request_id in ('lost-a', 'lost-g', 'ungated-i')")
                    == 4);
    clock.advance(Duration.ofMinutes(16));
    audit.service().checkFlows();
    assertThat(
            audit.count(
                "select count(*) from unfinished_flow where kind = 'NO_ANSWER'"
                    + " and request_id in ('lost-a', 'lost-g')"))
        .isEqualTo(2);
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  @Order(1)
  void shouldListOpenFlowsForComplianceWithinTheirTenant() throws Exception {
    HttpResponse<String> all =
        audit.get(
            "/api/v1/audit/unfinished?state=all", audit.token(Role.COMPLIANCE, null, "auditor"));
    assertThat(all.statusCode()).isEqualTo(200);
    JsonNode body = RunningAuditService.json(all);
    assertThat(body.path("answerDeadlineSeconds").asLong()).isEqualTo(900);
    assertThat(body.path("gateDeadlineSeconds").asLong()).isEqualTo(1800);
    assertThat(body.path("items"))
        .extracting(item -> item.path("requestId").asText())
        .contains("lost-a", "lost-g");
    // The same listing a page at a time, each page's nextCursor passed on unchanged.
    String pager = audit.token(Role.COMPLIANCE, null, "pager");
    List<String> paged = new ArrayList<>();
    String cursor = "";
    do {
      JsonNode page =
          RunningAuditService.json(
              audit.get("/api/v1/audit/unfinished?state=all&limit=1&cursor=" + cursor, pager));
      assertThat(page.path("before").asInt())
          .as("the flows before the page")
          .isEqualTo(paged.size());
      page.path("items").forEach(item -> paged.add(item.path("eventId").asText()));
      cursor = page.path("nextCursor").asText("");
    } while (!cursor.isEmpty() && paged.size() < 100);
    assertThat(paged).containsExactlyElementsOf(body.path("items").findValuesAsText("eventId"));

    String acme = audit.token(Role.COMPLIANCE, "acme", "acme auditor");
    JsonNode own = RunningAuditService.json(audit.get("/api/v1/audit/unfinished", acme));
    assertThat(own.path("items"))
        .extracting(item -> item.path("requestId").asText())
        .containsExactly("lost-a");
    assertThat(own.path("open").path("NO_ANSWER").asLong()).isEqualTo(1);
    assertThat(audit.get("/api/v1/audit/unfinished?tenant=globex", acme).statusCode())
        .isEqualTo(403);
    assertThat(
            audit
                .get("/api/v1/audit/unfinished", audit.token(Role.SUBMITTER, "acme", "app"))
                .statusCode())
        .isEqualTo(403);
  }

  @Test
  @Order(2)
  void shouldTellWhatIsWrongWithAMalformedListing() throws Exception {
    String token = audit.token(Role.COMPLIANCE, null, "auditor 2");
    HttpResponse<String> kind = audit.get("/api/v1/audit/unfinished?kind=LATE", token);
    assertThat(kind.statusCode()).isEqualTo(400);
    assertThat(kind.body()).contains("NO_ANSWER", "NO_GATE_OUTCOME");
    HttpResponse<String> state = audit.get("/api/v1/audit/unfinished?state=closed", token);
    assertThat(state.statusCode()).isEqualTo(400);
    assertThat(state.body()).contains("open, answered, dismissed, all");
    assertThat(audit.get("/api/v1/audit/unfinished?limit=0", token).statusCode()).isEqualTo(400);
    assertThat(audit.get("/api/v1/audit/unfinished?colour=red", token).statusCode()).isEqualTo(400);
    HttpResponse<String> garbled = audit.get("/api/v1/audit/unfinished?cursor=%25%00", token);
    assertThat(garbled.statusCode()).isEqualTo(400);
    assertThat(garbled.body()).contains("nextCursor");
    // A cursor of another listing (its last row an action id, not a record's seq).
    String foreign =
        new io.genguard.audit.query.Cursor(Instant.parse("2026-12-05T09:00:00Z"), "act-1").encode();
    HttpResponse<String> other = audit.get("/api/v1/audit/unfinished?cursor=" + foreign, token);
    assertThat(other.statusCode()).isEqualTo(400);
    assertThat(other.body()).contains("nextCursor");
  }

  @Test
  @Order(3)
  void shouldSendAnUnansweredRequestToTheGeneratorsAgain() throws Exception {
    String admin = audit.token(Role.ADMIN, null, "ops 2");
    assertThat(
            audit
                .post(
                    "/api/v1/audit/unfinished/lost-a/resend",
                    audit.token(Role.COMPLIANCE, null, "auditor 4"),
                    "")
                .statusCode())
        .isEqualTo(403);
    assertThat(audit.post("/api/v1/audit/unfinished/nobody/resend", admin, "").statusCode())
        .isEqualTo(404);

    HttpResponse<String> resent = audit.post("/api/v1/audit/unfinished/lost-a/resend", admin, "");
    assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(resent).path("state").asText()).isEqualTo("SENT_AGAIN");

    // gen.requests now holds the request twice, the second copy the same event.
    List<GenerationRequest> copies = copies(Topics.GENERATION_REQUESTS, "lost-a");
    assertThat(copies).hasSize(2);
    assertThat(copies.get(1)).isEqualTo(copies.get(0));
  }

  @Test
  @Order(4)
  void shouldSendAnOutputWithoutGateOutcomeToTheModerationJobAgain() throws Exception {
    clock.advance(Duration.ofMinutes(15)); // 31 minutes after the output was recorded
    audit.service().checkFlows();
    String admin = audit.token(Role.ADMIN, null, "ops 3");
    String path = "/api/v1/audit/unfinished/ungated-i/resend";
    HttpResponse<String> unknownKind = audit.post(path, admin, "{\"kind\": \"LATE\"}");
    assertThat(unknownKind.statusCode()).isEqualTo(400);
    assertThat(unknownKind.body()).contains("NO_ANSWER", "NO_GATE_OUTCOME");
    assertThat(audit.post(path, admin, "{\"colour\": \"red\"}").statusCode()).isEqualTo(400);
    assertThat(audit.post(path, admin, "[]").statusCode()).isEqualTo(400);
    assertThat(audit.post(path, admin, "{\"kind\": \"NO_ANSWER\"}").statusCode())
        .as("its request was answered: there is no flow of that kind")
        .isEqualTo(404);

    HttpResponse<String> resent = audit.post(path, admin, "{\"kind\": \"NO_GATE_OUTCOME\"}");
    assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
    JsonNode body = RunningAuditService.json(resent);
    assertThat(body.path("kind").asText()).isEqualTo("NO_GATE_OUTCOME");
    assertThat(body.path("eventId").asText()).isEqualTo(AuditEvents.output(UNGATED).getEventId());

    List<GenerationOutput> copies = copies(Topics.GENERATION_OUTPUTS, "ungated-i");
    assertThat(copies).hasSize(2);
    assertThat(copies.get(1)).isEqualTo(copies.get(0)).isEqualTo(AuditEvents.output(UNGATED));
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'unfinished.resend'"
                    + " and request_id = 'ungated-i' and details ->> 'kind' = 'NO_GATE_OUTCOME'"))
        .isEqualTo(1);
  }

  @Test
  @Order(5)
  void shouldSendAllOfAKindAgainOnlyWithinTheAdminsTenantAndOnlyOnceUnlessAsked() throws Exception {
    String path = "/api/v1/audit/unfinished/resend";
    String globexOnly =
        "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"2030-01-01T00:00:00Z\","
            + " \"tenantId\": \"globex\"}";
    assertThat(
            audit
                .post(path, audit.token(Role.ADMIN, "acme", "acme ops 2"), globexOnly)
                .statusCode())
        .isEqualTo(403);
    String admin = audit.token(Role.ADMIN, null, "ops 4");
    assertThat(
            audit
                .post(path, audit.token(Role.COMPLIANCE, null, "auditor 5"), globexOnly)
                .statusCode())
        .isEqualTo(403);
    HttpResponse<String> noInstant = audit.post(path, admin, "{\"kind\": \"NO_ANSWER\"}");
    assertThat(noInstant.statusCode()).isEqualTo(400);
    assertThat(noInstant.body()).contains("recordedBefore are required");
    assertThat(audit.post(path, admin, "").statusCode()).isEqualTo(400);

    HttpResponse<String> resent = audit.post(path, admin, globexOnly);
    assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
    JsonNode body = RunningAuditService.json(resent);
    assertThat(body.path("sent").asInt()).isEqualTo(1);
    assertThat(body.path("actionId").asText()).isNotBlank();
    List<GenerationRequest> copies = copies(Topics.GENERATION_REQUESTS, "lost-g");
    assertThat(copies).hasSize(2);
    assertThat(copies.get(1)).isEqualTo(copies.get(0));

    JsonNode again = RunningAuditService.json(audit.post(path, admin, globexOnly));
    assertThat(again.path("sent").asInt()).as("sent before: skipped").isZero();
    assertThat(again.path("skippedSentBefore").asInt()).isEqualTo(1);
    assertThat(again.path("actionId").isNull()).isTrue();
    JsonNode listed =
        RunningAuditService.json(audit.get("/api/v1/audit/unfinished?tenant=globex", admin));
    assertThat(listed.path("items").get(0).path("resentCount").asInt()).isEqualTo(1);
    assertThat(listed.path("items").get(0).path("resendAction").asText())
        .isEqualTo(body.path("actionId").asText());
  }

  /** The events of {@code topic} keyed {@code key}, from the beginning, once two are there. */
  private static <V extends org.apache.avro.specific.SpecificRecord> List<V> copies(
      Topic<String, V> topic, String key) {
    return TopicReader.until(
            IntegrationInfrastructure.get().kafkaClientProperties(),
            topic.name(),
            List.of(key),
            2,
            Duration.ofSeconds(30))
        .stream()
        .map(topic.codec()::decode)
        .toList();
  }

  @Test
  @Order(6)
  void shouldDismissOnlyAsAnAdminWithAKindAndAReason() throws Exception {
    String admin = audit.token(Role.ADMIN, null, "ops");
    String path = "/api/v1/audit/unfinished/lost-g/dismiss";
    assertThat(
            audit
                .post(
                    path,
                    audit.token(Role.COMPLIANCE, null, "auditor 3"),
                    "{\"kind\": \"NO_ANSWER\", \"reason\": \"resent\"}")
                .statusCode())
        .isEqualTo(403);
    HttpResponse<String> noKind = audit.post(path, admin, "{\"reason\": \"resent\"}");
    assertThat(noKind.statusCode()).isEqualTo(400);
    assertThat(noKind.body()).contains("kind is required");
    assertThat(audit.post(path, admin, "{\"kind\": \"NO_ANSWER\"}").statusCode()).isEqualTo(400);
    assertThat(audit.post(path, admin, "not json").statusCode()).isEqualTo(400);
    assertThat(
            audit
                .post(
                    "/api/v1/audit/unfinished/nobody/dismiss",
                    admin,
                    "{\"kind\": \"NO_ANSWER\", \"reason\": \"resent\"}")
                .statusCode())
        .isEqualTo(404);

    HttpResponse<String> dismissed =
        audit.post(
            path, admin, "{\"kind\": \"NO_ANSWER\", \"reason\": \"lost in the outage; resent\"}");
    assertThat(dismissed.statusCode()).isEqualTo(200);
    assertThat(RunningAuditService.json(dismissed).path("state").asText()).isEqualTo("DISMISSED");
    assertThat(
            audit
                .post(path, admin, "{\"kind\": \"NO_ANSWER\", \"reason\": \"again\"}")
                .statusCode())
        .isEqualTo(409);
    JsonNode left =
        RunningAuditService.json(audit.get("/api/v1/audit/unfinished?tenant=globex", admin));
    assertThat(left.path("open").path("NO_ANSWER").asLong()).isZero();
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'unfinished.dismiss'"
                    + " and request_id = 'lost-g'"))
        .isEqualTo(1);
  }

  @Test
  @Order(7)
  void shouldDismissInBulkOnlyWithinTheAdminsTenantAndWithAValidInstant() throws Exception {
    String acmeAdmin = audit.token(Role.ADMIN, "acme", "acme ops");
    String path = "/api/v1/audit/unfinished/dismiss";
    assertThat(
            audit
                .post(
                    path,
                    acmeAdmin,
                    "{\"kind\": \"NO_ANSWER\", \"tenantId\": \"globex\","
                        + " \"recordedBefore\": \"2030-01-01T00:00:00Z\", \"reason\": \"x\"}")
                .statusCode())
        .isEqualTo(403);
    HttpResponse<String> noInstant =
        audit.post(path, acmeAdmin, "{\"kind\": \"NO_ANSWER\", \"reason\": \"x\"}");
    assertThat(noInstant.statusCode()).isEqualTo(400);
    assertThat(noInstant.body()).contains("recordedBefore are required");
    HttpResponse<String> badInstant =
        audit.post(
            path,
            acmeAdmin,
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"yesterday\", \"reason\": \"x\"}");
    assertThat(badInstant.statusCode()).isEqualTo(400);
    assertThat(badInstant.body()).contains("not a UTC instant");
    // Hostile input is refused with the reason, never a 500 from the database: an instant
    // PostgreSQL cannot store, a tenant id with a NUL, a reason of more than one line.
    String admin = audit.token(Role.ADMIN, null, "ops");
    for (String hostile :
        List.of(
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"+300000-01-01T00:00:00Z\","
                + " \"reason\": \"x\"}",
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"-5000-01-01T00:00:00Z\","
                + " \"reason\": \"x\"}",
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"2030-01-01T00:00:00Z\","
                + " \"tenantId\": \"a\\u0000\", \"reason\": \"x\"}",
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"2030-01-01T00:00:00Z\","
                + " \"reason\": \"lost\\u0000\"}",
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"2030-01-01T00:00:00Z\","
                + " \"reason\": \"lost\\nin the outage\"}")) {
      HttpResponse<String> refused = audit.post(path, admin, hostile);
      assertThat(refused.statusCode()).as(hostile).isEqualTo(400);
      assertThat(RunningAuditService.json(refused).path("error").asText())
          .as(hostile)
          .containsAnyOf("outside the years 1 to 9999", "is not a tenant id", "control character");
    }
    HttpResponse<String> farResend =
        audit.post(
            "/api/v1/audit/unfinished/resend",
            admin,
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"+300000-01-01T00:00:00Z\"}");
    assertThat(farResend.statusCode()).isEqualTo(400);
    HttpResponse<String> oneDismissal =
        audit.post(
            "/api/v1/audit/unfinished/lost-a/dismiss",
            admin,
            "{\"kind\": \"NO_ANSWER\", \"reason\": \"lost\\u0000\"}");
    assertThat(oneDismissal.statusCode()).isEqualTo(400);
    assertThat(oneDismissal.body()).contains("control character");

    HttpResponse<String> dismissed =
        audit.post(
            path,
            acmeAdmin,
            "{\"kind\": \"NO_ANSWER\", \"recordedBefore\": \"2030-01-01T00:00:00Z\","
                + " \"reason\": \"lost in the outage\"}");
    assertThat(dismissed.statusCode()).isEqualTo(200);
    assertThat(RunningAuditService.json(dismissed).path("dismissed").asInt())
        .as("the acme admin's own tenant only")
        .isEqualTo(1);
    assertThat(
            audit.count(
                "select count(*) from unfinished_flow where request_id = 'lost-a'"
                    + " and dismissed_at is not null"))
        .isEqualTo(1);
  }
}
