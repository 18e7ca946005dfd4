package io.genguard.audit.query;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.explain.RecordedExplanations;
import io.genguard.audit.explain.VerdictExplanations;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The joins of two tenants' records under one request id that the fiftieth session's first fix
 * (SharedOutputIdITCase) left by request or output id alone, with the ids the pipeline derives: the
 * generator makes the output id (and its event id) from the request id alone, so the second
 * tenant's output is an event id conflict of the first tenant's, and the moderator makes the
 * verdict id from (output id, policy version).
 */
class SharedRequestIdJoinsITCase {
  private static final Instant T0 = Instant.parse("2026-11-03T00:00:00Z");
  private static RunningAuditService audit;

  @BeforeAll
  static void start() {
    audit = RunningAuditService.start("shared_request_id_joins_it");
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  /**
   * Beta's verdict under acme's request id, judged under beta's own policy version (its own verdict
   * id, as the moderator derives it), of beta's output under the shared output id.
   */
  private static ModerationVerdict ownVerdict(Scenario s, String policyVersion) {
    return ModerationVerdict.newBuilder(AuditEvents.verdict(s))
        .setPolicyVersion(policyVersion)
        .setEventId(EventIds.nameBased("verdict-event", s.outputId(), policyVersion))
        .setVerdictId(EventIds.nameBased("verdict", s.outputId(), policyVersion))
        .build();
  }

  /**
   * Acme's story, then beta's output under the same request id (a conflict of acme's output record:
   * its content names beta) and beta's verdict, then other content under acme's output event id
   * that names acme (a conflict of acme's alone). Beta's story listed acme's conflict too: the
   * story read the conflicts by request id alone.
   */
  @Test
  void shouldListInATenantsStoryOnlyTheConflictsOfThatTenantsRecords() throws Exception {
    String requestId = "joins-story";
    Scenario acme = Scenario.of(requestId, "acme", Decision.RELEASE, T0);
    audit.seed(AuditEvents.story(acme));
    Scenario beta =
        Scenario.of(requestId, "beta", Decision.RELEASE, T0.plusSeconds(1))
            .withText("Beta's own output.");
    assertThat(beta.outputId()).isEqualTo(acme.outputId());
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(beta)),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), ownVerdict(beta, "beta-2"))));
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(AuditEvents.output(acme))
                    .setText("other content under acme's output id")
                    .build())));
    assertThat(
            audit.count("select count(*) from event_id_conflict where request_id = 'joins-story'"))
        .isEqualTo(2);

    // A global token naming the tenant reads the story as that tenant's: a conflict's content
    // naming the other tenant is withheld.
    String compliance = audit.token(Role.COMPLIANCE, null, "carl");
    assertThat(conflictTexts(requestId + "?tenant=acme", compliance))
        .as("acme's story: beta's output contests acme's record, and acme's own conflict")
        .containsExactly("withheld", "other content under acme's output id");
    assertThat(conflictTexts(requestId + "?tenant=beta", compliance))
        .as("beta's story: only the conflict that names beta, not acme's own")
        .containsExactly("Beta's own output.");
  }

  /** The text of each conflict's content in the story, "withheld" where it is not shown. */
  private static List<String> conflictTexts(String story, String token) throws Exception {
    HttpResponse<String> response = audit.get("/api/v1/requests/" + story, token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    List<String> texts = new ArrayList<>();
    json(response)
        .path("eventIdConflicts")
        .forEach(
            c ->
                texts.add(
                    c.path("payload").isNull()
                        ? "withheld"
                        : c.path("payload").path("text").asText()));
    return texts;
  }

  /**
   * Explaining acme's held verdict fails in the background while beta's newer held verdict under
   * the same request id arrives: the failure was recorded against the newest verdict of any tenant
   * under the id (beta's), and acme's verdict, never recorded as handled, would be tried again.
   */
  @Test
  void shouldRecordABackgroundExplanationsFailureAgainstTheVerdictOfItsOwnTenant()
      throws Exception {
    String requestId = "joins-explain";
    Scenario acme = Scenario.of(requestId, "acme", Decision.BLOCK, T0);
    Scenario beta = Scenario.of(requestId, "beta", Decision.BLOCK, T0.plusSeconds(5));
    ModerationVerdict betasVerdict = ownVerdict(beta, "beta-2");
    VerdictExplanations failing =
        (verdict, output) -> {
          if (!verdict.getRequestId().equals(requestId)) {
            return VerdictExplanations.Explanation.notExplained("not this test's");
          }
          try {
            audit.seed(
                List.of(
                    AuditEvents.incoming(
                        Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(beta)),
                    AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), betasVerdict)));
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
          throw new IllegalStateException("scorer down");
        };
    audit.seed(AuditEvents.story(acme));
    RecordedExplanations explained =
        new RecordedExplanations(
            audit.service().database().dataSource(),
            audit.service().queries(),
            failing,
            Clock.systemUTC());
    explained.explainHeld(100, () -> true);

    String failures =
        "select count(*) from api_action where action = 'requests.explain'"
            + " and request_id = 'joins-explain'"
            + " and details->>'detail' like 'explaining failed: %scorer down'";
    assertThat(
            audit.count(
                failures + " and target = '" + acme.verdictId() + "' and tenant_id = 'acme'"))
        .as("the failure is recorded against acme's verdict")
        .isEqualTo(1);
    assertThat(audit.count(failures + " and target = '" + betasVerdict.getVerdictId() + "'"))
        .as("not against beta's, which was not the verdict explained")
        .isZero();
  }

  /**
   * Acme's output released (its outcome recorded); initech's output under the same request id
   * released too, and the gate's restatement of initech's release (no outcome event id: a gate that
   * named none) reached this store, initech's outcome not. The view of restatements whose outcome
   * is not on record matched acme's outcome by output id alone, so initech's restatement stood in
   * for nothing (its story said its outcome was on record; the totals, replay and takedown window
   * left it out).
   */
  @Test
  void shouldKeepATenantsRestatementWhoseOutcomeIsNotOnRecordBesideAnotherTenantsOutcome()
      throws Exception {
    String requestId = "joins-restated";
    Scenario acme = Scenario.of(requestId, "acme", Decision.RELEASE, T0);
    audit.seed(AuditEvents.story(acme));
    Scenario initech = Scenario.of(requestId, "initech", Decision.RELEASE, T0.plusSeconds(1));
    audit.seed(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(initech)),
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS.name(), ownVerdict(initech, "initech-2")),
            AuditEvents.incoming(
                Topics.GATE_RESTATEMENTS.name(),
                io.genguard.events.v1.GateDecisionRestated.newBuilder(
                        AuditEvents.restatedRelease(
                            initech, T0.plusSeconds(2), T0.plusSeconds(60), null, null))
                    // As the gate derives it (state format 4).
                    .setEventId(
                        EventIds.nameBased(
                            "gate-restated", requestId, "initech", initech.outputId(), "RELEASED"))
                    .build())));
    assertThat(
            audit.count(
                "select count(*) from gate_restatement where request_id = 'joins-restated'"
                    + " and tenant_id = 'initech'"))
        .isEqualTo(1);
    assertThat(
            audit.count(
                "select count(*) from gate_restatement_unrecorded"
                    + " where request_id = 'joins-restated' and tenant_id = 'initech'"))
        .as("initech's release is on record only as the gate's restatement")
        .isEqualTo(1);
    JsonNode story =
        json(
            audit.get(
                "/api/v1/requests/" + requestId + "?tenant=initech",
                audit.token(Role.COMPLIANCE, null, "carl")));
    assertThat(story.path("gateRestatements").path(0).path("outcomeOnRecord").asBoolean(true))
        .as("initech's story: the outcome of its restatement is not on record: " + story)
        .isFalse();
  }
}
