package io.genguard.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsConfigTest {

  @Test
  void shouldOverrideDefaultsWithEnvironmentKeys() {
    MetricsConfig config =
        MetricsConfig.fromEnvironment(
            Map.of(
                MetricsConfig.HOST, "0.0.0.0",
                MetricsConfig.PORT, "9100",
                MetricsConfig.AUDIT_INTERVAL_MS, "5000",
                MetricsConfig.LAG_GROUP_PREFIX, ""));

    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.port()).isEqualTo(9100);
    assertThat(config.auditInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.lagInterval()).isEqualTo(MetricsConfig.defaults().lagInterval());
    assertThat(config.lagGroupPrefix()).isEmpty();
  }

  @Test
  void shouldNameTheKeyOfAnInvalidValue() {
    assertThatThrownBy(() -> MetricsConfig.fromEnvironment(Map.of(MetricsConfig.PORT, "nine")))
        .hasMessageContaining("GENGUARD_METRICS_PORT='nine' is not a whole number");
    assertThatThrownBy(() -> MetricsConfig.fromEnvironment(Map.of(MetricsConfig.PORT, "70000")))
        .hasMessageContaining("GENGUARD_METRICS_PORT=70000 is not a TCP port");
    assertThatThrownBy(
            () -> MetricsConfig.fromEnvironment(Map.of(MetricsConfig.AUDIT_INTERVAL_MS, "10")))
        .hasMessageContaining("GENGUARD_METRICS_AUDIT_INTERVAL_MS must be at least 100");
  }
}
