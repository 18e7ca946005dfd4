package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The Grafana provisioning files and dashboards are complete and consistent with each other. */
class DashboardProvisioningTest {
  private static final Path DATASOURCES =
      Path.of("dashboards/grafana/provisioning/datasources/prometheus.yml");
  private static final Path PROVIDERS =
      Path.of("dashboards/grafana/provisioning/dashboards/genguard.yml");

  @Test
  void shouldProvisionOnePrometheusDatasourceWithAStableUid() {
    JsonNode datasources =
        MonitoringQueries.readYaml(RepositoryFiles.root().resolve(DATASOURCES)).path("datasources");

    assertThat(datasources).hasSize(1);
    assertThat(datasources.get(0).path("type").asText()).isEqualTo("prometheus");
    assertThat(datasources.get(0).path("uid").asText()).isEqualTo(datasourceUid());
    assertThat(datasources.get(0).path("url").asText()).isEqualTo("http://prometheus:9090");
  }

  @Test
  void shouldLoadDashboardsFromTheFolderDockerComposeMounts() {
    JsonNode provider =
        MonitoringQueries.readYaml(RepositoryFiles.root().resolve(PROVIDERS))
            .path("providers")
            .get(0);

    assertThat(provider.path("type").asText()).isEqualTo("file");
    assertThat(provider.path("options").path("path").asText())
        .isEqualTo("/var/lib/grafana/dashboards/genguard");
  }

  @Test
  void shouldShipAnOperationsAndAComplianceDashboardWithUniqueUids() {
    Set<String> uids = new HashSet<>();
    for (Path file : MonitoringQueries.dashboardFiles()) {
      JsonNode dashboard = MonitoringQueries.readJson(file);
      assertThat(dashboard.path("uid").asText()).as(file + " uid").isNotBlank();
      assertThat(uids.add(dashboard.path("uid").asText())).as(file + " uid is unique").isTrue();
      assertThat(dashboard.path("title").asText()).as(file + " title").isNotBlank();
    }
    assertThat(uids).contains("genguard-operations", "genguard-compliance");
  }

  @Test
  void shouldGiveEveryPanelATitleADescriptionAndQueriesOnTheProvisionedDatasource() {
    List<String> problems = new ArrayList<>();
    for (Path file : MonitoringQueries.dashboardFiles()) {
      Set<Integer> ids = new HashSet<>();
      for (JsonNode panel : MonitoringQueries.panels(MonitoringQueries.readJson(file))) {
        String where = file.getFileName() + " panel '" + panel.path("title").asText() + "'";
        if (!ids.add(panel.path("id").asInt())) {
          problems.add(where + ": duplicate id " + panel.path("id").asInt());
        }
        if (panel.path("type").asText().equals("row")) {
          continue;
        }
        if (panel.path("title").asText().isBlank()
            || panel.path("description").asText().isBlank()) {
          problems.add(where + ": needs a title and a description");
        }
        if (!panel.path("datasource").path("uid").asText().equals(datasourceUid())) {
          problems.add(where + ": datasource is not " + datasourceUid());
        }
        if (panel.path("targets").isEmpty()) {
          problems.add(where + ": has no query");
        }
        for (JsonNode target : panel.path("targets")) {
          if (target.path("expr").asText().isBlank()) {
            problems.add(where + " " + target.path("refId").asText() + ": empty expression");
          }
        }
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void shouldSelectAtLeastOneMetricInEveryQuery() {
    List<String> withoutMetric =
        MonitoringQueries.all().stream()
            .filter(query -> query.metricNames().isEmpty())
            .map(query -> query.location() + ": " + query.expression())
            .toList();

    assertThat(withoutMetric).isEmpty();
  }

  @Test
  void shouldGiveEveryAlertASeverityASummaryAndARunbookLink() {
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (JsonNode rule : MonitoringQueries.alertRules()) {
      String alert = rule.path("alert").asText();
      if (!names.add(alert)) {
        problems.add(alert + ": defined twice");
      }
      if (!Set.of("critical", "warning", "info")
          .contains(rule.path("labels").path("severity").asText())) {
        problems.add(alert + ": severity must be critical, warning or info");
      }
      if (rule.path("annotations").path("summary").asText().isBlank()) {
        problems.add(alert + ": needs a summary");
      }
      if (!rule.path("annotations")
          .path("runbook")
          .asText()
          .equals("docs/OPERATIONS.md#" + alert.toLowerCase())) {
        problems.add(alert + ": runbook must be docs/OPERATIONS.md#" + alert.toLowerCase());
      }
    }
    assertThat(names).isNotEmpty();
    assertThat(problems).isEmpty();
  }

  @Test
  void shouldExplainEveryAlertInTheRunbookAndNoAlertThatDoesNotExist() throws Exception {
    Set<String> alerts = new java.util.TreeSet<>();
    MonitoringQueries.alertRules().forEach(rule -> alerts.add(rule.path("alert").asText()));
    Set<String> documented = new java.util.TreeSet<>();
    for (String line :
        java.nio.file.Files.readAllLines(RepositoryFiles.resolve("docs/OPERATIONS.md"))) {
      if (line.startsWith("### GenGuard")) {
        documented.add(line.substring(4).trim());
      }
    }

    assertThat(documented).as("'### <alert>' sections of docs/OPERATIONS.md").isEqualTo(alerts);
  }

  private static String datasourceUid() {
    return "genguard-prometheus";
  }
}
