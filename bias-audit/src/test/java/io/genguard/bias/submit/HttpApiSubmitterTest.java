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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
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

  /** Like the API: the request each Idempotency-Key stands for. */
  private final Map<String, String> requestsByKey = new ConcurrentHashMap<>();

  private final List<String> keys = new CopyOnWriteArrayList<>();
  private final AtomicInteger created = new AtomicInteger();

  /** The first answer to a new key comes this late (the request is taken before). */
  private volatile Duration slowFirstAnswer = Duration.ZERO;

  /** What a 2xx answer holds instead of the request id. */
  private volatile String acceptedBody;

  private ExecutorService handlers;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/v1/", this::answer);
    server.createContext("/behind/a/proxy/api/v1/", this::answer);
    handlers = Executors.newCachedThreadPool();
    server.setExecutor(handlers);
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
      String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
      keys.add(String.valueOf(key));
      if (code >= 200 && code < 300) {
        boolean known = key != null && requestsByKey.containsKey(key);
        String requestId =
            key == null
                ? "req-" + created.incrementAndGet()
                : requestsByKey.computeIfAbsent(key, k -> "req-" + created.incrementAndGet());
        if (!known && !slowFirstAnswer.isZero()) {
          Duration wait = slowFirstAnswer;
          slowFirstAnswer = Duration.ZERO;
          try {
            Thread.sleep(wait.toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        answer =
            acceptedBody != null
                ? acceptedBody
                : "{\"requestId\":\"" + requestId + "\",\"status\":\"SUBMITTED\"}";
      } else {
        answer = "{\"error\":\"prompt has 9000 characters; the limit is 8000\"}";
      }
    }
    if (retryAfter != null) {
      exchange.getResponseHeaders().add("Retry-After", retryAfter);
    }
    byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
    try {
      if (code == 204) {
        exchange.sendResponseHeaders(code, -1);
      } else {
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
      }
    } catch (java.io.IOException clientGone) {
      // The client gave up waiting (the slow answer).
    }
    exchange.close();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    handlers.shutdownNow();
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
        Map.of("campaign.id", "bias-1", "campaign.group", "control", "campaign.sample", "0"),
        SubmissionRequest.campaignKey("bias-1", 0, 0));
  }

  private static SubmissionRequest withoutKey() {
    SubmissionRequest keyed = request();
    return new SubmissionRequest(
        keyed.prompt(),
        keyed.tenantId(),
        keyed.backend(),
        keyed.model(),
        keyed.sampling(),
        keyed.seed(),
        keyed.attributes());
  }

  @Test
  void shouldLeaveOneRequestPerSampleWhenTheApiAnswersAfterTheClientGaveUp() {
    assertThat(HttpApiSubmitter.TIMEOUT)
        .as("longer than the API's wait for Kafka")
        .isGreaterThan(Duration.ofSeconds(30));
    // The API takes the request but answers after this client's timeout.
    slowFirstAnswer = Duration.ofMillis(1_500);
    HttpApiSubmitter submitter =
        new HttpApiSubmitter(api(), Optional.empty(), Duration.ofMillis(300));

    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.kind()).isEqualTo(SubmissionException.Kind.UNAVAILABLE))
        .hasMessageContaining("got no answer");
    // The campaign sends it again, with the same key: the same request.
    assertThat(submitter.submit(request())).isEqualTo("req-1");
    assertThat(created).as("one request for the sample").hasValue(1);
    assertThat(keys).containsExactly("bias-1:0:0", "bias-1:0:0");
  }

  @Test
  void shouldNotTakeAnAnswerWithoutARequestIdForAnAcceptance() {
    HttpApiSubmitter submitter = new HttpApiSubmitter(api(), Optional.empty());
    status = 204;
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.kind()).isEqualTo(SubmissionException.Kind.UNAVAILABLE))
        .hasMessage(
            "POST /api/v1/requests to "
                + api()
                + " answered HTTP 204 without a requestId; is --api the GenGuard audit API (not a"
                + " proxy or another service)? Sent again with the same Idempotency-Key, it"
                + " cannot submit the request twice");
    status = 200;
    acceptedBody = "<html>Welcome</html>";
    assertThatThrownBy(() -> submitter.submit(withoutKey()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.kind()).isEqualTo(SubmissionException.Kind.REJECTED))
        .hasMessageContaining("answered HTTP 200 without a requestId: <html>Welcome</html>")
        .hasMessageEndingWith(
            "Not sent again: without an Idempotency-Key that could submit it twice");
  }

  @Test
  void shouldWaitAsA503OrAKeyStillBeingSubmittedAsks() {
    HttpApiSubmitter submitter = new HttpApiSubmitter(api(), Optional.empty());
    status = 503;
    retryAfter = "5";
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SubmissionException.Kind.UNAVAILABLE);
              assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(5));
            });
    retryAfter = "86400";
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(60)));
    retryAfter = null;
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class, e -> assertThat(e.retryAfter()).isZero());
    // 409 with Retry-After: another try of the same key is being submitted.
    status = 409;
    retryAfter = "12";
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SubmissionException.Kind.UNAVAILABLE);
              assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(12));
            })
        .hasMessageContaining("still submitting an earlier try of this request");
    retryAfter = null;
    assertThatThrownBy(() -> submitter.submit(request()))
        .isInstanceOfSatisfying(
            SubmissionException.class,
            e -> assertThat(e.kind()).isEqualTo(SubmissionException.Kind.REJECTED));
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
    assertThat(keys).containsExactly("bias-1:0:0");
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
