package io.genguard.audit.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.ContentRetraction;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TopicReader;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /api/v1/requests/{requestId}/retract and POST /api/v1/retractions on a running audit
 * service: who may take down, what malformed calls are told, and that the notice reaches
 * content.retractions on real Kafka.
 */
class RetractionsApiITCase {
  private static final Instant AT = Instant.now().minusSeconds(600);
  private static final String RELEASED = "api-rel-" + UUID.randomUUID();
  private static final String HELD = "api-held-" + UUID.randomUUID();

  /** Released an hour before the others, alone in the bulk takedown's window. */
  private static final String BULK = "api-bulk-" + UUID.randomUUID();

  private static final Instant BULK_AT = AT.minusSeconds(3_600);
  private static RunningAuditService audit;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("retractions_api_it");
    List<io.genguard.audit.persistence.IncomingEvent> stories = new ArrayList<>();
    stories.addAll(AuditEvents.story(Scenario.of(RELEASED, "acme", Decision.RELEASE, AT)));
    stories.addAll(AuditEvents.story(Scenario.of(HELD, "acme", Decision.REVIEW, AT)));
    stories.addAll(AuditEvents.story(Scenario.of(BULK, "acme", Decision.RELEASE, BULK_AT)));
    audit.seed(stories);
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldTakeAReleasedOutputDownOnlyForAnAdminWithAReason() throws Exception {
    String path = "/api/v1/requests/" + RELEASED + "/retract";
    String admin = audit.token(Role.ADMIN, "acme", "ada");
    assertThat(audit.post(path, admin, "").statusCode()).isEqualTo(400);
    assertThat(audit.post(path, admin, "{}").body()).contains("reason is required");
    assertThat(audit.post(path, admin, "{\"reason\": \"a\\u0001b\"}").body())
        .contains("control character");
    assertThat(audit.post(path, admin, "{\"reason\": \"x\", \"colour\": \"red\"}").statusCode())
        .isEqualTo(400);
    assertThat(audit.post(path, admin, "{\"reason\": 42}").statusCode()).isEqualTo(400);
    for (Role role : List.of(Role.REVIEWER, Role.COMPLIANCE, Role.SUBMITTER)) {
      assertThat(audit.post(path, audit.token(role, "acme", "r"), "{\"reason\": \"x\"}"))
          .extracting(HttpResponse::statusCode)
          .as(role.name())
          .isEqualTo(403);
    }
    assertThat(
            audit
                .post(path, audit.token(Role.ADMIN, "globex", "gil"), "{\"reason\": \"x\"}")
                .statusCode())
        .as("another tenant's request is not found")
        .isEqualTo(404);
    assertThat(
            audit
                .post("/api/v1/requests/" + HELD + "/retract", admin, "{\"reason\": \"x\"}")
                .statusCode())
        .isEqualTo(409);

    HttpResponse<String> done = audit.post(path, admin, "{\"reason\": \"complaint C-9\"}");
    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    JsonNode retracted = RunningAuditService.json(done);
    assertThat(retracted.path("basis").asText()).isEqualTo("TAKEDOWN");
    HttpResponse<String> again = audit.post(path, admin, "{\"reason\": \"again\"}");
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.body()).contains("retracted already");
    assertThat(
            RunningAuditService.json(audit.get("/api/v1/requests/" + RELEASED, admin))
                .path("status")
                .asText())
        .isEqualTo("RETRACTED");

    // The outbox sends the notice to Kafka, where a publisher reads it.
    ContentRetraction notice = onKafka(RELEASED);
    assertThat(notice.getActionId()).isEqualTo(retracted.path("actionId").asText());
    assertThat(notice.getOutputId()).isEqualTo(retracted.path("outputId").asText());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                audit.count(
                        "select count(*) from audit_log where event_type = 'ContentRetraction'"
                            + " and request_id = '"
                            + RELEASED
                            + "'")
                    == 1);
  }

  /**
   * Two tenants' releases under one request id: an admin of every tenant who names none gets 409
   * with the tenants as a list too ({@code tenants}, as the story's 409 has them); a tenant's admin
   * takes its own tenant's down and never learns the other's name.
   */
  @Test
  void shouldListTheTenantsOfASharedReleaseInTheTakedownsConflict() throws Exception {
    String shared = "api-shared-" + UUID.randomUUID();
    Scenario acme = Scenario.of(shared, "acme", Decision.RELEASE, AT);
    List<io.genguard.audit.persistence.IncomingEvent> stories =
        new ArrayList<>(AuditEvents.story(acme));
    stories.add(
        AuditEvents.incoming(
            Topics.CONTENT_RELEASED.name(),
            AuditEvents.otherTenantsOutcome(
                acme, GateOutcome.RELEASED, GateBasis.VERDICT, null, AT.plusSeconds(1))));
    audit.seed(stories);
    String path = "/api/v1/requests/" + shared + "/retract";

    HttpResponse<String> ambiguous =
        audit.post(path, audit.token(Role.ADMIN, null, "ada"), "{\"reason\": \"T-7\"}");
    assertThat(ambiguous.statusCode()).as(ambiguous.body()).isEqualTo(409);
    assertThat(ambiguous.body()).contains("more than one tenant (acme, beta)");
    List<String> tenants = new ArrayList<>();
    RunningAuditService.json(ambiguous)
        .path("tenants")
        .forEach(tenant -> tenants.add(tenant.asText()));
    assertThat(tenants).as(ambiguous.body()).containsExactly("acme", "beta");

    HttpResponse<String> own =
        audit.post(path, audit.token(Role.ADMIN, "acme", "ann"), "{\"reason\": \"T-7\"}");
    assertThat(own.statusCode()).as(own.body()).isEqualTo(201);
    assertThat(RunningAuditService.json(own).path("tenantId").asText()).isEqualTo("acme");
    HttpResponse<String> again =
        audit.post(path, audit.token(Role.ADMIN, "acme", "ann"), "{\"reason\": \"T-7\"}");
    assertThat(again.statusCode()).as(again.body()).isEqualTo(409);
    assertThat(again.body()).doesNotContain("beta", "\"tenants\"");
  }

  @Test
  void shouldListWhatABulkTakedownWouldTakeAndTellWhatIsWrongWithIt() throws Exception {
    String admin = audit.token(Role.ADMIN, null, "ada");
    String window =
        "\"decidedFrom\": \""
            + BULK_AT.minusSeconds(60)
            + "\", \"decidedBefore\": \""
            + BULK_AT.plusSeconds(60)
            + "\"";
    HttpResponse<String> dry =
        audit.post("/api/v1/retractions", admin, "{" + window + ", \"dryRun\": true}");
    assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
    JsonNode listed = RunningAuditService.json(dry);
    assertThat(listed.path("dryRun").asBoolean()).isTrue();
    assertThat(listed.path("requestIds")).hasSize(1);
    assertThat(listed.path("requestIds").get(0).asText()).isEqualTo(BULK);
    assertThat(listed.path("retracted")).isEmpty();
    assertThat(
            audit.count(
                "select count(*) from content_retraction where request_id = '" + BULK + "'"))
        .as("a dry run takes nothing down")
        .isZero();
    assertThat(audit.post("/api/v1/retractions", admin, "{" + window + "}").body())
        .contains("reason is required");
    HttpResponse<String> done =
        audit.post("/api/v1/retractions", admin, "{" + window + ", \"reason\": \"incident I-7\"}");
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertThat(RunningAuditService.json(done).path("retracted").get(0).path("requestId").asText())
        .isEqualTo(BULK);
    assertThat(audit.post("/api/v1/retractions", admin, "{\"dryRun\": true}").body())
        .contains("decidedFrom and decidedBefore are required");
    assertThat(
            audit
                .post(
                    "/api/v1/retractions",
                    admin,
                    "{\"decidedFrom\": \"yesterday\", \"decidedBefore\": \"today\"}")
                .body())
        .contains("decidedFrom 'yesterday' is not an ISO-8601 UTC instant");
    HttpResponse<String> nulTenant =
        audit.post(
            "/api/v1/retractions",
            admin,
            "{" + window + ", \"tenantId\": \"a\\u0000\", \"dryRun\": true}");
    assertThat(nulTenant.statusCode()).as("not a 500 from the database").isEqualTo(400);
    assertThat(nulTenant.body()).contains("is not a tenant id");
    assertThat(
            audit
                .post(
                    "/api/v1/retractions",
                    audit.token(Role.ADMIN, "acme", "ann"),
                    "{" + window + ", \"tenantId\": \"globex\", \"dryRun\": true}")
                .statusCode())
        .isEqualTo(403);
    assertThat(
            audit
                .post(
                    "/api/v1/retractions",
                    admin,
                    "{" + window + ", \"requestIds\": [\"" + HELD + "\"], \"dryRun\": true}")
                .body())
        .contains("requestIds names the requests itself");
    JsonNode named =
        RunningAuditService.json(
            audit.post(
                "/api/v1/retractions",
                admin,
                "{\"requestIds\": [\"" + HELD + "\"], \"dryRun\": true}"));
    assertThat(named.path("requestIds")).isEmpty();
    assertThat(named.path("skipped").path(HELD).asText())
        .contains("has no released output on record");
    // Releases named with their tenants (the what-if's takedown): one per tenant, each skipped
    // with its tenant and why.
    HttpResponse<String> byRelease =
        audit.post(
            "/api/v1/retractions",
            admin,
            "{\"releases\": [{\"requestId\": \""
                + HELD
                + "\", \"tenantId\": \"acme\"}], \"dryRun\": true}");
    assertThat(byRelease.statusCode()).as(byRelease.body()).isEqualTo(200);
    JsonNode skippedRelease = RunningAuditService.json(byRelease).path("skippedReleases").get(0);
    assertThat(skippedRelease.path("tenantId").asText()).isEqualTo("acme");
    assertThat(skippedRelease.path("reason").asText()).contains("has no released output on record");
    assertThat(
            audit
                .post(
                    "/api/v1/retractions",
                    admin,
                    "{\"releases\": [{\"requestId\": \"" + HELD + "\"}], \"dryRun\": true}")
                .body())
        .contains("without a tenantId");
    assertThat(
            audit
                .post(
                    "/api/v1/retractions",
                    admin,
                    "{\"requestIds\": [\""
                        + HELD
                        + "\"], \"releases\": [{\"requestId\": \""
                        + HELD
                        + "\", \"tenantId\": \"acme\"}], \"dryRun\": true}")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            audit
                .post(
                    "/api/v1/retractions",
                    audit.token(Role.COMPLIANCE, null, "cora"),
                    "{" + window + ", \"dryRun\": true}")
                .statusCode())
        .isEqualTo(403);
  }

  /** The retraction of the request on content.retractions, read from the beginning. */
  private static ContentRetraction onKafka(String requestId) {
    return Topics.CONTENT_RETRACTIONS
        .codec()
        .decode(
            TopicReader.until(
                    IntegrationInfrastructure.get().kafkaClientProperties(),
                    Topics.CONTENT_RETRACTIONS.name(),
                    List.of(requestId),
                    1,
                    Duration.ofSeconds(60))
                .get(0));
  }
}
