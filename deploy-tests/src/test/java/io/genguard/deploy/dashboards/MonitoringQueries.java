package io.genguard.deploy.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.deploy.promql.PromQlMetricNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Every PromQL query of the Grafana dashboards and the Prometheus alert rules, with where it is.
 */
final class MonitoringQueries {
  static final Path DASHBOARDS = Path.of("dashboards/grafana/dashboards");
  static final Path ALERT_RULES = Path.of("dashboards/prometheus/alerts.yml");

  /**
   * The rules of the compose deployment only (they expect its scrape jobs by name): prometheus.yml
   * loads them besides {@link #ALERT_RULES}, prometheus-embedded.yml does not.
   */
  static final Path COMPOSE_ALERT_RULES = Path.of("dashboards/prometheus/alerts-compose.yml");

  /** Every alert rule file, as compose's Prometheus loads them. */
  static final List<Path> ALERT_RULE_FILES = List.of(ALERT_RULES, COMPOSE_ALERT_RULES);

  /** Series Prometheus creates itself; the services do not export them. */
  static final Set<String> PROMETHEUS_BUILT_INS = Set.of("up", "ALERTS", "ALERTS_FOR_STATE");

  /**
   * Alertmanager's own metrics (Prometheus scrapes it as job {@code alertmanager}): the embedded
   * stack runs no Alertmanager, so DashboardMetricsITCase cannot compare them with a scrape;
   * AlertDeliveryTest checks the queries that use them.
   */
  static final String ALERTMANAGER_PREFIX = "alertmanager_";

  /** Whether the GenGuard services or Flink's reporter export {@code metric}. */
  static boolean exportedByTheStack(String metric) {
    return !PROMETHEUS_BUILT_INS.contains(metric) && !metric.startsWith(ALERTMANAGER_PREFIX);
  }

  private MonitoringQueries() {}

  /** One query and where it is used, e.g. "genguard-operations.json: panel 'Lag' A". */
  record Query(String location, String expression) {
    Set<String> metricNames() {
      return PromQlMetricNames.of(expression);
    }
  }

  static List<Path> dashboardFiles() {
    try (Stream<Path> files = Files.list(RepositoryFiles.root().resolve(DASHBOARDS))) {
      return files.filter(path -> path.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode readJson(Path file) {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalStateException(file + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  static JsonNode readYaml(Path file) {
    try {
      return new YAMLMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalStateException(file + " is not valid YAML: " + e.getMessage(), e);
    }
  }

  /** Every panel of a dashboard, rows' nested panels included. */
  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      panels.add(panel);
      panel.path("panels").forEach(panels::add);
    }
    return panels;
  }

  static List<Query> all() {
    List<Query> queries = new ArrayList<>();
    for (Path file : dashboardFiles()) {
      JsonNode dashboard = readJson(file);
      for (JsonNode panel : panels(dashboard)) {
        for (JsonNode target : panel.path("targets")) {
          queries.add(
              new Query(
                  file.getFileName()
                      + ": panel '"
                      + panel.path("title").asText()
                      + "' "
                      + target.path("refId").asText(),
                  target.path("expr").asText()));
        }
      }
    }
    for (Path file : ALERT_RULE_FILES) {
      for (JsonNode rule : alertRules(file)) {
        queries.add(
            new Query(
                file.getFileName() + ": " + rule.path("alert").asText(),
                rule.path("expr").asText()));
      }
    }
    return queries;
  }

  /** The rules of one rule file (a path relative to the repository root), every group's. */
  static List<JsonNode> alertRules(Path file) {
    List<JsonNode> rules = new ArrayList<>();
    for (JsonNode group : readYaml(RepositoryFiles.root().resolve(file)).path("groups")) {
      group.path("rules").forEach(rules::add);
    }
    return rules;
  }

  /** The rules of every file of {@link #ALERT_RULE_FILES}. */
  static List<JsonNode> alertRules() {
    List<JsonNode> rules = new ArrayList<>();
    ALERT_RULE_FILES.forEach(file -> rules.addAll(alertRules(file)));
    return rules;
  }

  /** Metric name to the places that query it, for the metrics the stack exports. */
  static TreeMap<String, Set<String>> usedMetrics() {
    TreeMap<String, Set<String>> used = new TreeMap<>();
    for (Query query : all()) {
      for (String name : query.metricNames()) {
        if (exportedByTheStack(name)) {
          used.computeIfAbsent(name, key -> new TreeSet<>()).add(query.location());
        }
      }
    }
    return used;
  }
}
