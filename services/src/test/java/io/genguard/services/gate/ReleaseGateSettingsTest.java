package io.genguard.services.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.moderation.gate.GateTimings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReleaseGateSettingsTest {

  @Test
  void shouldKeepStateUnderTheDataDirectoryPerHostByDefault() {
    ReleaseGateSettings settings =
        ReleaseGateSettings.fromEnvironment(Map.of("HOSTNAME", "3f2a9c"), Path.of("/data"));

    assertThat(settings.stateDir()).isEqualTo(Path.of("/data/release-gate/3f2a9c"));
    assertThat(settings.replicationFactor()).isEqualTo(1);
    assertThat(settings.timings().decisionRetention()).isEqualTo(Duration.ofDays(7));
    assertThat(settings.timings().verdictTimeout()).isEqualTo(Duration.ofMinutes(15));
    assertThat(settings.stateFormat()).isEqualTo(3);
    assertThat(settings.commitIntervalMs()).as("one transaction a second").isEqualTo(1000);
    assertThat(
            ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_COMMIT_INTERVAL_MS", "100"), Path.of("/data"))
                .commitIntervalMs())
        .as("the interval before the fifty-second session")
        .isEqualTo(100);
    assertThat(
            ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_STATE_FORMAT", "2"), Path.of("/data"))
                .stateFormat())
        .as("kept readable by a gate from before format 3")
        .isEqualTo(2);
    assertThat(
            ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_STATE_FORMAT", "1"), Path.of("/data"))
                .stateFormat())
        .as("kept readable by a gate from before format 2")
        .isEqualTo(1);
    assertThat(
            ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_STATE_FORMAT", "4"), Path.of("/data"))
                .stateFormat())
        .as("keyed by request id and tenant")
        .isEqualTo(4);
  }

  @Test
  void shouldNameTheKeyOfAnInvalidValue() {
    assertThatThrownBy(
            () ->
                ReleaseGateSettings.fromEnvironment(
                    Map.of(ReleaseGateSettings.REPLICATION_FACTOR, "0"), Path.of("/data")))
        .hasMessageContaining("GENGUARD_GATE_REPLICATION_FACTOR must be at least 1");
    assertThatThrownBy(
            () ->
                ReleaseGateSettings.fromEnvironment(
                    Map.of(GateTimings.DECISION_RETENTION_HOURS, "a week"), Path.of("/data")))
        .hasMessageContaining(
            "GENGUARD_GATE_DECISION_RETENTION_HOURS='a week' is not a whole number");
    assertThatThrownBy(
            () ->
                ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_STATE_FORMAT", "5"), Path.of("/data")))
        .hasMessageContaining("GENGUARD_GATE_STATE_FORMAT must be 1, 2, 3 or 4, was 5");
    assertThatThrownBy(
            () ->
                ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_COMMIT_INTERVAL_MS", "1s"), Path.of("/data")))
        .hasMessageContaining("GENGUARD_GATE_COMMIT_INTERVAL_MS='1s' is not a whole number");
    assertThatThrownBy(
            () ->
                ReleaseGateSettings.fromEnvironment(
                    Map.of("GENGUARD_GATE_COMMIT_INTERVAL_MS", "60000"), Path.of("/data")))
        .as("past the transaction timeout")
        .hasMessageContaining(
            "GENGUARD_GATE_COMMIT_INTERVAL_MS must be from 10 to 5000, was 60000");
  }
}
