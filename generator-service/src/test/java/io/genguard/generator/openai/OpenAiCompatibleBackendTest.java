package io.genguard.generator.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.BackendRequest;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.Generation;
import io.genguard.generator.backend.SamplingSettings;
import io.genguard.generator.worker.BatchProcessor;
import io.genguard.generator.worker.OpenAiProcessorFixture;
import io.genguard.generator.worker.OutputAssembler;
import io.genguard.provenance.text.WordTokenizer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Runs the backend against a local server that speaks the OpenAI protocol; the prompt selects the
 * server's behaviour (answer, error, rate limit, garbage, silence).
 */
class OpenAiCompatibleBackendTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Clock CLOCK = Clock.systemUTC();

  private HttpServer server;
  private URI baseUrl;
  private final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private ListAppender<ILoggingEvent> logged;

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/completions", exchange -> handle(exchange, false));
    server.createContext("/v1/chat/completions", exchange -> handle(exchange, true));
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.start();
    baseUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
    if (logged != null) {
      ((Logger) LoggerFactory.getLogger("io.genguard")).detachAppender(logged);
    }
  }

  @Test
  void shouldCompleteThroughV1Completions() throws Exception {
    Generation generation =
        generate(backend(false), request("Tell me about the Council", 32, 7)).orElseThrow();

    assertThat(generation.text()).isEqualTo(" The Council meets in Brussels.");
    assertThat(generation.promptTokens()).isEqualTo(5);
    assertThat(generation.outputTokens()).isEqualTo(6);
    assertThat(generation.watermark()).as("no logits over HTTP: no watermark").isNull();
    assertThat(generation.modelVersion()).isEqualTo("fp_test");
    assertThat(generation.device())
        .as("the server's address is not shown to tenants")
        .isEqualTo("remote:openai")
        .doesNotContain("127.0.0.1")
        .doesNotContain(String.valueOf(baseUrl.getPort()));
    JsonNode body = bodies.get(0);
    assertThat(body.path("prompt").asText()).isEqualTo("Tell me about the Council");
    assertThat(body.path("model").asText()).isEqualTo("llama-3-8b");
    assertThat(body.path("max_tokens").asInt()).isEqualTo(32);
    assertThat(body.path("seed").asLong()).isEqualTo(7);
    assertThat(body.path("top_k").asInt()).isEqualTo(40);
    assertThat(authorizations).containsExactly("Bearer sk-test");
  }

  @Test
  void shouldCompleteThroughV1ChatCompletions() throws Exception {
    Generation generation =
        generate(backend(true), request("Tell me about the Council", 32, 7)).orElseThrow();

    assertThat(generation.text()).isEqualTo("Chat: the Council meets in Brussels.");
    assertThat(bodies.get(0).path("messages").path(0).path("role").asText()).isEqualTo("user");
    assertThat(bodies.get(0).path("messages").path(0).path("content").asText())
        .isEqualTo("Tell me about the Council");
  }

  @Test
  void shouldReportRateLimitsAsRetryableWithTheServersRetryAfter() {
    captureLog();
    BackendException error = failure(backend(false), request("rate-limit", 8, 1));

    assertThat(error.isTransient()).isTrue();
    assertThat(error.retryAfter()).isEqualTo(Duration.ofSeconds(3));
    assertThat(error.getMessage()).contains("HTTP 429").doesNotContain("slow down");
    assertThat(loggedLines()).anySatisfy(line -> assertThat(line).contains("slow down"));
  }

  @Test
  void shouldReportServerErrorsAsRetryable() {
    BackendException error = failure(backend(false), request("server-error", 8, 1));

    assertThat(error.isTransient()).isTrue();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_UNAVAILABLE);
    assertThat(error.getMessage()).contains("HTTP 500").doesNotContain("CUDA out of memory");
  }

  @Test
  void shouldReportRejectedRequestsAsPermanentWithTheServersMessageInTheLogOnly() {
    captureLog();
    BackendException error = failure(backend(false), request("bad-request", 8, 1));

    assertThat(error.isTransient()).isFalse();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_ERROR);
    assertThat(error.getMessage()).contains("HTTP 400").doesNotContain("max_tokens is too large");
    assertThat(loggedLines())
        .anySatisfy(line -> assertThat(line).contains("max_tokens is too large"));
  }

  /**
   * A 404 is most often the generator's configuration (a base URL with a path, the default model
   * not served): a backend error, which GenGuardGenerationFailureRateHigh counts, not
   * unknown_backend, which it leaves out.
   */
  @Test
  void shouldReportAnUnknownModelAsABackendErrorTheFailureRateAlertCounts() {
    BackendException error = failure(backend(false), request("unknown-model", 8, 1));

    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_ERROR);
    assertThat(error.isTransient()).isFalse();
    assertThat(error.getMessage())
        .contains("HTTP 404")
        .contains("is model 'llama-3-8b' served there?")
        .contains("GENGUARD_GENERATOR_OPENAI_BASE_URL")
        .doesNotContain("The model does not exist");
  }

  @Test
  void shouldReportNotReadyAfterRepeated404sForTheDefaultModelUntilOneSucceeds() {
    OpenAiCompatibleBackend backend =
        new OpenAiCompatibleBackend(
            baseUrl,
            "sk-test",
            "llama-3-8b",
            Set.of("llama-3-8b", "a-model-a-tenant-named")::contains,
            false,
            Duration.ofSeconds(5),
            CLOCK);
    BackendRequest otherModel =
        new BackendRequest(
            "req",
            "unknown-model",
            "a-model-a-tenant-named",
            new SamplingSettings(8, 0.7, 40, 0.9, 1),
            Instant.now().plusSeconds(30));

    for (int i = 0; i < OpenAiCompatibleBackend.NOT_FOUND_BEFORE_NOT_READY; i++) {
      failure(backend, otherModel);
    }
    assertThat(backend.ready()).as("a tenant naming models the server lacks").isTrue();
    for (int i = 0; i < OpenAiCompatibleBackend.NOT_FOUND_BEFORE_NOT_READY - 1; i++) {
      failure(backend, request("unknown-model", 8, 1));
    }
    assertThat(backend.ready()).isTrue();
    failure(backend, request("unknown-model", 8, 1));
    assertThat(backend.ready()).isFalse();
    assertThat(backend.whyNotReady()).as("requests are still sent, so it can recover").isEmpty();

    generate(backend, request("Tell me about the Council", 8, 1)).orElseThrow();

    assertThat(backend.ready()).isTrue();
  }

  @Test
  void shouldReportGarbageAsABackendError() {
    captureLog();
    BackendException notJson = failure(backend(false), request("garbage", 8, 1));
    BackendException wrongShape = failure(backend(false), request("wrong-shape", 8, 1));

    assertThat(notJson.isTransient()).isFalse();
    assertThat(notJson.getMessage()).contains("is not JSON").doesNotContain("<html>");
    assertThat(wrongShape.getMessage()).contains("has no choices[0].text");
    assertThat(loggedLines()).anySatisfy(line -> assertThat(line).contains("<html>"));
  }

  /** Hosts in a proxy's error page, a masked key: none reaches a tenant's reason. */
  @Test
  void shouldShowTenantsNoneOfTheServersErrorText() {
    BackendException proxyPage = failure(backend(false), request("proxy-page", 8, 1));
    BackendException maskedKey = failure(backend(false), request("masked-key", 8, 1));

    assertThat(proxyPage.getMessage()).contains("HTTP 502").doesNotContain("10.0.0.5");
    assertThat(maskedKey.getMessage()).contains("HTTP 401").doesNotContain("abcd");
  }

  @Test
  void shouldTimeOutASilentServer() {
    OpenAiCompatibleBackend impatient =
        new OpenAiCompatibleBackend(
            baseUrl, null, "llama-3-8b", false, Duration.ofMillis(300), CLOCK);

    BackendException error = failure(impatient, request("silent", 8, 1));

    assertThat(error.isTransient()).isTrue();
    assertThat(error.code()).isEqualTo(FailureCode.TIMEOUT);
    assertThat(error.getMessage()).contains("within 300 ms");
  }

  @Test
  void shouldRefuseAResponseBodyLargerThanTheLimitWithoutReadingItAll() {
    BackendException error = failure(backend(false), request("huge", 8, 1));

    assertThat(error.isTransient()).isFalse();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_ERROR);
    assertThat(error.getMessage())
        .contains("the response from the OpenAI-compatible server")
        .contains("more than " + OpenAiCompatibleBackend.MAX_RESPONSE_BYTES + " bytes")
        .doesNotContain("127.0.0.1");
  }

  @Test
  void shouldTimeOutABodyThatNeverEnds() {
    OpenAiCompatibleBackend impatient =
        new OpenAiCompatibleBackend(
            baseUrl, null, "llama-3-8b", false, Duration.ofMillis(300), CLOCK);

    long started = System.nanoTime();
    BackendException error = failure(impatient, request("drip", 8, 1));
    long millis = (System.nanoTime() - started) / 1_000_000;

    assertThat(millis)
        .as("the 300 ms timeout covers the body, not only the headers")
        .isLessThan(2_000);
    assertThat(error.isTransient()).isTrue();
    assertThat(error.code()).isEqualTo(FailureCode.TIMEOUT);
    assertThat(error.getMessage()).contains("within 300 ms");
  }

  @Test
  void shouldShortenAHugeErrorMessageFromTheServerInTheLog() {
    captureLog();
    BackendException error = failure(backend(false), request("verbose-error", 8, 1));

    assertThat(error.getMessage()).contains("HTTP 400").doesNotContain("xxxx");
    assertThat(loggedLines())
        .anySatisfy(line -> assertThat(line).contains("xxxx...").hasSizeLessThan(600));
  }

  @Test
  void shouldNotTrustNegativeTokenCounts() {
    Generation generation = generate(backend(false), request("negative-usage", 8, 1)).orElseThrow();

    assertThat(generation.promptTokens())
        .as("counted from the prompt instead")
        .isEqualTo(WordTokenizer.tokenize("negative-usage").size());
    assertThat(generation.outputTokens()).as("counted from the text instead").isEqualTo(3);
  }

  /** Counts past the request's max_tokens or the text's size would poison metrics and cost. */
  @Test
  void shouldNotTrustTokenCountsThatCannotBeThoseOfTheTextOrTheRequest() {
    captureLog();
    // "usage P C" answers "one two three" with prompt_tokens P and completion_tokens C.
    int promptWords = WordTokenizer.tokenize("usage 2000000000 2000000000").size();
    Generation absurd =
        generate(backend(false), request("usage 2000000000 2000000000", 8, 1)).orElseThrow();
    Generation overMax = generate(backend(false), request("usage 4 9", 8, 1)).orElseThrow();
    Generation zero = generate(backend(false), request("usage 0 0", 8, 1)).orElseThrow();
    Generation plausible = generate(backend(false), request("usage 4 8", 8, 1)).orElseThrow();

    assertThat(absurd.promptTokens()).as("counted from the prompt").isEqualTo(promptWords);
    assertThat(absurd.outputTokens()).as("counted from the text").isEqualTo(3);
    assertThat(overMax.promptTokens()).isEqualTo(4);
    assertThat(overMax.outputTokens()).as("more than the max_tokens asked for").isEqualTo(3);
    assertThat(zero.promptTokens()).as("no tokens for a prompt of text").isEqualTo(promptWords);
    assertThat(zero.outputTokens()).as("no tokens for a text").isEqualTo(3);
    assertThat(plausible.promptTokens()).isEqualTo(4);
    assertThat(plausible.outputTokens()).as("a count the text can have is kept").isEqualTo(8);
    assertThat(loggedLines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains(
                        "usage.prompt_tokens of a response from",
                        "is 2000000000, not a count from 1 to",
                        "counted " + promptWords + " from its words instead"));
  }

  @Test
  void shouldSayThatRedirectsAreNotFollowedAndTellOnlyTheOperatorWhereTheyPoint() {
    captureLog();
    BackendException error = failure(backend(false), request("redirect", 8, 1));
    List<String> logged = loggedLines();

    assertThat(error.isTransient()).isFalse();
    assertThat(error.getMessage())
        .contains("HTTP 308")
        .contains("redirects are not followed")
        .contains("GENGUARD_GENERATOR_OPENAI_BASE_URL")
        .doesNotContain("llm.example.com");
    assertThat(logged)
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains(baseUrl + "/v1/completions")
                    .contains("redirects to https://llm.example.com/v1/completions"));
  }

  @Test
  void shouldReportAnUnreachableServerAsRetryable() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    OpenAiCompatibleBackend nowhere =
        new OpenAiCompatibleBackend(
            URI.create("http://127.0.0.1:" + closedPort),
            null,
            "llama-3-8b",
            false,
            Duration.ofSeconds(2),
            CLOCK);

    BackendException error = failure(nowhere, request("anything", 8, 1));

    assertThat(error.isTransient()).isTrue();
    assertThat(error.code()).isEqualTo(FailureCode.BACKEND_UNAVAILABLE);
    assertThat(error.getMessage()).contains("cannot connect");
  }

  @Test
  void shouldSendABatchAsConcurrentCalls() {
    OpenAiCompatibleBackend backend = backend(false);
    List<BackendRequest> batch =
        List.of(
            request("slow-a", 8, 1),
            request("slow-b", 8, 2),
            request("slow-c", 8, 3),
            request("slow-d", 8, 4));

    long started = System.nanoTime();
    List<BackendOutcome> outcomes = backend.generate(batch);
    long millis = (System.nanoTime() - started) / 1_000_000;

    assertThat(outcomes).allMatch(outcome -> outcome instanceof BackendOutcome.Generated);
    assertThat(millis).as("four 400 ms calls in parallel").isLessThan(1_200);
  }

  @Test
  void shouldBeServedAfterARateLimitWhenTheWorkerRetries() {
    List<Duration> sleeps = new CopyOnWriteArrayList<>();
    io.genguard.generator.worker.BatchProcessor processor =
        io.genguard.generator.worker.OpenAiProcessorFixture.processor(backend(false), sleeps);

    var results =
        processor.process(
            List.of(
                io.genguard.generator.worker.OpenAiProcessorFixture.request(
                    "r-1", "rate-limit-once")));

    assertThat(results.get(0).succeeded()).isTrue();
    assertThat(results.get(0).output().getWatermark()).isNull();
    assertThat(results.get(0).output().getManifest()).isNotNull();
    assertThat(results.get(0).output().getCost().getEnergyJoules())
        .as("remote hardware unknown")
        .isZero();
    assertThat(sleeps).containsExactly(Duration.ofSeconds(1));
    assertThat(calls.get("rate-limit-once")).hasValue(2);
  }

  @Test
  void shouldRefuseAnApiKeyThatCannotBeSentWithoutShowingIt() {
    for (String key :
        List.of("sk-live-TOPSECRET\u2010abc", "sk-live-TOPSECRET\nabc", "Bearer sk-TOPSECRET")) {
      assertThatThrownBy(
              () ->
                  new OpenAiCompatibleBackend(
                      baseUrl, key, "llama-3-8b", false, Duration.ofSeconds(5), CLOCK))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("The OpenAI API key")
          .hasMessageNotContaining("TOPSECRET")
          .hasNoCause();
    }
    assertThat(OpenAiCompatibleBackend.apiKeyProblem("sk-live-TOPSECRET\u2010abc"))
        .contains("character U+2010 at character 18");
    assertThat(OpenAiCompatibleBackend.apiKeyProblem("sk-live-TOPSECRET\nabc"))
        .contains("a line break character U+000A");
    assertThat(OpenAiCompatibleBackend.apiKeyProblem("sk-live_ABC.def~0123")).isNull();
  }

  @Test
  void shouldNeverShowTheApiKeyInAFailureReasonOrTheLogEvenWhenTheServerEchoesIt() {
    captureLog();
    OpenAiCompatibleBackend backend =
        new OpenAiCompatibleBackend(
            baseUrl, "sk-live-TOPSECRET-0123", "llama-3-8b", false, Duration.ofSeconds(5), CLOCK);
    BatchProcessor processor = OpenAiProcessorFixture.processor(backend, new ArrayList<>());

    BatchProcessor.Result echoed =
        processor.process(List.of(OpenAiProcessorFixture.request("r-echo", "echo-key"))).get(0);
    BatchProcessor.Result longEcho =
        processor
            .process(List.of(OpenAiProcessorFixture.request("r-long", "echo-key-late")))
            .get(0);

    assertThat(echoed.failure().getReason()).contains("HTTP 401").doesNotContain("TOPSECRET");
    assertThat(longEcho.failure().getReason())
        .as("redacted before the server's text is cut, so no part of the key is left")
        .doesNotContain("sk-live")
        .doesNotContain("TOPSEC");
    assertThat(loggedLines()).isNotEmpty().noneMatch(line -> line.contains("TOPSEC"));
  }

  /**
   * A tenant may ask only for the models the deployment allows (the default and {@code
   * GENGUARD_GENERATOR_OPENAI_MODELS}); any other name fails {@code unknown_backend} before a call
   * (before the forty-first session every name was sent to the server).
   */
  @Test
  void shouldRefuseAModelTheDeploymentDoesNotAllowWithoutCallingTheServer() {
    GeneratorConfig config =
        GeneratorConfig.defaults(Path.of("target", "unused-data-dir"))
            .withOpenAi(baseUrl, "sk-test", "llama-3-8b", false, Duration.ofSeconds(5))
            .withOpenAiModels(Set.of("llama-3-70b"));
    OpenAiCompatibleBackend backend =
        new OpenAiCompatibleBackend(
            baseUrl,
            "sk-test",
            config.openAiModel(),
            config::openAiModelAllowed,
            false,
            Duration.ofSeconds(5),
            CLOCK);
    BatchProcessor processor = OpenAiProcessorFixture.processor(backend, new ArrayList<>());
    GenerationRequest expensive =
        OpenAiProcessorFixture.request("r-expensive", "Tell me about the Council");
    expensive.setModel("gpt-4-32k");
    GenerationRequest listed =
        OpenAiProcessorFixture.request("r-listed", "Tell me about the Council");
    listed.setModel("llama-3-70b");
    GenerationRequest unnamed =
        OpenAiProcessorFixture.request("r-default", "Tell me about the Council");

    List<BatchProcessor.Result> results = processor.process(List.of(expensive, listed, unnamed));

    assertThat(results.get(0).succeeded()).isFalse();
    assertThat(results.get(0).failure().getCode()).isEqualTo("unknown_backend");
    assertThat(results.get(0).failure().getReason())
        .contains("model 'gpt-4-32k' is not served by backend 'openai'")
        .contains("its default model is 'llama-3-8b'");
    assertThat(results.get(1).succeeded()).isTrue();
    assertThat(results.get(2).succeeded()).isTrue();
    assertThat(bodies)
        .as("the refused model never reached the server")
        .extracting(body -> body.path("model").asText())
        .containsExactlyInAnyOrder("llama-3-70b", "llama-3-8b");
    // A caller that skips the validator cannot send it either.
    BackendException direct =
        failure(
            backend,
            new BackendRequest(
                "req",
                "Tell me about the Council",
                "gpt-4-32k",
                new SamplingSettings(8, 0.7, 40, 0.9, 1),
                Instant.now().plusSeconds(30)));
    assertThat(direct.code()).isEqualTo(FailureCode.UNKNOWN_BACKEND);
    assertThat(bodies).hasSize(2);
  }

  @Test
  void shouldSendOnlyTheDefaultModelWhereNoOtherIsAllowedAndAnyWithTheWildcard() {
    GeneratorConfig unset =
        GeneratorConfig.defaults(Path.of("target", "unused-data-dir"))
            .withOpenAi(baseUrl, null, "llama-3-8b", false, Duration.ofSeconds(5));
    OpenAiCompatibleBackend strict =
        new OpenAiCompatibleBackend(
            baseUrl,
            null,
            "llama-3-8b",
            unset::openAiModelAllowed,
            false,
            Duration.ofSeconds(5),
            CLOCK);
    assertThat(strict.serves("llama-3-8b")).isTrue();
    assertThat(strict.serves("llama-3-70b")).isFalse();
    assertThat(backend(false).serves("llama-3-70b"))
        .as("the plain constructor allows the default model only")
        .isFalse();

    GeneratorConfig any = unset.withOpenAiModels(Set.of(GeneratorConfig.ANY_MODEL));
    OpenAiCompatibleBackend open =
        new OpenAiCompatibleBackend(
            baseUrl,
            null,
            "llama-3-8b",
            any::openAiModelAllowed,
            false,
            Duration.ofSeconds(5),
            CLOCK);
    assertThat(open.serves("llama-3-70b")).isTrue();
    assertThat(open.serves(" ")).isFalse();
  }

  @Test
  void shouldSignTheModelTheServerSaysServedAndKeepTheOneAskedForBesideIt() throws Exception {
    BatchProcessor processor = OpenAiProcessorFixture.processor(backend(false), new ArrayList<>());

    BatchProcessor.Result result =
        processor
            .process(List.of(OpenAiProcessorFixture.request("r-fallback", "fallback-model")))
            .get(0);

    assertThat(result.succeeded()).isTrue();
    JsonNode manifest = JSON.readTree(result.output().getManifest().getCanonicalJson());
    assertThat(manifest.path("model").path("name").asText()).isEqualTo("cheap-fallback-model");
    assertThat(manifest.path("model").path("version").asText()).isEqualTo("fp_fallback");
    assertThat(result.output().getModel().getName()).isEqualTo("cheap-fallback-model");
    assertThat(result.output().getAttributes())
        .containsEntry(OutputAssembler.REQUESTED_MODEL_ATTRIBUTE, "llama-3-8b")
        .containsEntry("campaign.id", "c1");
    assertThat(bodies.get(0).path("model").asText()).isEqualTo("llama-3-8b");
  }

  @Test
  void shouldAddNoRequestedModelWhenTheServerServedTheOneAskedFor() {
    BatchProcessor processor = OpenAiProcessorFixture.processor(backend(false), new ArrayList<>());
    GenerationRequest request = OpenAiProcessorFixture.request("r-same", "same-model");
    // A producer cannot make an output claim a model that was asked for: the generator owns the
    // key.
    request.setAttributes(
        Map.of("campaign.id", "c1", OutputAssembler.REQUESTED_MODEL_ATTRIBUTE, "premium-model"));

    BatchProcessor.Result result = processor.process(List.of(request)).get(0);

    assertThat(result.output().getModel().getName()).isEqualTo("llama-3-8b");
    assertThat(result.output().getModel().getVersion())
        .as("no system_fingerprint")
        .isEqualTo(OpenAiCompatibleBackend.UNKNOWN_VERSION);
    assertThat(result.output().getAttributes())
        .containsOnlyKeys("campaign.id")
        .doesNotContainKey(OutputAssembler.REQUESTED_MODEL_ATTRIBUTE);
  }

  @Test
  void shouldTakeTheModelAskedForWhenTheServerNamesNone() {
    Generation generation = generate(backend(false), request("no-model", 8, 1)).orElseThrow();

    assertThat(generation.modelName()).isEqualTo("llama-3-8b");
    assertThat(generation.requestedModel()).isNull();
  }

  @Test
  void shouldRefuseAServedModelNameNoOutputCanCarryWithAClearReason() {
    BatchProcessor processor = OpenAiProcessorFixture.processor(backend(false), new ArrayList<>());

    for (String prompt :
        List.of("surrogate-model", "control-model", "long-model", "number-model")) {
      BatchProcessor.Result result =
          processor.process(List.of(OpenAiProcessorFixture.request("r-" + prompt, prompt))).get(0);

      assertThat(result.succeeded()).as(prompt).isFalse();
      assertThat(result.failure().getCode()).isEqualTo(FailureCode.BACKEND_ERROR.code());
      assertThat(result.failure().getReason())
          .as(prompt)
          .contains("names the model that answered, but its \"model\"")
          .contains("the output is not signed")
          .doesNotContain("could not be packaged")
          .doesNotContain("ask for fewer tokens")
          .doesNotContain("x".repeat(200));
    }
    assertThat(
            processor
                .process(List.of(OpenAiProcessorFixture.request("r-s", "surrogate-model")))
                .get(0)
                .failure()
                .getReason())
        .contains("an unpaired surrogate (U+D800) at character 4");
    assertThat(
            processor
                .process(List.of(OpenAiProcessorFixture.request("r-l", "long-model")))
                .get(0)
                .failure()
                .getReason())
        .contains("has 3000000 characters, more than the 128");
  }

  @Test
  void shouldStateAnUnknownVersionForAFingerprintNoOutputCanCarry() throws Exception {
    captureLog();
    BatchProcessor processor = OpenAiProcessorFixture.processor(backend(false), new ArrayList<>());

    BatchProcessor.Result result =
        processor
            .process(List.of(OpenAiProcessorFixture.request("r-fp", "surrogate-fingerprint")))
            .get(0);

    assertThat(result.succeeded()).isTrue();
    assertThat(result.output().getModel().getVersion())
        .isEqualTo(OpenAiCompatibleBackend.UNKNOWN_VERSION);
    assertThat(
            JSON.readTree(result.output().getManifest().getCanonicalJson())
                .path("model")
                .path("version")
                .asText())
        .isEqualTo(OpenAiCompatibleBackend.UNKNOWN_VERSION);
    assertThat(loggedLines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("system_fingerprint")
                    .contains(baseUrl.toString())
                    .contains("unpaired surrogate"));
  }

  @Test
  void shouldNameTheServersAddressToTheOperatorOnlyNeverInAFailureReason() throws IOException {
    captureLog();
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    URI nowhere = URI.create("http://127.0.0.1:" + closedPort);
    BackendException unreachable =
        failure(
            new OpenAiCompatibleBackend(
                nowhere, null, "llama-3-8b", false, Duration.ofSeconds(2), CLOCK),
            request("anything", 8, 1));
    BackendException serverError = failure(backend(false), request("address-in-error", 8, 1));

    assertThat(unreachable.getMessage())
        .contains("cannot connect to the OpenAI-compatible server")
        .doesNotContain("127.0.0.1");
    assertThat(serverError.getMessage())
        .contains("HTTP 500")
        .doesNotContain("is overloaded")
        .doesNotContain(baseUrl.toString());
    assertThat(loggedLines())
        .anySatisfy(line -> assertThat(line).contains("upstream <server> is overloaded"))
        .anySatisfy(line -> assertThat(line).contains(nowhere + "/v1/completions"))
        .anySatisfy(line -> assertThat(line).contains(baseUrl + "/v1/completions"));
  }

  private OpenAiCompatibleBackend backend(boolean chat) {
    return new OpenAiCompatibleBackend(
        baseUrl, "sk-test", "llama-3-8b", chat, Duration.ofSeconds(5), CLOCK);
  }

  private void captureLog() {
    logged = new ListAppender<>();
    logged.start();
    ((Logger) LoggerFactory.getLogger("io.genguard")).addAppender(logged);
  }

  /** Every line logged since {@link #captureLog()}, as formatted. */
  private List<String> loggedLines() {
    synchronized (logged.list) {
      return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  private static String completionBy(String model, String fingerprint) throws IOException {
    var root = JSON.createObjectNode();
    root.put("id", "cmpl-1");
    if (model != null) {
      root.put("model", model);
    }
    if (fingerprint != null) {
      root.put("system_fingerprint", fingerprint);
    }
    root.putArray("choices").addObject().put("text", "served text").put("finish_reason", "stop");
    root.putObject("usage").put("prompt_tokens", 2).put("completion_tokens", 2);
    return JSON.writeValueAsString(root);
  }

  private static BackendRequest request(String prompt, int maxTokens, long seed) {
    return new BackendRequest(
        "req",
        prompt,
        "llama-3-8b",
        new SamplingSettings(maxTokens, 0.7, 40, 0.9, seed),
        Instant.now().plusSeconds(30));
  }

  private static java.util.Optional<Generation> generate(
      OpenAiCompatibleBackend backend, BackendRequest request) {
    BackendOutcome outcome = backend.generate(List.of(request)).get(0);
    return outcome instanceof BackendOutcome.Generated generated
        ? java.util.Optional.of(generated.generation())
        : java.util.Optional.empty();
  }

  private static BackendException failure(OpenAiCompatibleBackend backend, BackendRequest request) {
    BackendOutcome outcome = backend.generate(List.of(request)).get(0);
    assertThat(outcome).isInstanceOf(BackendOutcome.Failed.class);
    return ((BackendOutcome.Failed) outcome).error();
  }

  private void handle(HttpExchange exchange, boolean chat) throws IOException {
    JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
    bodies.add(body);
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (authorization != null) {
      authorizations.add(authorization);
    }
    String prompt =
        chat
            ? body.path("messages").path(0).path("content").asText()
            : body.path("prompt").asText();
    calls.computeIfAbsent(prompt, p -> new AtomicInteger()).incrementAndGet();
    switch (prompt) {
      case "rate-limit" -> {
        exchange.getResponseHeaders().add("Retry-After", "3");
        respond(exchange, 429, "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\"}}");
      }
      case "rate-limit-once" -> {
        if (calls.get(prompt).get() == 1) {
          exchange.getResponseHeaders().add("Retry-After", "1");
          respond(exchange, 429, "{\"error\":{\"message\":\"slow down\"}}");
        } else {
          respond(exchange, 200, completion(chat, "served after waiting"));
        }
      }
      case "server-error" ->
          respond(exchange, 500, "{\"error\":{\"message\":\"CUDA out of memory\"}}");
      case "bad-request" ->
          respond(exchange, 400, "{\"error\":{\"message\":\"max_tokens is too large\"}}");
      case "unknown-model" ->
          respond(exchange, 404, "{\"error\":{\"message\":\"The model does not exist\"}}");
      case "garbage" -> respond(exchange, 200, "<html>502 Bad Gateway</html>");
      case "proxy-page" ->
          respond(exchange, 502, "<html>502 Bad Gateway: upstream 10.0.0.5:8080 refused</html>");
      case "masked-key" ->
          respond(
              exchange, 401, "{\"error\":{\"message\":\"Incorrect API key: sk-proj-****abcd\"}}");
      case "huge" -> {
        // A valid completion, were it not for its 64 MiB text.
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, 0);
        try (var out = exchange.getResponseBody()) {
          out.write("{\"choices\":[{\"text\":\"".getBytes(StandardCharsets.UTF_8));
          byte[] words = "word ".repeat(1 << 16).getBytes(StandardCharsets.UTF_8);
          for (int i = 0; i < 200; i++) {
            out.write(words);
          }
          out.write("\"}]}".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
          // The client stopped reading at its limit.
        }
      }
      case "drip" -> {
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, 0);
        try (var out = exchange.getResponseBody()) {
          for (int i = 0; i < 100; i++) {
            out.write(' ');
            out.flush();
            sleep(50);
          }
        } catch (IOException e) {
          // The client gave up.
        }
      }
      case "verbose-error" ->
          respond(exchange, 400, "{\"error\":{\"message\":\"" + "x".repeat(100_000) + "\"}}");
      case "negative-usage" -> {
        var root = JSON.createObjectNode();
        root.putArray("choices").addObject().put("text", "one two three");
        root.putObject("usage").put("prompt_tokens", -5).put("completion_tokens", -7);
        respond(exchange, 200, JSON.writeValueAsString(root));
      }
      case "redirect" -> {
        exchange.getResponseHeaders().add("Location", "https://llm.example.com/v1/completions");
        respond(exchange, 308, "");
      }
      case "wrong-shape" -> respond(exchange, 200, "{\"result\":\"hello\"}");
      case "echo-key" ->
          respond(
              exchange,
              401,
              JSON.writeValueAsString(
                  JSON.createObjectNode()
                      .set(
                          "error",
                          JSON.createObjectNode()
                              .put(
                                  "message",
                                  "Incorrect API key provided: "
                                      + authorization.substring("Bearer ".length())))));
      case "echo-key-late" ->
          // The key straddles the 200th character, where a quoted server text is cut.
          respond(exchange, 401, "x".repeat(180) + " " + authorization + " and more");
      case "fallback-model" ->
          respond(exchange, 200, completionBy("cheap-fallback-model", "fp_fallback"));
      case "same-model" -> respond(exchange, 200, completionBy("llama-3-8b", null));
      case "no-model" -> respond(exchange, 200, completionBy(null, null));
      case "surrogate-model" ->
          respond(
              exchange,
              200,
              completionBy("PLACEHOLDER", null).replace("PLACEHOLDER", "gpt\\ud800"));
      case "control-model" -> respond(exchange, 200, completionBy("gpt\u0000-4", null));
      case "long-model" -> respond(exchange, 200, completionBy("x".repeat(3_000_000), null));
      case "number-model" ->
          respond(exchange, 200, completionBy("PLACEHOLDER", null).replace("\"PLACEHOLDER\"", "4"));
      case "surrogate-fingerprint" ->
          respond(
              exchange,
              200,
              completionBy("llama-3-8b", "PLACEHOLDER").replace("PLACEHOLDER", "fp\\udc00x"));
      case "address-in-error" ->
          respond(
              exchange,
              500,
              "{\"error\":{\"message\":\"upstream "
                  + "http://127.0.0.1:"
                  + server.getAddress().getPort()
                  + " is overloaded\"}}");
      case "silent" -> {
        sleep(2_000);
        respond(exchange, 200, completion(chat, "late"));
      }
      default -> {
        if (prompt.startsWith("usage ")) {
          String[] counts = prompt.split(" ");
          var root = JSON.createObjectNode();
          root.putArray("choices").addObject().put("text", "one two three");
          root.putObject("usage")
              .put("prompt_tokens", Integer.parseInt(counts[1]))
              .put("completion_tokens", Integer.parseInt(counts[2]));
          respond(exchange, 200, JSON.writeValueAsString(root));
          return;
        }
        if (prompt.startsWith("slow-")) {
          sleep(400);
        }
        respond(
            exchange,
            200,
            completion(
                chat,
                chat ? "Chat: the Council meets in Brussels." : " The Council meets in Brussels."));
      }
    }
  }

  private static String completion(boolean chat, String text) throws IOException {
    var root = JSON.createObjectNode();
    root.put("id", "cmpl-1")
        .put("model", "llama-3-8b-instruct")
        .put("system_fingerprint", "fp_test");
    var choice = root.putArray("choices").addObject();
    if (chat) {
      choice.putObject("message").put("role", "assistant").put("content", text);
    } else {
      choice.put("text", text);
    }
    choice.put("finish_reason", "length");
    root.putObject("usage").put("prompt_tokens", 5).put("completion_tokens", 6);
    return JSON.writeValueAsString(root);
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (var out = exchange.getResponseBody()) {
      out.write(bytes);
    } catch (IOException e) {
      // The client gave up (timeout test).
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
