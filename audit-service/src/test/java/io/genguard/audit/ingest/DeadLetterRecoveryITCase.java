package io.genguard.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.persistence.AuditDatabase;
import io.genguard.audit.persistence.AuditWriter;
import io.genguard.audit.persistence.ChainVerifier;
import io.genguard.audit.security.Caller;
import io.genguard.events.v1.Decision;
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
import java.util.List;
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
      // dead letter another stage sent, which is not the audit store's to recover.
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

      assertThat(dry.read()).isEqualTo(3);
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
      assertThat(again.decoded()).isEqualTo(1);
      assertThat(again.recorded()).as("recorded once").isZero();

      assertThatThrownBy(
              () -> DeadLetterRecovery.recover(database.dataSource(), clock, caller, 0, true))
          .hasMessageContaining("limit must be between 1 and");
    }
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
