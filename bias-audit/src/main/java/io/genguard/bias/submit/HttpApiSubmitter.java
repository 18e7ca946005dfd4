package io.genguard.bias.submit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.bias.submit.SubmissionException.Kind;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;

/**
 * Submits campaign requests through the running stack's HTTP API ({@code POST /api/v1/requests}),
 * the same door every client uses: the same validation and limits, the same authentication (a
 * bearer token when the API requires one), and the API records the request before the generator
 * sees it. A request is accepted once the API answers 202, which it does only after Kafka
 * acknowledged the request.
 *
 * <p>A request's {@link SubmissionRequest#idempotencyKey()} goes with every try as the {@code
 * Idempotency-Key} header: a try that timed out, or was answered 503 after the API's own wait for
 * Kafka, may still have been accepted, and the API answers its retry with that same request instead
 * of submitting a second one. For the same reason this client waits longer ({@link #TIMEOUT}) than
 * the API waits for Kafka (30 s).
 */
public final class HttpApiSubmitter implements CampaignSubmitter {
  /** Environment variable holding the API's bearer token. */
  public static final String TOKEN_ENV = "GENGUARD_API_TOKEN";

  /** The request header that makes a retry answer the same request ({@link SubmissionRequest}). */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  /**
   * How long one call may take: longer than the API's wait for Kafka's acknowledgement (30 s), so
   * that the API's answer, not this client's timeout, ends a slow submission.
   */
  public static final Duration TIMEOUT = Duration.ofSeconds(45);

  /** Longest wait taken from a Retry-After header. */
  static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI api;
  private final Optional<String> token;
  private final HttpClient http;
  private final Duration timeout;

  /**
   * @param api base URL of the audit API, e.g. http://127.0.0.1:8080
   * @param token bearer token, if the API requires one
   */
  public HttpApiSubmitter(URI api, Optional<String> token) {
    this(api, token, TIMEOUT);
  }

  /**
   * @param timeout how long one call may take (tests shorten it)
   */
  HttpApiSubmitter(URI api, Optional<String> token, Duration timeout) {
    String base = api.toString();
    this.api = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
    this.token = token.filter(t -> !t.isBlank());
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.timeout = timeout;
  }

  /**
   * The API path under the base URL, whose own path is kept: a stack behind a proxy at {@code
   * https://host/genguard} answers at {@code https://host/genguard/api/v1/...}.
   */
  private URI endpoint(String path) {
    return URI.create(api + path);
  }

  @Override
  public void checkReachable() {
    HttpResponse<String> response =
        send(HttpRequest.newBuilder(endpoint("/api/v1/health")).GET(), "GET /api/v1/health");
    if (response.statusCode() == 401 || response.statusCode() == 403) {
      throw unauthorized(response);
    }
    if (response.statusCode() != 200) {
      throw new SubmissionException(
          Kind.UNAVAILABLE,
          "The GenGuard API at " + api + " is not healthy (HTTP " + response.statusCode() + ")",
          null);
    }
  }

  @Override
  public String submit(SubmissionRequest request) {
    ObjectNode body = JSON.createObjectNode();
    body.put("prompt", request.prompt());
    body.put("tenantId", request.tenantId());
    body.put("backend", request.backend());
    if (request.model() != null) {
      body.put("model", request.model());
    }
    body.put("maxTokens", request.sampling().maxTokens());
    body.put("temperature", request.sampling().temperature());
    body.put("topK", request.sampling().topK());
    body.put("topP", request.sampling().topP());
    body.put("seed", request.seed());
    ObjectNode attributes = body.putObject("attributes");
    request.attributes().forEach(attributes::put);
    String json;
    try {
      json = JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot write a request as JSON", e);
    }
    HttpRequest.Builder post =
        HttpRequest.newBuilder(endpoint("/api/v1/requests"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (request.idempotencyKey() != null) {
      post.header(IDEMPOTENCY_KEY, request.idempotencyKey());
    }
    HttpResponse<String> response = send(post, "POST /api/v1/requests");
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return requestId(request, response);
    }
    if (status == 401 || status == 403) {
      throw unauthorized(response);
    }
    if (status == 429) {
      throw new SubmissionException(
          Kind.THROTTLED,
          "The API is limiting this tenant's submissions (HTTP 429): " + response.body(),
          null,
          retryAfter(response));
    }
    if (status == 409 && response.headers().firstValue("Retry-After").isPresent()) {
      // Another try of this request (same key) is still being submitted: its answer comes later.
      throw new SubmissionException(
          Kind.UNAVAILABLE,
          "The API is still submitting an earlier try of this request (HTTP 409): "
              + response.body(),
          null,
          retryAfter(response));
    }
    if (status >= 400 && status < 500 && status != 408) {
      throw new SubmissionException(
          Kind.REJECTED,
          "The API rejected a campaign request (HTTP " + status + "): " + response.body(),
          null);
    }
    throw new SubmissionException(
        Kind.UNAVAILABLE,
        "The API failed a campaign request (HTTP " + status + "): " + response.body(),
        null,
        response.headers().firstValue("Retry-After").isPresent()
            ? retryAfter(response)
            : Duration.ZERO);
  }

  /**
   * The request id of an accepted request. An answer without one (a 204, a proxy's page) is not an
   * acceptance this client can record: with the request's idempotency key, sending it again is safe
   * (the API answers with the request it took, if it took one); without one it could submit the
   * request twice, so it is not retried.
   */
  private String requestId(SubmissionRequest request, HttpResponse<String> response) {
    String requestId = "";
    try {
      requestId = JSON.readTree(response.body()).path("requestId").asText("");
    } catch (IOException e) {
      // Not JSON: no request id either.
    }
    if (!requestId.isEmpty()) {
      return requestId;
    }
    String body = response.body();
    throw new SubmissionException(
        request.idempotencyKey() != null ? Kind.UNAVAILABLE : Kind.REJECTED,
        "POST /api/v1/requests to "
            + api
            + " answered HTTP "
            + response.statusCode()
            + " without a requestId"
            + (body.isBlank()
                ? ""
                : ": " + (body.length() > 200 ? body.substring(0, 200) + "..." : body))
            + "; is --api the GenGuard audit API (not a proxy or another service)?"
            + (request.idempotencyKey() != null
                ? " Sent again with the same Idempotency-Key, it cannot submit the request twice"
                : " Not sent again: without an Idempotency-Key that could submit it twice"),
        null);
  }

  /**
   * The wait an answer asks for (429, 409, 503): its Retry-After in whole seconds, kept within 1-60
   * s; 1 s when the header is missing or not a number of seconds.
   */
  static Duration retryAfter(HttpResponse<String> response) {
    long seconds = 1;
    Optional<String> header = response.headers().firstValue("Retry-After");
    if (header.isPresent() && header.get().trim().matches("[0-9]{1,9}")) {
      seconds = Long.parseLong(header.get().trim());
    }
    return Duration.ofSeconds(Math.min(MAX_RETRY_AFTER.toSeconds(), Math.max(1, seconds)));
  }

  private HttpResponse<String> send(HttpRequest.Builder builder, String what) {
    token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
    try {
      return http.send(builder.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new SubmissionException(
          Kind.UNAVAILABLE,
          "No GenGuard API at "
              + api
              + " (connection refused). Start one with ./genguard run, or point --api at it",
          e);
    } catch (HttpTimeoutException e) {
      throw new SubmissionException(
          Kind.UNAVAILABLE,
          what + " to " + api + " got no answer within " + timeout.toSeconds() + " s",
          e);
    } catch (IOException e) {
      throw new SubmissionException(
          Kind.UNAVAILABLE, what + " to " + api + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SubmissionException(Kind.UNAVAILABLE, "Interrupted during " + what, e);
    }
  }

  private SubmissionException unauthorized(HttpResponse<String> response) {
    return new SubmissionException(
        Kind.UNAUTHORIZED,
        "The GenGuard API at "
            + api
            + " refused this client (HTTP "
            + response.statusCode()
            + (token.isPresent() ? "; the token was not accepted" : "; it requires a token")
            + "). Pass --token or set "
            + TOKEN_ENV,
        null);
  }
}
