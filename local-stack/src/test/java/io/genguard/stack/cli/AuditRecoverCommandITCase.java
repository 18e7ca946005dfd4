package io.genguard.stack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.AuditConfig;
import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.IncomingEvent;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.EventDecodingException;
import io.genguard.schemas.EventIds;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.IntegrationInfrastructure;
import io.genguard.testsupport.TestSql;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * {@code ./genguard audit recover-dead-letters} keeps the audit service's quiet time after a resend
 * ({@code GENGUARD_AUDIT_RESEND_QUIET_SECONDS}), read as the service reads it (found by the
 * forty-ninth session: it kept a fixed hour).
 */
class AuditRecoverCommandITCase {
  private final UnaryOperator<String> environment = AuditStoreOptions.environment;
  private IntegrationInfrastructure infra;
  private String url;
  private AuditDatabase database;

  @BeforeEach
  void database(TestInfo test) {
    infra = IntegrationInfrastructure.get();
    url = infra.createDatabase("recover_cli_", test);
    database = AuditDatabase.connect(url, infra.jdbcUser(), infra.jdbcPassword(), 2);
  }

  @AfterEach
  void close() {
    AuditStoreOptions.environment = environment;
    database.close();
  }

  /**
   * Both answers to a request were dead letters (the audit service's schemas were behind), and the
   * request was sent again two hours ago: the second answer, under the first's event id, is kept as
   * after the resend with three hours of quiet, as the audit service would keep it.
   */
  @Test
  void shouldKeepAnAnswerGivenAgainAsAfterTheResendWithinTheConfiguredQuietTime() throws Exception {
    deadLetteredAnswersOfAResend("within", Instant.now().minus(2, ChronoUnit.HOURS));
    AuditStoreOptions.environment =
        Map.of(AuditConfig.RESEND_QUIET_SECONDS, String.valueOf(3 * 3600))::get;

    CommandRun run = run();

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'within'"
                    + " and after_resend"))
        .as("read two hours after the resend: within the three hours configured")
        .isEqualTo(1);
  }

  @Test
  void shouldAlertAnAnswerGivenAgainPastTheDefaultHour() throws Exception {
    deadLetteredAnswersOfAResend("past", Instant.now().minus(2, ChronoUnit.HOURS));
    AuditStoreOptions.environment = Map.<String, String>of()::get;

    CommandRun run = run();

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(
            count(
                "select count(*) from event_id_conflict where request_id = 'past'"
                    + " and not after_resend"))
        .as("two hours after the resend, past the default hour: alerted")
        .isEqualTo(1);
  }

  @Test
  void shouldRefuseAQuietTimeTheAuditServiceWouldRefuse() throws Exception {
    deadLetteredAnswersOfAResend("refused", Instant.now().minus(2, ChronoUnit.HOURS));
    AuditStoreOptions.environment = Map.of(AuditConfig.RESEND_QUIET_SECONDS, "59")::get;

    CommandRun tooShort = run();

    assertThat(tooShort.code()).isEqualTo(2);
    assertThat(tooShort.err())
        .contains("GENGUARD_AUDIT_RESEND_QUIET_SECONDS=59 must be at least 60");
    AuditStoreOptions.environment = Map.of(AuditConfig.RESEND_QUIET_SECONDS, "1h")::get;
    assertThat(run().err())
        .contains("GENGUARD_AUDIT_RESEND_QUIET_SECONDS='1h' is not a whole number");
    assertThat(count("select count(*) from generation_output")).as("nothing recorded").isZero();
  }

  private CommandRun run() {
    return CommandRun.of(new AuditRecoverCommand(), CommandRun.withDatabase(infra, url));
  }

  /**
   * The request on record, its flow sent again at {@code resentAt}, and the audit service's dead
   * letters of its two answers (the one before the resend and the one after), under one event id.
   */
  private void deadLetteredAnswersOfAResend(String requestId, Instant resentAt) throws Exception {
    Instant submitted = resentAt.minus(10, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.MILLIS);
    AuditWriter writer = new AuditWriter(database.dataSource(), Clock.systemUTC());
    writer.write(
        List.of(
            new IncomingEvent(
                Topics.GENERATION_REQUESTS.name(),
                0,
                1,
                GenerationRequest.newBuilder(
                        AuditEvents.request(
                            Scenario.of(requestId, "acme", Decision.RELEASE, submitted)))
                    .setEventId(EventIds.nameBased("request", requestId))
                    .build())));
    execute(
        "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
            + " recorded_at, found_at, resent_count, resent_at) select event_id, 'NO_ANSWER',"
            + " request_id, tenant_id, seq, recorded_at, recorded_at, 1, timestamptz '"
            + resentAt
            + "' from audit_log where request_id = '"
            + requestId
            + "' and event_type = 'GenerationRequest'");
    byte[] key = requestId.getBytes(StandardCharsets.UTF_8);
    EventDecodingException unknown = new EventDecodingException("unknown fingerprint", null);
    String outputs = Topics.GENERATION_OUTPUTS.name();
    long offset = 10;
    for (String text : new String[] {"the first answer", "answered again"}) {
      byte[] answer =
          Topics.GENERATION_OUTPUTS
              .codec()
              .encode(
                  AuditEvents.output(
                      Scenario.of(requestId, "acme", Decision.RELEASE, submitted.plusSeconds(1))
                          .withText(text)));
      writer.write(
          List.of(
              new IncomingEvent(
                  outputs,
                  0,
                  offset,
                  DeadLetters.of(
                      outputs, 0, offset, key, answer, "audit", unknown, Instant.now()))));
      offset++;
    }
  }

  private void execute(String sql) throws Exception {
    try (java.sql.Connection connection = database.dataSource().getConnection();
        java.sql.Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private long count(String sql) throws Exception {
    return TestSql.count(database.dataSource(), sql);
  }
}
