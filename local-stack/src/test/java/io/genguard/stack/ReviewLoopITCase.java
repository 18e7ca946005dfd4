package io.genguard.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.events.v1.RetractionBasis;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TopicReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * The review loop through every real stage of the embedded stack: a request whose output policy
 * holds for review reaches the audit service's queue; a reviewer approves it over the API; the
 * decision goes to review.decisions; the release gate publishes the output on content.released. A
 * second held output is rejected and ends on content.quarantined.
 */
class ReviewLoopITCase {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The echo backend outputs the prompt itself. Text mostly outside the Latin script is something
   * the English scorers cannot judge, so the default policy's screening holds it for review.
   */
  private static final String HELD_TEXT = "Это короткое сообщение о погоде на завтра";

  /** Blocked on its scores: the verdict a reviewer asks to have explained. */
  private static final String BLOCKED_TEXT =
      "shut up you worthless stupid bitch, nobody wants you here";

  /** Held like {@link #HELD_TEXT}, then erased. */
  private static final String ERASED_TEXT = "Мой номер телефона и адрес для доставки завтра";

  private static final String TENANT = "review-loop";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private String api;

  @Test
  void shouldReleaseAnApprovedOutputAndQuarantineARejectedOne() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String jdbcUrl = infra.createDatabase("review_loop_it");
    StackConfig config = SharedServers.stackOn(jdbcUrl);

    try (GenGuardStack stack = GenGuardStack.start(config)) {
      api = "http://127.0.0.1:" + stack.httpPort();
      String submitter = stack.audit().issueToken(Role.SUBMITTER, TENANT, "sam").token();
      String reviewer = stack.audit().issueToken(Role.REVIEWER, TENANT, "rita").token();

      String approved = submit(submitter, HELD_TEXT);
      String rejected = submit(submitter, HELD_TEXT + " и ещё немного");
      String blocked = submit(submitter, BLOCKED_TEXT);
      String erased = submit(submitter, ERASED_TEXT);
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> queued(reviewer).containsAll(List.of(approved, rejected, erased)));

      // A held output whose request is erased (a data subject's request) is never released: the
      // gate, told through the outbox, quarantines it without its text, and the audit store
      // erases the gate's outcome too, which arrived after the erasure.
      String admin = stack.audit().issueToken(Role.ADMIN, TENANT, "ada").token();
      HttpResponse<String> erasure =
          post(admin, "/api/v1/requests/" + erased + "/erase", "{\"reason\":\"DSR-2026-300\"}");
      assertThat(erasure.statusCode()).as(erasure.body()).isEqualTo(200);
      // The stack gave the request-data topics the default week; the answer says what that means.
      JsonNode copies = JSON.readTree(erasure.body()).path("kafkaCopies");
      assertThat(Instant.parse(copies.path("goneBy").asText()))
          .isAfter(Instant.now().plus(Duration.ofDays(7)))
          .isBefore(Instant.now().plus(Duration.ofDays(9)));
      assertThat(copies.path("basis").asText()).contains("retention.ms 604800000");
      assertThat(
              post(reviewer, "/api/v1/reviews/" + erased + "/approve", "{\"note\":\"too late\"}")
                  .statusCode())
          .as("its review item went with the erasure")
          .isEqualTo(404);
      List<ReleaseGateOutcome> erasedOutcomes = outcomes(infra, Topics.CONTENT_QUARANTINED, erased);
      assertThat(erasedOutcomes)
          .singleElement()
          .satisfies(
              outcome -> {
                assertThat(outcome.getBasis()).isEqualTo(GateBasis.ERASURE);
                assertThat(outcome.getText()).isEmpty();
              });
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> stack.audit().eraseLateRecords() > 0);
      JsonNode removed = story(admin, erased);
      assertThat(removed.path("status").asText()).isEqualTo("CONTENT_REMOVED");
      assertThat(removed.path("removals")).hasSize(2);
      assertThat(removed.toString()).doesNotContain(ERASED_TEXT);

      // Why the blocked output was held: its recorded output judged again, then explained.
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> story(reviewer, blocked).path("status").asText().equals("QUARANTINED"));
      HttpResponse<String> response = get(reviewer, "/api/v1/requests/" + blocked + "/explanation");
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonNode explanation = JSON.readTree(response.body());
      assertThat(explanation.path("decision").asText()).isEqualTo("BLOCK");
      assertThat(explanation.path("status").asText()).as(response.body()).isEqualTo("EXPLAINED");
      assertThat(explanation.path("detail").asText()).contains("every field equal");
      assertThat(explanation.path("reasons")).isNotEmpty();
      for (JsonNode reason : explanation.path("reasons")) {
        for (JsonNode word : reason.path("evidence")) {
          // A word of the output, and the reason's score falls without it.
          assertThat(BLOCKED_TEXT).containsIgnoringCase(word.path("word").asText());
          assertThat(word.path("scoreWithout").asDouble())
              .isLessThan(reason.path("score").asDouble());
        }
      }
      assertThat(explanation.path("reasons").findValues("evidence"))
          .anySatisfy(words -> assertThat(words).isNotEmpty());
      // Held for a language the scorers do not read: no category to explain, and it says so.
      JsonNode screened =
          JSON.readTree(get(reviewer, "/api/v1/requests/" + approved + "/explanation").body());
      assertThat(screened.path("decision").asText()).isEqualTo("REVIEW");
      assertThat(screened.path("status").asText()).isEqualTo("EXPLAINED");
      assertThat(screened.path("reasons")).isEmpty();

      JsonNode held = story(reviewer, approved);
      assertThat(held.path("status").asText()).isEqualTo("HELD_FOR_REVIEW");
      assertThat(held.path("verdicts").get(0).path("decision").asText()).isEqualTo("REVIEW");
      assertThat(held.path("outputs").get(0).path("text").asText()).isEqualTo(HELD_TEXT);

      // Decided on the verdict the item showed, as the UI does: the gate releases on it.
      String verdictId =
          JSON.readTree(get(reviewer, "/api/v1/reviews/" + approved).body())
              .path("verdictId")
              .asText();
      assertThat(verdictId).isEqualTo(held.path("verdicts").get(0).path("verdictId").asText());
      assertThat(
              post(
                      reviewer,
                      "/api/v1/reviews/" + approved + "/approve",
                      "{\"note\":\"a weather report\",\"verdictId\":\"" + verdictId + "\"}")
                  .statusCode())
          .isEqualTo(202);
      assertThat(
              post(
                      reviewer,
                      "/api/v1/reviews/" + rejected + "/reject",
                      "{\"note\":\"not for this audience\"}")
                  .statusCode())
          .isEqualTo(202);

      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  story(reviewer, approved).path("status").asText().equals("RELEASED")
                      && story(reviewer, rejected).path("status").asText().equals("QUARANTINED"));
      JsonNode released = story(reviewer, approved);
      assertThat(released.path("reviews").get(0).path("reviewer").asText()).isEqualTo("rita");
      assertThat(released.path("reviewItem").path("state").asText()).isEqualTo("RELEASED");

      // What consumers of the topics see, read from Kafka itself.
      List<ReleaseGateOutcome> releasedTopic =
          outcomes(infra, Topics.CONTENT_RELEASED, approved, rejected, erased);
      assertThat(releasedTopic).as("the erased request's output is not among them").hasSize(1);
      assertThat(releasedTopic.get(0).getRequestId()).isEqualTo(approved);
      assertThat(releasedTopic.get(0).getBasis()).isEqualTo(GateBasis.REVIEW);
      assertThat(releasedTopic.get(0).getText().toString()).isEqualTo(HELD_TEXT);
      // The outcome names the review; who decided and their note stay in the audit store.
      String reviewId = released.path("reviews").get(0).path("reviewId").asText();
      assertThat(releasedTopic.get(0).getReasons())
          .contains("approved in review " + reviewId)
          .noneSatisfy(reason -> assertThat(reason).contains("rita"))
          .noneSatisfy(reason -> assertThat(reason).contains("a weather report"));
      List<ReleaseGateOutcome> quarantined =
          outcomes(infra, Topics.CONTENT_QUARANTINED, approved, rejected);
      assertThat(quarantined)
          .extracting(ReleaseGateOutcome::getRequestId)
          .containsExactly(rejected);

      // What was released and why, proven to someone outside with the anchor keys alone: the
      // whole story of the approved output, from the request to the release, in one bundle.
      String compliance = stack.audit().issueToken(Role.COMPLIANCE, TENANT, "cora").token();
      HttpResponse<String> evidence = get(compliance, "/api/v1/requests/" + approved + "/evidence");
      assertThat(evidence.statusCode()).as(evidence.body()).isEqualTo(200);
      VerificationKeyRing keys =
          VerificationKeyRing.parse(
              Files.readString(AnchorLog.publicKeyFile(stack.anchorFile())), "stack anchor keys");
      EvidenceCheck.Result proof = EvidenceCheck.check(evidence.body(), keys);
      assertThat(proof.complete()).as(proof.summary()).isTrue();
      assertThat(proof.records())
          .extracting(EvidenceCheck.RecordFinding::eventType)
          .contains(
              "GenerationRequest",
              "GenerationOutput",
              "ModerationVerdict",
              "ReviewDecision",
              "ReleaseGateOutcome",
              "ApiAction");
      assertThat(evidence.body())
          .contains("approved in review " + reviewId)
          .contains("a weather report"); // the ReviewDecision record keeps the note
      // And what was erased: the records' places, both erasures and the notice that told the gate.
      // Every 5 s: each bundle takes one of the tenant's evidence budget (30, then one every
      // 10 s; 429 beyond it), so both waits and the calls after them stay within it even when
      // each wait runs its whole minute.
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofSeconds(5))
          .until(
              () ->
                  JSON.readTree(get(compliance, "/api/v1/requests/" + erased + "/evidence").body())
                      .path("records")
                      .findValuesAsText("eventType")
                      .contains("ErasureNotice"));
      HttpResponse<String> erasedEvidence =
          get(compliance, "/api/v1/requests/" + erased + "/evidence");
      EvidenceCheck.Result erasedProof = EvidenceCheck.check(erasedEvidence.body(), keys);
      assertThat(erasedProof.complete()).as(erasedProof.summary()).isTrue();
      assertThat(erasedEvidence.body()).doesNotContain(ERASED_TEXT);
      // The erasure's action record, proven with the rest, says by when Kafka drops the copies
      // (in the record's JSON text, nested and escaped: the name and the exact time are there).
      assertThat(erasedEvidence.body())
          .contains("kafkaCopiesGoneBy", copies.path("goneBy").asText());

      // The approved output turns out to be wrong for this audience: an admin takes it down. The
      // notice reaches content.retractions through the outbox, for whoever published it; once.
      String path = "/api/v1/requests/" + approved + "/retract";
      assertThat(post(admin, path, "{}").statusCode()).as("a reason is required").isEqualTo(400);
      assertThat(post(reviewer, path, "{\"reason\":\"x\"}").statusCode())
          .as("taking down is for admins")
          .isEqualTo(403);
      assertThat(post(admin, "/api/v1/requests/" + rejected + "/retract", "{\"reason\":\"x\"}"))
          .extracting(HttpResponse::statusCode)
          .as("nothing of it was released")
          .isEqualTo(409);
      HttpResponse<String> retraction =
          post(admin, path, "{\"reason\":\"wrong audience, ticket T-1182\"}");
      assertThat(retraction.statusCode()).as(retraction.body()).isEqualTo(201);
      JsonNode retracted = JSON.readTree(retraction.body());
      assertThat(retracted.path("basis").asText()).isEqualTo("TAKEDOWN");
      assertThat(post(admin, path, "{\"reason\":\"again\"}").body())
          .as("one retraction per release")
          .contains("retracted already", retracted.path("actionId").asText());
      List<ContentRetraction> notices =
          outcomes(infra, Topics.CONTENT_RETRACTIONS, approved, rejected, erased);
      assertThat(notices)
          .singleElement()
          .satisfies(
              notice -> {
                assertThat(notice.getRequestId()).isEqualTo(approved);
                assertThat(notice.getOutputId()).isEqualTo(releasedTopic.get(0).getOutputId());
                assertThat(notice.getReleasedEventId())
                    .isEqualTo(releasedTopic.get(0).getEventId());
                assertThat(notice.getBasis()).isEqualTo(RetractionBasis.TAKEDOWN);
                assertThat(notice.getActionId()).isEqualTo(retracted.path("actionId").asText());
              });
      JsonNode takenDown = story(compliance, approved);
      assertThat(takenDown.path("status").asText()).isEqualTo("RETRACTED");
      assertThat(takenDown.path("retractions").get(0).path("reason").asText())
          .isEqualTo("wrong audience, ticket T-1182");
      // The notice comes back from the topic into the chain, proven with the rest.
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofSeconds(5))
          .until(
              () ->
                  JSON.readTree(
                          get(compliance, "/api/v1/requests/" + approved + "/evidence").body())
                      .path("records")
                      .findValuesAsText("eventType")
                      .contains("ContentRetraction"));
      EvidenceCheck.Result retractedProof =
          EvidenceCheck.check(
              get(compliance, "/api/v1/requests/" + approved + "/evidence").body(), keys);
      assertThat(retractedProof.complete()).as(retractedProof.summary()).isTrue();
    }
  }

  private String submit(String token, String prompt) throws Exception {
    HttpResponse<String> response =
        post(
            token,
            "/api/v1/requests",
            JSON.createObjectNode().put("prompt", prompt).put("backend", "echo").toString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    return JSON.readTree(response.body()).path("requestId").asText();
  }

  private List<String> queued(String token) throws Exception {
    List<String> ids = new ArrayList<>();
    JsonNode page = JSON.readTree(get(token, "/api/v1/reviews?limit=200").body());
    page.path("items").forEach(item -> ids.add(item.path("requestId").asText()));
    return ids;
  }

  private JsonNode story(String token, String requestId) throws Exception {
    return JSON.readTree(get(token, "/api/v1/requests/" + requestId).body());
  }

  private HttpResponse<String> get(String token, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api + path))
            .header("Authorization", "Bearer " + token)
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String token, String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api + path))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Every event on {@code topic} for the given requests (committed transactions only), read until
   * the topic has been quiet for 3 s after the first, so duplicates would show.
   */
  private static <T extends SpecificRecord> List<T> outcomes(
      IntegrationInfrastructure infra, Topic<String, T> topic, String... requestIds) {
    return TopicReader.untilQuiet(
            infra.kafkaClientProperties(),
            topic.name(),
            List.of(requestIds),
            Duration.ofSeconds(3),
            Duration.ofSeconds(60))
        .stream()
        .map(topic.codec()::decode)
        .toList();
  }
}
