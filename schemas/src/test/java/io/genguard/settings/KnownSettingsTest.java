package io.genguard.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KnownSettingsTest {
  @Test
  void anEnvironmentOfKnownNamesAndOtherVariablesPasses() {
    assertThat(
            KnownSettings.check(
                Map.of(
                    "GENGUARD_MODERATION_MAX_BATCH_SIZE", "64",
                    "GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
                    "PATH", "/usr/bin",
                    "GENGUARDIAN", "not ours")))
        .isEmpty();
  }

  @Test
  void aMisspeltNameIsRefusedWithTheNameItMeantAndWithoutItsValue() {
    assertThatThrownBy(
            () ->
                KnownSettings.check(
                    Map.of("GENGUARD_MODERATION_MAX_BATCH_SIZ", "s3cr3t-value", "HOME", "/root")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "GENGUARD_MODERATION_MAX_BATCH_SIZ is not a GenGuard setting"
                + " (did you mean GENGUARD_MODERATION_MAX_BATCH_SIZE?)")
        .hasMessageContaining("GENGUARD_UNKNOWN_SETTINGS=warn")
        .hasMessageNotContaining("s3cr3t-value");
  }

  @Test
  void everyUnknownNameIsNamedAndOneFarFromAnyKnownNameGetsNoGuess() {
    assertThatThrownBy(
            () ->
                KnownSettings.check(
                    Map.of(
                        "GENGUARD_POLICY_FILES", "/etc/policy.yaml",
                        "GENGUARD_SOMETHING_ELSE_ENTIRELY", "1")))
        .hasMessageContaining(
            "GENGUARD_POLICY_FILES is not a GenGuard setting (did you mean GENGUARD_POLICY_FILE?)")
        .hasMessageContaining(
            "GENGUARD_SOMETHING_ELSE_ENTIRELY is not a GenGuard setting. GenGuard refuses")
        .hasMessageContaining("correct or unset them");
  }

  /** Kubernetes gives every pod variables for each Service, e.g. one named genguard-audit. */
  @Test
  void kubernetesServiceLinksAreNotSettingsButAMisspeltPortStillIs() {
    assertThat(
            KnownSettings.check(
                Map.of(
                    "GENGUARD_AUDIT_SERVICE_HOST", "10.0.0.7",
                    "GENGUARD_AUDIT_SERVICE_PORT", "8080",
                    "GENGUARD_AUDIT_SERVICE_PORT_HTTP", "8080",
                    "GENGUARD_AUDIT_API_PORT", "tcp://10.0.0.7:8080",
                    "GENGUARD_AUDIT_API_PORT_8080_TCP", "tcp://10.0.0.7:8080",
                    "GENGUARD_AUDIT_API_PORT_8080_TCP_PROTO", "tcp",
                    "GENGUARD_AUDIT_API_PORT_8080_TCP_PORT", "8080",
                    "GENGUARD_AUDIT_API_PORT_8080_TCP_ADDR", "10.0.0.7")))
        .isEmpty();
    assertThatThrownBy(() -> KnownSettings.check(Map.of("GENGUARD_AUDIT_HTTP_PROT", "8080")))
        .hasMessageContaining("did you mean GENGUARD_AUDIT_HTTP_PORT?");
    assertThatThrownBy(() -> KnownSettings.check(Map.of("GENGUARD_METRIC_PORT", "9464")))
        .hasMessageContaining("did you mean GENGUARD_METRICS_PORT?");
  }

  @Test
  void aBlankUnknownNameChangesNothingAndIsLeftAlone() {
    assertThat(KnownSettings.check(Map.of("GENGUARD_MODERATION_MAX_BATCH_SIZ", " "))).isEmpty();
  }

  @Test
  void warnModeReportsInsteadOfRefusing() {
    assertThat(
            KnownSettings.check(
                Map.of(
                    "GENGUARD_GATE_STATE_DIRR",
                    "/var/lib/gate",
                    KnownSettings.UNKNOWN_SETTINGS,
                    "WARN")))
        .containsExactly(
            "GENGUARD_GATE_STATE_DIRR is not a GenGuard setting (did you mean"
                + " GENGUARD_GATE_STATE_DIR?); ignored (GENGUARD_UNKNOWN_SETTINGS=warn)");
  }

  @Test
  void anUnknownModeIsRefusedEvenWhenEveryNameIsKnown() {
    assertThatThrownBy(() -> KnownSettings.check(Map.of(KnownSettings.UNKNOWN_SETTINGS, "ignore")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("GENGUARD_UNKNOWN_SETTINGS='ignore' must be refuse or warn");
    assertThat(KnownSettings.check(Map.of(KnownSettings.UNKNOWN_SETTINGS, "refuse"))).isEmpty();
  }

  @Test
  void theListIsReadFromItsResource() {
    assertThat(KnownSettings.names())
        .contains(
            KnownSettings.UNKNOWN_SETTINGS,
            "GENGUARD_GENERATOR_WORKERS",
            "GENGUARD_AUDIT_MAX_CONCURRENT_EXPORTS",
            "GENGUARD_BIAS_ALPHA")
        .allMatch(name -> name.startsWith("GENGUARD_"));
  }
}
