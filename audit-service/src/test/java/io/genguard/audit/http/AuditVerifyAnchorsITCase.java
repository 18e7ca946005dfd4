package io.genguard.audit.http;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.provenance.manifest.VerificationKeyRing;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service anchors its chain head in a file, and its verify endpoint checks every anchor. */
class AuditVerifyAnchorsITCase {
  @TempDir Path dir;

  @Test
  void shouldAnchorTheHeadAndCheckTheChainAgainstEveryAnchorInTheFile() throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    try (RunningAuditService audit =
        RunningAuditService.start(
            "verify_anchors_it", Clock.systemUTC(), config -> config.withAnchorFile(file, 1))) {
      String compliance = audit.token(Role.COMPLIANCE, null, "carl");
      audit.seed(
          AuditEvents.story(Scenario.of("anchored-1", "acme", Decision.RELEASE, Instant.now())));
      // The request's story shows where its records sit in the chain, and once a head covering
      // them is anchored, says so.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                JsonNode story = json(audit.get("/api/v1/requests/anchored-1", compliance));
                JsonNode records = story.path("auditRecords");
                return records.size() >= 4
                    && story.path("anchoredThroughSeq").asLong()
                        >= records.get(records.size() - 1).path("seq").asLong();
              });
      JsonNode story = json(audit.get("/api/v1/requests/anchored-1", compliance));
      assertThat(story.path("auditRecords"))
          .allSatisfy(
              record -> {
                assertThat(record.path("hash").asText()).matches("[0-9a-f]{64}");
                assertThat(record.path("anchored").asBoolean()).isTrue();
              });
      assertThat(anchors(file).get(anchors(file).size() - 1).seq())
          .isEqualTo(story.path("anchoredThroughSeq").asLong());

      // A compliance officer keeps a copy of the anchors elsewhere, straight from the API.
      HttpResponse<String> copy = audit.get("/api/v1/audit/anchors", compliance);
      assertThat(copy.statusCode()).isEqualTo(200);
      assertThat(copy.headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("application/x-ndjson"));
      Path kept = dir.resolve("kept.jsonl");
      Files.writeString(kept, copy.body());
      assertThat(AnchorLog.read(kept).anchors()).isNotEmpty();
      assertThat(
              audit
                  .get("/api/v1/audit/anchors", audit.token(Role.COMPLIANCE, "acme", "cora"))
                  .statusCode())
          .as("the anchors cover every tenant's records")
          .isEqualTo(403);
      // The chain's head, to keep elsewhere: the newest record's seq and hash, for a global token.
      JsonNode head = json(audit.get("/api/v1/audit/head", compliance));
      assertThat(head.path("seq").asLong())
          .isGreaterThanOrEqualTo(story.path("anchoredThroughSeq").asLong());
      assertThat(head.path("hash").asText()).matches("[0-9a-f]{64}");
      assertThat(
              audit
                  .get("/api/v1/audit/head", audit.token(Role.COMPLIANCE, "acme", "cora"))
                  .statusCode())
          .as("the head counts every tenant's records")
          .isEqualTo(403);

      assertThat(audit.get("/api/v1/audit/anchors/keys", compliance).statusCode())
          .as("unsigned anchors have no keys")
          .isEqualTo(404);

      JsonNode intact = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(intact.path("valid").asBoolean()).as(intact.toString()).isTrue();
      assertThat(intact.has("anchorSignatures")).isFalse();
      assertThat(intact.path("anchorsChecked").asInt()).isPositive();
      assertThat(intact.path("anchorsMatched").asInt())
          .isEqualTo(intact.path("anchorsChecked").asInt());
      assertThat(intact.path("fromSeq").asLong()).isEqualTo(1);
      // Each verification is recorded in the chain: who, from where, what the chain held.
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'audit.verify'"
                      + " and (details->>'valid')::boolean and (details->>'fromSeq')::bigint = 1"
                      + " and (details->>'headSeq')::bigint = "
                      + intact.path("headSeq").asLong()
                      + " and details->>'headHash' = '"
                      + intact.path("headHash").asText()
                      + "'"))
          .isEqualTo(1);
      // From the head it reported: only the records from there on, and the anchors from there.
      JsonNode since =
          json(
              audit.get(
                  "/api/v1/audit/verify?fromSeq="
                      + intact.path("headSeq").asLong()
                      + "&fromHash="
                      + intact.path("headHash").asText(),
                  compliance));
      assertThat(since.path("valid").asBoolean()).as(since.toString()).isTrue();
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'audit.verify'"
                      + " and (details->>'fromSeq')::bigint = "
                      + intact.path("headSeq").asLong()))
          .isEqualTo(1);
      assertThat(since.path("fromSeq").asLong()).isEqualTo(intact.path("headSeq").asLong());
      assertThat(since.path("records").asLong())
          .isEqualTo(since.path("headSeq").asLong() - since.path("fromSeq").asLong() + 1);
      assertThat(since.path("anchorsChecked").asInt())
          .isLessThanOrEqualTo(intact.path("anchorsChecked").asInt());
      assertThat(audit.get("/api/v1/audit/verify?fromSeq=3", compliance).statusCode())
          .isEqualTo(400);

      // A line whose hash the chain does not have (in order after the real ones).
      ChainVerifier.Anchor last = anchors(file).get(anchors(file).size() - 1);
      Files.writeString(
          file,
          "{\"seq\":" + last.seq() + ",\"hash\":\"" + "0".repeat(64) + "\"}\n",
          StandardOpenOption.APPEND);
      JsonNode mismatch = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(mismatch.path("valid").asBoolean()).isFalse();
      assertThat(mismatch.path("firstBreak").path("problem").asText()).isEqualTo("ANCHOR_MISMATCH");
      assertThat(mismatch.path("firstBreak").path("seq").asLong()).isEqualTo(last.seq());

      Files.writeString(file, "not an anchor\n", StandardOpenOption.APPEND);
      HttpResponse<String> unreadable = audit.get("/api/v1/audit/verify", compliance);
      assertThat(unreadable.statusCode()).isEqualTo(500);
      assertThat(json(unreadable).path("error").asText())
          .contains("anchor file cannot be read")
          .contains("not JSON");
    }
  }

  @Test
  void shouldSignTheAnchorsAndFailVerificationOfAFileEditedWithoutTheKey() throws Exception {
    Path file = dir.resolve("signed.jsonl");
    try (RunningAuditService audit =
        RunningAuditService.start(
            "verify_signed_anchors_it",
            Clock.systemUTC(),
            config ->
                config
                    .withAnchorFile(file, 1)
                    .withAnchorSigningKeyFile(dir.resolve("anchor-signing-keys")))) {
      String compliance = audit.token(Role.COMPLIANCE, null, "carl");
      audit.seed(
          AuditEvents.story(Scenario.of("signed-1", "acme", Decision.RELEASE, Instant.now())));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Files.exists(file) && !anchors(file).isEmpty());

      HttpResponse<String> keys =
          audit.get("/api/v1/audit/anchors/keys", audit.token(Role.COMPLIANCE, "acme", "cora"));
      assertThat(keys.statusCode()).isEqualTo(200);
      assertThat(keys.body()).isEqualTo(Files.readString(AnchorLog.publicKeyFile(file)));
      VerificationKeyRing kept = VerificationKeyRing.parse(keys.body(), "kept keys");
      assertThat(AnchorLog.checkSignatures(AnchorLog.read(file), kept).valid()).isTrue();

      JsonNode intact = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(intact.path("valid").asBoolean()).as(intact.toString()).isTrue();
      assertThat(intact.path("anchorSignatures").path("signed").asInt()).isPositive();
      assertThat(intact.path("anchorSignatures").path("problems")).isEmpty();

      // The anchored head still matches the chain, but the line was rewritten without the key.
      List<String> lines = Files.readAllLines(file);
      int last = lines.size() - 1;
      lines.set(last, lines.get(last).replaceFirst("\"anchoredAt\":\"2", "\"anchoredAt\":\"1"));
      Files.write(file, lines);
      JsonNode edited = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(edited.path("anchorsMatched").asInt())
          .isEqualTo(edited.path("anchorsChecked").asInt());
      assertThat(edited.path("valid").asBoolean()).isFalse();
      assertThat(edited.path("summary").asText())
          .contains("the anchor file's signatures do not hold")
          .contains("the signature does not match the line");
      assertThat(edited.path("anchorSignatures").path("problems")).hasSize(1);
    }
  }

  @Test
  void shouldGiveARequestsEvidenceBundleThatHoldsWithThePublicKeysAlone() throws Exception {
    Path file = dir.resolve("evidence.jsonl");
    try (RunningAuditService audit =
        RunningAuditService.start(
            "evidence_route_it",
            Clock.systemUTC(),
            // Anchored every minute: the route anchors the head itself before it makes a bundle.
            config ->
                config
                    .withAnchorFile(file, 60)
                    .withAnchorSigningKeyFile(dir.resolve("anchor-signing-keys")))) {
      String compliance = audit.token(Role.COMPLIANCE, null, "carl");
      String acmeCompliance = audit.token(Role.COMPLIANCE, "acme", "cora");
      audit.seed(AuditEvents.story(Scenario.of("ev-1", "acme", Decision.BLOCK, Instant.now())));
      audit.seed(AuditEvents.story(Scenario.of("ev-2", "globex", Decision.RELEASE, Instant.now())));
      VerificationKeyRing keys =
          VerificationKeyRing.parse(
              audit.get("/api/v1/audit/anchors/keys", compliance).body(), "kept keys");

      HttpResponse<String> response = audit.get("/api/v1/requests/ev-1/evidence", compliance);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Disposition"))
          .hasValue("attachment; filename=\"evidence-ev-1.json\"");
      EvidenceCheck.Result result = EvidenceCheck.check(response.body(), keys);
      assertThat(result.complete()).as(result.summary()).isTrue();
      // The four records of the request, and the call that issued the bundle, recorded first.
      assertThat(result.records())
          .extracting(EvidenceCheck.RecordFinding::eventType)
          .containsExactly(
              "GenerationRequest",
              "GenerationOutput",
              "ModerationVerdict",
              "ReleaseGateOutcome",
              "ApiAction");
      JsonNode bundle = json(response);
      // Chain version 3: the canonical text holds the event's SHA-256, the event is beside it.
      assertThat(bundle.path("records").get(4).path("payload").asText())
          .contains("requests.evidence")
          .contains("carl");
      // The records up to the head the route anchored for it, and no later one.
      assertThat(bundle.path("throughSeq").asLong())
          .isEqualTo(
              AnchorLog.parse("bundle", 1, bundle.path("segments").get(0).path("anchor").asText())
                  .anchor()
                  .seq())
          .isGreaterThanOrEqualTo(bundle.path("records").get(4).path("seq").asLong());
      assertThat(bundle.toString()).doesNotContain("ev-2");
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'requests.evidence'"
                      + " and request_id = 'ev-1' and tenant_id = 'acme'"))
          .isEqualTo(1);

      // A tenant's compliance team gets its own requests (without the policy files, which hold
      // every tenant's rules), and no other tenant's.
      HttpResponse<String> own = audit.get("/api/v1/requests/ev-1/evidence", acmeCompliance);
      assertThat(own.statusCode()).isEqualTo(200);
      assertThat(json(own).path("policies")).isEmpty();
      assertThat(EvidenceCheck.check(own.body(), keys).complete()).isTrue();
      assertThat(audit.get("/api/v1/requests/ev-2/evidence", acmeCompliance).statusCode())
          .isEqualTo(404);
      assertThat(audit.get("/api/v1/requests/no-such/evidence", compliance).statusCode())
          .isEqualTo(404);
      assertThat(
              audit
                  .get("/api/v1/requests/ev-1/evidence", audit.token(Role.REVIEWER, "acme", "r"))
                  .statusCode())
          .isEqualTo(403);
      assertThat(audit.count("select count(*) from api_action where action = 'requests.evidence'"))
          .as("refused calls record nothing")
          .isEqualTo(2);

      // A data subject's erasure of ev-2 through the API: its content goes, the chain still
      // verifies, and its bundle proves the places and the erasure itself.
      String admin = audit.token(Role.ADMIN, null, "ada");
      assertThat(audit.post("/api/v1/requests/ev-2/erase", admin, "{}").statusCode())
          .isEqualTo(400);
      assertThat(
              audit
                  .post(
                      "/api/v1/requests/ev-2/erase",
                      audit.token(Role.ADMIN, "acme", "acme-admin"),
                      "{\"reason\": \"DSR-9\"}")
                  .statusCode())
          .as("another tenant's admin")
          .isEqualTo(404);
      HttpResponse<String> erased =
          audit.post("/api/v1/requests/ev-2/erase", admin, "{\"reason\": \"DSR-9\"}");
      assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
      assertThat(json(erased).path("tombstoned").asInt()).isEqualTo(4);
      assertThat(json(erased).path("tenantId").asText()).isEqualTo("globex");
      JsonNode erasedStory = json(audit.get("/api/v1/requests/ev-2", compliance));
      assertThat(erasedStory.path("status").asText()).isEqualTo("CONTENT_REMOVED");
      assertThat(erasedStory.path("removals").get(0).path("removal").path("reason").asText())
          .isEqualTo("DSR-9");
      JsonNode verified = json(audit.get("/api/v1/audit/verify", compliance));
      assertThat(verified.path("valid").asBoolean()).as(verified.toString()).isTrue();
      assertThat(verified.path("tombstones").asInt()).isEqualTo(4);
      // The erasure's notice to the gate and the retraction of ev-2's released output come back
      // from their topics into the chain, through the outbox and the ingestor, a moment later.
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  audit.count(
                          "select count(*) from audit_log where request_id = 'ev-2' and event_type"
                              + " in ('ErasureNotice', 'ContentRetraction')")
                      == 2);
      EvidenceCheck.Result afterErasure =
          EvidenceCheck.check(audit.get("/api/v1/requests/ev-2/evidence", compliance).body(), keys);
      assertThat(afterErasure.complete()).as(afterErasure.summary()).isTrue();
      assertThat(afterErasure.records())
          .extracting(EvidenceCheck.RecordFinding::status)
          .containsExactly(
              EvidenceCheck.Status.CONTENT_REMOVED,
              EvidenceCheck.Status.CONTENT_REMOVED,
              EvidenceCheck.Status.CONTENT_REMOVED,
              EvidenceCheck.Status.CONTENT_REMOVED,
              EvidenceCheck.Status.PROVEN,
              EvidenceCheck.Status.PROVEN,
              EvidenceCheck.Status.PROVEN,
              EvidenceCheck.Status.PROVEN,
              EvidenceCheck.Status.PROVEN);
      assertThat(afterErasure.records().subList(4, 6))
          .extracting(EvidenceCheck.RecordFinding::eventType)
          .as("the erasure and the erase call")
          .containsExactly("RetentionApplied", "ApiAction");
      assertThat(afterErasure.records().subList(6, 8))
          .extracting(EvidenceCheck.RecordFinding::eventType)
          .as("its notices, read back from their topics in either order")
          .containsExactlyInAnyOrder("ErasureNotice", "ContentRetraction");
      assertThat(afterErasure.records().get(8).eventType())
          .as("this bundle's issue")
          .isEqualTo("ApiAction");
      assertThat(
              audit.count(
                  "select count(*) from api_action where action = 'requests.erase'"
                      + " and request_id = 'ev-2' and details->>'reason' = 'DSR-9'"))
          .isEqualTo(1);

      // The verdict edited in the database after it was anchored: no bundle, and why.
      audit.execute(
          "update audit_log set payload = replace(payload, '\"BLOCK\"', '\"RELEASE\"')"
              + " where request_id = 'ev-1' and event_type = 'ModerationVerdict'");
      HttpResponse<String> edited = audit.get("/api/v1/requests/ev-1/evidence", compliance);
      assertThat(edited.statusCode()).isEqualTo(409);
      assertThat(json(edited).path("error").asText())
          .contains("does not prove its records of request ev-1")
          .contains("seq 5 (ModerationVerdict)")
          .contains("the payload was changed");

      // The anchor file damaged on disk: no bundle, and where.
      Files.writeString(file, "not an anchor\n", StandardOpenOption.APPEND);
      HttpResponse<String> damaged = audit.get("/api/v1/requests/ev-2/evidence", compliance);
      assertThat(damaged.statusCode()).isEqualTo(500);
      assertThat(json(damaged).path("error").asText())
          .contains("anchor file cannot be read")
          .contains("line ");

      // A data subject's requests, found by the attribute the platform tagged them with.
      String subject = "{\"key\": \"source\", \"value\": \"test\", \"reason\": \"DSR-10\"}";
      HttpResponse<String> noTenant = audit.post("/api/v1/erasures", admin, subject);
      assertThat(noTenant.statusCode()).isEqualTo(400);
      assertThat(json(noTenant).path("error").asText()).contains("tenantId is required");
      HttpResponse<String> bySubject =
          audit.post("/api/v1/erasures", audit.token(Role.ADMIN, "acme", "acme-admin-2"), subject);
      assertThat(bySubject.statusCode()).as(bySubject.body()).isEqualTo(200);
      assertThat(json(bySubject).path("erased"))
          .singleElement()
          .satisfies(one -> assertThat(one.path("requestId").asText()).isEqualTo("ev-1"));
      assertThat(json(bySubject).path("tombstoned").asInt()).isGreaterThanOrEqualTo(4);
    }
  }

  private static List<ChainVerifier.Anchor> anchors(Path file) throws Exception {
    return AnchorLog.read(file).anchors();
  }
}
