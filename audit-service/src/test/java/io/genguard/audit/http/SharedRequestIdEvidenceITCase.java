package io.genguard.audit.http;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.PythonVerifier;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evidence route over HTTP for a request id two tenants use (acme and beta): a global token
 * that names no tenant is answered 409 with the tenants to choose among, and gets the tenant's
 * bundle with {@code ?tenant=}; a tenant's token gets its own tenant's bundle and never the other's
 * (403 naming it). After an admin's erasure each tenant's bundle proves its own removals, to both
 * verifiers, without naming the other tenant. Before the fifty-first session the route's tenant
 * choice was tested through EvidenceBundle alone, and the erasure's one record named acme, so
 * beta's bundle withheld it and its removals were not proven (the Python verifier exited 1).
 */
class SharedRequestIdEvidenceITCase {
  private static final Instant NOW = Instant.now();
  @TempDir static Path dir;
  private static RunningAuditService audit;
  private static String compliance;
  private static String acme;
  private static String beta;
  private static VerificationKeyRing keys;
  private static Path keyFile;

  @BeforeAll
  static void start() throws Exception {
    audit =
        RunningAuditService.start(
            "shared_request_id_evidence_it",
            Clock.systemUTC(),
            config ->
                config
                    .withAnchorFile(dir.resolve("anchors.jsonl"), 3600)
                    .withAnchorSigningKeyFile(dir.resolve("anchor-keys")));
    compliance = audit.token(Role.COMPLIANCE, null, "carl");
    acme = audit.token(Role.COMPLIANCE, "acme", "cora");
    beta = audit.token(Role.COMPLIANCE, AuditEvents.OTHER_TENANT, "bea");
    seedTwoTenants("shared-read-1");
    seedTwoTenants("shared-erased-1");
    String keyText = audit.get("/api/v1/audit/anchors/keys", compliance).body();
    keys = VerificationKeyRing.parse(keyText, "kept keys");
    keyFile = Files.writeString(dir.resolve("anchor-keys.pub"), keyText);
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  /** Acme's story (released) and beta's release, under one request id. */
  private static void seedTwoTenants(String requestId) throws Exception {
    Scenario scenario = Scenario.of(requestId, "acme", Decision.RELEASE, NOW);
    audit.seed(AuditEvents.story(scenario));
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                AuditEvents.otherTenantsOutcome(
                    scenario, GateOutcome.RELEASED, GateBasis.VERDICT, null, NOW))));
  }

  @Test
  void shouldHaveAGlobalTokenNameTheTenantAndATenantsTokenSeeOnlyItsOwn() throws Exception {
    HttpResponse<String> unnamed = audit.get("/api/v1/requests/shared-read-1/evidence", compliance);
    assertThat(unnamed.statusCode()).as(unnamed.body()).isEqualTo(409);
    List<String> tenants = new ArrayList<>();
    json(unnamed).path("tenants").forEach(tenant -> tenants.add(tenant.asText()));
    assertThat(tenants).containsExactly("acme", "beta");

    HttpResponse<String> named =
        audit.get("/api/v1/requests/shared-read-1/evidence?tenant=beta", compliance);
    assertThat(named.statusCode()).as(named.body()).isEqualTo(200);
    assertThat(json(named).path("tenantId").asText()).isEqualTo("beta");
    assertThat(named.body()).doesNotContain("acme");
    assertThat(EvidenceCheck.check(named.body(), keys).complete()).isTrue();

    for (String[] token : new String[][] {{acme, "acme", "beta"}, {beta, "beta", "acme"}}) {
      HttpResponse<String> own = audit.get("/api/v1/requests/shared-read-1/evidence", token[0]);
      assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
      assertThat(json(own).path("tenantId").asText()).isEqualTo(token[1]);
      assertThat(own.body()).as("%s's bundle", token[1]).doesNotContain(token[2]);
      HttpResponse<String> other =
          audit.get("/api/v1/requests/shared-read-1/evidence?tenant=" + token[2], token[0]);
      assertThat(other.statusCode()).as(other.body()).isEqualTo(403);
      assertThat(other.body()).doesNotContain("\"records\"");
    }
  }

  @Test
  void shouldProveEachTenantsRemovalsInItsOwnBundleAfterAnAdminsErasure() throws Exception {
    HttpResponse<String> erased =
        audit.post(
            "/api/v1/requests/shared-erased-1/erase",
            audit.token(Role.ADMIN, null, "ada"),
            "{\"reason\": \"DSR-51\"}");
    assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
    assertThat(json(erased).path("retentionSeqs")).as("one erasure record per tenant").hasSize(2);

    for (String[] token :
        new String[][] {{acme, "acme", "beta", ""}, {compliance, "beta", "acme", "?tenant=beta"}}) {
      HttpResponse<String> response =
          audit.get("/api/v1/requests/shared-erased-1/evidence" + token[3], token[0]);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      ObjectNode bundle = (ObjectNode) json(response);
      assertThat(bundle.path("tenantId").asText()).isEqualTo(token[1]);
      assertThat(response.body()).as("%s's bundle", token[1]).doesNotContain(token[2]);
      assertThat(bundle.path("records"))
          .as("%s's removals", token[1])
          .anySatisfy(record -> assertThat(record.has("removedBySeq")).isTrue());
      EvidenceCheck.Result result = EvidenceCheck.check(response.body(), keys);
      assertThat(result.complete()).as(result.summary()).isTrue();
      assertThat(PythonVerifier.run(dir, bundle, keyFile, 0))
          .as("%s's bundle", token[1])
          .contains("PROVEN")
          .noneMatch(line -> line.startsWith("problem:"));
    }
  }
}
