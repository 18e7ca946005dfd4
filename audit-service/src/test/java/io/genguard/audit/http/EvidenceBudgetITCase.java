package io.genguard.audit.http;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evidence bundles of one tenant's compliance token in a loop: each records its issue in the chain
 * and appends a signed line to the anchor file (kept forever, and sent to the witness topic where
 * there is one), so a tenant gets a budget of them (30 at once, then one every 10 s), answered 429
 * with Retry-After beyond it, while another tenant's bundles are still made. Until the forty-first
 * session every call was answered and grew the anchor file by a line.
 */
class EvidenceBudgetITCase {
  private static final Instant NOW = Instant.now();
  @TempDir static Path dir;
  private static RunningAuditService audit;
  private static Path anchorFile;

  @BeforeAll
  static void start() throws Exception {
    anchorFile = dir.resolve("anchors.jsonl");
    audit =
        RunningAuditService.start(
            "evidence_budget_it",
            Clock.systemUTC(),
            config ->
                config
                    .withAnchorFile(anchorFile, 3600)
                    .withAnchorSigningKeyFile(dir.resolve("anchor-keys")));
    audit.seed(AuditEvents.story(Scenario.of("budget-acme-1", "acme", Decision.REVIEW, NOW)));
    audit.seed(AuditEvents.story(Scenario.of("budget-globex-1", "globex", Decision.REVIEW, NOW)));
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  private static long anchorLines() throws Exception {
    return Files.exists(anchorFile) ? Files.readAllLines(anchorFile).size() : 0;
  }

  @Test
  void shouldGiveEachTenantABudgetOfEvidenceBundles() throws Exception {
    String acme = audit.token(Role.COMPLIANCE, "acme", "cora");
    long before = anchorLines();
    long started = System.nanoTime();
    int made = 0;
    HttpResponse<String> refused = null;
    for (int i = 0; i < 200 && refused == null; i++) {
      HttpResponse<String> response = audit.get("/api/v1/requests/budget-acme-1/evidence", acme);
      if (response.statusCode() == 200) {
        made++;
      } else {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(429);
        refused = response;
      }
    }
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();

    assertThat(refused).as("a 429 within 200 calls").isNotNull();
    assertThat(made).isBetween(30, 30 + (int) (seconds / 10) + 1);
    assertThat(refused.headers().firstValue("Retry-After"))
        .hasValueSatisfying(after -> assertThat(Integer.parseInt(after)).isBetween(1, 10));
    assertThat(json(refused).path("error").asText())
        .contains("Tenant 'acme'")
        .contains("evidence bundles");
    // At most a line per bundle made; none for the refusal.
    assertThat(anchorLines() - before).isLessThanOrEqualTo(made);
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'requests.evidence'"
                    + " and tenant_id = 'acme'"))
        .isEqualTo(made);

    // Another tenant's compliance gets its bundle.
    HttpResponse<String> globex =
        audit.get(
            "/api/v1/requests/budget-globex-1/evidence",
            audit.token(Role.COMPLIANCE, "globex", "gina"));
    assertThat(globex.statusCode()).as(globex.body()).isEqualTo(200);
  }
}
