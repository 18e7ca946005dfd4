package io.genguard.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The audit service's own dead letters become the events they are once this build decodes them. */
class DeadLetterRecoveryITCase {
  private static final Instant NOW = Instant.parse("2026-12-04T10:00:00Z");

  @Test
  void shouldRecordWhatNowDecodesOnceAndCountWhatStays() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase("dead_letter_recovery"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2)) {
      Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
      Scenario scenario = Scenario.of("recovered-1", "acme", Decision.RELEASE, NOW);
      byte[] request = Topics.GENERATION_REQUESTS.codec().encode(AuditEvents.request(scenario));
      byte[] key = "recovered-1".getBytes(StandardCharsets.UTF_8);
      EventDecodingException unknown = new EventDecodingException("unknown fingerprint", null);
      String requests = Topics.GENERATION_REQUESTS.name();
      // What the ingestor wrote when its schemas were behind, refused, or read garbage; and a
      // dead letter another stage sent of a record the audit service could not decode either (its
      // own dead letter of it has the same id, and was not kept): it stays too.
      new AuditWriter(database.dataSource(), clock)
          .write(
              List.of(
                  AuditEvents.incoming(
                      requests,
                      DeadLetters.of(requests, 0, 11, key, request, "audit", unknown, NOW)),
                  AuditEvents.incoming(
                      requests,
                      DeadLetters.of(
                          requests,
                          0,
                          12,
                          key,
                          request,
                          "audit",
                          new IllegalArgumentException("a NUL character"),
                          NOW)),
                  AuditEvents.incoming(
                      requests,
                      DeadLetters.of(
                          requests,
                          0,
                          13,
                          key,
                          "not avro".getBytes(StandardCharsets.UTF_8),
                          "audit",
                          unknown,
                          NOW)),
                  AuditEvents.incoming(
                      Topics.GENERATION_OUTPUTS_DLQ.name(),
                      DeadLetters.of(
                          Topics.GENERATION_OUTPUTS.name(),
                          1,
                          14,
                          key,
                          request,
                          "moderation",
                          unknown,
                          NOW))));
      Caller caller = Caller.system("recovery-test");

      DeadLetterRecovery.Result dry =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 100, true);

      assertThat(dry.read()).isEqualTo(4);
      assertThat(dry.decoded()).isEqualTo(1);
      assertThat(dry.recorded()).isZero();
      assertThat(dry.kept())
          .containsOnlyKeys(
              "refused for what it holds, not for its bytes (java.lang.IllegalArgumentException):"
                  + " the audit store would refuse it again",
              "still does not decode");
      assertThat(count(database, "select count(*) from generation_request")).isZero();

      DeadLetterRecovery.Result run =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 100, false);

      assertThat(run.recorded()).isEqualTo(1);
      assertThat(
              count(
                  database,
                  "select count(*) from generation_request where request_id = 'recovered-1'"))
          .isEqualTo(1);
      assertThat(
              count(
                  database,
                  "select count(*) from audit_log where request_id = 'recovered-1'"
                      + " and event_type = 'GenerationRequest' and source_offset = 11"))
          .as("recorded at the dead letter's source position")
          .isEqualTo(1);
      assertThat(
              count(
                  database,
                  "select count(*) from api_action where action = '"
                      + DeadLetterRecovery.ACTION
                      + "' and caller_name = 'recovery-test'"))
          .isEqualTo(1);
      assertThat(count(database, "select count(*) from dead_letter")).as("they stay").isEqualTo(4);
      ChainVerifier.Verification chain = ChainVerifier.verify(database.dataSource());
      assertThat(chain.valid()).as(chain.summary()).isTrue();

      DeadLetterRecovery.Result again =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 100, false);
      assertThat(again.read()).as("the recovered one is passed over").isEqualTo(3);
      assertThat(again.decoded()).isZero();
      assertThat(again.recorded()).as("recorded once").isZero();

      assertThatThrownBy(
              () -> DeadLetterRecovery.recover(database.dataSource(), clock, caller, 0, true))
          .hasMessageContaining("limit must be between 1 and");
    }
  }

  @Test
  void shouldWorkThroughEveryDeadLetterRunByRunAndLeaveTheOnesTheStoreRefuses() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase("dead_letter_recovery_runs"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2)) {
      Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
      AuditWriter writer = new AuditWriter(database.dataSource(), clock);
      Caller caller = Caller.system("recovery-test");
      // Three requests the ingestor could not decode, and a second copy of the first (a resend,
      // at a later offset) whose event is on record once the first is recovered.
      for (int i = 1; i <= 3; i++) {
        writer.write(List.of(deadLetter(100 + i, request("run-" + i), NOW.plusSeconds(i))));
      }
      writer.write(List.of(deadLetter(110, request("run-1"), NOW.plusSeconds(10))));

      for (int run = 1; run <= 3; run++) {
        DeadLetterRecovery.Result result =
            DeadLetterRecovery.recover(database.dataSource(), clock, caller, 1, false);
        assertThat(result.read()).as("run " + run).isEqualTo(1);
        assertThat(result.recorded()).as("run " + run).isEqualTo(1);
        assertThat(
                count(
                    database,
                    "select count(*) from generation_request where request_id = 'run-" + run + "'"))
            .as("run " + run + " recovers the oldest dead letter not yet recovered")
            .isEqualTo(1);
      }
      DeadLetterRecovery.Result done =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 1, false);
      assertThat(done.read()).as("the copy's event is on record").isZero();
      assertThat(done.kept()).isEmpty();

      // Dead letters that stay, older than one that decodes: they do not use up the limit.
      String requests = Topics.GENERATION_REQUESTS.name();
      for (int i = 0; i < 2; i++) {
        writer.write(
            List.of(
                AuditEvents.incoming(
                    requests,
                    DeadLetters.of(
                        requests,
                        0,
                        115 + i,
                        null,
                        "not avro".getBytes(StandardCharsets.UTF_8),
                        "audit",
                        new EventDecodingException("unknown fingerprint", null),
                        NOW.minusSeconds(60 - i)))));
      }
      writer.write(List.of(deadLetter(117, request("run-behind"), NOW.minusSeconds(30))));
      DeadLetterRecovery.Result behind =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 1, false);
      assertThat(behind.read()).isEqualTo(3);
      assertThat(behind.recorded()).as("past the two that stay").isEqualTo(1);
      assertThat(behind.kept()).containsEntry("still does not decode", 2L);
      DeadLetterRecovery.Result staying =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 1, false);
      assertThat(staying.read()).isEqualTo(2);
      assertThat(staying.recorded()).isZero();

      // One that now decodes but that PostgreSQL refuses (a NUL character), older than another.
      writer.write(
          List.of(
              deadLetter(
                  120,
                  GenerationRequest.newBuilder(request("run-nul"))
                      .setPrompt("bad\u0000prompt")
                      .build(),
                  NOW.minusSeconds(5)),
              deadLetter(121, request("run-4"), NOW.minusSeconds(4))));
      DeadLetterRecovery.Result refused =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 100, false);
      assertThat(refused.read()).as("the two that stay, and the two").isEqualTo(4);
      assertThat(refused.decoded()).isEqualTo(2);
      assertThat(refused.recorded()).isEqualTo(1);
      assertThat(refused.kept()).hasSize(2).containsEntry("still does not decode", 2L);
      String reason =
          refused.kept().keySet().stream()
              .filter(kept -> !kept.equals("still does not decode"))
              .findFirst()
              .orElseThrow();
      assertThat(reason).startsWith("The audit store refused the event (SQLState 22");
      assertThat(refused.kept()).containsEntry(reason, 1L);
      assertThat(
              count(
                  database,
                  "select count(*) from generation_request where request_id in"
                      + " ('run-4', 'run-nul')"))
          .isEqualTo(1);
      assertThat(count(database, "select count(*) from dead_letter")).isEqualTo(9);
      assertThat(
              count(
                  database,
                  "select count(*) from api_action where action = '"
                      + DeadLetterRecovery.ACTION
                      + "' and details->>'refused' = '1'"))
          .as("the run says what the store refused")
          .isEqualTo(1);
      ChainVerifier.Verification chain = ChainVerifier.verify(database.dataSource());
      assertThat(chain.valid()).as(chain.summary()).isTrue();
    }
  }

  /**
   * A dead letter's id names its source record, not its stage: when the audit service and another
   * stage both gave up on one record, the audit store keeps the copy it read first, and the audit's
   * own is a duplicate. Recovery reads the other stage's in its place, and passes over those of
   * records the audit service recorded.
   */
  @Test
  void shouldRecoverFromAnotherStagesDeadLetterOfARecordTheAuditCouldNotDecode() throws Exception {
    IntegrationInfrastructure infra = IntegrationInfrastructure.get();
    try (AuditDatabase database =
        AuditDatabase.connect(
            infra.createDatabase("dead_letter_recovery_stages"),
            infra.jdbcUser(),
            infra.jdbcPassword(),
            2)) {
      Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
      AuditWriter writer = new AuditWriter(database.dataSource(), clock);
      String verdicts = Topics.MODERATION_VERDICTS.name();
      String outputs = Topics.GENERATION_OUTPUTS.name();
      EventDecodingException unknown = new EventDecodingException("unknown fingerprint", null);

      // The gate could not decode a verdict either, and its dead letter (from
      // moderation.verdicts.dlq) reached the audit store first: the audit's own is a duplicate.
      byte[] verdict = Topics.MODERATION_VERDICTS.codec().encode(verdict("stage-1"));
      writer.write(
          List.of(
              new IncomingEvent(
                  Topics.MODERATION_VERDICTS_DLQ.name(),
                  0,
                  1,
                  DeadLetters.of(verdicts, 0, 5, key("stage-1"), verdict, "gate", unknown, NOW))));
      assertThat(
              writer.write(
                  List.of(
                      new IncomingEvent(
                          verdicts,
                          0,
                          5,
                          DeadLetters.of(
                              verdicts,
                              0,
                              5,
                              key("stage-1"),
                              verdict,
                              "audit",
                              unknown,
                              NOW.plusSeconds(1))))))
          .as("the audit's own dead letter of the same record")
          .isZero();
      // The bias job gave up on another verdict for its own reason; the audit's copy, not kept.
      writer.write(
          List.of(
              new IncomingEvent(
                  Topics.MODERATION_VERDICTS_DLQ.name(),
                  0,
                  2,
                  DeadLetters.of(
                      verdicts,
                      0,
                      6,
                      key("stage-2"),
                      Topics.MODERATION_VERDICTS.codec().encode(verdict("stage-2")),
                      "bias",
                      new IllegalStateException("a campaign id too long"),
                      NOW.plusSeconds(2)))));
      // Passed over: another stage's dead letter of a resent output the audit recorded (at its
      // first offset), and a cut one of a large output the audit recorded at its position.
      GenerationOutput resent = output("stage-3", "a text");
      writer.write(List.of(new IncomingEvent(outputs, 0, 7, resent)));
      writer.write(List.of(moderationDeadLetter(17, resent, 3)));
      GenerationOutput large = output("stage-4", "x".repeat(600_000));
      writer.write(List.of(new IncomingEvent(outputs, 0, 8, large)));
      writer.write(List.of(moderationDeadLetter(8, large, 4)));
      // Stays: a cut one of a large output the audit log has nothing at.
      writer.write(List.of(moderationDeadLetter(9, output("stage-5", "y".repeat(600_000)), 5)));
      // Passed over: from a topic the audit service does not read, a whole chunk of them, older
      // than the others (a chunk with nothing to recover is not the end).
      List<IncomingEvent> mirrored = new ArrayList<>();
      for (int i = 0; i < DeadLetterRecovery.CHUNK; i++) {
        mirrored.add(
            AuditEvents.incoming(
                Topics.MODERATION_VERDICTS_DLQ.name(),
                DeadLetters.of(
                    "verdicts.mirror",
                    0,
                    i,
                    key("stage-6"),
                    verdict,
                    "gate",
                    unknown,
                    NOW.minusSeconds(600 - i))));
      }
      writer.write(mirrored);
      assertThat(count(database, "select count(*) from dead_letter where stage = 'audit'"))
          .isZero();
      Caller caller = Caller.system("recovery-test");

      DeadLetterRecovery.Result run =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 100, false);

      assertThat(run.read()).isEqualTo(3);
      assertThat(run.decoded()).isEqualTo(2);
      assertThat(run.recorded()).isEqualTo(2);
      String cut =
          "another stage's dead letter keeps only part of the record, and the audit log has no"
              + " event at its source position: read the source record";
      assertThat(run.kept()).containsOnly(Map.entry(cut, 1L));
      assertThat(run.examples().get(cut))
          .containsExactly(
              DeadLetters.of(outputs, 0, 9, null, null, "x", unknown, NOW).getEventId());
      assertThat(
              count(
                  database,
                  "select count(*) from moderation_verdict where request_id in ('stage-1',"
                      + " 'stage-2')"))
          .isEqualTo(2);
      assertThat(
              count(
                  database,
                  "select count(*) from audit_log where event_type = 'ModerationVerdict'"
                      + " and source_topic = '"
                      + verdicts
                      + "' and source_offset in (5, 6)"))
          .as("recorded at the dead letters' source positions")
          .isEqualTo(2);
      ChainVerifier.Verification chain = ChainVerifier.verify(database.dataSource());
      assertThat(chain.valid()).as(chain.summary()).isTrue();

      DeadLetterRecovery.Result again =
          DeadLetterRecovery.recover(database.dataSource(), clock, caller, 100, false);
      assertThat(again.read()).as("only the one that stays").isEqualTo(1);
      assertThat(again.recorded()).isZero();
    }
  }

  private static byte[] key(String requestId) {
    return requestId.getBytes(StandardCharsets.UTF_8);
  }

  private static ModerationVerdict verdict(String requestId) {
    return AuditEvents.verdict(Scenario.of(requestId, "acme", Decision.RELEASE, NOW));
  }

  private static GenerationOutput output(String requestId, String text) {
    return GenerationOutput.newBuilder(
            AuditEvents.output(Scenario.of(requestId, "acme", Decision.RELEASE, NOW)))
        .setText(text)
        .build();
  }

  /** The moderation job's dead letter of an output at gen.outputs-0@offset (a decoding failure). */
  private static IncomingEvent moderationDeadLetter(
      long offset, GenerationOutput output, long dlqOffset) {
    return new IncomingEvent(
        Topics.GENERATION_OUTPUTS_DLQ.name(),
        0,
        dlqOffset,
        DeadLetters.of(
            Topics.GENERATION_OUTPUTS.name(),
            0,
            offset,
            key(output.getRequestId()),
            Topics.GENERATION_OUTPUTS.codec().encode(output),
            "moderation",
            new EventDecodingException("unknown fingerprint", null),
            NOW.plusSeconds(offset)));
  }

  private static GenerationRequest request(String requestId) {
    return AuditEvents.request(Scenario.of(requestId, "acme", Decision.RELEASE, NOW));
  }

  /** What the ingestor wrote for a request whose schema it did not know yet. */
  private static IncomingEvent deadLetter(long offset, GenerationRequest event, Instant failedAt) {
    String requests = Topics.GENERATION_REQUESTS.name();
    return AuditEvents.incoming(
        requests,
        DeadLetters.of(
            requests,
            0,
            offset,
            event.getRequestId().getBytes(StandardCharsets.UTF_8),
            Topics.GENERATION_REQUESTS.codec().encode(event),
            "audit",
            new EventDecodingException("unknown fingerprint", null),
            failedAt));
  }

  private static long count(AuditDatabase database, String sql) throws Exception {
    try (Connection connection = database.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
