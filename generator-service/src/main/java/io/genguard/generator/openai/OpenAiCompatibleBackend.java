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
import io.genguard.provenance.text.LoneSurrogates;
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
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>The signed manifest names the model the server says answered (the response's {@code model}),
 * which a router with fallbacks or an alias (OpenAI answers {@code gpt-4o} with a dated snapshot)
 * makes differ from the one asked for; the one asked for is then kept beside it ({@link
 * Generation#requestedModel()}). The reported name and {@code system_fingerprint} are checked
 * before they are used: a name that is too long or not text fails the request, and such a
 * fingerprint is dropped (the version reads {@value #UNKNOWN_VERSION}).
 *
 * <p>What tenants see of a failure (its reason) names neither the server's address nor the API key:
 * the address goes to the operator log, with the failure's detail. Nor does it quote the server: a
 * failure's reason gives the HTTP status, and what the server said goes to the operator log. The
 * API key is checked when the backend is made and sent in a header built then, and any echo of it
 * in a server's answer is replaced by {@value #REDACTED_KEY} in that log.
 */
public final class OpenAiCompatibleBackend implements GenerationBackend {
  public static final String NAME = "openai";
  private static final Logger LOG = LoggerFactory.getLogger(OpenAiCompatibleBackend.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BATCH = 16;

  /**
   * Most bytes of a response body read: room for the longest text an output event can carry, even
   * JSON-escaped, and a bound on what a hostile or broken server can make the worker hold.
   */
  public static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

  /**
   * Longest model name or system fingerprint taken from a server, in characters: the bound a
   * request's own model name has ({@code RequestValidator.MAX_NAME_CHARS}), since both are repeated
   * in the output, its manifest and every event after it.
   */
  public static final int MAX_REPORTED_NAME_CHARS = 128;

  /** The version an output states when the server gave no usable {@code system_fingerprint}. */
  public static final String UNKNOWN_VERSION = "unknown";

  /** What stands in a failure reason or log line where a server echoed the API key. */
  public static final String REDACTED_KEY = "<redacted API key>";

  /** What stands in a failure reason where a server's text named its own configured address. */
  static final String REDACTED_ADDRESS = "<server>";

  /** How tenants' failure reasons name the server, whose address only the operator log shows. */
  private static final String SERVER = "the OpenAI-compatible server";

  /** 404s in a row for the default model after which the backend reports not ready. */
  static final int NOT_FOUND_BEFORE_NOT_READY = 3;

  /**
   * One operator log line per this period at most, per kind of line, saying how many it left out.
   */
  static final Duration LOG_PERIOD = Duration.ofSeconds(30);

  /**
   * The most UTF-8 bytes of text one token stands for, above the longest tokens of common
   * vocabularies (runs of spaces or of one symbol): a reported count below a text's bytes divided
   * by this is not the count of that text.
   */
  static final int MAX_BYTES_PER_TOKEN = 128;

  /**
   * Tokens a server may add to a prompt around its text (a chat template, a default system prompt):
   * a reported prompt count above one token per UTF-8 byte of the prompt plus this is not its
   * count.
   */
  static final int PROMPT_TEMPLATE_TOKENS = 4_096;

  /**
   * The device every output of this backend names ({@code cost.device}). Not the server's address:
   * outputs reach tenants, and an internal host name or port is none of their business (operators
   * find it in {@code GENGUARD_GENERATOR_OPENAI_BASE_URL}).
   */
  public static final String DEVICE = "remote:openai";

  private final URI baseUrl;

  /** Requests for the default model answered 404 in a row. */
  private final AtomicInteger defaultModelNotFound = new AtomicInteger();

  private final URI endpoint;
  private final String apiKey;
  private final String defaultModel;

  /** Which model names requests may ask for ({@link #serves}). */
  private final Predicate<String> allowedModels;

  private final boolean chat;
  private final Duration timeout;
  private final Clock clock;
  private final HttpClient client;

  /**
   * Headers and URI of every call, the Authorization header included: built and checked once, so no
   * later call can fail on the header, and no exception of a call can quote it.
   */
  private final HttpRequest.Builder template;

  private final OperatorLog failedCalls = new OperatorLog();
  private final OperatorLog droppedFingerprints = new OperatorLog();
  private final OperatorLog droppedUsage = new OperatorLog();

  /**
   * @param baseUrl the server root, e.g. {@code http://localhost:8000} ({@code /v1/...} is
   *     appended)
   * @param apiKey sent as a bearer token when not null; never logged
   * @param chat use {@code /v1/chat/completions} with the prompt as one user message
   * @throws IllegalArgumentException when the API key cannot be sent (see {@link #apiKeyProblem});
   *     the message does not show it
   */
  public OpenAiCompatibleBackend(
      URI baseUrl,
      String apiKey,
      String defaultModel,
      boolean chat,
      Duration timeout,
      Clock clock) {
    this(baseUrl, apiKey, defaultModel, defaultModel::equals, chat, timeout, clock);
  }

  /**
   * @param allowedModels the model names requests may ask for ({@code
   *     GeneratorConfig#openAiModelAllowed}); a request for another is refused before any call
   */
  public OpenAiCompatibleBackend(
      URI baseUrl,
      String apiKey,
      String defaultModel,
      Predicate<String> allowedModels,
      boolean chat,
      Duration timeout,
      Clock clock) {
    this.baseUrl = baseUrl;
    this.allowedModels = allowedModels;
    this.endpoint = URI.create(baseUrl + (chat ? "/v1/chat/completions" : "/v1/completions"));
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
    HttpRequest.Builder headers =
        HttpRequest.newBuilder(endpoint)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
    if (apiKey != null) {
      String problem = apiKeyProblem(apiKey);
      if (problem != null) {
        throw new IllegalArgumentException("The OpenAI API key " + problem);
      }
      try {
        headers.header("Authorization", "Bearer " + apiKey);
      } catch (IllegalArgumentException e) {
        // Not chained: the JDK's message quotes the header's value, the key with it.
        throw new IllegalArgumentException(
            "The HTTP client refuses the OpenAI API key as a header value (the key is not shown)");
      }
    }
    this.template = headers;
  }

  /**
   * Why {@code apiKey} cannot be sent as a bearer token, or null when it can. A token is visible
   * ASCII ({@code !} to {@code ~}, RFC 6750's token characters and more): a line break or a
   * typographic dash from a copy and paste would otherwise fail every call, with the JDK's error
   * quoting the header, key included. The answer never shows the key; it names the first character
   * that is wrong by position and code point.
   */
  public static String apiKeyProblem(String apiKey) {
    if (apiKey.isEmpty()) {
      return "is empty";
    }
    if (apiKey.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return "starts with 'Bearer '; give the token alone (the generator adds that prefix)";
    }
    for (int i = 0; i < apiKey.length(); ) {
      int c = apiKey.codePointAt(i);
      if (c < 0x21 || c > 0x7e) {
        return "has "
            + describeCharacter(c)
            + " at character "
            + (i + 1)
            + "; a bearer token is visible ASCII only (! to ~): look for a line break, a space or a"
            + " typographic dash or quote that came with a copy and paste";
      }
      i += Character.charCount(c);
    }
    return null;
  }

  /**
   * Why a name a server reported ({@code model}, {@code system_fingerprint}) cannot go into an
   * output, or null when it can: longer than {@value #MAX_REPORTED_NAME_CHARS} characters, or with
   * a control character or an unpaired surrogate (not Unicode text: the signed manifest cannot be
   * written with one, and Avro would store it as '?'). The answer never quotes the name.
   */
  static String reportedNameProblem(String name) {
    if (name.length() > MAX_REPORTED_NAME_CHARS) {
      return "has "
          + name.length()
          + " characters, more than the "
          + MAX_REPORTED_NAME_CHARS
          + " a name may have";
    }
    int surrogate = LoneSurrogates.first(name, 0);
    int end = surrogate < 0 ? name.length() : surrogate;
    for (int i = 0; i < end; i++) {
      if (Character.isISOControl(name.charAt(i))) {
        return "has a control character ("
            + codePoint(name.charAt(i))
            + ") at character "
            + (i + 1);
      }
    }
    return surrogate < 0
        ? null
        : "has an unpaired surrogate ("
            + codePoint(name.charAt(surrogate))
            + ") at character "
            + (surrogate + 1);
  }

  private static String describeCharacter(int c) {
    String name =
        c == '\n' || c == '\r'
            ? "a line break "
            : c == ' '
                ? "a space "
                : c == '\t' ? "a tab " : c < 0x20 || c == 0x7f ? "a control " : "";
    return name + "character " + codePoint(c);
  }

  private static String codePoint(int c) {
    return String.format(Locale.ROOT, "U+%04X", c);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String defaultModel() {
    return defaultModel;
  }

  /**
   * The default model and those the deployment allows ({@code GENGUARD_GENERATOR_OPENAI_MODELS}):
   * tenants do not choose what the operator pays for or what the server may load. Before the
   * forty-first session any name was sent, and the server decided.
   */
  @Override
  public boolean serves(String model) {
    return model != null && !model.isBlank() && allowedModels.test(model);
  }

  /**
   * False once {@link #NOT_FOUND_BEFORE_NOT_READY} requests in a row for the default model were
   * answered 404 (the base URL or the model is wrong), until one for it succeeds. It only feeds
   * {@code /ready} and the backend-ready gauge: requests are still sent, so the first success after
   * the operator fixes the server makes it ready again.
   */
  @Override
  public boolean ready() {
    return defaultModelNotFound.get() < NOT_FOUND_BEFORE_NOT_READY;
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
    if (!serves(request.model())) {
      // The request validator refuses such a request first; this keeps any other caller from
      // sending a model the deployment does not allow.
      return CompletableFuture.completedFuture(
          failed(
              BackendException.permanent(
                  FailureCode.UNKNOWN_BACKEND,
                  "model '"
                      + request.model()
                      + "' is not allowed on backend '"
                      + NAME
                      + "' of this generator",
                  null)));
    }
    Duration remaining = Duration.between(clock.instant(), request.deadline());
    if (remaining.isNegative() || remaining.isZero()) {
      return CompletableFuture.completedFuture(
          failed(
              BackendException.permanent(
                  FailureCode.TIMEOUT, "no time left to call " + SERVER, null)));
    }
    Duration callTimeout = remaining.compareTo(timeout) < 0 ? remaining : timeout;
    HttpRequest http =
        template
            .copy()
            .timeout(callTimeout)
            .POST(HttpRequest.BodyPublishers.ofString(body(request)))
            .build();
    long started = System.nanoTime();
    CompletableFuture<HttpResponse<String>> exchange =
        client.sendAsync(http, response -> new BoundedBody(MAX_RESPONSE_BYTES));
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
                return failed(e);
              }
            });
  }

  /**
   * The failure as the request's reason shows it, and a line in the operator log with what the
   * reason leaves out: the endpoint and the failure's cause. Neither can hold the API key; the
   * cause is not passed on, since no one else reads it and its text may quote the server.
   */
  private BackendOutcome failed(BackendException error) {
    String message = redacted(error.getMessage());
    StringBuilder causes = new StringBuilder();
    Throwable cause = error.getCause();
    for (int depth = 0; cause != null && depth < 4; depth++, cause = cause.getCause()) {
      causes.append(depth == 0 ? " (" : ", caused by ").append(cause);
    }
    String detail = causes.length() == 0 ? "" : redacted(causes.toString()) + ")";
    failedCalls.warn("Call to " + endpoint + " failed: " + message + detail);
    BackendException shown =
        error.retryAfter() != null
            ? BackendException.retryAfter(error.code(), error.retryAfter(), message)
            : error.isTransient()
                ? BackendException.transientFailure(error.code(), message, null)
                : BackendException.permanent(error.code(), message, null);
    return BackendOutcome.failed(shown);
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
    String where = "HTTP " + status + " from " + SERVER;
    // What the server said goes to the operator log only: it may name hosts, an upstream provider
    // or a masked key, and redacting it word by word left too much through.
    OperatorDetail said = serverSaid(response.body());
    if (status == 429 || status == 503) {
      Duration retryAfter = retryAfter(response);
      return throwing(
          retryAfter != null
              ? BackendException.retryAfter(
                  FailureCode.BACKEND_UNAVAILABLE, retryAfter, where, said)
              : BackendException.transientFailure(FailureCode.BACKEND_UNAVAILABLE, where, said));
    }
    if (status >= 300 && status < 400) {
      // Where it points goes to the operator log only: like the server's own address, it is
      // likely an internal one.
      String location = response.headers().firstValue("Location").map(this::shown).orElse("");
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              where
                  + "; redirects are not followed: set GENGUARD_GENERATOR_OPENAI_BASE_URL to the"
                  + " server's own address",
              location.isEmpty() ? null : new OperatorDetail("it redirects to " + location)));
    }
    if (status >= 500) {
      return throwing(
          BackendException.transientFailure(FailureCode.BACKEND_UNAVAILABLE, where, said));
    }
    if (status == 404) {
      // Most often the generator's configuration (a base URL with a path, a model the server
      // does not serve): a backend error, which the failure-rate alert counts. unknown_backend
      // stays for requests naming a backend this deployment does not have.
      if (request.model().equals(defaultModel)) {
        defaultModelNotFound.incrementAndGet();
      }
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              where
                  + ": no such endpoint or model; is model '"
                  + request.model()
                  + "' served there? (a configuration error if it is the default model: check"
                  + " GENGUARD_GENERATOR_OPENAI_BASE_URL and GENGUARD_GENERATOR_OPENAI_MODEL)",
              said));
    }
    if (status != 200) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              where + " (the server's reason is in the generator log)",
              said));
    }
    JsonNode root;
    try {
      root = JSON.readTree(response.body());
    } catch (JsonProcessingException e) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              "the response from " + SERVER + " is not JSON",
              new OperatorDetail("it starts: " + shown(response.body()))));
    }
    JsonNode choice = root.path("choices").path(0);
    JsonNode text = chat ? choice.path("message").path("content") : choice.path("text");
    if (!text.isTextual()) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              "the response from "
                  + SERVER
                  + " has no choices[0]."
                  + (chat ? "message.content" : "text"),
              new OperatorDetail("it starts: " + shown(response.body()))));
    }
    if (request.model().equals(defaultModel)) {
      defaultModelNotFound.set(0);
    }
    String generated = text.asText();
    JsonNode usage = root.path("usage");
    // A completion has at most the max_tokens it was asked for; a byte-level token covers at least
    // one byte of the prompt, which a template may add to.
    int promptTokens =
        reportedTokens(
            usage,
            "prompt_tokens",
            request.prompt(),
            (long) utf8Bytes(request.prompt()) + PROMPT_TEMPLATE_TOKENS);
    int outputTokens =
        reportedTokens(usage, "completion_tokens", generated, request.sampling().maxTokens());
    String served = servedModel(request, root.path("model"));
    return new Generation(
        generated,
        promptTokens,
        outputTokens,
        served,
        version(root.path("system_fingerprint")),
        null,
        DEVICE,
        nanos,
        served.equals(request.model()) ? null : request.model());
  }

  /**
   * The token count {@code usage.field} the server reported for {@code text}, where it can be that
   * count: a JSON int from {@code ceil(bytes / MAX_BYTES_PER_TOKEN)} to {@code most}, and not 0 for
   * a text that is not empty. The count feeds the tokens metric and each output's cost, so one the
   * server did not give, or gave as nonsense (negative, past the bound, impossible for the text),
   * is counted here from the text's words instead, and the operator log says so.
   */
  private int reportedTokens(JsonNode usage, String field, String text, long most) {
    JsonNode reported = usage.path(field);
    int bytes = utf8Bytes(text);
    long least = (bytes + MAX_BYTES_PER_TOKEN - 1L) / MAX_BYTES_PER_TOKEN;
    if (reported.isInt() && reported.asInt() >= least && reported.asInt() <= most) {
      return reported.asInt();
    }
    int counted = WordTokenizer.tokenize(text).size();
    if (!reported.isMissingNode() && !reported.isNull()) {
      droppedUsage.warn(
          "The usage."
              + field
              + " of a response from "
              + endpoint
              + " is "
              + shown(reported.toString())
              + ", not a count from "
              + least
              + " to "
              + most
              + " for its "
              + bytes
              + " bytes of text; counted "
              + counted
              + " from its words instead");
    }
    return counted;
  }

  private static int utf8Bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }

  /**
   * The model the server says answered: the one the manifest names. A server that names none (or an
   * empty one) is taken at its word that it served the model asked for, the only name there is. One
   * that names it in a form no output can carry fails the request: signing the model asked for
   * instead would vouch for what the server did not say.
   */
  private static String servedModel(BackendRequest request, JsonNode model)
      throws BackendException {
    if (model.isMissingNode()
        || model.isNull()
        || (model.isTextual() && model.asText().isBlank())) {
      return request.model();
    }
    String problem =
        model.isTextual()
            ? reportedNameProblem(model.asText())
            : "is a JSON " + model.getNodeType().name().toLowerCase(Locale.ROOT) + ", not a string";
    if (problem != null) {
      return throwing(
          BackendException.permanent(
              FailureCode.BACKEND_ERROR,
              "the response from "
                  + SERVER
                  + " names the model that answered, but its \"model\" "
                  + problem
                  + "; the output is not signed, since its manifest must name the model that"
                  + " wrote it (fix the server's model name)",
              null));
    }
    return model.asText();
  }

  /**
   * The server's {@code system_fingerprint}, or {@value #UNKNOWN_VERSION} when it gives none or one
   * no output can carry (said in the operator log): a version is a detail the output can do
   * without, unlike the model's name.
   */
  private String version(JsonNode fingerprint) {
    if (!fingerprint.isTextual() || fingerprint.asText().isBlank()) {
      return UNKNOWN_VERSION;
    }
    String problem = reportedNameProblem(fingerprint.asText());
    if (problem != null) {
      droppedFingerprints.warn(
          "The system_fingerprint of a response from "
              + endpoint
              + " "
              + problem
              + "; its outputs state version '"
              + UNKNOWN_VERSION
              + "' instead");
      return UNKNOWN_VERSION;
    }
    return fingerprint.asText();
  }

  private BackendException classify(Throwable error, Duration callTimeout) {
    // The exception's own text goes to the operator log only (as the cause): it may name the
    // server's host, e.g. in a TLS error.
    String kind = " (" + error.getClass().getSimpleName() + ")";
    if (error instanceof ResponseTooLargeException) {
      return BackendException.permanent(
          FailureCode.BACKEND_ERROR,
          "the response from " + SERVER + " " + error.getMessage(),
          error);
    }
    if (error instanceof HttpConnectTimeoutException || error instanceof ConnectException) {
      return BackendException.transientFailure(
          FailureCode.BACKEND_UNAVAILABLE, "cannot connect to " + SERVER + kind, error);
    }
    if (error instanceof HttpTimeoutException || error instanceof TimeoutException) {
      return BackendException.transientFailure(
          FailureCode.TIMEOUT,
          "no answer from " + SERVER + " within " + callTimeout.toMillis() + " ms",
          error);
    }
    if (error instanceof IOException) {
      return BackendException.transientFailure(
          FailureCode.BACKEND_UNAVAILABLE, "the call to " + SERVER + " failed" + kind, error);
    }
    return BackendException.permanent(
        FailureCode.BACKEND_ERROR, "the call to " + SERVER + " failed" + kind, error);
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

  /** What the server said about a failure, for the operator log, or null when it said nothing. */
  private OperatorDetail serverSaid(String body) {
    try {
      JsonNode message = JSON.readTree(body).path("error").path("message");
      if (message.isTextual()) {
        return new OperatorDetail("the server said: " + shown(message.asText()));
      }
    } catch (JsonProcessingException | RuntimeException e) {
      // Not the OpenAI error shape; log the raw start below.
    }
    return body == null || body.isBlank()
        ? null
        : new OperatorDetail("the server said: " + shown(body));
  }

  /** A server's text as a failure reason quotes it: without the API key or the address, short. */
  private String shown(String serverText) {
    return abbreviate(redacted(serverText));
  }

  /**
   * {@code text} without the API key, should a server echo it (some quote a wrong key in their
   * 401), nor the server's configured address. Before any cut, so no part of the key is left.
   */
  private String redacted(String text) {
    if (text == null) {
      return null;
    }
    String withoutKey = apiKey == null ? text : text.replace(apiKey, REDACTED_KEY);
    return withoutKey.replace(baseUrl.toString(), REDACTED_ADDRESS);
  }

  private static String abbreviate(String body) {
    String oneLine = body == null ? "" : body.replaceAll("\\s+", " ").strip();
    return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
  }

  /** What a failure's reason leaves out for the operator log, e.g. where a redirect points. */
  private static final class OperatorDetail extends Exception {
    private static final long serialVersionUID = 1L;

    OperatorDetail(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Warnings for the operator, naming the endpoint: the first at once, then at most one line per
   * {@link #LOG_PERIOD}, which says how many it left out (those go to DEBUG), so a server that is
   * down does not write a line per request.
   */
  private static final class OperatorLog {
    private final AtomicLong nextLineNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong leftOut = new AtomicLong();

    void warn(String line) {
      long now = System.nanoTime();
      long next = nextLineNanos.get();
      if (now - next < 0 || !nextLineNanos.compareAndSet(next, now + LOG_PERIOD.toNanos())) {
        leftOut.incrementAndGet();
        LOG.debug("{}", line);
        return;
      }
      long skipped = leftOut.getAndSet(0);
      LOG.warn(
          "{}{}",
          line,
          skipped == 0
              ? ""
              : " (and " + skipped + " more like it in the last " + LOG_PERIOD.toSeconds() + " s)");
    }
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
