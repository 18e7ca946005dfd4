package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.bias.job.LiveGroupWindow;
import io.genguard.deploy.promql.PromQlMetricNames;
import io.genguard.deploy.promql.PromQlMetricNames.Matcher;
import io.genguard.deploy.promql.PromQlMetricNames.Selector;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The live bias alert pages on a disparity that lasts, not on one window: about 1-2% of live
 * windows alert by chance, and an alert that fired and resolved with every such window flapped. The
 * groups the audit-store collector refuses gauges past its cap are alerted on:
 * GenGuardBiasDisparity cannot fire for them.
 */
class BiasAlertRulesTest {
  /**
   * AuditStoreCollector.BIAS_GROUPS_REFUSED as Prometheus names it (DashboardMetricsITCase checks
   * that the audit service exports it).
   */
  private static final String GROUPS_REFUSED = "genguard_bias_group_series_refused_total";

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

  @Test
  void shouldAlertOnEveryBiasGroupRefusedGaugesTakingTheMaxOverAuditReplicas() {
    JsonNode rule = FlinkAlertRulesTest.rule("GenGuardBiasGroupSeriesRefused");
    String expression = rule.path("expr").asText().trim().replaceAll("\\s+", " ");
    java.util.regex.Matcher range =
        Pattern.compile("^max\\(increase\\(" + GROUPS_REFUSED + "\\[(\\d+)m\\]\\)\\) > 0$")
            .matcher(expression);

    assertThat(PromQlMetricNames.of(expression)).containsExactly(GROUPS_REFUSED);
    // Every audit replica reads the same windows and refuses the same pairs: summed, N replicas
    // would count each refusal N times. One refused pair is one group the disparity alert misses.
    assertThat(range.matches())
        .as("max over replicas of the increase, above 0: " + expression)
        .isTrue();
    // The collector counts a refused pair once a round (15 s by default): a range of several
    // scrapes, and no "for", since the counter rises for as long as a pair is refused.
    assertThat(Duration.ofMinutes(Long.parseLong(range.group(1))))
        .isBetween(Duration.ofMinutes(5), Duration.ofHours(1));
    assertThat(rule.has("for")).as("no for: duration").isFalse();
    assertThat(rule.path("labels").path("severity").asText()).isEqualTo("warning");
  }

  @Test
  void shouldLeaveThePooledUnknownModelOutOfTheStaleWindowAlert() {
    String expression =
        FlinkAlertRulesTest.rule("GenGuardBiasWindowStale").path("expr").asText().trim();
    List<Selector> ages =
        PromQlMetricNames.selectors(expression).stream()
            .filter(selector -> selector.metric().equals("genguard_bias_window_age_seconds"))
            .toList();

    assertThat(ages).isNotEmpty();
    // The pool gets windows only while more models than the cap send verdicts: once that stops,
    // its window age grows for the day until the collector retires it, and no job is broken.
    assertThat(ages)
        .as("the pooled pseudo-model's windows stop when pooling stops: " + expression)
        .allSatisfy(
            selector ->
                assertThat(selector.matchers())
                    .contains(new Matcher("model", "!=", LiveGroupWindow.UNKNOWN_MODEL)));
  }
}
