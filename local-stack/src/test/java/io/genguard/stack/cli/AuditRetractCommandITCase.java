package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.release.Retractions;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateBasis;
import io.genguard.events.v1.GateOutcome;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ReleaseGateOutcome;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./genguard audit retract} on real PostgreSQL: by the ids a what-if run printed, and by a
 * release window past one call's limit; each takedown on record with its reason, its notice in the
 * outbox, the chain intact.
 */
class AuditRetractCommandITCase {
  private static final Instant T0 = Instant.parse("2026-12-05T09:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AtomicLong offsets = new AtomicLong();
  private IntegrationInfrastructure infra;
  private String url;
  private AuditDatabase database;

  @BeforeEach
  void database(TestInfo test) {
    infra = IntegrationInfrastructure.get();
    url = infra.createDatabase("retract_cli_", test);
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  @AfterEach
  void close() {
    database.close();
  }

  @Test
  void shouldTakeDownWhatAWhatIfRunShowedACorrectedPolicyWouldHold(@TempDir Path dir)
      throws Exception {
    write(released("wi-1", "acme", T0), released("wi-2", "acme", T0.plusSeconds(1)));
    write(released("wi-3", "globex", T0.plusSeconds(2)));
    write(List.of(incoming(Topics.GENERATION_REQUESTS.name(), request("wi-held", "acme"))));
    Path whatIf = dir.resolve("what-if.jsonl");
    Files.writeString(
        whatIf,
        String.join(
            "\n",
            row("wi-1", "RELEASE", "BLOCK"),
            row("wi-2", "BLOCK", "RELEASE"),
            row("wi-held", "RELEASE", "REVIEW"),
            "{\"policy\":\"default 7\",\"verdicts\":4,\"same\":1,\"changed\":3}",
            "wi-3"));

    CommandRun dry = run("--ids-from", whatIf.toString(), "--dry-run");
    assertThat(dry.code()).as(dry.err()).isEqualTo(4);
    JsonNode listed = JSON.readTree(dry.out());
    assertThat(ids(listed.path("requestIds"))).containsExactly("wi-1", "wi-3");
    assertThat(listed.path("whatIfRowsNotHeld").asInt()).isEqualTo(1);
    assertThat(listed.path("skipped").path("wi-held").asText())
        .contains("has no released output on record")
        .as("the command that shows its story, not the API's path")
        .contains("./genguard audit evidence --request wi-held --out FILE shows what it holds")
        .doesNotContain("GET /api/v1/requests/");
    assertThat(count("select count(*) from content_retraction")).isZero();

    CommandRun noReason = run("--ids-from", whatIf.toString());
    assertThat(noReason.code()).isEqualTo(2);
    assertThat(noReason.err()).contains("--reason is required");

    CommandRun done =
        run("--ids-from", whatIf.toString(), "--reason", "policy 7 would block them, T-1182");
    assertThat(done.code()).as(done.err()).isEqualTo(4);
    JsonNode taken = JSON.readTree(done.out());
    assertThat(taken.path("retracted")).hasSize(2);
    assertThat(taken.path("retracted").get(0).path("requestId").asText()).isEqualTo("wi-1");
    assertThat(taken.path("retracted").get(0).path("basis").asText()).isEqualTo("TAKEDOWN");
    assertThat(
            count(
                "select count(*) from api_action where action = 'requests.retract'"
                    + " and caller_name like 'audit retract (command line%'"
                    + " and details ->> 'reason' = 'policy 7 would block them, T-1182'"))
        .isEqualTo(2);
    assertThat(count("select count(*) from review_outbox where topic = 'content.retractions'"))
        .as("the notices wait for the audit service's outbox sender")
        .isEqualTo(2);
    assertThat(taken.path("noticesWaiting").asLong()).isEqualTo(2);
    assertThat(done.err()).contains("2 retraction notice(s) wait in the audit service's outbox");

    CommandRun again = run("--request", "wi-1", "--reason", "again");
    assertThat(again.code()).isEqualTo(4);
    assertThat(JSON.readTree(again.out()).path("skipped").path("wi-1").asText())
        .contains("was retracted already at");
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldTakeDownAWholeWindowInCallsOfAThousand() throws Exception {
    int released = Retractions.MAX_BULK + 5;
    List<IncomingEvent> events = new ArrayList<>();
    for (int i = 0; i < released; i++) {
      events.addAll(released("win-" + i, "acme", T0.plusMillis(i)));
    }
    events.addAll(released("win-other", "globex", T0.plusMillis(10)));
    events.addAll(released("win-later", "acme", T0.plusSeconds(3_600)));
    write(events);
    String[] window = {
      "--released-from", T0.toString(), "--released-before", T0.plusSeconds(60).toString()
    };

    CommandRun dry = run(with(window, "--tenant", "acme", "--dry-run"));
    assertThat(dry.code()).as(dry.err()).isZero();
    JsonNode listed = JSON.readTree(dry.out());
    assertThat(listed.path("requestIds")).hasSize(Retractions.MAX_BULK);
    assertThat(listed.path("more").asBoolean()).isTrue();

    CommandRun done = run(with(window, "--tenant", "acme", "--reason", "incident 42"));
    assertThat(done.code()).as(done.err()).isZero();
    JsonNode taken = JSON.readTree(done.out());
    assertThat(taken.path("retracted")).hasSize(released);
    assertThat(taken.path("more").asBoolean()).isFalse();
    assertThat(count("select count(*) from content_retraction where tenant_id = 'acme'"))
        .isEqualTo(released);
    assertThat(
            count(
                "select count(distinct details -> 'selection' ->> 'call') from api_action"
                    + " where action = 'requests.retract'"))
        .as("two calls, each named in its actions")
        .isEqualTo(2);

    CommandRun none = run(with(window, "--tenant", "acme", "--reason", "incident 42"));
    assertThat(none.code()).as("nothing left in the window").isEqualTo(3);
  }

  /**
   * Each release is printed with its tenant, and each skipped one with its tenant and why, as the
   * API answers since the forty-ninth session (found by its takedowns fix: the command printed only
   * {@code requestIds} and {@code skipped}, keyed by request id, so a request id two tenants
   * released under was listed twice with no tenant).
   */
  @Test
  void shouldPrintTheTenantOfEachReleaseTakenDownOrSkipped() throws Exception {
    write(released("shared", "acme", T0));
    write(
        List.of(
            incoming(
                Topics.GENERATION_REQUESTS.name(),
                request(
                    EventIds.nameBased("request", "shared", "globex"),
                    "shared",
                    "globex",
                    T0.minusSeconds(5))),
            incoming(
                Topics.CONTENT_RELEASED.name(),
                ReleaseGateOutcome.newBuilder(
                        released(
                            Scenario.of("shared", "globex", Decision.RELEASE, T0),
                            T0.plusSeconds(1)))
                    .setEventId(EventIds.nameBased("gate", "shared", "globex"))
                    .setOutputId(EventIds.nameBased("output", "shared", "globex"))
                    .setVerdictId(EventIds.nameBased("verdict", "shared", "globex"))
                    .build())));
    write(List.of(incoming(Topics.GENERATION_REQUESTS.name(), request("held", "acme"))));
    String[] window = {
      "--released-from", T0.toString(), "--released-before", T0.plusSeconds(60).toString()
    };

    CommandRun done = run(with(window, "--reason", "incident 49"));
    assertThat(done.code()).as(done.err()).isZero();
    JsonNode taken = JSON.readTree(done.out());
    assertThat(ids(taken.path("requestIds"))).containsExactly("shared", "shared");
    assertThat(taken.path("releases")).hasSize(2);
    assertThat(taken.path("releases").get(0).path("requestId").asText()).isEqualTo("shared");
    assertThat(taken.path("releases").get(0).path("tenantId").asText()).isEqualTo("acme");
    assertThat(taken.path("releases").get(1).path("tenantId").asText()).isEqualTo("globex");
    assertThat(taken.path("skippedReleases")).isEmpty();

    CommandRun skipped = run("--request", "shared", "--request", "held", "--reason", "again");
    assertThat(skipped.code()).as(skipped.err()).isEqualTo(4);
    JsonNode answer = JSON.readTree(skipped.out());
    assertThat(answer.path("releases")).isEmpty();
    JsonNode skippedReleases = answer.path("skippedReleases");
    assertThat(skippedReleases).hasSize(2);
    assertThat(skippedReleases.get(0).path("requestId").asText()).isEqualTo("shared");
    assertThat(skippedReleases.get(0).has("tenantId"))
        .as("the command acts for every tenant: a request named by id is no one tenant's")
        .isTrue();
    assertThat(skippedReleases.get(0).path("tenantId").isNull()).isTrue();
    // Both tenants released under the id: named by id alone it is refused, whatever is up still
    // (the forty-ninth session's review), rather than reported as retracted already.
    assertThat(skippedReleases.get(0).path("reason").asText())
        .contains("released for more than one tenant (acme, globex)");
    assertThat(skippedReleases.get(1).path("requestId").asText()).isEqualTo("held");
    assertThat(skippedReleases.get(1).path("reason").asText())
        .contains("has no released output on record");
    assertThat(answer.path("skipped").path("held").asText())
        .isEqualTo(skippedReleases.get(1).path("reason").asText());
  }

  /**
   * A request id two tenants released under, named by id: with {@code --tenant}, or with its tenant
   * on the {@code --ids-from} line, that tenant's release comes down (reported by the forty-ninth
   * session: it was skipped, exit 4, and the skip told the command-line user to put "tenantId" in
   * the API's body).
   */
  @Test
  void shouldTakeDownTheReleaseOfTheTenantNamedOfARequestIdTwoTenantsUse(@TempDir Path dir)
      throws Exception {
    sharedBy("twice", "acme", "globex");
    sharedBy("again", "acme", "globex");

    CommandRun unnamed = run("--request", "twice", "--dry-run");
    assertThat(unnamed.code()).as(unnamed.err()).isEqualTo(4);
    assertThat(JSON.readTree(unnamed.out()).path("skipped").path("twice").asText())
        .contains("released for more than one tenant (acme, globex)")
        .contains("--tenant TENANT with --request or --ids-from")
        .doesNotContain("in the body");

    CommandRun acme = run("--request", "twice", "--tenant", "acme", "--reason", "T-50");
    assertThat(acme.code()).as(acme.err()).isZero();
    JsonNode taken = JSON.readTree(acme.out());
    assertThat(taken.path("retracted")).hasSize(1);
    assertThat(taken.path("retracted").get(0).path("tenantId").asText()).isEqualTo("acme");
    assertThat(taken.path("releases").get(0).path("tenantId").asText()).isEqualTo("acme");
    assertThat(count("select count(*) from content_retraction where request_id = 'twice'"))
        .isEqualTo(1);

    Path ids = dir.resolve("ids.txt");
    Files.writeString(
        ids,
        String.join(
            "\n",
            "twice,globex",
            " again , acme ",
            "{\"requestId\": \"again\", \"tenantId\": \"globex\"}"));
    CommandRun file = run("--ids-from", ids.toString(), "--reason", "T-50");
    assertThat(file.code()).as(file.err()).isZero();
    JsonNode fromFile = JSON.readTree(file.out());
    assertThat(fromFile.path("retracted")).hasSize(3);
    assertThat(count("select count(*) from content_retraction where request_id = 'twice'"))
        .as("globex's too now")
        .isEqualTo(2);
    assertThat(count("select count(*) from content_retraction where request_id = 'again'"))
        .isEqualTo(2);

    Files.writeString(ids, "twice,globex\n");
    CommandRun other = run("--ids-from", ids.toString(), "--tenant", "acme", "--dry-run");
    assertThat(other.code()).isEqualTo(2);
    assertThat(other.err()).contains("names request twice of tenant globex, not of --tenant acme");
    Files.writeString(ids, "twice,not a tenant\n");
    CommandRun badTenant = run("--ids-from", ids.toString(), "--dry-run");
    assertThat(badTenant.code()).isEqualTo(2);
    assertThat(badTenant.err()).contains("ids.txt line 1: 'not a tenant' is not a tenant id");
  }

  /**
   * A request id skipped more than once in a run, here for two tenants in one call and without a
   * tenant in another: {@code skipped} keeps every reason (reported by the forty-ninth session: one
   * reason per request id, a later call's put over an earlier one's).
   */
  @Test
  void shouldKeepEveryReasonARequestIdWasSkippedFor(@TempDir Path dir) throws Exception {
    sharedBy("both", "acme", "globex");
    run("--request", "both", "--tenant", "acme", "--reason", "first");
    run("--request", "both", "--tenant", "globex", "--reason", "first");
    Path ids = dir.resolve("ids.txt");
    Files.writeString(ids, "both,acme\nboth,globex\nboth\n");

    CommandRun again = run("--ids-from", ids.toString(), "--reason", "again");

    assertThat(again.code()).as(again.err()).isEqualTo(4);
    JsonNode answer = JSON.readTree(again.out());
    assertThat(answer.path("skippedReleases")).hasSize(3);
    String reasons = answer.path("skipped").path("both").asText();
    assertThat(reasons)
        .contains("tenant acme: The released output")
        .contains("tenant globex: The released output")
        .contains("no tenant named: Request both was released for more than one tenant");
  }

  @Test
  void shouldRefuseAnUnclearSelection(@TempDir Path dir) throws Exception {
    assertThat(run("--reason", "x").err()).contains("one or the other");
    assertThat(run("--request", "a", "--released-from", T0.toString(), "--reason", "x").err())
        .contains("one or the other");
    assertThat(run("--released-from", T0.toString(), "--dry-run").err())
        .contains("needs both --released-from and --released-before");
    assertThat(run("--request", "a", "--include-reviewed", "--dry-run").err())
        .contains("select within a release window");
    assertThat(run("--request", "a", "--tenant", "not a tenant", "--dry-run").err())
        .contains("--tenant: 'not a tenant' is not a tenant id");
    assertThat(run("--request", "bad id", "--dry-run").err())
        .contains("--request: 'bad id' is not a request id");
    Path bad = dir.resolve("bad.txt");
    Files.writeString(bad, "ok-1\n{\"id\": 2}\n");
    CommandRun refused = run("--ids-from", bad.toString(), "--dry-run");
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("bad.txt line 2 is a JSON object without requestId");
    assertThat(
            run("--released-from", T0.toString(), "--released-before", T0.toString(), "--dry-run")
                .err())
        .contains("is not before");
  }

  private CommandRun run(String... args) {
    return CommandRun.of(new AuditRetractCommand(), CommandRun.withDatabase(infra, url, args));
  }

  private static String[] with(String[] first, String... more) {
    List<String> all = new ArrayList<>(List.of(first));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  private static List<String> ids(JsonNode array) {
    List<String> ids = new ArrayList<>();
    array.forEach(id -> ids.add(id.asText()));
    return ids;
  }

  /** A line as {@code audit what-if --json} prints a changed verdict. */
  private static String row(String requestId, String recorded, String candidate) {
    return "{\"verdictId\":\"v-"
        + requestId
        + "\",\"requestId\":\""
        + requestId
        + "\",\"tenantId\":\"acme\",\"outcome\":\"CHANGED\",\"recorded\":\""
        + recorded
        + "\",\"candidate\":\""
        + candidate
        + "\",\"detail\":\"test\"}";
  }

  @SafeVarargs
  private void write(List<IncomingEvent>... stories) throws Exception {
    List<IncomingEvent> all = new ArrayList<>();
    for (List<IncomingEvent> story : stories) {
      all.addAll(story);
    }
    new AuditWriter(database.dataSource(), Clock.systemUTC()).write(all);
  }

  /** A request id two tenants each submitted and released under (each with its own ids). */
  private void sharedBy(String requestId, String... tenants) throws Exception {
    List<IncomingEvent> events = new ArrayList<>();
    for (String tenant : tenants) {
      events.add(
          incoming(
              Topics.GENERATION_REQUESTS.name(),
              request(
                  EventIds.nameBased("request", requestId, tenant),
                  requestId,
                  tenant,
                  T0.minusSeconds(5))));
      events.add(
          incoming(
              Topics.CONTENT_RELEASED.name(),
              ReleaseGateOutcome.newBuilder(
                      released(Scenario.of(requestId, tenant, Decision.RELEASE, T0), T0))
                  .setEventId(EventIds.nameBased("gate", requestId, tenant))
                  .setOutputId(EventIds.nameBased("output", requestId, tenant))
                  .setVerdictId(EventIds.nameBased("verdict", requestId, tenant))
                  .build()));
    }
    write(events);
  }

  /** A request and the gate's release of its output, decided at {@code at}. */
  private List<IncomingEvent> released(String requestId, String tenant, Instant at) {
    return List.of(
        incoming(Topics.GENERATION_REQUESTS.name(), request(requestId, tenant)),
        incoming(
            Topics.CONTENT_RELEASED.name(),
            released(Scenario.of(requestId, tenant, Decision.RELEASE, at), at)));
  }

  private static GenerationRequest request(String requestId, String tenant) {
    return request(EventIds.nameBased("request", requestId), requestId, tenant, T0.minusSeconds(5));
  }

  /** {@code tenant}'s request, submitted at {@code at} under the event id {@code eventId}. */
  private static GenerationRequest request(
      String eventId, String requestId, String tenant, Instant at) {
    return GenerationRequest.newBuilder(
            AuditEvents.request(Scenario.of(requestId, tenant, Decision.RELEASE, at)))
        .setEventId(eventId)
        .build();
  }

  /** The gate's release of the scenario's output on its RELEASE verdict, decided at {@code at}. */
  private static ReleaseGateOutcome released(Scenario s, Instant at) {
    return AuditEvents.gateOutcome(s, GateOutcome.RELEASED, GateBasis.VERDICT, null, at);
  }

  private IncomingEvent incoming(String topic, org.apache.avro.specific.SpecificRecord event) {
    return new IncomingEvent(topic, 0, offsets.incrementAndGet(), event);
  }

  private long count(String sql) throws Exception {
    return TestSql.count(database.dataSource(), sql);
  }
}
