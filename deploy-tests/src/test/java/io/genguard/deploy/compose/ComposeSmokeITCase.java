package io.genguard.deploy.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.deploy.RepositoryFiles;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.watermark.WatermarkKey;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * docker-compose.yml for real, where a Docker engine exists: builds the images, starts everything,
 * sends one request through the audit API and waits for the gate's outcome; checks that Prometheus
 * scrapes the services and Grafana has both dashboards. Skipped without Docker (ComposeFileTest and
 * DockerfilesTest validate the files then).
 */
class ComposeSmokeITCase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldGateARequestEndToEndOnTheComposeDeployment() throws Exception {
    assumeTrue(
        DockerClientFactory.instance().isDockerAvailable(),
        "No Docker engine here: the docker compose smoke test runs only where Docker exists;"
            + " ComposeFileTest and DockerfilesTest validated docker-compose.yml and the Dockerfiles");
    String grafanaPassword = UUID.randomUUID().toString();
    SigningKey signing = SigningKey.generate("sign-smoke");
    Map<String, String> env =
        Map.of(
            "GENGUARD_POSTGRES_PASSWORD",
            UUID.randomUUID().toString(),
            "GENGUARD_GRAFANA_ADMIN_PASSWORD",
            grafanaPassword,
            "GENGUARD_WATERMARK_KEYS",
            WatermarkKey.generate("wm-smoke").toConfigEntry(),
            "GENGUARD_SIGNING_KEYS",
            signing.toConfigEntry(),
            "GENGUARD_VERIFICATION_KEYS",
            signing.id() + ":" + signing.publicKeyBase64(),
            // Nothing listens there: the smoke test reads no notification.
            "GENGUARD_ALERTMANAGER_WEBHOOK_URL",
            "http://127.0.0.1:9/genguard-smoke");

    try (ComposeContainer compose =
        new ComposeContainer(RepositoryFiles.resolve("docker-compose.yml").toFile())
            .withBuild(true)
            .withEnv(env)
            .withExposedService(
                "audit", 8080, Wait.forListeningPort().withStartupTimeout(Duration.ofMinutes(15)))
            .withExposedService(
                "prometheus",
                9090,
                Wait.forHttp("/-/ready").withStartupTimeout(Duration.ofMinutes(5)))
            .withExposedService(
                "grafana",
                3000,
                Wait.forHttp("/api/health").withStartupTimeout(Duration.ofMinutes(5)))) {
      compose.start();
      String audit =
          "http://"
              + compose.getServiceHost("audit", 8080)
              + ":"
              + compose.getServicePort("audit", 8080);
      String token =
          compose
              .getContainerByServiceName("audit")
              .orElseThrow()
              .execInContainer("cat", "/var/lib/genguard/admin-token")
              .getStdout()
              .trim();

      String requestId = submit(audit, token, "{\"prompt\":\"The committee met to discuss\"}");
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofSeconds(2))
          .until(
              () -> {
                HttpResponse<String> story =
                    http.send(
                        HttpRequest.newBuilder(URI.create(audit + "/api/v1/requests/" + requestId))
                            .header("Authorization", "Bearer " + token)
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                return story.statusCode() == 200
                    && Set.of("RELEASED", "QUARANTINED", "HELD_FOR_REVIEW")
                        .contains(JSON.readTree(story.body()).path("status").asText());
              });

      // Explanations are on in compose: a held output is judged again and explained from the
      // audit record with the TaskManagers' keys.
      String held =
          submit(
              audit,
              token,
              "{\"prompt\":\"shut up you worthless stupid bitch, nobody wants you here\","
                  + "\"backend\":\"echo\"}");
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofSeconds(2))
          .until(
              () ->
                  Set.of("QUARANTINED", "HELD_FOR_REVIEW")
                      .contains(
                          bearer(audit + "/api/v1/requests/" + held, token)
                              .path("status")
                              .asText()));
      JsonNode explanation = bearer(audit + "/api/v1/requests/" + held + "/explanation", token);
      assertThat(explanation.path("status").asText())
          .as(explanation.toString())
          .isEqualTo("EXPLAINED");
      assertThat(explanation.path("reasons").findValues("evidence"))
          .anySatisfy(words -> assertThat(words).isNotEmpty());

      String prometheus =
          "http://"
              + compose.getServiceHost("prometheus", 9090)
              + ":"
              + compose.getServicePort("prometheus", 9090);
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofSeconds(5))
          .until(
              () -> {
                JsonNode result =
                    get(
                            prometheus
                                + "/api/v1/query?query="
                                + URLEncoder.encode(
                                    "sum(genguard_audit_events_total)", StandardCharsets.UTF_8),
                            null)
                        .path("data")
                        .path("result");
                return result.size() == 1 && result.get(0).path("value").get(1).asDouble() > 0;
              });
      String grafana =
          "http://"
              + compose.getServiceHost("grafana", 3000)
              + ":"
              + compose.getServicePort("grafana", 3000);
      JsonNode dashboards = get(grafana + "/api/search?query=GenGuard", "admin:" + grafanaPassword);
      assertThat(dashboards.findValuesAsText("uid"))
          .contains("genguard-operations", "genguard-compliance");
    }
  }

  private String submit(String audit, String token, String body) throws Exception {
    HttpResponse<String> accepted =
        http.send(
            HttpRequest.newBuilder(URI.create(audit + "/api/v1/requests"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
    return JSON.readTree(accepted.body()).path("requestId").asText();
  }

  private JsonNode bearer(String url, String token) throws Exception {
    return JSON.readTree(
        http.send(
                HttpRequest.newBuilder(URI.create(url))
                    .header("Authorization", "Bearer " + token)
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body());
  }

  private JsonNode get(String url, String basicAuth) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
    if (basicAuth != null) {
      request.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder().encodeToString(basicAuth.getBytes(StandardCharsets.UTF_8)));
    }
    return JSON.readTree(http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body());
  }
}
