package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.MovingClock;
import io.genguard.testsupport.TopicReader;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The review, explanation and unfinished-flow routes take every request id the generator takes (a
 * space, '/', '%', "%2B", other scripts; percent-encoded in the path), as the takedown routes do
 * ({@link AnyRequestIdTakedownITCase}): on a running audit service over real PostgreSQL and Kafka,
 * a held output under such an id is read, claimed and decided, a verdict is explained by the real
 * moderator, and an unanswered request is sent again and another dismissed.
 */
class AnyRequestIdReviewITCase {
  private static final Instant START = Instant.now().minusSeconds(600);
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final String HELD = "held for review/ 50% " + RUN;
  private static final String REJECTED = "sale%2B/ é 注文 " + RUN;
  private static final String EXPLAINED = "explain me/ café %41 " + RUN;
  private static final String LOST = "lost request/ 100% " + RUN;
  private static final String GIVEN_UP = "given up/ %2F é " + RUN;

  /** Held for initech, paged through one at a time: '/', a space, and an id of 1,000 bytes. */
  private static final List<String> QUEUED =
      List.of("queue a/b " + RUN, "queue c d/" + RUN, "q".repeat(991) + RUN + "/");

  private static final String HELD_TEXT =
      "shut up you worthless stupid bitch, nobody wants you here";

  @TempDir static Path keys;
  private static MovingClock clock;
  private static RunningAuditService audit;
  private static String reviewer;

  @BeforeAll
  static void start() throws Exception {
    clock = new MovingClock(START);
    audit =
        RunningAuditService.start(
            "any_request_id_review_it",
            clock,
            config -> config.withExplanations(keys, null).withFlowDeadlines(15, 30));
    reviewer = audit.token(Role.REVIEWER, "acme", "rita");
    for (String id : List.of(HELD, REJECTED)) {
      audit.seed(AuditEvents.story(Scenario.of(id, "acme", Decision.REVIEW, START)));
    }
    for (int i = 0; i < QUEUED.size(); i++) {
      audit.seed(
          AuditEvents.story(
              Scenario.of(QUEUED.get(i), "initech", Decision.REVIEW, START.plusSeconds(i))));
    }
    try (BatchModerator moderator =
        ModerationPipelines.factory("ngram-logistic", null, keys).create()) {
      GenerationOutput output =
          AuditEvents.output(
              Scenario.of(EXPLAINED, "acme", Decision.RELEASE, START).withText(HELD_TEXT));
      ModerationVerdict verdict = moderator.moderate(List.of(output)).get(0);
      audit.seed(
          List.of(
              AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), output),
              AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
    }
    // Requests that no generator answered: the watch finds them once the deadline has passed.
    for (String id : List.of(LOST, GIVEN_UP)) {
      GenerationRequest request =
          AuditEvents.request(Scenario.of(id, "acme", Decision.RELEASE, START));
      audit.seed(List.of(AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), request)));
    }
    clock.advance(Duration.ofMinutes(16));
    audit.service().checkFlows();
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldReadClaimAndDecideAHeldOutputWhateverItsIdHolds() throws Exception {
    String held = "/api/v1/reviews/" + segment(HELD);
    HttpResponse<String> item = audit.get(held, reviewer);
    assertThat(item.statusCode()).as(item.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(item).path("requestId").asText()).isEqualTo(HELD);
    HttpResponse<String> claimed = audit.post(held + "/claim", reviewer, null);
    assertThat(claimed.statusCode()).as(claimed.body()).isEqualTo(200);
    HttpResponse<String> approved =
        audit.post(held + "/approve", reviewer, "{\"note\": \"quoted from the news\"}");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(202);
    assertThat(RunningAuditService.json(approved).path("state").asText()).isEqualTo("DECIDED");

    String rejected = "/api/v1/reviews/" + segment(REJECTED);
    HttpResponse<String> unclaimed = audit.post(rejected + "/claim", reviewer, null);
    assertThat(unclaimed.statusCode()).as(unclaimed.body()).isEqualTo(200);
    unclaimed = audit.post(rejected + "/unclaim", reviewer, null);
    assertThat(unclaimed.statusCode()).as(unclaimed.body()).isEqualTo(200);
    HttpResponse<String> no = audit.post(rejected + "/reject", reviewer, "{}");
    assertThat(no.statusCode()).as(no.body()).isEqualTo(202);

    for (String id : List.of(HELD, REJECTED)) {
      assertThat(
              audit.count("select count(*) from review_outbox where request_id = " + literal(id)))
          .as("the decision on " + id + " is sent")
          .isEqualTo(1);
    }
    // "%2B" is the id's own three characters, not a '+' the router decoded.
    assertThat(audit.get("/api/v1/reviews/" + segment("sale+/ é 注文 " + RUN), reviewer).statusCode())
        .isEqualTo(404);
  }

  @Test
  void shouldPageTheReviewQueuePastAnItemWhateverItsIdHolds() throws Exception {
    String initech = audit.token(Role.REVIEWER, "initech", "ida");
    List<String> paged = new java.util.ArrayList<>();
    String cursor = "";
    do {
      HttpResponse<String> page = audit.get("/api/v1/reviews?limit=1&cursor=" + cursor, initech);
      assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
      JsonNode body = RunningAuditService.json(page);
      body.path("items").forEach(item -> paged.add(item.path("requestId").asText()));
      cursor = body.path("nextCursor").asText("");
    } while (!cursor.isEmpty() && paged.size() < 10);
    assertThat(paged).containsExactlyElementsOf(QUEUED);
  }

  @Test
  void shouldExplainAVerdictWhateverItsRequestIdHolds() throws Exception {
    HttpResponse<String> explained =
        audit.get("/api/v1/requests/" + segment(EXPLAINED) + "/explanation", reviewer);
    assertThat(explained.statusCode()).as(explained.body()).isEqualTo(200);
    JsonNode body = RunningAuditService.json(explained);
    assertThat(body.path("status").asText()).as(body.toString()).isEqualTo("EXPLAINED");
    assertThat(body.path("reasons")).isNotEmpty();
  }

  @Test
  void shouldSendAgainAndDismissAnUnansweredRequestWhateverItsIdHolds() throws Exception {
    String admin = audit.token(Role.ADMIN, "acme", "ada");
    HttpResponse<String> resent =
        audit.post("/api/v1/audit/unfinished/" + segment(LOST) + "/resend", admin, "");
    assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(resent).path("requestId").asText()).isEqualTo(LOST);
    assertThat(RunningAuditService.json(resent).path("state").asText()).isEqualTo("SENT_AGAIN");
    List<byte[]> sent =
        TopicReader.until(
            IntegrationInfrastructure.get().kafkaClientProperties(),
            Topics.GENERATION_REQUESTS.name(),
            List.of(LOST),
            1,
            Duration.ofSeconds(30));
    assertThat(Topics.GENERATION_REQUESTS.codec().decode(sent.get(0)).getRequestId())
        .isEqualTo(LOST);

    HttpResponse<String> dismissed =
        audit.post(
            "/api/v1/audit/unfinished/" + segment(GIVEN_UP) + "/dismiss",
            admin,
            "{\"kind\": \"NO_ANSWER\", \"reason\": \"lost in the outage\"}");
    assertThat(dismissed.statusCode()).as(dismissed.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(dismissed).path("requestId").asText()).isEqualTo(GIVEN_UP);
    assertThat(RunningAuditService.json(dismissed).path("state").asText()).isEqualTo("DISMISSED");
    for (String action : List.of("unfinished.resend", "unfinished.dismiss")) {
      String id = action.endsWith("resend") ? LOST : GIVEN_UP;
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = '"
                      + action
                      + "' and request_id = "
                      + literal(id)))
          .as(action)
          .isEqualTo(1);
    }
  }

  /** {@code id} as one path segment: percent-encoded UTF-8, '+' kept as a literal plus. */
  private static String segment(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String literal(String id) {
    return "'" + id.replace("'", "''") + "'";
  }
}
