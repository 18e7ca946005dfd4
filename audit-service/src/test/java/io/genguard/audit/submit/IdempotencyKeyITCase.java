package io.genguard.audit.submit;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.audit.submit.RequestSubmitter.Submission;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TopicReader;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Idempotency-Key of POST /api/v1/requests on the real service, Kafka and PostgreSQL: a retry
 * with the same key and body is answered with the same request and writes nothing more to
 * gen.requests; another body under the key is refused; keys are per tenant; a try that died before
 * Kafka answered is sent again as the same request, never as a new one.
 */
class IdempotencyKeyITCase {
  private static final String MARK = "idempotency-it-" + System.nanoTime();
  private static RunningAuditService audit;
  private static String acme;
  private static String globex;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("idempotency_key_it", Clock.systemUTC(), c -> c);
    acme = audit.token(Role.SUBMITTER, "acme", "sam");
    globex = audit.token(Role.SUBMITTER, "globex", "gil");
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldAnswerARetryWithTheSameRequestAndWriteItToKafkaOnce() throws Exception {
    HttpResponse<String> first = submit(acme, "key-1", body("retried", 4));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
    String requestId = json(first).path("requestId").asText();
    assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();

    // The same members in another order and spacing: the same body.
    HttpResponse<String> retry =
        submit(acme, "key-1", "{ \"maxTokens\": 4,\n \"prompt\": \"" + MARK + " retried\" }");
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
    assertThat(json(retry).path("requestId").asText()).isEqualTo(requestId);
    assertThat(json(retry).path("tenantId").asText()).isEqualTo("acme");
    assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");

    HttpResponse<String> otherBody = submit(acme, "key-1", body("another prompt", 4));
    assertThat(otherBody.statusCode()).as(otherBody.body()).isEqualTo(422);
    assertThat(json(otherBody).path("error").asText())
        .isEqualTo(
            "Idempotency-Key 'key-1' of tenant 'acme' was used for request "
                + requestId
                + " with another body within the last 24 hours; send a new key for a new"
                + " request, or the same body to get that request's answer (nothing was"
                + " submitted)");

    // Another tenant's key of the same name is its own.
    HttpResponse<String> otherTenant = submit(globex, "key-1", body("retried", 4));
    assertThat(otherTenant.statusCode()).as(otherTenant.body()).isEqualTo(202);
    String globexRequest = json(otherTenant).path("requestId").asText();
    assertThat(globexRequest).isNotEqualTo(requestId);
    assertThat(json(submit(globex, "key-1", body("retried", 4))).path("requestId").asText())
        .isEqualTo(globexRequest);

    assertThat(written(requestId, globexRequest))
        .extracting(GenerationRequest::getRequestId)
        .containsExactlyInAnyOrder(requestId, globexRequest);
    assertThat(written(requestId).get(0).getPrompt()).isEqualTo(MARK + " retried");
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'request.submit'"
                    + " and target in ('"
                    + requestId
                    + "', '"
                    + globexRequest
                    + "')"))
        .as("one submission recorded per request")
        .isEqualTo(2);
    assertThat(
            audit.count(
                "select count(*) from submit_idempotency_key where idempotency_key = 'key-1'"))
        .as("one key per tenant")
        .isEqualTo(2);
  }

  @Test
  void shouldRefuseKeysThatBreakTheRuleWithoutSubmitting() throws Exception {
    for (String key : List.of("", "has space", "a/b", "k".repeat(129))) {
      HttpResponse<String> refused = submit(acme, key, body("refused for its key", 4));
      assertThat(refused.statusCode()).as("key '%s': %s", key, refused.body()).isEqualTo(400);
      assertThat(json(refused).path("error").asText())
          .as(key)
          .contains(
              "it must be 1-128 characters: letters, digits, '-', '_', '.' or ':' (a UUID will"
                  + " do). Nothing was submitted");
    }
    HttpResponse<String> twice =
        audit.send(
            audit
                .request("/api/v1/requests", acme)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "one")
                .header("Idempotency-Key", "two")
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofString(
                        body("refused for its key", 4))));
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(json(twice).path("error").asText())
        .isEqualTo("Send one Idempotency-Key header, not 2; nothing was submitted");
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'request.submit'"
                    + " and details ->> 'promptChars' = '"
                    + (MARK + " refused for its key").length()
                    + "'"))
        .isZero();
  }

  @Test
  void shouldSendTheSameRequestAgainWhenAnEarlierTryDiedBeforeKafkaAnswered() throws Exception {
    // A try wrote its key and died (or got no acknowledgement) before Kafka answered; its hold
    // has run out.
    String lostRequest = EventIds.random();
    String lostEvent = EventIds.random();
    Instant submittedAt = Instant.now().minusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
    keyRow("lost-answer", "crashed", lostRequest, lostEvent, submittedAt, "now() - interval '1 s'");

    HttpResponse<String> retry = submit(acme, "lost-answer", body("crashed", 4));
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
    assertThat(json(retry).path("requestId").asText()).isEqualTo(lostRequest);
    assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
    GenerationRequest sent = written(lostRequest).get(0);
    assertThat(sent.getEventId())
        .as("the same event, which the audit writer takes once")
        .isEqualTo(lostEvent);
    assertThat(sent.getSubmittedAt()).isEqualTo(submittedAt);
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'request.submit' and target = '"
                    + lostRequest
                    + "' and details ->> 'sentAgain' = 'true'"))
        .isEqualTo(1);
    // Answered from now on.
    HttpResponse<String> again = submit(acme, "lost-answer", body("crashed", 4));
    assertThat(json(again).path("requestId").asText()).isEqualTo(lostRequest);
    assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(written(lostRequest)).hasSize(1);
  }

  @Test
  void shouldTellARetryToWaitWhileAnotherTryHoldsTheKey() throws Exception {
    String heldRequest = EventIds.random();
    keyRow(
        "held",
        "in flight",
        heldRequest,
        EventIds.random(),
        Instant.now(),
        "now() + interval '20 s'");
    HttpResponse<String> waiting = submit(acme, "held", body("in flight", 4));
    assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(409);
    assertThat(Long.parseLong(waiting.headers().firstValue("Retry-After").orElseThrow()))
        .isBetween(15L, 20L);
    assertThat(json(waiting).path("error").asText())
        .isEqualTo(
            "Request "
                + heldRequest
                + " of Idempotency-Key 'held' is being submitted by another call right now; send"
                + " this one again after Retry-After to get its answer (nothing was submitted by"
                + " this call)");
    assertThat(written(heldRequest)).isEmpty();
  }

  @Test
  void shouldSubmitOneRequestForConcurrentFirstTriesOfOneKey() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Callable<HttpResponse<String>>> tries = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        tries.add(() -> submit(acme, "concurrent", body("concurrent", 4)));
      }
      Set<String> requestIds = new HashSet<>();
      for (Future<HttpResponse<String>> answer : pool.invokeAll(tries)) {
        HttpResponse<String> response = answer.get();
        assertThat(response.statusCode()).as(response.body()).isIn(202, 409);
        if (response.statusCode() == 202) {
          requestIds.add(json(response).path("requestId").asText());
        }
      }
      String requestId =
          json(submit(acme, "concurrent", body("concurrent", 4))).path("requestId").asText();
      assertThat(requestIds).isSubsetOf(Set.of(requestId));
      assertThat(written(requestId)).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void shouldFreeAKeyOnceItExpiresAndPurgeIt() throws Exception {
    String old = EventIds.random();
    keyRow("expired", "expired", old, EventIds.random(), Instant.now(), "now() - interval '1 s'");
    audit.execute(
        "update submit_idempotency_key set expires_at = now() - interval '1 s', accepted_at = now()"
            + " where idempotency_key = 'expired'");
    assertThat(audit.service().idempotencyKeys().purgeExpired()).isEqualTo(1);
    keyRow("expired", "expired", old, EventIds.random(), Instant.now(), "now() - interval '1 s'");
    audit.execute(
        "update submit_idempotency_key set expires_at = now() - interval '1 s', accepted_at = now()"
            + " where idempotency_key = 'expired'");
    // Not purged yet: the key is free all the same, for a new request.
    HttpResponse<String> fresh = submit(acme, "expired", body("expired", 4));
    assertThat(fresh.statusCode()).as(fresh.body()).isEqualTo(202);
    assertThat(json(fresh).path("requestId").asText()).isNotEqualTo(old);
    assertThat(audit.service().idempotencyKeys().purgeExpired()).isZero();
  }

  /** A key row as a try of tenant acme wrote it, holding the key until {@code claimedUntil}. */
  private static void keyRow(
      String key,
      String text,
      String requestId,
      String eventId,
      Instant submittedAt,
      String claimedUntil)
      throws Exception {
    String digest =
        IdempotencyKeys.fingerprint(
            new Submission(MARK + " " + text, "acme", null, null, 4, null, null, null, null, null));
    audit.execute(
        "insert into submit_idempotency_key (tenant_id, idempotency_key, body_sha256, request_id,"
            + " event_id, submitted_at, created_at, expires_at, claimed_until) values ('acme', '"
            + key
            + "', '"
            + digest
            + "', '"
            + requestId
            + "', '"
            + eventId
            + "', '"
            + submittedAt
            + "', now(), now() + interval '24 hours', "
            + claimedUntil
            + ")");
  }

  private static String body(String text, int maxTokens) {
    return "{\"prompt\":\"" + MARK + " " + text + "\",\"maxTokens\":" + maxTokens + "}";
  }

  private static HttpResponse<String> submit(String token, String key, String body)
      throws Exception {
    return audit.send(
        audit
            .request("/api/v1/requests", token)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
  }

  /**
   * What gen.requests holds under these request ids, read until it has been quiet for 2 s after the
   * first (so that a second copy would show).
   */
  private static List<GenerationRequest> written(String... requestIds) {
    return TopicReader.untilQuiet(
            IntegrationInfrastructure.get().kafkaClientProperties(),
            Topics.GENERATION_REQUESTS.name(),
            List.of(requestIds),
            Duration.ofSeconds(2),
            Duration.ofSeconds(20))
        .stream()
        .map(bytes -> Topics.GENERATION_REQUESTS.codec().decode(bytes))
        .toList();
  }
}
