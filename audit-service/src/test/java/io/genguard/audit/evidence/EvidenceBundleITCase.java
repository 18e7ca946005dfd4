package io.genguard.audit.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.evidence.EvidenceCheck.Result;
import io.genguard.audit.evidence.EvidenceCheck.Status;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.PythonVerifier;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainAppender;
import io.genguard.audit.persistence.ChainRecord;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.events.v1.Decision;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evidence bundles from a real PostgreSQL chain and a signed anchor file: a request's records are
 * proven to a third party with the public keys alone, and every change to the bundle or to the
 * chain under it shows.
 */
class EvidenceBundleITCase {
  private static final Instant NOW = Instant.parse("2026-12-04T10:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private AuditDatabase database;
  private AuditWriter writer;
  private AnchorLog anchors;
  private Path anchorFile;
  private VerificationKeyRing keys;
  private PolicyArchive archive;

  @BeforeEach
  void chainWithSignedAnchors(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    String url = infra.createDatabase("evidence_", test);
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    writer = new AuditWriter(database.dataSource(), clock);
    anchorFile = dir.resolve("anchors.jsonl");
    anchors =
        new AnchorLog(
            anchorFile,
            Clock.systemUTC(),
            ProvenanceKeys.signingKeysAt(dir.resolve("anchor-signing-keys"), "anchor-1"));
    keys =
        VerificationKeyRing.parse(
            Files.readString(AnchorLog.publicKeyFile(anchorFile)), "anchor keys");
    archive = new PolicyArchive(database.dataSource(), clock);
  }

  @AfterEach
  void close() {
    database.close();
  }

  @Test
  void shouldProveEveryRecordOfARequestWithTheAnchorAfterIt() throws Exception {
    archive.record(PolicyLoader.defaultText(), "test", Caller.system("test"));
    for (int i = 0; i < 3; i++) {
      story("req-" + i, Decision.REVIEW);
    }
    anchors.publish(database.dataSource()); // covers seqs 1-13 (the archive's record first)
    story("req-3", Decision.RELEASE);
    anchors.publish(database.dataSource());

    ObjectNode bundle = bundle("req-1", null).orElseThrow();
    Result result = EvidenceCheck.check(bundle, keys);

    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.summary()).startsWith("Evidence holds for request req-1: 4 of 4 records");
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::seq)
        .containsExactly(6L, 7L, 8L, 9L);
    assertThat(result.records())
        .allSatisfy(
            finding -> {
              assertThat(finding.status()).isEqualTo(Status.PROVEN);
              assertThat(finding.anchorSeq()).isEqualTo(13L);
              assertThat(finding.keyId()).isEqualTo("anchor-1");
            });
    assertThat(result.segments()).isEqualTo(1);
    assertThat(result.links()).as("seqs 6 to the anchor at 13").isEqualTo(8);
    assertThat(bundle.path("tenantId").asText()).isEqualTo("acme");
    // The records between the request's show only as digests: nothing of req-2 is in the bundle.
    assertThat(bundle.toString()).doesNotContain("req-2");
    // The verdict's policy file, from the archive, with the digest the verdict names.
    assertThat(bundle.path("policies")).hasSize(1);
    assertThat(bundle.path("policies").get(0).path("sha256").asText())
        .isEqualTo(AuditEvents.POLICY_SHA256);
    assertThat(result.policies())
        .containsExactly(java.util.Map.entry(AuditEvents.POLICY_SHA256, true));

    // The same text a file would hold, checked from the text.
    assertThat(EvidenceCheck.check(JSON.writeValueAsString(bundle), keys).complete()).isTrue();
  }

  @Test
  void shouldProveARequestWhoseRecordsSpanAnchorsOneSegmentEach() throws Exception {
    List<IncomingEvent> late = AuditEvents.story(scenario("req-late", Decision.REVIEW));
    writer.write(late.subList(0, 2));
    anchors.publish(database.dataSource()); // seq 2
    story("req-between", Decision.RELEASE); // seqs 3-6
    writer.write(late.subList(2, 4)); // seqs 7-8
    anchors.publish(database.dataSource());

    ObjectNode bundle = bundle("req-late", null).orElseThrow();
    Result result = EvidenceCheck.check(bundle, keys);

    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.segments()).isEqualTo(2);
    assertThat(result.links()).as("seqs 1-2, then 7-8").isEqualTo(4);
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::anchorSeq)
        .containsExactly(2L, 2L, 8L, 8L);
  }

  @Test
  void shouldShowRecordsNewerThanTheNewestAnchorAsNotAnchored() throws Exception {
    story("req-old", Decision.RELEASE);
    anchors.publish(database.dataSource());
    story("req-new", Decision.BLOCK);

    ObjectNode bundle = bundle("req-new", null).orElseThrow();
    Result result = EvidenceCheck.check(bundle, keys);

    assertThat(result.intact()).as(result.summary()).isTrue();
    assertThat(result.complete()).isFalse();
    assertThat(result.records()).hasSize(4).allMatch(r -> r.status() == Status.NOT_ANCHORED);
    assertThat(result.summary())
        .startsWith("Evidence incomplete for request req-new: 0 of 4 records proven, 4 not yet");

    anchors.publish(database.dataSource());
    assertThat(EvidenceCheck.check(bundle("req-new", null).orElseThrow(), keys).complete())
        .as("after the next anchor")
        .isTrue();
  }

  @Test
  void shouldProveThePlacesOfARequestsRecordsAfterItsContentWasErased() throws Exception {
    story("req-kept", Decision.RELEASE);
    anchors.publish(database.dataSource());
    // A data subject's erasure: the records keep their digests, not their content.
    Retention.Erased erased =
        new Retention(database.dataSource(), Clock.systemUTC(), 0)
            .erase("req-kept", "DSR-2026-7", new Caller("t1", "ada", Role.ADMIN, null));
    anchors.publish(database.dataSource());

    ObjectNode bundle = bundle("req-kept", null).orElseThrow();
    Result result = EvidenceCheck.check(bundle, keys);

    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::status)
        .containsExactly(
            Status.CONTENT_REMOVED,
            Status.CONTENT_REMOVED,
            Status.CONTENT_REMOVED,
            Status.CONTENT_REMOVED,
            Status.PROVEN,
            Status.PROVEN);
    // Chain version 3: the removed record keeps its canonical text (the event's SHA-256 in place
    // of the event), which proves its request, type and time; the event itself is gone.
    assertThat(bundle.path("records").get(1).path("canonical").asText())
        .contains("\"requestId\":\"req-kept\"")
        .contains("payloadSha256");
    assertThat(bundle.path("records").get(1).has("payload")).isFalse();
    assertThat(result.records().get(1).detail())
        .contains("its place in the chain, request, tenant, type and time are proven");
    assertThat(bundle.path("records").get(1).path("removedBySeq").asLong())
        .isEqualTo(erased.retentionSeq());
    assertThat(bundle.path("records").get(4).path("payload").asText())
        .as("the erasure itself, proven: why and by whom")
        .contains("DSR-2026-7")
        .contains("REQUEST");
    assertThat(bundle.toString())
        .doesNotContain(AuditEvents.output(scenario("req-kept", Decision.RELEASE)).getText());
    assertThat(result.summary()).contains("4 with content removed (retention or erasure)");

    // Erased before any anchor covered it: shown as not anchored, not as a broken bundle.
    story("req-fresh", Decision.BLOCK);
    new Retention(database.dataSource(), Clock.systemUTC(), 0)
        .erase("req-fresh", "DSR-2026-8", new Caller("t1", "ada", Role.ADMIN, null));
    Result fresh = EvidenceCheck.check(bundle("req-fresh", null).orElseThrow(), keys);
    assertThat(fresh.intact()).as(fresh.summary()).isTrue();
    assertThat(fresh.records()).allMatch(r -> r.status() == Status.NOT_ANCHORED);
  }

  @Test
  void shouldShowEveryChangeToTheBundle() throws Exception {
    archive.record(PolicyLoader.defaultText(), "test", Caller.system("test"));
    story("req-a", Decision.BLOCK);
    story("req-b", Decision.RELEASE);
    anchors.publish(database.dataSource());
    ObjectNode bundle = bundle("req-a", null).orElseThrow();
    ObjectNode other = bundle("req-b", null).orElseThrow();
    assertThat(EvidenceCheck.check(bundle, keys).complete()).isTrue();

    assertThat(problems(bundle, b -> editCanonical(b, 2, "BLOCK", "RELEASE")))
        .as("the verdict's decision changed")
        .singleElement()
        .asString()
        .contains("seq 4 (ModerationVerdict): its content hashes to")
        .contains("the content was changed");
    assertThat(
            problems(
                bundle, b -> ((ObjectNode) b.path("records").get(2)).put("canonical", "{\"a\":1}")))
        .singleElement()
        .asString()
        .contains("not of chain version 2");
    assertThat(
            problems(
                bundle,
                b ->
                    ((ObjectNode) b.path("records").get(2))
                        .put("canonical", canonical(b, 2).replace("{", "{ "))))
        .singleElement()
        .asString()
        .contains("not canonical JSON");
    assertThat(
            problems(
                bundle,
                b ->
                    ((ObjectNode) b.path("records").get(0))
                        .put("canonical", canonical(other, 0))
                        .put("payload", other.path("records").get(0).path("payload").asText())
                        .put("seq", other.path("records").get(0).path("seq").asLong())))
        .as("a record of another request passed off as this one's")
        .anyMatch(problem -> problem.contains("a record of request \"req-b\", not of req-a"));

    String digest = bundle.path("segments").get(0).path("digests").get(1).asText();
    assertThat(
            problems(
                bundle,
                b ->
                    ((ArrayNode) b.path("segments").get(0).path("digests"))
                        .set(
                            1,
                            b.textNode(digest.replace(digest.charAt(0), flip(digest.charAt(0)))))))
        .as("a digest changed")
        .anyMatch(problem -> problem.contains("segment 1: the digests chain to"));
    assertThat(
            problems(
                bundle, b -> ((ArrayNode) b.path("segments").get(0).path("digests")).remove(0)))
        .as("a link removed")
        .anyMatch(problem -> problem.contains("but its anchor line is for seq"));
    assertThat(problems(bundle, b -> ((ArrayNode) b.path("segments")).removeAll()))
        .as("no segment")
        .hasSize(4)
        .allMatch(problem -> problem.contains("is in no segment"));

    String anchor = bundle.path("segments").get(0).path("anchor").asText();
    JsonNode line = JSON.readTree(anchor);
    assertThat(
            problems(
                bundle,
                b ->
                    ((ObjectNode) b.path("segments").get(0))
                        .put(
                            "anchor",
                            anchor.replace(
                                line.path("anchoredAt").asText(), "2020-01-01T00:00:00Z"))))
        .as("the anchor line's time moved back")
        .singleElement()
        .asString()
        .contains("the signature of its anchor line")
        .contains("does not hold");
    ObjectNode unsignedLine = (ObjectNode) JSON.readTree(anchor);
    unsignedLine.remove(List.of("keyId", "prev", "sig"));
    assertThat(
            problems(
                bundle,
                b ->
                    ((ObjectNode) b.path("segments").get(0))
                        .put("anchor", unsignedLine.toString())))
        .as("the anchor line's signature taken off")
        .singleElement()
        .asString()
        .contains("its anchor line (seq 9) is not signed");
    VerificationKeyRing otherKey =
        SigningKeyRing.of(SigningKey.generate("anchor-1")).verificationKeys();
    assertThat(EvidenceCheck.check(bundle, otherKey).problems())
        .as("another key under the same id")
        .singleElement()
        .asString()
        .contains("does not hold with the keys [anchor-1]");
    Result unsigned = EvidenceCheck.check(bundle, null);
    assertThat(unsigned.complete()).isTrue();
    assertThat(unsigned.summary()).endsWith("anchor signatures NOT checked");

    assertThat(
            problems(
                bundle,
                b ->
                    ((ObjectNode) b.path("policies").get(0))
                        .put("text", b.path("policies").get(0).path("text").asText() + "#")))
        .singleElement()
        .asString()
        .contains("has another SHA-256");
  }

  @Test
  void shouldAnswerHostileBundlesWithFindingsNotExceptions() throws Exception {
    story("req-h", Decision.RELEASE);
    anchors.publish(database.dataSource());
    ObjectNode bundle = bundle("req-h", null).orElseThrow();

    assertThat(EvidenceCheck.check("not json", keys).problems())
        .singleElement()
        .asString()
        .startsWith("the bundle is not JSON");
    assertThat(EvidenceCheck.check("[1,2]", keys).problems())
        .containsExactly("the bundle is not a JSON object");
    // Many tiny values: reading stops at the token limit instead of building the whole tree.
    String tiny =
        "{\"format\":\"genguard-evidence-2\",\"records\":["
            + "0,".repeat((int) EvidenceCheck.MAX_TOKENS)
            + "0]}";
    assertThat(EvidenceCheck.check(tiny, keys).problems())
        .singleElement()
        .asString()
        .startsWith("the bundle is larger than a bundle can be (Token count");
    // The same inside the records' canonical texts, each event (its payload text) within the limit:
    // one event of too many tiny values, and events that hold too many together.
    String tooMany = "[" + "0,".repeat((int) EvidenceCheck.MAX_TOKENS) + "0]";
    assertThat(problems(bundle, b -> payload(b, 0, tooMany)))
        .singleElement()
        .asString()
        .startsWith("the bundle is larger than a bundle can be (its records' canonical texts");
    int records = bundle.path("records").size();
    assertThat(records).isGreaterThanOrEqualTo(3);
    String many = "[" + "{},".repeat((int) EvidenceCheck.MAX_TOKENS / 4) + "{}]";
    assertThat(
            problems(
                bundle,
                b -> {
                  for (int record = 0; record < records; record++) {
                    payload(b, record, many);
                  }
                }))
        .singleElement()
        .asString()
        .startsWith("the bundle is larger than a bundle can be (its records' canonical texts");
    assertThat(EvidenceCheck.check("{\"format\":\"other\"}", keys).problems())
        .singleElement()
        .asString()
        .contains("not \"genguard-evidence-4\"");
    assertThat(
            EvidenceCheck.check(
                    "{\"format\":\"genguard-evidence-1\",\"requestId\":\"r\",\"requestId\":\"s\"}",
                    keys)
                .problems())
        .singleElement()
        .asString()
        .contains("Duplicate field 'requestId'");
    assertThat(problems(bundle, b -> b.put("records", "many")))
        .containsExactly("the bundle holds no records");
    assertThat(
            problems(
                bundle, b -> ((ObjectNode) b.path("segments").get(0)).put("prevHash", "not-hex")))
        .anyMatch(problem -> problem.startsWith("segment 1 lacks a prevHash"));
    assertThat(
            problems(
                bundle,
                b ->
                    ((ArrayNode) b.path("segments").get(0).path("digests"))
                        .set(0, b.numberNode(7))))
        .anyMatch(problem -> problem.contains("the digest for seq 1 is not 64 hex characters"));
    assertThat(problems(bundle, b -> ((ObjectNode) b.path("segments").get(0)).put("anchor", "{")))
        .anyMatch(problem -> problem.contains("evidence segment 1's anchor"));
    assertThat(problems(bundle, b -> ((ObjectNode) b.path("records").get(0)).remove("seq")))
        .contains("record 1 has no seq");
  }

  @Test
  void shouldRefuseABundleTheChainUnderItNoLongerProves() throws Exception {
    story("req-x", Decision.REVIEW);
    story("req-y", Decision.RELEASE);
    anchors.publish(database.dataSource());

    // The verdict's stored content edited with SQL after it was anchored.
    execute(
        "update audit_log set payload = replace(payload, 'REVIEW', 'RELEASE')"
            + " where seq = 3 and event_type = 'ModerationVerdict'");
    assertThatThrownBy(() -> bundle("req-x", null))
        .isInstanceOf(EvidenceBundle.EvidenceException.class)
        .hasMessageContaining("The chain does not prove its records of request req-x")
        .hasMessageContaining("the payload was changed")
        .hasMessageContaining("run audit verify");

    // A digest between the request's records and the anchor, changed.
    execute("update audit_log set entry_digest = sha256(entry_digest) where seq = 6");
    assertThatThrownBy(() -> bundle("req-y", null))
        .isInstanceOf(EvidenceBundle.EvidenceException.class)
        .hasMessageContaining("segment 1: the digests chain to");

    // A record between them removed, with the projections that reference it.
    String record = "(select event_id from audit_log where seq = 7)";
    execute("delete from review_item where gate_event_id in " + record);
    for (String table :
        List.of("generation_request", "generation_output", "moderation_verdict", "gate_outcome")) {
      execute("delete from " + table + " where event_id in " + record);
    }
    execute("delete from audit_log where seq = 7");
    assertThatThrownBy(() -> bundle("req-y", null))
        .isInstanceOf(EvidenceBundle.EvidenceException.class)
        .hasMessageContaining("Record 7 is missing from the audit chain");
  }

  @Test
  void shouldRefuseRecordsOfTheFirstChainVersionWhoseLinksNeedTheirWholeContent() throws Exception {
    story("req-v1", Decision.RELEASE);
    story("req-v2", Decision.RELEASE);
    anchors.publish(database.dataSource());
    // As rows written before migration V2 are: their hash covers the content, not a digest.
    execute("update audit_log set chain_version = 1, payload_sha256 = null where seq = 6");

    assertThatThrownBy(() -> bundle("req-v2", null))
        .isInstanceOf(EvidenceBundle.EvidenceException.class)
        .hasMessageContaining("Record 6 of request req-v2 was written before chain version 2");
    assertThatThrownBy(() -> bundle("req-v1", null))
        .as("one between the request's records (seqs 1-4) and the anchor (seq 8)")
        .isInstanceOf(EvidenceBundle.EvidenceException.class)
        .hasMessageContaining("Record 6 was written before chain version 2");
  }

  @Test
  void shouldShowARequestOnlyToItsTenantAndWithinItsLimit() throws Exception {
    story("req-t", Decision.RELEASE);
    story("req-u", Decision.RELEASE);
    anchors.publish(database.dataSource());

    assertThat(bundle("req-t", "globex")).as("another tenant's request").isEmpty();
    assertThat(bundle("req-t", "acme")).isPresent();
    assertThat(bundle("no-such-request", null)).isEmpty();
    assertThatThrownBy(
            () ->
                EvidenceBundle.build(
                    database.dataSource(),
                    new EvidenceBundle.Request("req-t", null, anchorFile, null, "test", 5),
                    NOW))
        .isInstanceOf(EvidenceBundle.EvidenceException.class)
        .hasMessageContaining("would hold 8 or more links, over the limit of 5");
  }

  /**
   * Two tenants under one request id, erased by an admin: a tenant's token gets a bundle of its own
   * records alone, its own erasure action (with its own retraction) and its own erasure record (one
   * per tenant since the fifty-first session), and both verifiers prove every record of each
   * tenant's bundle, removals included, neither naming the other tenant; a global token names the
   * tenant (409 naming both otherwise). Before the fiftieth session a tenant's token got 404 and a
   * global token one bundle of both tenants; before the fifty-first the one erasure record named
   * acme (the lowest tenant) and was withheld from beta's bundle, whose removals were not proven
   * (the Python verifier exited 1).
   */
  @Test
  void shouldGiveEachTenantUnderASharedRequestIdABundleOfItsOwnRecords() throws Exception {
    Releases releases = twoTenantsUnderOneRequestId("req-shared");
    String acmeRelease = releases.acme();
    String betaRelease = releases.beta();
    Retention.Erased erased =
        new Retention(database.dataSource(), Clock.systemUTC(), 0)
            .erase("req-shared", "DSR-2026-9", new Caller("t1", "ada", Role.ADMIN, null));
    assertThat(erased.retentionSeqs()).as("one erasure record per tenant").hasSize(2);
    assertThat(erased.retentionSeq()).isEqualTo(erased.retentionSeqs().get(0));
    anchors.publish(database.dataSource());
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();

    assertThatThrownBy(() -> EvidenceBundle.find(database.dataSource(), "req-shared", null))
        .as("a global token names the tenant")
        .isInstanceOf(io.genguard.audit.ConflictException.class)
        .hasMessageContaining("(acme, beta)");
    for (String tenant : List.of("beta", "acme")) {
      String other = tenant.equals("acme") ? "beta" : "acme";
      String otherRelease = tenant.equals("acme") ? betaRelease : acmeRelease;
      ObjectNode bundle = bundle("req-shared", tenant).orElseThrow();
      assertThat(bundle.path("tenantId").asText()).isEqualTo(tenant);
      assertThat(bundle.toString())
          .as("%s's bundle", tenant)
          .doesNotContain(other)
          .doesNotContain(otherRelease);
      List<String> erasures = new java.util.ArrayList<>();
      List<String> erasureRecords = new java.util.ArrayList<>();
      for (JsonNode record : bundle.path("records")) {
        String text = record.path("canonical").asText("") + record.path("payload").asText("");
        assertThat(text)
            .as("%s's bundle, record %s", tenant, record.path("seq"))
            .doesNotContain("\"tenantId\":\"" + other + "\"")
            .doesNotContain(otherRelease);
        assertThat(record.has("withheld")).as("record %s withheld", record.path("seq")).isFalse();
        if (text.contains("requests.erase")) {
          erasures.add(text);
        }
        if (record.path("eventType").asText().equals(Retention.EVENT_TYPE)) {
          erasureRecords.add(record.path("payload").asText());
        }
      }
      assertThat(erasures).as("%s's erasure action", tenant).hasSize(1);
      assertThat(erasures.get(0)).contains(tenant.equals("acme") ? acmeRelease : betaRelease);
      assertThat(erasureRecords)
          .as("%s's erasure record", tenant)
          .singleElement()
          .asString()
          .contains("\"scope\":\"REQUEST\"", "\"tenantId\":\"" + tenant + "\"");
      assertThat(bundle.path("records"))
          .as("%s's removals", tenant)
          .anySatisfy(r -> assertThat(r.has("removedBySeq")).isTrue());
      Result result = EvidenceCheck.check(bundle, keys);
      assertThat(result.complete()).as(result.summary()).isTrue();
      assertThat(python(bundle, keyFile, 0))
          .as("%s's bundle", tenant)
          .contains("PROVEN")
          .noneMatch(line -> line.startsWith("problem:"));
    }
    ObjectNode global =
        EvidenceBundle.build(
                database.dataSource(),
                new EvidenceBundle.Request(
                    "req-shared", null, "beta", anchorFile, null, "test", 2_000_000, null),
                NOW)
            .orElseThrow();
    assertThat(global.path("tenantId").asText()).isEqualTo("beta");
    assertThat(global.toString()).doesNotContain("acme");
    Result result = EvidenceCheck.check(global, keys);
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(python(global, keyFile, 0)).contains("PROVEN");
  }

  /**
   * A chain written before the fifty-first session: an admin's erasure of a request id two tenants
   * use wrote one erasure record, naming the lowest tenant (acme), for both tenants' records. It
   * still verifies, acme's bundle proves every removal, and beta's withholds the record (it names
   * acme), its removals not proven and no problem found, as before.
   */
  @Test
  void shouldStillCheckAnErasureRecordOfBothTenantsWrittenBeforeOnePerTenant() throws Exception {
    twoTenantsUnderOneRequestId("req-old-shared");
    Transactions.inTransaction(
        database.dataSource(),
        connection -> {
          ChainAppender.lock(connection);
          long seq = ChainAppender.tail(connection).seq() + 1;
          Instant at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
          int tombstoned;
          try (java.sql.PreparedStatement update =
              connection.prepareStatement(
                  "update audit_log set payload = null, tombstoned_at = ?, tombstone_seq = ?"
                      + " where request_id = 'req-old-shared' and payload is not null")) {
            update.setObject(1, at.atOffset(ZoneOffset.UTC));
            update.setLong(2, seq);
            tombstoned = update.executeUpdate();
          }
          ObjectNode payload = JSON.createObjectNode();
          payload.put("scope", "REQUEST").put("tenantId", "acme");
          payload.put("requestId", "req-old-shared").put("reason", "DSR-2026-8");
          payload.put("by", "ada (admin)").put("cutoff", at.plusNanos(1_000).toString());
          payload.put("tombstoned", tombstoned).put("at", at.toString());
          ChainAppender.append(
              connection,
              List.of(
                  ChainRecord.ofService(
                      io.genguard.schemas.EventIds.random(),
                      Retention.EVENT_TYPE,
                      "acme",
                      "req-old-shared",
                      CanonicalJson.write(payload))),
              at);
          return null;
        });
    anchors.publish(database.dataSource());
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();

    ObjectNode acme = bundle("req-old-shared", "acme").orElseThrow();
    Result acmeResult = EvidenceCheck.check(acme, keys);
    assertThat(acmeResult.complete()).as(acmeResult.summary()).isTrue();
    assertThat(python(acme, keyFile, 0)).contains("PROVEN");
    ObjectNode beta = bundle("req-old-shared", "beta").orElseThrow();
    assertThat(beta.toString()).doesNotContain("acme");
    assertThat(beta.path("records"))
        .anySatisfy(
            r ->
                assertThat(r.path("withheld").asText())
                    .isEqualTo(EvidenceBundle.WITHHELD_OTHER_TENANTS_ERASURE));
    Result betaResult = EvidenceCheck.check(beta, keys);
    assertThat(betaResult.intact()).as(betaResult.summary()).isTrue();
    assertThat(python(beta, keyFile, 1))
        .anyMatch(line -> line.endsWith("RetentionApplied: NOT_PROVEN"))
        .noneMatch(line -> line.startsWith("problem:"));
  }

  /** The release outcomes' event ids of the two tenants under one request id. */
  private record Releases(String acme, String beta) {}

  /** Acme's story (released) and beta's release under one request id. */
  private Releases twoTenantsUnderOneRequestId(String requestId) throws Exception {
    Scenario acme = Scenario.of(requestId, "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(acme));
    io.genguard.events.v1.ReleaseGateOutcome beta =
        AuditEvents.otherTenantsOutcome(
            acme,
            io.genguard.events.v1.GateOutcome.RELEASED,
            io.genguard.events.v1.GateBasis.VERDICT,
            null,
            NOW);
    writer.write(
        List.of(AuditEvents.incoming(io.genguard.schemas.Topics.CONTENT_RELEASED.name(), beta)));
    return new Releases(AuditEvents.gateOutcome(acme).getEventId(), beta.getEventId());
  }

  @Test
  void shouldBeCheckedAlikeByAnIndependentVerifierInPython() throws Exception {
    archive.record(PolicyLoader.defaultText(), "test", Caller.system("test"));
    story("req-py", Decision.BLOCK);
    story("req-other", Decision.RELEASE);
    anchors.publish(database.dataSource());
    ObjectNode bundle = bundle("req-py", null).orElseThrow();
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);

    List<String> proven = python(bundle, keyFile, 0);
    assertThat(proven)
        .containsExactly(
            "seq 2 GenerationRequest: PROVEN",
            "seq 3 GenerationOutput: PROVEN",
            "seq 4 ModerationVerdict: PROVEN",
            "seq 5 ReleaseGateOutcome: PROVEN",
            "PROVEN");

    ObjectNode edited = bundle.deepCopy();
    editCanonical(edited, 2, "BLOCK", "RELEASE");
    assertThat(python(edited, keyFile, 1))
        .contains("seq 4 ModerationVerdict: NOT_PROVEN", "problem: seq 4: its content was changed");
    ObjectNode moved = bundle.deepCopy();
    String anchor = moved.path("segments").get(0).path("anchor").asText();
    ((ObjectNode) moved.path("segments").get(0))
        .put(
            "anchor",
            anchor.replace(
                JSON.readTree(anchor).path("anchoredAt").asText(), "2020-01-01T00:00:00Z"));
    assertThat(python(moved, keyFile, 1))
        .contains("problem: segment 1: the anchor line's signature does not hold");
  }

  @Test
  void shouldProveTheBulkDismissalThatClosedARequestsUnfinishedFlow() throws Exception {
    for (String[] lost :
        new String[][] {{"lost-1", "acme"}, {"lost-2", "acme"}, {"lost-g", "globex"}}) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  io.genguard.schemas.Topics.GENERATION_REQUESTS.name(),
                  AuditEvents.request(Scenario.of(lost[0], lost[1], Decision.RELEASE, NOW)))));
    }
    UnfinishedFlows watch =
        new UnfinishedFlows(
            database.dataSource(),
            Clock.fixed(NOW.plus(java.time.Duration.ofMinutes(20)), ZoneOffset.UTC),
            UnfinishedFlows.Deadlines.DEFAULTS);
    assertThat(watch.check().found()).hasSize(3);
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    // acme's two in one action, globex's on its own.
    watch.dismissAll(
        UnfinishedFlows.Kind.NO_ANSWER, "acme", NOW.plusSeconds(3600), "lost in the outage", admin);
    watch.dismissAll(
        UnfinishedFlows.Kind.NO_ANSWER, "globex", NOW.plusSeconds(3600), "globex's", admin);
    anchors.publish(database.dataSource());

    ObjectNode bundle = bundle("lost-1", null).orElseThrow();
    assertThat(bundle.path("format").asText()).isEqualTo("genguard-evidence-4");
    Result result = EvidenceCheck.check(bundle, keys);
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::eventType)
        .as("its request, its flow, and the one bulk action that closed it (not globex's)")
        .containsExactly("GenerationRequest", "FlowUnfinished", "ApiAction");
    assertThat(bundle.toString()).doesNotContain("globex's");
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);
    assertThat(python(bundle, keyFile, 0))
        .containsExactly(
            "seq 1 GenerationRequest: PROVEN",
            "seq 4 FlowUnfinished: PROVEN",
            "seq 7 ApiAction: PROVEN",
            "PROVEN");

    // Without the flow it covers, a bulk action does not belong in the bundle.
    ObjectNode withoutFlow = bundle.deepCopy();
    ((ArrayNode) withoutFlow.path("records")).remove(1);
    assertThat(EvidenceCheck.check(withoutFlow, keys).problems())
        .containsExactly(
            "seq 7 (unfinished.dismiss) covers none of the request's unfinished flows in the"
                + " bundle");
    assertThat(python(withoutFlow, keyFile, 1))
        .contains("problem: seq 7: an action of no request that covers none of its flows");
    // The first format holds records of the request only.
    ObjectNode first = bundle.deepCopy().put("format", "genguard-evidence-1");
    assertThat(EvidenceCheck.check(first, keys).problems())
        .singleElement()
        .asString()
        .contains("is a record of request null, not of lost-1");
    assertThat(python(first, keyFile, 1))
        .contains("problem: seq 7 is not a record of request lost-1 at that place");
  }

  @Test
  void shouldProveEveryBulkResendOfAFlowNotOnlyTheLast() throws Exception {
    writer.write(
        List.of(
            AuditEvents.incoming(
                io.genguard.schemas.Topics.GENERATION_REQUESTS.name(),
                AuditEvents.request(Scenario.of("lost-r", "acme", Decision.RELEASE, NOW)))));
    UnfinishedFlows watch =
        new UnfinishedFlows(
            database.dataSource(),
            Clock.fixed(NOW.plus(java.time.Duration.ofMinutes(20)), ZoneOffset.UTC),
            UnfinishedFlows.Deadlines.DEFAULTS);
    assertThat(watch.check().found()).hasSize(1);
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    UnfinishedFlows.Resender kafka =
        records -> {
          boolean[] taken = new boolean[records.size()];
          java.util.Arrays.fill(taken, true);
          return new UnfinishedFlows.Resender.Batch(taken, null);
        };
    Instant before = NOW.plusSeconds(3600);
    String first =
        watch
            .resendAll(UnfinishedFlows.Kind.NO_ANSWER, "acme", before, false, admin, kafka)
            .actionId();
    String second =
        watch
            .resendAll(UnfinishedFlows.Kind.NO_ANSWER, "acme", before, true, admin, kafka)
            .actionId();
    watch.dismissAll(
        UnfinishedFlows.Kind.NO_ANSWER, "acme", before, "sent twice, never answered", admin);
    anchors.publish(database.dataSource());

    ObjectNode bundle = bundle("lost-r", null).orElseThrow();
    Result result = EvidenceCheck.check(bundle, keys);
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::eventType)
        .as("its request, its flow, both bulk resends and the bulk dismissal")
        .containsExactly(
            "GenerationRequest", "FlowUnfinished", "ApiAction", "ApiAction", "ApiAction");
    assertThat(bundle.toString()).contains(first, second);
    assertThat(python(bundle, AnchorLog.publicKeyFile(anchorFile), 0)).endsWith("PROVEN");
  }

  @Test
  void shouldNotCountAContentRemovalThatNoRecordOfTheBundleAccountsFor() throws Exception {
    story("req-strip", Decision.BLOCK);
    story("req-other", Decision.RELEASE);
    anchors.publish(database.dataSource());
    ObjectNode bundle = bundle("req-strip", null).orElseThrow();
    assertThat(EvidenceCheck.check(bundle, keys).complete()).isTrue();
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);

    // The holder takes the BLOCK verdict's text out and says a record that is not there did.
    ObjectNode stripped = bundle.deepCopy();
    strip(stripped, 2, 99);
    Result result = EvidenceCheck.check(stripped, keys);
    assertThat(result.complete()).as(result.summary()).isFalse();
    assertThat(result.problems())
        .containsExactly(
            "seq 3 (ModerationVerdict): its content was removed by seq 99, says the bundle, but"
                + " that record is not in it: nothing in the bundle accounts for the removal");
    assertThat(result.summary())
        .startsWith("Evidence does NOT hold for request req-strip: seq 3 (ModerationVerdict)");
    assertThat(result.records().get(2).status()).isEqualTo(Status.NOT_PROVEN);
    assertThat(python(stripped, keyFile, 1))
        .contains(
            "seq 3 ModerationVerdict: NOT_PROVEN",
            "problem: seq 3: its removal is accounted for by no retention or erasure record of"
                + " the bundle");

    // Or a record that is there but removes nothing: the gate's outcome.
    ObjectNode byOutcome = bundle.deepCopy();
    strip(byOutcome, 2, 4);
    assertThat(EvidenceCheck.check(byOutcome, keys).problems())
        .containsExactly(
            "seq 3 (ModerationVerdict): its content was removed by seq 4, says the bundle, but"
                + " that is a ReleaseGateOutcome record, not a retention or erasure record with"
                + " its content");
    assertThat(python(byOutcome, keyFile, 1)).contains("seq 3 ModerationVerdict: NOT_PROVEN");

    // An erased request: its erasure accounts for the records before it, not for its own call.
    Retention.Erased erased =
        new Retention(
                database.dataSource(),
                Clock.fixed(NOW.plus(java.time.Duration.ofHours(1)), ZoneOffset.UTC),
                0)
            .erase("req-strip", "DSR-2026-9", new Caller("t1", "ada", Role.ADMIN, null));
    anchors.publish(database.dataSource());
    ObjectNode erasedBundle = bundle("req-strip", null).orElseThrow();
    Result genuine = EvidenceCheck.check(erasedBundle, keys);
    assertThat(genuine.complete()).as(genuine.summary()).isTrue();
    assertThat(genuine.records().get(0).detail())
        .endsWith("erased by the erasure record at seq " + erased.retentionSeq());
    ArrayNode records = (ArrayNode) erasedBundle.path("records");
    assertThat(records.get(5).path("payload").asText()).contains("requests.erase");
    ObjectNode call = erasedBundle.deepCopy();
    strip(call, 5, erased.retentionSeq());
    assertThat(EvidenceCheck.check(call, keys).problems())
        .singleElement()
        .asString()
        .startsWith(
            "seq "
                + records.get(5).path("seq").asLong()
                + " (ApiAction): its content was removed by seq "
                + erased.retentionSeq()
                + ", which does not account for it: retention record "
                + erased.retentionSeq()
                + " is not after the record");
    assertThat(python(call, keyFile, 1))
        .contains(
            "problem: seq "
                + records.get(5).path("seq").asLong()
                + ": retention record "
                + erased.retentionSeq()
                + " does not account for its removal");
  }

  @Test
  void shouldProveARequestWhoseContentRetentionRemovedWithTheRetentionRecord() throws Exception {
    story("req-acme", Decision.REVIEW);
    writer.write(AuditEvents.story(Scenario.of("req-globex", "globex", Decision.RELEASE, NOW)));
    // Two days later, retention: acme's own period (a day), then the default (a day, for every
    // tenant without a period of its own).
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    Clock later = Clock.fixed(NOW.plus(java.time.Duration.ofDays(2)), ZoneOffset.UTC);
    new Retention(database.dataSource(), later, 1).set("acme", 1, admin);
    List<Retention.Applied> applied = new Retention(database.dataSource(), later, 1).apply(admin);
    assertThat(applied).extracting(Retention.Applied::scope).containsExactly("TENANT", "DEFAULT");
    anchors.publish(database.dataSource());
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);

    ObjectNode acme = bundle("req-acme", "acme").orElseThrow();
    Result result = EvidenceCheck.check(acme, keys);
    // Every removal is accounted for, and (chain version 3) each removed record's canonical text,
    // kept, proves its request and tenant: the bundle is tied to req-acme without a record with
    // its content (before chain version 3 it was incomplete: "nothing in the bundle proves these
    // records are request req-acme's").
    assertThat(result.intact()).as(result.summary()).isTrue();
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.requestProven()).isTrue();
    assertThat(result.summary())
        .startsWith(
            "Evidence holds for request req-acme: 1 of 5 records proven, 4 with content removed");
    Result relabelled =
        EvidenceCheck.check(acme.deepCopy().put("requestId", "never-existed"), keys);
    assertThat(relabelled.complete()).as(relabelled.summary()).isFalse();
    assertThat(relabelled.problems())
        .filteredOn(
            problem -> problem.contains("its canonical text is a record of request \"req-acme\""))
        .hasSize(4)
        .allMatch(
            problem ->
                problem.endsWith(
                    "its canonical text is a record of request \"req-acme\", not of"
                        + " never-existed"));
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::eventType)
        .as("its four records, and the retention record of no request that removed them")
        .containsExactly(
            "GenerationRequest",
            "GenerationOutput",
            "ModerationVerdict",
            "ReleaseGateOutcome",
            "RetentionApplied");
    long tenantRetention = applied.get(0).retentionSeq();
    assertThat(result.records().get(4).seq()).isEqualTo(tenantRetention);
    assertThat(result.records().get(4).status()).isEqualTo(Status.PROVEN);
    assertThat(result.records().get(0).status()).isEqualTo(Status.CONTENT_REMOVED);
    assertThat(result.records().get(0).detail())
        .contains("removed by the retention record at seq " + tenantRetention)
        .contains("tenant acme's period");
    assertThat(python(acme, keyFile, 0))
        .endsWith("seq " + tenantRetention + " RetentionApplied: PROVEN", "PROVEN");
    assertThat(python(acme.deepCopy().put("requestId", "never-existed"), keyFile, 1))
        .contains("problem: seq 1 is not a removed record of request never-existed at that place");
    Result globex = EvidenceCheck.check(bundle("req-globex", null).orElseThrow(), keys);
    assertThat(globex.intact()).as(globex.summary()).isTrue();
    assertThat(globex.complete()).as(globex.summary()).isTrue();
    assertThat(globex.records().get(0).detail()).contains("the default period");

    // A record of the request with its content, proven (the API records each bundle's issue
    // first), ties them: complete; and relabelled, it says whose it is.
    issued("req-acme", "acme");
    issued("req-globex", "globex");
    anchors.publish(database.dataSource());
    ObjectNode acmeIssued = bundle("req-acme", "acme").orElseThrow();
    Result proven = EvidenceCheck.check(acmeIssued, keys);
    assertThat(proven.complete()).as(proven.summary()).isTrue();
    assertThat(proven.summary()).startsWith("Evidence holds for request req-acme: 2 of 6 records");
    long acmeIssue = proven.records().get(5).seq();
    assertThat(python(acmeIssued, keyFile, 0))
        .endsWith("seq " + acmeIssue + " ApiAction: PROVEN", "PROVEN");
    assertThat(
            EvidenceCheck.check(acmeIssued.deepCopy().put("requestId", "other"), keys).problems())
        .contains(
            "seq "
                + acmeIssue
                + " (ApiAction): its canonical text is a record of request \"req-acme\", not of"
                + " other");
    // The default's removals hold for any tenant it did not exclude: the bundle's tenant must
    // be the one its proven records name.
    ObjectNode globexIssued = bundle("req-globex", null).orElseThrow();
    Result globexProven = EvidenceCheck.check(globexIssued, keys);
    assertThat(globexProven.complete()).as(globexProven.summary()).isTrue();
    long globexIssue = globexProven.records().get(5).seq();
    ObjectNode otherTenant = globexIssued.deepCopy().put("tenantId", "initech");
    Result retenanted = EvidenceCheck.check(otherTenant, keys);
    assertThat(retenanted.complete()).as(retenanted.summary()).isFalse();
    assertThat(retenanted.problems())
        .contains(
            "seq "
                + globexIssue
                + " (ApiAction): it is a record of request req-globex of tenant globex, but the"
                + " bundle names tenant initech");
    assertThat(python(otherTenant, keyFile, 1))
        .contains(
            "problem: seq "
                + globexIssue
                + ": a record of tenant globex, not of the bundle's initech");

    // Without the retention record, nothing accounts for the removals.
    ObjectNode without = acme.deepCopy();
    ((ArrayNode) without.path("records")).remove(4);
    assertThat(EvidenceCheck.check(without, keys).problems())
        .hasSize(4)
        .allMatch(problem -> problem.contains("that record is not in it"));
    // A record it does not take in: recorded after its cutoff, as the holder says.
    // Of chain version 3, its canonical text says when it was recorded.
    ObjectNode moved = acme.deepCopy();
    ((ObjectNode) moved.path("records").get(2)).put("recordedAt", "2026-12-06T00:00:00Z");
    assertThat(EvidenceCheck.check(moved, keys).problems())
        .singleElement()
        .asString()
        .contains("seq 3 (ModerationVerdict)")
        .contains("its canonical text was recorded at");
    // Its canonical text taken off too, as a record of chain version 2 would be listed: then the
    // time is the holder's word, and the cutoff still does not take it in.
    ((ObjectNode) moved.path("records").get(2)).remove("canonical");
    assertThat(EvidenceCheck.check(moved, keys).problems())
        .singleElement()
        .asString()
        .contains("seq 3 (ModerationVerdict)")
        .contains("not before the retention cutoff");
    // A bundle of the second format left the retention record out: ask for a new one.
    ObjectNode second = without.deepCopy().put("format", "genguard-evidence-2");
    assertThat(EvidenceCheck.check(second, keys).problems())
        .hasSize(4)
        .allMatch(
            problem ->
                problem.endsWith(
                    "(bundles before format genguard-evidence-3 leave"
                        + " out retention records of no request: ask for the bundle again)"));
    // A retention record that removed none of the bundle's records does not belong in it.
    ObjectNode stray = acme.deepCopy();
    for (int i = 0; i < 4; i++) {
      ((ObjectNode) stray.path("records").get(i)).put("removedBySeq", 99);
    }
    assertThat(EvidenceCheck.check(stray, keys).problems())
        .contains(
            "seq "
                + tenantRetention
                + " is a retention record of no request that accounts for the removal of none of"
                + " the bundle's records");
  }

  /**
   * Both verifiers list a bundle's problems with its removals and retention records in one order,
   * record by record: each record's own first, then each removal in seq order, then the retention
   * records of no request that account for none, then the records of another tenant. They word them
   * differently ({@link #problemKinds}); the forty-ninth session checked the order.
   */
  @Test
  void shouldHaveBothVerifiersListRemovalsAndRetentionRecordsProblemsInOneOrder() throws Exception {
    story("req-acme", Decision.REVIEW);
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    Clock later = Clock.fixed(NOW.plus(java.time.Duration.ofDays(2)), ZoneOffset.UTC);
    new Retention(database.dataSource(), later, 1).set("acme", 1, admin);
    long retentionSeq =
        new Retention(database.dataSource(), later, 1).apply(admin).get(0).retentionSeq();
    issued("req-acme", "acme");
    anchors.publish(database.dataSource());
    ObjectNode bundle = bundle("req-acme", "acme").orElseThrow();
    assertThat(EvidenceCheck.check(bundle, keys).complete()).isTrue();
    ArrayNode records = (ArrayNode) bundle.path("records");
    assertThat(records.get(4).path("seq").asLong()).isEqualTo(retentionSeq);
    long issue = records.get(5).path("seq").asLong();

    // Seq 1: its removed record's time changed (a problem of the record itself); seq 2: removed
    // by a record not in the bundle; seq 3: listed without its canonical text, recorded after the
    // cutoff; seq 4: removed by the bundle's ApiAction; so the retention record removed none; and
    // the bundle names another tenant than its proven ApiAction's.
    ((ObjectNode) records.get(0)).put("recordedAt", "2026-12-06T00:00:00Z");
    ((ObjectNode) records.get(1)).put("removedBySeq", 99);
    ((ObjectNode) records.get(2)).put("recordedAt", "2026-12-06T00:00:00Z").remove("canonical");
    ((ObjectNode) records.get(3)).put("removedBySeq", issue);
    bundle.put("tenantId", "globex");

    Result java = EvidenceCheck.check(bundle, keys);
    List<String> python =
        python(bundle, AnchorLog.publicKeyFile(anchorFile), 1).stream()
            .filter(line -> line.startsWith("problem: "))
            .map(line -> line.substring("problem: ".length()))
            .toList();
    List<String> expected =
        List.of(
            "record seq 1",
            "unaccounted seq 2",
            "outside seq 3",
            "unaccounted seq 4",
            "unused seq " + retentionSeq,
            "tenant seq " + issue);
    assertThat(problemKinds(java.problems())).as(java.summary()).isEqualTo(expected);
    assertThat(problemKinds(python)).as(String.join("\n", python)).isEqualTo(expected);
  }

  /**
   * Each problem's kind and the seq it names, from either verifier's words (the Python verifier's
   * are shorter): "record" for a record's own (a removed record's canonical text that does not fit
   * its place), "unaccounted" for a removal no retention or erasure record of the bundle accounts
   * for, "outside" for one its retention record does not take in, "unused" for a retention record
   * of no request that removed none of the records, "tenant" for a record of another tenant than
   * the bundle's; any other problem as it is.
   */
  private static List<String> problemKinds(List<String> problems) {
    Map<String, List<String>> words =
        Map.of(
            "record",
            List.of("its canonical text was recorded at", "is not a removed record of request"),
            "unaccounted",
            List.of(
                "that record is not in it",
                "not a retention or erasure record with its content",
                "accounted for by no retention or erasure record"),
            "outside",
            List.of("which does not account for it", "does not account for its removal"),
            "unused",
            List.of(
                "accounts for the removal of none of the bundle's records",
                "a retention record of no request that removed none"),
            "tenant",
            List.of("but the bundle names tenant", "a record of tenant"));
    java.util.regex.Pattern seq = java.util.regex.Pattern.compile("^seq (\\d+)\\b");
    return problems.stream()
        .map(
            problem -> {
              java.util.regex.Matcher named = seq.matcher(problem);
              return words.entrySet().stream()
                  .filter(kind -> kind.getValue().stream().anyMatch(problem::contains))
                  .map(kind -> kind.getKey() + (named.find() ? " seq " + named.group(1) : ""))
                  .findFirst()
                  .orElse(problem);
            })
        .toList();
  }

  @Test
  void shouldWithholdFromATenantsBundleTheDefaultRetentionRecordThatNamesOtherTenants()
      throws Exception {
    story("req-acme", Decision.REVIEW);
    writer.write(AuditEvents.story(Scenario.of("req-globex", "globex", Decision.RELEASE, NOW)));
    // acme has a period of its own, so the default's retention record lists acme as excluded.
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    Clock later = Clock.fixed(NOW.plus(java.time.Duration.ofDays(2)), ZoneOffset.UTC);
    new Retention(database.dataSource(), later, 1).set("acme", 1, admin);
    List<Retention.Applied> applied = new Retention(database.dataSource(), later, 1).apply(admin);
    long defaultRetention = applied.get(1).retentionSeq();
    issued("req-globex", "globex");
    anchors.publish(database.dataSource());

    // A globex token's bundle: the default's record without its content, and why.
    ObjectNode own = bundle("req-globex", "globex").orElseThrow();
    assertThat(own.toString()).doesNotContain("acme");
    JsonNode withheld = own.path("records").get(4);
    assertThat(withheld.path("seq").asLong()).isEqualTo(defaultRetention);
    assertThat(withheld.has("canonical")).isFalse();
    assertThat(withheld.path("withheld").asText()).isEqualTo(EvidenceBundle.WITHHELD_OTHER_TENANTS);
    Result result = EvidenceCheck.check(own, keys);
    assertThat(result.intact()).as(result.summary()).isTrue();
    assertThat(result.complete()).as("the removals are not proven to a tenant").isFalse();
    assertThat(result.requestProven()).isTrue();
    assertThat(result.records().get(4).status()).isEqualTo(Status.NOT_PROVEN);
    assertThat(result.records().get(4).detail())
        .isEqualTo(EvidenceCheck.WITHHELD_DETAIL + EvidenceBundle.WITHHELD_OTHER_TENANTS);
    assertThat(result.records().subList(0, 4))
        .allSatisfy(
            removed -> {
              assertThat(removed.status()).isEqualTo(Status.NOT_PROVEN);
              assertThat(removed.detail())
                  .endsWith("content removed by seq " + defaultRetention + ", which is not proven");
            });
    assertThat(result.summary())
        .startsWith("Evidence incomplete for request req-globex: 1 of 6 records proven")
        .contains("1 withheld by the issuer");
    assertThat(python(own, AnchorLog.publicKeyFile(anchorFile), 1))
        .contains("seq " + defaultRetention + " RetentionApplied: NOT_PROVEN", "NOT PROVEN")
        .noneMatch(line -> line.startsWith("problem:"));

    // A global token's bundle holds it, and proves the removals with it.
    ObjectNode global = bundle("req-globex", null).orElseThrow();
    assertThat(global.path("records").get(4).path("payload").asText())
        .contains("excludedTenants")
        .contains("acme");
    Result globalResult = EvidenceCheck.check(global, keys);
    assertThat(globalResult.complete()).as(globalResult.summary()).isTrue();
    // A tenant's own period's record names no other tenant: shown to the tenant.
    ObjectNode acme = bundle("req-acme", "acme").orElseThrow();
    assertThat(acme.path("records").get(4).has("withheld")).isFalse();
    assertThat(acme.path("records").get(4).path("payload").asText()).contains("TENANT");
  }

  @Test
  void shouldShowTheRecordsUpToTheHeadTheIssuerAnchoredForTheBundle() throws Exception {
    story("req-thru", Decision.RELEASE); // seqs 1-4
    issued("req-thru", "acme"); // seq 5
    long anchored = anchors.publish(database.dataSource()).anchor().seq();
    assertThat(anchored).isEqualTo(5);
    // A record of the request appended after the anchor, before the bundle is made (its erasure
    // notice read back from its topic, say).
    issued("req-thru", "acme"); // seq 6

    Result everything = EvidenceCheck.check(bundle("req-thru", null).orElseThrow(), keys);
    assertThat(everything.complete()).as("every record: the last not anchored").isFalse();
    ObjectNode through = bundleThrough("req-thru", anchored);
    Result result = EvidenceCheck.check(through, keys);
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::seq)
        .containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(through.path("throughSeq").asLong()).isEqualTo(5);
    assertThat(through.path("notAnchored")).isEmpty();

    // Erased after the anchor: the erasure that removed the content of records shown is shown
    // too (not yet anchored), so that the removals are accounted for; its erase call is not.
    Retention.Erased erased =
        new Retention(
                database.dataSource(),
                Clock.fixed(NOW.plus(java.time.Duration.ofHours(1)), ZoneOffset.UTC),
                0)
            .erase("req-thru", "DSR-2026-12", new Caller("t1", "ada", Role.ADMIN, null));
    Result afterErasure = EvidenceCheck.check(bundleThrough("req-thru", anchored), keys);
    assertThat(afterErasure.intact()).as(afterErasure.summary()).isTrue();
    assertThat(afterErasure.records())
        .extracting(EvidenceCheck.RecordFinding::seq)
        .containsExactly(1L, 2L, 3L, 4L, 5L, erased.retentionSeq());
    assertThat(afterErasure.records().get(5).status()).isEqualTo(Status.NOT_ANCHORED);
  }

  @Test
  void shouldProveAnErasedRequestWhoseUnfinishedFlowABulkActionClosed() throws Exception {
    writer.write(
        List.of(
            AuditEvents.incoming(
                io.genguard.schemas.Topics.GENERATION_REQUESTS.name(),
                AuditEvents.request(Scenario.of("lost-e", "acme", Decision.RELEASE, NOW)))));
    UnfinishedFlows watch =
        new UnfinishedFlows(
            database.dataSource(),
            Clock.fixed(NOW.plus(java.time.Duration.ofMinutes(20)), ZoneOffset.UTC),
            UnfinishedFlows.Deadlines.DEFAULTS);
    assertThat(watch.check().found()).hasSize(1);
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    watch.dismissAll(
        UnfinishedFlows.Kind.NO_ANSWER, "acme", NOW.plusSeconds(3600), "lost in the outage", admin);
    // The erasure empties the request's records, its flow's too; the bulk dismissal, a record of
    // no request, keeps its content.
    new Retention(
            database.dataSource(),
            Clock.fixed(NOW.plus(java.time.Duration.ofHours(2)), ZoneOffset.UTC),
            0)
        .erase("lost-e", "DSR-2026-11", admin);
    anchors.publish(database.dataSource());

    ObjectNode bundle = bundle("lost-e", null).orElseThrow();
    Result result = EvidenceCheck.check(bundle, keys);
    assertThat(result.complete()).as(result.summary()).isTrue();
    assertThat(result.records())
        .extracting(EvidenceCheck.RecordFinding::eventType, EvidenceCheck.RecordFinding::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("GenerationRequest", Status.CONTENT_REMOVED),
            org.assertj.core.groups.Tuple.tuple("FlowUnfinished", Status.CONTENT_REMOVED),
            org.assertj.core.groups.Tuple.tuple("ApiAction", Status.PROVEN),
            org.assertj.core.groups.Tuple.tuple("RetentionApplied", Status.PROVEN),
            org.assertj.core.groups.Tuple.tuple("ApiAction", Status.PROVEN));
    assertThat(result.records().get(2).detail())
        .contains("which flow it covers is not checked: the request's flow record (seq 2)");
    Path keyFile = AnchorLog.publicKeyFile(anchorFile);
    assertThat(python(bundle, keyFile, 0))
        .contains("seq 2 FlowUnfinished: CONTENT_REMOVED", "seq 3 ApiAction: PROVEN")
        .endsWith("PROVEN");

    // Without the flow's record, the bulk action covers nothing of the request's.
    ObjectNode withoutFlow = bundle.deepCopy();
    ((ArrayNode) withoutFlow.path("records")).remove(1);
    assertThat(EvidenceCheck.check(withoutFlow, keys).problems())
        .containsExactly(
            "seq 3 (unfinished.dismiss) covers none of the request's unfinished flows in the"
                + " bundle");
    assertThat(python(withoutFlow, keyFile, 1))
        .contains("problem: seq 3: an action of no request that covers none of its flows");
  }

  /** Records the issue of a bundle of the request, as the API does before it makes one. */
  private void issued(String requestId, String tenantId) throws Exception {
    Transactions.inTransaction(
        database.dataSource(),
        connection ->
            ActionLog.record(
                connection,
                new Caller("c1", "carl", Role.COMPLIANCE, null),
                ActionLog.Action.of("requests.evidence", tenantId, requestId, null),
                NOW.plus(java.time.Duration.ofDays(2))));
  }

  /**
   * Makes a record of the bundle a removal stub, as a bundle lists a record whose content was
   * removed, naming {@code removedBySeq} as the record that removed it.
   */
  private static void strip(ObjectNode bundle, int record, long removedBySeq) {
    ObjectNode stub = (ObjectNode) bundle.path("records").get(record);
    stub.remove("canonical");
    stub.put("removedAt", "2026-12-05T00:00:00Z").put("removedBySeq", removedBySeq);
  }

  /** Runs examples/evidence/verify_evidence.py on the bundle; its output lines. */
  private List<String> python(ObjectNode bundle, Path keyFile, int expectedExit) throws Exception {
    return PythonVerifier.run(dir, bundle, keyFile, expectedExit);
  }

  /**
   * A global token's bundle of one tenant (acme) under a request id beta uses too, where beta's
   * output contests acme's output record: the conflict is listed as acme's story lists it for that
   * token, beta's content withheld. Before the fifty-first session the conflicts were read for
   * every tenant and shown as to a global caller, so acme's bundle carried beta's output text.
   */
  @Test
  void shouldListInAGlobalTokensBundleOfOneTenantOnlyItsConflictsWithheldAsInTheStory()
      throws Exception {
    Scenario acme = Scenario.of("shared-conflict", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(acme));
    Scenario beta =
        Scenario.of("shared-conflict", "beta", Decision.RELEASE, NOW.plusSeconds(1))
            .withText("Beta's own secret output.");
    writer.write(
        List.of(
            AuditEvents.incoming(
                io.genguard.schemas.Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(beta)),
            AuditEvents.incoming(
                io.genguard.schemas.Topics.CONTENT_RELEASED.name(),
                AuditEvents.otherTenantsOutcome(
                    acme,
                    io.genguard.events.v1.GateOutcome.RELEASED,
                    io.genguard.events.v1.GateBasis.VERDICT,
                    null,
                    NOW.plusSeconds(2)))));
    anchors.publish(database.dataSource());

    ObjectNode global =
        EvidenceBundle.build(
                database.dataSource(),
                new EvidenceBundle.Request(
                    "shared-conflict",
                    null,
                    "acme",
                    anchorFile,
                    null,
                    "test",
                    EvidenceBundle.MAX_LINKS,
                    null),
                NOW)
            .orElseThrow();
    assertThat(global.path("eventIdConflicts").toString())
        .as("acme's bundle for a global token")
        .doesNotContain("Beta's own secret output.");
    ObjectNode own = bundle("shared-conflict", "acme").orElseThrow();
    assertThat(global.path("eventIdConflicts"))
        .as("as acme's own token's bundle lists them")
        .isEqualTo(own.path("eventIdConflicts"))
        .singleElement()
        .satisfies(
            row -> {
              assertThat(row.path("payload").isNull()).as(row.toString()).isTrue();
              assertThat(row.path("withheld").asText()).isNotEmpty();
              assertThat(row.path("recordedTenantId").asText()).isEqualTo("acme");
            });
  }

  /**
   * A global token naming no tenant of a request id two tenants use is answered 409 with the
   * tenants to name ({@code tenants}), as the story, explanation, review and takedown 409s are.
   * Before the fifty-first session the evidence 409 named them in its text alone.
   */
  @Test
  void shouldListTheTenantsToNameInTheConflictOfASharedRequestId() throws Exception {
    Scenario acme = Scenario.of("shared-409", "acme", Decision.RELEASE, NOW);
    writer.write(AuditEvents.story(acme));
    writer.write(
        List.of(
            AuditEvents.incoming(
                io.genguard.schemas.Topics.CONTENT_RELEASED.name(),
                AuditEvents.otherTenantsOutcome(
                    acme,
                    io.genguard.events.v1.GateOutcome.RELEASED,
                    io.genguard.events.v1.GateBasis.VERDICT,
                    null,
                    NOW.plusSeconds(1)))));
    assertThatThrownBy(() -> EvidenceBundle.find(database.dataSource(), "shared-409", null))
        .isInstanceOfSatisfying(
            io.genguard.audit.ConflictException.class,
            e -> {
              assertThat(e.getMessage()).contains("more than one tenant (acme, beta)");
              assertThat(e.tenants()).containsExactly("acme", "beta");
            });
  }

  /**
   * Beta's request under an id acme uses too got no answer, and an admin's bulk dismissal closed
   * beta's unfinished flow: acme's bundle (its own token's, and a global token's naming acme) holds
   * neither the flow nor the bulk action, and passes its own check. Before the fifty-first session
   * the bulk action was selected by request id alone, without the flow it covers, and acme's bundle
   * failed its self-check ("covers none of the request's unfinished flows"): a false tamper alarm.
   */
  @Test
  void shouldLeaveAnotherTenantsBulkFlowActionOutOfATenantsBundleOfASharedRequestId()
      throws Exception {
    writer.write(
        List.of(
            AuditEvents.incoming(
                io.genguard.schemas.Topics.GENERATION_REQUESTS.name(),
                AuditEvents.request(Scenario.of("shared-flow", "beta", Decision.RELEASE, NOW)))));
    UnfinishedFlows watch =
        new UnfinishedFlows(
            database.dataSource(),
            Clock.fixed(NOW.plus(java.time.Duration.ofMinutes(20)), ZoneOffset.UTC),
            UnfinishedFlows.Deadlines.DEFAULTS);
    assertThat(watch.check().found()).hasSize(1);
    Caller admin = new Caller("admin01", "ada", Role.ADMIN, null);
    watch.dismissAll(
        UnfinishedFlows.Kind.NO_ANSWER, "beta", NOW.plusSeconds(3600), "beta's outage", admin);
    writer.write(
        AuditEvents.story(
            Scenario.of("shared-flow", "acme", Decision.RELEASE, NOW.plusSeconds(5))));
    anchors.publish(database.dataSource());

    ObjectNode acme = bundle("shared-flow", "acme").orElseThrow();
    ObjectNode global =
        EvidenceBundle.build(
                database.dataSource(),
                new EvidenceBundle.Request(
                    "shared-flow",
                    null,
                    "acme",
                    anchorFile,
                    null,
                    "test",
                    EvidenceBundle.MAX_LINKS,
                    null),
                NOW)
            .orElseThrow();
    for (ObjectNode bundle : List.of(acme, global)) {
      Result result = EvidenceCheck.check(bundle, keys);
      assertThat(result.complete()).as(result.summary()).isTrue();
      assertThat(result.records())
          .extracting(EvidenceCheck.RecordFinding::eventType)
          .doesNotContain("FlowUnfinished", "ApiAction");
      assertThat(bundle.toString()).doesNotContain("beta's outage");
    }
    // Beta's bundle holds its flow and the bulk action that closed it.
    Result beta = EvidenceCheck.check(bundle("shared-flow", "beta").orElseThrow(), keys);
    assertThat(beta.complete()).as(beta.summary()).isTrue();
    assertThat(beta.records())
        .extracting(EvidenceCheck.RecordFinding::eventType)
        .containsExactly("GenerationRequest", "FlowUnfinished", "ApiAction");
  }

  private Optional<ObjectNode> bundle(String requestId, String tenantScope) throws Exception {
    return EvidenceBundle.build(
        database.dataSource(),
        new EvidenceBundle.Request(
            requestId, tenantScope, anchorFile, archive, "test", EvidenceBundle.MAX_LINKS),
        NOW);
  }

  private ObjectNode bundleThrough(String requestId, long throughSeq) throws Exception {
    return EvidenceBundle.build(
            database.dataSource(),
            new EvidenceBundle.Request(
                requestId, null, anchorFile, archive, "test", EvidenceBundle.MAX_LINKS, throughSeq),
            NOW)
        .orElseThrow();
  }

  private List<String> problems(ObjectNode bundle, Consumer<ObjectNode> change) {
    ObjectNode copy = bundle.deepCopy();
    change.accept(copy);
    return EvidenceCheck.check(copy, keys).problems();
  }

  private static String canonical(ObjectNode bundle, int record) {
    return bundle.path("records").get(record).path("canonical").asText();
  }

  private static void editCanonical(ObjectNode bundle, int record, String from, String to) {
    ObjectNode target = (ObjectNode) bundle.path("records").get(record);
    if (target.path("payload").isTextual() && target.get("payload").asText().contains(from)) {
      // Chain version 3: the event is beside the canonical text, which holds its SHA-256; an
      // editor who changes it changes that hash too.
      payload(bundle, record, target.get("payload").asText().replace(from, to));
      return;
    }
    target.put("canonical", canonical(bundle, record).replace(from, to));
  }

  /** Makes the event in a record's canonical text (its payload text) {@code payload}. */
  private static void payload(ObjectNode bundle, int record, String payload) {
    try {
      ObjectNode canonical = (ObjectNode) JSON.readTree(canonical(bundle, record));
      ObjectNode target = (ObjectNode) bundle.path("records").get(record);
      if (canonical.has("payloadSha256")) {
        // Chain version 3: the event beside, its SHA-256 in the canonical text.
        canonical.put("payloadSha256", io.genguard.schemas.ContentHash.sha256Hex(payload));
        target.put("payload", payload);
      } else {
        canonical.put("payload", payload);
      }
      target.put("canonical", CanonicalJson.write(canonical));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  private static char flip(char hex) {
    return hex == '0' ? '1' : '0';
  }

  private void story(String requestId, Decision decision) throws Exception {
    writer.write(AuditEvents.story(scenario(requestId, decision)));
  }

  private static Scenario scenario(String requestId, Decision decision) {
    return Scenario.of(requestId, "acme", decision, NOW);
  }

  private void execute(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
