package io.genguard.audit.policy;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.PolicyFile;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.schemas.Topics;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy archive on the real service and PostgreSQL: a policy file recorded once in the hash
 * chain under the SHA-256 of its bytes (the digest verdicts carry), read back whole by global
 * tokens, refused when invalid, and never shown to a tenant's token (a file holds every tenant's
 * rules).
 */
class PolicyArchiveITCase {
  private static RunningAuditService audit;
  private static String admin;
  private static String compliance;

  @BeforeAll
  static void start() throws Exception {
    audit = RunningAuditService.start("policy_archive_it");
    admin = audit.token(Role.ADMIN, null, "ada");
    compliance = audit.token(Role.COMPLIANCE, null, "carl");
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  private static String body(String yaml) {
    return JsonNodeFactory.instance.objectNode().put("yaml", yaml).toString();
  }

  @Test
  void shouldRecordAPolicyFileOnceAndGiveItBackWholeUnderItsDigest() throws Exception {
    String yaml = PolicyLoader.defaultText().replace("\n", "\r\n") + "# archived \u2713\r\n";
    String sha256 =
        HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256").digest(yaml.getBytes(StandardCharsets.UTF_8)));

    HttpResponse<String> first = audit.post("/api/v1/policies", admin, body(yaml));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    JsonNode recorded = json(first);
    assertThat(recorded.path("recordedBefore").asBoolean()).isFalse();
    assertThat(recorded.path("policy").path("sha256").asText()).isEqualTo(sha256);
    assertThat(recorded.path("policy").path("policyId").asText()).isEqualTo("genguard-default");
    assertThat(recorded.path("policy").path("version").asText())
        .isEqualTo(PolicyLoader.loadDefault().version());

    HttpResponse<String> again = audit.post("/api/v1/policies", admin, body(yaml));
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(json(again).path("recordedBefore").asBoolean()).isTrue();
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'policies.record'"
                    + " and target = '"
                    + sha256
                    + "'"))
        .isEqualTo(1);

    HttpResponse<String> read = audit.get("/api/v1/policies/" + sha256, compliance);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(json(read).path("yaml").asText()).isEqualTo(yaml);
    assertThat(json(read).path("recordedBy").asText()).isEqualTo("ada");
    assertThat(json(audit.get("/api/v1/policies", compliance)).path("items").toString())
        .contains(sha256);
    ChainVerifier.Verification chain =
        ChainVerifier.verify(audit.service().database().dataSource());
    assertThat(chain.valid()).as(chain.summary()).isTrue();
  }

  @Test
  void shouldListThePolicyFilesVerdictsWereDecidedUnderAndSayWhichTheArchiveLacks()
      throws Exception {
    String yaml = PolicyLoader.defaultText() + "# decided verdicts before it was recorded\n";
    String late = PolicyLoader.parse(yaml, "the test's policy").sha256();
    String never = "e".repeat(64);
    Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
    List<IncomingEvent> verdicts =
        List.of(
            under(late, "late.1", Scenario.of("in-use-1", "acme", Decision.RELEASE, t0)),
            under(
                late, "late.1", Scenario.of("in-use-2", "acme", Decision.BLOCK, t0.plusSeconds(9))),
            under(never, "never.1", Scenario.of("in-use-3", "globex", Decision.REVIEW, t0)),
            under(
                late,
                "late.1",
                Scenario.of("in-use-4", "globex", Decision.RELEASE, t0.plusSeconds(3))),
            under("", "", Scenario.of("in-use-5", "acme", Decision.RELEASE, t0.plusSeconds(99))),
            // Not a digest, and longer than an index key may be: audited, not counted.
            under(
                randomLetters(10_000),
                "odd.1",
                Scenario.of("in-use-6", "acme", Decision.RELEASE, t0.plusSeconds(99))));
    audit.seed(verdicts.subList(0, 2));
    audit.seed(verdicts.subList(2, 6));
    audit.seed(verdicts); // redelivered: counted once

    JsonNode before = json(audit.get("/api/v1/policies/in-use", compliance));
    assertThat(before.path("unarchived").asLong()).isGreaterThanOrEqualTo(2);
    JsonNode lateUse = inUse(before, late);
    assertThat(lateUse.path("verdicts").asLong()).isEqualTo(3);
    assertThat(lateUse.path("version").asText()).isEqualTo("late.1");
    assertThat(Instant.parse(lateUse.path("firstDecidedAt").asText())).isEqualTo(t0.plusMillis(20));
    assertThat(Instant.parse(lateUse.path("lastDecidedAt").asText()))
        .isEqualTo(t0.plusSeconds(9).plusMillis(20));
    assertThat(lateUse.path("archived").asBoolean()).isFalse();
    assertThat(inUse(before, never).path("verdicts").asLong()).isEqualTo(1);
    assertThat(before.path("items").toString())
        .as("a verdict from before policySha256 names no file")
        .doesNotContain("\"sha256\":\"\"")
        .doesNotContain("odd.1");
    assertThat(
            audit.count("select count(*) from moderation_verdict where request_id like 'in-use-%'"))
        .isEqualTo(6);

    assertThat(audit.post("/api/v1/policies", admin, body(yaml)).statusCode()).isEqualTo(201);
    JsonNode after = json(audit.get("/api/v1/policies/in-use", compliance));
    assertThat(inUse(after, late).path("archived").asBoolean()).isTrue();
    assertThat(inUse(after, never).path("archived").asBoolean()).isFalse();
    assertThat(after.path("unarchived").asLong()).isEqualTo(before.path("unarchived").asLong() - 1);
    assertThat(
            audit
                .get("/api/v1/policies/in-use", audit.token(Role.COMPLIANCE, "acme", "cora"))
                .statusCode())
        .isEqualTo(403);
  }

  private static IncomingEvent under(String sha256, String version, Scenario scenario) {
    return AuditEvents.incoming(
        Topics.MODERATION_VERDICTS.name(),
        ModerationVerdict.newBuilder(AuditEvents.verdict(scenario))
            .setPolicySha256(sha256)
            .setPolicyVersion(version)
            .build());
  }

  /** Letters that do not compress, so that no index could hold them as a key. */
  private static String randomLetters(int length) {
    java.util.Random random = new java.util.Random(7);
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append((char) ('a' + random.nextInt(26)));
    }
    return out.toString();
  }

  private static JsonNode inUse(JsonNode list, String sha256) {
    for (JsonNode item : list.path("items")) {
      if (item.path("sha256").asText().equals(sha256)) {
        return item;
      }
    }
    throw new AssertionError("No policy " + sha256 + " in use in " + list);
  }

  @Test
  void shouldRecordTheJobsPolicyFileAtStartAndAgainOnceItChanged(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, PolicyLoader.defaultText());
    String first = PolicyLoader.load(file).sha256();
    try (RunningAuditService service =
        RunningAuditService.start(
            "policy_archive_job_it",
            Clock.systemUTC(),
            config -> config.withExplanations(dir.resolve("keys"), file))) {
      String reader = service.token(Role.COMPLIANCE, null, "carl");
      assertThat(service.get("/api/v1/policies/" + first, reader).statusCode()).isEqualTo(200);

      // The job takes an edited file (with a new version) without a restart; so does the archive.
      Files.writeString(
          file,
          PolicyLoader.defaultText().replaceFirst("version: \"[^\"]+\"", "version: \"edited.1\""));
      PolicyArchive.Recorded edited = service.service().recordJobPolicy();
      assertThat(edited.recordedBefore()).isFalse();
      assertThat(edited.policy().version()).isEqualTo("edited.1");
      assertThat(edited.policy().sha256()).isEqualTo(PolicyLoader.load(file).sha256());
      assertThat(service.service().recordJobPolicy().recordedBefore()).isTrue();
      assertThat(json(service.get("/api/v1/policies", reader)).path("items")).hasSize(2);

      // The service's own check records the next edit within the settle time and a check or two.
      Files.writeString(
          file,
          PolicyLoader.defaultText().replaceFirst("version: \"[^\"]+\"", "version: \"edited.2\""));
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  assertThat(json(service.get("/api/v1/policies", reader)).path("items").toString())
                      .contains("\"version\":\"edited.2\""));
      assertThat(json(service.get("/api/v1/policies", reader)).path("items")).hasSize(3);
    }
  }

  @Test
  void shouldArchiveThePolicyFilesTheModerationJobPublishesButNotOneWhoseTextIsNotItsDigest()
      throws Exception {
    String yaml = PolicyLoader.defaultText() + "# published by the job\n";
    String sha256 = PolicyLoader.parse(yaml, "test").sha256();
    String forged = "f".repeat(64); // names one file, carries another's rules
    RunningAuditService.produce(
        Topics.MODERATION_POLICIES,
        file -> file.getSha256().toString(),
        Stream.of(sha256, forged, sha256)
            .map(
                claimed ->
                    PolicyFile.newBuilder()
                        .setEventId("published-" + claimed + "-" + System.nanoTime())
                        .setSha256(claimed)
                        .setPolicyId("genguard-default")
                        .setVersion(PolicyLoader.loadDefault().version())
                        .setYaml(yaml)
                        .setOrigin("/etc/genguard/policy.yaml")
                        .setLoadedAt(Instant.now())
                        .build())
            .toList());

    audit.awaitCount(
        "select count(*) from audit_log where event_type = 'PolicyFile'", files -> files >= 3);
    HttpResponse<String> read = audit.get("/api/v1/policies/" + sha256, compliance);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    assertThat(json(read).path("yaml").asText()).isEqualTo(yaml);
    assertThat(json(read).path("recordedBy").asText()).isEqualTo(PolicyArchive.JOB_PUBLISHER);
    assertThat(
            audit.count(
                "select count(*) from api_action where action = 'policies.record' and target = '"
                    + sha256
                    + "'"))
        .as("published twice, archived once")
        .isEqualTo(1);
    assertThat(audit.get("/api/v1/policies/" + forged, compliance).statusCode()).isEqualTo(404);
    ChainVerifier.Verification chain =
        ChainVerifier.verify(audit.service().database().dataSource());
    assertThat(chain.valid()).as(chain.summary()).isTrue();
  }

  @Test
  void shouldRefuseAnInvalidPolicyWithItsLineAndRecordNothing() throws Exception {
    String broken =
        PolicyLoader.defaultText()
            .replace(
                "harassment:    {review: 0.50, block: 0.90}",
                "harassment:    {review: 1.5, block: 0.90}");
    assertThat(broken).isNotEqualTo(PolicyLoader.defaultText());
    HttpResponse<String> refused = audit.post("/api/v1/policies", admin, body(broken));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(json(refused).path("error").asText())
        .startsWith("Not a valid policy: ")
        .contains("line ");
    assertThat(audit.post("/api/v1/policies", admin, "{}").statusCode()).isEqualTo(400);
    // Text PostgreSQL cannot keep (a NUL) and YAML may not hold: refused, never a 500.
    HttpResponse<String> nul =
        audit.post("/api/v1/policies", admin, body(PolicyLoader.defaultText() + "# \u0000\n"));
    assertThat(nul.statusCode()).as(nul.body()).isEqualTo(400);
    assertThat(json(nul).path("error").asText()).startsWith("Not a valid policy: ");
  }

  @Test
  void shouldKeepPoliciesFromTenantTokensAndNameAFileByItsDigestOnly() throws Exception {
    String tenantCompliance = audit.token(Role.COMPLIANCE, "acme", "cora");
    String tenantAdmin = audit.token(Role.ADMIN, "acme", "acme-admin");
    String sha256 = PolicyLoader.loadDefault().sha256();
    assertThat(audit.get("/api/v1/policies/" + sha256, tenantCompliance).statusCode())
        .isEqualTo(403);
    assertThat(audit.get("/api/v1/policies", tenantCompliance).statusCode()).isEqualTo(403);
    assertThat(
            audit
                .post("/api/v1/policies", tenantAdmin, body(PolicyLoader.defaultText()))
                .statusCode())
        .isEqualTo(403);
    assertThat(audit.get("/api/v1/policies/" + "0".repeat(64), compliance).statusCode())
        .isEqualTo(404);
    assertThat(audit.get("/api/v1/policies/not-a-digest", compliance).statusCode()).isEqualTo(400);
  }
}
