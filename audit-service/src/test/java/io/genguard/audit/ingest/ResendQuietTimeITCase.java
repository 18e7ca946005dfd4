package io.genguard.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.audit.fixtures.AuditEvents;
import io.genguard.audit.fixtures.AuditEvents.Scenario;
import io.genguard.audit.fixtures.RunningAuditService;
import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.schemas.Topics;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The audit service's quiet time after a resend ({@code GENGUARD_AUDIT_RESEND_QUIET_SECONDS}, a
 * constant hour before the forty-ninth session) reaches the writer its ingestors record with: with
 * two minutes, an answer given again one minute after its request's resend is kept as after the
 * resend, one given again five minutes after it is alerted (under the old hour both were quiet).
 */
class ResendQuietTimeITCase {
  @Test
  void shouldAlertAnAnswerGivenAgainLaterThanTheConfiguredQuietTimeAfterItsResend()
      throws Exception {
    try (RunningAuditService audit =
        RunningAuditService.start(
            "resend_quiet_it", Clock.systemUTC(), config -> config.withResendQuiet(120))) {
      Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      Scenario inside = Scenario.of("quiet-inside", "acme", Decision.RELEASE, now);
      Scenario outside = Scenario.of("quiet-outside", "acme", Decision.RELEASE, now);
      audit.seed(AuditEvents.story(inside));
      audit.seed(AuditEvents.story(outside));
      resent(audit, inside, now.minusSeconds(60));
      resent(audit, outside, now.minusSeconds(300));

      RunningAuditService.produce(
          Topics.GENERATION_OUTPUTS,
          again -> again.getRequestId().toString(),
          Stream.of(inside, outside)
              .map(
                  s ->
                      GenerationOutput.newBuilder(AuditEvents.output(s))
                          .setText("answered again")
                          .build())
              .toList());

      audit.awaitCount(
          "select count(*) from event_id_conflict where request_id like 'quiet-%'",
          conflicts -> conflicts == 2);
      assertThat(
              audit.count(
                  "select count(*) from event_id_conflict where request_id = 'quiet-inside'"
                      + " and after_resend"))
          .as("read a minute after the resend: within the two minutes")
          .isEqualTo(1);
      assertThat(
              audit.count(
                  "select count(*) from event_id_conflict where request_id = 'quiet-outside'"
                      + " and not after_resend"))
          .as("read five minutes after the resend: past the two minutes, alerted")
          .isEqualTo(1);
    }
  }

  /** Records the request's NO_ANSWER flow as sent again once, at {@code at}. */
  private static void resent(RunningAuditService audit, Scenario s, Instant at) throws Exception {
    audit.execute(
        "insert into unfinished_flow (event_id, kind, request_id, tenant_id, record_seq,"
            + " recorded_at, found_at, resent_count, resent_at) select event_id, 'NO_ANSWER',"
            + " request_id, tenant_id, seq, recorded_at, recorded_at, 1, timestamptz '"
            + at
            + "' from audit_log where request_id = '"
            + s.requestId()
            + "' and event_type = 'GenerationRequest'");
  }
}
