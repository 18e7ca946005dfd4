package io.genguard.deploy.promql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PromQlMetricNamesTest {

  @Test
  void shouldFindTheMetricInsideFunctionsAggregationsAndGrouping() {
    assertThat(
            PromQlMetricNames.of(
                "histogram_quantile(0.99, sum by (le, backend) (rate(genguard_generator_latency_seconds_bucket[$__rate_interval])))"))
        .containsExactly("genguard_generator_latency_seconds_bucket");
  }

  @Test
  void shouldIgnoreLabelMatchersStringsAndGrafanaVariables() {
    assertThat(
            PromQlMetricNames.of(
                "genguard_bias_group_disparity{metric=\"$bias_metric\", group=~\"a|b\"} > ${threshold}"))
        .containsExactly("genguard_bias_group_disparity");
  }

  @Test
  void shouldFindEveryOperandOfBinaryOperatorsAndKeepKeywordsOut() {
    assertThat(
            PromQlMetricNames.of(
                "abs(x_disparity{m=\"b\"}) > 0.1 and on (model, group) x_outputs >= 30 or vector(0)"
                    + " unless y_total offset 5m / ignoring(code) group_left z_total"))
        .containsExactly("x_disparity", "x_outputs", "y_total", "z_total");
  }

  @Test
  void shouldTreatGroupingAfterTheBodyAndNumbersWithExponentsAsNotMetrics() {
    assertThat(PromQlMetricNames.of("sum(rate(a_total[5m])) by (job) * 1e-3 + time() - b_seconds"))
        .containsExactly("a_total", "b_seconds");
  }

  @Test
  void shouldReadTheLabelMatchersOfEachSelector() {
    List<PromQlMetricNames.Selector> selectors =
        PromQlMetricNames.selectors(
            "sum(rate(a_bucket{basis=\"VERDICT\", group!~'x|y'}[5m])) / b_total{job_name=\"m\"}"
                + " + c_total");

    assertThat(selectors)
        .containsExactly(
            new PromQlMetricNames.Selector(
                "a_bucket",
                List.of(
                    new PromQlMetricNames.Matcher("basis", "=", "VERDICT"),
                    new PromQlMetricNames.Matcher("group", "!~", "x|y"))),
            new PromQlMetricNames.Selector(
                "b_total", List.of(new PromQlMetricNames.Matcher("job_name", "=", "m"))),
            new PromQlMetricNames.Selector("c_total", List.of()));
    assertThat(selectors.get(0).equality("basis")).isEqualTo("VERDICT");
    assertThat(selectors.get(0).equality("group")).as("not an equality").isNull();
  }

  @Test
  void shouldReportUnbalancedBrackets() {
    assertThatThrownBy(() -> PromQlMetricNames.of("rate(a_total[5m)"))
        .hasMessageContaining("Unbalanced '['");
  }
}
