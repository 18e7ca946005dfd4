package io.genguard.audit.review;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.AuditService;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The review queue over HTTP: list, claim, approve or reject, and the decision on review.decisions.
 */
class ReviewQueueITCase {
  private static final Instant NOW = Instant.now();
  private static RunningAuditService audit;
  private static String rita;
  private static String ravi;
  private static KafkaConsumer<String, byte[]> decisions;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("review_queue_it");
    rita = audit.token(Role.REVIEWER, "acme", "rita");
    ravi = audit.token(Role.REVIEWER, "acme", "ravi");
    Properties props = new Properties();
    props.putAll(IntegrationInfrastructure.get().kafkaClientProperties());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "review-queue-it-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    decisions = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    decisions.subscribe(List.of(Topics.REVIEW_DECISIONS.name()));
  }

  @AfterAll
  static void stop() {
    decisions.close();
    audit.close();
  }

  private static final List<ReviewDecision> SEEN = new ArrayList<>();

  private static ReviewDecision decisionOnKafka(String requestId) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              for (ConsumerRecord<String, byte[]> record : decisions.poll(Duration.ofMillis(200))) {
                SEEN.add(Topics.REVIEW_DECISIONS.codec().decode(record.value()));
              }
              return SEEN.stream().anyMatch(d -> d.getRequestId().equals(requestId));
            });
    return SEEN.stream().filter(d -> d.getRequestId().equals(requestId)).findFirst().orElseThrow();
  }

  @Test
  void shouldListHeldOutputsOldestFirstWithWhatAReviewerNeedsToDecide() throws Exception {
    audit.seed(
        AuditEvents.story(Scenario.of("queue-old", "acme", Decision.REVIEW, NOW.minusSeconds(60))));
    audit.seed(AuditEvents.story(Scenario.of("queue-new", "acme", Decision.REVIEW, NOW)));
    audit.seed(AuditEvents.story(Scenario.of("queue-released", "acme", Decision.RELEASE, NOW)));

    JsonNode page = json(audit.get("/api/v1/reviews?limit=200", rita));

    List<String> ids = new ArrayList<>();
    page.path("items").forEach(item -> ids.add(item.path("requestId").asText()));
    assertThat(ids).contains("queue-old", "queue-new").doesNotContain("queue-released");
    assertThat(ids.indexOf("queue-old")).isLessThan(ids.indexOf("queue-new"));
    JsonNode item = page.path("items").get(ids.indexOf("queue-old"));
    assertThat(item.path("decision").asText()).isEqualTo("REVIEW");
    assertThat(item.path("excerpt").asText()).startsWith("Generated text for queue-old");
    // How long the whole output is, so a reader of the excerpt can tell what it leaves out, and
    // what the hold rests on (a verdict here; VERDICT_TIMEOUT when none came in time).
    assertThat(item.path("textLength").asInt())
        .isEqualTo("Generated text for queue-old, which mentions a group.".length());
    assertThat(item.path("holdBasis").asText()).isEqualTo("VERDICT");
    assertThat(item.path("categoryScores").path("hate").asDouble()).isEqualTo(0.71);
    assertThat(item.path("groups").get(0).asText()).isEqualTo("religion:muslim");
    assertThat(item.path("policyVersion").asText()).isEqualTo("2026.11-test");
  }

  @Test
  void shouldRejectWhatWaitedLongerThanTheExpiryUnlessAReviewerHoldsAClaimOnIt() throws Exception {
    try (RunningAuditService expiring =
        RunningAuditService.start(
            "review_expiry_it", Clock.systemUTC(), c -> c.withReviewExpiry(2))) {
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      expiring.service().bindMetrics(metrics);
      Instant now = Instant.now();
      expiring.seed(
          AuditEvents.story(
              Scenario.of("expire-old", "acme", Decision.REVIEW, now.minus(Duration.ofHours(3)))));
      expiring.seed(
          AuditEvents.story(
              Scenario.of(
                  "expire-claimed", "acme", Decision.REVIEW, now.minus(Duration.ofHours(5)))));
      expiring.seed(
          AuditEvents.story(
              Scenario.of(
                  "expire-young", "acme", Decision.REVIEW, now.minus(Duration.ofMinutes(90)))));
      String reviewer = expiring.token(Role.REVIEWER, "acme", "rita");
      assertThat(expiring.post("/api/v1/reviews/expire-claimed/claim", reviewer, null).statusCode())
          .isEqualTo(200);
      JsonNode young = json(expiring.get("/api/v1/reviews/expire-young", reviewer));
      assertThat(Instant.parse(young.path("expiresAt").asText()))
          .as("a reviewer sees when the item will be rejected unreviewed")
          .isEqualTo(Instant.parse(young.path("heldAt").asText()).plus(Duration.ofHours(2)));
      assertThat(json(expiring.get("/api/v1/reviews?limit=200", reviewer)).path("items").toString())
          .contains("\"expiresAt\"");

      assertThat(expiring.service().expireReviews()).isEqualTo(1);
      assertThat(expiring.service().expireReviews()).as("decided once").isZero();

      JsonNode old = json(expiring.get("/api/v1/reviews/expire-old", reviewer));
      assertThat(old.path("state").asText()).isEqualTo("DECIDED");
      assertThat(old.path("action").asText()).isEqualTo("REJECT");
      assertThat(old.has("expiresAt")).as("decided: no deadline any more").isFalse();
      ReviewDecision decision = decisionOnKafka("expire-old");
      assertThat(decision.getAction()).isEqualTo(ReviewAction.REJECT);
      assertThat(decision.getReviewer()).isEqualTo(ReviewQueue.EXPIRY_REVIEWER);
      assertThat(decision.getNote()).startsWith("Not reviewed within 2 hours of being held");
      assertThat(
              json(expiring.get("/api/v1/reviews/expire-claimed", reviewer)).path("state").asText())
          .as("a reviewer is looking at it")
          .isEqualTo("PENDING");
      assertThat(
              json(expiring.get("/api/v1/reviews/expire-young", reviewer)).path("state").asText())
          .isEqualTo("PENDING");
      assertThat(
              expiring.count(
                  "select count(*) from api_action where action = 'review.reject'"
                      + " and request_id = 'expire-old' and caller_name = 'review-expiry'"))
          .isEqualTo(1);
      assertThat(metrics.get(AuditService.REVIEWS_EXPIRED_METRIC).functionCounter().count())
          .isEqualTo(1);
    }
  }

  @Test
  void shouldRejectTheOtherOverdueItemsAndCountThemWhenOneCannotBeRejected() throws Exception {
    try (RunningAuditService expiring =
        RunningAuditService.start(
            "review_expiry_failure_it", Clock.systemUTC(), c -> c.withReviewExpiry(2))) {
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      expiring.service().bindMetrics(metrics);
      Instant now = Instant.now();
      // Oldest first: the sweep meets the broken item between the other two.
      List<String> due = List.of("expire-first", "expire-broken", "expire-last");
      for (int i = 0; i < due.size(); i++) {
        expiring.seed(
            AuditEvents.story(
                Scenario.of(
                    due.get(i), "acme", Decision.REVIEW, now.minus(Duration.ofHours(5 - i)))));
      }
      // One item whose rejection fails in the database, as a deadlock or a lock timeout would.
      expiring.execute(
          "create function refuse_expiry_test() returns trigger language plpgsql as"
              + " $$ begin raise exception 'item % cannot be changed', old.request_id; end $$");
      expiring.execute(
          "create trigger refuse_expiry_test before update on review_item for each row"
              + " when (old.request_id = 'expire-broken') execute function refuse_expiry_test()");

      assertThat(expiring.service().expireReviews())
          .as("the items before and after the one that failed")
          .isEqualTo(2);

      assertThat(
              expiring.count(
                  "select count(*) from review_item where state = 'DECIDED' and action = 'REJECT'"
                      + " and request_id in ('expire-first', 'expire-last')"))
          .isEqualTo(2);
      assertThat(
              expiring.count(
                  "select count(*) from review_item where request_id = 'expire-broken'"
                      + " and state = 'PENDING'"))
          .as("left to the next sweep")
          .isEqualTo(1);
      assertThat(metrics.get(AuditService.REVIEWS_EXPIRED_METRIC).functionCounter().count())
          .as("every rejection made is counted")
          .isEqualTo(2);
    }
  }

  /**
   * A reviewer's call and a writer that appends to the hash chain and then changes the same item
   * (the ingestor closing it on a gate outcome, an erasure, a retention run) take the chain lock
   * and the item's row lock in the same order, so neither is aborted as a deadlock: the call waits
   * for the writer, then finds the item closed.
   */
  @Test
  void shouldLetAReviewerWaitForAWriterThatHoldsTheChainInsteadOfDeadlocking() throws Exception {
    try (RunningAuditService own = RunningAuditService.start("review_lock_order_it")) {
      String reviewer = own.token(Role.REVIEWER, "acme", "rita");
      for (String id : List.of("order-approve", "order-claim", "order-unclaim")) {
        own.seed(AuditEvents.story(Scenario.of(id, "acme", Decision.REVIEW, NOW)));
      }
      assertThat(own.post("/api/v1/reviews/order-unclaim/claim", reviewer, null).statusCode())
          .isEqualTo(200);

      for (String[] call :
          List.of(
              new String[] {"order-approve", "approve"},
              new String[] {"order-claim", "claim"},
              new String[] {"order-unclaim", "unclaim"})) {
        HttpResponse<String> answer = closedByAWriterMeanwhile(own, reviewer, call[0], call[1]);
        assertThat(answer.statusCode()).as(call[1] + ": " + answer.body()).isEqualTo(409);
        assertThat(json(answer).path("error").asText())
            .contains("is no longer held for review (the release gate decided it; now RELEASED)");
      }
      assertThat(own.count("select count(*) from review_outbox where request_id = 'order-approve'"))
          .as("no decision sent for an item the gate closed")
          .isZero();
    }
  }

  /**
   * Holds the chain lock as a writer does, lets the reviewer's call ({@code action} on {@code
   * requestId}) block, then closes the item as the gate's final outcome does and commits.
   */
  private static HttpResponse<String> closedByAWriterMeanwhile(
      RunningAuditService service, String token, String requestId, String action) throws Exception {
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try (Connection writer = service.service().database().dataSource().getConnection()) {
      writer.setAutoCommit(false);
      ChainAppender.lock(writer);
      Future<HttpResponse<String>> answer =
          caller.submit(
              () ->
                  service.post(
                      "/api/v1/reviews/" + requestId + "/" + action,
                      token,
                      action.equals("approve") ? "{}" : null));
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  service.count(
                          "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid"
                              + " where l.locktype = 'advisory' and not l.granted"
                              + " and a.datname = current_database()")
                      > 0);
      try (PreparedStatement close =
          writer.prepareStatement(
              "update review_item set state = 'RELEASED' where request_id = ?"
                  + " and state in ('PENDING', 'DECIDED')")) {
        close.setString(1, requestId);
        assertThat(close.executeUpdate()).isEqualTo(1);
        writer.commit();
      } catch (SQLException e) {
        writer.rollback();
        fail(
            "the writer's update of "
                + requestId
                + " failed with SQLState "
                + e.getSQLState()
                + " (40P01: a deadlock with the reviewer's "
                + action
                + ")",
            e);
      }
      return answer.get(30, TimeUnit.SECONDS);
    } finally {
      caller.shutdownNow();
    }
  }

  @Test
  void shouldPageThroughTheQueueWithoutRepeatsOrGaps() throws Exception {
    for (int i = 0; i < 7; i++) {
      audit.seed(
          AuditEvents.story(Scenario.of("page-" + i, "paged", Decision.REVIEW, NOW.plusMillis(i))));
    }
    String token = audit.token(Role.REVIEWER, "paged", "pat");
    List<String> seen = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page =
          json(
              audit.get(
                  "/api/v1/reviews?limit=3" + (cursor == null ? "" : "&cursor=" + cursor), token));
      page.path("items").forEach(item -> seen.add(item.path("requestId").asText()));
      cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asText();
    } while (cursor != null);

    assertThat(seen)
        .containsExactly("page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6");
  }

  @Test
  void shouldSendAnApprovalToReviewDecisionsAndCloseTheItemWhenTheGateReleases() throws Exception {
    Scenario held = Scenario.of("approve-me", "acme", Decision.REVIEW, NOW);
    audit.seed(AuditEvents.story(held));

    HttpResponse<String> approved =
        audit.post(
            "/api/v1/reviews/approve-me/approve",
            rita,
            "{\"note\":\"quoted from a news article\"}");

    assertThat(approved.statusCode()).isEqualTo(202);
    JsonNode body = json(approved);
    assertThat(body.path("state").asText()).isEqualTo("DECIDED");
    ReviewDecision decision = decisionOnKafka("approve-me");
    assertThat(decision.getAction()).isEqualTo(ReviewAction.APPROVE);
    assertThat(decision.getReviewer()).isEqualTo("rita");
    assertThat(decision.getNote()).isEqualTo("quoted from a news article");
    assertThat(decision.getOutputId()).isEqualTo(held.outputId());
    assertThat(decision.getTenantId()).isEqualTo("acme");
    assertThat(decision.getReviewId()).isEqualTo(body.path("reviewId").asText());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                audit.count(
                        "select count(*) from review_outbox where request_id = 'approve-me' and published_at is not null")
                    == 1);

    HttpResponse<String> again = audit.post("/api/v1/reviews/approve-me/reject", ravi, "{}");
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(json(again).path("error").asText()).contains("already reviewed (APPROVE by rita");

    // The gate's outcome, ingested, closes the item.
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.gateOutcome(
                    held,
                    GateOutcome.RELEASED,
                    GateBasis.REVIEW,
                    decision.getReviewId(),
                    NOW.plusSeconds(1)))));
    JsonNode story = json(audit.get("/api/v1/requests/approve-me", rita));
    assertThat(story.path("status").asText()).isEqualTo("RELEASED");
    assertThat(story.path("reviewItem").path("state").asText()).isEqualTo("RELEASED");
    assertThat(story.path("actions"))
        .extracting(action -> action.path("action").asText())
        .contains("review.approve");
  }

  /** The late REVIEW verdict, and the gate's hold of the output on it. */
  private static List<IncomingEvent> heldOnALateVerdict(Scenario s, String reviewId) {
    return List.of(
        AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(s)),
        AuditEvents.incoming(
            Topics.REVIEW_PENDING.name(),
            AuditEvents.gateOutcome(
                s,
                GateOutcome.HELD_FOR_REVIEW,
                GateBasis.VERDICT,
                reviewId,
                s.at().plusSeconds(90))));
  }

  @Test
  void shouldRefuseADecisionMadeBeforeALateVerdictReachedTheItem() throws Exception {
    // The moderation job was behind: the gate held the output for want of a verdict, and the
    // reviewer opened it.
    Scenario late = Scenario.of("stale-read", "acme", Decision.REVIEW, NOW);
    audit.seed(AuditEvents.heldWithoutVerdict(late));
    JsonNode read = json(audit.get("/api/v1/reviews/stale-read", rita));
    assertThat(read.path("holdBasis").asText()).isEqualTo("VERDICT_TIMEOUT");
    assertThat(read.path("verdictId").asText()).isEmpty();
    // The job caught up: its REVIEW verdict held the output again, on the verdict.
    audit.seed(heldOnALateVerdict(late, null));

    HttpResponse<String> stale =
        audit.post(
            "/api/v1/reviews/stale-read/approve",
            rita,
            "{\"note\":\"nothing wrong\",\"verdictId\":\""
                + read.path("verdictId").asText()
                + "\"}");

    assertThat(stale.statusCode()).isEqualTo(409);
    assertThat(json(stale).path("error").asText())
        .startsWith("A verdict reached this output since you opened it: reload")
        .contains("now held on verdict " + late.verdictId() + " (VERDICT)");
    HttpResponse<String> unsaid =
        audit.post("/api/v1/reviews/stale-read/approve", rita, "{\"note\":\"nothing wrong\"}");
    assertThat(unsaid.statusCode())
        .as("an approval of an output once held for want of a verdict says what it was made on")
        .isEqualTo(400);
    assertThat(json(unsaid).path("error").asText()).contains("needs the verdictId");
    assertThat(
            audit.count(
                "select count(*) from review_item where request_id = 'stale-read' and state = 'PENDING'"))
        .isEqualTo(1);
    assertThat(audit.count("select count(*) from review_outbox where request_id = 'stale-read'"))
        .isZero();

    // Read again, it is decided on the verdict, and says so to the gate and in the chain.
    JsonNode reread = json(audit.get("/api/v1/reviews/stale-read", rita));
    assertThat(reread.path("verdictId").asText()).isEqualTo(late.verdictId());
    HttpResponse<String> approved =
        audit.post(
            "/api/v1/reviews/stale-read/approve",
            rita,
            "{\"verdictId\":\"" + reread.path("verdictId").asText() + "\"}");
    assertThat(approved.statusCode()).isEqualTo(202);
    assertThat(decisionOnKafka("stale-read").getVerdictId()).isEqualTo(late.verdictId());
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'review.approve'"
                    + " and request_id = 'stale-read' and details->>'verdictId' = '"
                    + late.verdictId()
                    + "' and details->>'holdBasis' = 'VERDICT'"
                    + " and details->>'policyVersion' = '2026.11-test'"))
        .isEqualTo(1);
  }

  @Test
  void shouldOpenAnItemAgainWhenTheGateKeepsAnApprovalMadeOnNoVerdictHeld() throws Exception {
    Scenario late = Scenario.of("stale-approved", "acme", Decision.REVIEW, NOW);
    audit.seed(AuditEvents.heldWithoutVerdict(late));
    assertThat(audit.post("/api/v1/reviews/stale-approved/claim", rita, null).statusCode())
        .isEqualTo(200);
    // Approved on no verdict while the audit store had not read the late hold yet.
    HttpResponse<String> approved =
        audit.post("/api/v1/reviews/stale-approved/approve", rita, "{\"verdictId\":\"\"}");
    assertThat(approved.statusCode()).isEqualTo(202);
    ReviewDecision decision = decisionOnKafka("stale-approved");
    assertThat(decision.getVerdictId()).isEmpty();
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'review.approve'"
                    + " and request_id = 'stale-approved' and details->>'verdictId' = ''"
                    + " and details->>'holdBasis' = 'VERDICT_TIMEOUT'"
                    + " and details->>'policyVersion' = ''"))
        .isEqualTo(1);

    // The late hold comes: the decided item keeps what it was decided on.
    audit.seed(heldOnALateVerdict(late, null));
    JsonNode decided = json(audit.get("/api/v1/reviews/stale-approved", rita));
    assertThat(decided.path("state").asText()).isEqualTo("DECIDED");
    assertThat(decided.path("verdictId").asText()).isEmpty();
    assertThat(decided.path("holdBasis").asText()).isEqualTo("VERDICT_TIMEOUT");
    assertThat(decided.path("lateVerdictId").asText()).isEqualTo(late.verdictId());

    // The gate did not release on the approval: it wrote the hold again naming it. The item waits
    // for a person again, on the verdict; a decision read from review.decisions that was made on no
    // verdict (a tool's, say) does not decide it.
    audit.seed(heldOnALateVerdict(late, decision.getReviewId()));
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.REVIEW_DECISIONS.name(),
                ReviewDecision.newBuilder(decision)
                    .setEventId("tool-decision-stale-approved")
                    .setReviewId("tool-review-stale-approved")
                    .build())));
    JsonNode reopened = json(audit.get("/api/v1/reviews/stale-approved", rita));
    assertThat(reopened.path("state").asText()).isEqualTo("PENDING");
    assertThat(reopened.path("verdictId").asText()).isEqualTo(late.verdictId());
    assertThat(reopened.path("holdBasis").asText()).isEqualTo("VERDICT");
    assertThat(reopened.path("decision").asText()).isEqualTo("REVIEW");
    assertThat(reopened.path("action").isNull()).isTrue();
    assertThat(reopened.path("claimedBy").isNull()).as("anyone may decide it").isTrue();
    assertThat(reopened.path("lateVerdictId").isNull()).isTrue();
    JsonNode story = json(audit.get("/api/v1/requests/stale-approved", rita));
    assertThat(story.path("reviews"))
        .as("the approval the gate did not act on stays on record, with what it was made on")
        .anySatisfy(
            review -> {
              assertThat(review.path("reviewId").asText()).isEqualTo(decision.getReviewId());
              assertThat(review.path("verdictId").asText()).isEmpty();
            });
    HttpResponse<String> rejected =
        audit.post(
            "/api/v1/reviews/stale-approved/reject",
            ravi,
            "{\"note\":\"self-harm\",\"verdictId\":\"" + late.verdictId() + "\"}");
    assertThat(rejected.statusCode()).isEqualTo(202);
  }

  @Test
  void shouldReviewEachTenantsItemWhenTwoTenantsShareARequestId() throws Exception {
    // Tenant beta's hold under the same request id, on a verdict of its own.
    Scenario acme = sharedHold("queue-shared", NOW, NOW.plusSeconds(1));
    String bob = audit.token(Role.REVIEWER, "beta", "bob");
    String ada = audit.token(Role.ADMIN, null, "ada");

    // Each tenant's reviewer sees its own item.
    assertThat(json(audit.get("/api/v1/reviews/queue-shared", bob)).path("tenantId").asText())
        .isEqualTo("beta");
    assertThat(json(audit.get("/api/v1/reviews/queue-shared", rita)).path("tenantId").asText())
        .isEqualTo("acme");

    // An admin of no tenant must name whose item it acts on.
    for (HttpResponse<String> ambiguous :
        List.of(
            audit.get("/api/v1/reviews/queue-shared", ada),
            audit.post("/api/v1/reviews/queue-shared/claim", ada, null),
            audit.post("/api/v1/reviews/queue-shared/approve", ada, null))) {
      assertThat(ambiguous.statusCode()).as(ambiguous.body()).isEqualTo(409);
      assertThat(ambiguous.body())
          .contains("more than one tenant (acme, beta)", "tenant\\\" query parameter");
      // The tenants as a list too, as the story's 409 gives them (a client offers each).
      List<String> tenants = new ArrayList<>();
      json(ambiguous).path("tenants").forEach(tenant -> tenants.add(tenant.asText()));
      assertThat(tenants).as(ambiguous.body()).containsExactly("acme", "beta");
    }
    // A tenant's reviewer may not name another tenant's item.
    assertThat(audit.get("/api/v1/reviews/queue-shared?tenant=acme", bob).statusCode())
        .isEqualTo(403);

    // Beta's reviewer rejects beta's item; acme's waits as it was.
    HttpResponse<String> rejected =
        audit.post(
            "/api/v1/reviews/queue-shared/reject",
            bob,
            "{\"verdictId\": \"verdict-beta-queue-shared\"}");
    assertThat(rejected.statusCode()).as(rejected.body()).isEqualTo(202);
    ReviewDecision decision = decisionOnKafka("queue-shared");
    assertThat(decision.getTenantId()).isEqualTo("beta");
    assertThat(decision.getOutputId()).isEqualTo(acme.outputId());
    assertThat(json(audit.get("/api/v1/reviews/queue-shared", bob)).path("state").asText())
        .isEqualTo("DECIDED");
    assertThat(json(audit.get("/api/v1/reviews/queue-shared", rita)).path("state").asText())
        .isEqualTo("PENDING");

    // The admin naming acme claims acme's item.
    HttpResponse<String> claimed =
        audit.post("/api/v1/reviews/queue-shared/claim?tenant=acme", ada, null);
    assertThat(claimed.statusCode()).as(claimed.body()).isEqualTo(200);
    assertThat(json(claimed).path("tenantId").asText()).isEqualTo("acme");
    assertThat(json(claimed).path("claimedBy").asText()).isEqualTo("ada");
  }

  /** Seeds acme's story held for review and beta's hold of its own under the same request id. */
  private static Scenario sharedHold(String requestId, Instant at, Instant betaHeldAt)
      throws Exception {
    Scenario acme = Scenario.of(requestId, "acme", Decision.REVIEW, at);
    audit.seed(AuditEvents.story(acme));
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.REVIEW_PENDING.name(),
                AuditEvents.otherTenantsOutcome(
                    acme, GateOutcome.HELD_FOR_REVIEW, GateBasis.VERDICT, null, betaHeldAt))));
    return acme;
  }

  /**
   * A request's story is one tenant's: a tenant's token reads its own tenant's records under a
   * request id another tenant uses too, never the other's (before the forty-ninth session's fix
   * acme's reviewer read beta's hold and beta's reviewer's action, and beta's got 404).
   */
  @Test
  void shouldShowEachTenantOnlyItsOwnStoryWhenTwoTenantsShareARequestId() throws Exception {
    sharedHold("story-shared", NOW, NOW.plusSeconds(1));
    String bob = audit.token(Role.REVIEWER, "beta", "bob");
    String ada = audit.token(Role.ADMIN, null, "ada");
    HttpResponse<String> claimed = audit.post("/api/v1/reviews/story-shared/claim", bob, null);
    assertThat(claimed.statusCode()).as(claimed.body()).isEqualTo(200);

    HttpResponse<String> acmes = audit.get("/api/v1/requests/story-shared", rita);
    assertThat(acmes.statusCode()).as(acmes.body()).isEqualTo(200);
    JsonNode acmeStory = json(acmes);
    assertThat(acmeStory.path("tenantId").asText()).isEqualTo("acme");
    assertThat(acmes.body()).doesNotContain("gate-beta-story-shared", "\"beta\"", "review.claim");
    assertThat(acmeStory.path("reviewItem").path("state").asText()).isEqualTo("PENDING");
    assertThat(acmeStory.path("reviewItem").path("claimedBy").isNull()).isTrue();

    HttpResponse<String> betas = audit.get("/api/v1/requests/story-shared", bob);
    assertThat(betas.statusCode()).as(betas.body()).isEqualTo(200);
    JsonNode betaStory = json(betas);
    assertThat(betaStory.path("tenantId").asText()).isEqualTo("beta");
    assertThat(betaStory.path("gateOutcomes")).hasSize(1);
    assertThat(betaStory.path("gateOutcomes").get(0).path("eventId").asText())
        .isEqualTo("gate-beta-story-shared");
    assertThat(betaStory.path("reviewItem").path("claimedBy").asText()).isEqualTo("bob");
    assertThat(betaStory.path("actions")).hasSize(1);
    assertThat(betaStory.path("actions").get(0).path("action").asText()).isEqualTo("review.claim");
    assertThat(betas.body()).doesNotContain("\"acme\"");
    assertThat(betaStory.path("outputs")).isEmpty();
    assertThat(betaStory.path("request").isNull()).isTrue();
    // Its hold and its reviewer's claim: none of acme's records.
    assertThat(betaStory.path("auditRecords")).hasSize(2);

    // A token of no tenant names the tenant; a tenant's token may not name another.
    HttpResponse<String> ambiguous = audit.get("/api/v1/requests/story-shared", ada);
    assertThat(ambiguous.statusCode()).as(ambiguous.body()).isEqualTo(409);
    assertThat(ambiguous.body())
        .contains("more than one tenant (acme, beta)", "tenant\\\" query parameter");
    HttpResponse<String> named = audit.get("/api/v1/requests/story-shared?tenant=beta", ada);
    assertThat(named.statusCode()).as(named.body()).isEqualTo(200);
    assertThat(json(named).path("tenantId").asText()).isEqualTo("beta");
    assertThat(json(named).path("gateOutcomes")).hasSize(1);
    assertThat(audit.get("/api/v1/requests/story-shared?tenant=beta", rita).statusCode())
        .isEqualTo(403);
  }

  /**
   * Two tenants' items under one request id held at one time: a page boundary between them loses
   * neither (the cursor holds the tenant since the forty-ninth session), and a cursor without the
   * tenant, from before, is still read.
   */
  @Test
  void shouldPageThroughTwoTenantsItemsUnderOneRequestIdHeldAtOneTime() throws Exception {
    Instant early = Instant.parse("2001-01-01T00:00:00Z");
    Scenario acme = sharedHold("page-shared", early, early.plusMillis(30));
    String ada = audit.token(Role.ADMIN, null, "ada");
    List<String> seen = new ArrayList<>();
    String cursor = "";
    for (int page = 0; page < 1000 && cursor != null; page++) {
      JsonNode answer = json(audit.get("/api/v1/reviews?limit=1&cursor=" + cursor, ada));
      for (JsonNode item : answer.path("items")) {
        if (item.path("requestId").asText().equals("page-shared")) {
          seen.add(item.path("tenantId").asText() + "@" + item.path("heldAt").asText());
        }
      }
      cursor = answer.path("nextCursor").isNull() ? null : answer.path("nextCursor").asText();
    }
    assertThat(seen).hasSize(2);
    assertThat(seen.get(0)).startsWith("acme@");
    assertThat(seen.get(1)).startsWith("beta@");
    // Held at one time, as the test means them to be.
    assertThat(seen.get(0).substring(5)).isEqualTo(seen.get(1).substring(5));

    String old =
        new io.genguard.audit.query.Cursor(acme.at().plusMillis(30), "page-shared").encode();
    HttpResponse<String> oldCursor = audit.get("/api/v1/reviews?limit=1&cursor=" + old, ada);
    assertThat(oldCursor.statusCode()).as(oldCursor.body()).isEqualTo(200);
    for (JsonNode item : json(oldCursor).path("items")) {
      assertThat(item.path("requestId").asText()).isNotEqualTo("page-shared");
    }
  }

  @Test
  void shouldLetOnlyTheClaimantDecideUntilTheClaimIsGivenUp() throws Exception {
    audit.seed(AuditEvents.story(Scenario.of("claimed", "acme", Decision.REVIEW, NOW)));

    JsonNode claim = json(audit.post("/api/v1/reviews/claimed/claim", rita, null));
    assertThat(claim.path("claimedBy").asText()).isEqualTo("rita");
    assertThat(Instant.parse(claim.path("claimExpiresAt").asText()))
        .isAfter(Instant.now().plusSeconds(600));

    HttpResponse<String> stolen = audit.post("/api/v1/reviews/claimed/reject", ravi, "{}");
    assertThat(stolen.statusCode()).isEqualTo(409);
    assertThat(json(stolen).path("error").asText()).contains("claimed by rita (token ");
    assertThat(audit.post("/api/v1/reviews/claimed/claim", ravi, null).statusCode()).isEqualTo(409);

    assertThat(audit.post("/api/v1/reviews/claimed/unclaim", rita, null).statusCode())
        .isEqualTo(200);
    HttpResponse<String> rejected =
        audit.post("/api/v1/reviews/claimed/reject", ravi, "{\"note\":\"targets a group\"}");
    assertThat(rejected.statusCode()).isEqualTo(202);
    ReviewDecision decision = decisionOnKafka("claimed");
    assertThat(decision.getAction()).isEqualTo(ReviewAction.REJECT);
    assertThat(decision.getReviewer()).isEqualTo("ravi");
  }

  /**
   * A claim belongs to the token that made it: another reviewer whose token has the same name
   * cannot decide, give up or take it, and every answer that shows the claim names its token, so
   * that the UI can tell the two apart (it told them apart by name before the fortieth session).
   */
  @Test
  void shouldKeepAClaimToItsTokenWhenTwoReviewersShareAName() throws Exception {
    audit.seed(AuditEvents.story(Scenario.of("namesake-claimed", "acme", Decision.REVIEW, NOW)));
    String otherRita = audit.token(Role.REVIEWER, "acme", "rita");
    String ritaId = json(audit.get("/api/v1/me", rita)).path("tokenId").asText();
    String otherRitaId = json(audit.get("/api/v1/me", otherRita)).path("tokenId").asText();
    assertThat(json(audit.get("/api/v1/me", otherRita)).path("name").asText()).isEqualTo("rita");
    assertThat(otherRitaId).isNotEqualTo(ritaId);

    JsonNode claim = json(audit.post("/api/v1/reviews/namesake-claimed/claim", rita, null));
    assertThat(claim.path("claimedBy").asText()).isEqualTo("rita");
    assertThat(claim.path("claimedTokenId").asText()).isEqualTo(ritaId);

    // What the other rita reads says whose token holds the claim: not hers.
    JsonNode item = json(audit.get("/api/v1/reviews/namesake-claimed", otherRita));
    assertThat(item.path("claimedTokenId").asText()).isEqualTo(ritaId);
    JsonNode listed = null;
    for (JsonNode each : json(audit.get("/api/v1/reviews?limit=200", otherRita)).path("items")) {
      if (each.path("requestId").asText().equals("namesake-claimed")) {
        listed = each;
      }
    }
    assertThat(listed).isNotNull();
    assertThat(listed.path("claimedTokenId").asText()).isEqualTo(ritaId);
    JsonNode story = json(audit.get("/api/v1/requests/namesake-claimed", otherRita));
    assertThat(story.path("reviewItem").path("claimedTokenId").asText()).isEqualTo(ritaId);

    // The service refuses her everything a claim keeps to its claimant.
    for (String action : List.of("approve", "reject")) {
      HttpResponse<String> stolen =
          audit.post(
              "/api/v1/reviews/namesake-claimed/" + action,
              otherRita,
              "{\"verdictId\":\"" + item.path("verdictId").asText() + "\"}");
      assertThat(stolen.statusCode()).as(action).isEqualTo(409);
      assertThat(json(stolen).path("error").asText())
          .contains("claimed by rita (token " + ritaId + ") until");
    }
    assertThat(audit.post("/api/v1/reviews/namesake-claimed/unclaim", otherRita, null).statusCode())
        .isEqualTo(409);
    assertThat(audit.post("/api/v1/reviews/namesake-claimed/claim", otherRita, null).statusCode())
        .isEqualTo(409);
    assertThat(
            json(audit.get("/api/v1/reviews/namesake-claimed", rita))
                .path("claimedTokenId")
                .asText())
        .as("the claim is still the first rita's")
        .isEqualTo(ritaId);

    // A submitter's story leaves the claim's token out, as it leaves out its name.
    String submitter = audit.token(Role.SUBMITTER, "acme", "sam");
    JsonNode submitted = json(audit.get("/api/v1/requests/namesake-claimed", submitter));
    assertThat(submitted.path("reviewItem").has("claimedTokenId")).isFalse();
    assertThat(submitted.path("reviewItem").has("claimedBy")).isFalse();

    // The claimant decides; the audit record names her token.
    assertThat(
            audit
                .post("/api/v1/reviews/namesake-claimed/reject", rita, "{\"note\":\"mine\"}")
                .statusCode())
        .isEqualTo(202);
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'review.reject'"
                    + " and request_id = 'namesake-claimed' and caller_token_id = '"
                    + ritaId
                    + "'"))
        .isEqualTo(1);
  }

  @Test
  void shouldExplainWhatIsWrongWithABadDecision() throws Exception {
    audit.seed(AuditEvents.story(Scenario.of("bad-body", "acme", Decision.REVIEW, NOW)));

    HttpResponse<String> notJson = audit.post("/api/v1/reviews/bad-body/approve", rita, "note=hi");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(json(notJson).path("error").asText())
        .startsWith("Body is not valid JSON for this endpoint");
    HttpResponse<String> unknownField =
        audit.post("/api/v1/reviews/bad-body/approve", rita, "{\"verdict\":\"ok\"}");
    assertThat(unknownField.statusCode()).isEqualTo(400);
    HttpResponse<String> control =
        audit.post("/api/v1/reviews/bad-body/approve", rita, "{\"note\":\"a\\u0007b\"}");
    assertThat(control.statusCode()).isEqualTo(400);
    assertThat(json(control).path("error").asText())
        .contains("note contains a control character (code 7)");
    HttpResponse<String> missing = audit.post("/api/v1/reviews/nothing-here/approve", rita, "{}");
    assertThat(missing.statusCode()).isEqualTo(404);
    HttpResponse<String> badState = audit.get("/api/v1/reviews?state=OPEN", rita);
    assertThat(badState.statusCode()).isEqualTo(400);
    assertThat(json(badState).path("error").asText())
        .contains(
            "state 'OPEN' is not one of [DECIDED, PENDING, QUARANTINED, RELEASED, RETRACTED]");
    assertThat(
            audit.count(
                "select count(*) from review_item where request_id = 'bad-body' and state = 'PENDING'"))
        .isEqualTo(1);
  }
}
