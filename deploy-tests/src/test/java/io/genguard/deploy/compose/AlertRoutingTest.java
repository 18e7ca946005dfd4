package io.genguard.deploy.compose;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.deploy.dashboards.ScrapeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Firing alerts reach someone: Prometheus sends them to the compose service {@code alertmanager},
 * which routes every severity the rules use to a webhook whose URL the operator gives in .env (it
 * is in neither the repository nor the config file), critical alerts again within the hour. Read
 * from docker-compose.yml, prometheus.yml and the Alertmanager config, since no engine runs here.
 */
class AlertRoutingTest {
  private static final String CONFIG = "dashboards/alertmanager/alertmanager.yml";
  private static final String URL_VARIABLE = "GENGUARD_ALERTMANAGER_WEBHOOK_URL";

  /** Longest a firing critical alert may go without being sent again. */
  private static final Duration CRITICAL_REPEAT = Duration.ofHours(1);

  private final ComposeFile compose = ComposeFile.read();

  @Test
  void shouldSendFiringAlertsToTheAlertmanagerService() {
    List<String> targets = new ArrayList<>();
    for (JsonNode manager : ScrapeConfig.read().path("alerting").path("alertmanagers")) {
      for (JsonNode config : manager.path("static_configs")) {
        config.path("targets").forEach(target -> targets.add(target.asText()));
      }
    }
    assertThat(targets).as("prometheus.yml alerting.alertmanagers targets").isNotEmpty();
    JsonNode service = compose.services().path("alertmanager");
    assertThat(service.isMissingNode()).as("an alertmanager service in compose").isFalse();
    String command = command(service);
    Matcher listen = Pattern.compile("--web\\.listen-address=[^\\s:]*:(\\d+)").matcher(command);
    String port = listen.find() ? listen.group(1) : "9093";
    assertThat(targets).containsExactly("alertmanager:" + port);

    assertThat(service.path("image").asText()).startsWith("prom/alertmanager:v");
    // Whoever reaches Alertmanager can silence every alert: this host only (the ports test
    // checks the address), and the container port is the one Prometheus sends to.
    List<String> published = new ArrayList<>();
    service.path("ports").forEach(mapping -> published.add(mapping.asText()));
    assertThat(published).hasSize(1);
    assertThat(ComposeFile.portFields(published.get(0)))
        .hasSize(3)
        .first()
        .isEqualTo("${GENGUARD_INTERNAL_BIND_ADDRESS:-127.0.0.1}");
    assertThat(ComposeFile.portFields(published.get(0)).get(2)).isEqualTo(port);
    assertThat(service.path("restart").asText()).isEqualTo("unless-stopped");
  }

  @Test
  void shouldRunAlertmanagerWithTheRepositorysConfig() {
    JsonNode service = compose.services().path("alertmanager");
    String command = command(service);
    Matcher config = Pattern.compile("--config\\.file=(\\S+)").matcher(command);
    assertThat(config.find()).as("alertmanager --config.file in " + command).isTrue();
    List<String> volumes = new ArrayList<>();
    service.path("volumes").forEach(volume -> volumes.add(volume.asText()));
    assertThat(volumes).contains("./" + CONFIG + ":" + config.group(1) + ":ro");
    assertThat(command)
        .as("the process is alertmanager itself (exec), so that docker stop reaches it")
        .contains("exec /bin/alertmanager ");
  }

  @Test
  void shouldTakeTheWebhookUrlFromTheOperatorNotFromTheRepository() throws IOException {
    String text = Files.readString(RepositoryFiles.resolve(CONFIG));
    assertThat(text).as(CONFIG + " holds no URL").doesNotContainPattern("(?i)\\b[a-z]+://");
    JsonNode config = new YAMLMapper().readTree(text);

    JsonNode service = compose.services().path("alertmanager");
    String command = command(service);
    // The entrypoint writes the variable to the file url_file reads.
    Matcher written =
        Pattern.compile("printf '%s' \"\\$\\$" + URL_VARIABLE + "\" > (\\S+)").matcher(command);
    assertThat(written.find()).as("the entrypoint writes " + URL_VARIABLE).isTrue();
    assertThat(command).as("owner-only").contains("umask 077");
    Map<String, String> env = ComposeFile.environment(service);
    assertThat(ComposeFile.interpolations(env.getOrDefault(URL_VARIABLE, "")))
        .as(URL_VARIABLE + " from .env, required, no default")
        .extracting(i -> i.variable() + " " + i.operator())
        .containsExactly(URL_VARIABLE + " :?");

    List<String> problems = new ArrayList<>();
    for (JsonNode receiver : config.path("receivers")) {
      receiver
          .fieldNames()
          .forEachRemaining(
              field -> {
                if (!field.equals("name") && !field.equals("webhook_configs")) {
                  problems.add(receiver.path("name").asText() + ": " + field);
                }
              });
      for (JsonNode webhook : receiver.path("webhook_configs")) {
        if (webhook.has("url") || !webhook.path("url_file").asText().equals(written.group(1))) {
          problems.add(
              receiver.path("name").asText()
                  + ": url_file "
                  + written.group(1)
                  + " (what the entrypoint writes), no url; was "
                  + webhook);
        }
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void shouldRouteEverySeverityToTheWebhookAndRepeatCriticalAlertsWithinTheHour() {
    JsonNode config = readYaml(CONFIG);
    Set<String> webhookReceivers = new TreeSet<>();
    for (JsonNode receiver : config.path("receivers")) {
      if (receiver.path("webhook_configs").size() > 0) {
        webhookReceivers.add(receiver.path("name").asText());
      }
    }
    Set<String> severities = new TreeSet<>();
    for (String file :
        List.of("dashboards/prometheus/alerts.yml", "dashboards/prometheus/alerts-compose.yml")) {
      for (JsonNode group : readYaml(file).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          severities.add(rule.path("labels").path("severity").asText());
        }
      }
    }
    assertThat(severities).contains("critical", "warning");
    for (String severity : severities) {
      // Alertmanager's default repeat interval is 4h.
      Route route = routeOf(config.path("route"), severity, "", "4h");
      assertThat(webhookReceivers)
          .as(severity + " alerts reach a webhook receiver")
          .contains(route.receiver());
      if (severity.equals("critical")) {
        assertThat(route.repeatInterval())
            .as("a firing critical alert is sent again within " + CRITICAL_REPEAT)
            .isLessThanOrEqualTo(CRITICAL_REPEAT);
      }
    }
  }

  /** The route an alert with only a {@code severity} label ends at, as Alertmanager matches. */
  private record Route(String receiver, Duration repeatInterval) {}

  private static Route routeOf(JsonNode node, String severity, String receiver, String repeat) {
    String here = node.path("receiver").asText(receiver);
    String interval = node.path("repeat_interval").asText(repeat);
    for (JsonNode child : node.path("routes")) {
      if (matches(child, severity)) {
        return routeOf(child, severity, here, interval);
      }
    }
    return new Route(here, duration(interval));
  }

  private static boolean matches(JsonNode route, String severity) {
    for (JsonNode matcher : route.path("matchers")) {
      Matcher equal =
          Pattern.compile("^\\s*(\\w+)\\s*=\\s*\"?([^\"]*)\"?\\s*$").matcher(matcher.asText());
      if (!equal.matches()) {
        throw new IllegalStateException("matcher this test cannot read: " + matcher.asText());
      }
      String value = equal.group(1).equals("severity") ? severity : "";
      if (!value.equals(equal.group(2))) {
        return false;
      }
    }
    return true;
  }

  private static Duration duration(String text) {
    Matcher matcher = Pattern.compile("(\\d+)([smhd])").matcher(text);
    Duration total = Duration.ZERO;
    while (matcher.find()) {
      long amount = Long.parseLong(matcher.group(1));
      total =
          total.plus(
              switch (matcher.group(2)) {
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
              });
    }
    return total;
  }

  private static String command(JsonNode service) {
    List<String> parts = new ArrayList<>();
    service.path("entrypoint").forEach(part -> parts.add(part.asText()));
    service.path("command").forEach(part -> parts.add(part.asText()));
    return String.join(" ", parts).replaceAll("\\s+", " ");
  }

  private static JsonNode readYaml(String file) {
    try {
      return new YAMLMapper().readTree(RepositoryFiles.resolve(file).toFile());
    } catch (IOException e) {
      throw new IllegalStateException(file + " is not valid YAML: " + e.getMessage(), e);
    }
  }
}
