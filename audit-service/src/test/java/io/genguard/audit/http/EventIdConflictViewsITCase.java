package io.genguard.audit.http;

import static io.genguard.audit.fixtures.RunningAuditService.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.PythonVerifier;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.query.EventIdConflicts;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.schemas.Topics;
import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Other content read under a recorded event's id (event_id_conflict, migration V32) is shown where
 * a reviewer looks at a request: its story, the output search (a filter and a flag) and its
 * evidence bundle, which still holds up; a tenant's token sees no other tenant's content in them.
 */
class EventIdConflictViewsITCase {
  @TempDir static Path dir;
  private static RunningAuditService audit;
  private static String compliance;
  private static String acme;
  private static String globex;
  private static GenerationOutput genuine;
  private static GenerationOutput victimOutput;
  private static GenerationOutput resentOutput;

  @BeforeAll
  static void seedContestedRecords() throws Exception {
    audit =
        RunningAuditService.start(
            "event_id_conflict_views_it",
            Clock.systemUTC(),
            config ->
                config
                    .withAnchorFile(dir.resolve("anchors.jsonl"), 3600)
                    .withAnchorSigningKeyFile(dir.resolve("anchor-signing-keys")));
    compliance = audit.token(Role.COMPLIANCE, null, "carl");
    acme = audit.token(Role.COMPLIANCE, "acme", "cora");
    globex = audit.token(Role.COMPLIANCE, "globex", "gina");
    Instant now = Instant.now();

    // A forged output read first under the genuine one's id; the genuine one comes with its
    // story.
    Scenario contested = Scenario.of("contested-1", "acme", Decision.RELEASE, now);
    genuine = AuditEvents.output(contested);
    GenerationOutput forged = GenerationOutput.newBuilder(genuine).setText("forged text").build();
    audit.seed(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), forged)));
    audit.seed(AuditEvents.story(contested));
    audit.seed(AuditEvents.story(Scenario.of("quiet-1", "acme", Decision.RELEASE, now)));
    // Across tenants: a forged output naming an acme request under a globex output's id.
    Scenario victim = Scenario.of("victim-1", "globex", Decision.BLOCK, now);
    victimOutput = AuditEvents.output(victim);
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(victimOutput)
                    .setRequestId("forger-1")
                    .setTenantId("acme")
                    .setText("forged under globex's id")
                    .build())));
    audit.seed(AuditEvents.story(victim));
    // An answer given again after a person sent the request's unfinished flow again (V33): kept
    // apart, marked after_resend. The flow's row as UnfinishedFlows#resend leaves it.
    Scenario resent = Scenario.of("resent-1", "acme", Decision.RELEASE, now);
    resentOutput = AuditEvents.output(resent);
    audit.seed(AuditEvents.story(resent));
    audit.execute(
        "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
            + " recorded_at, found_at, resent_count, resent_at) select event_id, 'NO_ANSWER',"
            + " request_id, tenant_id, seq, recorded_at, recorded_at, 1, now() from audit_log"
            + " where request_id = 'resent-1' and event_type = 'GenerationRequest'");
    audit.seed(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(resentOutput).setText("answered again").build())));
    assertThat(audit.count("select count(*) from event_id_conflict")).isEqualTo(3);
    assertThat(audit.count("select count(*) from event_id_conflict where after_resend"))
        .isEqualTo(1);
  }

  @AfterAll
  static void stop() {
    audit.close();
  }

  @Test
  void shouldShowTheOtherContentInTheRequestsStory() throws Exception {
    // The story: the genuine content, the record it contests, both hashes.
    JsonNode story = json(audit.get("/api/v1/requests/contested-1", compliance));
    assertThat(story.path("eventIdConflicts")).hasSize(1);
    JsonNode conflict = story.path("eventIdConflicts").get(0);
    assertThat(conflict.path("eventId").asText()).isEqualTo(genuine.getEventId());
    assertThat(conflict.path("eventType").asText()).isEqualTo("GenerationOutput");
    assertThat(conflict.path("payload").path("text").asText()).isEqualTo(genuine.getText());
    assertThat(conflict.path("recordedRequestId").asText()).isEqualTo("contested-1");
    assertThat(conflict.path("recordedSeq").asLong())
        .isEqualTo(
            audit.count(
                "select seq from audit_log where event_id = '" + genuine.getEventId() + "'"));
    assertThat(conflict.path("payloadSha256").asText())
        .hasSize(64)
        .isNotEqualTo(conflict.path("recordedPayloadSha256").asText());
    assertThat(conflict.path("sourceTopic").asText()).isEqualTo(Topics.GENERATION_OUTPUTS.name());
    assertThat(conflict.path("afterResend").isBoolean()).isTrue();
    assertThat(conflict.path("afterResend").asBoolean()).isFalse();
    assertThat(json(audit.get("/api/v1/requests/quiet-1", compliance)).path("eventIdConflicts"))
        .isEmpty();
    // The tenant's own conflict, in full, to its token.
    assertThat(
            json(audit.get("/api/v1/requests/contested-1", acme))
                .path("eventIdConflicts")
                .get(0)
                .path("payload")
                .path("text")
                .asText())
        .isEqualTo(genuine.getText());

    // Across tenants: the forger's request shows that other content came under its record's
    // id, but not globex's content; the victim's shows its content, not the forger's request.
    JsonNode forgers = json(audit.get("/api/v1/requests/forger-1", acme)).path("eventIdConflicts");
    assertThat(forgers).hasSize(1);
    assertThat(forgers.get(0).path("eventId").asText()).isEqualTo(victimOutput.getEventId());
    assertThat(forgers.get(0).path("payload").isNull()).isTrue();
    assertThat(forgers.get(0).path("requestId").isNull()).isTrue();
    assertThat(forgers.get(0).path("withheld").asText())
        .isEqualTo(EventIdConflicts.WITHHELD_OTHER_TENANT);
    assertThat(forgers.get(0).path("tenantId").isNull()).isTrue();
    assertThat(forgers.toString()).doesNotContain("globex").doesNotContain(victimOutput.getText());
    JsonNode victims =
        json(audit.get("/api/v1/requests/victim-1", globex)).path("eventIdConflicts");
    assertThat(victims).hasSize(1);
    assertThat(victims.get(0).path("payload").path("text").asText())
        .isEqualTo(victimOutput.getText());
    assertThat(victims.get(0).path("recordedRequestId").isNull()).isTrue();
    assertThat(victims.toString()).doesNotContain("forger-1");
    assertThat(
            json(audit.get("/api/v1/requests/forger-1", compliance))
                .path("eventIdConflicts")
                .get(0)
                .path("requestId")
                .asText())
        .isEqualTo("victim-1");
  }

  @Test
  void shouldWithholdTheOtherTenantsHashesPlaceAndSeqFromATenantsToken() throws Exception {
    // A global token sees the row across tenants in full.
    JsonNode full =
        json(audit.get("/api/v1/requests/forger-1", compliance)).path("eventIdConflicts");
    String globexSha256 = full.get(0).path("payloadSha256").asText();
    String forgedSha256 = full.get(0).path("recordedPayloadSha256").asText();
    long forgedSeq = full.get(0).path("recordedSeq").asLong();
    assertThat(globexSha256).hasSize(64);
    assertThat(forgedSha256).hasSize(64);

    // The forger's tenant: its own record (seq, hash) but nothing of globex's event.
    JsonNode forgers = json(audit.get("/api/v1/requests/forger-1", acme)).path("eventIdConflicts");
    JsonNode acmeView = forgers.get(0);
    assertThat(acmeView.path("recordedSeq").asLong()).isEqualTo(forgedSeq);
    assertThat(acmeView.path("recordedPayloadSha256").asText()).isEqualTo(forgedSha256);
    for (String field :
        List.of("payloadSha256", "sourcePartition", "sourceOffset", "seenAt", "payload")) {
      assertThat(acmeView.path(field).isNull()).as(field).isTrue();
    }
    assertThat(fields(acmeView.path("withheldFields")))
        .contains("payloadSha256", "sourceOffset", "seenAt")
        .doesNotContain("recordedSeq");
    assertThat(forgers.toString()).doesNotContain(globexSha256);

    // The victim's tenant: its own content, but not the seq or hash of acme's record it contests.
    JsonNode victims =
        json(audit.get("/api/v1/requests/victim-1", globex)).path("eventIdConflicts");
    JsonNode globexView = victims.get(0);
    assertThat(globexView.path("payloadSha256").asText()).isEqualTo(globexSha256);
    assertThat(globexView.path("recordedSeq").isNull()).isTrue();
    assertThat(globexView.path("recordedPayloadSha256").isNull()).isTrue();
    assertThat(globexView.path("withheld").asText())
        .isEqualTo(EventIdConflicts.WITHHELD_OTHER_TENANT);
    assertThat(fields(globexView.path("withheldFields")))
        .containsExactlyInAnyOrder(
            "recordedSeq", "recordedRequestId", "recordedTenantId", "recordedPayloadSha256");
    assertThat(victims.toString()).doesNotContain(forgedSha256);

    // The same in the forger's evidence bundle.
    JsonNode bundle = json(audit.get("/api/v1/requests/forger-1/evidence", acme));
    assertThat(bundle.path("eventIdConflicts").get(0).path("payloadSha256").isNull()).isTrue();
    assertThat(bundle.toString()).doesNotContain(globexSha256);
  }

  @Test
  void shouldFindTheRequestsWithAConflictInTheSearch() throws Exception {
    // The search: a filter, and a flag on every row.
    assertThat(ids(compliance, "eventIdConflict=true"))
        .containsExactlyInAnyOrder("contested-1", "victim-1", "resent-1");
    assertThat(ids(acme, "eventIdConflict=true"))
        .containsExactlyInAnyOrder("contested-1", "resent-1");
    assertThat(ids(compliance, "eventIdConflict=false")).hasSize(4);
    JsonNode all = json(audit.get("/api/v1/outputs?limit=200", compliance)).path("items");
    for (JsonNode item : all) {
      assertThat(item.path("eventIdConflict").asBoolean())
          .as(item.path("requestId").asText())
          .isEqualTo(!item.path("requestId").asText().equals("quiet-1"));
    }
    HttpResponse<String> bad = audit.get("/api/v1/outputs?eventIdConflict=maybe", compliance);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).path("error").asText())
        .contains("eventIdConflict")
        .contains("unexplained");
  }

  @Test
  void shouldListOnlyTheConflictsNoResendExplainsInTheSearch() throws Exception {
    // The possible forgeries: not the answer given again after a resend (after_resend).
    assertThat(ids(compliance, "eventIdConflict=unexplained"))
        .containsExactlyInAnyOrder("contested-1", "victim-1");
    assertThat(ids(acme, "eventIdConflict=unexplained")).containsExactly("contested-1");
    assertThat(ids(compliance, "eventIdConflict=UNEXPLAINED&decision=BLOCK"))
        .containsExactly("victim-1");
    HttpResponse<String> export =
        audit.get("/api/v1/outputs/export?format=json&eventIdConflict=unexplained", compliance);
    assertThat(export.statusCode()).as(export.body()).isEqualTo(200);
    assertThat(export.body()).contains("contested-1").doesNotContain("resent-1");
  }

  /**
   * Reported by the forty-seventh session's reviews: a row listed without the filter did not say
   * whether a resend explains its conflicts. Every row has eventIdConflictUnexplained, true exactly
   * for the requests eventIdConflict=unexplained keeps (the resent request's answer given again is
   * a conflict, but an explained one).
   */
  @Test
  void shouldFlagEachRowWhoseConflictNoResendExplainsAsTheFilterKeepsIt() throws Exception {
    List<String> unexplained = ids(compliance, "eventIdConflict=unexplained");
    assertThat(unexplained).isNotEmpty().doesNotContain("resent-1");
    JsonNode all = json(audit.get("/api/v1/outputs?limit=200", compliance)).path("items");
    assertThat(all).hasSizeGreaterThan(unexplained.size());
    for (JsonNode item : all) {
      String requestId = item.path("requestId").asText();
      assertThat(item.path("eventIdConflictUnexplained").isBoolean()).as(requestId).isTrue();
      assertThat(item.path("eventIdConflictUnexplained").asBoolean())
          .as(requestId)
          .isEqualTo(unexplained.contains(requestId));
    }
    JsonNode resent =
        json(audit.get("/api/v1/outputs?eventIdConflict=true", compliance)).path("items");
    for (JsonNode item : resent) {
      if (item.path("requestId").asText().equals("resent-1")) {
        assertThat(item.path("eventIdConflict").asBoolean()).isTrue();
        assertThat(item.path("eventIdConflictUnexplained").asBoolean()).isFalse();
      }
    }
  }

  /**
   * The forty-seventh session's review (finding 7): the openapi says every row has eventIdConflict,
   * but the CSV export (the export's default format) had no such column, so a CSV export could not
   * tell which outputs were contested. Reported by the forty-ninth session's reviews: nor had it
   * eventIdConflictUnexplained, so it could not tell a possible forgery from an answer given again
   * after a resend. They are the last two columns, in that order.
   */
  @Test
  void shouldCarryBothConflictFlagsAsTheCsvExportsLastColumns() throws Exception {
    HttpResponse<String> csv = audit.get("/api/v1/outputs/export", compliance);
    assertThat(csv.statusCode()).as(csv.body()).isEqualTo(200);
    String[] lines = csv.body().split("\r\n");
    assertThat(lines[0]).endsWith(",retractedAt,eventIdConflict,eventIdConflictUnexplained");
    Map<String, String> flags = new HashMap<>();
    for (String line : lines) {
      String[] cells = line.split(",");
      flags.put(cells[0], cells[cells.length - 2] + "/" + cells[cells.length - 1]);
    }
    assertThat(flags)
        .containsEntry("contested-1", "true/true")
        .containsEntry("victim-1", "true/true")
        .containsEntry("resent-1", "true/false")
        .containsEntry("quiet-1", "false/false");
  }

  @Test
  void shouldListTheOtherContentInTheEvidenceBundleWhichStillHolds() throws Exception {
    // The evidence bundle lists it, not proven; the bundle still holds.
    VerificationKeyRing keys =
        VerificationKeyRing.parse(
            audit.get("/api/v1/audit/anchors/keys", compliance).body(), "kept keys");
    HttpResponse<String> evidence = audit.get("/api/v1/requests/contested-1/evidence", compliance);
    assertThat(evidence.statusCode()).as(evidence.body()).isEqualTo(200);
    JsonNode bundle = json(evidence);
    assertThat(bundle.path("eventIdConflicts")).hasSize(1);
    assertThat(bundle.path("eventIdConflicts").get(0).path("payload").asText())
        .isEqualTo(CanonicalJson.of(genuine));
    assertThat(bundle.path("eventIdConflicts").get(0).path("afterResend").isBoolean()).isTrue();
    assertThat(bundle.path("eventIdConflicts").get(0).path("afterResend").asBoolean()).isFalse();
    EvidenceCheck.Result result = EvidenceCheck.check(evidence.body(), keys);
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.eventIdConflicts()).isEqualTo(1);
    assertThat(result.summary())
        .startsWith("Evidence holds for request contested-1")
        .contains("1 event id conflict(s) listed");
    // Not covered by the digests: dropping the list changes nothing the check proves.
    com.fasterxml.jackson.databind.node.ObjectNode without =
        ((com.fasterxml.jackson.databind.node.ObjectNode) bundle).deepCopy();
    without.remove("eventIdConflicts");
    assertThat(EvidenceCheck.check(without, keys).complete()).isTrue();
    JsonNode forgersBundle = json(audit.get("/api/v1/requests/forger-1/evidence", acme));
    assertThat(forgersBundle.path("eventIdConflicts")).hasSize(1);
    assertThat(forgersBundle.path("eventIdConflicts").get(0).path("payload").isNull()).isTrue();
    assertThat(forgersBundle.toString()).doesNotContain(victimOutput.getText());
  }

  @Test
  void shouldReportAListedConflictThatContradictsTheRecordItContestsInTheBundle() throws Exception {
    VerificationKeyRing keys =
        VerificationKeyRing.parse(
            audit.get("/api/v1/audit/anchors/keys", compliance).body(), "kept keys");
    HttpResponse<String> evidence = audit.get("/api/v1/requests/contested-1/evidence", compliance);
    assertThat(evidence.statusCode()).as(evidence.body()).isEqualTo(200);
    ObjectNode bundle = (ObjectNode) json(evidence);
    assertThat(EvidenceCheck.check(bundle, keys).intact()).isTrue();
    ObjectNode listed = (ObjectNode) bundle.path("eventIdConflicts").get(0);
    long recordedSeq = listed.path("recordedSeq").asLong();

    // The contested record's hash changed in the listing (say, to the other content's own).
    ObjectNode otherHash =
        withFirstConflict(bundle, "recordedPayloadSha256", listed.path("payloadSha256").asText());
    EvidenceCheck.Result changed = EvidenceCheck.check(otherHash, keys);
    assertThat(changed.intact()).isFalse();
    assertThat(changed.problems())
        .anySatisfy(
            problem ->
                assertThat(problem)
                    .contains("event id conflict 1")
                    .contains("recordedPayloadSha256")
                    .contains("seq " + recordedSeq));
    assertThat(changed.summary()).startsWith("Evidence does NOT hold for request contested-1");

    // The listing names another record of the bundle as the one it contests.
    long requestSeq =
        audit.count(
            "select seq from audit_log where request_id = 'contested-1'"
                + " and event_type = 'GenerationRequest'");
    ObjectNode otherSeq = withFirstConflict(bundle, "recordedSeq", requestSeq);
    EvidenceCheck.Result moved = EvidenceCheck.check(otherSeq, keys);
    assertThat(moved.intact()).isFalse();
    assertThat(moved.problems())
        .anySatisfy(
            problem ->
                assertThat(problem)
                    .contains("event id conflict 1")
                    .contains("seq " + requestSeq + " in the bundle is event"));

    // The other content changed in the listing: it no longer hashes to its payloadSha256.
    ObjectNode otherText =
        withFirstConflict(
            bundle,
            "payload",
            listed.path("payload").asText().replace(genuine.getText(), "other text"));
    EvidenceCheck.Result edited = EvidenceCheck.check(otherText, keys);
    assertThat(edited.intact()).isFalse();
    assertThat(edited.problems())
        .anySatisfy(
            problem ->
                assertThat(problem)
                    .contains("event id conflict 1")
                    .contains("does not hash to its payloadSha256"));
  }

  /**
   * The independent verifier (examples/evidence/verify_evidence.py) compares a listed conflict with
   * the record it contests as EvidenceCheck does: before the forty-seventh session it accepted a
   * bundle whose listing contradicted the record.
   */
  @Test
  void shouldHaveThePythonVerifierRejectAListedConflictThatContradictsItsRecord() throws Exception {
    Path keyFile = dir.resolve("python-anchor-keys");
    Files.writeString(keyFile, audit.get("/api/v1/audit/anchors/keys", compliance).body());
    ObjectNode bundle =
        (ObjectNode) json(audit.get("/api/v1/requests/contested-1/evidence", compliance));
    ObjectNode listed = (ObjectNode) bundle.path("eventIdConflicts").get(0);
    long recordedSeq = listed.path("recordedSeq").asLong();
    assertThat(python(bundle, keyFile, 0)).last().isEqualTo("PROVEN");

    ObjectNode otherHash =
        withFirstConflict(bundle, "recordedPayloadSha256", listed.path("payloadSha256").asText());
    assertThat(python(otherHash, keyFile, 1))
        .contains(
            "problem: event id conflict 1 (event "
                + genuine.getEventId()
                + "): its recordedPayloadSha256 is not the SHA-256 of seq "
                + recordedSeq
                + "'s payload");

    long requestSeq =
        audit.count(
            "select seq from audit_log where request_id = 'contested-1'"
                + " and event_type = 'GenerationRequest'");
    ObjectNode otherSeq = withFirstConflict(bundle, "recordedSeq", requestSeq);
    assertThat(python(otherSeq, keyFile, 1))
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("problem: event id conflict 1")
                    .contains("seq " + requestSeq + " in the bundle is event"));

    // A seq the bundle does not hold, for an event it holds at another.
    ObjectNode elsewhere = withFirstConflict(bundle, "recordedSeq", 999_999);
    assertThat(python(elsewhere, keyFile, 1))
        .contains(
            "problem: event id conflict 1 (event "
                + genuine.getEventId()
                + "): it names seq 999999, but the bundle holds that event at seq "
                + recordedSeq);

    ObjectNode otherText =
        withFirstConflict(
            bundle,
            "payload",
            listed.path("payload").asText().replace(genuine.getText(), "other text"));
    assertThat(python(otherText, keyFile, 1))
        .contains(
            "problem: event id conflict 1 (event "
                + genuine.getEventId()
                + "): its payload does not hash to its payloadSha256");

    // Rows whose other tenant's fields are withheld are not compared: the bundles still hold, as
    // EvidenceCheck says.
    for (Map.Entry<String, String> tenantView :
        Map.of("forger-1", acme, "victim-1", globex).entrySet()) {
      ObjectNode withheld =
          (ObjectNode)
              json(
                  audit.get(
                      "/api/v1/requests/" + tenantView.getKey() + "/evidence",
                      tenantView.getValue()));
      assertThat(withheld.path("eventIdConflicts").get(0).path("withheldFields")).isNotEmpty();
      EvidenceCheck.Result java =
          EvidenceCheck.check(
              withheld, VerificationKeyRing.parse(Files.readString(keyFile), "kept keys"));
      assertThat(java.complete()).as(java.summary()).isTrue();
      assertThat(python(withheld, keyFile, 0)).last().isEqualTo("PROVEN");
    }
  }

  /**
   * A listed conflict naming a seq too large for a long, for an event the bundle holds at another
   * seq, contradicts its record in both verifiers. Before the forty-eighth session EvidenceCheck
   * let it pass while the Python verifier rejected the bundle.
   */
  @Test
  void shouldHaveBothVerifiersRejectAListedSeqTooLargeForALong() throws Exception {
    Path keyFile = dir.resolve("huge-seq-anchor-keys");
    Files.writeString(keyFile, audit.get("/api/v1/audit/anchors/keys", compliance).body());
    ObjectNode bundle =
        (ObjectNode) json(audit.get("/api/v1/requests/contested-1/evidence", compliance));
    long recordedSeq = bundle.path("eventIdConflicts").get(0).path("recordedSeq").asLong();
    ObjectNode huge = bundle.deepCopy();
    ((ObjectNode) huge.path("eventIdConflicts").get(0))
        .put("recordedSeq", new BigInteger("100000000000000000000"));
    String listed = "event id conflict 1 (event " + genuine.getEventId() + "): it names seq ";
    String held = ", but the bundle holds that event at seq " + recordedSeq;

    EvidenceCheck.Result java =
        EvidenceCheck.check(huge, VerificationKeyRing.parse(Files.readString(keyFile), "kept"));
    assertThat(java.problems())
        .as(java.summary())
        .contains(listed + "100000000000000000000 as the record it contests" + held);
    assertThat(python(huge, keyFile, 1))
        .contains("problem: " + listed + "100000000000000000000" + held);
  }

  /**
   * Both verifiers list a bundle's problems in one order: the listed conflicts' before the records'
   * tenants'. Before the forty-eighth session the Python verifier listed the conflicts' last.
   */
  @Test
  void shouldHaveBothVerifiersListTheConflictsProblemsInOneOrder() throws Exception {
    Path keyFile = dir.resolve("order-anchor-keys");
    Files.writeString(keyFile, audit.get("/api/v1/audit/anchors/keys", compliance).body());
    ObjectNode bundle =
        (ObjectNode) json(audit.get("/api/v1/requests/contested-1/evidence", compliance));
    ObjectNode listed = (ObjectNode) bundle.path("eventIdConflicts").get(0);
    // A conflict that contradicts its record, in a bundle naming another tenant than its records.
    ObjectNode both =
        withFirstConflict(bundle, "recordedPayloadSha256", listed.path("payloadSha256").asText());
    both.put("tenantId", "globex");

    EvidenceCheck.Result java =
        EvidenceCheck.check(both, VerificationKeyRing.parse(Files.readString(keyFile), "kept"));
    List<String> python =
        python(both, keyFile, 1).stream()
            .filter(line -> line.startsWith("problem: "))
            .map(line -> line.substring("problem: ".length()))
            .toList();
    assertThat(kinds(java.problems())).as(java.summary()).containsExactly("conflict", "tenant");
    assertThat(kinds(python)).as(String.join("\n", python)).containsExactly("conflict", "tenant");
  }

  /**
   * The problems' kinds in the order each first comes: "conflict" for a listed conflict's, "tenant"
   * for a record of another tenant than the bundle's (globex), else the problem itself.
   */
  private static List<String> kinds(List<String> problems) {
    return problems.stream()
        .map(
            problem ->
                problem.startsWith("event id conflict")
                    ? "conflict"
                    : problem.contains("globex") ? "tenant" : problem)
        .distinct()
        .toList();
  }

  /** A copy of the bundle whose first listed conflict has {@code field} set to {@code value}. */
  private static ObjectNode withFirstConflict(ObjectNode bundle, String field, String value) {
    ObjectNode copy = bundle.deepCopy();
    ((ObjectNode) copy.path("eventIdConflicts").get(0)).put(field, value);
    return copy;
  }

  /** A copy of the bundle whose first listed conflict has {@code field} set to {@code value}. */
  private static ObjectNode withFirstConflict(ObjectNode bundle, String field, long value) {
    ObjectNode copy = bundle.deepCopy();
    ((ObjectNode) copy.path("eventIdConflicts").get(0)).put(field, value);
    return copy;
  }

  /** Runs examples/evidence/verify_evidence.py on the bundle; its output lines. */
  private static List<String> python(ObjectNode bundle, Path keyFile, int expectedExit)
      throws Exception {
    return PythonVerifier.run(dir, bundle, keyFile, expectedExit);
  }

  @Test
  void shouldMarkTheOtherContentReadAfterAResendInTheStoryTheBundleAndTheUi() throws Exception {
    // An answer given again after a resend is not a forgery: the views say so (after_resend, V33).
    JsonNode story = json(audit.get("/api/v1/requests/resent-1", acme));
    assertThat(story.path("eventIdConflicts")).hasSize(1);
    JsonNode conflict = story.path("eventIdConflicts").get(0);
    assertThat(conflict.path("eventId").asText()).isEqualTo(resentOutput.getEventId());
    assertThat(conflict.path("afterResend").asBoolean()).isTrue();
    assertThat(conflict.path("payload").path("text").asText()).isEqualTo("answered again");

    HttpResponse<String> evidence = audit.get("/api/v1/requests/resent-1/evidence", compliance);
    assertThat(evidence.statusCode()).as(evidence.body()).isEqualTo(200);
    JsonNode listed = json(evidence).path("eventIdConflicts");
    assertThat(listed).hasSize(1);
    assertThat(listed.get(0).path("afterResend").asBoolean()).isTrue();

    // The UI's "Event id conflicts" section names it.
    HttpResponse<String> ui = audit.get("/ui/app.js", compliance);
    assertThat(ui.statusCode()).isEqualTo(200);
    assertThat(ui.body()).contains("c.afterResend ? ', read after a resend of the request");
  }

  private static List<String> ids(String token, String query) throws Exception {
    HttpResponse<String> response = audit.get("/api/v1/outputs?limit=200&" + query, token);
    assertThat(response.statusCode()).as(query + ": " + response.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    json(response).path("items").forEach(item -> ids.add(item.path("requestId").asText()));
    return ids;
  }

  private static List<String> fields(JsonNode array) {
    List<String> names = new ArrayList<>();
    array.forEach(name -> names.add(name.asText()));
    return names;
  }
}
