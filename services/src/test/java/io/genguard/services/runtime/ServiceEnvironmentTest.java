package io.genguard.services.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.services.audit.AuditMain;
import io.genguard.services.gate.ReleaseGateMain;
import io.genguard.services.generator.GeneratorMain;
import io.genguard.services.topics.ProvisionTopicsMain;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceEnvironmentTest {
  /** Nothing listens here: a service that got past its settings would fail on Kafka instead. */
  private static final Map<String, String> MISSPELT =
      Map.of(
          "GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
          "GENGUARD_METRICS_PORT", "0",
          "GENGUARD_GATE_VERDICT_TIMEOUT_SECOND", "60");

  @Test
  void everyServiceRefusesAMisspeltKeyBeforeItStartsAnything() {
    String expected =
        "GENGUARD_GATE_VERDICT_TIMEOUT_SECOND is not a GenGuard setting"
            + " (did you mean GENGUARD_GATE_VERDICT_TIMEOUT_SECONDS?)";
    assertThatThrownBy(() -> ReleaseGateMain.start(MISSPELT)).hasMessageContaining(expected);
    assertThatThrownBy(() -> AuditMain.start(MISSPELT)).hasMessageContaining(expected);
    assertThatThrownBy(() -> GeneratorMain.start(MISSPELT)).hasMessageContaining(expected);
    assertThatThrownBy(() -> ProvisionTopicsMain.provision(MISSPELT))
        .hasMessageContaining(expected);
  }

  /** The forty-eighth session: the bias gauges' cap is a setting, checked before anything runs. */
  @Test
  void theAuditServiceRefusesABadBiasPairCapBeforeItStartsAnything() {
    Map<String, String> env =
        Map.of(
            "GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
            "GENGUARD_METRICS_PORT", "0",
            "GENGUARD_METRICS_BIAS_MAX_PAIRS", "0");
    assertThatThrownBy(() -> AuditMain.start(env))
        .hasMessageContaining("GENGUARD_METRICS_BIAS_MAX_PAIRS must be 1-100000, was 0");
  }

  @Test
  void warnModeReadsTheRestOfTheEnvironment() {
    ServiceEnvironment environment =
        ServiceEnvironment.fromEnvironment(
            Map.of(
                "GENGUARD_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
                "GENGUARD_DATA_DIR", "/srv/genguard",
                "GENGUARD_DATA_DIRECTORY", "/elsewhere",
                "GENGUARD_UNKNOWN_SETTINGS", "warn"));
    assertThat(environment.kafkaBootstrapServers()).isEqualTo("kafka:9092");
    assertThat(environment.dataDir()).isEqualTo(Path.of("/srv/genguard"));
  }
}
