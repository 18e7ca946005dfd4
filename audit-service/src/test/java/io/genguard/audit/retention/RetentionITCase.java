package io.genguard.audit.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.explain.RecordedExplanations;
import io.genguard.audit.explain.VerdictExplanations;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.OlderWriterRecords;
import io.genguard.audit.json.CanonicalJson;
import io.genguard.audit.persistence.ActionLog;
import io.genguard.audit.persistence.AuditChain;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.ChainVerifier.Problem;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.persistence.Transactions;
import io.genguard.audit.policy.PolicyArchive;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.query.EventIdConflicts;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.ForbiddenException;
import io.genguard.audit.security.Role;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ErasureCause;
import io.genguard.events.v1.ErasureNotice;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.ReviewAction;
import io.genguard.events.v1.ReviewDecision;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.Topic;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.LoggerFactory;

/** Retention removes old content per tenant and leaves a chain that still verifies. */
class RetentionITCase {
  private static final Instant LONG_AGO = Instant.parse("2026-01-10T09:00:00Z");
  private static final Instant RECENTLY = Instant.parse("2026-11-20T09:00:00Z");
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);

  private AuditDatabase database;

  @BeforeEach
  void oldAndRecentStoriesOfTwoTenants(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("retention_", test), infra.jdbcUser(), infra.jdbcPassword(), 2);
    AuditWriter old = new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC));
    AuditWriter recent =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    old.write(AuditEvents.story(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO)));
    old.write(AuditEvents.story(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO)));
    recent.write(AuditEvents.story(Scenario.of("acme-new", "acme", Decision.RELEASE, RECENTLY)));
  }

  @AfterEach
  void close() {
    database.close();
  }

  private Retention retention(int defaultDays) {
    return new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), defaultDays, 3);
  }

  @Test
  void shouldTombstoneOnlyTheTenantsOldRecordsAndKeepTheChainVerifiable() throws Exception {
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);

    List<Retention.Applied> applied = retention.apply(ADMIN);

    assertThat(applied).extracting(Retention.Applied::tombstoned).containsExactly(3L, 1L);
    assertThat(applied).allSatisfy(a -> assertThat(a.tenantId()).isEqualTo("acme"));
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-old' and payload is null"))
        .isEqualTo(4);
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'globex-old' and payload is null"))
        .isZero();
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-new' and payload is null"))
        .isZero();
    AuditQueries queries = new AuditQueries(database.dataSource());
    ObjectNode gone = queries.story("acme-old").orElseThrow();
    assertThat(gone.path("status").asText()).as("the content is gone").isEqualTo("CONTENT_REMOVED");
    assertThat(gone.path("request").isNull()).isTrue();
    assertThat(gone.path("outputs")).isEmpty();
    assertThat(gone.path("auditRecords"))
        .hasSize(4)
        .allSatisfy(record -> assertThat(record.path("contentRemoved").asBoolean()).isTrue());
    assertThat(gone.path("removals"))
        .as("two batches of at most three")
        .hasSize(2)
        .allSatisfy(
            removal -> {
              assertThat(removal.path("removal").path("scope").asText()).isEqualTo("TENANT");
              assertThat(removal.path("removal").path("retentionDays").asInt()).isEqualTo(30);
            });
    assertThat(queries.story("acme-old", "globex")).as("another tenant's").isEmpty();
    assertThat(queries.story("no-such-request")).isEmpty();
    assertThat(queries.story("globex-old")).isPresent();
    assertThat(queries.story("acme-new")).isPresent();
    assertThat(count("select count(*) from review_item where request_id = 'acme-old'")).isZero();
    for (String table :
        List.of("generation_request", "generation_output", "moderation_verdict", "gate_outcome")) {
      assertThat(count("select count(*) from " + table + " where request_id = 'acme-old'"))
          .as("%s rows of tombstoned records, in two batches", table)
          .isZero();
      assertThat(count("select count(*) from " + table + " where request_id <> 'acme-old'"))
          .as("%s rows of the other requests", table)
          .isEqualTo(2);
    }

    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
    assertThat(verification.tombstones()).isEqualTo(4);
    assertThat(
            count(
                "select count(*) from api_action where action = 'retention.set' and caller_name = 'ada'"))
        .isEqualTo(1);
    assertThat(retention.apply(ADMIN)).as("a second run finds nothing more").isEmpty();
  }

  @Test
  void shouldCheckTombstonesMadeBeforeAHeadByALaterRetentionWhenVerifyingFromIt() throws Exception {
    ChainVerifier.Verification before = ChainVerifier.verify(database.dataSource());
    ChainVerifier.Anchor head = new ChainVerifier.Anchor(before.headSeq(), before.headHash());
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);
    retention.apply(ADMIN);

    // The tombstones are before the head, their retention records after it.
    ChainVerifier.Verification since =
        ChainVerifier.verifyFrom(database.dataSource(), head, List.of());
    assertThat(since.valid()).as(since.summary()).isTrue();
    assertThat(since.fromSeq()).isEqualTo(before.headSeq());

    // Content removed by hand before the head, pointing at a record after it that is not a
    // retention record: found without walking the records before the head.
    long notRetention = before.headSeq() + 1;
    assertThat(count("select count(*) from audit_log where seq = 5 and payload is not null"))
        .as("globex's, which retention kept")
        .isEqualTo(1);
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = "
              + notRetention
              + " where seq = 5 and payload is not null");
    }
    ChainVerifier.Verification forged =
        ChainVerifier.verifyFrom(database.dataSource(), head, List.of());
    assertThat(forged.valid()).isFalse();
    assertThat(forged.firstBreak().seq()).isEqualTo(5);
    assertThat(forged.firstBreak().problem())
        .isEqualTo(ChainVerifier.Problem.UNJUSTIFIED_TOMBSTONE);
  }

  @Test
  void shouldApplyTheDefaultToTenantsWithoutTheirOwnPeriod() throws Exception {
    Retention retention = retention(30);
    retention.set("acme", 3650, ADMIN);
    // Two old records of no tenant: a policy file, kept whatever the retention, and another action.
    PolicyArchive archive =
        new PolicyArchive(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC));
    String policy = archive.record(PolicyLoader.defaultText(), "built-in", ADMIN).policy().sha256();
    Transactions.inTransaction(
        database.dataSource(),
        connection ->
            ActionLog.record(
                connection,
                ADMIN,
                ActionLog.Action.of("token.create", null, null, "t1"),
                LONG_AGO));

    List<Retention.Applied> applied = retention.apply(ADMIN);

    assertThat(archive.get(policy).yaml()).isEqualTo(PolicyLoader.defaultText());
    assertThat(
            count(
                "select count(*) from audit_log where event_type = 'ApiAction' and payload is null"))
        .as("the other old action of no tenant")
        .isEqualTo(1);

    assertThat(applied).extracting(Retention.Applied::scope).containsOnly("DEFAULT");
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'globex-old' and payload is null"))
        .isEqualTo(4);
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-old' and payload is null"))
        .isZero();
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldDetectATombstoneForgedUnderARealRetentionRecord() throws Exception {
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);
    long retentionSeq = retention.apply(ADMIN).get(0).retentionSeq();

    // An attacker hides a recent record's content behind that retention record.
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = "
              + retentionSeq
              + " where request_id = 'acme-new' and event_type = 'GenerationOutput'");
    }
    ChainVerifier.Verification forged = ChainVerifier.verify(database.dataSource());

    assertThat(forged.valid()).isFalse();
    assertThat(forged.firstBreak().problem()).isEqualTo(Problem.UNJUSTIFIED_TOMBSTONE);
    assertThat(forged.firstBreak().detail()).contains("not before the retention cutoff");
  }

  @Test
  void shouldDetectAnExtraTombstoneEvenWhenItsDatesAreForgedToo() throws Exception {
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);
    long retentionSeq = retention.apply(ADMIN).get(0).retentionSeq();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = "
              + retentionSeq
              + ", recorded_at = '2026-01-10T09:00:00Z' where request_id = 'acme-new' and event_type = 'GenerationOutput'");
    }

    ChainVerifier.Verification forged = ChainVerifier.verify(database.dataSource());

    assertThat(forged.valid()).isFalse();
    // Chain version 3: the forged time no longer matches the tombstone's digest (a version-2
    // tombstone's time is bound by nothing; there only the retention record's count showed it,
    // TOMBSTONE_COUNT_MISMATCH).
    assertThat(forged.firstBreak().problem()).isEqualTo(Problem.CONTENT_MODIFIED);
    assertThat(forged.firstBreak().detail())
        .contains("the tombstone's columns no longer match its stored digest");
  }

  @Test
  void shouldEraseOneRequestNowAndKeepTheChainVerifiable() throws Exception {
    ChainVerifier.Verification before = ChainVerifier.verify(database.dataSource());
    Retention retention = retention(0);

    Retention.Erased erased =
        retention.erase("acme-old", "  data subject request DSR-2026-118  ", ADMIN);

    assertThat(erased.tombstoned()).isEqualTo(4);
    assertThat(erased.tenantId()).isEqualTo("acme");
    assertThat(erased.retentionSeq()).isEqualTo(13L);
    assertThat(erased.keptVersionOne()).isZero();
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-old' and payload is null"
                    + " and tombstone_seq = 13"))
        .isEqualTo(4);
    assertThat(count("select count(*) from audit_log where payload is null"))
        .as("no other request's content")
        .isEqualTo(4);
    AuditQueries queries = new AuditQueries(database.dataSource());
    // Looked up later: what was removed, when, by whom and why.
    ObjectNode erasedStory = queries.story("acme-old").orElseThrow();
    assertThat(erasedStory.path("status").asText()).isEqualTo("CONTENT_REMOVED");
    assertThat(erasedStory.path("removals").get(0).path("removal").path("reason").asText())
        .isEqualTo("data subject request DSR-2026-118");
    assertThat(erasedStory.path("actions"))
        .singleElement()
        .satisfies(
            action -> assertThat(action.path("action").asText()).isEqualTo("requests.erase"));
    assertThat(erasedStory.toString())
        .doesNotContain(
            AuditEvents.request(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO))
                .getPrompt());
    assertThat(queries.story("acme-new")).isPresent();
    assertThat(count("select count(*) from review_item where request_id = 'acme-old'")).isZero();
    for (String table :
        List.of(
            "generation_request",
            "generation_output",
            "moderation_verdict",
            "gate_outcome",
            "api_action")) {
      assertThat(count("select count(*) from " + table + " where request_id = 'acme-old'"))
          .as("%s rows of the erased request (through its request index)", table)
          .isEqualTo(table.equals("api_action") ? 1 : 0);
    }
    assertThat(count("select count(*) from generation_request where request_id = 'acme-new'"))
        .isEqualTo(1);
    // The erasure is in the chain, as a record of the request: who, why, how many.
    assertThat(
            text(
                "select payload from audit_log where seq = 13 and event_type = 'RetentionApplied'"
                    + " and request_id = 'acme-old' and tenant_id = 'acme'"))
        .contains("\"scope\":\"REQUEST\"")
        .contains("\"reason\":\"data subject request DSR-2026-118\"")
        .contains("\"by\":\"ada")
        .contains("\"tombstoned\":4");

    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
    assertThat(whole.tombstones()).isEqualTo(4);
    ChainVerifier.Verification since =
        ChainVerifier.verifyFrom(
            database.dataSource(),
            new ChainVerifier.Anchor(before.headSeq(), before.headHash()),
            List.of());
    assertThat(since.valid())
        .as("the erased records before the head, checked through the tombstone index")
        .isTrue();

    Retention.Erased again = retention.erase("acme-old", "DSR-2026-118", ADMIN);
    assertThat(again.tombstoned()).isZero();
    assertThat(again.retentionSeq()).isNull();
    // Each call is recorded, as every state-changing call is.
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.erase'"
                    + " and request_id = 'acme-old' and caller_name = 'ada'"))
        .isEqualTo(2);
    // The tenant's period, applied later, leaves the erasure record and its tombstones alone.
    retention.set("acme", 30, ADMIN);
    retention.apply(ADMIN);
    assertThat(count("select count(*) from audit_log where seq = 13 and payload is not null"))
        .isEqualTo(1);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * Tenant acme's and tenant beta's erasures of a request id both use (each tenant's data
   * subject's, {@link Retention#eraseSubject}, erases its request with the tenant named): the
   * follow-ups erase acme's and beta's late records, not those of a third tenant using the id too
   * (reported by the fifty-first session's review: the two scopes widened the request's one note to
   * every tenant).
   */
  @Test
  void shouldNotWidenTwoTenantsErasuresOfOneRequestIdToAThirdTenant() throws Exception {
    Scenario acme = Scenario.of("two-scopes", "acme", Decision.BLOCK, NOW.minusSeconds(120));
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    writer.write(AuditEvents.story(acme));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                AuditEvents.otherTenantsOutcome(
                    acme,
                    GateOutcome.QUARANTINED,
                    GateBasis.VERDICT,
                    null,
                    NOW.minusSeconds(60)))));
    new Retention(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0)
        .erase("two-scopes", "DSR-acme-2", ADMIN, false, "acme");
    new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(1), ZoneOffset.UTC), 0)
        .erase("two-scopes", "DSR-beta-2", ADMIN, false, "beta");

    // Gamma's release and acme's late quarantine arrive after both erasures.
    AuditWriter later =
        new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(10), ZoneOffset.UTC));
    later.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(),
                io.genguard.events.v1.ReleaseGateOutcome.newBuilder(
                        AuditEvents.otherTenantsOutcome(
                            acme,
                            GateOutcome.RELEASED,
                            GateBasis.VERDICT,
                            null,
                            NOW.plusSeconds(5)))
                    .setEventId("gate-gamma-two-scopes")
                    .setTenantId("gamma")
                    .setVerdictId("verdict-gamma-two-scopes")
                    .build()),
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                io.genguard.events.v1.ReleaseGateOutcome.newBuilder(
                        AuditEvents.gateOutcome(
                            acme,
                            GateOutcome.QUARANTINED,
                            GateBasis.ERASURE,
                            null,
                            NOW.plusSeconds(5)))
                    .setEventId("gate-acme-late-two-scopes")
                    .build())));
    List<Retention.Erased> followed =
        new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC), 0)
            .eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(followed)
        .singleElement()
        .satisfies(
            one -> {
              assertThat(one.tenantId()).isEqualTo("acme");
              assertThat(one.tombstoned()).isEqualTo(1);
            });
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'two-scopes' and tenant_id = 'gamma' and tombstone_seq is not null"))
        .as("gamma's records")
        .isZero();
    assertThat(
            count(
                "select count(*) from content_retraction where request_id = 'two-scopes'"
                    + " and tenant_id = 'gamma'"))
        .as("gamma's release stays up")
        .isZero();
    assertThat(count("select count(*) from request_erasure where request_id = 'two-scopes'"))
        .as("one note per tenant scope")
        .isEqualTo(2);
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  @Test
  void shouldTellTheGateAndEraseRecordsThatArriveAfterTheErasure() throws Exception {
    Scenario late = Scenario.of("acme-late", "acme", Decision.RELEASE, NOW.minusSeconds(5));
    AuditWriter before = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    before.write(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(late))));

    Retention.Erased erased = retention(0).erase("acme-late", "DSR-2026-200", ADMIN);

    // The gate is told in the erasure's transaction, through the outbox, without the reason.
    ErasureNotice notice;
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload, topic, published_at from review_outbox"
                    + " where request_id = 'acme-late'")) {
      assertThat(rs.next()).isTrue();
      notice = Topics.AUDIT_ERASURES.codec().decode(rs.getBytes(1));
      assertThat(rs.getString(2)).isEqualTo(Topics.AUDIT_ERASURES.name());
      assertThat(rs.getObject(3)).as("not yet published").isNull();
      assertThat(rs.next()).isFalse();
    }
    assertThat(notice.getRequestId()).isEqualTo("acme-late");
    // An admin's erasure is of every tenant's records under the id, those not read yet too.
    assertThat(notice.getTenantId()).isEqualTo(Retention.NO_TENANT);
    assertThat(notice.getErasureSeq()).isEqualTo(erased.retentionSeq());
    assertThat(notice.getCause()).isEqualTo(ErasureCause.ERASURE);
    assertThat(notice.toString()).doesNotContain("DSR-2026-200");

    // The output was on its way: it, its verdict and the gate's outcome arrive after the erasure,
    // and so does the notice, read back from audit.erasures.
    AuditWriter after =
        new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC));
    after.write(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(late)),
            AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(late)),
            AuditEvents.incoming(
                Topics.CONTENT_QUARANTINED.name(),
                AuditEvents.gateOutcome(
                    late, GateOutcome.QUARANTINED, GateBasis.ERASURE, null, NOW.plusSeconds(19))),
            AuditEvents.incoming(Topics.AUDIT_ERASURES.name(), notice)));
    assertThat(count("select count(*) from generation_output where request_id = 'acme-late'"))
        .isEqualTo(1);
    Retention followUp =
        new Retention(
            database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0, 3);

    List<Retention.Erased> followed = followUp.eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(followed).singleElement().satisfies(e -> assertThat(e.tombstoned()).isEqualTo(3));
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-late' and payload is not"
                    + " null and event_type in ('GenerationOutput', 'ModerationVerdict',"
                    + " 'ReleaseGateOutcome', 'GenerationRequest')"))
        .isZero();
    assertThat(count("select count(*) from generation_output where request_id = 'acme-late'"))
        .isZero();
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-late'"
                    + " and event_type = 'ErasureNotice' and payload is not null"))
        .as("the notice stays: it shows the gate was told")
        .isEqualTo(1);
    assertThat(
            text(
                "select payload from audit_log where seq = "
                    + followed.get(0).retentionSeq()
                    + " and event_type = 'RetentionApplied'"))
        .contains("follow-up of the erasure at " + NOW)
        .contains("\"by\":\"erasure-follow-up");
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
    assertThat(followUp.eraseLateRecords(Caller.system("erasure-follow-up")))
        .as("nothing more to erase")
        .isEmpty();
    // Another process's follow-up that selected the request too, and got the chain lock later,
    // finds nothing and records nothing.
    long actions =
        count(
            "select count(*) from api_action where action = 'requests.erase' and request_id = 'acme-late'");
    long outbox = count("select count(*) from review_outbox where request_id = 'acme-late'");
    assertThat(
            followUp
                .erase("acme-late", "a follow-up", Caller.system("erasure-follow-up"), true)
                .tombstoned())
        .isZero();
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.erase'"
                    + " and request_id = 'acme-late'"))
        .isEqualTo(actions);
    assertThat(count("select count(*) from review_outbox where request_id = 'acme-late'"))
        .isEqualTo(outbox);

    // Past the follow-up window, a record that still arrives is left to the tenant's period.
    new AuditWriter(
            database.dataSource(),
            Clock.fixed(NOW.plus(Retention.FOLLOW).plusSeconds(120), ZoneOffset.UTC))
        .write(
            List.of(
                AuditEvents.incoming(
                    Topics.CONTENT_RELEASED.name(),
                    AuditEvents.gateOutcome(
                        late,
                        GateOutcome.QUARANTINED,
                        GateBasis.REVIEW,
                        "review-late",
                        NOW.plusSeconds(30)))));
    Retention muchLater =
        new Retention(
            database.dataSource(),
            Clock.fixed(NOW.plus(Retention.FOLLOW).plusSeconds(180), ZoneOffset.UTC),
            0,
            3);
    assertThat(muchLater.eraseLateRecords(Caller.system("erasure-follow-up"))).isEmpty();
  }

  @Test
  void shouldTellTheGateToQuarantineAnOutputStillHeldForReviewWhenRetentionRemovesIt()
      throws Exception {
    // acme-old is held for review, unreviewed; acme-decided was reviewed, and the decision is on
    // its
    // way to the gate; globex-old was blocked, nothing held.
    Scenario decided = Scenario.of("acme-decided", "acme", Decision.REVIEW, LONG_AGO);
    AuditWriter old = new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC));
    old.write(AuditEvents.story(decided));
    old.write(
        List.of(
            AuditEvents.incoming(
                Topics.REVIEW_DECISIONS.name(),
                ReviewDecision.newBuilder()
                    .setEventId("review-decided-event")
                    .setReviewId("review-decided")
                    .setRequestId("acme-decided")
                    .setOutputId(decided.outputId())
                    .setTenantId("acme")
                    .setAction(ReviewAction.APPROVE)
                    .setReviewer("rita")
                    .setNote("fine")
                    .setDecidedAt(LONG_AGO.plusSeconds(60))
                    .build())));
    assertThat(text("select state from review_item where request_id = 'acme-old'"))
        .isEqualTo("PENDING");
    assertThat(text("select state from review_item where request_id = 'acme-decided'"))
        .isEqualTo("DECIDED");
    Retention retention = retention(30);
    retention.set("acme", 30, ADMIN);

    List<Retention.Applied> applied = retention.apply(ADMIN);

    assertThat(count("select count(*) from review_item")).as("the items went").isZero();
    // The gate, which holds acme-old's text and verdict until a decision that can no longer come,
    // is told through the outbox, in the transaction of the batch that removed its held outcome.
    long heldOutcomeRemovedBy =
        count(
            "select tombstone_seq from audit_log where request_id = 'acme-old'"
                + " and event_type = 'ReleaseGateOutcome'");
    ErasureNotice notice;
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "select payload, topic, published_at, request_id from review_outbox"
                    + " where topic = '"
                    + Topics.AUDIT_ERASURES.name()
                    + "'")) {
      assertThat(rs.next()).as("a notice to the gate").isTrue();
      notice = Topics.AUDIT_ERASURES.codec().decode(rs.getBytes(1));
      assertThat(rs.getObject(3)).as("not yet published").isNull();
      assertThat(rs.getString(4)).isEqualTo("acme-old");
      assertThat(rs.next())
          .as("one: a decided item is left to its decision, a blocked one held nothing")
          .isFalse();
    }
    assertThat(notice.getRequestId()).isEqualTo("acme-old");
    assertThat(notice.getTenantId()).isEqualTo("acme");
    assertThat(notice.getErasureSeq()).isEqualTo(heldOutcomeRemovedBy);
    assertThat(notice.getCause())
        .as("the gate can say retention removed it")
        .isEqualTo(ErasureCause.RETENTION);
    assertThat(applied).extracting(Retention.Applied::retentionSeq).contains(heldOutcomeRemovedBy);
    assertThat(text("select payload from audit_log where seq = " + heldOutcomeRemovedBy))
        .contains("\"pendingReviewsQuarantined\":1");
    assertThat(count("select count(*) from request_erasure"))
        .as("retention is no erasure: nothing for the erasure follow-up")
        .isZero();
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  @Test
  void shouldEraseTheDeadLettersOfAnErasedRequest() throws Exception {
    String secret = "SECRET-TEXT-42";
    Scenario leaked = Scenario.of("acme-dl", "acme", Decision.RELEASE, RECENTLY).withText(secret);
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    writer.write(AuditEvents.story(leaked));
    byte[] output = Topics.GENERATION_OUTPUTS.codec().encode(AuditEvents.output(leaked));
    // The moderation job dead-lettered the output (keyed by the request id, as every topic is);
    // another request's dead letter, one without a key and one whose key is no text stay.
    writer.write(
        List.of(
            deadLetter(Topics.GENERATION_OUTPUTS, 77, "acme-dl", output),
            deadLetter(Topics.GENERATION_OUTPUTS, 78, "acme-new", output),
            deadLetter(Topics.GENERATION_OUTPUTS, 79, null, output),
            deadLetter(Topics.GENERATION_OUTPUTS, 80, "acme-dl\u0000", output)));
    assertThat(deadLettersHolding(secret)).as("before: 4 rows, 4 records").isEqualTo(8);
    long deadLetterSeq =
        count(
            "select a.seq from audit_log a join dead_letter d on d.event_id = a.event_id"
                + " where d.source_key = 'acme-dl'");

    Retention.Erased erased = retention(0).erase("acme-dl", "DSR-2026-300", ADMIN);

    assertThat(erased.tombstoned()).as("the request's 4 records and its dead letter").isEqualTo(5);
    assertThat(count("select count(*) from dead_letter where source_key = 'acme-dl'")).isZero();
    assertThat(deadLettersHolding(secret)).as("the others' rows and records").isEqualTo(6);
    assertThat(
            count(
                "select count(*) from audit_log where seq = "
                    + deadLetterSeq
                    + " and payload is null and tombstone_seq = "
                    + erased.retentionSeq()))
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from audit_log where payload like '%"
                    + secret
                    + "%' and event_type <> 'DeadLetter'"))
        .as("no other record of the request")
        .isZero();
    assertThat(text("select payload from audit_log where seq = " + erased.retentionSeq()))
        .contains("\"deadLetterSeqs\":[" + deadLetterSeq + "]")
        .contains("\"tombstoned\":5");
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
    assertThat(whole.tombstones()).isEqualTo(5);

    // The gate dead-letters a record of the request after the erasure: the follow-up erases it.
    new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC))
        .write(List.of(deadLetter(Topics.GENERATION_OUTPUTS, 81, "acme-dl", output)));
    List<Retention.Erased> followed =
        new Retention(database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0, 3)
            .eraseLateRecords(Caller.system("erasure-follow-up"));
    assertThat(followed).singleElement().satisfies(e -> assertThat(e.tombstoned()).isEqualTo(1));
    assertThat(count("select count(*) from dead_letter where source_key = 'acme-dl'")).isZero();
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();

    // Another request's dead letter hidden behind the erasure record: not one it names.
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = "
              + erased.retentionSeq()
              + " where event_id = (select event_id from dead_letter where source_key = 'acme-new')");
    }
    ChainVerifier.Verification forged = ChainVerifier.verify(database.dataSource());
    assertThat(forged.valid()).isFalse();
    assertThat(forged.firstBreak().problem()).isEqualTo(Problem.UNJUSTIFIED_TOMBSTONE);
  }

  @Test
  void shouldRemoveTheDeadLettersOfATenantsRequestsAtItsOwnPeriod() throws Exception {
    AuditWriter old = new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC));
    byte[] request =
        Topics.GENERATION_REQUESTS
            .codec()
            .encode(
                AuditEvents.request(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO)));
    old.write(
        List.of(
            deadLetter(Topics.GENERATION_REQUESTS, 91, "acme-old", request),
            deadLetter(Topics.GENERATION_REQUESTS, 92, "globex-old", request)));
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);

    List<Retention.Applied> applied = retention.apply(ADMIN);

    assertThat(applied).extracting(Retention.Applied::tombstoned).containsExactly(3L, 2L);
    assertThat(count("select count(*) from dead_letter where source_key = 'acme-old'"))
        .as("acme's period reaches the dead letters of its requests")
        .isZero();
    assertThat(count("select count(*) from dead_letter where source_key = 'globex-old'"))
        .as("globex keeps its records for ever")
        .isEqualTo(1);
    assertThat(
            count(
                "select count(*) from audit_log where event_type = 'DeadLetter'"
                    + " and payload is null"))
        .isEqualTo(1);
    assertThat(text("select payload from audit_log where seq = " + applied.get(1).retentionSeq()))
        .contains("\"deadLetterSeqs\":[");
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
    assertThat(verification.tombstones()).isEqualTo(5);
    assertThat(retention.apply(ADMIN)).as("a second run finds nothing more").isEmpty();
  }

  @Test
  void shouldDetectATombstoneForgedUnderAnErasureOfAnotherRequest() throws Exception {
    long erasureSeq = retention(0).erase("acme-old", "DSR-2026-118", ADMIN).retentionSeq();
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "update audit_log set payload = null, tombstoned_at = now(), tombstone_seq = "
              + erasureSeq
              + " where request_id = 'acme-new' and event_type = 'GenerationOutput'");
    }

    ChainVerifier.Verification forged = ChainVerifier.verify(database.dataSource());

    assertThat(forged.valid()).isFalse();
    assertThat(forged.firstBreak().problem()).isEqualTo(Problem.UNJUSTIFIED_TOMBSTONE);
    assertThat(forged.firstBreak().detail())
        .contains("a record of request acme-new, but erasure record " + erasureSeq)
        .contains("erased request acme-old");
  }

  @Test
  void shouldEraseEveryRequestOfADataSubjectFoundByItsAttribute() throws Exception {
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    for (String[] one :
        new String[][] {
          {"u1-a", "acme", "u-1"},
          {"u1-b", "acme", "u-1"},
          {"u2-a", "acme", "u-2"},
          {"u1-globex", "globex", "u-1"}
        }) {
      List<IncomingEvent> story =
          new ArrayList<>(
              AuditEvents.story(Scenario.of(one[0], one[1], Decision.RELEASE, RECENTLY)));
      GenerationRequest request = (GenerationRequest) story.get(0).event();
      story.set(
          0,
          AuditEvents.incoming(
              Topics.GENERATION_REQUESTS.name(),
              GenerationRequest.newBuilder(request)
                  .setAttributes(Map.of("userId", one[2], "source", "app"))
                  .build()));
      writer.write(story);
    }
    Retention retention = retention(0);

    Retention.SubjectErased erased =
        retention.eraseSubject("acme", "userId", "u-1", "DSR-2026-200", ADMIN);

    assertThat(erased.erased())
        .extracting(Retention.Erased::requestId)
        .containsExactlyInAnyOrder("u1-a", "u1-b");
    assertThat(erased.tombstoned()).isEqualTo(8);
    assertThat(erased.more()).isFalse();
    AuditQueries queries = new AuditQueries(database.dataSource());
    assertThat(queries.story("u1-a").orElseThrow().path("status").asText())
        .isEqualTo("CONTENT_REMOVED");
    assertThat(queries.story("u2-a")).as("another user").isPresent();
    assertThat(queries.story("u1-globex")).as("the same id in another tenant").isPresent();
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
    assertThat(retention.eraseSubject("acme", "userId", "u-1", "DSR-2026-200", ADMIN).erased())
        .as("once erased, the requests are no longer found by their attributes")
        .isEmpty();

    Caller acmeAdmin = new Caller("t1", "acme admin", Role.ADMIN, "acme");
    assertThatThrownBy(() -> retention.eraseSubject("globex", "userId", "u-1", "DSR-1", acmeAdmin))
        .isInstanceOf(ForbiddenException.class);
    assertThatThrownBy(() -> retention.eraseSubject("acme", " ", "u-1", "DSR-1", ADMIN))
        .hasMessageContaining("attribute key is required");
    assertThatThrownBy(() -> retention.eraseSubject("acme", "userId", "u\n1", "DSR-1", ADMIN))
        .hasMessageContaining("attribute value contains a control character");
    assertThatThrownBy(() -> retention.eraseSubject("acme", "userId", "u-2", "", ADMIN))
        .hasMessageContaining("reason is required");
    assertThat(queries.story("u2-a")).as("nothing erased by a refused call").isPresent();
  }

  @Test
  void shouldEraseASubjectsRequestsFoundByTheirOutputAndThoseThatReachTheAuditStoreAfterTheCall()
      throws Exception {
    Map<String, String> subject = Map.of("userId", "u-1");
    // The request record of u1-dl was dead-lettered: its output and verdict name the subject.
    List<IncomingEvent> deadLettered =
        withAttributes(
            AuditEvents.story(Scenario.of("u1-dl", "acme", Decision.RELEASE, NOW.minusSeconds(60))),
            subject);
    new AuditWriter(database.dataSource(), Clock.fixed(NOW.minusSeconds(50), ZoneOffset.UTC))
        .write(deadLettered.subList(1, deadLettered.size()));
    Retention retention = retention(0);

    Retention.SubjectErased erased =
        retention.eraseSubject("acme", "userId", "u-1", "DSR-2026-400", ADMIN);

    assertThat(erased.erased()).extracting(Retention.Erased::requestId).containsExactly("u1-dl");
    assertThat(erased.followUpUntil()).isEqualTo(NOW.plus(Retention.FOLLOW));
    assertThat(count("select count(*) from generation_output where request_id = 'u1-dl'")).isZero();
    assertThat(text("select value_sha256 from subject_erasure"))
        .as("the subject's id is kept as its hash only")
        .hasSize(64)
        .doesNotContain("u-1");

    // u1-late was submitted before the call but reaches the audit store after it (consumer lag,
    // an audit service that was down); u1-after was submitted after the call.
    Scenario late = Scenario.of("u1-late", "acme", Decision.RELEASE, NOW.minusSeconds(5));
    Scenario after = Scenario.of("u1-after", "acme", Decision.RELEASE, NOW.plusSeconds(10));
    Scenario other = Scenario.of("u2-late", "acme", Decision.RELEASE, NOW.minusSeconds(5));
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC));
    writer.write(withAttributes(AuditEvents.story(late), subject));
    writer.write(withAttributes(AuditEvents.story(after), subject));
    writer.write(withAttributes(AuditEvents.story(other), Map.of("userId", "u-2")));
    Retention followUp =
        new Retention(
            database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0, 3);

    List<Retention.Erased> followed = followUp.eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(followed).extracting(Retention.Erased::requestId).containsExactly("u1-late");
    assertThat(followed.get(0).retractedEventId())
        .as("the gate, never told, released it: taken down")
        .isEqualTo(AuditEvents.gateOutcome(late).getEventId());
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'u1-late' and payload is not null"
                    + " and event_type in ('GenerationRequest', 'GenerationOutput',"
                    + " 'ModerationVerdict', 'ReleaseGateOutcome')"))
        .isZero();
    assertThat(
            text(
                "select payload from audit_log where seq = "
                    + followed.get(0).retentionSeq()
                    + " and event_type = 'RetentionApplied'"))
        .contains("follow-up of the erasure by attribute at " + NOW)
        .contains("DSR-2026-400");
    AuditQueries queries = new AuditQueries(database.dataSource());
    assertThat(queries.story("u1-after").orElseThrow().path("status").asText())
        .as("submitted after the call")
        .isNotEqualTo("CONTENT_REMOVED");
    assertThat(queries.story("u2-late").orElseThrow().path("status").asText())
        .as("another subject")
        .isNotEqualTo("CONTENT_REMOVED");
    assertThat(followUp.eraseLateRecords(Caller.system("erasure-follow-up"))).isEmpty();
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();

    // Past the window the criterion goes.
    new Retention(
            database.dataSource(),
            Clock.fixed(NOW.plus(Retention.FOLLOW).plusSeconds(1), ZoneOffset.UTC),
            0,
            3)
        .eraseLateRecords(Caller.system("erasure-follow-up"));
    assertThat(count("select count(*) from subject_erasure")).isZero();
  }

  @Test
  void shouldGoOnWithTheOtherFollowUpsWhenOneFailsAndTryItAgainAtTheNextPass() throws Exception {
    Map<String, String> subject = Map.of("userId", "u-1");
    // Two erased requests whose output arrives after the erasure, and two requests of an erased
    // subject that reach the audit store after the call: in each pair the first one's follow-up
    // fails (PostgreSQL refuses to tombstone its records), and the second must still be erased.
    AuditWriter before = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    List<Scenario> erasedLate = new ArrayList<>();
    for (String id : List.of("late-a", "late-b")) {
      Scenario late = Scenario.of(id, "acme", Decision.RELEASE, NOW.minusSeconds(5));
      erasedLate.add(late);
      before.write(
          List.of(
              AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(late))));
      retention(0).erase(id, "DSR-2026-500", ADMIN);
    }
    retention(0).eraseSubject("acme", "userId", "u-1", "DSR-2026-501", ADMIN);
    AuditWriter after =
        new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC));
    for (Scenario late : erasedLate) {
      after.write(
          List.of(
              AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(late)),
              AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), AuditEvents.verdict(late))));
    }
    for (String id : List.of("u1-late-a", "u1-late-b")) {
      after.write(
          withAttributes(
              AuditEvents.story(Scenario.of(id, "acme", Decision.RELEASE, NOW.minusSeconds(5))),
              subject));
    }
    execute(
        "create function fail_follow_up() returns trigger language plpgsql as $$ begin"
            + " if old.request_id in ('late-a', 'u1-late-a') and new.payload is null then"
            + " raise exception 'made to fail for %', old.request_id; end if; return new; end $$");
    execute(
        "create trigger fail_follow_up before update on audit_log for each row"
            + " execute function fail_follow_up()");
    Retention followUp =
        new Retention(
            database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0, 3);

    List<Retention.Erased> followed = followUp.eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(followed)
        .extracting(Retention.Erased::requestId)
        .containsExactly("late-b", "u1-late-b");
    assertThat(followUp.followUpsFailed()).as("one of each kind failed").isEqualTo(2);
    assertThat(lateContent("late-a")).as("its content stays until it succeeds").isEqualTo(2);
    assertThat(lateContent("u1-late-a")).isEqualTo(4);
    assertThat(lateContent("late-b")).isZero();
    assertThat(lateContent("u1-late-b")).isZero();

    // The next pass, with the cause gone, erases the two that failed, and only those.
    execute("drop trigger fail_follow_up on audit_log");
    List<Retention.Erased> retried = followUp.eraseLateRecords(Caller.system("erasure-follow-up"));

    assertThat(retried)
        .extracting(Retention.Erased::requestId)
        .containsExactly("late-a", "u1-late-a");
    assertThat(followUp.followUpsFailed()).isEqualTo(2);
    for (String id : List.of("late-a", "late-b", "u1-late-a", "u1-late-b")) {
      assertThat(lateContent(id)).as(id).isZero();
    }
    assertThat(followUp.eraseLateRecords(Caller.system("erasure-follow-up"))).isEmpty();
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  /** How many pipeline records of the request still hold their content. */
  private long lateContent(String requestId) throws Exception {
    return count(
        "select count(*) from audit_log where request_id = '"
            + requestId
            + "' and payload is not null and event_type in ('GenerationRequest',"
            + " 'GenerationOutput', 'ModerationVerdict', 'ReleaseGateOutcome')");
  }

  /**
   * Runs retention (no default period, batches of 3) with the database's lock timeout at 1 s, on
   * connections opened after it was set, while another transaction holds the locks {@code holding}
   * takes; returns what the run threw (null for none).
   */
  private Throwable retentionWhileHeld(String holding) throws Exception {
    String url;
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      url = connection.getMetaData().getURL();
      statement.execute("alter database " + connection.getCatalog() + " set lock_timeout = '1s'");
    }
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase timingOut =
            AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
        Connection holder = database.dataSource().getConnection()) {
      holder.setAutoCommit(false);
      try (Statement statement = holder.createStatement()) {
        statement.execute(holding);
      }
      try {
        return catchThrowable(
            () ->
                new Retention(timingOut.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC), 0, 3)
                    .apply(ADMIN));
      } finally {
        holder.rollback();
      }
    }
  }

  private void execute(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  /**
   * A request of chain version 1 (nothing of it with content to remove) is still found by its
   * tenant's subject erasure when only another tenant's erasure of the id was noted (one note per
   * tenant scope since V39): any note of the id left it out, so its erasure, the gate's notice and
   * the takedown for acme were never made (reported by the fifty-second session's review).
   */
  @Test
  void shouldFindARequestOfChainVersionOneWhoseIdOnlyAnotherTenantsErasureNoted() throws Exception {
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    writer.write(
        withAttributes(
            AuditEvents.story(Scenario.of("v1-noted", "acme", Decision.RELEASE, RECENTLY)),
            Map.of("userId", "u-7")));
    execute(
        "update audit_log set chain_version = 1, payload_sha256 = null"
            + " where request_id = 'v1-noted'");
    execute(
        "insert into request_erasure (request_id, tenant_id, erased_at)"
            + " values ('v1-noted', 'beta', now())");
    Retention retention = retention(0);

    assertThat(retention.eraseSubject("acme", "userId", "u-7", "DSR-2026-700", ADMIN).erased())
        .as("beta's note is not acme's erasure")
        .extracting(Retention.Erased::requestId)
        .containsExactly("v1-noted");
    assertThat(retention.eraseSubject("acme", "userId", "u-7", "DSR-2026-701", ADMIN).erased())
        .as("acme's own note now leaves it out")
        .isEmpty();
  }

  @Test
  void shouldNotFindAnErasedRequestOfChainVersionOneAgainByItsAttribute() throws Exception {
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    for (String id : List.of("v1-u1", "v2-u1")) {
      writer.write(
          withAttributes(
              AuditEvents.story(Scenario.of(id, "acme", Decision.RELEASE, RECENTLY)),
              Map.of("userId", "u-1")));
    }
    // As rows written before migration V2 are: their content cannot be removed, and their query
    // rows (with the attribute) stay.
    execute(
        "update audit_log set chain_version = 1, payload_sha256 = null"
            + " where request_id = 'v1-u1'");
    Retention retention = retention(0);

    Retention.SubjectErased first =
        retention.eraseSubject("acme", "userId", "u-1", "DSR-2026-600", ADMIN);

    assertThat(first.erased())
        .extracting(Retention.Erased::requestId)
        .containsExactlyInAnyOrder("v1-u1", "v2-u1");
    Retention.Erased versionOne =
        first.erased().stream().filter(e -> e.requestId().equals("v1-u1")).findFirst().get();
    assertThat(versionOne.tombstoned()).isZero();
    assertThat(versionOne.keptVersionOne()).isEqualTo(4);
    long head = count("select max(seq) from audit_log");
    long outbox = count("select count(*) from review_outbox");

    Retention.SubjectErased again =
        retention.eraseSubject("acme", "userId", "u-1", "DSR-2026-601", ADMIN);

    assertThat(again.erased()).as("nothing left to erase of either").isEmpty();
    assertThat(count("select max(seq) from audit_log")).as("no new records").isEqualTo(head);
    assertThat(count("select count(*) from review_outbox")).as("no new notice").isEqualTo(outbox);
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.erase'"
                    + " and request_id = 'v1-u1'"))
        .isEqualTo(1);

    // A record of it with content that comes later (a second output, recovered from the dead
    // letters) makes it found again, and erased.
    GenerationOutput second =
        GenerationOutput.newBuilder(
                AuditEvents.output(Scenario.of("v1-u1", "acme", Decision.RELEASE, RECENTLY)))
            .setEventId("v1-u1-second-output")
            .setOutputId("v1-u1-second")
            .build();
    new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC))
        .write(
            withAttributes(
                List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), second)),
                Map.of("userId", "u-1")));
    assertThat(retention.eraseSubject("acme", "userId", "u-1", "DSR-2026-602", ADMIN).erased())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.requestId()).isEqualTo("v1-u1");
              assertThat(e.tombstoned()).isEqualTo(1);
            });
  }

  @Test
  void shouldEraseByEveryAttributeValueTheSubmitApiAccepts() throws Exception {
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    writer.write(
        withAttributes(
            AuditEvents.story(Scenario.of("c1", "acme", Decision.RELEASE, RECENTLY)),
            Map.of("userId", "u\u0085x")));
    writer.write(
        withAttributes(
            AuditEvents.story(Scenario.of("blank", "acme", Decision.RELEASE, RECENTLY)),
            Map.of("userId", " ")));
    Retention retention = retention(0);

    assertThat(retention.eraseSubject("acme", "userId", "u\u0085x", "DSR-1", ADMIN).erased())
        .extracting(Retention.Erased::requestId)
        .containsExactly("c1");
    assertThat(retention.eraseSubject("acme", "userId", " ", "DSR-2", ADMIN).erased())
        .extracting(Retention.Erased::requestId)
        .containsExactly("blank");
    assertThatThrownBy(() -> retention.eraseSubject("acme", "userId", "u\u0007", "DSR-3", ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("control character (code 7)");
  }

  @Test
  void shouldRecordNoWordsOfAnExplanationComputedWhileTheRequestWasErased() throws Exception {
    Retention retention = retention(0);
    VerdictExplanations erasedMeanwhile =
        (verdict, output) -> {
          try {
            retention.erase(verdict.getRequestId(), "DSR-2026-500", ADMIN);
          } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
          }
          return new VerdictExplanations.Explanation(
              VerdictExplanations.Status.EXPLAINED,
              "reproduced",
              List.of(
                  new VerdictExplanations.ReasonWords(
                      "HATE",
                      "hate",
                      0.71,
                      List.of(new VerdictExplanations.Word("leakedword", 0.1)))));
        };
    RecordedExplanations explanations =
        new RecordedExplanations(
            database.dataSource(),
            new AuditQueries(database.dataSource()),
            erasedMeanwhile,
            Clock.fixed(NOW, ZoneOffset.UTC));

    Map<String, Object> shown = explanations.explain("acme-old", null, ADMIN);

    assertThat(shown.get("status")).isEqualTo("NOT_EXPLAINED");
    assertThat(shown.toString()).doesNotContain("leakedword");
    assertThat(count("select count(*) from audit_log where payload like '%leakedword%'")).isZero();
    assertThat(count("select count(*) from api_action where details::text like '%leakedword%'"))
        .isZero();
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.explain'"
                    + " and request_id = 'acme-old'"))
        .as("recorded, without the words")
        .isEqualTo(1);
  }

  @Test
  void shouldLeaveOtherTenantsIdsOutOfARemovedStoryForATenantsToken() throws Exception {
    Retention retention = retention(30);
    retention.set("globex", 3650, ADMIN);
    retention.apply(ADMIN);
    AuditQueries queries = new AuditQueries(database.dataSource());
    assertThat(queries.story("acme-old").orElseThrow().path("removals").toString())
        .as("a global token sees the default's scope")
        .contains("excludedTenants")
        .contains("globex");

    ObjectNode story = queries.story("acme-old", "acme").orElseThrow();

    assertThat(story.path("removals")).isNotEmpty();
    assertThat(story.path("removals").toString())
        .doesNotContain("excludedTenants")
        .doesNotContain("globex");
  }

  /**
   * Other content read under a recorded event's id (event_id_conflict, migration V32) holds text of
   * the request: an erasure removes it with the record's, and one read after the erasure is kept
   * without it; the digests stay.
   */
  @Test
  void shouldEraseTheOtherContentReadUnderAnErasedRecordsId() throws Exception {
    GenerationOutput genuine =
        AuditEvents.output(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO));
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(genuine).setText("OTHER-TEXT-1").build())));
    String conflicts =
        "select count(*) from event_id_conflict where event_id = '" + genuine.getEventId() + "'";
    assertThat(count(conflicts + " and payload like '%OTHER-TEXT-1%'")).isEqualTo(1);

    retention(0).erase("acme-old", "DSR-2026-800", ADMIN);

    assertThat(count(conflicts + " and payload is null")).isEqualTo(1);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(genuine).setText("OTHER-TEXT-2").build())));
    assertThat(count(conflicts + " and payload is null")).isEqualTo(2);
    assertThat(writer.eventIdConflicts()).isEqualTo(2);
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
    // The erased request's story still shows that its record was contested, without the text.
    ObjectNode story = new AuditQueries(database.dataSource()).story("acme-old").orElseThrow();
    assertThat(story.path("status").asText()).isEqualTo("CONTENT_REMOVED");
    assertThat(story.path("eventIdConflicts")).hasSize(2);
    assertThat(story.path("eventIdConflicts").get(0).path("eventId").asText())
        .isEqualTo(genuine.getEventId());
    assertThat(story.path("eventIdConflicts").get(0).path("payload").isNull()).isTrue();
    assertThat(story.toString()).doesNotContain("OTHER-TEXT");
  }

  /**
   * The forty-sixth session's review (finding 4): retention deleted event_id_conflict rows by the
   * row's own tenant and age, which the other content names (a forgery picks it), so acme's period
   * deleted the trace that globex's kept record was contested. The row stays; acme's text in it
   * goes with acme's period.
   */
  @Test
  void shouldKeepTheConflictOfARecordRetentionKeeps() throws Exception {
    GenerationOutput globex =
        AuditEvents.output(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO));
    // Other content under globex's record's id, naming acme (a forgery picks the tenant).
    new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO.plusSeconds(60), ZoneOffset.UTC))
        .write(
            List.of(
                AuditEvents.incoming(
                    Topics.GENERATION_OUTPUTS.name(),
                    GenerationOutput.newBuilder(globex)
                        .setTenantId("acme")
                        .setRequestId("acme-old")
                        .setText("FORGED")
                        .build())));
    String contested =
        "select count(*) from event_id_conflict where event_id = '" + globex.getEventId() + "'";
    assertThat(count(contested)).isEqualTo(1);
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);

    retention.apply(ADMIN);

    assertThat(
            count(
                "select count(*) from audit_log where payload is not null and event_id = '"
                    + globex.getEventId()
                    + "'"))
        .as("globex's record kept, with its content")
        .isEqualTo(1);
    assertThat(count(contested)).as("the trace that it was contested").isEqualTo(1);
    assertThat(count(contested + " and payload is null"))
        .as("acme's text past acme's period")
        .isEqualTo(1);
    // Once retention comes to globex's record, its conflict goes with it.
    retention.set("globex", 30, ADMIN);
    retention.apply(ADMIN);
    assertThat(count(contested)).isZero();
  }

  /**
   * The forty-seventh session's review (finding 1): a retention batch deleted every
   * event_id_conflict row under the records it tombstoned, whatever tenant the row names. A forgery
   * read first picks the record's tenant (here one with a short period), so that tenant's period
   * deleted acme's genuine output, kept as the conflict, and the only trace that it was contested,
   * though acme's content is kept for good. The row stays, with its content, in acme's story.
   */
  @Test
  void shouldKeepAnotherTenantsConflictUnderARecordRetentionRemoves() throws Exception {
    GenerationOutput genuine =
        GenerationOutput.newBuilder(
                AuditEvents.output(Scenario.of("acme-new", "acme", Decision.RELEASE, RECENTLY)))
            .setEventId("contested-event")
            .setOutputId("contested-output")
            .setText("ACME-GENUINE-TEXT")
            .build();
    // Read first under acme's id, long ago: a forgery naming globex (it picks the tenant).
    new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC))
        .write(
            List.of(
                AuditEvents.incoming(
                    Topics.GENERATION_OUTPUTS.name(),
                    GenerationOutput.newBuilder(genuine)
                        .setTenantId("globex")
                        .setRequestId("globex-old")
                        .setText("FORGED")
                        .build())));
    new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
        .write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine)));
    String acmeConflicts = "select count(*) from event_id_conflict where tenant_id = 'acme'";
    assertThat(count(acmeConflicts + " and payload like '%ACME-GENUINE-TEXT%'")).isEqualTo(1);
    Retention retention = retention(0);
    retention.set("globex", 30, ADMIN);

    retention.apply(ADMIN);

    assertThat(
            count(
                "select count(*) from audit_log where payload is null and event_id = '"
                    + genuine.getEventId()
                    + "'"))
        .as("the forged record lost its content with globex's period")
        .isEqualTo(1);
    assertThat(count(acmeConflicts + " and payload like '%ACME-GENUINE-TEXT%'"))
        .as("acme's output, kept for good, and the trace that it was contested")
        .isEqualTo(1);
    ArrayNode listed =
        (ArrayNode)
            new AuditQueries(database.dataSource())
                .story("acme-new")
                .orElseThrow()
                .path("eventIdConflicts");
    assertThat(listed).hasSize(1);
    assertThat(listed.get(0).path("eventId").asText()).isEqualTo(genuine.getEventId());
    // Once acme's own period passes, acme's sweep deletes it: its record's content is gone.
    retention.set("acme", 1, ADMIN);
    retention.apply(ADMIN);
    assertThat(count(acmeConflicts)).isZero();
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The forty-seventh session's reviews: a retention run that failed in one scope threw before any
   * scope's end-of-run conflict sweep (and before the scopes after it). Here the first scope's
   * records are locked by another transaction past the database's lock timeout: the run goes on
   * with the other scopes, sweeps every scope, then fails naming the scope.
   */
  @Test
  void shouldApplyAndSweepTheOtherScopesWhenOneScopeFails() throws Exception {
    GenerationOutput genuine =
        GenerationOutput.newBuilder(
                AuditEvents.output(Scenario.of("acme-new", "acme", Decision.RELEASE, RECENTLY)))
            .setEventId("swept-event")
            .setOutputId("swept-output")
            .setText("ACME-SWEPT-TEXT")
            .build();
    // A forgery naming globex read first under acme's id; globex's period empties its record.
    AuditWriter old = new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC));
    old.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(genuine)
                    .setTenantId("globex")
                    .setRequestId("globex-old")
                    .setText("FORGED")
                    .build())));
    new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
        .write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine)));
    retention(0).set("globex", 30, ADMIN);
    retention(0).apply(ADMIN);
    String acmeConflicts = "select count(*) from event_id_conflict where tenant_id = 'acme'";
    assertThat(count(acmeConflicts)).as("acme's conflict, under globex's emptied record").isOne();
    // A tenant before acme whose old records another transaction holds.
    old.write(AuditEvents.story(Scenario.of("aardvark-old", "aardvark", Decision.BLOCK, LONG_AGO)));
    retention(0).set("aardvark", 1, ADMIN);
    retention(0).set("acme", 1, ADMIN);
    Throwable failure =
        retentionWhileHeld("select seq from audit_log where tenant_id = 'aardvark' for update");

    assertThat(count(acmeConflicts)).as("acme's conflict after acme's sweep").isZero();
    assertThat(
            count(
                "select count(*) from audit_log where request_id in ('acme-old', 'acme-new')"
                    + " and payload is not null and recorded_at < '2026-11-24T00:00:00Z'"))
        .as("acme's records, after the failed scope")
        .isZero();
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'aardvark-old'"
                    + " and payload is null"))
        .as("aardvark's records, held by the other transaction")
        .isZero();
    assertThat(failure)
        .isInstanceOf(Retention.PartlyFailedException.class)
        .hasMessageContaining("tenant aardvark")
        .hasMessageContaining("lock timeout");
    // The next run takes the failed scope.
    retention(0).apply(ADMIN);
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'aardvark-old'"
                    + " and payload is not null"))
        .isZero();
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The forty-seventh session's fixers: a verdict judged again (an output sent again, a job
   * restored from an older savepoint) differs from its record only in decidedAt and is a
   * redelivery, but once retention or an erasure had removed the record's content only its digest,
   * which binds decidedAt, was left to compare, so it was kept as a conflict and alerted. The
   * record keeps the digest of its verdict without decidedAt (migration V35); a verdict judged
   * otherwise is still a conflict, kept without a payload.
   */
  @Test
  void shouldTakeAVerdictJudgedAgainAfterItsContentWasRemovedAsARedelivery() throws Exception {
    ModerationVerdict retained =
        AuditEvents.verdict(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO));
    ModerationVerdict erased =
        AuditEvents.verdict(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO));
    removeTheirContent("DSR-2026-1000");
    String ids = "('" + retained.getEventId() + "', '" + erased.getEventId() + "')";
    assertThat(
            count(
                "select count(*) from audit_log where payload is null"
                    + " and judgement_sha256 is not null and event_id in "
                    + ids))
        .as("the content removed by retention and by the erasure, the judgement's digest kept")
        .isEqualTo(2);
    assertThat(count("select count(*) from moderation_verdict where request_id = 'globex-old'"))
        .as("nothing of the erased verdict but its digests")
        .isZero();
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));

    writeDecidedAgain(writer, List.of(retained, erased));

    String conflicts = "select count(*) from event_id_conflict where event_id in " + ids;
    assertThat(count(conflicts)).as("verdicts judged again").isZero();
    assertThat(writer.eventIdConflicts()).isZero();
    // Judged otherwise: another decision, or another judged text, decided later or not.
    for (ModerationVerdict verdict : List.of(retained, erased)) {
      for (ModerationVerdict other :
          List.of(
              ModerationVerdict.newBuilder(verdict)
                  .setDecision(Decision.RELEASE)
                  .setDecidedAt(NOW)
                  .build(),
              ModerationVerdict.newBuilder(verdict).setOutputSha256("00".repeat(32)).build())) {
        writer.write(List.of(AuditEvents.incoming(Topics.MODERATION_VERDICTS.name(), other)));
      }
    }
    assertThat(count(conflicts + " and payload is null")).isEqualTo(4);
    assertThat(count(conflicts)).isEqualTo(4);
    assertThat(writer.eventIdConflicts()).isEqualTo(4);
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The forty-eighth session's reports: a verdict recorded before migration V35 has no judgement
   * digest, so once retention or an erasure had removed its content only its payload's digest,
   * which binds decidedAt, was left, and the same output judged again alerted as a conflict.
   * Retention and the erasure now keep the digest of such a verdict's judgement, computed from its
   * payload before they remove it; a verdict judged otherwise is still a conflict.
   */
  @Test
  void shouldTakeAVerdictRecordedBeforeV35JudgedAgainAfterItsContentWasRemovedAsARedelivery()
      throws Exception {
    ModerationVerdict retained =
        AuditEvents.verdict(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO));
    ModerationVerdict erased =
        AuditEvents.verdict(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO));
    String ids = "('" + retained.getEventId() + "', '" + erased.getEventId() + "')";
    // As recorded before V35.
    execute("update audit_log set judgement_sha256 = null where event_id in " + ids);
    removeTheirContent("DSR-2026-1001");
    assertThat(
            count(
                "select count(*) from audit_log where payload is null"
                    + " and judgement_sha256 is not null and event_id in "
                    + ids))
        .as("the content removed by retention and by the erasure, the judgement's digest kept")
        .isEqualTo(2);
    assertThat(
            count(
                "select count(*) from audit_log where judgement_sha256 is not null"
                    + " and event_type <> 'ModerationVerdict'"))
        .as("other records have none")
        .isZero();
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));

    writeDecidedAgain(writer, List.of(retained, erased));

    String conflicts = "select count(*) from event_id_conflict where event_id in " + ids;
    assertThat(count(conflicts)).as("verdicts judged again").isZero();
    for (ModerationVerdict verdict : List.of(retained, erased)) {
      writer.write(List.of(releasedInstead(verdict)));
    }
    assertThat(count(conflicts)).as("verdicts judged otherwise").isEqualTo(2);
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The forty-ninth session's review: a verdict recorded since V35 by a writer whose schema lacked
   * a nullable field added later keeps the digest of its payload without that key, which the same
   * verdict read again now has as null. The writer compared it by its payload read back, but once
   * retention or an erasure had removed that, only the stale digest was left, and the same output
   * judged again was kept as a conflict. The removals now give each verdict the digest of its
   * payload read back into the current class before they remove it; a verdict judged otherwise (the
   * new field set, another decision) is still a conflict. The chain is not verified: the records
   * are rewritten as an older writer stored them, off the chain.
   */
  @Test
  void shouldTakeAVerdictOfAnOlderSchemaJudgedAgainAfterItsContentWasRemovedAsARedelivery()
      throws Exception {
    List<ModerationVerdict> verdicts = new ArrayList<>();
    for (Scenario scenario :
        List.of(
            Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO),
            Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO))) {
      ModerationVerdict verdict =
          ModerationVerdict.newBuilder(AuditEvents.verdict(scenario)).setModel(null).build();
      OlderWriterRecords.storedByAWriterWithout(database.dataSource(), verdict, List.of("model"));
      verdicts.add(verdict);
    }
    removeTheirContent("DSR-2026-1002");
    String ids = "('" + verdicts.get(0).getEventId() + "', '" + verdicts.get(1).getEventId() + "')";
    assertThat(count("select count(*) from audit_log where payload is null and event_id in " + ids))
        .as("the content removed by retention and by the erasure")
        .isEqualTo(2);
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));

    writeDecidedAgain(writer, verdicts);

    String conflicts = "select count(*) from event_id_conflict where event_id in " + ids;
    assertThat(count(conflicts)).as("the same judgements decided later").isZero();
    assertThat(writer.eventIdConflicts()).isZero();
    for (ModerationVerdict verdict : verdicts) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict)
                      .setModel(
                          AuditEvents.verdict(Scenario.of("m", "acme", Decision.RELEASE, NOW))
                              .getModel())
                      .build()),
              releasedInstead(verdict)));
    }
    assertThat(count(conflicts)).as("verdicts judged otherwise").isEqualTo(4);
  }

  /**
   * The forty-ninth session's report: a verdict recorded by a writer whose schema lacked a field
   * that is not nullable but has a default ({@code policySha256}, {@code textTruncated}) did not
   * read back into the current class, so retention and erasures kept its stale digest (without
   * those keys) and the same judgement decided later was a conflict. Read with the fields'
   * defaults, its payload gives the digest the writer computes for that verdict read again now.
   */
  @Test
  void shouldTakeAVerdictLackingADefaultedFieldJudgedAgainAfterItsRemovalAsARedelivery()
      throws Exception {
    List<ModerationVerdict> verdicts = new ArrayList<>();
    for (Scenario scenario :
        List.of(
            Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO),
            Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO))) {
      ModerationVerdict verdict =
          ModerationVerdict.newBuilder(AuditEvents.verdict(scenario))
              .setPolicySha256("")
              .setTextTruncated(false)
              .build();
      OlderWriterRecords.storedByAWriterWithout(
          database.dataSource(), verdict, List.of("policySha256", "textTruncated"));
      verdicts.add(verdict);
    }
    removeTheirContent("DSR-2026-1003");
    String ids = "('" + verdicts.get(0).getEventId() + "', '" + verdicts.get(1).getEventId() + "')";
    assertThat(count("select count(*) from audit_log where payload is null and event_id in " + ids))
        .as("the content removed by retention and by the erasure")
        .isEqualTo(2);
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));

    writeDecidedAgain(writer, verdicts);

    String conflicts = "select count(*) from event_id_conflict where event_id in " + ids;
    assertThat(count(conflicts)).as("the same judgements decided later").isZero();
    assertThat(writer.eventIdConflicts()).isZero();
    for (ModerationVerdict verdict : verdicts) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict).setPolicySha256("ab".repeat(32)).build()),
              releasedInstead(verdict)));
    }
    assertThat(count(conflicts)).as("verdicts judged otherwise").isEqualTo(4);
  }

  /**
   * The fiftieth session's review: a verdict recorded by a newer writer, whose schema has a field
   * this class does not know, was read back without it, so an older instance's retention or erasure
   * (a rolling upgrade) replaced its correct judgement digest with one lacking the field, and the
   * same verdict delivered again to a newer writer would be a conflict. The digest now stays, for a
   * new key at the top level (acme's, removed by retention) and inside a reason (globex's, erased).
   */
  @Test
  void shouldKeepTheDigestOfAVerdictWithAFieldThisVersionDoesNotKnowThroughItsRemoval()
      throws Exception {
    ModerationVerdict retained =
        AuditEvents.verdict(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO));
    ModerationVerdict erased =
        AuditEvents.verdict(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO));
    ObjectNode retainedTree = CanonicalJson.toTree(retained);
    retainedTree.put("futureField", "x");
    ObjectNode erasedTree = CanonicalJson.toTree(erased);
    ((ObjectNode) erasedTree.withArray("reasons").get(0)).put("futureField", "x");
    String retainedDigest = storedByANewerWriter(retained, retainedTree);
    String erasedDigest = storedByANewerWriter(erased, erasedTree);
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);
    retention.apply(ADMIN);
    retention.erase("globex-old", "DSR-2026-1004", ADMIN);

    for (Map.Entry<String, String> kept :
        Map.of(retained.getEventId(), retainedDigest, erased.getEventId(), erasedDigest)
            .entrySet()) {
      assertThat(
              count(
                  "select count(*) from audit_log where payload is null and event_id = '"
                      + kept.getKey()
                      + "' and judgement_sha256 = decode('"
                      + kept.getValue()
                      + "', 'hex')"))
          .as("the content of %s removed, the newer writer's digest kept", kept.getKey())
          .isOne();
    }
  }

  /**
   * The fiftieth session's reviews: a verdict whose stored payload lacks a field of this class that
   * has a primitive type and no default ({@code unsafeScore}) read back with it as 0.0, so its
   * retention gave the record the digest of a verdict with that score, which it never had. Such a
   * payload is not readable by this version: the record keeps the digest it was stored with.
   */
  @Test
  void shouldKeepTheDigestOfAVerdictLackingAPrimitiveFieldThroughItsRemoval() throws Exception {
    ModerationVerdict verdict =
        AuditEvents.verdict(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO));
    OlderWriterRecords.storedByAWriterWithout(
        database.dataSource(), verdict, List.of("unsafeScore"));
    ObjectNode older = CanonicalJson.toTree(verdict);
    older.remove("unsafeScore");
    String stored =
        AuditChain.payloadSha256(
            CanonicalJson.write(CanonicalJson.withField(older, "decidedAt", Instant.EPOCH)));
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);
    retention.apply(ADMIN);

    assertThat(
            count(
                "select count(*) from audit_log where payload is null and event_id = '"
                    + verdict.getEventId()
                    + "' and judgement_sha256 = decode('"
                    + stored
                    + "', 'hex')"))
        .as("the content removed, the digest it was stored with kept")
        .isOne();
  }

  /**
   * Rewrites a verdict's record as a newer writer stored it, with {@code tree} its canonical tree
   * (holding a key this class lacks): that JSON and the digest of it without decidedAt, which is
   * returned (hex).
   */
  private String storedByANewerWriter(ModerationVerdict verdict, ObjectNode tree) throws Exception {
    String payload = CanonicalJson.write(tree);
    assertThat(payload).contains("\"futureField\"");
    String undated = CanonicalJson.write(CanonicalJson.withField(tree, "decidedAt", Instant.EPOCH));
    try (Connection connection = database.dataSource().getConnection();
        PreparedStatement update =
            connection.prepareStatement(
                "update audit_log set payload = ?, payload_sha256 = sha256(convert_to(?, 'UTF8')),"
                    + " judgement_sha256 = sha256(convert_to(?, 'UTF8')) where event_id = ?")) {
      update.setString(1, payload);
      update.setString(2, payload);
      update.setString(3, undated);
      update.setString(4, verdict.getEventId());
      assertThat(update.executeUpdate()).isEqualTo(1);
    }
    return AuditChain.payloadSha256(undated);
  }

  /**
   * Removes the content of acme's records past its 30 days by retention and globex-old's by an
   * erasure under {@code ticket}.
   */
  private void removeTheirContent(String ticket) throws Exception {
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);
    retention.apply(ADMIN);
    retention.erase("globex-old", ticket, ADMIN);
  }

  /** Writes each verdict read again, one a batch, decided at NOW: the same judgement, later. */
  private static void writeDecidedAgain(AuditWriter writer, List<ModerationVerdict> verdicts)
      throws Exception {
    for (ModerationVerdict verdict : verdicts) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.MODERATION_VERDICTS.name(),
                  ModerationVerdict.newBuilder(verdict).setDecidedAt(NOW).build())));
    }
  }

  /** The verdict judged otherwise, RELEASE decided at NOW, as read from its topic. */
  private static IncomingEvent releasedInstead(ModerationVerdict verdict) {
    return AuditEvents.incoming(
        Topics.MODERATION_VERDICTS.name(),
        ModerationVerdict.newBuilder(verdict)
            .setDecision(Decision.RELEASE)
            .setDecidedAt(NOW)
            .build());
  }

  /**
   * The forty-eighth session's second review: a scope that failed after some of its batches had
   * committed reported none of them (the run's batches and its message undercounted what was done),
   * and a call of POST /api/v1/retention/run that failed in one scope recorded no retention.run
   * action, though the other scopes were applied. Here acme's second batch fails (a trigger on its
   * last record), after its first committed.
   */
  @Test
  void shouldReportAndRecordWhatAPartlyFailedRunDid() throws Exception {
    retention(0).set("acme", 30, ADMIN);
    retention(0).set("globex", 30, ADMIN);
    long lastOfAcme = count("select max(seq) from audit_log where request_id = 'acme-old'");
    execute(
        "create function fail_last_of_acme() returns trigger language plpgsql as $$ begin"
            + " if new.payload is null then raise exception 'acme''s last record made to fail';"
            + " end if; return new; end $$");
    execute(
        "create trigger fail_last_of_acme before update on audit_log for each row when (old.seq = "
            + lastOfAcme
            + ") execute function fail_last_of_acme()");

    Throwable failure = catchThrowable(() -> retention(0).runRecorded(ADMIN));

    assertThat(failure)
        .isInstanceOf(Retention.PartlyFailedException.class)
        .hasMessageContaining("tenant acme")
        .hasMessageContaining("made to fail")
        .hasMessageContaining("(3 batch(es))");
    assertThat(((Retention.PartlyFailedException) failure).run().batches())
        .as("acme's first batch, committed before its second failed, and globex's")
        .extracting(Retention.Applied::tenantId, Retention.Applied::tombstoned)
        .containsExactly(tuple("acme", 3L), tuple("globex", 3L), tuple("globex", 1L));
    String partlyId = ((Retention.PartlyFailedException) failure).actionId();
    assertThat(
            count(
                "select count(*) from api_action where action = 'retention.run'"
                    + " and details ->> 'batches' = '3' and details ->> 'tombstoned' = '7'"
                    + " and details -> 'failedScopes' = '[\"tenant acme\"]'::jsonb"
                    + " and action_id = '"
                    + partlyId
                    + "'"))
        .as("the partly failed run, recorded as the action the exception names")
        .isOne();
    execute("drop trigger fail_last_of_acme on audit_log");
    Retention.RecordedRun rest = retention(0).runRecorded(ADMIN);
    assertThat(rest.run().batches())
        .extracting(Retention.Applied::tenantId, Retention.Applied::tombstoned)
        .containsExactly(tuple("acme", 1L));
    assertThat(
            count(
                "select count(*) from api_action where action = 'retention.run'"
                    + " and details ->> 'batches' = '1' and details -> 'failedScopes' is null"
                    + " and action_id = '"
                    + rest.actionId()
                    + "'"))
        .isOne();
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The fiftieth session's reviews: the scheduled run recorded no retention.run action (only its
   * log lines said what it did), as a call of POST /api/v1/retention/run does. It now records one
   * where it did something, as the caller retention-schedule; a run that did nothing is not
   * recorded.
   */
  @Test
  void shouldRecordTheScheduledRunThatDidSomethingAsARetentionRunAction() throws Exception {
    retention(0).set("acme", 30, ADMIN);

    Retention.RecordedRun scheduled = retention(0).runScheduled();

    assertThat(scheduled.run().batches()).isNotEmpty();
    long tombstoned =
        scheduled.run().batches().stream().mapToLong(Retention.Applied::tombstoned).sum();
    assertThat(
            count(
                "select count(*) from api_action where action = 'retention.run'"
                    + " and caller_name = '"
                    + Retention.SCHEDULE
                    + "' and details ->> 'batches' = '"
                    + scheduled.run().batches().size()
                    + "' and details ->> 'tombstoned' = '"
                    + tombstoned
                    + "' and action_id = '"
                    + scheduled.actionId()
                    + "'"))
        .as("the scheduled run, recorded as the action it names")
        .isOne();

    Retention.RecordedRun idle = retention(0).runScheduled();

    assertThat(idle.run().batches()).isEmpty();
    assertThat(idle.actionId()).as("a run that did nothing").isNull();
    assertThat(count("select count(*) from api_action where action = 'retention.run'")).isOne();
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The fifty-first session's fixers: when the retention.run action of a run could not be recorded
   * after the run, the log said only "Retention run failed" (a plain SQLException), not what the
   * run did, which stood. The run now throws a NotRecordedException saying what it did and that its
   * action was not recorded, and logs it so (the scheduled run and a call of the API's alike). Here
   * a trigger refuses the action's row.
   */
  @Test
  void shouldSayWhatTheRunDidWhenItsActionCannotBeRecorded() throws Exception {
    retention(0).set("acme", 30, ADMIN);
    execute(
        "create function refuse_retention_run() returns trigger language plpgsql as $$ begin"
            + " raise exception 'retention.run made to fail'; end $$");
    execute(
        "create trigger refuse_retention_run before insert on api_action for each row"
            + " when (new.action = 'retention.run') execute function refuse_retention_run()");
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(Retention.class);
    logs.start();
    logger.addAppender(logs);
    Throwable scheduled;
    Throwable called;
    try {
      scheduled = catchThrowable(() -> retention(0).runScheduled());
      called = catchThrowable(() -> retention(0).runRecorded(ADMIN));
    } finally {
      logger.detachAppender(logs);
    }

    assertThat(scheduled)
        .isInstanceOf(Retention.NotRecordedException.class)
        .hasMessageContaining("The retention run of " + Retention.SCHEDULE + " was applied")
        .hasMessageContaining("tombstoned 4 record(s) in 2 batch(es)")
        .hasMessageContaining("recording its retention.run action failed")
        .hasStackTraceContaining("retention.run made to fail");
    assertThat(((Retention.NotRecordedException) scheduled).run().batches())
        .extracting(Retention.Applied::tombstoned)
        .containsExactly(3L, 1L);
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'acme-old' and payload is null"))
        .as("the run stands")
        .isEqualTo(4);
    assertThat(called)
        .as("a call of POST /api/v1/retention/run, which records a run that did nothing too")
        .isInstanceOf(Retention.NotRecordedException.class)
        .hasMessageContaining("The retention run of ada was applied")
        .hasMessageContaining("tombstoned 0 record(s) in 0 batch(es)");
    assertThat(logs.list)
        .filteredOn(event -> event.getLevel() == Level.ERROR)
        .extracting(ILoggingEvent::getFormattedMessage)
        .hasSize(2)
        .allSatisfy(
            line ->
                assertThat(line)
                    .contains("recording its retention.run action failed")
                    .contains("retention.run made to fail"))
        .anySatisfy(line -> assertThat(line).contains("tombstoned 4 record(s) in 2 batch(es)"));
    assertThat(count("select count(*) from api_action where action = 'retention.run'")).isZero();
    execute("drop trigger refuse_retention_run on api_action");
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The forty-eighth session's second review: reading a scope's stored bias reports (the page
   * query) was not covered by "a scope fails, the run goes on", so a lock timeout there ended the
   * run before the later scopes and every sweep. Here bias_report is locked by another transaction
   * past the database's lock timeout: every scope's tombstoning is applied all the same.
   */
  @Test
  void shouldApplyTheOtherScopesWhenBiasReportsCannotBeRead() throws Exception {
    retention(0).set("acme", 30, ADMIN);
    retention(0).set("globex", 30, ADMIN);
    Throwable failure = retentionWhileHeld("lock table bias_report in access exclusive mode");

    assertThat(failure)
        .isInstanceOf(Retention.PartlyFailedException.class)
        .hasMessageContaining("tenant acme")
        .hasMessageContaining("tenant globex")
        .hasMessageContaining("lock timeout");
    assertThat(((Retention.PartlyFailedException) failure).run().batches()).hasSize(4);
    assertThat(
            count(
                "select count(*) from audit_log where request_id = 'globex-old'"
                    + " and payload is not null"))
        .as("globex's records, after acme's bias reports could not be read")
        .isZero();
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * The forty-sixth session's review (finding 1): an erasure emptied only the event_id_conflict
   * rows of the erased request's own records, so the request's genuine text, kept as a conflict
   * under a record of another request (a forgery read first, an id reused across requests), stayed
   * and its story showed it. One read after the erasure is kept without it too.
   */
  @Test
  void shouldEraseTheRequestsTextKeptUnderAnotherRequestsRecord() throws Exception {
    GenerationOutput genuine =
        GenerationOutput.newBuilder(
                AuditEvents.output(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO)))
            .setEventId("probe-event")
            .setOutputId("probe-output")
            .setText("SECRET-OF-ACME-OLD")
            .build();
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.fixed(NOW, ZoneOffset.UTC));
    // Read first under the id: content naming another request (a forgery, or a reused id).
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(genuine)
                    .setRequestId("acme-new")
                    .setText("FORGED")
                    .build())));
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), genuine)));
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'acme-old'"
                    + " and payload like '%SECRET-OF-ACME-OLD%'"))
        .as("kept as a conflict")
        .isEqualTo(1);

    retention(0).erase("acme-old", "DSR-2026-999", ADMIN);

    assertThat(
            count(
                "select count(*) from event_id_conflict where payload like '%SECRET-OF-ACME-OLD%'"))
        .as("the erased request's text left in event_id_conflict")
        .isZero();
    ObjectNode story = new AuditQueries(database.dataSource()).story("acme-old").orElseThrow();
    assertThat(story.toString()).doesNotContain("SECRET-OF-ACME-OLD");
    assertThat(story.path("eventIdConflicts")).hasSize(1);

    // Read after the erasure, under the other request's record, which still has its content.
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(genuine).setText("LATE-SECRET-OF-ACME-OLD").build())));
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'acme-old'"
                    + " and payload is null"))
        .as("kept without the erased request's text")
        .isEqualTo(2);
    assertThat(count("select count(*) from event_id_conflict where payload like '%SECRET%'"))
        .isZero();
    assertThat(new AuditQueries(database.dataSource()).story("acme-old").orElseThrow().toString())
        .doesNotContain("SECRET-OF-ACME-OLD");
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  /**
   * Tenant retention removes every row of the tenant's old requests, event_id_conflict's too
   * (migration V32): those of the records a batch tombstones, and those read after their record
   * lost its content, by when they were read. It used to only empty their payload and keep the
   * rows, with the tenant and request ids and source offsets, for good.
   */
  @Test
  void shouldDeleteTheConflictsOfTheRecordsRetentionRemoves() throws Exception {
    GenerationOutput acme =
        AuditEvents.output(Scenario.of("acme-old", "acme", Decision.REVIEW, LONG_AGO));
    GenerationOutput globex =
        AuditEvents.output(Scenario.of("globex-old", "globex", Decision.BLOCK, LONG_AGO));
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    for (GenerationOutput output : List.of(acme, globex)) {
      writer.write(
          List.of(
              AuditEvents.incoming(
                  Topics.GENERATION_OUTPUTS.name(),
                  GenerationOutput.newBuilder(output).setText("OTHER-TEXT-1").build())));
    }
    String acmeConflicts = "select count(*) from event_id_conflict where request_id = 'acme-old'";
    assertThat(count(acmeConflicts)).isEqualTo(1);
    Retention retention = retention(0);
    retention.set("acme", 30, ADMIN);

    retention.apply(ADMIN);

    assertThat(count(acmeConflicts)).as("read recently, of a record retention removed").isZero();
    assertThat(count("select count(*) from event_id_conflict where request_id = 'globex-old'"))
        .as("another tenant's, kept forever")
        .isEqualTo(1);
    // The views read what is left: the removed request's story and bundle list none, the other
    // tenant's still lists its own.
    AuditQueries queries = new AuditQueries(database.dataSource());
    ObjectNode removed = queries.story("acme-old").orElseThrow();
    assertThat(removed.path("status").asText()).isEqualTo("CONTENT_REMOVED");
    assertThat(removed.path("eventIdConflicts").isArray()).isTrue();
    assertThat(removed.path("eventIdConflicts")).isEmpty();
    assertThat(removed.toString()).doesNotContain("OTHER-TEXT");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(EventIdConflicts.of(connection, "acme-old", "acme", true)).isEmpty();
    }
    assertThat(queries.story("globex-old").orElseThrow().path("eventIdConflicts")).hasSize(1);

    // Read after its record lost its content (kept without a payload), long enough ago.
    new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO.plusSeconds(60), ZoneOffset.UTC))
        .write(
            List.of(
                AuditEvents.incoming(
                    Topics.GENERATION_OUTPUTS.name(),
                    GenerationOutput.newBuilder(acme).setText("OTHER-TEXT-2").build())));
    assertThat(count(acmeConflicts + " and payload is null")).isEqualTo(1);
    retention.apply(ADMIN);
    assertThat(count(acmeConflicts)).as("read before the cutoff").isZero();
    assertThat(count("select count(*) from event_id_conflict")).isEqualTo(1);
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();
  }

  @Test
  void shouldEraseARequestKnownOnlyByItsDeadLetters() throws Exception {
    String secret = "SECRET-PROMPT-77";
    Scenario lost = Scenario.of("dl-only", "acme", Decision.RELEASE, RECENTLY);
    byte[] request =
        Topics.GENERATION_REQUESTS
            .codec()
            .encode(
                GenerationRequest.newBuilder(AuditEvents.request(lost)).setPrompt(secret).build());
    AuditWriter writer =
        new AuditWriter(database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC));
    writer.write(List.of(deadLetter(Topics.GENERATION_REQUESTS, 95, "dl-only", request)));
    Retention retention = retention(0);
    Caller acmeAdmin = new Caller("t1", "acme admin", Role.ADMIN, "acme");
    assertThatThrownBy(() -> retention.erase("dl-only", "DSR-1", acmeAdmin))
        .as("a tenant's admin cannot tell whose it is")
        .isInstanceOf(io.genguard.audit.NotFoundException.class);

    Retention.Erased erased = retention.erase("dl-only", "DSR-2026-600", ADMIN);

    assertThat(erased.tombstoned()).isEqualTo(1);
    assertThat(erased.tenantId()).isNull();
    assertThat(deadLettersHolding(secret)).isZero();
    assertThat(text("select payload from audit_log where seq = " + erased.retentionSeq()))
        .contains("\"scope\":\"REQUEST\"")
        .contains("\"deadLetterSeqs\":[");
    assertThat(count("select count(*) from request_erasure where request_id = 'dl-only'"))
        .isEqualTo(1);
    // The gate is told as for any erasure (forty-second session): it may have read the output that
    // the audit store could not, and must not release it. The notice names no tenant (empty).
    ErasureNotice notice = outboxNotice("dl-only");
    assertThat(notice.getTenantId()).isEqualTo(Retention.NO_TENANT).isEmpty();
    assertThat(notice.getErasureSeq()).isEqualTo(erased.retentionSeq());
    assertThat(notice.getCause()).isEqualTo(ErasureCause.ERASURE);
    // Read back from audit.erasures, it is recorded as a record of no tenant.
    writer.write(List.of(AuditEvents.incoming(Topics.AUDIT_ERASURES.name(), notice)));
    assertThat(
            text(
                "select coalesce(tenant_id, 'none') from audit_log where request_id = 'dl-only'"
                    + " and event_type = 'ErasureNotice'"))
        .isEqualTo("none");
    ChainVerifier.Verification whole = ChainVerifier.verify(database.dataSource());
    assertThat(whole.valid()).as(whole.summary()).isTrue();

    // A dead letter of it that comes later is erased by the follow-up.
    new AuditWriter(database.dataSource(), Clock.fixed(NOW.plusSeconds(20), ZoneOffset.UTC))
        .write(List.of(deadLetter(Topics.GENERATION_REQUESTS, 96, "dl-only", request)));
    assertThat(
            new Retention(
                    database.dataSource(), Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC), 0, 3)
                .eraseLateRecords(Caller.system("erasure-follow-up")))
        .singleElement()
        .satisfies(e -> assertThat(e.tombstoned()).isEqualTo(1));
    assertThat(deadLettersHolding(secret)).isZero();
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldRetractAReleaseWhenErasingAndSayItEvenWhenRetentionRemovedTheContentBefore()
      throws Exception {
    Scenario old = Scenario.of("acme-rel", "acme", Decision.RELEASE, LONG_AGO);
    new AuditWriter(database.dataSource(), Clock.fixed(LONG_AGO, ZoneOffset.UTC))
        .write(AuditEvents.story(old));
    Retention retention = retention(0);

    // Released, content still there: retracted, and the answer says so.
    Retention.Erased recent = retention.erase("acme-new", "DSR-2026-700", ADMIN);
    assertThat(recent.retractedEventId())
        .isEqualTo(
            AuditEvents.gateOutcome(Scenario.of("acme-new", "acme", Decision.RELEASE, RECENTLY))
                .getEventId());
    assertThat(retention.erase("acme-new", "DSR-2026-700", ADMIN).retractedEventId())
        .as("once")
        .isNull();

    // Released long ago; retention removed its content since, and nothing is left to tombstone.
    retention.set("acme", 30, ADMIN);
    retention.apply(ADMIN);
    assertThat(count("select count(*) from gate_outcome where request_id = 'acme-rel'")).isZero();

    Retention.Erased erased = retention.erase("acme-rel", "DSR-2026-701", ADMIN);

    assertThat(erased.tombstoned()).isZero();
    assertThat(erased.retractedEventId()).isEqualTo(AuditEvents.gateOutcome(old).getEventId());
    assertThat(
            text(
                "select output_id || ' ' || basis from content_retraction"
                    + " where request_id = 'acme-rel'"))
        .isEqualTo("unknown ERASURE");
    assertThat(
            count(
                "select count(*) from review_outbox where request_id = 'acme-rel'"
                    + " and topic = 'content.retractions'"))
        .isEqualTo(1);
    assertThat(retention.erase("acme-rel", "DSR-2026-701", ADMIN).retractedEventId()).isNull();
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
  }

  @Test
  void shouldRemoveAnErasedRequestsTextFromTheStoredBiasReports() throws Exception {
    String html =
        "<table><tr id=\"r-acme-new\"><td>0</td><td><code>acme-new</code></td><td>term</td><td>"
            + "LEAKED-TEXT-1 &lt;b&gt;&amp;&#39;</td></tr>"
            + "<tr id=\"r-acme-old\"><td>1</td><td><code>acme-old</code></td><td>term</td><td>"
            + "OTHER-TEXT</td></tr></table>";
    ObjectNode body =
        (ObjectNode)
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(
                    "{\"groups\":[],\"rows\":[{\"requestId\":\"acme-new\",\"unsafeScore\":0.25,"
                        + "\"text\":\"LEAKED-TEXT-1 <b>&'\"},{\"requestId\":\"acme-old\","
                        + "\"unsafeScore\":0.5,\"text\":\"OTHER-TEXT\"}]}");
    String reportId =
        new io.genguard.audit.bias.BiasReports(
                database.dataSource(), Clock.fixed(RECENTLY, ZoneOffset.UTC))
            .save(
                new io.genguard.audit.bias.BiasReports.NewReport(
                    "report-1",
                    null,
                    "acme",
                    "Campaign report",
                    "CAMPAIGN",
                    null,
                    null,
                    null,
                    null,
                    body,
                    "group,rate\n",
                    html),
                ADMIN);
    // The bias-audit feature's copy, in its own schema of the same database.
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("create schema bias_audit");
      statement.execute(
          "create table bias_audit.report (report_id text primary key, document jsonb not null,"
              + " document_sha256 text not null, document_text text)");
      statement.execute(
          "insert into bias_audit.report values ('campaign-report-1', '"
              + body.toString().replace("'", "''")
              + "'::jsonb, 'x', '"
              + body.toString().replace("'", "''")
              + "')");
    }

    Retention.Erased erased = retention(0).erase("acme-new", "DSR-2026-800", ADMIN);

    assertThat(erased.biasReportsRedacted()).containsExactly(reportId, "campaign-report-1");
    String json =
        text(
            "select string_agg(body, '' order by piece) from bias_report_piece where format = 'JSON'");
    for (String stored :
        List.of(
            json,
            text("select body_json::text from bias_report"),
            text(
                "select string_agg(body, '' order by piece) from bias_report_piece where format = 'HTML'"),
            text("select document_text from bias_audit.report"),
            text("select document::text from bias_audit.report"))) {
      assertThat(stored)
          .doesNotContain("LEAKED-TEXT-1")
          .contains("OTHER-TEXT")
          .contains("acme-new");
    }
    assertThat(
            text(
                "select string_agg(body, '' order by piece) from bias_report_piece where format = 'HTML'"))
        .contains("<td>term</td><td class=\"note\">erased</td></tr>");
    assertThat(text("select document_sha256 from bias_audit.report"))
        .isEqualTo(
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(
                            text("select document_text from bias_audit.report")
                                .getBytes(StandardCharsets.UTF_8))));
    // The new digests are in the chain, so the edit reads as the erasure's.
    assertThat(
            text(
                "select details->>'jsonSha256' from api_action where action = 'bias_report.redact'"
                    + " and target = '"
                    + reportId
                    + "'"))
        .isEqualTo(
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(json.getBytes(StandardCharsets.UTF_8))));
    ChainVerifier.Verification verification = ChainVerifier.verify(database.dataSource());
    assertThat(verification.valid()).as(verification.summary()).isTrue();
    assertThat(retention(0).erase("acme-new", "DSR-2026-800", ADMIN).biasReportsRedacted())
        .as("nothing more")
        .isEmpty();
  }

  /** The story with {@code attributes} on its request, output and verdict. */
  private static List<IncomingEvent> withAttributes(
      List<IncomingEvent> story, Map<String, String> attributes) {
    List<IncomingEvent> changed = new ArrayList<>();
    for (IncomingEvent incoming : story) {
      Object event = incoming.event();
      if (event instanceof GenerationRequest request) {
        event = GenerationRequest.newBuilder(request).setAttributes(attributes).build();
      } else if (event instanceof GenerationOutput output) {
        event = GenerationOutput.newBuilder(output).setAttributes(attributes).build();
      } else if (event instanceof ModerationVerdict verdict) {
        event = ModerationVerdict.newBuilder(verdict).setAttributes(attributes).build();
      }
      changed.add(
          AuditEvents.incoming(incoming.topic(), (org.apache.avro.specific.SpecificRecord) event));
    }
    return changed;
  }

  @Test
  void shouldRefuseAnErasureWithoutAReasonOrOfARequestTheCallerMayNotSee() {
    Retention retention = retention(0);
    assertThatThrownBy(() -> retention.erase("acme-old", " ", ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("reason is required")
        .hasMessageContaining("name a case, not the person");
    assertThatThrownBy(() -> retention.erase("acme-old", "DSR\u0000", ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("control character (code 0)");
    assertThatThrownBy(() -> retention.erase("acme-old", "x".repeat(2_001), ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("the limit is 2000");
    assertThatThrownBy(() -> retention.erase("no-such-request", "DSR-1", ADMIN))
        .isInstanceOf(io.genguard.audit.NotFoundException.class)
        .hasMessageContaining("holds no record of request 'no-such-request'");
    Caller globexAdmin = new Caller("t2", "globex admin", Role.ADMIN, "globex");
    assertThatThrownBy(() -> retention.erase("acme-old", "DSR-1", globexAdmin))
        .as("another tenant's request reads as absent")
        .isInstanceOf(io.genguard.audit.NotFoundException.class);
  }

  @Test
  void shouldRejectInvalidPoliciesWithClearMessages() {
    Retention retention = retention(0);
    assertThatThrownBy(() -> retention.set("acme", 0, ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("retentionDays must be between 1 and");
    assertThatThrownBy(() -> retention.set("bad tenant'--", 30, ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("tenant 'bad tenant'--' is not valid");
    Caller acmeAdmin = new Caller("t1", "acme admin", Role.ADMIN, "acme");
    assertThatThrownBy(() -> retention.set("globex", 30, acmeAdmin))
        .isInstanceOf(ForbiddenException.class);
    assertThatThrownBy(() -> new Retention(database.dataSource(), Clock.systemUTC(), -1))
        .hasMessageContaining("default retention must be 0");
  }

  /**
   * The operator's default period bounds what a tenant's admin sets: shorter or equal is its own
   * call, longer is a global admin's (until the forty-first session an acme admin could keep acme's
   * content for a century against a default of 30 days). With no default (keep everything), any
   * period shortens it.
   */
  @Test
  void shouldLetATenantAdminOnlyShortenTheOperatorsDefault() throws Exception {
    Caller acmeAdmin = new Caller("t1", "acme admin", Role.ADMIN, "acme");
    Retention retention = retention(30);
    assertThatThrownBy(() -> retention.set("acme", 36_500, acmeAdmin))
        .isInstanceOf(ForbiddenException.class)
        .hasMessageContaining("default of 30 days (GENGUARD_AUDIT_RETENTION_DAYS), not 36500");
    assertThatThrownBy(() -> retention.set("acme", 31, acmeAdmin))
        .isInstanceOf(ForbiddenException.class);
    assertThat(retention.policies(ADMIN)).isEmpty();

    assertThat(retention.set("acme", 30, acmeAdmin).retentionDays()).isEqualTo(30);
    assertThat(retention.set("acme", 7, acmeAdmin).retentionDays()).isEqualTo(7);
    assertThat(retention.set("acme", 3650, ADMIN).retentionDays()).isEqualTo(3650);
    assertThat(retention(0).set("acme", 36_500, acmeAdmin).retentionDays()).isEqualTo(36_500);
  }

  /** A dead letter of stage "moderation" of the record at {@code offset} of {@code source}. */
  private static IncomingEvent deadLetter(
      Topic<String, ?> source, long offset, String key, byte[] bytes) {
    return AuditEvents.incoming(
        source.deadLetterTopic().orElseThrow(),
        DeadLetters.of(
            source.name(),
            0,
            offset,
            key == null ? null : key.getBytes(StandardCharsets.UTF_8),
            bytes,
            "moderation",
            new IllegalStateException("scorer failed"),
            LONG_AGO));
  }

  /** The one erasure notice the outbox holds for the request, not yet published. */
  private ErasureNotice outboxNotice(String requestId) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        java.sql.PreparedStatement query =
            connection.prepareStatement(
                "select payload from review_outbox where request_id = ? and topic = ?"
                    + " and published_at is null")) {
      query.setString(1, requestId);
      query.setString(2, Topics.AUDIT_ERASURES.name());
      try (ResultSet rs = query.executeQuery()) {
        assertThat(rs.next()).as("a notice for the gate in the outbox").isTrue();
        ErasureNotice notice = Topics.AUDIT_ERASURES.codec().decode(rs.getBytes(1));
        assertThat(rs.next()).as("one").isFalse();
        return notice;
      }
    }
  }

  @Test
  void shouldNotWaitUnderTheChainLockForADecisionTheOutboxIsSending() throws Exception {
    // An approval of acme-old (held for review) waits in the outbox, and the outbox is sending it:
    // it holds the row while Kafka acknowledges it (up to 35 s).
    execute(
        "insert into review_outbox (review_id, request_id, payload, created_at, topic) values"
            + " ('review-acme-old', 'acme-old', '\\x00'::bytea, now(), '"
            + Topics.REVIEW_DECISIONS.name()
            + "')");
    java.util.concurrent.ExecutorService erasing =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try (Connection publisher = database.dataSource().getConnection()) {
      publisher.setAutoCommit(false);
      try (Statement statement = publisher.createStatement();
          ResultSet rs =
              statement.executeQuery(
                  "select review_id from review_outbox where request_id = 'acme-old'"
                      + " and published_at is null for update skip locked")) {
        assertThat(rs.next()).isTrue();
      }

      java.util.concurrent.Future<Retention.Erased> erasure =
          erasing.submit(() -> retention(0).erase("acme-old", "DSR-2026-700", ADMIN));

      // The erasure, and the chain lock it holds, do not wait for Kafka.
      Retention.Erased erased = erasure.get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(erased.tombstoned()).isPositive();
      publisher.rollback(); // Kafka did not take it: the row is still unpublished
    } finally {
      erasing.shutdownNow();
    }
    assertThat(
            count(
                "select count(*) from review_outbox where request_id = 'acme-old'"
                    + " and topic = 'review.decisions' and published_at is null"))
        .as("left to the outbox")
        .isEqualTo(1);

    // The outbox does not send a decision of an erased request: it drops it, and sends the notice.
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    // As many partitions as RunningAuditService provisions the catalogue with: the broker is
    // shared, and a test class run after this one refuses topics whose counts do not match.
    infra.createTopics(2, List.of(Topics.REVIEW_DECISIONS.name(), Topics.AUDIT_ERASURES.name()));
    try (io.genguard.audit.review.ReviewOutbox outbox =
        new io.genguard.audit.review.ReviewOutbox(
            database.dataSource(),
            infra.kafkaClientProperties(),
            Clock.fixed(NOW, ZoneOffset.UTC),
            java.time.Duration.ofSeconds(1))) {
      outbox.publishPending();
    }
    assertThat(
            count(
                "select count(*) from review_outbox where request_id = 'acme-old'"
                    + " and topic = 'review.decisions'"))
        .isZero();
    assertThat(
            count(
                "select count(*) from review_outbox where request_id = 'acme-old'"
                    + " and topic = 'audit.erasures' and published_at is not null"))
        .isEqualTo(1);
  }

  /** Dead-letter rows and dead-letter records (their kept bytes) that still hold {@code text}. */
  private long deadLettersHolding(String text) throws Exception {
    return count(
            "select count(*) from dead_letter where position(convert_to('"
                + text
                + "', 'UTF8') in payload) > 0")
        + count(
            "select count(*) from audit_log where event_type = 'DeadLetter' and payload is not null"
                + " and position(convert_to('"
                + text
                + "', 'UTF8') in decode(payload::jsonb ->> 'payload', 'base64')) > 0");
  }

  private String text(String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private long count(String sql) throws Exception {
    return TestSql.count(database.dataSource(), sql);
  }
}
