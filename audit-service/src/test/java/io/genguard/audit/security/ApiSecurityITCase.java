package io.genguard.audit.security;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.http.AuditApi;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.schemas.Topics;
import java.io.ByteArrayInputStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * The API's security on a real service: 401 without a valid token, 403 for the wrong role, tenant
 * isolation, audited state changes, size limits, parameterised SQL under injection attempts in
 * every parameter, and no token in any log line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiSecurityITCase {
  private static final Instant NOW = Instant.now();
  private static final String GLOBEX_SECRET = "GLOBEX-SECRET-TEXT";
  private static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();
  private static final List<String> ISSUED = new ArrayList<>();

  private static RunningAuditService audit;
  private static String admin;
  private static String compliance;
  private static String acmeCompliance;
  private static String acmeReviewer;
  private static String acmeSubmitter;
  private static String globexReviewer;

  @BeforeAll
  static void start() throws Exception {
    assertThat(LoggerFactory.getILoggerFactory())
        .as("tests log through logback")
        .isInstanceOf(LoggerContext.class);
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LOGS.setContext(context);
    LOGS.start();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(LOGS);
    context.getLogger("io.genguard").setLevel(Level.DEBUG);
    context.getLogger("io.javalin").setLevel(Level.DEBUG);
    context.getLogger("org.eclipse.jetty").setLevel(Level.INFO);

    audit = RunningAuditService.start("api_security_it");
    admin = issue(Role.ADMIN, null, "ada");
    compliance = issue(Role.COMPLIANCE, null, "carl");
    acmeCompliance = issue(Role.COMPLIANCE, "acme", "cora");
    acmeReviewer = issue(Role.REVIEWER, "acme", "rita");
    acmeSubmitter = issue(Role.SUBMITTER, "acme", "sam");
    globexReviewer = issue(Role.REVIEWER, "globex", "greg");
    audit.seed(AuditEvents.story(Scenario.of("sec-acme-1", "acme", Decision.REVIEW, NOW)));
    audit.seed(AuditEvents.story(Scenario.of("sec-acme-2", "acme", Decision.REVIEW, NOW)));
    audit.seed(AuditEvents.story(Scenario.of("sec-acme-3", "acme", Decision.BLOCK, NOW)));
    audit.seed(
        AuditEvents.story(
            Scenario.of("sec-globex-1", "globex", Decision.REVIEW, NOW)
                .withText(GLOBEX_SECRET + " for globex only")));
  }

  private static String issue(Role role, String tenant, String name) throws Exception {
    String token = audit.token(role, tenant, name);
    ISSUED.add(token);
    return token;
  }

  @AfterAll
  static void stop() {
    audit.close();
    ((LoggerContext) LoggerFactory.getILoggerFactory())
        .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
        .detachAppender(LOGS);
  }

  private static List<AuditApi.Route> protectedRoutes() {
    return audit.service().api().routes().stream()
        .filter(route -> !route.roles().isEmpty())
        .toList();
  }

  private static HttpResponse<String> call(AuditApi.Route route, String token) throws Exception {
    String path = route.path().replaceAll("\\{[^}]+}", "no-such-id");
    return switch (route.method()) {
      case "GET" -> audit.get(path, token);
      case "POST" -> audit.post(path, token, null);
      case "PUT" -> audit.put(path, token, "");
      case "DELETE" -> audit.delete(path, token);
      default -> throw new IllegalStateException(route.method());
    };
  }

  @Test
  @Order(1)
  void shouldAnswer401OnEveryProtectedRouteWithoutAToken() throws Exception {
    assertThat(protectedRoutes()).hasSizeGreaterThan(25);
    for (AuditApi.Route route : protectedRoutes()) {
      HttpResponse<String> response = call(route, null);
      assertThat(response.statusCode()).as(route.method() + " " + route.path()).isEqualTo(401);
      assertThat(response.headers().firstValue("WWW-Authenticate"))
          .hasValue("Bearer realm=\"genguard\"");
      assertThat(json(response).path("error").asText())
          .contains("Authorization: Bearer <token>")
          .contains("./genguard audit token create");
    }
    assertThat(audit.get("/api/v1/health", null).statusCode()).isEqualTo(200);
    assertThat(audit.get("/api/v1/openapi.yaml", null).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(2)
  void shouldAnswer401ForMalformedUnknownRevokedAndExpiredTokens() throws Exception {
    String revoked = issue(Role.REVIEWER, "acme", "former");
    String revokedId = revoked.substring(4, 16);
    assertThat(audit.delete("/api/v1/tokens/" + revokedId, admin).statusCode()).isEqualTo(204);
    String expired =
        audit
            .service()
            .tokens()
            .create(Role.REVIEWER, "acme", "temp", Duration.ofMillis(1), Caller.system("test"))
            .token();
    ISSUED.add(expired);
    String unknown = "ggt_0123456789ab_" + "A".repeat(43);
    String wrongSecret = acmeReviewer.substring(0, acmeReviewer.length() - 3) + "xyz";

    for (String bad :
        List.of("garbage", unknown, wrongSecret, revoked, expired, "ggt_' or '1'='1")) {
      HttpResponse<String> response = audit.get("/api/v1/reviews", bad);
      assertThat(response.statusCode()).as(bad).isEqualTo(401);
      assertThat(json(response).path("error").asText())
          .contains("not valid (unknown, revoked or expired)");
    }
    HttpResponse<String> basic =
        audit.send(
            audit
                .request("/api/v1/reviews", null)
                .header("Authorization", "Basic YWRtaW46YWRtaW4=")
                .GET());
    assertThat(basic.statusCode()).isEqualTo(401);
    assertThat(json(basic).path("error").asText()).contains("must use the Bearer scheme");
    assertThat(audit.get("/api/v1/reviews", acmeReviewer).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(3)
  void shouldAnswer403ToEveryRoleARouteDoesNotAdmitAndLetTheAdmittedOnesThrough() throws Exception {
    Map<Role, String> tokens =
        Map.of(
            Role.SUBMITTER,
            acmeSubmitter,
            Role.REVIEWER,
            acmeReviewer,
            Role.COMPLIANCE,
            compliance,
            Role.ADMIN,
            admin);
    for (AuditApi.Route route : protectedRoutes()) {
      for (Role role : Role.values()) {
        HttpResponse<String> response = call(route, tokens.get(role));
        String what = role + " " + route.method() + " " + route.path();
        if (role == Role.ADMIN || route.roles().contains(role)) {
          assertThat(response.statusCode()).as(what).isNotIn(401, 403, 500);
        } else {
          assertThat(response.statusCode()).as(what).isEqualTo(403);
          assertThat(json(response).path("error").asText())
              .as(what)
              .contains("Role " + role + " may not call");
        }
      }
    }
  }

  @Test
  @Order(4)
  void shouldSayItCannotExplainAVerdictWithoutTheModels() throws Exception {
    // This service was started without explanations, as the standalone audit service runs.
    HttpResponse<String> response =
        audit.get("/api/v1/requests/sec-acme-3/explanation", acmeReviewer);

    assertThat(response.statusCode()).isEqualTo(501);
    assertThat(json(response).path("error").asText())
        .contains("runs without the moderation models")
        .contains("./genguard audit replay --request sec-acme-3 --explain");
    assertThat(audit.get("/api/v1/requests/sec-acme-3/explanation", acmeSubmitter).statusCode())
        .isEqualTo(403);
    // Nor can it give evidence bundles without an anchor file to prove them against.
    HttpResponse<String> evidence = audit.get("/api/v1/requests/sec-acme-3/evidence", compliance);
    assertThat(evidence.statusCode()).isEqualTo(501);
    assertThat(json(evidence).path("error").asText())
        .contains("keeps no anchor file (GENGUARD_AUDIT_ANCHOR_FILE)");
  }

  @Test
  @Order(4)
  void shouldShowATenantTokenOnlyItsOwnTenant() throws Exception {
    assertThat(audit.get("/api/v1/requests/sec-globex-1", acmeReviewer).statusCode())
        .isEqualTo(404);
    assertThat(audit.get("/api/v1/requests/sec-globex-1", globexReviewer).statusCode())
        .isEqualTo(200);
    assertThat(audit.get("/api/v1/requests/sec-acme-1", acmeReviewer).statusCode()).isEqualTo(200);

    JsonNode outputs = json(audit.get("/api/v1/outputs?limit=200", acmeReviewer));
    assertThat(outputs.path("items"))
        .isNotEmpty()
        .allSatisfy(item -> assertThat(item.path("tenantId").asText()).isEqualTo("acme"));
    HttpResponse<String> otherTenant = audit.get("/api/v1/outputs?tenant=globex", acmeReviewer);
    assertThat(otherTenant.statusCode()).isEqualTo(403);
    assertThat(json(otherTenant).path("error").asText()).contains("may not read tenant 'globex'");

    JsonNode queue = json(audit.get("/api/v1/reviews", acmeReviewer));
    assertThat(queue.path("items"))
        .extracting(item -> item.path("requestId").asText())
        .contains("sec-acme-1")
        .doesNotContain("sec-globex-1");

    HttpResponse<String> foreignApproval =
        audit.post("/api/v1/reviews/sec-globex-1/approve", acmeReviewer, "{}");
    assertThat(foreignApproval.statusCode()).isEqualTo(404);
    assertThat(
            audit.count(
                "select count(*) from review_item where request_id = 'sec-globex-1' and state = 'PENDING'"))
        .isEqualTo(1);

    HttpResponse<String> export = audit.get("/api/v1/outputs/export?format=csv", acmeCompliance);
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.body())
        .contains("sec-acme-1")
        .doesNotContain("sec-globex-1")
        .doesNotContain(GLOBEX_SECRET);
    assertThat(audit.get("/api/v1/audit/verify", acmeCompliance).statusCode()).isEqualTo(403);
    assertThat(audit.get("/api/v1/bias/metrics", acmeCompliance).statusCode()).isEqualTo(403);

    JsonNode globexOnly = json(audit.get("/api/v1/outputs?tenant=globex", compliance));
    assertThat(globexOnly.path("items"))
        .extracting(item -> item.path("tenantId").asText())
        .containsOnly("globex");

    JsonNode summary = json(audit.get("/api/v1/summary", acmeReviewer));
    assertThat(summary.path("requests").asLong())
        .isEqualTo(audit.count("select count(*) from generation_request where tenant_id = 'acme'"));
    assertThat(summary.path("requests").asLong())
        .isLessThan(audit.count("select count(*) from generation_request"));

    HttpResponse<String> foreignSubmit =
        audit.post(
            "/api/v1/requests", acmeSubmitter, "{\"prompt\":\"hello\",\"tenantId\":\"globex\"}");
    assertThat(foreignSubmit.statusCode()).isEqualTo(403);
    HttpResponse<String> ownSubmit =
        audit.post("/api/v1/requests", acmeSubmitter, "{\"prompt\":\"hello\"}");
    assertThat(ownSubmit.statusCode()).isEqualTo(202);
    assertThat(json(ownSubmit).path("tenantId").asText()).isEqualTo("acme");

    String acmeAdmin = issue(Role.ADMIN, "acme", "acme-admin");
    HttpResponse<String> foreignToken =
        audit.post(
            "/api/v1/tokens",
            acmeAdmin,
            "{\"role\":\"reviewer\",\"tenantId\":\"globex\",\"name\":\"intruder\"}");
    assertThat(foreignToken.statusCode()).isEqualTo(403);
  }

  @Test
  @Order(4)
  void shouldTakeCampaignAttributesOnlyForACampaignOfTheRequestsTenant() throws Exception {
    Caller system = Caller.system("api security it");
    for (String tenant : List.of("acme", "globex")) {
      audit
          .service()
          .campaigns()
          .create(
              new Campaigns.NewCampaign(
                  tenant + "-fairness",
                  tenant,
                  "Fairness",
                  "RUNNING",
                  JsonNodeFactory.instance.objectNode()),
              system);
    }
    long before = audit.count("select count(*) from api_action where action = 'request.submit'");

    // The bias job leaves a request naming a campaign out of live monitoring: naming another
    // tenant's campaign, or one that does not exist, would hide it. Both get the same answer.
    Set<String> answers = new java.util.HashSet<>();
    for (String id : List.of("globex-fairness", "no-such-campaign")) {
      String body = "{\"prompt\":\"hi\",\"attributes\":{\"campaign.id\":\"" + id + "\"}}";
      HttpResponse<String> refused = audit.post("/api/v1/requests", acmeSubmitter, body);
      assertThat(refused.statusCode()).as(body).isEqualTo(400);
      String error = json(refused).path("error").asText();
      assertThat(error).contains("'campaign.id' names no bias campaign of tenant 'acme'");
      answers.add(error.replace(id, "ID"));
    }
    assertThat(answers).as("whether another tenant has the campaign is not said").hasSize(1);
    HttpResponse<String> groupOnly =
        audit.post(
            "/api/v1/requests",
            acmeSubmitter,
            "{\"prompt\":\"hi\",\"attributes\":{\"campaign.group\":\"control\"}}");
    assertThat(groupOnly.statusCode()).isEqualTo(400);
    assertThat(json(groupOnly).path("error").asText())
        .contains("reserved for the requests of a bias campaign");
    assertThat(audit.count("select count(*) from api_action where action = 'request.submit'"))
        .as("nothing refused was submitted")
        .isEqualTo(before);

    HttpResponse<String> own =
        audit.post(
            "/api/v1/requests",
            acmeSubmitter,
            "{\"prompt\":\"hi\",\"attributes\":{\"campaign.id\":\"acme-fairness\","
                + "\"campaign.group\":\"control\",\"campaign-note\":\"not reserved\"}}");
    assertThat(own.statusCode()).as(own.body()).isEqualTo(202);
    // Completed, it takes no more: naming it would hide a request from live monitoring.
    audit.service().campaigns().updateStatus("acme-fairness", "COMPLETED", null, system);
    HttpResponse<String> completed =
        audit.post(
            "/api/v1/requests",
            acmeSubmitter,
            "{\"prompt\":\"hi\",\"attributes\":{\"campaign.id\":\"acme-fairness\"}}");
    assertThat(completed.statusCode()).isEqualTo(400);
    assertThat(json(completed).path("error").asText())
        .contains("is COMPLETED and takes no more requests")
        .contains("--resume acme-fairness");
    // An admin's token submits for the tenant it names: globex's campaign, as globex.
    HttpResponse<String> byAdmin =
        audit.post(
            "/api/v1/requests",
            admin,
            "{\"prompt\":\"hi\",\"tenantId\":\"globex\","
                + "\"attributes\":{\"campaign.id\":\"globex-fairness\"}}");
    assertThat(byAdmin.statusCode()).as(byAdmin.body()).isEqualTo(202);
  }

  @Test
  @Order(4)
  void shouldShowASubmitterItsRequestsReviewWithoutTheReviewerOrTheNote() throws Exception {
    String note = "user seems to be a minor, escalated to trust and safety";
    Scenario held = Scenario.of("sec-acme-note", "acme", Decision.REVIEW, NOW);
    audit.seed(AuditEvents.story(held));
    assertThat(audit.post("/api/v1/reviews/sec-acme-note/claim", acmeReviewer, "{}").statusCode())
        .isEqualTo(200);
    assertThat(
            audit
                .post(
                    "/api/v1/reviews/sec-acme-note/reject",
                    acmeReviewer,
                    JsonNodeFactory.instance.objectNode().put("note", note).toString())
                .statusCode())
        .isEqualTo(202);
    // The decision as the audit store records it from review.decisions.
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.REVIEW_DECISIONS.name(),
                ReviewDecision.newBuilder()
                    .setEventId("decision-sec-acme-note")
                    .setReviewId("review-sec-acme-note")
                    .setRequestId(held.requestId())
                    .setOutputId(held.outputId())
                    .setTenantId("acme")
                    .setAction(ReviewAction.REJECT)
                    .setReviewer("rita")
                    .setNote(note)
                    .setDecidedAt(NOW.plusSeconds(5))
                    .build())));

    // The reviewer and compliance see who decided, who claimed and why.
    for (String token : List.of(acmeReviewer, acmeCompliance)) {
      JsonNode story = json(audit.get("/api/v1/requests/sec-acme-note", token));
      assertThat(story.path("reviews").get(0).path("reviewer").asText()).isEqualTo("rita");
      assertThat(story.path("reviews").get(0).path("note").asText()).isEqualTo(note);
      assertThat(story.path("reviewItem").path("decidedBy").asText()).startsWith("rita (");
      assertThat(story.path("actions").findValuesAsText("callerName")).contains("rita");
    }
    // The submitter sees that it was claimed and rejected, and when, but not by whom or why.
    HttpResponse<String> asSubmitter = audit.get("/api/v1/requests/sec-acme-note", acmeSubmitter);
    assertThat(asSubmitter.statusCode()).isEqualTo(200);
    JsonNode story = json(asSubmitter);
    assertThat(story.path("reviews").get(0).path("action").asText()).isEqualTo("REJECT");
    assertThat(story.path("reviewItem").path("state").asText()).isEqualTo("DECIDED");
    assertThat(story.path("actions").findValuesAsText("action"))
        .contains("review.claim", "review.reject");
    assertThat(asSubmitter.body())
        .doesNotContain("rita")
        .doesNotContain("minor")
        .doesNotContain("trust and safety");
  }

  @Test
  @Order(4)
  void shouldShowASubmitterAnErasedRequestsRemovalWithoutTheOperator() throws Exception {
    audit.seed(AuditEvents.story(Scenario.of("sec-acme-erased", "acme", Decision.BLOCK, NOW)));
    HttpResponse<String> erased =
        audit.post(
            "/api/v1/requests/sec-acme-erased/erase", admin, "{\"reason\":\"DSR-2026-900\"}");
    assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);

    JsonNode byReviewer = json(audit.get("/api/v1/requests/sec-acme-erased", acmeReviewer));
    assertThat(byReviewer.path("status").asText()).isEqualTo("CONTENT_REMOVED");
    assertThat(byReviewer.path("removals").get(0).path("removal").path("by").asText())
        .startsWith("ada (");

    HttpResponse<String> asSubmitter = audit.get("/api/v1/requests/sec-acme-erased", acmeSubmitter);
    assertThat(asSubmitter.statusCode()).isEqualTo(200);
    JsonNode story = json(asSubmitter);
    JsonNode removal = story.path("removals").get(0).path("removal");
    assertThat(removal.path("scope").asText()).isEqualTo("REQUEST");
    assertThat(removal.has("by")).as(removal.toString()).isFalse();
    assertThat(asSubmitter.body()).doesNotContain("ada (");
  }

  @Test
  @Order(5)
  void shouldAuditEveryStateChangingCallWithItsCaller() throws Exception {
    // A call that reads no body refuses one rather than ignore what it asks for (here: only one
    // tenant's retention), and does nothing.
    HttpResponse<String> scoped =
        audit.post("/api/v1/retention/run", admin, "{\"tenantId\": \"acme\"}");
    assertThat(scoped.statusCode()).isEqualTo(400);
    assertThat(scoped.body()).contains("takes no body");
    assertThat(
            audit
                .post("/api/v1/reviews/sec-acme-1/claim", acmeReviewer, "{\"note\": \"mine\"}")
                .statusCode())
        .isEqualTo(400);
    assertThat(audit.post("/api/v1/reviews/sec-acme-1/claim", acmeReviewer, "{}").statusCode())
        .isEqualTo(200);
    assertThat(audit.post("/api/v1/reviews/sec-acme-1/unclaim", acmeReviewer, null).statusCode())
        .isEqualTo(200);
    assertThat(
            audit
                .post(
                    "/api/v1/reviews/sec-acme-1/approve",
                    acmeReviewer,
                    "{\"note\":\"'); drop table review_item; --\"}")
                .statusCode())
        .isEqualTo(202);
    assertThat(
            audit
                .post("/api/v1/reviews/sec-acme-2/reject", acmeReviewer, "{\"note\":\"slur\"}")
                .statusCode())
        .isEqualTo(202);
    HttpResponse<String> created =
        audit.post(
            "/api/v1/tokens",
            admin,
            "{\"role\":\"compliance\",\"name\":\"auditor\",\"validDays\":30}");
    assertThat(created.statusCode()).isEqualTo(201);
    String newToken = json(created).path("token").asText();
    ISSUED.add(newToken);
    assertThat(audit.delete("/api/v1/tokens/" + newToken.substring(4, 16), admin).statusCode())
        .isEqualTo(204);
    assertThat(audit.put("/api/v1/retention/acme", admin, "{\"retentionDays\":400}").statusCode())
        .isEqualTo(200);
    assertThat(audit.delete("/api/v1/retention/acme", admin).statusCode()).isEqualTo(204);
    assertThat(audit.post("/api/v1/retention/run", admin, null).statusCode()).isEqualTo(200);
    assertThat(audit.get("/api/v1/outputs/export?format=json", compliance).statusCode())
        .isEqualTo(200);

    Map<String, String> expected =
        Map.ofEntries(
            Map.entry("review.claim", "rita"),
            Map.entry("review.unclaim", "rita"),
            Map.entry("review.approve", "rita"),
            Map.entry("review.reject", "rita"),
            Map.entry("token.create", "ada"),
            Map.entry("token.revoke", "ada"),
            Map.entry("retention.set", "ada"),
            Map.entry("retention.remove", "ada"),
            Map.entry("retention.run", "ada"),
            Map.entry("outputs.export", "carl"),
            Map.entry("request.submit", "sam"));
    for (var entry : expected.entrySet()) {
      assertThat(
              audit.count(
                  "select count(*) from api_action a join audit_log l on l.event_id = a.event_id"
                      + " where a.action = '"
                      + entry.getKey()
                      + "' and a.caller_name = '"
                      + entry.getValue()
                      + "'"
                      + " and l.event_type = 'ApiAction'"))
          .as(entry.getKey())
          .isPositive();
    }
    // The injection attempt in the note is stored as text.
    assertThat(
            audit.count(
                "select count(*) from review_item where note = '''); drop table review_item; --'"))
        .isEqualTo(1);
    JsonNode actions = json(audit.get("/api/v1/audit/actions?limit=200", compliance));
    assertThat(actions.path("items"))
        .extracting(item -> item.path("action").asText())
        .contains("review.approve", "token.create");
    JsonNode verification = json(audit.get("/api/v1/audit/verify", compliance));
    assertThat(verification.path("valid").asBoolean()).as(verification.toString()).isTrue();
    HttpResponse<String> noAnchors = audit.get("/api/v1/audit/anchors", compliance);
    assertThat(noAnchors.statusCode()).isEqualTo(404);
    assertThat(json(noAnchors).path("error").asText()).contains("keeps no anchor file");
  }

  @Test
  @Order(6)
  void shouldRefuseBodiesThatAreNotUtf8OrGiveAValueOfTheWrongType() throws Exception {
    byte[] latin1 = "{\"prompt\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    HttpResponse<String> notUtf8 =
        audit.send(
            audit
                .request("/api/v1/requests", acmeSubmitter)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(latin1)));
    assertThat(notUtf8.statusCode()).isEqualTo(400);
    assertThat(json(notUtf8).path("error").asText()).startsWith("Body is not valid UTF-8");
    HttpResponse<String> numberPrompt =
        audit.post("/api/v1/requests", acmeSubmitter, "{\"prompt\":42}");
    assertThat(numberPrompt.statusCode()).isEqualTo(400);
    assertThat(json(numberPrompt).path("error").asText())
        .isEqualTo("The member at /prompt must be a string, see /api/v1/openapi.yaml");
    HttpResponse<String> fractionalTokens =
        audit.post("/api/v1/requests", acmeSubmitter, "{\"prompt\":\"hi\",\"maxTokens\":30.5}");
    assertThat(fractionalTokens.statusCode()).isEqualTo(400);
    assertThat(json(fractionalTokens).path("error").asText())
        .isEqualTo("The member at /maxTokens must be a whole number, see /api/v1/openapi.yaml");
    HttpResponse<String> textDays =
        audit.put("/api/v1/retention/acme", admin, "{\"retentionDays\":\"30\"}");
    assertThat(textDays.statusCode()).isEqualTo(400);
    assertThat(json(textDays).path("error").asText())
        .isEqualTo("The member at /retentionDays must be a whole number, see /api/v1/openapi.yaml");
    HttpResponse<String> utf8 =
        audit.post("/api/v1/requests", acmeSubmitter, "{\"prompt\":\"caf\u00e9 \u4e16\u754c\"}");
    assertThat(utf8.statusCode()).isEqualTo(202);
  }

  @Test
  @Order(6)
  void shouldLimitBodyParameterAndHeaderSizes() throws Exception {
    String big = "{\"prompt\":\"" + "a".repeat(100_000) + "\"}";
    HttpResponse<String> tooLarge = audit.post("/api/v1/requests", acmeSubmitter, big);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(json(tooLarge).path("error").asText())
        .contains("The body is over 65536 bytes, the limit (GENGUARD_AUDIT_MAX_BODY_BYTES)");
    // Chunked: no declared length, which Javalin's own limit does not see.
    HttpResponse<String> chunked =
        audit.send(
            audit
                .request("/api/v1/requests", acmeSubmitter)
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))));
    assertThat(chunked.statusCode()).isEqualTo(413);
    assertThat(json(chunked).path("error").asText())
        .contains("The body is over 65536 bytes, the limit (GENGUARD_AUDIT_MAX_BODY_BYTES)");
    HttpResponse<String> nullBody =
        audit.post("/api/v1/reviews/sec-globex-1/approve", globexReviewer, "null");
    assertThat(nullBody.statusCode()).isEqualTo(400);
    assertThat(json(nullBody).path("error").asText()).contains("The body is JSON null");
    HttpResponse<String> trailing =
        audit.post("/api/v1/requests", acmeSubmitter, "{\"prompt\":\"hi\"} {\"prompt\":\"x\"}");
    assertThat(trailing.statusCode()).isEqualTo(400);
    assertThat(json(trailing).path("error").asText()).contains("Body is not valid JSON");
    HttpResponse<String> noRoute = audit.get("/api/v1/nothing-here", acmeReviewer);
    assertThat(noRoute.statusCode()).isEqualTo(404);
    assertThat(json(noRoute).path("status").asInt()).isEqualTo(404);
    HttpResponse<String> longParameter =
        audit.get("/api/v1/outputs?group=" + "g".repeat(300), acmeReviewer);
    assertThat(longParameter.statusCode()).isEqualTo(400);
    assertThat(json(longParameter).path("error").asText())
        .contains("group has 300 characters; the limit is 256");
    // A request id is any text of at most 1,024 UTF-8 bytes (RequestIds), as the generator's.
    HttpResponse<String> longId = audit.get("/api/v1/requests/" + "r".repeat(1_025), acmeReviewer);
    assertThat(longId.statusCode()).isEqualTo(400);
    assertThat(json(longId).path("error").asText()).contains("has 1025 bytes in UTF-8");
    HttpResponse<String> hugeHeader =
        audit.send(
            audit
                .request("/api/v1/reviews", acmeReviewer)
                .header("X-Padding", "p".repeat(20_000))
                .GET());
    assertThat(hugeHeader.statusCode()).isEqualTo(431);
    HttpResponse<String> repeated =
        audit.get("/api/v1/outputs?decision=BLOCK&decision=REVIEW", acmeReviewer);
    assertThat(repeated.statusCode()).isEqualTo(400);
    // Routes without parameters refuse them too, rather than ignore a tenant asked for.
    for (String path :
        List.of("/api/v1/summary?tenant=globex", "/api/v1/bias/campaigns?tenant=globex")) {
      HttpResponse<String> ignored = audit.get(path, audit.token(Role.COMPLIANCE, "acme", "cora"));
      assertThat(ignored.statusCode()).as(path).isEqualTo(400);
      assertThat(json(ignored).path("error").asText()).contains("Unknown query parameter 'tenant'");
    }
    HttpResponse<String> unknown = audit.get("/api/v1/outputs?decison=BLOCK", acmeReviewer);
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(json(unknown).path("error").asText()).contains("Unknown query parameter 'decison'");
    String longNote = "{\"note\":\"" + "n".repeat(2_001) + "\"}";
    HttpResponse<String> note =
        audit.post("/api/v1/reviews/sec-globex-1/approve", globexReviewer, longNote);
    assertThat(note.statusCode()).isEqualTo(400);
    assertThat(json(note).path("error").asText())
        .contains("note has 2001 characters; the limit is 2000");
  }

  @Test
  @Order(7)
  void shouldTreatInjectionAttemptsInEveryParameterAsPlainValues() throws Exception {
    long outputs = audit.count("select count(*) from generation_output");
    long tokens = audit.count("select count(*) from api_token");
    long tables =
        audit.count("select count(*) from information_schema.tables where table_schema = 'public'");
    List<String> payloads =
        List.of(
            "' OR '1'='1",
            "acme' OR tenant_id <> 'acme' --",
            "x'); DROP TABLE audit_log; --",
            "1; select pg_sleep(3); --",
            "\" OR \"\"=\"",
            "%' union select * from api_token --",
            "religion:muslim' or 1=1 --",
            "2026-01-01T00:00:00Z' or '1'='1",
            "\u0000",
            "../../etc/passwd");
    Map<String, List<String>> endpoints =
        Map.of(
            "/api/v1/outputs",
                List.of(
                    "tenant",
                    "decision",
                    "outcome",
                    "category",
                    "minScore",
                    "group",
                    "from",
                    "to",
                    "limit",
                    "cursor"),
            "/api/v1/outputs/export",
                List.of(
                    "tenant",
                    "decision",
                    "outcome",
                    "category",
                    "minScore",
                    "group",
                    "from",
                    "to",
                    "format"),
            "/api/v1/reviews", List.of("state", "tenant", "limit", "cursor"),
            "/api/v1/bias/reports", List.of("tenant", "campaignId", "limit", "cursor"),
            "/api/v1/bias/reports/some-report", List.of("format"),
            "/api/v1/bias/metrics", List.of("scope", "campaignId", "model", "from", "to"),
            "/api/v1/audit/actions", List.of("tenant", "limit", "cursor"),
            "/api/v1/tokens", List.of("limit", "cursor"),
            "/api/v1/audit/verify", List.of("anchorSeq", "anchorHash"));
    int calls = 0;
    for (var endpoint : endpoints.entrySet()) {
      for (String parameter : endpoint.getValue()) {
        for (String payload : payloads) {
          String token =
              endpoint.getKey().equals("/api/v1/reviews")
                  ? acmeReviewer
                  : endpoint.getKey().equals("/api/v1/tokens")
                      ? admin
                      : endpoint.getKey().startsWith("/api/v1/bias/metrics")
                              || endpoint.getKey().startsWith("/api/v1/audit/verify")
                          ? compliance
                          : acmeCompliance;
          long started = System.nanoTime();
          HttpResponse<String> response =
              audit.get(
                  endpoint.getKey()
                      + "?"
                      + parameter
                      + "="
                      + URLEncoder.encode(payload, StandardCharsets.UTF_8),
                  token);
          long millis = (System.nanoTime() - started) / 1_000_000;
          String what = endpoint.getKey() + "?" + parameter + "=" + payload;
          assertThat(response.statusCode()).as(what).isIn(200, 400, 403, 404);
          assertThat(millis).as(what + " ran no injected pg_sleep").isLessThan(2_500);
          if (!endpoint.getKey().equals("/api/v1/audit/verify")
              && !endpoint.getKey().equals("/api/v1/bias/metrics")) {
            assertThat(response.body())
                .as(what)
                .doesNotContain(GLOBEX_SECRET)
                .doesNotContain("sec-globex-1");
          }
          if (response.statusCode() == 200 && endpoint.getKey().equals("/api/v1/outputs")) {
            assertThat(json(response).path("items")).as(what + " matches nothing").isEmpty();
          }
          calls++;
        }
      }
    }
    for (String payload : payloads) {
      String encoded = URLEncoder.encode(payload, StandardCharsets.UTF_8).replace("+", "%20");
      for (String path :
          List.of(
              "/api/v1/requests/",
              "/api/v1/reviews/",
              "/api/v1/bias/reports/",
              "/api/v1/bias/campaigns/")) {
        HttpResponse<String> response = audit.get(path + encoded, admin);
        assertThat(response.statusCode()).as(path + payload).isIn(400, 404);
        calls++;
      }
    }
    assertThat(calls).isGreaterThan(400);
    assertThat(audit.count("select count(*) from generation_output")).isEqualTo(outputs);
    assertThat(audit.count("select count(*) from api_token")).isEqualTo(tokens);
    assertThat(
            audit.count(
                "select count(*) from information_schema.tables where table_schema = 'public'"))
        .isEqualTo(tables);
  }

  @Test
  @Order(100)
  void shouldNeverWriteATokenToAnyLog() throws Exception {
    // One more call with a token in a place it does not belong, then read every captured line.
    audit.get("/api/v1/reviews?token=" + acmeReviewer, acmeReviewer);
    audit.get("/api/v1/no-such-route", admin);
    assertThat(LOGS.list)
        .as("the request logger ran")
        .anySatisfy(event -> assertThat(event.getFormattedMessage()).contains("/api/v1/reviews"));
    Set<String> secrets = new java.util.HashSet<>();
    for (String token : ISSUED) {
      secrets.add(token);
      secrets.add(token.substring(17)); // the secret part alone
    }
    for (ILoggingEvent event : List.copyOf(LOGS.list)) {
      StringBuilder text = new StringBuilder(event.getFormattedMessage());
      for (IThrowableProxy error = event.getThrowableProxy();
          error != null;
          error = error.getCause()) {
        text.append(' ').append(error.getMessage());
      }
      for (String secret : secrets) {
        assertThat(text.toString())
            .as("log line of " + event.getLoggerName())
            .doesNotContain(secret);
      }
    }
  }
}
