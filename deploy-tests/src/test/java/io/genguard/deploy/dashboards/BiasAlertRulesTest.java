package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.promql.PromQlMetricNames;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The live bias alert pages on a disparity that lasts, not on one window: about 1-2% of live
 * windows alert by chance, and an alert that fired and resolved with every such window flapped.
 */
class BiasAlertRulesTest {
  @Test
  void shouldFireOnLiveBiasAlertsOnlyWhenTheyRepeatAndHold() {
    JsonNode rule = FlinkAlertRulesTest.rule("GenGuardBiasLiveAlert");
    String expression = rule.path("expr").asText().replaceAll("\\s+", " ");

    assertThat(PromQlMetricNames.of(expression)).containsExactly("genguard_bias_live_alerts_total");
    assertThat(expression).as("at least two alerted windows").endsWith(">= 2");
    assertThat(rule.path("for").asText()).as("a for: duration").isNotBlank();
    assertThat(Duration.parse("PT" + rule.path("for").asText().toUpperCase()))
        .isGreaterThanOrEqualTo(Duration.ofMinutes(10));
  }
}
