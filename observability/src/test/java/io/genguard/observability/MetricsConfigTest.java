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

  /**
   * The forty-seventh session's list: the cap on (model, group) pairs with bias gauges was a
   * constant sized for the bias job's default 16 models.
   */
  @Test
  void shouldReadTheBiasPairCapAndRefuseABadOne() {
    assertThat(MetricsConfig.fromEnvironment(Map.of()).biasMaxPairs()).isEqualTo(1_105);
    assertThat(
            MetricsConfig.fromEnvironment(Map.of(MetricsConfig.BIAS_MAX_PAIRS, " 2210 "))
                .withPort(0)
                .withIntervals(Duration.ofSeconds(1), Duration.ofSeconds(1))
                .biasMaxPairs())
        .isEqualTo(2_210);
    assertThatThrownBy(
            () -> MetricsConfig.fromEnvironment(Map.of(MetricsConfig.BIAS_MAX_PAIRS, "many")))
        .hasMessageContaining("GENGUARD_METRICS_BIAS_MAX_PAIRS='many' is not a whole number");
    assertThatThrownBy(
            () -> MetricsConfig.fromEnvironment(Map.of(MetricsConfig.BIAS_MAX_PAIRS, "0")))
        .hasMessageContaining("GENGUARD_METRICS_BIAS_MAX_PAIRS must be 1-100000, was 0");
    assertThatThrownBy(
            () -> MetricsConfig.fromEnvironment(Map.of(MetricsConfig.BIAS_MAX_PAIRS, "100001")))
        .hasMessageContaining("GENGUARD_METRICS_BIAS_MAX_PAIRS must be 1-100000, was 100001");
  }
}
