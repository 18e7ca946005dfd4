package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.deploy.promql.PromQlMetricNames;
import io.genguard.deploy.promql.PromQlMetricNames.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A notification Alertmanager could not deliver is itself seen: Prometheus scrapes Alertmanager, an
 * alert fires on its failed-notification counter for every integration the receivers use, and since
 * that alert goes to the same (failing) webhook, a dashboard panel and the runbook show operators
 * where to look instead. No Alertmanager runs in the embedded stack, so the metric names are
 * checked against the ones Alertmanager's notify package registers rather than a scrape.
 */
class AlertDeliveryTest {
  private static final String ALERT = "GenGuardAlertDeliveryFailed";
  private static final String FAILED = "alertmanager_notifications_failed_total";
  private static final Path ALERTMANAGER_CONFIG =
      Path.of("dashboards/alertmanager/alertmanager.yml");

  /**
   * The counters and histogram Alertmanager's notify package registers (NewMetrics) about sending
   * notifications, each labelled by {@code integration} and set up at 0 for each integration.
   */
  private static final Set<String> ALERTMANAGER_NOTIFY_METRICS =
      Set.of(
          "alertmanager_notifications_total",
          FAILED,
          "alertmanager_notification_requests_total",
          "alertmanager_notification_requests_failed_total",
          "alertmanager_notification_latency_seconds_bucket",
          "alertmanager_notification_latency_seconds_count",
          "alertmanager_notification_latency_seconds_sum");

  @Test
  void shouldScrapeTheAlertmanagerPrometheusSendsAlertsTo() {
    JsonNode config = ScrapeConfig.read();
    List<String> alerting = new ArrayList<>();
    for (JsonNode manager : config.path("alerting").path("alertmanagers")) {
      for (JsonNode group : manager.path("static_configs")) {
        group.path("targets").forEach(target -> alerting.add(target.asText()));
      }
    }
    List<String> scraped = new ArrayList<>();
    for (JsonNode job : config.path("scrape_configs")) {
      if (job.path("job_name").asText().equals("alertmanager")) {
        assertThat(job.path("metrics_path").asText("/metrics")).isEqualTo("/metrics");
        for (JsonNode group : job.path("static_configs")) {
          group.path("targets").forEach(target -> scraped.add(target.asText()));
        }
      }
    }
    assertThat(alerting).isNotEmpty();
    assertThat(scraped).as("targets of scrape job alertmanager").isEqualTo(alerting);
  }

  @Test
  void shouldAlertWhenANotificationToAnyReceiverIntegrationFails() {
    Set<String> integrations = new TreeSet<>();
    JsonNode receivers =
        MonitoringQueries.readYaml(RepositoryFiles.root().resolve(ALERTMANAGER_CONFIG))
            .path("receivers");
    for (JsonNode receiver : receivers) {
      receiver
          .fieldNames()
          .forEachRemaining(
              field -> {
                if (field.endsWith("_configs")) {
                  integrations.add(field.substring(0, field.length() - "_configs".length()));
                }
              });
    }
    assertThat(integrations).as("integrations of alertmanager.yml's receivers").contains("webhook");

    JsonNode rule = FlinkAlertRulesTest.rule(ALERT);
    String expression = rule.path("expr").asText();
    assertThat(PromQlMetricNames.of(expression)).containsExactly(FAILED);
    assertThat(expression).containsPattern("\\b(increase|rate)\\(" + FAILED + "\\b");
    List<Selector> selectors = PromQlMetricNames.selectors(expression);
    assertThat(selectors).isNotEmpty();
    for (String integration : integrations) {
      assertThat(selectors)
          .as("every failed send to " + integration + " counts")
          .allMatch(selector -> selects(selector, "integration", integration));
    }
    assertThat(rule.path("labels").path("severity").asText()).isEqualTo("critical");
  }

  @Test
  void shouldShowUndeliveredNotificationsOnADashboardAndSayWhereInTheRunbook() throws Exception {
    List<String> panels = new ArrayList<>();
    for (Path file : MonitoringQueries.dashboardFiles()) {
      for (JsonNode panel : MonitoringQueries.panels(MonitoringQueries.readJson(file))) {
        for (JsonNode target : panel.path("targets")) {
          for (Selector selector : PromQlMetricNames.selectors(target.path("expr").asText())) {
            if (selector.metric().equals(FAILED) && selects(selector, "integration", "webhook")) {
              panels.add(panel.path("title").asText());
            }
          }
        }
      }
    }
    assertThat(panels).as("panels showing failed webhook notifications").isNotEmpty();

    String section = runbookSection(ALERT);
    assertThat(section)
        .as("the runbook names the panel, since the alert may not get through itself")
        .contains(panels.get(0));
    assertThat(section).as("and Prometheus' own Alerts page").contains("127.0.0.1:9090/alerts");
  }

  @Test
  void shouldQueryOnlyMetricsAlertmanagerExports() {
    List<String> unknown = new ArrayList<>();
    for (MonitoringQueries.Query query : MonitoringQueries.all()) {
      for (String metric : query.metricNames()) {
        if (metric.startsWith(MonitoringQueries.ALERTMANAGER_PREFIX)
            && !ALERTMANAGER_NOTIFY_METRICS.contains(metric)) {
          unknown.add(query.location() + ": " + metric);
        }
      }
    }
    assertThat(unknown).isEmpty();
    assertThat(MonitoringQueries.exportedByTheStack(FAILED))
        .as("left out of DashboardMetricsITCase's scrape of the embedded stack")
        .isFalse();
    assertThat(MonitoringQueries.exportedByTheStack("genguard_audit_verdicts_total")).isTrue();
  }

  /** Whether {@code selector} selects series whose {@code label} is {@code value}. */
  private static boolean selects(Selector selector, String label, String value) {
    return selector.matchers().stream()
        .filter(matcher -> matcher.label().equals(label))
        .allMatch(
            matcher ->
                switch (matcher.operator()) {
                  case "=" -> matcher.value().equals(value);
                  case "!=" -> !matcher.value().equals(value);
                  case "=~" -> Pattern.matches(matcher.value(), value);
                  default -> !Pattern.matches(matcher.value(), value);
                });
  }

  /** The text of the {@code ### title} section of docs/OPERATIONS.md, up to the next heading. */
  private static String runbookSection(String title) throws Exception {
    List<String> lines = Files.readAllLines(RepositoryFiles.resolve("docs/OPERATIONS.md"));
    int start = lines.indexOf("### " + title);
    assertThat(start).as("docs/OPERATIONS.md has ### " + title).isNotNegative();
    StringBuilder section = new StringBuilder();
    for (int i = start + 1; i < lines.size() && !lines.get(i).startsWith("#"); i++) {
      section.append(lines.get(i)).append('\n');
    }
    return section.toString().replaceAll("\\s+", " ");
  }
}
