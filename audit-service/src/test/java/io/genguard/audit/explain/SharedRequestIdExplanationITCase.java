package io.genguard.audit.explain;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.moderation.job.BatchModerator;
import io.genguard.moderation.pipeline.ModerationPipelines;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The explanation route under a request id two tenants use, on real PostgreSQL with verdicts the
 * real moderator gave (reported by the fiftieth session's review: a token of every tenant was shown
 * the newest verdict of any tenant under the id, with no sign whose it was): one tenant's verdict
 * is explained, named by {@code ?tenant=} as the story's is; a token of every tenant that names
 * none gets 409 naming the tenants.
 */
class SharedRequestIdExplanationITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HELD_TEXT =
      "shut up you worthless stupid bitch, nobody wants you here";

  @TempDir static Path keys;
  private static RunningAuditService audit;
  private static final Map<String, String> VERDICTS = new java.util.HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    audit =
        RunningAuditService.start(
            "shared_explanation_it",
            Clock.systemUTC(),
            config -> config.withExplanations(keys, null));
    try (BatchModerator moderator =
        ModerationPipelines.factory("ngram-logistic", null, keys).create()) {
      for (String tenant : List.of("acme", "beta")) {
        Scenario scenario =
            Scenario.of("explain-shared", tenant, Decision.RELEASE, Instant.now())
                .withText(HELD_TEXT + " (" + tenant + ")");
        // Each tenant's own output and event ids (the pipeline's would be the same: a known gap).
        GenerationOutput output =
            GenerationOutput.newBuilder(AuditEvents.output(scenario))
                .setOutputId("output-" + tenant + "-explain-shared")
                .setEventId("output-event-" + tenant + "-explain-shared")
                .build();
        ModerationVerdict verdict = moderator.moderate(List.of(output)).get(0);
        VERDICTS.put(tenant, verdict.getVerdictId());
        audit.seed(
            List.of(
                AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), output),
                AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), verdict)));
      }
    }
    assertThat(VERDICTS.get("acme")).isNotEqualTo(VERDICTS.get("beta"));
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  private static JsonNode explanation(String path, String token, int status) throws Exception {
    HttpResponse<String> response = audit.get("/api/v1/requests/" + path, token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    return JSON.readTree(response.body());
  }

  @Test
  void shouldExplainTheNamedTenantsVerdictUnderASharedRequestId() throws Exception {
    String compliance = audit.token(Role.COMPLIANCE, null, "cora");

    JsonNode unnamed = explanation("explain-shared/explanation", compliance, 409);
    assertThat(unnamed.path("error").asText())
        .contains("more than one tenant (acme, beta)")
        .contains("\"tenant\" query parameter");
    for (String tenant : List.of("acme", "beta")) {
      JsonNode named = explanation("explain-shared/explanation?tenant=" + tenant, compliance, 200);
      assertThat(named.path("verdictId").asText()).as(tenant).isEqualTo(VERDICTS.get(tenant));
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'requests.explain'"
                      + " and request_id = 'explain-shared' and caller_name = 'cora'"
                      + " and tenant_id = '"
                      + tenant
                      + "'"))
          .as("recorded as an action on %s's request", tenant)
          .isEqualTo(1);
    }
    explanation("explain-shared/explanation?tenant=gamma", compliance, 404);

    // A tenant's token reads its own tenant's verdict; naming another tenant is refused.
    String betaReviewer = audit.token(Role.REVIEWER, "beta", "bob");
    assertThat(
            explanation("explain-shared/explanation", betaReviewer, 200).path("verdictId").asText())
        .isEqualTo(VERDICTS.get("beta"));
    assertThat(
            audit
                .get("/api/v1/requests/explain-shared/explanation?tenant=acme", betaReviewer)
                .statusCode())
        .isEqualTo(403);
  }

  /**
   * A tenant's reviewer whose client names another tenant (403) or a malformed one (400) over and
   * over: each call is refused for what it names, and the tenant's explanation budget (30 at once,
   * then one every 2 s) stays whole. Before the fifty-first session the route took a slot before it
   * checked the tenant, so such calls answered 429 after the 30th and held the tenant's own
   * explanations back, with nothing recorded.
   */
  @Test
  void shouldCheckTheNamedTenantBeforeTakingASlotOfTheExplanationBudget() throws Exception {
    String betaReviewer = audit.token(Role.REVIEWER, "beta", "bea");
    for (int i = 0; i < 60; i++) {
      String tenant = i % 2 == 0 ? "acme" : "not%20a%20tenant";
      HttpResponse<String> refused =
          audit.get("/api/v1/requests/explain-shared/explanation?tenant=" + tenant, betaReviewer);
      assertThat(refused.statusCode())
          .as("call %d (?tenant=%s): %s", i, tenant, refused.body())
          .isEqualTo(i % 2 == 0 ? 403 : 400);
    }
    assertThat(
            explanation("explain-shared/explanation?tenant=beta", betaReviewer, 200)
                .path("verdictId")
                .asText())
        .isEqualTo(VERDICTS.get("beta"));
  }
}
