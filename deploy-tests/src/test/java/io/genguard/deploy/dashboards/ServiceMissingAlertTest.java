package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.deploy.promql.PromQlMetricNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Prometheus finds the compose services by DNS: while no container of a service runs, its name does
 * not resolve, the target is dropped and there is no {@code up} series at all, so {@code up == 0}
 * (GenGuardTargetDown) cannot fire for a stopped or crash-looping service. Each scrape job that
 * always runs must have an alert that fires when its {@code up} series are absent, as well as when
 * they are 0.
 */
class ServiceMissingAlertTest {
  /**
   * Scrape jobs no alert expects: the GPU pool runs only with its compose profile, and Prometheus
   * cannot report its own absence.
   */
  private static final Set<String> OPTIONAL_JOBS = Set.of("generator-gpu", "prometheus");

  /** {@code absent(up{job="X"})} or {@code absent_over_time(up{job="X"}[...])}. */
  private static final Pattern ABSENT =
      Pattern.compile("absent(?:_over_time)?\\(\\s*up\\s*\\{\\s*job\\s*=\\s*\"([^\"]+)\"\\s*}");

  /** {@code label_replace(vector(1), "job", "X", "", "")}: one job expected by name. */
  private static final Pattern EXPECTED_JOB =
      Pattern.compile(
          "label_replace\\(\\s*vector\\(1\\)\\s*,\\s*\"job\"\\s*,\\s*\"([^\"]+)\"\\s*,\\s*\"\"\\s*,\\s*\"\"\\s*\\)");

  /** What removes an expected job from the alert: at least one of its targets is up. */
  private static final String UNLESS_ONE_IS_UP = "unless on (job) (max by (job) (up) == 1)";

  @Test
  void shouldAlertForEveryAlwaysOnScrapeJobWhoseTargetsAreGoneOrDown() {
    Set<String> required = new TreeSet<>();
    for (JsonNode job : ScrapeConfig.read().path("scrape_configs")) {
      required.add(job.path("job_name").asText());
    }
    required.removeAll(OPTIONAL_JOBS);
    assertThat(required)
        .as("always-on scrape jobs")
        .contains("generator", "audit", "release-gate", "flink-jobmanager", "flink-taskmanager");

    Set<String> covered = new TreeSet<>();
    List<String> problems = new ArrayList<>();
    for (JsonNode rule : rules()) {
      String expression = rule.path("expr").asText();
      Set<String> jobs = new TreeSet<>();
      Matcher absent = ABSENT.matcher(expression);
      while (absent.find()) {
        jobs.add(absent.group(1));
      }
      Matcher expected = EXPECTED_JOB.matcher(expression);
      boolean expectsByName = false;
      while (expected.find()) {
        jobs.add(expected.group(1));
        expectsByName = true;
      }
      if (jobs.isEmpty()) {
        continue;
      }
      String alert = rule.path("alert").asText();
      if (expectsByName
          && !expression.replaceAll("\\s+", " ").replace("( ", "(").contains(UNLESS_ONE_IS_UP)) {
        problems.add(alert + ": an expected job must be dropped only " + UNLESS_ONE_IS_UP);
        continue;
      }
      if (!PromQlMetricNames.of(expression).equals(Set.of("up"))) {
        problems.add(alert + ": reads " + PromQlMetricNames.of(expression) + ", not only up");
        continue;
      }
      if (!rule.path("labels").path("severity").asText().equals("critical")) {
        problems.add(alert + ": a service that is gone pages (severity critical)");
        continue;
      }
      covered.addAll(jobs);
    }
    assertThat(problems).isEmpty();
    assertThat(covered).as("scrape jobs an alert expects by name").containsAll(required);
    assertThat(required).as("every expected job is scraped").containsAll(covered);
  }

  private static List<JsonNode> rules() {
    List<JsonNode> all = new ArrayList<>();
    JsonNode file =
        MonitoringQueries.readYaml(RepositoryFiles.root().resolve(MonitoringQueries.ALERT_RULES));
    for (JsonNode group : file.path("groups")) {
      group.path("rules").forEach(all::add);
    }
    return all;
  }
}
