package io.genguard.moderation.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GateTimingsTest {
  @Test
  void defaultsToAWeekOfRetentionAndAQuarterOfAnHourForTheVerdict() {
    GateTimings timings =
        GateTimings.fromEnvironment(Map.of(GateTimings.VERDICT_TIMEOUT_SECONDS, " "));
    assertThat(timings).isEqualTo(GateTimings.DEFAULTS);
    assertThat(timings.decisionRetention()).isEqualTo(Duration.ofDays(7));
    assertThat(timings.verdictTimeout()).isEqualTo(Duration.ofMinutes(15));
    assertThat(timings.sweepInterval()).isEqualTo(Duration.ofMinutes(7).plusSeconds(30));
  }

  @Test
  void readsTheKeys() {
    GateTimings timings =
        GateTimings.fromEnvironment(
            Map.of(
                GateTimings.DECISION_RETENTION_HOURS, "48",
                GateTimings.VERDICT_TIMEOUT_SECONDS, "3600"));
    assertThat(timings.decisionRetention()).isEqualTo(Duration.ofHours(48));
    assertThat(timings.verdictTimeout()).isEqualTo(Duration.ofHours(1));
    assertThat(timings.sweepInterval()).isEqualTo(Duration.ofMinutes(10));
    assertThat(new GateTimings(Duration.ofHours(1), Duration.ofSeconds(1)).sweepInterval())
        .isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void refusesValuesThatCannotBeMeant() {
    assertThatThrownBy(
            () -> GateTimings.fromEnvironment(Map.of(GateTimings.VERDICT_TIMEOUT_SECONDS, "soon")))
        .hasMessage("GENGUARD_GATE_VERDICT_TIMEOUT_SECONDS='soon' is not a whole number");
    assertThatThrownBy(
            () -> GateTimings.fromEnvironment(Map.of(GateTimings.VERDICT_TIMEOUT_SECONDS, "0")))
        .hasMessageContaining("GENGUARD_GATE_VERDICT_TIMEOUT_SECONDS must be between 1 and");
    assertThatThrownBy(
            () ->
                GateTimings.fromEnvironment(
                    Map.of(GateTimings.DECISION_RETENTION_HOURS, "99999999999999")))
        .hasMessageContaining("GENGUARD_GATE_DECISION_RETENTION_HOURS must be between 1 and 87840");
    assertThatThrownBy(
            () ->
                GateTimings.fromEnvironment(
                    Map.of(
                        GateTimings.DECISION_RETENTION_HOURS, "1",
                        GateTimings.VERDICT_TIMEOUT_SECONDS, "7200")))
        .hasMessage(
            "GENGUARD_GATE_VERDICT_TIMEOUT_SECONDS must be at least 1 and at most the decision"
                + " retention (3600 s), was 7200");
  }
}
