package io.genguard.audit.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.testsupport.MovingClock;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/v1/retention/run} answers what it did, and when some scopes failed, which ones
 * and what the others did, from the whole audit service on real PostgreSQL and Kafka.
 */
class RetentionRunAnswerITCase {
  private static final Instant LONG_AGO = Instant.parse("2026-10-01T09:00:00Z");

  private static MovingClock clock;
  private static RunningAuditService audit;

  @BeforeAll
  static void start() throws Exception {
    clock = new MovingClock(LONG_AGO);
    audit = RunningAuditService.start("retention_run_answer_it", clock, config -> config);
    audit.seed(AuditEvents.story(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO)));
    audit.seed(AuditEvents.story(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO)));
    clock.advance(Duration.ofDays(40));
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  /**
   * The forty-eighth session's reports: a run that failed in one scope answered 500 with the
   * generic "Internal error" body, though the other scopes were applied: the caller learnt neither
   * which scope failed nor what was done. It names them now, without the database's own words; and
   * since the forty-ninth session's report, also the retention.run action that recorded the run
   * ({@code actionId}, as a successful run's answer names its own).
   */
  @Test
  void shouldAnswerAPartlyFailedRunWithTheFailedScopesAndWhatTheOthersDid() throws Exception {
    String admin = audit.token(Role.ADMIN, null, "ada");
    for (String tenant : new String[] {"acme", "globex"}) {
      assertThat(audit.put("/api/v1/retention/" + tenant, admin, "{\"retentionDays\":30}"))
          .extracting(HttpResponse::statusCode)
          .isEqualTo(200);
    }
    audit.execute(
        "create function fail_acme() returns trigger language plpgsql as $$ begin"
            + " raise exception 'acme_made_to_fail in audit_log'; end $$");
    audit.execute(
        "create trigger fail_acme before update on audit_log for each row"
            + " when (old.request_id = 'acme-old') execute function fail_acme()");

    HttpResponse<String> partly = audit.post("/api/v1/retention/run", admin, null);

    assertThat(partly.statusCode()).isEqualTo(500);
    JsonNode answer = RunningAuditService.json(partly);
    assertThat(answer.path("status").asInt()).isEqualTo(500);
    assertThat(answer.path("error").asText())
        .contains("Retention failed in the scope of tenant acme")
        .contains("the other scopes were applied (1 batch(es))")
        .contains("tried again at the next run");
    assertThat(answer.path("failedScopes")).hasSize(1);
    assertThat(answer.path("failedScopes").get(0).asText()).isEqualTo("tenant acme");
    assertThat(answer.path("applied")).hasSize(1);
    assertThat(answer.path("applied").get(0).path("tenantId").asText()).isEqualTo("globex");
    assertThat(answer.path("applied").get(0).path("tombstoned").asLong()).isPositive();
    assertThat(answer.path("biasReportsPruned").isArray()).isTrue();
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'retention.run'"
                    + " and details -> 'failedScopes' = '[\"tenant acme\"]'::jsonb"
                    + " and action_id = '"
                    + answer.path("actionId").asText()
                    + "'"))
        .as("the retention.run action that recorded the partly failed run, named by actionId")
        .isOne();
    assertThat(partly.body())
        .as("what the database said stays in the log")
        .doesNotContain("acme_made_to_fail")
        .doesNotContain("audit_log")
        .doesNotContain("PSQLException");

    audit.execute("drop trigger fail_acme on audit_log");
    HttpResponse<String> rest = audit.post("/api/v1/retention/run", admin, null);
    assertThat(rest.statusCode()).isEqualTo(200);
    JsonNode done = RunningAuditService.json(rest);
    assertThat(done.path("applied").get(0).path("tenantId").asText()).isEqualTo("acme");
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'retention.run'"
                    + " and details -> 'failedScopes' is null and action_id = '"
                    + done.path("actionId").asText()
                    + "'"))
        .as("as the successful run's actionId names its action")
        .isOne();
  }
}
