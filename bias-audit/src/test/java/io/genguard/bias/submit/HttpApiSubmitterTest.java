package io.genguard.bias.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.genguard.bias.campaign.CampaignSpec.Sampling;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The API client against a local server that answers like the audit API. */
class HttpApiSubmitterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private HttpServer server;
  private final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final List<String> paths = new CopyOnWriteArrayList<>();
  private volatile int status = 202;
  private volatile String requiredToken;
  private volatile String retryAfter;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/v1/", this::answer);
    server.createContext("/behind/a/proxy/api/v1/", this::answer);
    server.start();
  }

  private void answer(com.sun.net.httpserver.HttpExchange exchange) throws java.io.IOException {
    paths.add(exchange.getRequestURI().getPath());
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    authorizations.add(String.valueOf(auth));
    int code;
    String answer;
    if (requiredToken != null && !("Bearer " + requiredToken).equals(auth)) {
      code = 401;
      answer = "{\"error\":\"missing or invalid token\"}";
    } else if (exchange.getRequestURI().getPath().endsWith("/health")) {
      code = 200;
      answer = "{\"status\":\"UP\"}";
    } else {
      bodies.add(JSON.readTree(exchange.getRequestBody()));
      code = status;
      answer =
          code == 202
              ? "{\"requestId\":\"req-" + bodies.size() + "\",\"status\":\"SUBMITTED\"}"
              : "{\"error\":\"prompt has 9000 characters; the limit is 8000\"}";
    }
    if (retryAfter != null) {
      exchange.getResponseHeaders().add("Retry-After", retryAfter);
    }
    byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(code, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private URI api() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static SubmissionRequest request() {
    return new SubmissionRequest(
        "The teachers moved in next door.",
        "bias-audit",
        "echo",
        null,
        new Sampling(16, 0.7, 20, 0.9),
        42L,
        Map.of("campaign.id", "bias-1", "campaign.group", "control", "campaign.sample", "0"));
  }

  @Test
  void shouldPostTheRequestWithItsCampaignTagsAndReturnTheAssignedId() {
    HttpApiSubmitter submitter = new HttpApiSubmitter(api(), Optional.empty());
    submitter.checkReachable();
    assertThat(submitter.submit(request())).isEqualTo("req-1");
    JsonNode body = bodies.get(0);
    assertThat(body.get("prompt").asText()).isEqualTo("The teachers moved in next door.");
    assertThat(body.get("backend").asText()).isEqualTo("echo");
    assertThat(body.has("model")).isFalse();
    assertThat(body.get("seed").asLong()).isEqualTo(42L);
    assertThat(body.get("maxTokens").asInt()).isEqualTo(16);
    assertThat(body.get("attributes").get("campaign.group").asText()).isEqualTo("control");
    assertThat(authorizations).containsOnly("null");
  }

  @Test
  void shouldKeepThePathOfABaseUrlBehindAProxy() {
    HttpApiSubmitter submitter =
        new HttpApiSubmitter(URI.create(api() + "/behind/a/proxy/"), Optional.empty());

    submitter.checkReachable();
    assertThat(submitter.submit(request())).isEqualTo("req-1");
    assertThat(paths)
        .containsExactly("/behind/a/proxy/api/v1/health", "/behind/a/proxy/api/v1/requests");
  }

  @Test
  void shouldSendTheBearerTokenAndExplainARefusal() {
    requiredToken = "s3cret";
    HttpApiSubmitter withoutToken = new HttpApiSubmitter(api(), Optional.empty());
    assertThatThrownBy(withoutToken::checkReachable)
        .isInstanceOf(SubmissionException.class)
        .hasMessageContaining("it requires a token")
        .hasMessageContaining("--token or set GENGUARD_API_TOKEN");
    HttpApiSubmitter withToken = new HttpApiSubmitter(api(), Optional.of("s3cret"));
    withToken.checkReachable();
    assertThat(withToken.submit(request())).isEqualTo("req-1");
    assertThat(authorizations).contains("Bearer s3cret");
  }

  @Test
  void shouldTellARejectedRequestFromAnUnavailableApi() {
    status = 400;
    HttpApiSubmitter submitter = new HttpApiSubmitter(api(), Optional.empty());
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.kind()).isEqualTo(SubmissionException.Kind.REJECTED))
        .hasMessageContaining("the limit is 8000");
    status = 503;
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.kind()).isEqualTo(SubmissionException.Kind.UNAVAILABLE));
    server.stop(0);
    assertThatThrownBy(submitter::checkReachable)
        .hasMessageContaining("connection refused")
        .hasMessageContaining("./genguard run");
  }

  @Test
  void shouldReadA429AsPacingWithTheWaitTheApiAsksFor() {
    HttpApiSubmitter submitter = new HttpApiSubmitter(api(), Optional.empty());
    status = 429;
    for (var wait :
        Map.of(
                "3", Duration.ofSeconds(3),
                "0", Duration.ofSeconds(1),
                "86400", Duration.ofSeconds(60),
                "Wed, 21 Oct 2026 07:28:00 GMT", Duration.ofSeconds(1))
            .entrySet()) {
      retryAfter = wait.getKey();
      assertThatThrownBy(() -> submitter.submit(request()))
          .as("Retry-After: %s", wait.getKey())
          .isInstanceOfSatisfying(
              SubmissionException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(SubmissionException.Kind.THROTTLED);
                assertThat(e.retryAfter()).isEqualTo(wait.getValue());
              })
          .hasMessageContaining("HTTP 429");
    }
    retryAfter = null;
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(1)));
  }
}
