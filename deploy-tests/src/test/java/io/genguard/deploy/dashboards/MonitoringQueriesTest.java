package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.deploy.promql.PromQlMetricNames;
import io.genguard.deploy.promql.PromQlMetricNames.Matcher;
import io.genguard.deploy.promql.PromQlMetricNames.Selector;
import io.genguard.stack.DeadLetterRedrive;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What the dashboards' and alert rules' queries select and how they aggregate it. */
class MonitoringQueriesTest {
  /**
   * Counters every audit replica exports with the same totals (AuditStoreCollector: totals stored
   * in the audit database): summed over replicas they count N times.
   */
  private static final Set<String> AUDIT_STORE_COUNTERS =
      Set.of(
          "genguard_audit_events_total",
          "genguard_audit_verdicts_total",
          "genguard_audit_verdict_categories_total",
          "genguard_audit_verdict_reasons_total",
          "genguard_audit_gate_outcomes_total",
          "genguard_audit_dead_letters_total",
          "genguard_audit_review_decisions_total",
          "genguard_audit_generation_failures_total",
          "genguard_audit_outputs_total",
          "genguard_audit_output_tokens_total",
          "genguard_bias_live_alerts_total");

  @Test
  void shouldTakeTheMaxOverReplicasOfEveryAuditStoreCounterBeforeSummingIt() {
    Pattern perSeries = Pattern.compile("\\b(increase|rate)\\((genguard_[a-z_]+_total)\\b");
    Pattern maxOverReplicas =
        Pattern.compile(
            "max (without \\(instance\\)|by \\([a-z_, ]+\\)) \\((increase|rate)\\((genguard_[a-z_]+_total)\\b");
    List<String> summedOverReplicas = new ArrayList<>();
    for (MonitoringQueries.Query query : MonitoringQueries.all()) {
      long storeCounters =
          perSeries
              .matcher(query.expression())
              .results()
              .filter(match -> AUDIT_STORE_COUNTERS.contains(match.group(2)))
              .count();
      long underMax =
          maxOverReplicas
              .matcher(query.expression())
              .results()
              .filter(match -> AUDIT_STORE_COUNTERS.contains(match.group(3)))
              .count();
      if (storeCounters != underMax) {
        summedOverReplicas.add(query.location() + ": " + query.expression());
      }
    }

    assertThat(summedOverReplicas)
        .as("queries that add up an audit-store counter over audit replicas")
        .isEmpty();
  }

  @Test
  void shouldTakeTheLagOfAGroupAsTheMaxOverReplicasNotTheirSum() {
    List<String> summed =
        MonitoringQueries.all().stream()
            .filter(query -> query.expression().contains("genguard_kafka_consumer_group_lag"))
            .filter(query -> Pattern.compile("\\bsum\\b").matcher(query.expression()).find())
            .map(query -> query.location() + ": " + query.expression())
            .toList();

    assertThat(summed).isEmpty();
  }

  @Test
  void shouldAlertOnTheEndToEndLatencyOfDecisionsOnAVerdictOnly() {
    List<Selector> latency =
        selectors("alerts.yml: GenGuardEndToEndLatencyHigh").stream()
            .filter(selector -> selector.metric().startsWith("genguard_end_to_end_latency"))
            .toList();

    assertThat(latency).isNotEmpty();
    assertThat(latency)
        .as("releases after a review, holds after the verdict timeout wait for people")
        .allSatisfy(selector -> assertThat(selector.equality("basis")).isEqualTo("VERDICT"));
  }

  @Test
  void shouldShowThePendingRecordsOfTheModerationJobsSourceOnly() {
    List<Selector> pending =
        MonitoringQueries.all().stream()
            .flatMap(query -> PromQlMetricNames.selectors(query.expression()).stream())
            .filter(
                selector ->
                    selector.metric().equals("flink_taskmanager_job_task_operator_pendingRecords"))
            .toList();

    assertThat(pending).isNotEmpty();
    assertThat(pending)
        .as("the bias job reads moderation.verdicts: its backlog is not the moderation source's")
        .allSatisfy(
            selector -> assertThat(selector.equality("job_name")).isEqualTo("genguard_moderation"));
  }

  @Test
  void shouldLeaveTheDeadLetterRedriveGroupOutOfTheLagAlerts() {
    for (String alert : List.of("GenGuardConsumerLagHigh", "GenGuardUnreadNearRetention")) {
      List<Selector> lag =
          selectors("alerts.yml: " + alert).stream()
              .filter(selector -> selector.metric().startsWith("genguard_kafka_consumer_group_lag"))
              .toList();

      assertThat(lag).as(alert).isNotEmpty();
      assertThat(lag)
          .as(alert + ": a redrive run's group is no stage, and it reads the dead letters once")
          .allSatisfy(
              selector ->
                  assertThat(selector.matchers())
                      .contains(new Matcher("group", "!=", DeadLetterRedrive.DEFAULT_GROUP)));
    }
  }

  @Test
  void shouldNotCountRequestsRefusedAsInvalidAsFailingBackends() {
    Selector failures =
        selectors("alerts.yml: GenGuardGenerationFailureRateHigh").stream()
            .filter(selector -> "failure".equals(selector.equality("outcome")))
            .findFirst()
            .orElseThrow();

    assertThat(failures.matchers())
        .contains(new Matcher("code", "!~", "invalid_request|unknown_backend"));
  }

  @Test
  void shouldAlertOnWhatStallsTheGateTheBiasJobAndTheLagCollectorWithoutAnError() {
    List<String> alerted =
        MonitoringQueries.all().stream()
            .filter(query -> query.location().startsWith("alerts.yml: "))
            .flatMap(query -> query.metricNames().stream())
            .toList();

    assertThat(alerted)
        .contains(
            "kafka_stream_failed_stream_threads_total",
            "flink_taskmanager_job_task_operator_genguard_unscored_verdicts",
            "flink_taskmanager_job_task_operator_genguard_late_live_verdicts",
            "flink_taskmanager_job_task_operator_genguard_retired_campaign_verdicts",
            "genguard_kafka_lag_collector_last_success_timestamp_seconds",
            "genguard_kafka_lag_age_unread_total");
  }

  private static List<Selector> selectors(String location) {
    MonitoringQueries.Query query =
        MonitoringQueries.all().stream()
            .filter(candidate -> candidate.location().equals(location))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no query at " + location));
    return PromQlMetricNames.selectors(query.expression());
  }
}
