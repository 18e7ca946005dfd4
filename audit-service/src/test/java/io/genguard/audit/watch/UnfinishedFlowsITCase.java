package io.genguard.audit.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.audit.ConflictException;
import io.genguard.audit.InvalidInputException;
import io.genguard.audit.NotFoundException;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.query.AuditQueries;
import io.genguard.audit.retention.Retention;
import io.genguard.audit.security.Caller;
import io.genguard.audit.security.Role;
import io.genguard.audit.watch.UnfinishedFlows.Deadlines;
import io.genguard.audit.watch.UnfinishedFlows.Found;
import io.genguard.audit.watch.UnfinishedFlows.Kind;
import io.genguard.audit.watch.UnfinishedFlows.State;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GateDecisionRestated;
import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.MovingClock;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The pipeline's promises checked from the audit store on real PostgreSQL: each request without an
 * answer and each output without a gate outcome is found once its deadline has passed, recorded
 * once in the chain, closed when its answer comes late, and dismissed only with a reason.
 */
class UnfinishedFlowsITCase {
  private static final Instant START = Instant.parse("2026-12-05T09:00:00Z");
  private static final Deadlines DEADLINES =
      new Deadlines(Duration.ofMinutes(15), Duration.ofMinutes(30));
  private static final Caller ADMIN = new Caller("admin01", "ada", Role.ADMIN, null);
  private static final ObjectMapper JSON = new ObjectMapper();

  private AuditDatabase database;
  private MovingClock clock;
  private AuditWriter writer;

  @BeforeEach
  void database(TestInfo test) throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    database =
        AuditDatabase.connect(
            infra.createDatabase("unfinished_", test), infra.jdbcUser(), infra.jdbcPassword(), 4);
    clock = new MovingClock(START);
    writer = new AuditWriter(database.dataSource(), clock);
  }

  @AfterEach
  void close() {
    database.close();
  }

  @Test
  void shouldRecordEachBrokenPromiseOnceAndCloseWhatIsAnsweredLate() throws Exception {
    Scenario done = Scenario.of("done", "acme", Decision.RELEASE, START);
    Scenario lost = Scenario.of("lost", "acme", Decision.RELEASE, START);
    Scenario failed = Scenario.of("failed", "globex", Decision.RELEASE, START);
    Scenario ungated = Scenario.of("ungated", "globex", Decision.REVIEW, START);
    Scenario late = Scenario.of("late", "acme", Decision.RELEASE, START);
    writer.write(AuditEvents.story(done));
    writer.write(
        List.of(
            request(lost),
            request(failed),
            AuditEvents.incoming(Topics.GENERATION_FAILURES.name(), failure(failed)),
            request(ungated),
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(ungated)),
            request(late)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);

    clock.advance(Duration.ofMinutes(14));
    UnfinishedFlows.Round early = flows.check();
    assertThat(early.found()).as("nothing is past its deadline yet").isEmpty();

    clock.advance(Duration.ofMinutes(2));
    UnfinishedFlows.Round afterAnswerDeadline = flows.check();
    assertThat(afterAnswerDeadline.found())
        .extracting(Found::kind, Found::requestId, Found::tenantId)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Kind.NO_ANSWER, "lost", "acme"),
            org.assertj.core.groups.Tuple.tuple(Kind.NO_ANSWER, "late", "acme"));
    assertThat(afterAnswerDeadline.checked().get(Kind.NO_ANSWER))
        .as("all five requests' records")
        .isGreaterThanOrEqualTo(5);

    // The late request's output and outcome come now, 17 minutes after its request.
    clock.advance(Duration.ofMinutes(1));
    writer.write(
        List.of(
            AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(late)),
            AuditEvents.incoming(Topics.CONTENT_RELEASED.name(), AuditEvents.gateOutcome(late))));

    clock.advance(Duration.ofMinutes(14));
    UnfinishedFlows.Round afterGateDeadline = flows.check();
    assertThat(afterGateDeadline.found())
        .as("the output the gate never decided; the late output has its outcome")
        .extracting(Found::kind, Found::requestId)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(Kind.NO_GATE_OUTCOME, "ungated"));
    assertThat(afterGateDeadline.answered()).as("the late request is closed").isEqualTo(1);

    clock.advance(Duration.ofHours(2));
    assertThat(flows.check().found()).as("nothing twice").isEmpty();
    assertThat(new UnfinishedFlows(database.dataSource(), clock, DEADLINES).check().found())
        .as("a restarted service goes on where the last round stopped")
        .isEmpty();
    assertThat(count("select count(*) from audit_log where event_type = 'FlowUnfinished'"))
        .isEqualTo(3);

    ObjectNode open = flows.list(null, null, State.OPEN, null, 100);
    assertThat(open.path("open").path("NO_ANSWER").asLong()).isEqualTo(1);
    assertThat(open.path("open").path("NO_GATE_OUTCOME").asLong()).isEqualTo(1);
    assertThat(open.path("items"))
        .extracting(item -> item.path("requestId").asText() + "/" + item.path("kind").asText())
        .containsExactlyInAnyOrder("lost/NO_ANSWER", "ungated/NO_GATE_OUTCOME");
    JsonNode answered = flows.list(null, null, State.ANSWERED, null, 100).path("items");
    assertThat(answered).hasSize(1);
    assertThat(answered.get(0).path("requestId").asText()).isEqualTo("late");
    assertThat(answered.get(0).path("state").asText()).isEqualTo("ANSWERED");
    assertThat(Instant.parse(answered.get(0).path("answeredAt").asText()))
        .isEqualTo(START.plus(Duration.ofMinutes(17)));
    assertThat(flows.list("globex", null, State.ALL, null, 100).path("items"))
        .as("one tenant's")
        .extracting(item -> item.path("requestId").asText())
        .containsExactly("ungated");
    assertThat(flows.list(null, Kind.NO_ANSWER, State.ALL, null, 100).path("items"))
        .extracting(item -> item.path("requestId").asText())
        .containsExactlyInAnyOrder("lost", "late");
    // A page at a time: both flows were recorded in one write, so their order rests on the seq.
    ObjectNode first = flows.list(null, null, State.OPEN, null, 1);
    assertThat(first.path("items")).hasSize(1);
    assertThat(first.path("nextCursor").isTextual()).isTrue();
    ObjectNode second =
        flows.list(
            null,
            null,
            State.OPEN,
            io.genguard.audit.query.Cursor.decode("cursor", first.path("nextCursor").asText()),
            1);
    assertThat(second.path("nextCursor").isNull()).as("the last page").isTrue();
    assertThat(List.of(first.path("items").get(0), second.path("items").get(0)))
        .as("the two pages are the one listing, in its order")
        .extracting(item -> item.path("eventId").asText())
        .containsExactlyElementsOf(open.path("items").findValuesAsText("eventId"));
    assertThat(second.path("open").path("NO_ANSWER").asLong())
        .as("every page counts all that are open")
        .isEqualTo(1);

    // In the chain, and in the request's own story.
    JsonNode story = new AuditQueries(database.dataSource()).story("lost").orElseThrow();
    assertThat(story.path("auditRecords"))
        .extracting(record -> record.path("eventType").asText())
        .containsExactly("GenerationRequest", "FlowUnfinished");
    assertThat(story.path("unfinished")).hasSize(1);
    assertThat(story.path("unfinished").get(0).path("kind").asText()).isEqualTo("NO_ANSWER");
    assertThat(story.path("unfinished").get(0).path("answeredAt").isNull()).isTrue();
    JsonNode lateStory = new AuditQueries(database.dataSource()).story("late").orElseThrow();
    assertThat(Instant.parse(lateStory.path("unfinished").get(0).path("answeredAt").asText()))
        .as("the request's own story says its answer came late")
        .isEqualTo(START.plus(Duration.ofMinutes(17)));
    JsonNode payload =
        JSON.readTree(
            text(
                "select payload from audit_log where event_type = 'FlowUnfinished'"
                    + " and request_id = 'lost'"));
    assertThat(payload.path("kind").asText()).isEqualTo("NO_ANSWER");
    assertThat(payload.path("deadlineSeconds").asLong()).isEqualTo(900);
    assertThat(payload.path("detail").asText())
        .contains("lost", "neither an output nor a failure within 15 minute(s)");
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldPlaceEachPageByTheFlowsBeforeItWhenSomeOfThemCloseMeanwhile() throws Exception {
    List<String> ids = List.of("lost-1", "lost-2", "lost-3");
    for (int i = 0; i < ids.size(); i++) {
      writer.write(
          List.of(
              request(Scenario.of(ids.get(i), "acme", Decision.RELEASE, START.plusSeconds(i)))));
    }
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(3);

    List<String> cursors = new ArrayList<>();
    io.genguard.audit.query.Cursor cursor = null;
    for (int page = 0; page < ids.size(); page++) {
      ObjectNode listed = flows.list(null, null, State.OPEN, cursor, 1);
      assertThat(listed.path("items").get(0).path("requestId").asText()).isEqualTo(ids.get(page));
      assertThat(listed.path("before").asLong()).as("page %d", page + 1).isEqualTo(page);
      String next = listed.path("nextCursor").asText(null);
      cursors.add(next);
      cursor = next == null ? null : io.genguard.audit.query.Cursor.decode("cursor", next);
    }
    assertThat(cursors.get(2)).as("the last page").isNull();

    // The oldest is dismissed while the third page is on screen: reloaded, that page is the same
    // flow, now the second of those open.
    flows.dismiss("lost-1", Kind.NO_ANSWER, "sent again by hand", ADMIN);
    ObjectNode reloaded =
        flows.list(
            null,
            null,
            State.OPEN,
            io.genguard.audit.query.Cursor.decode("cursor", cursors.get(1)),
            1);
    assertThat(reloaded.path("items").get(0).path("requestId").asText()).isEqualTo("lost-3");
    assertThat(reloaded.path("before").asLong()).isEqualTo(1);
    assertThat(
            flows
                .list(
                    null,
                    null,
                    State.ALL,
                    io.genguard.audit.query.Cursor.decode("cursor", cursors.get(1)),
                    1)
                .path("before")
                .asLong())
        .as("counted in the listing asked for: every state")
        .isEqualTo(2);
    assertThat(flows.list(null, null, State.OPEN, null, 1).path("before").asLong()).isZero();
  }

  @Test
  void shouldDismissAnOpenFlowOnlyWithAReasonAndAsAnAuditedAction() throws Exception {
    Scenario lost = Scenario.of("lost", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(lost)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(1);

    assertThatThrownBy(() -> flows.dismiss("lost", Kind.NO_ANSWER, "  ", ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("reason is required");
    assertThatThrownBy(() -> flows.dismiss("lost", Kind.NO_ANSWER, "x".repeat(1_001), ADMIN))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("at most 1000");
    assertThatThrownBy(() -> flows.dismiss("lost", Kind.NO_GATE_OUTCOME, "why", ADMIN))
        .as("no flow of that kind")
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(
            () ->
                flows.dismiss(
                    "lost",
                    Kind.NO_ANSWER,
                    "why",
                    new Caller("admin02", "globex admin", Role.ADMIN, "globex")))
        .as("another tenant's flow is not found")
        .isInstanceOf(NotFoundException.class);

    String actionId =
        flows.dismiss("lost", Kind.NO_ANSWER, " deleted by retention; sent again as r-2 ", ADMIN);

    assertThat(flows.list(null, null, State.OPEN, null, 10).path("open").path("NO_ANSWER").asLong())
        .isZero();
    JsonNode dismissed = flows.list(null, null, State.DISMISSED, null, 10).path("items").get(0);
    assertThat(dismissed.path("dismissAction").asText()).isEqualTo(actionId);
    assertThat(dismissed.path("dismissedBy").asText()).contains("ada");
    JsonNode details =
        JSON.readTree(
            text(
                "select details from api_action where action = 'unfinished.dismiss'"
                    + " and request_id = 'lost'"));
    assertThat(details.path("reason").asText())
        .isEqualTo("deleted by retention; sent again as r-2");
    assertThat(details.path("kind").asText()).isEqualTo("NO_ANSWER");
    assertThatThrownBy(() -> flows.dismiss("lost", Kind.NO_ANSWER, "again", ADMIN))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("dismissed");

    // An answer that comes after the dismissal leaves it dismissed.
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), output(lost))));
    assertThat(flows.check().answered()).isZero();
  }

  @Test
  void shouldDismissInBulkWhatAnOutageLostAsOneAuditedAction() throws Exception {
    for (int i = 0; i < 5; i++) {
      writer.write(List.of(request(Scenario.of("acme-" + i, "acme", Decision.RELEASE, START))));
    }
    for (int i = 0; i < 2; i++) {
      writer.write(List.of(request(Scenario.of("globex-" + i, "globex", Decision.RELEASE, START))));
    }
    clock.advance(Duration.ofMinutes(10));
    writer.write(List.of(request(Scenario.of("acme-later", "acme", Decision.RELEASE, START))));
    clock.advance(Duration.ofMinutes(30));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    assertThat(flows.check().found()).hasSize(8);

    UnfinishedFlows.Dismissed dismissed =
        flows.dismissAll(
            Kind.NO_ANSWER,
            "acme",
            START.plus(Duration.ofMinutes(5)),
            "lost to retention in the outage of the morning; sent again",
            ADMIN);

    assertThat(dismissed.flows()).isEqualTo(5);
    ObjectNode acme = flows.list("acme", null, State.OPEN, null, 10);
    assertThat(acme.path("items"))
        .as("recorded after the instant")
        .extracting(item -> item.path("requestId").asText())
        .containsExactly("acme-later");
    assertThat(flows.list("globex", null, State.OPEN, null, 10).path("items"))
        .as("another tenant's")
        .hasSize(2);
    assertThat(flows.list("acme", null, State.DISMISSED, null, 10).path("items"))
        .hasSize(5)
        .allSatisfy(
            item ->
                assertThat(item.path("dismissAction").asText()).isEqualTo(dismissed.actionId()));
    JsonNode details =
        JSON.readTree(
            text(
                "select details from api_action where action_id = '" + dismissed.actionId() + "'"));
    assertThat(details.path("flows").asInt()).isEqualTo(5);
    assertThat(details.path("recordedBefore").asText()).isEqualTo("2026-12-05T09:05:00Z");
    assertThat(
            flows.dismissAll(
                Kind.NO_ANSWER, "acme", START.plus(Duration.ofMinutes(5)), "again", ADMIN))
        .as("nothing left: nothing recorded")
        .isEqualTo(new UnfinishedFlows.Dismissed(0, null));
    assertThatThrownBy(
            () ->
                flows.dismissAll(Kind.NO_ANSWER, null, START.plus(Duration.ofHours(1)), "", ADMIN))
        .isInstanceOf(InvalidInputException.class);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * The forty-sixth session's review (finding 3): the resend was counted only after Kafka took the
   * record, so answers read meanwhile were alerted conflicts. The marker commits before the send.
   */
  @Test
  void shouldKeepAnAnswerGivenAgainWhileTheResendIsUnderWayAfterResend() throws Exception {
    Scenario late = Scenario.of("probe-late", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(late)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(1);
    GenerationOutput first = output(late);
    GenerationOutput again = GenerationOutput.newBuilder(first).setText("answered again").build();
    // Kafka took the request; the late first answer and the new one are read by the audit writer
    // before the resend's transaction (action, resent_count) commits.
    UnfinishedFlows.Resender answeredAtOnce = answeredWhileSending(new Sent(), first, again);
    long conflicts = writer.eventIdConflicts();
    flows.resend("probe-late", null, ADMIN, answeredAtOnce);
    assertThat(writer.eventIdConflictsAfterResend()).as("kept after_resend").isEqualTo(1);
    assertThat(writer.eventIdConflicts()).as("alerted conflicts").isEqualTo(conflicts);
  }

  /** In bulk, the marker commits per chunk, before its send, not with the action after the last. */
  @Test
  void shouldKeepAnAnswerGivenAgainWhileABulkResendIsUnderWayAfterResend() throws Exception {
    Scenario late = Scenario.of("bulk-late", "acme", Decision.RELEASE, START);
    Scenario lost = Scenario.of("bulk-lost", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(late), request(lost)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(2);
    GenerationOutput first = output(late);
    GenerationOutput again = GenerationOutput.newBuilder(first).setText("answered again").build();
    UnfinishedFlows.Resender answeredAtOnce = answeredWhileSending(new Sent(), first, again);
    long conflicts = writer.eventIdConflicts();
    assertThat(
            flows
                .resendAll(
                    Kind.NO_ANSWER,
                    "acme",
                    START.plus(Duration.ofHours(1)),
                    false,
                    ADMIN,
                    answeredAtOnce)
                .sent())
        .isEqualTo(2);
    assertThat(writer.eventIdConflictsAfterResend()).as("kept after_resend").isEqualTo(1);
    assertThat(writer.eventIdConflicts()).as("alerted conflicts").isEqualTo(conflicts);
  }

  /**
   * A resend Kafka refused takes its marker back: an answer given again later (the request was not
   * sent again, so another text under its output id is not explained by a resend) is alerted.
   */
  @Test
  void shouldAlertAConflictAfterAResendKafkaRefused() throws Exception {
    Scenario refused = Scenario.of("refused", "acme", Decision.RELEASE, START);
    Scenario bulk = Scenario.of("refused-bulk", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(refused), request(bulk)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(2);
    assertThatThrownBy(() -> flows.resend("refused", null, ADMIN, Sent.failingAfter(0)))
        .hasMessageContaining("Kafka did not accept");
    assertThatThrownBy(
            () ->
                flows.resendAll(
                    Kind.NO_ANSWER,
                    "acme",
                    START.plus(Duration.ofHours(1)),
                    false,
                    ADMIN,
                    Sent.failingAfter(0)))
        .isInstanceOf(UnfinishedFlows.PartlySentException.class);
    assertThat(count("select count(*) from unfinished_flow where resend_started_at is not null"))
        .as("no marker left")
        .isZero();
    long conflicts = writer.eventIdConflicts();
    answerTwice(refused);
    answerTwice(bulk);
    assertThat(writer.eventIdConflicts()).isEqualTo(conflicts + 2);
    assertThat(writer.eventIdConflictsAfterResend()).isZero();
  }

  /**
   * The forty-seventh session's review (finding 4): a resend whose record Kafka took, but whose
   * action and count then failed to commit (a statement timeout, a lost connection), took its
   * marker back as if nothing was sent, so the answer to that send was an alerted conflict: the
   * critical GenGuardEventIdConflict for an operator's own resend. The marker stays, as a bulk
   * resend's does when its record fails.
   */
  @Test
  void shouldKeepTheMarkerOfAResendKafkaTookButThatWasNotRecorded() throws Exception {
    Scenario single = Scenario.of("unrecorded", "acme", Decision.RELEASE, START);
    Scenario bulk = Scenario.of("unrecorded-bulk", "globex", Decision.RELEASE, START);
    writer.write(List.of(request(single), request(bulk)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(2);
    // Recording a send fails once Kafka has taken it.
    execute(
        "create function fail_resend_record() returns trigger language plpgsql as $$ begin"
            + " raise exception 'recording the resend made to fail'; end $$");
    execute(
        "create trigger fail_resend_record before insert on unfinished_flow_resend"
            + " for each statement execute function fail_resend_record()");
    Sent sent = new Sent();

    assertThatThrownBy(() -> flows.resend("unrecorded", null, ADMIN, sent))
        .hasMessageContaining("made to fail");
    assertThatThrownBy(
            () ->
                flows.resendAll(
                    Kind.NO_ANSWER, "globex", START.plus(Duration.ofHours(1)), false, ADMIN, sent))
        .hasMessageContaining("made to fail");

    assertThat(sent.requests).as("taken by Kafka").hasSize(2);
    assertThat(
            count(
                "select count(*) from unfinished_flow where resend_started_at is not null"
                    + " and resent_count = 0"))
        .as("sent but not recorded: the markers stay")
        .isEqualTo(2);
    long conflicts = writer.eventIdConflicts();
    answerTwice(single);
    answerTwice(bulk);
    assertThat(writer.eventIdConflicts()).as("alerted conflicts").isEqualTo(conflicts);
    assertThat(writer.eventIdConflictsAfterResend()).isEqualTo(2);
  }

  /**
   * The forty-seventh session's reports: a single resend whose record Kafka took, but whose action
   * and count were lost with its transaction (here its database connection is ended once the send
   * is done), stayed unrecorded, so a repeated call sent it again. It is recorded in a transaction
   * of its own, as a bulk resend records what its earlier chunks sent, and the call succeeds.
   */
  @Test
  void shouldRecordASingleResendKafkaTookWhenItsTransactionIsLost() throws Exception {
    Scenario single = Scenario.of("connection-lost", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(single)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(1);
    Sent sent = new Sent();
    // Kafka takes the record; then the resend's own connection, idle in its transaction while it
    // sends, is ended by an administrator.
    UnfinishedFlows.Resender connectionLost =
        records -> {
          UnfinishedFlows.Resender.Batch batch = sent.sendAll(records);
          try {
            assertThat(
                    count(
                        "select count(*) from (select pg_terminate_backend(pid) from"
                            + " pg_stat_activity where datname = current_database()"
                            + " and pid <> pg_backend_pid() and state = 'idle in transaction') t"))
                .as("the resend's connection ended")
                .isOne();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return batch;
        };

    UnfinishedFlows.Resent resent = flows.resend("connection-lost", null, ADMIN, connectionLost);

    assertThat(sent.requests).as("taken by Kafka").hasSize(1);
    assertThat(resent.actionId()).isNotNull();
    assertThat(
            count(
                "select count(*) from unfinished_flow where request_id = 'connection-lost'"
                    + " and resent_count = 1 and resend_action = '"
                    + resent.actionId()
                    + "'"))
        .as("the send counted, with its action")
        .isOne();
    JsonNode details =
        JSON.readTree(text("select details from api_action where action = 'unfinished.resend'"));
    assertThat(details.path("recordedAfter").asText()).contains("SQLException");
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * The forty-eighth session's second review: a resend whose transaction was lost after Kafka took
   * its record looked for "a send of the flow counted since it began", and so took another caller's
   * resend of the same flow, committed meanwhile, for its own: its send was never counted nor
   * recorded, and it answered the other caller's action id. Here the other caller's resend waits on
   * this one's erasure lock and goes through once this one's connection is ended.
   */
  @Test
  void shouldNotTakeAnotherCallersResendForOneWhoseTransactionIsLost() throws Exception {
    Scenario single = Scenario.of("raced-resend", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(single)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(1);
    Sent sent = new Sent();
    List<UnfinishedFlows.Resent> others = new ArrayList<>();
    ExecutorService other = Executors.newSingleThreadExecutor();
    // Kafka takes the record; another caller's resend of the flow then waits on this one's lock,
    // this one's connection (idle in its transaction while it sends) is ended, and the other's
    // resend sends and commits before this one records its own.
    UnfinishedFlows.Resender racedThenLost =
        records -> {
          UnfinishedFlows.Resender.Batch batch = sent.sendAll(records);
          try {
            Future<UnfinishedFlows.Resent> second =
                other.submit(() -> flows.resend("raced-resend", null, ADMIN, sent));
            String waiting =
                "select count(*) from pg_stat_activity where datname = current_database()"
                    + " and wait_event_type = 'Lock'";
            for (int i = 0; i < 300 && count(waiting) == 0; i++) {
              Thread.sleep(100);
            }
            assertThat(count(waiting)).as("the other resend waits on this one's lock").isOne();
            assertThat(
                    count(
                        "select count(*) from (select pg_terminate_backend(pid) from"
                            + " pg_stat_activity where datname = current_database()"
                            + " and pid <> pg_backend_pid() and state = 'idle in transaction') t"))
                .as("this resend's connection ended")
                .isOne();
            others.add(second.get(30, TimeUnit.SECONDS));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return batch;
        };

    UnfinishedFlows.Resent resent;
    try {
      resent = flows.resend("raced-resend", null, ADMIN, racedThenLost);
    } finally {
      other.shutdownNow();
    }

    assertThat(sent.requests).as("taken by Kafka, twice").hasSize(2);
    assertThat(others).hasSize(1);
    assertThat(resent.actionId()).as("its own action").isNotEqualTo(others.get(0).actionId());
    assertThat(
            count(
                "select count(*) from unfinished_flow where request_id = 'raced-resend'"
                    + " and resent_count = 2"))
        .as("both sends counted")
        .isOne();
    assertThat(
            count(
                "select count(*) from unfinished_flow_resend where action_id in ('"
                    + resent.actionId()
                    + "', '"
                    + others.get(0).actionId()
                    + "')"))
        .isEqualTo(2);
    assertThat(
            count(
                "select count(*) from api_action where action = 'unfinished.resend'"
                    + " and action_id = '"
                    + resent.actionId()
                    + "' and details ->> 'recordedAfter' is not null"))
        .as("this send's action, recorded after the failure")
        .isOne();
    assertThat(count("select count(*) from api_action where action = 'unfinished.resend'"))
        .isEqualTo(2);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * The forty-sixth session's report: a bulk resend recorded its action and counts after the last
   * chunk, so a later chunk that failed with an exception (not a refusal by Kafka) left the flows
   * the earlier chunks sent unrecorded (no action, resent_count 0), and a repeated call sent them
   * again. What was sent is recorded, and the failure still thrown.
   */
  @Test
  void shouldRecordWhatEarlierChunksSentWhenALaterChunkFails() throws Exception {
    List<io.genguard.audit.persistence.IncomingEvent> requests = new ArrayList<>();
    for (int i = 0; i < 501; i++) {
      requests.add(request(Scenario.of("chunked-" + i, "acme", Decision.RELEASE, START)));
    }
    writer.write(requests);
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(501);
    // The second chunk's marker fails (the first chunk's 500 markers are committed by then).
    execute(
        "create function fail_second_chunk() returns trigger language plpgsql as $$ begin"
            + " if exists (select 1 from unfinished_flow where resend_started_at is not null)"
            + " then raise exception 'the second chunk made to fail'; end if; return null; end $$");
    execute(
        "create trigger fail_second_chunk before update of resend_started_at on unfinished_flow"
            + " for each statement execute function fail_second_chunk()");
    Sent sent = new Sent();
    Instant before = START.plus(Duration.ofHours(1));

    assertThatThrownBy(() -> flows.resendAll(Kind.NO_ANSWER, "acme", before, false, ADMIN, sent))
        .hasMessageContaining("made to fail");

    assertThat(sent.requests).as("taken by Kafka").hasSize(500);
    assertThat(count("select count(*) from unfinished_flow where resent_count = 1"))
        .as("the first chunk's sends counted")
        .isEqualTo(500);
    JsonNode details =
        JSON.readTree(text("select details from api_action where action = 'unfinished.resend'"));
    assertThat(details.path("flows").asInt()).isEqualTo(500);
    assertThat(details.path("stoppedBecause").asText()).contains("SQLException");
    execute("drop trigger fail_second_chunk on unfinished_flow");
    UnfinishedFlows.Resends again =
        flows.resendAll(Kind.NO_ANSWER, "acme", before, false, ADMIN, sent);
    assertThat(again.sent()).as("only the rest sent").isEqualTo(1);
    assertThat(again.sentBefore()).isEqualTo(500);
    assertThat(sent.requests).hasSize(501);
  }

  /**
   * The forty-sixth session's report: a completed resend quieted conflicts on its request's records
   * with no time limit. An answer read more than {@link AuditWriter#RESEND_UNDER_WAY} after the
   * request's last send is not explained by it and is alerted again.
   */
  @Test
  void shouldAlertAnAnswerReadLongAfterTheLastResendOfItsRequest() throws Exception {
    Scenario soon = Scenario.of("answered-soon", "acme", Decision.RELEASE, START);
    Scenario late = Scenario.of("answered-late", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(soon), request(late)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(2);
    flows.resend("answered-soon", null, ADMIN, new Sent());
    flows.resend("answered-late", null, ADMIN, new Sent());
    long conflicts = writer.eventIdConflicts();

    clock.advance(AuditWriter.RESEND_UNDER_WAY.minusMinutes(1));
    answerTwice(soon);
    assertThat(writer.eventIdConflictsAfterResend()).as("within the hour").isEqualTo(1);
    clock.advance(Duration.ofMinutes(2));
    answerTwice(late);

    assertThat(writer.eventIdConflictsAfterResend()).isEqualTo(1);
    assertThat(writer.eventIdConflicts()).as("alerted conflicts").isEqualTo(conflicts + 1);
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'answered-late'"
                    + " and not after_resend"))
        .isEqualTo(1);
  }

  /** The scenario's output, then another text under its id (an answer given again). */
  private void answerTwice(Scenario s) throws Exception {
    GenerationOutput first = output(s);
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), first)));
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(),
                GenerationOutput.newBuilder(first).setText("answered again").build())));
  }

  @Test
  void shouldSendAnUnansweredRequestAgainExactlyAsItWasRecorded() throws Exception {
    Scenario lost = Scenario.of("lost", "acme", Decision.RELEASE, START);
    Scenario erased = Scenario.of("erased", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(lost), request(erased)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(2);

    assertThatThrownBy(() -> flows.resend("lost", null, ADMIN, Sent.failingAfter(0)))
        .hasMessageContaining("Kafka did not accept");
    assertThat(count("select count(*) from api_action where action = 'unfinished.resend'"))
        .as("no action claims a send that did not happen")
        .isZero();

    Sent sent = new Sent();
    UnfinishedFlows.Resent resent = flows.resend("lost", null, ADMIN, sent);
    assertThat(sent.requests).containsExactly(AuditEvents.request(lost));
    assertThat(sent.outputs).isEmpty();
    assertThat(resent.kind()).isEqualTo(Kind.NO_ANSWER);
    assertThat(resent.eventId()).isEqualTo(AuditEvents.request(lost).getEventId());
    assertThat(
            text(
                "select action || ' ' || request_id || ' ' || (details ->> 'kind')"
                    + " from api_action where action_id = '"
                    + resent.actionId()
                    + "'"))
        .isEqualTo("unfinished.resend lost NO_ANSWER");
    assertThatThrownBy(() -> flows.resend("lost", Kind.NO_GATE_OUTCOME, ADMIN, sent))
        .as("the request has no flow of that kind")
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("of kind NO_GATE_OUTCOME");

    // Its answer comes: the flow closes, and there is nothing to send any more.
    writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), output(lost))));
    assertThat(flows.check().answered()).isEqualTo(1);
    assertThatThrownBy(() -> flows.resend("lost", null, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("answered");

    new Retention(database.dataSource(), clock, 0).erase("erased", "DSR-7", ADMIN);
    assertThatThrownBy(() -> flows.resend("erased", Kind.NO_ANSWER, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("content was removed");
    assertThatThrownBy(() -> flows.resend("nobody", null, ADMIN, sent))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(
            () ->
                flows.resend(
                    "lost", null, new Caller("g", "globex admin", Role.ADMIN, "globex"), sent))
        .isInstanceOf(NotFoundException.class);
    assertThat(sent.requests).hasSize(1);
  }

  @Test
  void shouldSendAnOutputWithoutGateOutcomeAgainWhileTheGateRemembersItsDecisions()
      throws Exception {
    Scenario ungated = Scenario.of("ungated", "acme", Decision.RELEASE, START);
    Scenario old = Scenario.of("old", "acme", Decision.RELEASE, START);
    Scenario erased = Scenario.of("erased", "acme", Decision.RELEASE, START);
    for (Scenario s : List.of(ungated, old, erased)) {
      writer.write(
          List.of(
              request(s),
              AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(s))));
    }
    // A gate that remembers its decisions for 2 hours.
    UnfinishedFlows flows =
        new UnfinishedFlows(database.dataSource(), clock, DEADLINES, Duration.ofHours(2));
    clock.advance(Duration.ofMinutes(31));
    assertThat(flows.check().found())
        .extracting(Found::kind)
        .containsOnly(Kind.NO_GATE_OUTCOME)
        .hasSize(3);

    Sent sent = new Sent();
    UnfinishedFlows.Resent resent = flows.resend("ungated", null, ADMIN, sent);
    assertThat(resent.kind()).isEqualTo(Kind.NO_GATE_OUTCOME);
    assertThat(sent.outputs)
        .as("the output exactly as recorded: same event id, output id, text and manifest")
        .containsExactly(AuditEvents.output(ungated));
    assertThat(sent.requests).isEmpty();
    assertThat(resent.eventId()).isEqualTo(AuditEvents.output(ungated).getEventId());
    assertThat(
            text(
                "select (details ->> 'kind') || ' ' || target from api_action"
                    + " where action_id = '"
                    + resent.actionId()
                    + "'"))
        .isEqualTo("NO_GATE_OUTCOME " + resent.eventId());

    // The gate decides it: the flow closes as answered late.
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.CONTENT_RELEASED.name(), AuditEvents.gateOutcome(ungated))));
    assertThat(flows.check().answered()).isEqualTo(1);
    assertThatThrownBy(() -> flows.resend("ungated", Kind.NO_GATE_OUTCOME, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("NO_GATE_OUTCOME flow answered");

    new Retention(database.dataSource(), clock, 0).erase("erased", "DSR-8", ADMIN);
    assertThatThrownBy(() -> flows.resend("erased", null, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("output's content was removed");

    // 2 hours after it was generated, less the margin for clocks, the gate may have forgotten
    // that it decided it: sending it again could release it twice.
    clock.advance(Duration.ofMinutes(85));
    assertThatThrownBy(() -> flows.resend("old", null, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("GENGUARD_GATE_DECISION_RETENTION_HOURS=2")
        .hasMessageContaining("dismiss the flow instead");
    assertThat(
            flows.resendAll(
                Kind.NO_GATE_OUTCOME, null, START.plus(Duration.ofDays(1)), false, ADMIN, sent))
        .as("in bulk too: nothing sent, the old output and the erased one skipped")
        .isEqualTo(new UnfinishedFlows.Resends(0, 1, 0, 0, 1, null));
    assertThat(sent.outputs).hasSize(1);
    assertThat(
            count(
                "select count(*) from api_action where action = 'unfinished.resend'"
                    + " and (request_id is null or request_id <> 'ungated')"))
        .isZero();
  }

  @Test
  void shouldCloseAFlowWithTheGatesRestatementOfADecisionWhoseOutcomeWasLost() throws Exception {
    Scenario lostOutcome = Scenario.of("lost-outcome", "acme", Decision.RELEASE, START);
    writer.write(
        List.of(
            request(lostOutcome),
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(lostOutcome))));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(31));
    assertThat(flows.check().found()).extracting(Found::requestId).containsExactly("lost-outcome");

    // Sent again, the output reaches a gate that released it already: it restates the decision.
    GateDecisionRestated restated =
        AuditEvents.restatedRelease(lostOutcome, START.plusSeconds(2), clock.instant(), null, null);
    writer.write(List.of(AuditEvents.incoming(Topics.GATE_RESTATEMENTS.name(), restated)));
    writer.write(List.of(AuditEvents.incoming(Topics.GATE_RESTATEMENTS.name(), restated)));

    assertThat(flows.check().answered()).as("the restatement answers the flow").isEqualTo(1);
    JsonNode story = new AuditQueries(database.dataSource()).story("lost-outcome").orElseThrow();
    assertThat(story.path("gateRestatements")).as("recorded once").hasSize(1);
    assertThat(story.path("gateRestatements").get(0).path("decision").asText())
        .isEqualTo("RELEASED");
    assertThat(story.path("gateRestatements").get(0).path("decidedAt").asText())
        .isEqualTo(START.plusSeconds(2).toString());
    assertThat(story.path("gateOutcomes")).isEmpty();
    assertThat(story.path("status").asText()).isEqualTo("RELEASED");
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  @Test
  void shouldSendEveryOpenFlowOfAKindAgainInBulkAndSkipWhatWasSentOrRemoved() throws Exception {
    List<Scenario> acme = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      acme.add(Scenario.of("a" + i, "acme", Decision.RELEASE, START.plusSeconds(i)));
    }
    Scenario globex = Scenario.of("g1", "globex", Decision.RELEASE, START);
    for (Scenario s : acme) {
      writer.write(List.of(request(s)));
      clock.advance(Duration.ofSeconds(1));
    }
    writer.write(List.of(request(globex)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(20));
    assertThat(flows.check().found()).hasSize(5);
    flows.resend("a2", null, ADMIN, new Sent());
    new Retention(database.dataSource(), clock, 0).erase("a3", "DSR-9", ADMIN);
    Instant before = START.plus(Duration.ofHours(1));

    // Kafka takes one and then nothing: the one sent is recorded, the rest are not sent.
    Sent once = Sent.failingAfter(1);
    assertThatThrownBy(() -> flows.resendAll(Kind.NO_ANSWER, "acme", before, false, ADMIN, once))
        .isInstanceOf(UnfinishedFlows.PartlySentException.class)
        .hasMessageContaining("with 1 of 3 flows sent")
        .hasMessageContaining("Kafka did not accept");
    assertThat(once.requests).containsExactly(AuditEvents.request(acme.get(0)));
    assertThat(
            text(
                "select (details ->> 'flows') || ' ' || (details ->> 'stoppedBecause')"
                    + " from api_action where action = 'unfinished.resend' and request_id is null"))
        .isEqualTo("1 Kafka did not accept the event");

    // Again: what was sent (a1 now, a2 on its own before) is skipped, a3's content is gone.
    Sent sent = new Sent();
    UnfinishedFlows.Resends rest =
        flows.resendAll(Kind.NO_ANSWER, "acme", before, false, ADMIN, sent);
    assertThat(sent.requests).containsExactly(AuditEvents.request(acme.get(3)));
    assertThat(rest)
        .extracting(
            UnfinishedFlows.Resends::sent,
            UnfinishedFlows.Resends::contentRemoved,
            UnfinishedFlows.Resends::sentBefore)
        .containsExactly(1, 1, 2);
    ObjectNode listed = flows.list("acme", Kind.NO_ANSWER, State.OPEN, null, 10);
    assertThat(listed.path("items"))
        .extracting(
            item -> item.path("requestId").asText() + "=" + item.path("resentCount").asInt())
        .containsExactly("a1=1", "a2=1", "a3=0", "a4=1");
    assertThat(listed.path("items").get(3).path("resendAction").asText())
        .isEqualTo(rest.actionId());
    JsonNode story = new AuditQueries(database.dataSource()).story("a4").orElseThrow();
    assertThat(story.path("unfinished").get(0).path("resentCount").asInt()).isEqualTo(1);
    assertThat(story.path("unfinished").get(0).path("resendAction").asText())
        .as("the request's story leads to the bulk action that sent it")
        .isEqualTo(rest.actionId());

    // Asked to, it sends those sent before too, oldest first; other tenants' flows stay.
    Sent all = new Sent();
    assertThat(flows.resendAll(Kind.NO_ANSWER, "acme", before, true, ADMIN, all).sent())
        .isEqualTo(3);
    assertThat(all.requests)
        .extracting(GenerationRequest::getRequestId)
        .containsExactly("a1", "a2", "a4");
    assertThat(flows.resendAll(Kind.NO_ANSWER, null, START, true, ADMIN, all).actionId())
        .as("nothing recorded before the instant: nothing sent, nothing recorded")
        .isNull();
    assertThat(count("select count(*) from api_action where action = 'unfinished.resend'"))
        .as("a2 alone, the partial bulk, the rest, all again")
        .isEqualTo(4);
    assertThat(
            count(
                "select count(*) from unfinished_flow_resend r join unfinished_flow f"
                    + " on f.event_id = r.flow_event_id where f.request_id in ('a1', 'a2', 'a4')"))
        .as("each send of each flow, by its action: a1 partial, a2 alone, a4 the rest; all again")
        .isEqualTo(6);
    assertThat(
            new AuditQueries(database.dataSource())
                .story("a4")
                .orElseThrow()
                .path("unfinished")
                .get(0)
                .path("resendActions"))
        .as("the story names every action that sent it, oldest first")
        .hasSize(2)
        .first()
        .extracting(JsonNode::asText)
        .isEqualTo(rest.actionId());
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * Review finding (fifty-second session's review of the fifty-first session): since V39 an erasure
   * is noted per tenant scope, and the review outbox reads the scopes (ERASURE_SCOPES), but a flow
   * still counts as erased when any note of its request id exists: a data subject erasure of beta's
   * records under an id acme uses too makes acme's own unanswered request, whose content is still
   * there, impossible to resend (409 "was erased"; a bulk resend skips it as erased). Failed (409)
   * until UnfinishedFlows.ERASED matched the note's tenant. acme's own note still refuses it.
   */
  @Test
  void reviewAnotherTenantsFlowIsNotErasedByASubjectErasureOfTheOther() throws Exception {
    Scenario acme = Scenario.of("shared-flow", "acme", Decision.RELEASE, START);
    Scenario beta = Scenario.of("shared-flow", "beta", Decision.RELEASE, START);
    writer.write(
        List.of(
            request(acme),
            AuditEvents.incoming(
                Topics.GENERATION_REQUESTS.name(),
                GenerationRequest.newBuilder(AuditEvents.request(beta))
                    .setEventId("beta-shared-flow-request")
                    .build())));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(31));
    assertThat(flows.check().found()).extracting(Found::tenantId).containsExactly("acme");
    // What a data subject erasure of beta's records under the id notes (one note per tenant
    // scope since V39): beta's follow-ups only.
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "insert into request_erasure (request_id, tenant_id, erased_at)"
              + " values ('shared-flow', 'beta', now())");
    }
    Sent sent = new Sent();
    flows.resend("shared-flow", Kind.NO_ANSWER, ADMIN, sent);
    assertThat(sent.requests).extracting(GenerationRequest::getTenantId).containsExactly("acme");

    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "insert into request_erasure (request_id, tenant_id, erased_at)"
              + " values ('shared-flow', 'acme', now())");
    }
    assertThatThrownBy(() -> flows.resend("shared-flow", Kind.NO_ANSWER, ADMIN, new Sent()))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("was erased");
  }

  @Test
  void shouldNeverSendAgainWhatAnErasureRemovedEvenWhenTheErasureRacesTheSend() throws Exception {
    Scenario racing = Scenario.of("racing", "acme", Decision.RELEASE, START);
    Scenario racingBulk = Scenario.of("racing-bulk", "acme", Decision.RELEASE, START);
    Scenario lateOutput = Scenario.of("late-output", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(racing), request(racingBulk), request(lateOutput)));
    Retention retention = new Retention(database.dataSource(), clock, 0);
    // Erased while its output was on its way: the output arrives after the erasure, and keeps its
    // content until the erasure's follow-up.
    retention.erase("late-output", "DSR-10", ADMIN);
    writer.write(
        List.of(
            AuditEvents.incoming(
                Topics.GENERATION_OUTPUTS.name(), AuditEvents.output(lateOutput))));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(31));
    assertThat(flows.check().found())
        .extracting(f -> f.requestId() + " " + f.kind())
        .containsExactlyInAnyOrder(
            "racing NO_ANSWER", "racing-bulk NO_ANSWER", "late-output NO_GATE_OUTCOME");

    Sent sent = new Sent();
    assertThatThrownBy(() -> flows.resend("late-output", null, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("was erased")
        .hasMessageContaining("dismiss the flow instead");
    assertThat(flows.resendAll(Kind.NO_GATE_OUTCOME, "acme", clock.instant(), false, ADMIN, sent))
        .as("in bulk: skipped and counted as erased")
        .isEqualTo(new UnfinishedFlows.Resends(0, 0, 1, 0, 0, null));
    assertThat(sent.outputs).isEmpty();

    // An erasure that comes while the record is being sent waits until Kafka took it (and the
    // send is recorded): it cannot slip in between the read and the send.
    ExecutorService erasing = Executors.newSingleThreadExecutor();
    try {
      List<Boolean> erasedWhileSending = new ArrayList<>();
      List<Future<Retention.Erased>> erasures = new ArrayList<>();
      UnfinishedFlows.Resender erasedMeanwhile =
          records -> {
            Future<Retention.Erased> erasure =
                erasing.submit(() -> retention.erase(requestIdOf(records.get(0)), "DSR-11", ADMIN));
            erasures.add(erasure);
            try {
              erasure.get(2, TimeUnit.SECONDS);
              erasedWhileSending.add(true);
            } catch (TimeoutException e) {
              erasedWhileSending.add(false);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            return sent.sendAll(records);
          };
      flows.resend("racing", null, ADMIN, erasedMeanwhile);
      UnfinishedFlows.Resends bulk =
          flows.resendAll(Kind.NO_ANSWER, "acme", clock.instant(), false, ADMIN, erasedMeanwhile);

      assertThat(erasedWhileSending)
          .as("neither erasure finished during its send")
          .containsExactly(false, false);
      for (Future<Retention.Erased> erasure : erasures) {
        assertThat(erasure.get(30, TimeUnit.SECONDS).tombstoned()).isPositive();
      }
      assertThat(sent.requests)
          .extracting(GenerationRequest::getRequestId)
          .containsExactly("racing", "racing-bulk");
      assertThat(bulk)
          .as("racing-bulk sent, racing sent before")
          .isEqualTo(new UnfinishedFlows.Resends(1, 0, 0, 1, 0, bulk.actionId()));
    } finally {
      erasing.shutdownNow();
    }
    // Once erased, nothing is sent again.
    assertThatThrownBy(() -> flows.resend("racing-bulk", null, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("was removed");
    assertThat(flows.resendAll(Kind.NO_ANSWER, "acme", clock.instant(), true, ADMIN, sent).sent())
        .isZero();
    assertThat(sent.requests).hasSize(2);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /**
   * Retention, like an erasure, is ordered with a resend by the request's erasure lock: a batch
   * that comes while a record is being sent leaves that request's records (without waiting for the
   * send, as it holds the chain lock) and takes the rest; its next run takes them, and a resend
   * after that finds nothing to send.
   */
  @Test
  void shouldLetRetentionLeaveARequestBeingResentUntilItsNextRun() throws Exception {
    Scenario sending = Scenario.of("sending", "initech", Decision.RELEASE, START);
    Scenario idle = Scenario.of("idle", "initech", Decision.RELEASE, START);
    writer.write(List.of(request(sending), request(idle)));
    UnfinishedFlows flows = new UnfinishedFlows(database.dataSource(), clock, DEADLINES);
    clock.advance(Duration.ofMinutes(31));
    assertThat(flows.check().found())
        .extracting(f -> f.requestId() + " " + f.kind())
        .containsExactlyInAnyOrder("sending NO_ANSWER", "idle NO_ANSWER");
    Retention retention = new Retention(database.dataSource(), clock, 0);
    retention.set("initech", 1, ADMIN);
    clock.advance(Duration.ofDays(2));

    Sent sent = new Sent();
    ExecutorService retaining = Executors.newSingleThreadExecutor();
    List<List<Retention.Applied>> duringTheSend = new ArrayList<>();
    List<Long> contentRemovedDuringTheSend = new ArrayList<>();
    try {
      UnfinishedFlows.Resender retainedMeanwhile =
          records -> {
            try {
              duringTheSend.add(
                  retaining.submit(() -> retention.apply(ADMIN)).get(30, TimeUnit.SECONDS));
              contentRemovedDuringTheSend.add(removedRequestRecords("sending"));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            return sent.sendAll(records);
          };
      flows.resend("sending", null, ADMIN, retainedMeanwhile);
    } finally {
      retaining.shutdownNow();
    }
    assertThat(sent.requests)
        .extracting(GenerationRequest::getRequestId)
        .containsExactly("sending");
    assertThat(duringTheSend.get(0))
        .as("the run during the send did not wait for it, and took the other request")
        .isNotEmpty();
    assertThat(removedRequestRecords("idle")).isEqualTo(1);
    assertThat(contentRemovedDuringTheSend)
        .as("the request being sent kept its content while it was sent")
        .containsExactly(0L);
    assertThat(removedRequestRecords("sending")).isZero();

    // The next run takes it, and nothing is sent again.
    assertThat(retention.apply(ADMIN)).isNotEmpty();
    assertThat(removedRequestRecords("sending")).isEqualTo(1);
    assertThatThrownBy(() -> flows.resend("sending", null, ADMIN, sent))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("was removed");
    assertThat(sent.requests).hasSize(1);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  /** The request's records an unfinished flow of it would send again whose content was removed. */
  private long removedRequestRecords(String requestId) throws SQLException {
    return count(
        "select count(*) from audit_log a join unfinished_flow f on f.record_seq = a.seq"
            + " where f.request_id = '"
            + requestId
            + "' and a.payload is null");
  }

  private static String requestIdOf(SpecificRecord record) {
    return record instanceof GenerationRequest request
        ? request.getRequestId()
        : ((GenerationOutput) record).getRequestId();
  }

  /**
   * What a resend sent, one record at a time, or a Kafka that stops taking them after some (and
   * then nothing after the first it refused is sent).
   */
  private static final class Sent implements UnfinishedFlows.Resender {
    final List<GenerationRequest> requests = new ArrayList<>();
    final List<GenerationOutput> outputs = new ArrayList<>();
    private int takes = Integer.MAX_VALUE;

    /** Takes {@code n} events, then refuses every one. */
    static Sent failingAfter(int n) {
      Sent sent = new Sent();
      sent.takes = n;
      return sent;
    }

    @Override
    public Batch sendAll(List<SpecificRecord> records) {
      boolean[] taken = new boolean[records.size()];
      for (int i = 0; i < records.size(); i++) {
        if (takes-- <= 0) {
          return new Batch(taken, new IllegalStateException("Kafka did not accept the event"));
        }
        if (records.get(i) instanceof GenerationRequest request) {
          requests.add(request);
        } else {
          outputs.add((GenerationOutput) records.get(i));
        }
        taken[i] = true;
      }
      return new Batch(taken, null);
    }
  }

  @Test
  void shouldCheckInBatchesAndStopAtTheFirstRecordNotYetDue() throws Exception {
    List<String> lostIds = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      Scenario s = Scenario.of("lost-" + i, "acme", Decision.RELEASE, clock.instant());
      writer.write(List.of(request(s)));
      lostIds.add(s.requestId());
      clock.advance(Duration.ofMinutes(1));
    }
    // Batches of 2 records: the seven requests take four batches of one round.
    UnfinishedFlows flows =
        new UnfinishedFlows(database.dataSource(), clock, DEADLINES, Duration.ofDays(7), 2);

    clock.set(START.plus(Duration.ofMinutes(18)).plusSeconds(30));
    assertThat(flows.check().found())
        .as("requests recorded at minutes 0 to 3 are due, the rest not yet")
        .extracting(Found::requestId)
        .containsExactlyElementsOf(lostIds.subList(0, 4));

    clock.set(START.plus(Duration.ofHours(1)));
    assertThat(flows.check().found())
        .extracting(Found::requestId)
        .containsExactlyElementsOf(lostIds.subList(4, 7));
  }

  @Test
  void shouldNotCheckAKindWhoseDeadlineIsZero() throws Exception {
    Scenario before = Scenario.of("while-off", "acme", Decision.RELEASE, START);
    writer.write(List.of(request(before)));
    clock.advance(Duration.ofMinutes(20));
    UnfinishedFlows off =
        new UnfinishedFlows(
            database.dataSource(), clock, new Deadlines(Duration.ZERO, Duration.ofMinutes(30)));
    assertThat(off.check().found()).isEmpty();

    Scenario after = Scenario.of("after", "acme", Decision.RELEASE, clock.instant());
    writer.write(List.of(request(after)));
    clock.advance(Duration.ofMinutes(20));
    assertThat(new UnfinishedFlows(database.dataSource(), clock, DEADLINES).check().found())
        .as("turned on again, it checks what comes from then on")
        .extracting(Found::requestId)
        .containsExactly("after");
  }

  @Test
  void shouldRecordEachFlowOnceWhenTwoServicesCheckAtOnce() throws Exception {
    for (int i = 0; i < 40; i++) {
      writer.write(List.of(request(Scenario.of("r-" + i, "acme", Decision.RELEASE, START))));
    }
    clock.advance(Duration.ofMinutes(20));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Callable<Integer>> services = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        UnfinishedFlows flows =
            new UnfinishedFlows(database.dataSource(), clock, DEADLINES, Duration.ofDays(7), 3);
        services.add(() -> flows.check().found().size());
      }
      int found = 0;
      for (Future<Integer> result : pool.invokeAll(services)) {
        found += result.get();
      }
      assertThat(found).isEqualTo(40);
    } finally {
      pool.shutdownNow();
    }
    assertThat(count("select count(*) from unfinished_flow")).isEqualTo(40);
    assertThat(count("select count(distinct request_id) from unfinished_flow")).isEqualTo(40);
    assertThat(ChainVerifier.verify(database.dataSource()).valid()).isTrue();
  }

  private static io.genguard.audit.persistence.IncomingEvent request(Scenario s) {
    return AuditEvents.incoming(Topics.GENERATION_REQUESTS.name(), AuditEvents.request(s));
  }

  private static io.genguard.events.v1.GenerationOutput output(Scenario s) {
    return AuditEvents.output(s);
  }

  private static GenerationFailure failure(Scenario s) {
    return GenerationFailure.newBuilder()
        .setEventId("failure-" + s.requestId())
        .setRequestId(s.requestId())
        .setTenantId(s.tenantId())
        .setCode("timeout")
        .setReason("the backend did not answer within 30 s")
        .setBackend("local")
        .setAttempts(3)
        .setFailedAt(s.at())
        .build();
  }

  private long count(String sql) throws SQLException {
    return Long.parseLong(text(sql));
  }

  private void execute(String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private String text(String sql) throws SQLException {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * A resender that, once Kafka took the records, has the audit writer read these outputs (each in
   * its own batch) before the resend's action and count commit.
   */
  private UnfinishedFlows.Resender answeredWhileSending(Sent sent, GenerationOutput... outputs) {
    return records -> {
      UnfinishedFlows.Resender.Batch batch = sent.sendAll(records);
      try {
        for (GenerationOutput output : outputs) {
          writer.write(List.of(AuditEvents.incoming(Topics.GENERATION_OUTPUTS.name(), output)));
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      return batch;
    };
  }
}
