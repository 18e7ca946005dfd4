package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.bias.job.BiasAggregationJob;
import io.genguard.deploy.promql.PromQlMetricNames;
import io.genguard.moderation.job.ModerationJob;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Flink alerts see each GenGuard job on its own: one job stopping while the other runs, and a
 * job that keeps restarting (which Flink still counts as running), both page someone.
 */
class FlinkAlertRulesTest {
  /** {@code label_replace(vector(1), "job_name", "<name>", "", "")}: one expected job. */
  private static final Pattern EXPECTED_JOB =
      Pattern.compile(
          "label_replace\\(\\s*vector\\(1\\)\\s*,\\s*\"job_name\"\\s*,\\s*\"([^\"]+)\"\\s*,\\s*\"\"\\s*,\\s*\"\"\\s*\\)");

  @Test
  void shouldAlertForEachGenGuardJobThatIsNotRunningByItsJobName() {
    JsonNode rule = rule("GenGuardFlinkJobNotRunning");
    String expression = rule.path("expr").asText();

    // The names the jobs are submitted under, as the reporter labels them: one series, so one
    // alert, per job that is missing. (DashboardMetricsITCase scrapes the real reporter for them.)
    assertThat(expectedJobNames())
        .as("the jobs the rule expects, by job_name")
        .containsExactlyInAnyOrder(
            reporterLabelValue(ModerationJob.JOB_NAME),
            reporterLabelValue(BiasAggregationJob.JOB_NAME));
    assertThat(reporterLabelValue(ModerationJob.JOB_NAME)).isEqualTo("genguard_moderation");
    // uptime is above 0 only while a job is RUNNING; numRunningJobs counted the cluster's jobs
    // together, so it could not see one of the two stopping.
    assertThat(PromQlMetricNames.of(expression)).containsExactly("flink_jobmanager_job_uptime");
    assertThat(expression.replaceAll("\\s+", " "))
        .contains("unless on (job_name) (max by (job_name) (flink_jobmanager_job_uptime) > 0)");
    assertThat(rule.path("labels").path("severity").asText()).isEqualTo("critical");
    assertThat(rule.path("for").asText()).isNotBlank();
    assertThat(rule.path("annotations").path("summary").asText()).contains("$labels.job_name");
  }

  @Test
  void shouldPageWhenAJobKeepsRestarting() {
    JsonNode rule = rule("GenGuardFlinkJobRestartLoop");

    assertThat(PromQlMetricNames.of(rule.path("expr").asText()))
        .containsExactly("flink_jobmanager_job_numRestarts");
    assertThat(rule.path("labels").path("severity").asText()).isEqualTo("critical");
    assertThat(rule("GenGuardFlinkJobRestarting").path("labels").path("severity").asText())
        .as("a single restart only warns")
        .isEqualTo("warning");
  }

  /** The job_name values GenGuardFlinkJobNotRunning expects a running job under. */
  static List<String> expectedJobNames() {
    List<String> expected = new ArrayList<>();
    Matcher matcher =
        EXPECTED_JOB.matcher(rule("GenGuardFlinkJobNotRunning").path("expr").asText());
    while (matcher.find()) {
      expected.add(matcher.group(1));
    }
    return expected;
  }

  /**
   * A label value as Flink's Prometheus reporter writes it by default ({@code
   * filterLabelValueCharacters}): every character but {@code [a-zA-Z0-9:_]} becomes {@code _}.
   */
  static String reporterLabelValue(String value) {
    return value.replaceAll("[^a-zA-Z0-9:_]", "_");
  }

  static JsonNode rule(String alert) {
    for (JsonNode rule : MonitoringQueries.alertRules()) {
      if (rule.path("alert").asText().equals(alert)) {
        return rule;
      }
    }
    throw new AssertionError("no alert rule " + alert);
  }
}
