package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.AuditService;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The explanation route of an audit service configured as a standalone one would be
 * (GENGUARD_AUDIT_EXPLAIN_KEY_DIR), on real PostgreSQL, with verdicts the real moderator gave: a
 * held verdict it reproduces is explained, one it does not is not, a release has nothing to
 * explain, and another tenant's request is not found.
 */
class ExplanationRouteITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCORER = "ngram-logistic";
  private static final String HELD_TEXT =
      "shut up you worthless stupid bitch, nobody wants you here";
  private static final String CLEAN_TEXT = "The museum opens at nine and the tour takes an hour.";

  @TempDir static Path keys;
  private static RunningAuditService audit;
  private static String reviewer;

  @BeforeAll
  static void start() throws Exception {
    audit =
        RunningAuditService.start(
            "explanation_route_it",
            Clock.systemUTC(),
            config -> config.withExplanations(keys, null));
    reviewer = audit.token(Role.REVIEWER, "acme", "rita");
    try (BatchModerator moderator = ModerationPipelines.factory(SCORER, null, keys).create()) {
      seed(moderator, "explain-held", "acme", HELD_TEXT, false);
      seed(moderator, "explain-clean", "acme", CLEAN_TEXT, false);
      seed(moderator, "explain-edited", "acme", HELD_TEXT + " Go away.", true);
      seed(moderator, "explain-globex", "globex", HELD_TEXT, false);
    }
  }

  /**
   * An output and the verdict the moderator gave it; {@code edited}: a recorded BLOCK made REVIEW.
   */
  private static void seed(
      BatchModerator moderator, String requestId, String tenant, String text, boolean edited)
      throws Exception {
    Scenario scenario =
        Scenario.of(requestId, tenant, Decision.RELEASE, Instant.now()).withText(text);
    GenerationOutput output = AuditEvents.output(scenario);
    ModerationVerdict verdict = moderator.moderate(List.of(output)).get(0);
    if (edited) {
      assertThat(verdict.getDecision()).isEqualTo(Decision.BLOCK);
      verdict = ModerationVerdict.newBuilder(verdict).setDecision(Decision.REVIEW).build();
    }
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), output),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  private static JsonNode explanation(String requestId, int status) throws Exception {
    HttpResponse<String> response =
        audit.get("/api/v1/requests/" + requestId + "/explanation", reviewer);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    return JSON.readTree(response.body());
  }

  @Test
  void shouldRecordThePolicyTheJobRunsWithWhenItStarts() throws Exception {
    // Explanations name the job's policy (here the built-in one): it is in the archive at start.
    String admin = audit.token(Role.ADMIN, null, "ada");
    HttpResponse<String> recorded =
        audit.get("/api/v1/policies/" + PolicyLoader.loadDefault().sha256(), admin);
    assertThat(recorded.statusCode()).as(recorded.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(recorded).path("recordedBy").asText())
        .isEqualTo("audit-service");
  }

  @Test
  void shouldJudgeRecordedOutputsUnderACandidatePolicyAndRecordOnlyTheRun() throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, null, "cora");
    // Every category goes to review from a score of 0.
    String strict =
        PolicyLoader.defaultText()
            .replaceFirst("version: *\"[^\"]*\"", "version: \"what-if-1\"")
            .replaceAll("\\{review: 0\\.[0-9]+, block: ", "{review: 0.00, block: ");
    assertThat(strict).contains("what-if-1").contains("{review: 0.00, block: 0.90}");
    long verdictsBefore = audit.count("select count(*) from moderation_verdict");

    HttpResponse<String> response =
        audit.post(
            "/api/v1/policies/what-if",
            compliance,
            JSON.writeValueAsString(java.util.Map.of("yaml", strict, "limit", 50)));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("policy").path("version").asText()).isEqualTo("what-if-1");
    assertThat(body.path("verdicts").asInt()).isEqualTo(4);
    assertThat(body.path("same").asInt()).as("the two blocked ones").isEqualTo(2);
    assertThat(body.path("changed").asInt()).isEqualTo(2);
    assertThat(body.path("transitions").toString())
        .isEqualTo("{\"RELEASE -> REVIEW\":1,\"REVIEW -> BLOCK\":1}");
    assertThat(body.path("changedByTenant").toString()).isEqualTo("{\"acme\":2}");
    assertThat(body.path("items").findValuesAsText("requestId"))
        .containsExactlyInAnyOrder("explain-clean", "explain-edited");
    assertThat(body.path("items").toString()).contains(">= 0.00");
    // Recorded as one action; no verdict or anything else written.
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'policies.what-if'"
                    + " and target = '"
                    + PolicyLoader.parse(strict, "x").sha256()
                    + "'"))
        .isEqualTo(1);
    assertThat(audit.count("select count(*) from moderation_verdict")).isEqualTo(verdictsBefore);

    // Refused: a tenant's token (a file holds every tenant's rules), an invalid file, a bad limit.
    String tenantCompliance = audit.token(Role.COMPLIANCE, "acme", "carl");
    assertThat(
            audit
                .post(
                    "/api/v1/policies/what-if",
                    tenantCompliance,
                    JSON.writeValueAsString(java.util.Map.of("yaml", strict)))
                .statusCode())
        .isEqualTo(403);
    HttpResponse<String> invalid =
        audit.post(
            "/api/v1/policies/what-if",
            compliance,
            JSON.writeValueAsString(
                java.util.Map.of("yaml", strict.replace("block: 0.90}", "block: 1.90}"))));
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(invalid.body()).contains("Not a valid policy").contains("line ");
    assertThat(
            audit
                .post(
                    "/api/v1/policies/what-if",
                    compliance,
                    JSON.writeValueAsString(java.util.Map.of("yaml", strict, "limit", 501)))
                .statusCode())
        .isEqualTo(400);
  }

  @Test
  void shouldJudgeOnlyTheTenantWindowOrSampleAsked() throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, null, "cleo");
    String yaml = PolicyLoader.defaultText();
    JsonNode globex = whatIf(compliance, java.util.Map.of("yaml", yaml, "tenantId", "globex"), 200);
    assertThat(globex.path("verdicts").asInt()).as(globex.toString()).isEqualTo(1);
    assertThat(globex.path("same").asInt()).isEqualTo(1);
    assertThat(globex.path("selection").toString())
        .isEqualTo("{\"tenantId\":\"globex\",\"sample\":\"newest\",\"limit\":100}");
    // Recorded with the selection, so the try says what it was tried on.
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'policies.what-if'"
                    + " and caller_name = 'cleo' and details->'selection'->>'tenantId' = 'globex'"))
        .isEqualTo(1);
    // A window before any verdict judges nothing; a sample of two, the same two every time.
    JsonNode before =
        whatIf(compliance, java.util.Map.of("yaml", yaml, "until", "2020-01-01T00:00:00Z"), 200);
    assertThat(before.path("verdicts").asInt()).isZero();
    JsonNode sample =
        whatIf(compliance, java.util.Map.of("yaml", yaml, "spread", true, "limit", 2), 200);
    assertThat(sample.path("verdicts").asInt()).isEqualTo(2);
    assertThat(sample.path("selection").path("sample").asText()).isEqualTo("spread");
    // Refused: a tenant id that cannot be one, an instant that is not one, a backward window.
    assertThat(
            whatIf(compliance, java.util.Map.of("yaml", yaml, "tenantId", "a b"), 400)
                .path("error")
                .asText())
        .contains("is not a tenant id");
    assertThat(
            whatIf(compliance, java.util.Map.of("yaml", yaml, "since", "yesterday"), 400)
                .path("error")
                .asText())
        .contains("since 'yesterday' is not an ISO-8601 UTC instant");
    assertThat(
            whatIf(
                    compliance,
                    java.util.Map.of(
                        "yaml",
                        yaml,
                        "since",
                        "2026-12-02T00:00:00Z",
                        "until",
                        "2026-12-01T00:00:00Z"),
                    400)
                .path("error")
                .asText())
        .contains("must be before until");
  }

  private static JsonNode whatIf(String token, java.util.Map<String, Object> body, int status)
      throws Exception {
    HttpResponse<String> response =
        audit.post("/api/v1/policies/what-if", token, JSON.writeValueAsString(body));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    return JSON.readTree(response.body());
  }

  @Test
  void shouldExplainAHeldVerdictItReproduces() throws Exception {
    JsonNode explained = explanation("explain-held", 200);

    assertThat(explained.path("status").asText()).as(explained.toString()).isEqualTo("EXPLAINED");
    assertThat(explained.path("decision").asText()).isEqualTo("BLOCK");
    assertThat(explained.path("detail").asText()).contains("every field equal");
    assertThat(explained.path("reasons")).isNotEmpty();
    for (JsonNode reason : explained.path("reasons")) {
      for (JsonNode word : reason.path("evidence")) {
        assertThat(HELD_TEXT).contains(word.path("word").asText());
        assertThat(word.path("scoreWithout").asDouble())
            .isLessThan(reason.path("score").asDouble());
      }
    }
    assertThat(explained.path("reasons").findValues("evidence"))
        .anySatisfy(words -> assertThat(words).isNotEmpty());

    // What the reviewer was shown is in the chain, word for word.
    JsonNode shown = shownAction("explain-held");
    assertThat(shown.path("callerName").asText()).isEqualTo("rita");
    assertThat(shown.path("tenantId").asText()).isEqualTo("acme");
    assertThat(shown.path("target").asText()).isEqualTo(explained.path("verdictId").asText());
    assertThat(shown.path("details")).isEqualTo(explained);

    // Asked again: shown as recorded, not computed again, and that showing is recorded too.
    JsonNode again = explanation("explain-held", 200);
    assertThat(again.path("explainedBefore").path("actionId").asText())
        .isEqualTo(shown.path("actionId").asText());
    assertThat(again.path("explainedBefore").path("callerName").asText()).isEqualTo("rita");
    JsonNode asRecorded = again.deepCopy();
    ((ObjectNode) asRecorded).remove("explainedBefore");
    assertThat(asRecorded).isEqualTo(explained);
    assertThat(shownAction("explain-held").path("details")).isEqualTo(again);

    // A submitter may follow its request's story but not read the explanation there: the route
    // refuses it, and the evidence words would show how to get past the moderator.
    JsonNode asSubmitter =
        JSON.readTree(
            audit
                .get("/api/v1/requests/explain-held", audit.token(Role.SUBMITTER, "acme", "sam"))
                .body());
    assertThat(asSubmitter.path("actions").findValues("action"))
        .anySatisfy(action -> assertThat(action.asText()).isEqualTo("requests.explain"));
    for (JsonNode action : asSubmitter.path("actions")) {
      if (action.path("action").asText().equals("requests.explain")) {
        assertThat(action.has("details")).as(action.toString()).isFalse();
      }
    }
    JsonNode asReviewer =
        JSON.readTree(audit.get("/api/v1/requests/explain-held", reviewer).body());
    assertThat(asReviewer.path("actions").findValues("details"))
        .anySatisfy(details -> assertThat(details.path("reasons")).isNotEmpty());
  }

  /**
   * Every explanation shown is recorded in the chain (what was shown to whom), a re-read of one
   * explained before included; a tenant's reviewer looping on one request takes only that tenant's
   * budget (30 at once, then one every 2 s): 429 with Retry-After beyond it, and nothing recorded
   * for a refused call, while another tenant's reviewer is answered. Until the forty-first session
   * every re-read was answered and recorded, without limit, under the chain lock that every
   * tenant's ingestion takes.
   */
  @Test
  void shouldAnswerATenantsLoopOfExplanationsWithTooManyRequestsBeyondItsBudget() throws Exception {
    AtomicInteger computed = new AtomicInteger();
    VerdictExplanations counting =
        (verdict, output) -> {
          computed.incrementAndGet();
          return new VerdictExplanations.Explanation(
              VerdictExplanations.Status.EXPLAINED,
              "counted",
              List.of(
                  new VerdictExplanations.ReasonWords(
                      "category.harassment",
                      "harassment",
                      0.9,
                      List.of(new VerdictExplanations.Word("worthless", 0.2)))));
        };
    try (RunningAuditService budget =
        RunningAuditService.start("explanation_budget_it", Clock.systemUTC(), c -> c, counting)) {
      Instant now = Instant.now();
      budget.seed(AuditEvents.story(Scenario.of("loop-acme", "acme", Decision.BLOCK, now)));
      budget.seed(AuditEvents.story(Scenario.of("loop-globex", "globex", Decision.BLOCK, now)));
      String looping = budget.token(Role.REVIEWER, "acme", "rita");
      long started = System.nanoTime();
      int shown = 0;
      HttpResponse<String> refused = null;
      for (int i = 0; i < 300 && refused == null; i++) {
        HttpResponse<String> response =
            budget.get("/api/v1/requests/loop-acme/explanation", looping);
        if (response.statusCode() == 200) {
          shown++;
        } else {
          assertThat(response.statusCode()).as(response.body()).isEqualTo(429);
          refused = response;
        }
      }
      long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();

      assertThat(computed).as("computed once, then shown as recorded").hasValue(1);
      assertThat(refused).as("a 429 within 300 calls").isNotNull();
      assertThat(shown).isBetween(30, 30 + (int) (seconds / 2) + 1);
      assertThat(refused.headers().firstValue("Retry-After"))
          .hasValueSatisfying(after -> assertThat(Integer.parseInt(after)).isBetween(1, 2));
      assertThat(JSON.readTree(refused.body()).path("error").asText())
          .contains("Tenant 'acme'")
          .contains("explanations");
      // Each answer was recorded, the refusal was not.
      assertThat(
              budget.count(
                  "select count(*) from api_action where action = 'requests.explain'"
                      + " and tenant_id = 'acme'"))
          .isEqualTo(shown);

      // Another tenant's reviewer is not held back.
      HttpResponse<String> other =
          budget.get(
              "/api/v1/requests/loop-globex/explanation",
              budget.token(Role.REVIEWER, "globex", "greg"));
      assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
    }
  }

  /** The newest requests.explain action about the request, as compliance sees it. */
  private static JsonNode shownAction(String requestId) throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, "acme", "cora");
    HttpResponse<String> response = audit.get("/api/v1/audit/actions?tenant=acme", compliance);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    for (JsonNode action : JSON.readTree(response.body()).path("items")) {
      if (action.path("action").asText().equals("requests.explain")
          && action.path("requestId").asText().equals(requestId)) {
        return action;
      }
    }
    throw new AssertionError(
        "no requests.explain action for " + requestId + ": " + response.body());
  }

  @Test
  void shouldNotExplainAVerdictItDoesNotReproduceOrAReleaseAndShowNoOtherTenant() throws Exception {
    JsonNode edited = explanation("explain-edited", 200);
    assertThat(edited.path("status").asText()).isEqualTo("NOT_EXPLAINED");
    assertThat(edited.path("detail").asText())
        .contains("not reproduced")
        .contains("decision: \"REVIEW\" -> \"BLOCK\"");
    assertThat(edited.path("reasons")).isEmpty();
    assertThat(shownAction("explain-edited").path("details")).isEqualTo(edited);

    JsonNode clean = explanation("explain-clean", 200);
    assertThat(clean.path("decision").asText()).isEqualTo("RELEASE");
    assertThat(clean.path("status").asText()).isEqualTo("NOTHING_TO_EXPLAIN");

    assertThat(explanation("explain-globex", 404).path("error").asText())
        .contains("that this token may see");
    assertThat(explanation("nobody-asked", 404).path("error").asText())
        .contains("No verdict for a request with id 'nobody-asked'");
  }

  @Test
  void shouldExplainOneAtATimeAndSayWhenTheOutputIsGone() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // Holds the first explanation until the second request has been answered.
    VerdictExplanations slow =
        (verdict, output) -> {
          entered.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return VerdictExplanations.Explanation.notExplained("held on purpose");
        };
    try (RunningAuditService busy =
        RunningAuditService.start("explanation_busy_it", Clock.systemUTC(), c -> c, slow)) {
      String token = busy.token(Role.REVIEWER, "acme", "rita");
      busy.seed(AuditEvents.story(Scenario.of("busy-1", "acme", Decision.BLOCK, Instant.now())));
      CompletableFuture<HttpResponse<String>> first =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return busy.get("/api/v1/requests/busy-1/explanation", token);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();

      HttpResponse<String> second = busy.get("/api/v1/requests/busy-1/explanation", token);
      assertThat(second.statusCode()).isEqualTo(429);
      assertThat(second.headers().firstValue("Retry-After")).hasValue("1");
      release.countDown();
      assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);

      // Retention removed the output's payload: nothing left to judge again.
      busy.execute(
          "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = seq"
              + " where chain_version >= 2 and event_id ="
              + " (select event_id from generation_output where request_id = 'busy-1')");
      JsonNode gone = JSON.readTree(busy.get("/api/v1/requests/busy-1/explanation", token).body());
      assertThat(gone.path("status").asText()).isEqualTo("NOT_EXPLAINED");
      assertThat(gone.path("detail").asText())
          .contains("the output is no longer in the audit store");
      // Recorded against the verdict that is still there, so the background explainer of held
      // verdicts counts it as answered.
      assertThat(gone.path("verdictId").asText()).isNotEmpty();
      assertThat(
              busy.count(
                  "select count(*) from api_action where action = 'requests.explain'"
                      + " and request_id = 'busy-1' and target = '"
                      + gone.path("verdictId").asText()
                      + "' and details->>'detail' like 'the output is no longer%'"))
          .isEqualTo(1);
    }
  }

  @Test
  void shouldExplainEachHeldVerdictOnceInTheBackgroundAndRecordIt() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    VerdictExplanations counting =
        (verdict, output) -> {
          calls.incrementAndGet();
          if (verdict.getRequestId().equals("held-broken")) {
            throw new IllegalStateException("scorer down");
          }
          return new VerdictExplanations.Explanation(
              VerdictExplanations.Status.EXPLAINED,
              "counted",
              List.of(
                  new VerdictExplanations.ReasonWords(
                      "category.harassment",
                      "harassment",
                      0.9,
                      List.of(new VerdictExplanations.Word("worthless", 0.2)))));
        };
    try (RunningAuditService background =
        RunningAuditService.start(
            "explain_held_it",
            Clock.systemUTC(),
            c -> c.withExplanations(keys, null).withExplainHeld(1),
            counting)) {
      Instant now = Instant.now();
      background.seed(AuditEvents.story(Scenario.of("held-block", "acme", Decision.BLOCK, now)));
      background.seed(AuditEvents.story(Scenario.of("held-review", "acme", Decision.REVIEW, now)));
      background.seed(AuditEvents.story(Scenario.of("released", "acme", Decision.RELEASE, now)));
      background.seed(AuditEvents.story(Scenario.of("held-broken", "acme", Decision.BLOCK, now)));
      String recorded =
          "select count(*) from api_action where action = 'requests.explain'"
              + " and caller_name = 'explain-held'";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (background.count(recorded) < 3 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(background.count(recorded)).isEqualTo(3);

      Thread.sleep(2_500); // two more rounds: nothing is explained twice, not even a failure
      assertThat(background.count(recorded)).isEqualTo(3);
      assertThat(calls).hasValue(3);
      assertThat(
              background.count(
                  recorded
                      + " and request_id = 'held-broken'"
                      + " and details->>'status' = 'NOT_EXPLAINED'"
                      + " and details->>'detail' like 'explaining failed: %scorer down'"))
          .isEqualTo(1);
      assertThat(
              background.count(
                  recorded
                      + " and request_id in ('held-block', 'held-review')"
                      + " and details->>'status' = 'EXPLAINED'"
                      + " and details->'reasons'->0->'evidence'->0->>'word' = 'worthless'"))
          .isEqualTo(2);
      assertThat(background.count(recorded + " and request_id = 'released'")).isZero();

      // A reviewer opening one gets the recorded explanation: no scoring again.
      JsonNode opened =
          RunningAuditService.json(
              background.get(
                  "/api/v1/requests/held-block/explanation",
                  background.token(Role.REVIEWER, "acme", "rita")));
      assertThat(opened.path("status").asText()).isEqualTo("EXPLAINED");
      assertThat(opened.path("explainedBefore").path("callerName").asText())
          .isEqualTo("explain-held");
      assertThat(calls).hasValue(3);
      assertThat(
              background.count(
                  "select count(*) from api_action where action = 'requests.explain'"
                      + " and request_id = 'held-block' and caller_name = 'rita'"))
          .isEqualTo(1);
    }
  }

  /**
   * The background explainer's search reads only the chain records after those it has handled: a
   * round stopped early resumes at the verdict it did not reach, a held verdict decided long before
   * the ones already explained but recorded only now (an ingestor catching up) is still found, and
   * a round with nothing new searches from the head on.
   */
  @Test
  void shouldSearchOnlyTheChainRecordsAfterTheHeldVerdictsItHandled() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    VerdictExplanations counting =
        (verdict, output) -> {
          calls.incrementAndGet();
          return new VerdictExplanations.Explanation(
              VerdictExplanations.Status.EXPLAINED, "counted", List.of());
        };
    try (RunningAuditService store =
        RunningAuditService.start("explain_held_search_it", Clock.systemUTC(), c -> c)) {
      RecordedExplanations explained =
          new RecordedExplanations(
              store.service().database().dataSource(),
              store.service().queries(),
              counting,
              Clock.systemUTC());
      Instant now = Instant.now();
      store.seed(AuditEvents.story(Scenario.of("search-1", "acme", Decision.BLOCK, now)));
      store.seed(AuditEvents.story(Scenario.of("search-2", "acme", Decision.REVIEW, now)));
      store.seed(AuditEvents.story(Scenario.of("search-3", "acme", Decision.BLOCK, now)));
      store.seed(AuditEvents.story(Scenario.of("search-ok", "acme", Decision.RELEASE, now)));
      long head = store.count("select max(seq) from audit_log");

      AtomicInteger budget = new AtomicInteger(1);
      assertThat(explained.explainHeld(20, () -> budget.getAndDecrement() > 0)).isEqualTo(1);
      long search1 = seqOfVerdict(store, "search-1");
      assertThat(explained.handledUpTo()).isEqualTo(search1);

      assertThat(explained.explainHeld(20, () -> true)).isEqualTo(2);
      assertThat(explained.handledUpTo())
          .as("searched up to the head it read, the first round's record included")
          .isEqualTo(head + 1);

      store.seed(
          AuditEvents.story(
              Scenario.of("search-old", "acme", Decision.BLOCK, now.minus(Duration.ofHours(1)))));
      assertThat(explained.explainHeld(20, () -> true)).isEqualTo(1);
      assertThat(explained.explainHeld(20, () -> true)).isZero();
      assertThat(explained.handledUpTo()).isEqualTo(store.count("select max(seq) from audit_log"));

      assertThat(calls).hasValue(4);
      assertThat(
              store.count(
                  "select count(*) from api_action where action = 'requests.explain'"
                      + " and caller_name = 'explain-held'"
                      + " and request_id in ('search-1', 'search-2', 'search-3', 'search-old')"))
          .isEqualTo(4);
    }
  }

  private static long seqOfVerdict(RunningAuditService store, String requestId) throws Exception {
    return store.count(
        "select l.seq from audit_log l join moderation_verdict mv on mv.event_id = l.event_id"
            + " where mv.request_id = '"
            + requestId
            + "'");
  }

  @Test
  void shouldRefuseToStartWithAPolicyFileThatDoesNotLoad(@TempDir Path dir) throws Exception {
    Path broken = Files.writeString(dir.resolve("policy.yaml"), "policyId: [unclosed\n");
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("explanation_policy_it");

    assertThatThrownBy(
            () ->
                new AuditService(
                    io.genguard.audit.AuditConfig.of(url, infra.jdbcUser(), infra.jdbcPassword(), 0)
                        .withExplanations(keys, broken),
                    infra.kafkaClientProperties(),
                    Clock.systemUTC()))
        .hasMessageContaining(broken.toString());
  }
}
