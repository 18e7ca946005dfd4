package io.genguard.deploy.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.GeneratorService;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml is validated by parsing, since no Docker engine runs in CI: the services it
 * must have, pinned images, health checks, start order, every variable documented in .env.example
 * with no secret committed, ports, mounts, the GPU profile and the scrape targets.
 */
class ComposeFileTest {
  private static final Set<String> REQUIRED_SERVICES =
      Set.of(
          "kafka",
          "topics",
          "postgres",
          "jobmanager",
          "taskmanager",
          "flink-jobs",
          "generator",
          "generator-gpu",
          "release-gate",
          "audit",
          "prometheus",
          "alertmanager",
          "grafana");

  /**
   * Environment keys whose values are secrets: never a literal or a non-empty default (a *_FILE key
   * names where a secret is kept, which is not itself secret). A webhook URL (a chat's or pager's)
   * carries its own credential.
   */
  private static final Pattern SECRET =
      Pattern.compile(
          "(?!.*_FILE$).*(PASSWORD|SECRET|TOKEN|API_KEY|SIGNING_KEYS|WATERMARK_KEYS|WEBHOOK_URL).*");

  /**
   * One-shot containers: each runs once per {@code docker compose up} and exits; a restart policy
   * would run them again and again. Every other service is long-running.
   */
  private static final Set<String> ONE_SHOT = Set.of("topics", "flink-jobs");

  /**
   * Services whose published ports authenticate every request that reads or changes anything: the
   * audit API (bearer tokens on every /api/v1 route but health and the OpenAPI document) and
   * Grafana (its login, sign-up off). They may be published on every interface. The others (Kafka's
   * external listener, Flink's REST API, Prometheus) have no authentication at all.
   */
  private static final Set<String> AUTHENTICATING = Set.of("audit", "grafana");

  /**
   * Variables docker-compose.yml reads that are passed on the command line of one run, never kept
   * in .env: a savepoint left there would be restored again by every later submission. .env.example
   * mentions them in a comment only.
   */
  private static final Set<String> COMMAND_LINE_ONLY =
      Set.of("GENGUARD_FLINK_SAVEPOINT_MODERATION", "GENGUARD_FLINK_SAVEPOINT_BIAS");

  private final ComposeFile compose = ComposeFile.read();

  @Test
  void shouldDefineEveryServiceOfTheDeployment() {
    assertThat(compose.serviceNames()).containsAll(REQUIRED_SERVICES);
  }

  @Test
  void shouldPinEveryImageToATag() {
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      JsonNode service = compose.services().path(name);
      String image = service.path("image").asText();
      if (image.isEmpty() && service.path("build").isMissingNode()) {
        problems.add(name + ": needs an image or a build");
        continue;
      }
      if (!image.isEmpty()) {
        String tag = image.substring(image.lastIndexOf('/') + 1);
        if (!tag.contains(":") || tag.endsWith(":latest")) {
          problems.add(name + ": image " + image + " must name a version tag, not latest");
        }
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void shouldHealthCheckEveryLongRunningServiceOthersWaitFor() {
    for (String name :
        List.of(
            "kafka",
            "postgres",
            "jobmanager",
            "generator",
            "release-gate",
            "audit",
            "prometheus",
            "grafana")) {
      JsonNode test = compose.services().path(name).path("healthcheck").path("test");
      assertThat(test.isArray() && test.size() >= 2)
          .as(name + " has a health check command")
          .isTrue();
    }
    // Over TCP: during the image's first-run initialisation only the Unix socket answers.
    assertThat(compose.services().path("postgres").path("healthcheck").path("test").get(1).asText())
        .contains("pg_isready -h 127.0.0.1 ");
  }

  @Test
  void shouldStartServicesOnlyAfterWhatTheyNeedIsReady() {
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      JsonNode dependsOn = compose.services().path(name).path("depends_on");
      dependsOn
          .fieldNames()
          .forEachRemaining(
              dependency -> {
                JsonNode target = compose.services().path(dependency);
                String condition = dependsOn.path(dependency).path("condition").asText();
                if (target.isMissingNode()) {
                  problems.add(name + " depends on unknown service " + dependency);
                } else if (condition.equals("service_healthy")
                    && target.path("healthcheck").isMissingNode()) {
                  problems.add(
                      name
                          + " waits for "
                          + dependency
                          + " to be healthy, but it has no health check");
                } else if (condition.equals("service_completed_successfully")
                    && !target.path("restart").asText().equals("no")) {
                  problems.add(
                      name
                          + " waits for one-shot "
                          + dependency
                          + ", which must have restart: \"no\"");
                } else if (!Set.of(
                        "service_healthy", "service_started", "service_completed_successfully")
                    .contains(condition)) {
                  problems.add(
                      name + " -> " + dependency + ": unknown condition '" + condition + "'");
                }
              });
    }
    assertThat(problems).isEmpty();
    assertThat(dependencies("flink-jobs"))
        .containsEntry("jobmanager", "service_healthy")
        .containsEntry("topics", "service_completed_successfully");
    assertThat(dependencies("audit")).containsEntry("postgres", "service_healthy");
    assertThat(dependencies("topics")).containsEntry("kafka", "service_healthy");
    for (String service : List.of("generator", "release-gate", "audit")) {
      assertThat(dependencies(service))
          .as(service + " starts after the topics exist")
          .containsEntry("topics", "service_completed_successfully");
    }
  }

  @Test
  void shouldStartEveryLongRunningServiceAgainAfterACrashOrAReboot() {
    // Without a restart policy (compose's default is "no") a crashed or OOM-killed service, or
    // every service after a Docker restart or a reboot, stays down: a TaskManager leaves the jobs
    // restarting with no slot, Kafka or PostgreSQL the whole pipeline, Prometheus every alert.
    // Docker's restart policies ignore depends_on, so each service needs its own.
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      String restart = compose.services().path(name).path("restart").asText();
      if (ONE_SHOT.contains(name)) {
        if (!restart.equals("no")) {
          problems.add(name + " is a one-shot: restart: \"no\", was '" + restart + "'");
        }
      } else if (!Set.of("unless-stopped", "always").contains(restart)) {
        problems.add(name + ": restart: unless-stopped, was '" + restart + "'");
      }
    }
    assertThat(problems).isEmpty();
    assertThat(compose.serviceNames()).containsAll(ONE_SHOT);
  }

  @Test
  void shouldGiveTheGeneratorsTheirWholeShutdownWaitBeforeDockerKillsThem() {
    // Docker sends SIGKILL 10 s after SIGTERM unless told otherwise; a generator's close() waits
    // up to GeneratorService.LONGEST_CLOSE for its workers, so it was killed before its wait ended.
    for (String name : List.of("generator", "generator-gpu")) {
      String grace = compose.services().path(name).path("stop_grace_period").asText();
      assertThat(grace).as(name + ": stop_grace_period in seconds ('15s')").matches("[0-9]+s");
      assertThat(Long.parseLong(grace.substring(0, grace.length() - 1)))
          .as(name + ": stop_grace_period beyond the generator's longest close")
          .isGreaterThan(GeneratorService.LONGEST_CLOSE.toSeconds());
    }
  }

  @Test
  void shouldPublishPortsWithoutAuthenticationOnThisHostOnly() {
    // As an operator runs it: .env copied from .env.example, and with no .env at all.
    Map<String, String> envFile = ComposeFile.envExample();
    List<String> problems = new ArrayList<>();
    Set<String> publishing = new TreeSet<>();
    for (String name : compose.serviceNames()) {
      for (JsonNode port : compose.services().path(name).path("ports")) {
        publishing.add(name);
        List<String> fields = ComposeFile.portFields(port.asText());
        if (fields.size() != 3) {
          problems.add(name + ": publish as HOST_IP:HOST:CONTAINER, was " + port.asText());
          continue;
        }
        String address = fields.get(0);
        if (AUTHENTICATING.contains(name)) {
          continue;
        }
        for (Map<String, String> variables : List.of(envFile, Map.<String, String>of())) {
          String resolved = ComposeFile.resolve(address, variables);
          if (!resolved.equals("127.0.0.1")) {
            problems.add(
                name
                    + " has no authentication but publishes "
                    + port.asText()
                    + " on '"
                    + resolved
                    + "' (with "
                    + (variables.isEmpty() ? "no .env" : ".env.example")
                    + "): bind it to 127.0.0.1");
          }
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(publishing)
        .contains("kafka", "jobmanager", "prometheus", "alertmanager", "audit", "grafana");
  }

  @Test
  void shouldNotServeFlinksJarUploadAndRun() throws Exception {
    // web.submit.enable governs only the web submission extension (/jars/upload, /jars/:id/run,
    // ...): Flink 2.2's DispatcherRestEndpoint adds POST /jobs, which `flink run` uses
    // (RestClusterClient sends JobSubmitHeaders), whatever it says. So the submitter keeps working,
    // and whoever reaches 8081 can no longer upload and run a jar from the UI.
    assertThat(
            ComposeFile.environment(compose.services().path("jobmanager"))
                .get("FLINK_PROPERTIES")
                .lines()
                .map(String::trim))
        .contains("web.submit.enable: false");
    String submitter = Files.readString(RepositoryFiles.resolve("docker/flink/submit-jobs.sh"));
    assertThat(submitter).contains("\"$FLINK\" \"${args[@]}\" \"$JAR\"").doesNotContain("/jars");
  }

  @Test
  void shouldTakeTheUisCancelAndRescaleAwayWithWebOptionsFlinkKnows() throws Exception {
    // Flink 2.2 reads web.cancel.enable and web.rescale.enable only into the dashboard's /config
    // features: the UI hides its cancel and rescale controls, while the REST calls (PATCH
    // /jobs/<id>, PUT /jobs/<id>/resource-requirements) are still served, which the 127.0.0.1
    // binding protects. Flink ignores a key it does not know, so each web.* key must be one of its
    // WebOptions, or the setting would do nothing without a word.
    Set<String> webOptions = new TreeSet<>();
    for (var field : org.apache.flink.configuration.WebOptions.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers())
          && field.get(null) instanceof org.apache.flink.configuration.ConfigOption<?> option) {
        webOptions.add(option.key());
      }
    }
    assertThat(webOptions).contains("web.submit.enable", "web.cancel.enable");
    List<String> unknown = new ArrayList<>();
    for (String service : List.of("jobmanager", "taskmanager")) {
      ComposeFile.environment(compose.services().path(service))
          .get("FLINK_PROPERTIES")
          .lines()
          .map(String::trim)
          .filter(line -> line.startsWith("web."))
          .map(line -> line.substring(0, line.indexOf(':')))
          .filter(key -> !webOptions.contains(key))
          .forEach(key -> unknown.add(service + ": " + key));
    }
    assertThat(unknown).as("web.* keys Flink 2.2 does not have").isEmpty();
    assertThat(
            ComposeFile.environment(compose.services().path("jobmanager"))
                .get("FLINK_PROPERTIES")
                .lines()
                .map(String::trim))
        .contains("web.cancel.enable: false", "web.rescale.enable: false");
  }

  @Test
  void shouldJournalEachFlinkSubmissionBesideTheCheckpoints() {
    JsonNode submitter = compose.services().path("flink-jobs");
    JsonNode command = submitter.path("command");
    String checkpoints =
        ComposeFile.environment(compose.services().path("jobmanager"))
            .get("FLINK_PROPERTIES")
            .lines()
            .filter(line -> line.startsWith("state.checkpoints.dir:"))
            .map(line -> line.substring(line.indexOf("file://") + "file://".length()))
            .findFirst()
            .orElseThrow();
    String volume = "flink-data:/var/lib/flink";

    // After a JobManager restart the journal is what tells which checkpoints/<job id> is which
    // job's: it must outlive the one-shot container, on the volume the checkpoints are on.
    assertThat(command.get(0).asText()).isEqualTo("/opt/genguard/submit-jobs.sh");
    assertThat(command.get(1).asText()).startsWith("/var/lib/flink/");
    assertThat(checkpoints).startsWith("/var/lib/flink/");
    assertThat(submitter.path("volumes").toString()).contains(volume);
    assertThat(compose.services().path("jobmanager").path("volumes").toString()).contains(volume);
  }

  @Test
  void shouldDocumentEveryVariableInEnvExampleAndNothingElse() throws Exception {
    Set<String> referenced = compose.referencedVariables();
    Set<String> documented = ComposeFile.envExample().keySet();

    Set<String> undocumented = new TreeSet<>(referenced);
    undocumented.removeAll(documented);
    undocumented.removeAll(COMMAND_LINE_ONLY);
    Set<String> unused = new TreeSet<>(documented);
    unused.removeAll(referenced);
    assertThat(undocumented)
        .as("variables docker-compose.yml uses but .env.example does not list")
        .isEmpty();
    assertThat(unused)
        .as("variables .env.example lists but docker-compose.yml never uses")
        .isEmpty();
    assertThat(referenced).containsAll(COMMAND_LINE_ONLY);
    assertThat(documented)
        .as("variables for one run's command line, never for .env")
        .doesNotContainAnyElementsOf(COMMAND_LINE_ONLY);
    List<String> comments =
        Files.readAllLines(RepositoryFiles.resolve(ComposeFile.ENV_EXAMPLE.toString())).stream()
            .filter(line -> line.startsWith("#"))
            .toList();
    for (String variable : COMMAND_LINE_ONLY) {
      assertThat(comments)
          .as(variable + " explained in a comment of .env.example")
          .anyMatch(line -> line.contains(variable));
    }
  }

  @Test
  void shouldTakeEveryReplicationSettingFromEnvWithADefaultTheBrokersCanHold() {
    // A literal could be changed only by editing this file; a default above the brokers compose
    // runs would fail topic creation (for the broker's own topics: every consumer group).
    Pattern replication = Pattern.compile(".*(REPLICATION_FACTOR|MIN_ISR|MIN_INSYNC_REPLICAS)");
    long brokers =
        compose.serviceNames().stream()
            .filter(
                name ->
                    compose
                        .services()
                        .path(name)
                        .path("image")
                        .asText()
                        .startsWith("apache/kafka:"))
            .count();
    Map<String, String> envFile = ComposeFile.envExample();
    Set<String> keys = new TreeSet<>();
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      ComposeFile.environment(compose.services().path(name))
          .forEach(
              (key, value) -> {
                if (!replication.matcher(key).matches()) {
                  return;
                }
                keys.add(name + " " + key);
                List<ComposeFile.Interpolation> interpolations = ComposeFile.interpolations(value);
                if (!ComposeFile.isOnlyInterpolation(value)
                    || interpolations.size() != 1
                    || !interpolations.get(0).variable().startsWith("GENGUARD_")
                    || !interpolations.get(0).operator().equals(":-")
                    || !interpolations.get(0).argument().matches("[1-9]\\d*")) {
                  problems.add(name + ": " + key + " must be ${GENGUARD_...:-N}, was " + value);
                  return;
                }
                ComposeFile.Interpolation setting = interpolations.get(0);
                if (Integer.parseInt(setting.argument()) > brokers) {
                  problems.add(
                      name
                          + ": "
                          + key
                          + " defaults above the "
                          + brokers
                          + " broker(s): "
                          + value);
                }
                if (!setting.argument().equals(envFile.get(setting.variable()))) {
                  problems.add(
                      setting.variable()
                          + ": .env.example says "
                          + envFile.get(setting.variable())
                          + ", compose defaults to "
                          + setting.argument());
                }
              });
    }
    assertThat(brokers).isPositive();
    assertThat(problems).isEmpty();
    assertThat(keys)
        .contains(
            "kafka KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            "kafka KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
            "kafka KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
            "topics GENGUARD_REPLICATION_FACTOR",
            "release-gate GENGUARD_GATE_REPLICATION_FACTOR");
  }

  @Test
  void shouldCommitNoSecret() throws Exception {
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      ComposeFile.environment(compose.services().path(name))
          .forEach(
              (key, value) -> {
                if (!SECRET.matcher(key).matches()) {
                  return;
                }
                boolean referenceOnly = ComposeFile.isOnlyInterpolation(value);
                boolean emptyOrRequired =
                    ComposeFile.interpolations(value).stream()
                        .allMatch(
                            i ->
                                i.operator().isEmpty()
                                    || i.operator().contains("?")
                                    || i.argument().isEmpty());
                if (!referenceOnly || !emptyOrRequired) {
                  problems.add(
                      name
                          + ": "
                          + key
                          + " must be ${VARIABLE:?message} (or an empty default), not a value");
                }
              });
    }
    ComposeFile.envExample()
        .forEach(
            (key, value) -> {
              if (SECRET.matcher(key).matches() && !value.isEmpty()) {
                problems.add(".env.example: " + key + " must be left empty");
              }
            });
    assertThat(problems).isEmpty();
    for (String required :
        List.of(
            "GENGUARD_POSTGRES_PASSWORD",
            "GENGUARD_GRAFANA_ADMIN_PASSWORD",
            "GENGUARD_WATERMARK_KEYS",
            "GENGUARD_SIGNING_KEYS",
            "GENGUARD_VERIFICATION_KEYS",
            "GENGUARD_ALERTMANAGER_WEBHOOK_URL")) {
      assertThat(compose.text)
          .as(required + " is required, never defaulted")
          .contains("${" + required + ":?");
    }
    assertThat(Files.readString(RepositoryFiles.resolve(".gitignore")))
        .as(".env is ignored")
        .contains("/.env");
  }

  @Test
  void shouldPublishEachHostPortOnce() {
    Map<String, String> owners = new HashMap<>();
    List<String> problems = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      for (JsonNode port : compose.services().path(name).path("ports")) {
        // [HOST_IP:]HOST:CONTAINER, where each may be an interpolation with its own ':'.
        String mapping = port.asText();
        List<String> fields = ComposeFile.portFields(mapping);
        if (fields.size() < 2 || !fields.get(fields.size() - 1).matches("\\d+")) {
          problems.add(name + ": write ports as [HOST_IP:]HOST:CONTAINER, was " + mapping);
          continue;
        }
        String host = fields.get(fields.size() - 2);
        String previous = owners.put(host, name);
        if (previous != null) {
          problems.add("host port " + host + " is published by " + previous + " and " + name);
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(owners.keySet())
        .contains(
            "${GENGUARD_AUDIT_PORT:-8080}",
            "${GENGUARD_GRAFANA_PORT:-3000}",
            "${GENGUARD_PROMETHEUS_PORT:-9090}",
            "${GENGUARD_FLINK_UI_PORT:-8081}");
  }

  @Test
  void shouldMountOnlyFilesThatExistInTheRepository() {
    List<String> missing = new ArrayList<>();
    for (String name : compose.serviceNames()) {
      for (JsonNode volume : compose.services().path(name).path("volumes")) {
        String source = volume.asText().split(":")[0];
        if (source.startsWith("./")
            && !Files.exists(RepositoryFiles.resolve(source.substring(2)))) {
          missing.add(name + ": " + source);
        }
      }
    }
    assertThat(missing).isEmpty();
    assertThat(compose.services().path("grafana").path("volumes").toString())
        .contains("./dashboards/grafana/provisioning:/etc/grafana/provisioning")
        .contains("./dashboards/grafana/dashboards:/var/lib/grafana/dashboards/genguard");
  }

  @Test
  void shouldReserveAnNvidiaGpuOnlyInTheGpuProfile() {
    JsonNode gpu = compose.services().path("generator-gpu");
    assertThat(gpu.path("profiles").toString()).isEqualTo("[\"gpu\"]");
    JsonNode device =
        gpu.path("deploy").path("resources").path("reservations").path("devices").get(0);
    assertThat(device.path("driver").asText()).isEqualTo("nvidia");
    assertThat(device.path("capabilities").toString()).contains("gpu");
    assertThat(compose.services().path("generator").path("profiles").isMissingNode())
        .as("the CPU generator runs without a profile")
        .isTrue();
  }

  @Test
  void shouldSplitTheBackendsBetweenThePoolsByOneSetting() {
    Map<String, String> gpu = ComposeFile.environment(compose.services().path("generator-gpu"));
    Map<String, String> cpu = ComposeFile.environment(compose.services().path("generator"));
    // The GPU pool answers exactly what the CPU pool leaves: one .env setting for both, so that a
    // request is never answered by both pools nor by neither. Its consumer group follows from it.
    assertThat(gpu)
        .containsEntry("GENGUARD_GENERATOR_ONLY_BACKENDS", "${GENGUARD_GENERATOR_GPU_BACKENDS:-}")
        .doesNotContainKey("GENGUARD_GENERATOR_CONSUMER_GROUP");
    assertThat(cpu)
        .containsEntry("GENGUARD_GENERATOR_LEAVE_BACKENDS", "${GENGUARD_GENERATOR_GPU_BACKENDS:-}");
  }

  @Test
  void shouldPassTheGeneratorOnlySettingsItKnows() throws Exception {
    Set<String> known = new HashSet<>();
    for (var field : GeneratorConfig.Keys.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        known.add((String) field.get(null));
      }
    }
    List<String> unknown = new ArrayList<>();
    for (String name : List.of("generator", "generator-gpu")) {
      for (String key : ComposeFile.environment(compose.services().path(name)).keySet()) {
        if (key.startsWith("GENGUARD_GENERATOR_") && !known.contains(key)) {
          unknown.add(name + ": " + key);
        }
      }
    }
    assertThat(unknown)
        .as("the generator refuses to start on unknown GENGUARD_GENERATOR_* keys")
        .isEmpty();
  }

  @Test
  void shouldPassEveryReleaseGateSettingAnOperatorMayChange() {
    Map<String, String> gate = ComposeFile.environment(compose.services().path("release-gate"));
    // A setting left out here silently falls back to its default in the container: an operator who
    // sets the state format to 1 in .env to keep a rollback possible would lose it.
    for (String key :
        List.of(
            io.genguard.moderation.gate.ReleaseGateTopology.STATE_FORMAT,
            io.genguard.moderation.gate.GateTimings.DECISION_RETENTION_HOURS,
            io.genguard.moderation.gate.GateTimings.VERDICT_TIMEOUT_SECONDS)) {
      assertThat(ComposeFile.interpolations(gate.getOrDefault(key, "")))
          .as("release-gate " + key + " from .env")
          .extracting(ComposeFile.Interpolation::variable)
          .containsExactly(key);
    }
  }

  @Test
  void shouldPassTheBiasCapsTogetherFromEnv() {
    // The runbooks' answer to refused bias gauges is to raise the audit service's cap with the bias
    // job's models per window: a key left out here keeps its default in the container, silently.
    Map<String, String> audit = ComposeFile.environment(compose.services().path("audit"));
    Map<String, String> jobs = ComposeFile.environment(compose.services().path("flink-jobs"));
    assertThat(
            ComposeFile.interpolations(audit.getOrDefault("GENGUARD_METRICS_BIAS_MAX_PAIRS", "")))
        .as("audit GENGUARD_METRICS_BIAS_MAX_PAIRS from .env, defaulting as the service does")
        .extracting(ComposeFile.Interpolation::variable, ComposeFile.Interpolation::argument)
        .containsExactly(
            tuple(
                "GENGUARD_METRICS_BIAS_MAX_PAIRS",
                String.valueOf(
                    io.genguard.observability.audit.AuditStoreCollector.DEFAULT_MAX_BIAS_GROUPS)));
    assertThat(
            ComposeFile.interpolations(
                jobs.getOrDefault(io.genguard.bias.job.BiasJobConfig.LIVE_MAX_MODELS, "")))
        .as("flink-jobs GENGUARD_BIAS_LIVE_MAX_MODELS from .env, defaulting as the job does")
        .extracting(ComposeFile.Interpolation::variable, ComposeFile.Interpolation::argument)
        .containsExactly(
            tuple(
                io.genguard.bias.job.BiasJobConfig.LIVE_MAX_MODELS,
                String.valueOf(io.genguard.bias.job.BiasJobConfig.DEFAULT_LIVE_MAX_MODELS)));
  }

  @Test
  void shouldExplainVerdictsWithTheModerationJobsKeysAndPolicy() {
    Map<String, String> audit = ComposeFile.environment(compose.services().path("audit"));
    Map<String, String> taskManager =
        ComposeFile.environment(compose.services().path("taskmanager"));
    // A verdict reproduces only with the keys that checked its provenance.
    for (String key : List.of("GENGUARD_WATERMARK_KEYS", "GENGUARD_VERIFICATION_KEYS")) {
      assertThat(ComposeFile.interpolations(audit.get(key)))
          .as("audit " + key)
          .extracting(ComposeFile.Interpolation::variable)
          .isEqualTo(
              ComposeFile.interpolations(taskManager.get(key)).stream()
                  .map(ComposeFile.Interpolation::variable)
                  .toList());
    }
    assertThat(audit.get("GENGUARD_AUDIT_EXPLAIN_KEY_DIR"))
        .as("on the audit service's volume")
        .startsWith("/var/lib/genguard/");
    assertThat(audit.containsKey("GENGUARD_AUDIT_EXPLAIN_POLICY_FILE"))
        .as("the job's policy file, if it runs with one")
        .isEqualTo(
            taskManager.containsKey("GENGUARD_POLICY_FILE")
                || ComposeFile.environment(compose.services().path("flink-jobs"))
                    .containsKey("GENGUARD_POLICY_FILE"));
  }

  @Test
  void shouldScrapeEveryServiceWhereItServesMetrics() {
    JsonNode scrape = io.genguard.deploy.dashboards.ScrapeConfig.read().path("scrape_configs");
    Map<String, Integer> targets = new HashMap<>();
    for (JsonNode job : scrape) {
      for (JsonNode discovery : job.path("dns_sd_configs")) {
        for (JsonNode host : discovery.path("names")) {
          targets.put(host.asText(), discovery.path("port").asInt());
        }
      }
    }
    Set<String> serving = new TreeSet<>(List.of("jobmanager", "taskmanager"));
    for (String service : compose.serviceNames()) {
      if (ComposeFile.environment(compose.services().path(service))
          .containsKey("GENGUARD_METRICS_PORT")) {
        serving.add(service);
      }
    }
    assertThat(serving)
        .as("services that serve /metrics, GPU pool (profile gpu) included")
        .contains("generator", "generator-gpu", "audit", "release-gate");
    assertThat(targets).as("hosts Prometheus scrapes").containsOnlyKeys(serving);
    targets.forEach(
        (service, port) -> {
          Map<String, String> env = ComposeFile.environment(compose.services().path(service));
          if (service.equals("jobmanager") || service.equals("taskmanager")) {
            assertThat(env.get("FLINK_PROPERTIES"))
                .as(service + " reporter")
                .contains(
                    "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory")
                .contains("metrics.reporter.prom.port: " + port);
          } else {
            assertThat(env)
                .as(service + " metrics endpoint")
                .containsEntry("GENGUARD_METRICS_PORT", Integer.toString(port))
                .containsEntry("GENGUARD_METRICS_HOST", "0.0.0.0");
          }
        });
  }

  private Map<String, String> dependencies(String service) {
    Map<String, String> conditions = new HashMap<>();
    JsonNode dependsOn = compose.services().path(service).path("depends_on");
    dependsOn
        .fieldNames()
        .forEachRemaining(
            name -> conditions.put(name, dependsOn.path(name).path("condition").asText()));
    return conditions;
  }
}
