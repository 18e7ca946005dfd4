package io.genguard.stack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code genguard submit "prompt"}: one request to a running stack, then its outcome. */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description =
        "Send one generation request to a running GenGuard and print what happened to it.")
final class SubmitCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", paramLabel = "PROMPT", description = "The prompt.")
  String prompt;

  @Option(
      names = "--api",
      defaultValue = "${env:GENGUARD_API:-http://127.0.0.1:8080}",
      description = "Audit API base URL (default ${DEFAULT-VALUE}, or GENGUARD_API).")
  String api;

  @Option(
      names = "--tenant",
      description = "Tenant id (default: the token's tenant, or 'default').")
  String tenant;

  @Option(
      names = "--token",
      defaultValue = "${env:GENGUARD_API_TOKEN}",
      paramLabel = "TOKEN",
      description =
          "API token of a submitter (or admin); default: GENGUARD_API_TOKEN. Create one with"
              + " ./genguard audit token create --role submitter --tenant TENANT --name NAME")
  String token;

  @Option(names = "--backend", description = "Generation backend (builtin, echo, djl, openai).")
  String backend;

  @Option(names = "--max-tokens", description = "Most tokens to generate.")
  Integer maxTokens;

  @Option(names = "--seed", description = "Sampling seed.")
  Long seed;

  @Option(
      names = "--wait",
      defaultValue = "60",
      paramLabel = "SECONDS",
      description = "How long to wait for the outcome (default ${DEFAULT-VALUE}).")
  int waitSeconds;

  @Option(
      names = "--idempotency-key",
      paramLabel = "KEY",
      description =
          "Sent as the Idempotency-Key header, so the same command run again with it submits the"
              + " request at most once (default: a new random key, printed when the answer does"
              + " not come).")
  String idempotencyKey;

  /** How long the submission itself may take before the command gives up on its answer. */
  Duration submitTimeout = Duration.ofSeconds(30);

  @Override
  public Integer call() throws Exception {
    String base = checkApi(api);
    if (waitSeconds < 0) {
      throw new IllegalArgumentException(
          "--wait "
              + waitSeconds
              + " is negative; give the seconds to wait for the outcome, 0 or more (default 60)");
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    if (token == null || token.isBlank()) {
      System.err.println(
          "No API token: pass --token or set GENGUARD_API_TOKEN (an embedded stack writes an admin token to DATA_DIR/admin-token;"
              + " an admin creates more with ./genguard audit token create).");
      return 2;
    }
    ObjectNode body = JSON.createObjectNode().put("prompt", prompt);
    if (tenant != null) {
      body.put("tenantId", tenant);
    }
    if (backend != null) {
      body.put("backend", backend);
    }
    if (maxTokens != null) {
      body.put("maxTokens", maxTokens);
    }
    if (seed != null) {
      body.put("seed", seed);
    }
    String key = idempotencyKey != null ? idempotencyKey : java.util.UUID.randomUUID().toString();
    HttpResponse<String> accepted;
    try {
      accepted =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/api/v1/requests"))
                  .header("Content-Type", "application/json")
                  .header("Authorization", "Bearer " + token.trim())
                  .header("Idempotency-Key", key)
                  .timeout(submitTimeout)
                  .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      System.err.println(
          "No GenGuard at "
              + api
              + " (connection refused). Start one with ./genguard run"
              + " or ./genguard demo, or point --api at it.");
      return 2;
    } catch (java.net.http.HttpTimeoutException e) {
      // The service may have taken it and be slow to say so: the same key makes a second try safe.
      System.err.println(
          "No answer from "
              + api
              + " within "
              + submitTimeout.toSeconds()
              + " s: the request may or may not have been accepted. To submit it at most once, run"
              + " the same command again with --idempotency-key "
              + key);
      return 1;
    }
    if (accepted.statusCode() != 202) {
      System.err.println("Rejected (" + accepted.statusCode() + "): " + accepted.body());
      return 1;
    }
    String requestId = JSON.readTree(accepted.body()).get("requestId").asText();
    System.err.println("[genguard] submitted request " + requestId);
    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
    JsonNode story = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> response;
      try {
        response =
            http.send(
                HttpRequest.newBuilder(URI.create(base + "/api/v1/requests/" + requestId))
                    .header("Authorization", "Bearer " + token.trim())
                    // A server that does not answer must not hold the command past --wait.
                    .timeout(Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000)))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
      } catch (java.net.http.HttpTimeoutException e) {
        break;
      }
      if (response.statusCode() == 200) {
        story = JSON.readTree(response.body());
        String status = story.path("status").asText();
        if (!status.equals("IN_PROGRESS")) {
          break;
        }
      }
      Thread.sleep(250);
    }
    if (story == null) {
      System.err.println("No outcome for " + requestId + " within " + waitSeconds + " s");
      return 1;
    }
    System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(outcome(story)));
    return story.path("status").asText().equals("IN_PROGRESS") ? 1 : 0;
  }

  /**
   * Refuses a base URL the HTTP client cannot use, naming the flag (it would not).
   *
   * @return the base URL without trailing slashes, so that {@code http://host:8080/} names the same
   *     routes as {@code http://host:8080} (as {@code audit campaign} reads it)
   */
  static String checkApi(String api) {
    URI uri;
    try {
      uri = new URI(api);
    } catch (java.net.URISyntaxException e) {
      uri = null;
    }
    if (uri == null
        || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
        || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "--api '"
              + api
              + "' is not an http(s) URL; give the stack's base URL, e.g."
              + " --api http://127.0.0.1:8080 (or set GENGUARD_API)");
    }
    return api.replaceFirst("/+$", "");
  }

  /** The parts of the story a person wants to see first. */
  private static ObjectNode outcome(JsonNode story) {
    ObjectNode out = JSON.createObjectNode();
    out.put("requestId", story.path("requestId").asText());
    out.put("status", story.path("status").asText());
    JsonNode output = story.path("outputs").path(0);
    if (!output.isMissingNode()) {
      out.put("text", output.path("text").asText());
      out.put(
          "model", output.path("modelName").asText() + " " + output.path("modelVersion").asText());
    }
    JsonNode verdict = story.path("verdicts").path(0);
    if (!verdict.isMissingNode()) {
      out.put("decision", verdict.path("decision").asText());
      out.put("unsafe", verdict.path("unsafeScore").asDouble());
      out.set("reasons", verdict.path("reasons"));
      out.set("groups", verdict.path("groups"));
      out.put("policyVersion", verdict.path("policyVersion").asText());
    }
    JsonNode failure = story.path("failures").path(0);
    if (!failure.isMissingNode()) {
      out.put("failure", failure.path("code").asText() + ": " + failure.path("reason").asText());
    }
    return out;
  }
}
