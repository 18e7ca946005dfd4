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
    JsonNode rules = readYaml(RepositoryFiles.root().resolve(ALERT_RULES));
    for (JsonNode group : rules.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        queries.add(
            new Query("alerts.yml: " + rule.path("alert").asText(), rule.path("expr").asText()));
      }
    }
    return queries;
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
