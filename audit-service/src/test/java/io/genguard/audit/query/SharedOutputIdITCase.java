package io.genguard.audit.query;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two tenants' records under one request id, with the ids the pipeline derives: the generator makes
 * the output id (and the output event id) from the request id alone, so both tenants' outputs carry
 * one output id, and the moderator makes the verdict id from (output id, policy version), so under
 * one policy version both verdicts carry one verdict id as well. The second tenant's output (and
 * such a verdict) is an event id conflict and never reaches the projections; a join by output or
 * verdict id alone then showed the first tenant's text, scores and outcome on the second tenant's
 * review item and search row (the review found it).
 */
class SharedOutputIdITCase {
  private static final String TAKEDOWN = "shared-ids-takedown";
  private static final Instant T0 = Instant.parse("2026-11-02T00:00:00Z");
  private static RunningAuditService audit;

  @BeforeAll
  static void start() {
    audit = RunningAuditService.start("shared_output_id_it");
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  /**
   * Acme's output released under policy version P; beta's output under the same request id, judged
   * under P too (so its verdict has acme's verdict id, and its output and verdict records are
   * conflicts), held for review on that verdict. Beta's reviewer saw acme's excerpt, decision and
   * scores on beta's item.
   */
  @Test
  void shouldShowNoOtherTenantsOutputOrVerdictOnAReviewItemUnderASharedRequestId()
      throws Exception {
    Scenario acme = Scenario.of("shared-ids-review", "acme", Decision.RELEASE, T0);
    audit.seed(AuditEvents.story(acme));
    Scenario beta =
        Scenario.of("shared-ids-review", "beta", Decision.REVIEW, T0.plusSeconds(1))
            .withText("Beta's own output, which only beta may read.");
    assertThat(beta.outputId()).isEqualTo(acme.outputId());
    assertThat(beta.verdictId()).isEqualTo(acme.verdictId());
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(beta)),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(beta)),
            AuditEvents.incoming(
                Topics.REVIEW_PENDING.name(),
                AuditEvents.gateOutcome(
                    beta,
                    GateOutcome.HELD_FOR_REVIEW,
                    GateBasis.VERDICT,
                    null,
                    T0.plusSeconds(2)))));

    String bob = audit.token(Role.REVIEWER, "beta", "bob");
    HttpResponse<String> response = audit.get("/api/v1/reviews/shared-ids-review", bob);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode item = json(response);
    assertThat(item.path("tenantId").asText()).isEqualTo("beta");
    assertThat(response.body())
        .as("beta's item shows nothing of acme's output or verdict")
        .doesNotContain("Generated text for shared-ids-review")
        .doesNotContain("RELEASE\"");
    assertThat(item.path("categoryScores").isMissingNode() || item.path("categoryScores").isNull())
        .as("no scores: " + item)
        .isTrue();
  }

  /**
   * Acme's output released; initech's output under the same request id, judged under its own policy
   * version (its own verdict id, as the moderator derives it) and quarantined. Initech's compliance
   * search listed its row with acme's text, model and outcome RELEASED.
   */
  @Test
  void shouldShowEachTenantsOwnTextAndOutcomeInTheSearchUnderASharedRequestId() throws Exception {
    Scenario acme = Scenario.of("shared-ids-search", "acme", Decision.RELEASE, T0);
    audit.seed(AuditEvents.story(acme));
    Scenario initech =
        Scenario.of("shared-ids-search", "initech", Decision.BLOCK, T0.plusSeconds(1))
            .withText("Initech's own output, which only initech may read.");
    String outputId = initech.outputId();
    assertThat(outputId).isEqualTo(acme.outputId());
    ModerationVerdict initechsVerdict =
        ModerationVerdict.newBuilder(AuditEvents.verdict(initech))
            .setPolicyVersion("initech-2")
            // As ContentModerator derives them.
            .setEventId(EventIds.nameBased("verdict-event", outputId, "initech-2"))
            .setVerdictId(EventIds.nameBased("verdict", outputId, "initech-2"))
            .build();
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(initech)),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), initechsVerdict),
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                io.genguard.events.v1.ReleaseGateOutcome.newBuilder(
                        AuditEvents.gateOutcome(
                            initech,
                            GateOutcome.QUARANTINED,
                            GateBasis.VERDICT,
                            null,
                            T0.plusSeconds(2)))
                    .setVerdictId(initechsVerdict.getVerdictId())
                    .setPolicyVersion("initech-2")
                    .build())));

    String initechs = audit.token(Role.COMPLIANCE, "initech", "ines");
    HttpResponse<String> response = audit.get("/api/v1/outputs", initechs);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body())
        .as("initech's row shows nothing of acme's output")
        .doesNotContain("Generated text for shared-ids-search");
    JsonNode initechRow = only(json(response), "initech");
    assertThat(initechRow.path("outcome").asText())
        .as("initech's own outcome, not acme's release: " + initechRow)
        .isEqualTo("QUARANTINED");

    String acmes = audit.token(Role.COMPLIANCE, "acme", "ann");
    JsonNode acmeRow = only(json(audit.get("/api/v1/outputs", acmes)), "acme");
    assertThat(acmeRow.path("text").asText()).startsWith("Generated text for shared-ids-search");
    assertThat(acmeRow.path("outcome").asText()).isEqualTo("RELEASED");
  }

  /**
   * Acme's output released and taken down; globex's output under the same request id, judged under
   * its own policy version. Globex's search row showed acme's takedown time.
   */
  @Test
  void shouldShowNoOtherTenantsTakedownInTheSearchUnderASharedRequestId() throws Exception {
    Scenario acme = Scenario.of(TAKEDOWN, "acme", Decision.RELEASE, T0);
    audit.seed(AuditEvents.story(acme));
    Scenario globex =
        Scenario.of(TAKEDOWN, "globex", Decision.RELEASE, T0.plusSeconds(1))
            .withText("Globex's own output.");
    String outputId = globex.outputId();
    ModerationVerdict globexVerdict =
        ModerationVerdict.newBuilder(AuditEvents.verdict(globex))
            .setPolicyVersion("globex-2")
            .setEventId(EventIds.nameBased("verdict-event", outputId, "globex-2"))
            .setVerdictId(EventIds.nameBased("verdict", outputId, "globex-2"))
            .build();
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(globex)),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), globexVerdict)));
    HttpResponse<String> retracted =
        audit.post(
            "/api/v1/requests/" + TAKEDOWN + "/retract",
            audit.token(Role.ADMIN, "acme", "ada"),
            "{\"reason\": \"complaint\"}");
    assertThat(retracted.statusCode()).as(retracted.body()).isEqualTo(201);

    JsonNode acmeRow =
        only(
            json(audit.get("/api/v1/outputs", audit.token(Role.COMPLIANCE, "acme", "ann"))),
            TAKEDOWN,
            "acme");
    assertThat(acmeRow.path("retractedAt").isTextual()).as(acmeRow.toString()).isTrue();
    JsonNode globexRow =
        only(
            json(audit.get("/api/v1/outputs", audit.token(Role.COMPLIANCE, "globex", "gus"))),
            TAKEDOWN,
            "globex");
    assertThat(globexRow.path("retractedAt").isTextual())
        .as("acme's takedown on globex's row: " + globexRow)
        .isFalse();
  }

  private static JsonNode only(JsonNode page, String tenant) {
    return only(page, "shared-ids-search", tenant);
  }

  private static JsonNode only(JsonNode page, String requestId, String tenant) {
    JsonNode rows = page.has("items") ? page.path("items") : page.path("outputs");
    if (rows.isMissingNode()) {
      rows = page;
    }
    JsonNode found = null;
    for (JsonNode row : rows) {
      if (row.path("requestId").asText().equals(requestId)
          && row.path("tenantId").asText().equals(tenant)) {
        assertThat(found).as("one row of " + tenant + ": " + page).isNull();
        found = row;
      }
    }
    assertThat(found).as("a row of " + tenant + ": " + page).isNotNull();
    return found;
  }
}
