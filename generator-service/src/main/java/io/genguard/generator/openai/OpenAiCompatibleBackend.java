package io.genguard.generator.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.provenance.text.WordTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A backend that calls a server speaking the OpenAI HTTP API ({@code POST /v1/completions} or
 * {@code /v1/chat/completions}), as vLLM, TGI, Ollama and llama.cpp servers do. A micro-batch is
 * sent as concurrent calls. Such servers return text, not logits, so these outputs carry no
 * statistical watermark: only the signed manifest vouches for them.
 *
 * <p>Error mapping: connection refused, timeouts and HTTP 5xx are transient; 429 and 503 honour
 * Retry-After; redirects (not followed), other 4xx and responses that are not a valid completion
 * are permanent. A response is read up to {@value #MAX_RESPONSE_BYTES} bytes and within the call's
 * timeout, body included.
 */
public final class OpenAiCompatibleBackend implements GenerationBackend {
  public static final String NAME = "openai";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BATCH = 16;

  /**
   * Most bytes of a response body read: room for the longest text an output event can carry, even
   * JSON-escaped, and a bound on what a hostile or broken server can make the worker hold.
   */
  public static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

  private final URI baseUrl;
  private final String apiKey;
  private final String defaultModel;
  private final boolean chat;
  private final Duration timeout;
  private final Clock clock;
  private final HttpClient client;

  /**
   * @param baseUrl the server root, e.g. {@code http://localhost:8000} ({@code /v1/...} is
   *     appended)
   * @param apiKey sent as a bearer token when not null; never logged
   * @param chat use {@code /v1/chat/completions} with the prompt as one user message
   */
  public OpenAiCompatibleBackend(
      URI baseUrl,
      String apiKey,
      String defaultModel,
      boolean chat,
      Duration timeout,
      Clock clock) {
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
    this.defaultModel = defaultModel;
    this.chat = chat;
    this.timeout = timeout;
    this.clock = clock;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofMillis(Math.min(timeout.toMillis(), 10_000)))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String defaultModel() {
    return defaultModel;
  }

  /** Any model name: the server knows what it serves and answers 404 otherwise. */
  @Override
  public boolean serves(String model) {
    return model != null && !model.isBlank();
  }

  @Override
  public int maxBatchSize() {
    return MAX_BATCH;
  }

  @Override
  public boolean embedsWatermark() {
    return false;
  }

  @Override
  public List<BackendOutcome> generate(List<BackendRequest> batch) {
    List<CompletableFuture<BackendOutcome>> calls = new ArrayList<>();
    for (BackendRequest request : batch) {
      calls.add(call(request));
    }
    List<BackendOutcome> outcomes = new ArrayList<>(batch.size());
    for (CompletableFuture<BackendOutcome> call : calls) {
      outcomes.add(call.join());
    }
    return outcomes;
  }

  private CompletableFuture<BackendOutcome> call(BackendRequest request) {
    Duration remaining = Duration.between(clock.instant(), request.deadline());
    if (remaining.isNegative() || remaining.isZero()) {
      return CompletableFuture.completedFuture(
          BackendOutcome.failed(
              BackendException.permanent(
                  FailureCode.TIMEOUT, "no time left to call " + endpoint(), null)));
    }
    Duration callTimeout = remaining.compareTo(timeout) < 0 ? remaining : timeout;
    HttpRequest.Builder http =
        HttpRequest.newBuilder(endpoint())
            .timeout(callTimeout)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body(request)));
    if (apiKey != null) {
      http.header("Authorization", "Bearer " + apiKey);
    }
    long started = System.nanoTime();
    CompletableFuture<HttpResponse<String>> exchange =
        client.sendAsync(http.build(), response -> new BoundedBody(MAX_RESPONSE_BYTES));
    // The request's own timeout ends when the headers arrive; this one also bounds the body.
    return exchange
        .copy()
        .orTimeout(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (response, error) -> {
              try {
                if (error != null) {
                  Throwable cause = unwrap(error);
                  if (cause instanceof TimeoutException) {
                    exchange.cancel(true); // closes the connection
                  }
                  throw classify(cause, callTimeout);
                }
                return BackendOutcome.of(parse(request, response, System.nanoTime() - started));
              } catch (BackendException e) {
                return BackendOutcome.failed(e);
              }
            });
  }

  private URI endpoint() {
    return URI.create(baseUrl + (chat ? "/v1/chat/completions" : "/v1/completions"));
  }

  private String body(BackendRequest request) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", request.model());
    if (chat) {
      body.putArray("messages").addObject().put("role", "user").put("content", request.prompt());
    } else {
      body.put("prompt", request.prompt());
    }
    body.put("max_tokens", request.sampling().maxTokens());
    body.put("temperature", request.sampling().temperature());
    body.put("top_p", request.sampling().topP());
    if (request.sampling().topK() > 0) {
      // Not in OpenAI's own API, but vLLM, TGI, llama.cpp and Ollama's OpenAI layer accept it.
      body.put("top_k", request.sampling().topK());
    }
    body.put("seed", request.sampling().seed());
    body.put("n", 1);
    body.put("stream", false);
    return body.toString();
  }

  private Generation parse(BackendRequest request, HttpResponse<String> response, long nanos)
      throws BackendException {
    int status = response.statusCode();
    String where = "HTTP " + status + " from " + endpoint();
    if (status == 429 || status == 503) {
      Duration retryAfter = retryAfter(response);
      String message = where + errorDetail(response.body());
      return throwing(
          retryAfter != null
              ? BackendException.retryAfter(FailureCode.BACKEND_UNAVAILABLE, retryAfter, message)
              : BackendException.transientFailure(FailureCode.BACKEND_UNAVAILABLE, message, null));
    }
    if (status >= 300 && status < 400) {
      String location =
          response
              .headers()
              .firstValue("Location")
              .map(OpenAiCompatibleBackend::abbreviate)
              .orElse("");
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              where
                  + (location.isEmpty() ? "" : " redirects to " + location)
                  + "; redirects are not followed: set GENGUARD_GENERATOR_OPENAI_BASE_URL to the"
                  + " server's own address",
              null));
    }
    if (status >= 500) {
      return throwing(
          BackendException.transientFailure(
              FailureCode.BACKEND_UNAVAILABLE, where + errorDetail(response.body()), null));
    }
    if (status == 404) {
      return throwing(
          BackendException.permanent(
              FailureCode.UNKNOWN_BACKEND,
              where
                  + errorDetail(response.body())
                  + " (is model '"
                  + request.model()
                  + "' served there?)",
              null));
    }
    if (status != 200) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR, where + errorDetail(response.body()), null));
    }
    JsonNode root;
    try {
      root = JSON.readTree(response.body());
    } catch (JsonProcessingException e) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              "response from " + endpoint() + " is not JSON: " + abbreviate(response.body()),
              e));
    }
    JsonNode choice = root.path("choices").path(0);
    JsonNode text = chat ? choice.path("message").path("content") : choice.path("text");
    if (!text.isTextual()) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              "response from "
                  + endpoint()
                  + " has no choices[0]."
                  + (chat ? "message.content" : "text")
                  + ": "
                  + abbreviate(response.body()),
              null));
    }
    String generated = text.asText();
    JsonNode usage = root.path("usage");
    // A count the server did not give, or gave as nonsense, is counted here instead.
    int promptTokens =
        usage.path("prompt_tokens").isInt() && usage.path("prompt_tokens").asInt() >= 0
            ? usage.path("prompt_tokens").asInt()
            : WordTokenizer.tokenize(request.prompt()).size();
    int outputTokens =
        usage.path("completion_tokens").isInt() && usage.path("completion_tokens").asInt() >= 0
            ? usage.path("completion_tokens").asInt()
            : WordTokenizer.tokenize(generated).size();
    String version =
        root.path("system_fingerprint").isTextual()
            ? root.path("system_fingerprint").asText()
            : root.path("model").isTextual() ? root.path("model").asText() : "unknown";
    return new Generation(
        generated,
        promptTokens,
        outputTokens,
        request.model(),
        version,
        null,
        "remote:" + baseUrl.getHost() + (baseUrl.getPort() > 0 ? ":" + baseUrl.getPort() : ""),
        nanos);
  }

  private BackendException classify(Throwable error, Duration callTimeout) {
    if (error instanceof ResponseTooLargeException) {
      return BackendException.permanent(
          FailureCode.BACKEND_ERROR,
          "response from " + endpoint() + " " + error.getMessage(),
          error);
    }
    if (error instanceof HttpConnectTimeoutException || error instanceof ConnectException) {
      return BackendException.transientFailure(
          FailureCode.BACKEND_UNAVAILABLE, "cannot connect to " + endpoint() + ": " + error, error);
    }
    if (error instanceof HttpTimeoutException || error instanceof TimeoutException) {
      return BackendException.transientFailure(
          FailureCode.TIMEOUT,
          "no answer from " + endpoint() + " within " + callTimeout.toMillis() + " ms",
          error);
    }
    if (error instanceof IOException) {
      return BackendException.transientFailure(
          FailureCode.BACKEND_UNAVAILABLE, "call to " + endpoint() + " failed: " + error, error);
    }
    return BackendException.permanent(
        FailureCode.BACKEND_ERROR, "call to " + endpoint() + " failed: " + error, error);
  }

  private Duration retryAfter(HttpResponse<String> response) {
    String value = response.headers().firstValue("Retry-After").orElse(null);
    if (value == null) {
      return null;
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip())));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at =
            ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration wait = Duration.between(clock.instant(), at);
        return wait.isNegative() ? Duration.ZERO : wait;
      } catch (DateTimeParseException notADate) {
        return null;
      }
    }
  }

  private static String errorDetail(String body) {
    try {
      JsonNode message = JSON.readTree(body).path("error").path("message");
      if (message.isTextual()) {
        return ": " + abbreviate(message.asText());
      }
    } catch (JsonProcessingException | RuntimeException e) {
      // Not the OpenAI error shape; show the raw start below.
    }
    return body == null || body.isBlank() ? "" : ": " + abbreviate(body);
  }

  private static String abbreviate(String body) {
    String oneLine = body == null ? "" : body.replaceAll("\\s+", " ").strip();
    return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
  }

  /** A body past the size limit: the server's fault, and no retry will shrink it. */
  private static final class ResponseTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    ResponseTooLargeException(int limit) {
      super("has more than " + limit + " bytes; the generator reads no more than that");
    }
  }

  /**
   * Collects a body as UTF-8 text (JSON's encoding, RFC 8259) and gives up, cancelling the
   * exchange, once it passes {@code limit} bytes.
   */
  private static final class BoundedBody implements HttpResponse.BodySubscriber<String> {
    private final int limit;
    private final CompletableFuture<String> body = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    BoundedBody(int limit) {
      this.limit = limit;
    }

    @Override
    public CompletionStage<String> getBody() {
      return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
      if (body.isDone()) {
        return;
      }
      for (ByteBuffer buffer : buffers) {
        if (buffer.remaining() > limit - bytes.size()) {
          subscription.cancel();
          body.completeExceptionally(new ResponseTooLargeException(limit));
          return;
        }
        byte[] chunk = new byte[buffer.remaining()];
        buffer.get(chunk);
        bytes.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable error) {
      body.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
      body.complete(bytes.toString(StandardCharsets.UTF_8));
    }
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  private static <T> T throwing(BackendException e) throws BackendException {
    throw e;
  }

  @Override
  public void close() {
    // HttpClient.close() arrived in Java 21; on 17 its threads end when it becomes unreachable.
  }
}
