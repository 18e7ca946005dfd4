package io.genguard.audit.submit;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.genguard.audit.AuditService;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Each tenant's submission rate on the real service, Kafka and PostgreSQL: a tenant over its rate
 * is answered 429 with Retry-After and its request never reaches gen.requests, while another tenant
 * submits as before, and the tenant may submit again once its allowance refills.
 */
class SubmissionRateITCase {
  private static final String MARK = "rate-it-" + System.nanoTime();

  @Test
  void shouldRefuseATenantOverItsRateWithoutWritingTheRequest() throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start(
            "submission_rate_it",
            Clock.systemUTC(),
            config -> config.withSubmitRate(1, 2).withSubmitRates("vip=5/5"))) {
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      audit.service().bindMetrics(metrics);
      String acme = audit.token(Role.SUBMITTER, "acme", "sam");
      String globex = audit.token(Role.SUBMITTER, "globex", "gil");

      assertThat(submit(audit, acme, "acme 1").statusCode()).isEqualTo(202);
      assertThat(submit(audit, acme, "acme 2").statusCode()).isEqualTo(202);
      HttpResponse<String> refused = submit(audit, acme, "acme refused");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(json(refused).path("error").asText())
          .isEqualTo(
              "Tenant 'acme' submits more than its rate allows (1 request a second, bursts of 2:"
                  + " GENGUARD_AUDIT_SUBMIT_RATE, GENGUARD_AUDIT_SUBMIT_BURST,"
                  + " GENGUARD_AUDIT_SUBMIT_RATES); the request was not submitted, send it again"
                  + " in 1 s");
      assertThat(metrics.get(AuditService.SUBMISSIONS_REFUSED_METRIC).functionCounter().count())
          .isEqualTo(1);
      assertThat(submit(audit, globex, "globex 1").statusCode())
          .as("another tenant's allowance is its own")
          .isEqualTo(202);
      // A tenant with its own allowance (GENGUARD_AUDIT_SUBMIT_RATES).
      String vip = audit.token(Role.SUBMITTER, "vip", "val");
      for (int i = 1; i <= 5; i++) {
        assertThat(submit(audit, vip, "vip " + i).statusCode()).isEqualTo(202);
      }
      HttpResponse<String> vipRefused = submit(audit, vip, "vip refused");
      assertThat(vipRefused.statusCode()).isEqualTo(429);
      assertThat(json(vipRefused).path("error").asText())
          .contains("(5 requests a second, bursts of 5:");

      Thread.sleep(1_100);
      assertThat(submit(audit, acme, "acme 3").statusCode()).isEqualTo(202);

      // What reached gen.requests, as the service's own ingestor read it back from Kafka.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> persisted(audit, "%") == 9);
      assertThat(persisted(audit, "% acme refused")).isZero();
      assertThat(persisted(audit, "% vip refused")).isZero();
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'request.submit'"
                      + " and tenant_id = 'acme'"))
          .isEqualTo(3);
    }
  }

  private static HttpResponse<String> submit(RunningAuditService audit, String token, String text)
      throws Exception {
    return audit.post(
        "/api/v1/requests", token, "{\"prompt\":\"" + MARK + " " + text + "\",\"maxTokens\":4}");
  }

  private static long persisted(RunningAuditService audit, String suffix) throws Exception {
    return audit.count(
        "select count(*) from generation_request where prompt like '" + MARK + suffix + "'");
  }
}
