package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.AuditConfig;
import io.genguard.audit.bias.Campaigns;
import io.genguard.audit.evidence.EvidenceCheck;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.PythonVerifier;
import io.genguard.audit.persistence.AnchorLog;
import io.genguard.audit.persistence.AnchorWitness;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.ApiTokens;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.watch.UnfinishedFlows;
import io.genguard.bias.persistence.CampaignRecord;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ./genguard audit token create|list|revoke and ./genguard audit verify against a real database.
 */
class AuditStoreCommandsITCase {
  private static IntegrationInfrastructure infra;
  private static String jdbcUrl;
  private static AuditDatabase database;

  @BeforeAll
  static void databaseWithTenRecords() throws Exception {
    infra = IntegrationInfrastructure.get();
    jdbcUrl = infra.createDatabase("audit_store_commands_it");
    database = AuditDatabase.connect(jdbcUrl, infra.jdbcUser(), infra.jdbcPassword(), 2);
    List<IncomingEvent> events = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      events.add(request(i, "cli-event-" + i, "cli-" + i));
    }
    new AuditWriter(database.dataSource(), Clock.systemUTC()).write(events);
  }

  @AfterAll
  static void close() {
    database.close();
  }

  /** A generation request of tenant acme at offset {@code offset} of gen.requests. */
  private static IncomingEvent request(long offset, String eventId, String requestId) {
    return new IncomingEvent(
        Topics.GENERATION_REQUESTS.name(),
        0,
        offset,
        GenerationRequest.newBuilder(
                AuditEvents.request(
                    Scenario.of(requestId, "acme", Decision.RELEASE, Instant.now())))
            .setEventId(eventId)
            .setPrompt("prompt " + offset)
            .build());
  }

  private static String[] database(String... more) {
    return CommandRun.withDatabase(infra, jdbcUrl, more);
  }

  @Test
  void shouldOpenACompletedCampaignAgainBeforeItsSamplesAreSubmittedAgain() throws Exception {
    CampaignRecord record =
        new CampaignRecord(
            "reopen-it",
            "Reopen",
            "counterfactual",
            "acme",
            "echo",
            null,
            2,
            List.of("a", "b"),
            1,
            4,
            "{\"id\":\"reopen-it\"}",
            "0".repeat(64),
            "[]",
            Instant.now());
    AuditStorePublisher publisher = new AuditStorePublisher(database.dataSource(), "it");
    Campaigns campaigns = new Campaigns(database.dataSource(), Clock.systemUTC());
    publisher.registerCampaign(record);
    campaigns.updateStatus("reopen-it", "COMPLETED", null, Caller.system("it"));
    assertThatThrownBy(
            () -> campaigns.checkCampaignAttributes("acme", Map.of("campaign.id", "reopen-it")))
        .hasMessageContaining("is COMPLETED");

    publisher.registerCampaign(record); // as a report publishes it: stays completed
    assertThatThrownBy(
            () -> campaigns.checkCampaignAttributes("acme", Map.of("campaign.id", "reopen-it")))
        .hasMessageContaining("is COMPLETED");
    publisher.openForSubmitting(record); // as a resume does before it submits
    campaigns.checkCampaignAttributes("acme", Map.of("campaign.id", "reopen-it"));
    assertThat(campaigns.get("reopen-it", Caller.system("it")).path("status").asText())
        .isEqualTo("RUNNING");
  }

  @Test
  void shouldCreateATokenThatAuthenticatesWithItsRoleAndTenantAndAuditTheCreation()
      throws Exception {
    CommandRun created =
        CommandRun.of(
            new AuditTokenCommand.Create(),
            database("--role", "reviewer", "--tenant", "acme", "--name", "alice"));

    assertThat(created.code()).as(created.err()).isZero();
    String token = created.out().trim();
    assertThat(token).startsWith(ApiTokens.PREFIX).hasSize(60);
    Optional<Caller> caller =
        new ApiTokens(database.dataSource(), Clock.systemUTC()).authenticate(token);
    assertThat(caller)
        .hasValueSatisfying(
            c -> {
              assertThat(c.role()).isEqualTo(Role.REVIEWER);
              assertThat(c.tenantId()).isEqualTo("acme");
              assertThat(c.name()).isEqualTo("alice");
            });
    assertThat(
            count(
                "select count(*) from api_action where action = 'token.create' and caller_name like 'cli:%'"
                    + " and target = '"
                    + token.substring(4, 16)
                    + "'"))
        .isEqualTo(1);

    CommandRun listed = CommandRun.of(new AuditTokenCommand.ListTokens(), database());
    assertThat(listed.out())
        .contains(token.substring(4, 16))
        .contains("reviewer")
        .contains("alice")
        .doesNotContain(token.substring(17));

    assertThat(
            CommandRun.of(new AuditTokenCommand.Revoke(), database(token.substring(4, 16))).code())
        .isZero();
    assertThat(new ApiTokens(database.dataSource(), Clock.systemUTC()).authenticate(token))
        .isEmpty();

    // An id the store does not know is input the user gave: exit 2, as an unknown campaign of
    // audit status (before the forty-fourth session, 1).
    CommandRun unknown = CommandRun.of(new AuditTokenCommand.Revoke(), database("no-such-id"));
    assertThat(unknown.code()).as(unknown.err()).isEqualTo(2);
    assertThat(unknown.err())
        .startsWith("genguard: No token with id 'no-such-id'; see audit token list")
        .hasLineCount(1);
  }

  @Test
  void shouldListUnfinishedFlowsAndExitFourWhileAnyIsOpen() throws Exception {
    String url = infra.createDatabase("audit_unfinished_command_it");
    try (AuditDatabase own =
        AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      CommandRun none =
          CommandRun.of(new AuditUnfinishedCommand(), CommandRun.withDatabase(infra, url));
      assertThat(none.code()).as(none.err()).isZero();
      assertThat(none.out()).contains("\"NO_ANSWER\" : 0");

      new AuditWriter(own.dataSource(), Clock.systemUTC())
          .write(List.of(request(0, "cli-unanswered-event", "cli-unanswered")));
      new UnfinishedFlows(
              own.dataSource(),
              Clock.offset(Clock.systemUTC(), Duration.ofMinutes(16)),
              UnfinishedFlows.Deadlines.DEFAULTS)
          .check();

      CommandRun open =
          CommandRun.of(new AuditUnfinishedCommand(), CommandRun.withDatabase(infra, url));
      assertThat(open.code()).as(open.err()).isEqualTo(4);
      assertThat(open.out()).contains("\"NO_ANSWER\" : 1", "\"requestId\" : \"cli-unanswered\"");
      CommandRun otherKind =
          CommandRun.of(
              new AuditUnfinishedCommand(),
              CommandRun.withDatabase(infra, url, "--kind", "NO_GATE_OUTCOME"));
      assertThat(otherKind.code())
          .as("only a request without an answer is open, not an output without an outcome")
          .isZero();
      assertThat(
              CommandRun.of(
                      new AuditUnfinishedCommand(),
                      CommandRun.withDatabase(infra, url, "--kind", "NO_ANSWER"))
                  .code())
          .isEqualTo(4);
      CommandRun otherTenant =
          CommandRun.of(
              new AuditUnfinishedCommand(),
              CommandRun.withDatabase(infra, url, "--tenant", "globex", "--state", "all"));
      assertThat(otherTenant.code()).isZero();
      assertThat(otherTenant.out()).doesNotContain("cli-unanswered");
      CommandRun badKind =
          CommandRun.of(
              new AuditUnfinishedCommand(), CommandRun.withDatabase(infra, url, "--kind", "late"));
      // A usage error since the forty-fourth session (before, a failed command: 1).
      assertThat(badKind.code()).as(badKind.err()).isEqualTo(2);
      assertThat(badKind.err()).contains("NO_ANSWER", "NO_GATE_OUTCOME");
      assertThat(
              CommandRun.of(
                      new AuditUnfinishedCommand(),
                      CommandRun.withDatabase(infra, url, "--limit", "0"))
                  .err())
          .contains("--limit 0 must be 1-10000");
    }
  }

  @Test
  void shouldRefuseATokenThatBreaksTheRulesWithAClearMessage() {
    CommandRun global =
        CommandRun.of(
            new AuditTokenCommand.Create(), database("--role", "reviewer", "--name", "bob"));
    assertThat(global.code()).isNotZero();
    assertThat(global.err()).contains("must be bound to a tenant");
    CommandRun badRole =
        CommandRun.of(new AuditTokenCommand.Create(), database("--role", "root", "--name", "bob"));
    assertThat(badRole.err())
        .contains("Unknown role 'root'; use one of submitter, reviewer, compliance, admin");
    // The API's bound: an expiry past year 9999 is not stored, nor is one PostgreSQL refuses.
    for (String days : new String[] {"3651", "3000000", "2147483647"}) {
      CommandRun tooLong =
          CommandRun.of(
              new AuditTokenCommand.Create(),
              database("--role", "admin", "--name", "ann", "--valid-days", days));
      assertThat(tooLong.code()).as(days).isNotZero();
      assertThat(tooLong.err()).contains("--valid-days must be between 1 and 3650, was " + days);
    }
  }

  @Test
  void shouldVerifyTheChainAndReportTheRecordEditedWithSql() throws Exception {
    CommandRun intact = CommandRun.of(new AuditVerifyCommand(), database());
    assertThat(intact.code()).as(intact.err()).isZero();
    assertThat(intact.out()).startsWith("Audit chain OK:");

    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = replace(payload, 'prompt 4', 'prompt X')"
              + " where event_id = 'cli-event-4'");
    }
    CommandRun broken = CommandRun.of(new AuditVerifyCommand(), database("--json"));

    assertThat(broken.code()).isEqualTo(1);
    assertThat(broken.out())
        .contains("\"valid\":false")
        .contains("\"problem\":\"CONTENT_MODIFIED\"")
        .contains("\"eventId\":\"cli-event-4\"");
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = replace(payload, 'prompt X', 'prompt 4')"
              + " where event_id = 'cli-event-4'");
    }
    assertThat(CommandRun.of(new AuditVerifyCommand(), database()).code()).isZero();
  }

  @Test
  void shouldVerifyOnlyTheRecordsFromAHeadAPreviousVerificationPrinted() throws Exception {
    CommandRun whole = CommandRun.of(new AuditVerifyCommand(), database("--json"));
    assertThat(whole.code()).as(whole.err()).isZero();
    com.fasterxml.jackson.databind.JsonNode printed =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(whole.out().strip());
    String seq = printed.get("headSeq").asText();
    String hash = printed.get("headHash").asText();

    CommandRun since =
        CommandRun.of(new AuditVerifyCommand(), database("--from-seq", seq, "--from-hash", hash));
    assertThat(since.code()).as(since.err()).isZero();
    assertThat(since.out()).startsWith("Audit chain OK from seq " + seq + ": 1 records");

    CommandRun wrong =
        CommandRun.of(
            new AuditVerifyCommand(),
            database("--from-seq", seq, "--from-hash", "0".repeat(64), "--json"));
    assertThat(wrong.code()).isEqualTo(1);
    assertThat(wrong.out())
        .contains("\"problem\":\"ANCHOR_MISMATCH\"")
        .contains("\"fromSeq\":" + seq);
    CommandRun half = CommandRun.of(new AuditVerifyCommand(), database("--from-seq", seq));
    assertThat(half.code()).isNotZero();
    assertThat(half.err()).contains("--from-seq and --from-hash go together");
  }

  @Test
  void shouldVerifyTheChainAgainstEveryHeadInAnAnchorFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    new AnchorLog(file, Clock.systemUTC()).publish(database.dataSource());

    CommandRun anchored =
        CommandRun.of(new AuditVerifyCommand(), database("--anchors", file.toString()));
    assertThat(anchored.code()).as(anchored.err()).isZero();
    assertThat(anchored.out()).contains("1 anchor(s) matched");

    Path forged = dir.resolve("forged.jsonl");
    Files.writeString(forged, "{\"seq\":5,\"hash\":\"" + "00".repeat(32) + "\"}\n");
    CommandRun mismatch =
        CommandRun.of(new AuditVerifyCommand(), database("--anchors", forged.toString()));
    assertThat(mismatch.code()).isEqualTo(1);
    assertThat(mismatch.out()).contains("ANCHOR_MISMATCH").contains("the anchor says seq 5");

    Path garbage = dir.resolve("garbage.jsonl");
    Files.writeString(garbage, "seq 5 hash 00\n");
    CommandRun unreadable =
        CommandRun.of(new AuditVerifyCommand(), database("--anchors", garbage.toString()));
    assertThat(unreadable.code()).isEqualTo(2);
    assertThat(unreadable.err()).contains("garbage.jsonl line 1: not JSON");

    Path empty = Files.createFile(dir.resolve("empty.jsonl"));
    assertThat(
            CommandRun.of(new AuditVerifyCommand(), database("--anchors", empty.toString())).err())
        .contains("holds no complete anchor");
    assertThat(
            CommandRun.of(
                    new AuditVerifyCommand(), database("--anchors", dir.resolve("none").toString()))
                .err())
        .contains("does not exist");
  }

  @Test
  void shouldWriteAnEvidenceBundleThatIsCheckedWithThePublicKeysAlone(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    new AnchorLog(
            file,
            Clock.systemUTC(),
            ProvenanceKeys.signingKeysAt(dir.resolve("anchor-signing-keys"), "anchor-1"))
        .publish(database.dataSource());
    String keys = AnchorLog.publicKeyFile(file).toString();
    Path bundle = dir.resolve("evidence-cli-3.json");

    CommandRun written =
        CommandRun.of(
            new AuditEvidenceCommand(),
            database(
                "--request", "cli-3", "--out", bundle.toString(), "--anchors", file.toString()));
    assertThat(written.code()).as(written.err()).isZero();
    assertThat(written.err())
        .contains("Wrote the evidence of request cli-3")
        .contains("1 records, 1 segment(s)")
        .contains("./genguard audit verify-evidence --in " + bundle);

    CommandRun checked =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(), "--in", bundle.toString(), "--anchor-keys", keys);
    assertThat(checked.code()).as(checked.out() + checked.err()).isZero();
    assertThat(checked.out())
        .startsWith("Evidence holds for request cli-3: 1 of 1 records proven")
        .containsPattern(
            "seq 4 GenerationRequest: PROVEN by the anchor at seq \\d+ written \\S+,"
                + " signed by anchor-1");
    CommandRun json =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(),
            "--in",
            bundle.toString(),
            "--anchor-keys",
            keys,
            "--json");
    assertThat(json.out()).contains("\"complete\":true").contains("\"signaturesChecked\":true");

    // Edited after it was written: the prompt changed.
    Path edited = dir.resolve("edited.json");
    Files.writeString(edited, Files.readString(bundle).replace("prompt 3", "prompt 4"));
    CommandRun forged =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(), "--in", edited.toString(), "--anchor-keys", keys);
    assertThat(forged.code()).isEqualTo(1);
    assertThat(forged.out())
        .startsWith("Evidence does NOT hold for request cli-3")
        // Chain version 3: the event beside its canonical text no longer hashes to it.
        .contains("seq 4 (GenerationRequest)")
        .contains("the payload was changed");

    // Against a copy of the anchor file kept elsewhere: the line must be there as written.
    CommandRun copied =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(),
            "--in",
            bundle.toString(),
            "--unsigned",
            "--anchors",
            file.toString());
    assertThat(copied.code()).as(copied.out()).isZero();
    assertThat(copied.out()).contains("Every anchor line of the bundle is in " + file);
    Path older = Files.writeString(dir.resolve("older.jsonl"), "");
    CommandRun stale =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(),
            "--in",
            bundle.toString(),
            "--anchor-keys",
            keys,
            "--anchors",
            older.toString());
    assertThat(stale.code()).isEqualTo(1);
    assertThat(stale.out())
        .containsPattern("segment 1's anchor line \\(seq \\d+\\) is not in .*older.jsonl");
    Path rewritten = dir.resolve("rewritten.jsonl");
    Files.writeString(
        rewritten, Files.readString(file).replaceFirst("\"anchoredAt\":\"2", "\"anchoredAt\":\"1"));
    assertThat(
            CommandRun.of(
                    new AuditVerifyEvidenceCommand(),
                    "--in",
                    bundle.toString(),
                    "--unsigned",
                    "--anchors",
                    rewritten.toString())
                .out())
        .contains("differs from the one in");

    CommandRun trusted =
        CommandRun.of(new AuditVerifyEvidenceCommand(), "--in", bundle.toString(), "--unsigned");
    assertThat(trusted.code()).isZero();
    assertThat(trusted.out()).contains("anchor signatures NOT checked").contains("taken on trust");
    assertThat(CommandRun.of(new AuditVerifyEvidenceCommand(), "--in", bundle.toString()).code())
        .as("keys or --unsigned: one must be chosen")
        .isEqualTo(2);
    CommandRun missing =
        CommandRun.of(
            new AuditVerifyEvidenceCommand(), "--in", dir.resolve("none").toString(), "--unsigned");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("does not exist");
    Path notUtf8 = Files.write(dir.resolve("latin1.json"), new byte[] {'{', '"', (byte) 0xff});
    CommandRun binary =
        CommandRun.of(new AuditVerifyEvidenceCommand(), "--in", notUtf8.toString(), "--unsigned");
    assertThat(binary.code()).isEqualTo(1);
    assertThat(binary.out()).startsWith("Evidence does NOT hold").contains("not JSON");
    Path tiny = dir.resolve("tiny-values.json");
    Files.writeString(
        tiny,
        "{\"records\":[" + "0,".repeat((int) EvidenceCheck.MAX_TOKENS) + "0],\"requestId\":\"r\"}");
    CommandRun tooMany =
        CommandRun.of(new AuditVerifyEvidenceCommand(), "--in", tiny.toString(), "--unsigned");
    assertThat(tooMany.code()).isEqualTo(1);
    assertThat(tooMany.out()).contains("larger than a bundle can be");
    CommandRun unknown =
        CommandRun.of(
            new AuditEvidenceCommand(),
            database(
                "--request", "no-such", "--out", bundle.toString(), "--anchors", file.toString()));
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("holds no record of request no-such");
    CommandRun noAnchors =
        CommandRun.of(
            new AuditEvidenceCommand(), database("--request", "cli-3", "--out", bundle.toString()));
    assertThat(noAnchors.err()).contains("give --anchors FILE");
    // Never over the anchor file it is proved against; and no half bundle left behind.
    String anchorsBefore = Files.readString(file);
    CommandRun overAnchors =
        CommandRun.of(
            new AuditEvidenceCommand(),
            database("--request", "cli-3", "--out", file.toString(), "--anchors", file.toString()));
    assertThat(overAnchors.code()).isEqualTo(2);
    assertThat(overAnchors.err()).contains("is the anchor file the bundle is proved against");
    assertThat(Files.readString(file)).isEqualTo(anchorsBefore);
    try (var left = Files.list(dir)) {
      assertThat(left.map(path -> path.getFileName().toString()))
          .noneMatch(name -> name.endsWith(".partial"));
    }
  }

  /**
   * The fifty-first session's fixers: of a request id two tenants use, the command line (no tenant)
   * wrote every tenant's records into one bundle, which failed its own check and the Python
   * verifier ("a record of tenant ..."). As the API's route, it now refuses such an id without
   * --tenant, naming the tenants and writing nothing, and with --tenant writes that tenant's
   * records, which both verifiers prove.
   */
  @Test
  void shouldWriteOneTenantsBundleOfASharedRequestIdAndRefuseOneOfNoTenant(@TempDir Path dir)
      throws Exception {
    String sharedUrl = infra.createDatabase("audit_store_commands_shared_it");
    Path file = dir.resolve("anchors.jsonl");
    try (AuditDatabase shared =
        AuditDatabase.connect(sharedUrl, infra.jdbcUser(), infra.jdbcPassword(), 2)) {
      Scenario acme = Scenario.of("cli-shared", "acme", Decision.RELEASE, Instant.now());
      AuditWriter writer = new AuditWriter(shared.dataSource(), Clock.systemUTC());
      writer.write(AuditEvents.story(acme));
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.CONTENT_RELEASED.name(),
                  AuditEvents.otherTenantsOutcome(
                      acme, GateOutcome.RELEASED, GateBasis.VERDICT, null, Instant.now()))));
      new AnchorLog(
              file,
              Clock.systemUTC(),
              ProvenanceKeys.signingKeysAt(dir.resolve("anchor-signing-keys"), "anchor-1"))
          .publish(shared.dataSource());
    }
    Path keys = AnchorLog.publicKeyFile(file);
    Path refused = dir.resolve("evidence-no-tenant.json");

    CommandRun noTenant =
        CommandRun.of(
            new AuditEvidenceCommand(),
            CommandRun.withDatabase(
                infra,
                sharedUrl,
                "--request",
                "cli-shared",
                "--out",
                refused.toString(),
                "--anchors",
                file.toString()));

    assertThat(noTenant.code()).as(noTenant.err()).isEqualTo(2);
    assertThat(noTenant.err())
        .contains("more than one tenant (acme, " + AuditEvents.OTHER_TENANT + ")")
        .contains("--tenant T")
        .contains("nothing was written");
    assertThat(refused).doesNotExist();
    try (var left = Files.list(dir)) {
      assertThat(left.map(path -> path.getFileName().toString()))
          .noneMatch(name -> name.contains("evidence-no-tenant"));
    }

    for (String tenant : List.of("acme", AuditEvents.OTHER_TENANT)) {
      String other = tenant.equals("acme") ? AuditEvents.OTHER_TENANT : "acme";
      Path bundle = dir.resolve("evidence-" + tenant + ".json");
      CommandRun written =
          CommandRun.of(
              new AuditEvidenceCommand(),
              CommandRun.withDatabase(
                  infra,
                  sharedUrl,
                  "--request",
                  "cli-shared",
                  "--tenant",
                  tenant,
                  "--out",
                  bundle.toString(),
                  "--anchors",
                  file.toString()));
      assertThat(written.code()).as(written.err()).isZero();
      ObjectNode json = (ObjectNode) new ObjectMapper().readTree(bundle.toFile());
      assertThat(json.path("tenantId").asText()).isEqualTo(tenant);
      assertThat(json.path("records"))
          .as("%s's bundle", tenant)
          .isNotEmpty()
          .allSatisfy(
              record ->
                  assertThat(record.path("canonical").asText(""))
                      .doesNotContain("\"tenantId\":\"" + other + "\""));
      CommandRun checked =
          CommandRun.of(
              new AuditVerifyEvidenceCommand(),
              "--in",
              bundle.toString(),
              "--anchor-keys",
              keys.toString());
      assertThat(checked.code()).as(checked.out() + checked.err()).isZero();
      assertThat(checked.out()).startsWith("Evidence holds for request cli-shared");
      assertThat(PythonVerifier.run(dir, json, keys, 0))
          .as("%s's bundle", tenant)
          .contains("PROVEN")
          .noneMatch(line -> line.startsWith("problem:"));
    }

    CommandRun unknown =
        CommandRun.of(
            new AuditEvidenceCommand(),
            CommandRun.withDatabase(
                infra,
                sharedUrl,
                "--request",
                "cli-shared",
                "--tenant",
                "initech",
                "--out",
                refused.toString(),
                "--anchors",
                file.toString()));
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("holds no record of request cli-shared of tenant initech");
    assertThat(refused).doesNotExist();
  }

  @Test
  void shouldCheckTheAnchorsSignaturesWithThePublicKeysGiven(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    new AnchorLog(
            file,
            Clock.systemUTC(),
            ProvenanceKeys.signingKeysAt(dir.resolve("anchor-signing-keys"), "anchor-1"))
        .publish(database.dataSource());
    String keys = AnchorLog.publicKeyFile(file).toString();

    CommandRun signed =
        CommandRun.of(
            new AuditVerifyCommand(),
            database("--anchors", file.toString(), "--anchor-keys", keys));
    assertThat(signed.code()).as(signed.err()).isZero();
    assertThat(signed.out())
        .contains("1 anchor(s) matched")
        .contains("Anchor signatures OK: 1 line(s) signed");
    CommandRun json =
        CommandRun.of(
            new AuditVerifyCommand(),
            database("--anchors", file.toString(), "--anchor-keys", keys, "--json"));
    assertThat(json.out()).contains("\"anchorSignatures\":{\"signed\":1,");
    assertThat(json.out()).contains("\"valid\":true");

    // The head still matches the chain, but the line was edited by someone without the key.
    Path edited = dir.resolve("edited.jsonl");
    Files.writeString(
        edited, Files.readString(file).replaceFirst("\"anchoredAt\":\"2", "\"anchoredAt\":\"1"));
    CommandRun forged =
        CommandRun.of(
            new AuditVerifyCommand(),
            database("--anchors", edited.toString(), "--anchor-keys", keys));
    assertThat(forged.code()).isEqualTo(1);
    assertThat(
            CommandRun.of(
                    new AuditVerifyCommand(),
                    database("--anchors", edited.toString(), "--anchor-keys", keys, "--json"))
                .out())
        .as("the whole check fails, as the API's does")
        .contains("\"valid\":false");
    assertThat(forged.out())
        .contains("1 anchor(s) matched")
        .contains("Anchor signatures BROKEN (1 problem(s)")
        .containsPattern("line 1 \\(seq \\d+\\): the signature does not match the line");

    Path otherKeys = dir.resolve("other.keys");
    Files.writeString(
        otherKeys,
        SigningKeyRing.of(SigningKey.generate("anchor-9")).verificationKeys().toConfigEntries());
    assertThat(
            CommandRun.of(
                    new AuditVerifyCommand(),
                    database("--anchors", file.toString(), "--anchor-keys", otherKeys.toString()))
                .out())
        .contains(
            "signed with key 'anchor-1', which is not among the verification keys [anchor-9]");
    Path notKeys = Files.writeString(dir.resolve("not.keys"), "hello\n");
    CommandRun unreadable =
        CommandRun.of(
            new AuditVerifyCommand(),
            database("--anchors", file.toString(), "--anchor-keys", notKeys.toString()));
    assertThat(unreadable.code()).isEqualTo(2);
    assertThat(unreadable.err()).contains("is not a file of id:base64 public keys");
    Path huge = Files.writeString(dir.resolve("huge.keys"), "k".repeat(70_000));
    assertThat(
            CommandRun.of(
                    new AuditVerifyCommand(),
                    database("--anchors", file.toString(), "--anchor-keys", huge.toString()))
                .err())
        .contains("is larger than 65536 bytes; a key file has a line of about 60 per key");
    if (Files.exists(Path.of("/dev/zero"))) {
      assertThat(
              CommandRun.of(
                      new AuditVerifyCommand(),
                      database("--anchors", file.toString(), "--anchor-keys", "/dev/zero"))
                  .err())
          .as("a device without a size is read only up to the limit")
          .contains("is larger than 65536 bytes");
    }
    assertThat(CommandRun.of(new AuditVerifyCommand(), database("--anchor-keys", keys)).err())
        .contains("give --anchors FILE too");
  }

  @Test
  void shouldCompareTheAnchorFileWithItsWitnessTopic(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("anchors.jsonl");
    new AnchorLog(file, Clock.systemUTC()).publish(database.dataSource());
    String topic = "cli.witness";
    String bootstrap = infra.kafkaBootstrapServers();
    try (AnchorWitness witness =
        new AnchorWitness(infra.kafkaClientProperties(), topic, file, Duration.ofSeconds(20))) {
      witness.ensureTopic();
      assertThat(witness.catchUp()).isEqualTo(1);
    }

    CommandRun agrees =
        CommandRun.of(
            new AuditVerifyCommand(),
            database(
                "--anchors", file.toString(), "--witness", bootstrap, "--witness-topic", topic));
    assertThat(agrees.code()).as(agrees.err()).isZero();
    assertThat(agrees.out())
        .contains(
            "Anchor witness OK: the topic cli.witness holds 1 line(s), each in the anchor"
                + " file as written");

    // The file emptied: against the witness that is a finding (exit 1), not a usage error.
    Files.writeString(file, "");
    CommandRun emptied =
        CommandRun.of(
            new AuditVerifyCommand(),
            database(
                "--anchors",
                file.toString(),
                "--witness",
                bootstrap,
                "--witness-topic",
                topic,
                "--json"));
    assertThat(emptied.code()).isEqualTo(1);
    assertThat(emptied.out())
        .contains("\"valid\":false")
        .contains("is not in the anchor file: lines were removed from it");

    assertThat(CommandRun.of(new AuditVerifyCommand(), database("--witness", bootstrap)).err())
        .contains("give --anchors FILE too");
  }

  @Test
  void shouldSayWhereTheDatabaseIsMissing() {
    CommandRun none = CommandRun.of(new AuditVerifyCommand(), "--jdbc-url", "");
    assertThat(none.code()).isNotZero();
    assertThat(none.err()).contains("No audit database: pass --jdbc-url");
    CommandRun notPostgres =
        CommandRun.of(new AuditVerifyCommand(), "--jdbc-url", "jdbc:mysql://x/y");
    assertThat(notPostgres.err()).contains("is not a PostgreSQL JDBC URL");
  }

  @Test
  void shouldFindTheEmbeddedDatabaseOfARunningStackFromItsDataDirectory() throws Exception {
    Path stack = Files.createTempDirectory("stack-");
    Files.createDirectories(stack.resolve("postgres"));
    Files.writeString(
        stack.resolve("postgres/postmaster.pid"), "4242\n/data\n1700000000\n54321\n127.0.0.1\n");

    assertThat(AuditStoreOptions.embeddedUrl(stack))
        .isEqualTo("jdbc:postgresql://127.0.0.1:54321/genguard");
    Path empty = Files.createTempDirectory("no-stack-");
    CommandRun missing = CommandRun.of(new AuditVerifyCommand(), "--stack-dir", empty.toString());
    assertThat(missing.err()).contains("No running PostgreSQL under " + empty);
    // The stack named is the store: not the one the environment's URL names, and not a second
    // one named as well.
    CommandRun both =
        CommandRun.of(
            new AuditVerifyCommand(),
            "--stack-dir",
            stack.toString(),
            "--jdbc-url",
            "jdbc:postgresql://elsewhere:5432/genguard");
    assertThat(both.code()).isNotZero();
    assertThat(both.err()).contains("--stack-dir and --jdbc-url name two audit stores");
    var environment = AuditStoreOptions.environment;
    try {
      AuditStoreOptions.environment =
          key -> key.equals(AuditConfig.JDBC_URL) ? "jdbc:postgresql://elsewhere:5432/x" : null;
      AuditStoreOptions options = new AuditStoreOptions();
      options.stackDir = stack;
      assertThat(options.url()).isEqualTo("jdbc:postgresql://127.0.0.1:54321/genguard");
      assertThat(new AuditStoreOptions().url()).isEqualTo("jdbc:postgresql://elsewhere:5432/x");
    } finally {
      AuditStoreOptions.environment = environment;
    }
  }

  /**
   * A newer CLI against an audit store whose service was not upgraded yet: the token, status and
   * report commands refuse, saying what to do, and leave the Flyway history as it was (they used to
   * migrate it, ahead of the upgrade order).
   */
  @Test
  void shouldRefuseASchemaBehindThisBuildWithoutMigratingIt() throws Exception {
    String old = infra.createDatabase("audit_store_commands_schema_v20");
    Flyway.configure()
        .dataSource(old, infra.jdbcUser(), infra.jdbcPassword())
        .locations("classpath:db/migration")
        .target("20")
        .load()
        .migrate();
    String history =
        sql(
            old,
            "select string_agg(version, ',' order by installed_rank) from flyway_schema_history");
    assertThat(history).endsWith(",20");
    List<CommandRun> runs =
        List.of(
            CommandRun.of(new AuditTokenCommand.ListTokens(), CommandRun.withDatabase(infra, old)),
            CommandRun.of(
                new AuditTokenCommand.Create(),
                CommandRun.withDatabase(infra, old, "--role", "admin", "--name", "ann")),
            CommandRun.of(
                new AuditTokenCommand.Revoke(),
                CommandRun.withDatabase(infra, old, "abcdef123456")),
            CommandRun.of(
                new AuditStatusCommand(), CommandRun.withDatabase(infra, old, "some-campaign")));
    for (CommandRun run : runs) {
      assertThat(run.code()).as(run.out() + run.err()).isNotZero();
      assertThat(run.err())
          .contains("is at version 20 and lacks V21 to V")
          .contains("This command does not migrate the database: upgrade the audit service first");
    }
    assertThat(runs.get(0).err())
        .startsWith("genguard: genguard audit token list needs the audit schema");
    assertThat(
            sql(
                old,
                "select string_agg(version, ',' order by installed_rank) from flyway_schema_history"))
        .as("the history is as it was")
        .isEqualTo(history);
    assertThat(
            sql(
                old,
                "select count(*) from information_schema.schemata where schema_name = 'bias_audit'"))
        .isEqualTo("0");

    // A database no audit service ever started on: refused, and still without a schema.
    String none = infra.createDatabase("audit_store_commands_schema_none");
    CommandRun listed =
        CommandRun.of(new AuditTokenCommand.ListTokens(), CommandRun.withDatabase(infra, none));
    assertThat(listed.code()).isNotZero();
    assertThat(listed.err()).contains("holds none (no migration applied): is it the audit store?");
    assertThat(sql(none, "select coalesce(to_regclass('flyway_schema_history')::text, 'none')"))
        .isEqualTo("none");

    // The audit schema is current, the bias schema missing: status and report do not create it.
    String noBias = infra.createDatabase("audit_store_commands_schema_no_bias");
    AuditDatabase.connect(noBias, infra.jdbcUser(), infra.jdbcPassword(), 2).close();
    Path out = Files.createTempFile("report", ".html");
    for (CommandRun run :
        List.of(
            CommandRun.of(
                new AuditStatusCommand(), CommandRun.withDatabase(infra, noBias, "some-campaign")),
            CommandRun.of(
                new AuditReportCommand(),
                CommandRun.withDatabase(
                    infra, noBias, "some-campaign", "--out", out.toString())))) {
      assertThat(run.code()).as(run.out() + run.err()).isNotZero();
      assertThat(run.err())
          // The version is this build's newest bias migration.
          .containsPattern(
              "needs the bias_audit schema \\(version \\d+\\), but the database has none");
    }
    assertThat(
            sql(
                noBias,
                "select count(*) from information_schema.schemata where schema_name = 'bias_audit'"))
        .isEqualTo("0");
  }

  /** The one value {@code query} returns from the database at {@code url}, as text. */
  private static String sql(String url, String query) throws Exception {
    try (Connection connection =
            java.sql.DriverManager.getConnection(url, infra.jdbcUser(), infra.jdbcPassword());
        Statement statement = connection.createStatement();
        java.sql.ResultSet result = statement.executeQuery(query)) {
      result.next();
      return result.getString(1);
    }
  }

  private static long count(String sql) throws Exception {
    return TestSql.count(database.dataSource(), sql);
  }
}
