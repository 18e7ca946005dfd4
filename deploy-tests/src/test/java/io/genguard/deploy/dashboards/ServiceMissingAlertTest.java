package io.genguard.deploy.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.deploy.promql.PromQlMetricNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /**
   * The embedded stack scrapes other jobs (genguard-embedded, flink-embedded) than compose: a rule
   * that expects a job by name fires for each expected job a configuration does not scrape. So
   * every job the rules a configuration loads expect by name must be one of its scrape jobs, and
   * compose loads every rule file.
   */
  @Test
  void shouldLoadOnlyRulesThatExpectJobsTheConfigurationScrapes() {
    assertThat(ruleFiles(ScrapeConfig.FILE))
        .as(ScrapeConfig.FILE + " loads every rule file")
        .containsExactlyInAnyOrderElementsOf(MonitoringQueries.ALERT_RULE_FILES);
    assertThat(ruleFiles(ScrapeConfig.EMBEDDED_FILE))
        .as(ScrapeConfig.EMBEDDED_FILE + " loads the shared rules")
        .contains(MonitoringQueries.ALERT_RULES);

    for (Path config : List.of(ScrapeConfig.FILE, ScrapeConfig.EMBEDDED_FILE)) {
      Set<String> scraped = new TreeSet<>();
      for (JsonNode job : readConfig(config).path("scrape_configs")) {
        scraped.add(job.path("job_name").asText());
      }
      List<String> unscraped = new ArrayList<>();
      for (Path file : ruleFiles(config)) {
        for (JsonNode rule : MonitoringQueries.alertRules(file)) {
          for (String job : expectedJobs(rule.path("expr").asText())) {
            if (!scraped.contains(job)) {
              unscraped.add(file.getFileName() + ": " + rule.path("alert").asText() + ": " + job);
            }
          }
        }
      }
      assertThat(unscraped)
          .as(config + " loads rules that expect jobs it does not scrape (they would always fire)")
          .isEmpty();
    }
  }

  /** The jobs an expression expects by name. */
  private static Set<String> expectedJobs(String expression) {
    Set<String> jobs = new TreeSet<>();
    for (Pattern pattern : List.of(ABSENT, EXPECTED_JOB)) {
      Matcher matcher = pattern.matcher(expression);
      while (matcher.find()) {
        jobs.add(matcher.group(1));
      }
    }
    return jobs;
  }

  /**
   * The rule files a Prometheus configuration loads, relative to the repository root: a relative
   * entry is relative to the configuration's directory (as Prometheus reads it), an absolute one is
   * a file docker-compose.yml mounts into the prometheus service.
   */
  private static List<Path> ruleFiles(Path config) {
    Map<String, Path> mounts = new HashMap<>();
    JsonNode compose = MonitoringQueries.readYaml(RepositoryFiles.resolve("docker-compose.yml"));
    for (JsonNode volume : compose.path("services").path("prometheus").path("volumes")) {
      String[] parts = volume.asText().split(":");
      if (parts.length >= 2 && parts[0].startsWith("./")) {
        mounts.put(parts[1], Path.of(parts[0].substring(2)));
      }
    }
    List<Path> files = new ArrayList<>();
    for (JsonNode entry : readConfig(config).path("rule_files")) {
      String name = entry.asText();
      if (name.startsWith("/")) {
        assertThat(mounts).as("docker-compose.yml mounts " + name).containsKey(name);
        files.add(mounts.get(name));
      } else {
        files.add(config.resolveSibling(name).normalize());
      }
    }
    return files;
  }

  private static JsonNode readConfig(Path config) {
    return MonitoringQueries.readYaml(RepositoryFiles.root().resolve(config));
  }

  private static List<JsonNode> rules() {
    List<JsonNode> all = new ArrayList<>();
    for (Path file : ruleFiles(ScrapeConfig.FILE)) {
      all.addAll(MonitoringQueries.alertRules(file));
    }
    return all;
  }
}
