package io.genguard.audit.query;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Searching by a request attribute where two tenants use one request id: the attribute is of one
 * tenant's request, and finds that tenant's outputs only.
 */
class SharedRequestIdSearchITCase {
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  private static RunningAuditService audit;

  @BeforeAll
  static void seed() throws Exception {
    audit = RunningAuditService.start("shared_request_id_search_it");
    Scenario acme = Scenario.of("search-shared", "acme", Decision.RELEASE, T0);
    List<io.genguard.audit.persistence.IncomingEvent> story =
        new ArrayList<>(AuditEvents.story(acme));
    story.set(
        0,
        AuditEvents.incoming(
            Topics.GENERATION_REQUESTS.name(),
            GenerationRequest.newBuilder(AuditEvents.request(acme))
                .setAttributes(Map.of("userId", "u-77"))
                .build()));
    audit.seed(story);
    // Initech's output and verdict under the same request id (its request is not on record: the
    // request id is acme's there).
    Scenario initech = Scenario.of("search-shared", "initech", Decision.RELEASE, T0.plusSeconds(1));
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(initech))
                    .setEventId("output-event-initech-shared")
                    .setOutputId("output-initech-shared")
                    .build()),
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(),
                ModerationVerdict.newBuilder(AuditEvents.verdict(initech))
                    .setEventId("verdict-event-initech-shared")
                    .setVerdictId("verdict-initech-shared")
                    .setOutputId("output-initech-shared")
                    .build())));
    // Other content read under the id of acme's output (a conflict of acme's alone): it names
    // acme's request and tenant, and contests acme's record.
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(acme))
                    .setText("other content under acme's output id")
                    .build())));
    assertThat(
            audit.count(
                "select count(*) from event_id_conflict where request_id = 'search-shared'"
                    + " and tenant_id = 'acme'"))
        .isEqualTo(1);
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  /**
   * Before the forty-ninth session's fix the attribute matched by request id alone: a compliance
   * search for acme's data subject also listed initech's output, and initech's token learned that a
   * request under its id carries the attribute.
   */
  @Test
  void shouldFindByAnAttributeOnlyTheOutputsOfTheTenantWhoseRequestCarriesIt() throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, null, "carl");
    String initechs = audit.token(Role.COMPLIANCE, "initech", "ines");
    assertThat(tenants("/api/v1/outputs?attribute=userId:u-77", compliance))
        .containsExactly("acme");
    assertThat(tenants("/api/v1/outputs?attribute=userId:u-77", initechs)).isEmpty();
    assertThat(tenants("/api/v1/outputs", initechs)).containsExactly("initech");
    HttpResponse<String> export =
        audit.get("/api/v1/outputs/export?format=json&attribute=userId:u-77", compliance);
    assertThat(export.statusCode()).as(export.body()).isEqualTo(200);
    assertThat(export.body()).contains("\"acme\"").doesNotContain("initech");
  }

  /**
   * Reported by the forty-ninth session's reviews: the search's eventIdConflict flag (and filter)
   * joined event_id_conflict by request id alone, so acme's conflict flagged initech's output under
   * the shared request id too, and eventIdConflict=true kept it.
   */
  @Test
  void shouldFlagAConflictOnlyOnTheRowsOfTheTenantWhoseRecordsItConcerns() throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, null, "carl");
    HttpResponse<String> response = audit.get("/api/v1/outputs?limit=200", compliance);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    Map<String, String> flags = new java.util.HashMap<>();
    json(response)
        .path("items")
        .forEach(
            item ->
                flags.put(
                    item.path("tenantId").asText(),
                    item.path("eventIdConflict").asBoolean()
                        + "/"
                        + item.path("eventIdConflictUnexplained").asBoolean()));
    assertThat(flags).containsEntry("acme", "true/true").containsEntry("initech", "false/false");
    assertThat(tenants("/api/v1/outputs?eventIdConflict=true", compliance)).containsExactly("acme");
    assertThat(tenants("/api/v1/outputs?eventIdConflict=unexplained", compliance))
        .containsExactly("acme");
    assertThat(tenants("/api/v1/outputs?eventIdConflict=false", compliance))
        .containsExactlyInAnyOrder("acme", "initech");
    String initechs = audit.token(Role.COMPLIANCE, "initech", "ines");
    assertThat(tenants("/api/v1/outputs?eventIdConflict=true", initechs)).isEmpty();
    HttpResponse<String> export =
        audit.get("/api/v1/outputs/export?format=json&eventIdConflict=true", compliance);
    assertThat(export.statusCode()).as(export.body()).isEqualTo(200);
    assertThat(export.body()).contains("\"acme\"").doesNotContain("initech");
  }

  /**
   * A global token opening the shared request id's story gets 409: before the fiftieth session it
   * named the tenants only in its message, so a client (the compliance UI) could not offer them.
   * The answer lists them in tenants; naming one reads that tenant's story.
   */
  @Test
  void shouldListTheTenantsToChooseAmongInTheStorysConflict() throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, null, "carl");
    HttpResponse<String> ambiguous = audit.get("/api/v1/requests/search-shared", compliance);
    assertThat(ambiguous.statusCode()).as(ambiguous.body()).isEqualTo(409);
    List<String> named = new ArrayList<>();
    json(ambiguous).path("tenants").forEach(tenant -> named.add(tenant.asText()));
    assertThat(named).containsExactly("acme", "initech");
    assertThat(json(ambiguous).path("error").asText()).contains("acme, initech");
    HttpResponse<String> chosen =
        audit.get("/api/v1/requests/search-shared?tenant=initech", compliance);
    assertThat(chosen.statusCode()).as(chosen.body()).isEqualTo(200);
    assertThat(json(chosen).path("tenantId").asText()).isEqualTo("initech");
  }

  private static List<String> tenants(String path, String token) throws Exception {
    HttpResponse<String> response = audit.get(path, token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    List<String> tenants = new ArrayList<>();
    json(response).path("items").forEach(item -> tenants.add(item.path("tenantId").asText()));
    return tenants;
  }
}
