package io.genguard.generator.worker;

import static io.genguard.generator.worker.WorkerFixtures.KEYS;
import static io.genguard.generator.worker.WorkerFixtures.ScriptedBackend.fail;
import static io.genguard.generator.worker.WorkerFixtures.ScriptedBackend.text;
import static io.genguard.generator.worker.WorkerFixtures.config;
import static io.genguard.generator.worker.WorkerFixtures.parameters;
import static io.genguard.generator.worker.WorkerFixtures.processor;
import static io.genguard.generator.worker.WorkerFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.genguard.events.v1.GenerationFailure;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.GenerationRequest;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.backend.BackendException;
import io.genguard.generator.backend.BackendOutcome;
import io.genguard.generator.backend.FailureCode;
import io.genguard.provenance.manifest.ManifestSigner;
import io.genguard.provenance.manifest.ManifestStatus;
import io.genguard.provenance.manifest.ManifestVerifier;
import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.schemas.Topics;
import io.genguard.testsupport.MovingClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class BatchProcessorTest {
  private final WorkerFixtures.ScriptedBackend backend = new WorkerFixtures.ScriptedBackend();
  private final List<Duration> sleeps = new ArrayList<>();
  private final BatchProcessor processor = processor(config(), backend, sleeps);

  @Test
  void shouldTurnEachRequestIntoAnOutputWithASignedManifestAndCost() {
    GenerationOutput output = single(request("r1", "hello world")).output();

    assertThat(output.getText()).isEqualTo("dlrow olleh");
    assertThat(output.getRequestId()).isEqualTo("r1");
    assertThat(output.getTenantId()).isEqualTo("tenant-1");
    assertThat(output.getAttributes()).containsEntry("campaign.id", "c1");
    assertThat(output.getModel().getBackend()).isEqualTo("scripted");
    assertThat(output.getCost().getComputeMillis()).isEqualTo(2000);
    assertThat(output.getCost().getEnergyJoules())
        .as("65 W for 2 s")
        .isCloseTo(130.0, within(1e-9));
    assertThat(output.getCost().getDevice()).isEqualTo("cpu");
    assertThat(output.getWatermark()).as("this backend has no logits").isNull();
    ManifestVerifier verifier = new ManifestVerifier(KEYS.verification());
    assertThat(
            verifier.verify(
                output.getText(),
                output.getTenantId(),
                output.getManifest().getCanonicalJson(),
                output.getManifest().getSignature(),
                output.getManifest().getKeyId()))
        .isEqualTo(ManifestStatus.VALID);
    // Moderation's ProvenanceChecker also requires the manifest to name the event's own request,
    // output and model; a manifest naming another output is INVALID there. The verifier requires
    // the event's tenant (the v2 layout).
    ProvenanceManifest manifest =
        verifier
            .inspect(
                output.getText(),
                output.getTenantId(),
                output.getManifest().getCanonicalJson(),
                output.getManifest().getSignature(),
                output.getManifest().getKeyId())
            .manifest();
    assertThat(manifest.requestId()).isEqualTo(output.getRequestId());
    assertThat(manifest.outputId()).isEqualTo(output.getOutputId());
    assertThat(manifest.format()).isEqualTo(ProvenanceManifest.FORMAT_V2);
    assertThat(manifest.tenantId()).isEqualTo(output.getTenantId());
    assertThat(manifest.modelName()).isEqualTo(output.getModel().getName());
    assertThat(manifest.modelVersion()).isEqualTo(output.getModel().getVersion());
    assertThat(manifest.backend()).isEqualTo(output.getModel().getBackend());
  }

  @Test
  void shouldCarryTokensAndLatencyPerBackendAndLeaveCountingToTheWorker() {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    BatchProcessor measured =
        new BatchProcessor(
            config(),
            new BackendRegistry(List.of(backend), "scripted", java.util.Map.of()),
            new OutputAssembler(
                new io.genguard.provenance.manifest.ManifestSigner(KEYS.signing()), 65.0, 300.0),
            new GeneratorMetrics(registry),
            WorkerFixtures.CLOCK,
            sleeps::add);

    List<BatchProcessor.Result> results =
        measured.process(List.of(request("r1", "one two three"), request("r2", "")));

    assertThat(results.get(0).usage())
        .isEqualTo(new BatchProcessor.Usage("scripted", 3, Duration.ofSeconds(2)));
    assertThat(results.get(1).usage()).as("refused: nothing generated").isNull();
    assertThat(registry.getMeters())
        .as(
            "tokens, latency and outcomes are counted once the events are committed"
                + " (GenerationWorkerTest, GenerationWorkerRecoveryTest)")
        .noneMatch(
            meter ->
                List.of(
                        GeneratorMetrics.TOKENS,
                        GeneratorMetrics.LATENCY,
                        GeneratorMetrics.REQUESTS)
                    .contains(meter.getId().getName()));
  }

  @Test
  void shouldDeriveIdsAndSeedFromTheRequestSoAReplayIsIdempotent() {
    GenerationOutput first = single(request("r1", "same")).output();
    GenerationOutput replay = single(request("r1", "same")).output();

    assertThat(replay.getEventId()).isEqualTo(first.getEventId());
    assertThat(replay.getOutputId()).isEqualTo(first.getOutputId());
    assertThat(replay.getParameters().getSeed())
        .isEqualTo(first.getParameters().getSeed())
        .isNotNull();
    assertThat(single(request("r2", "same")).output().getEventId())
        .isNotEqualTo(first.getEventId());
  }

  @Test
  void shouldRefuseInvalidRequestsWithReasonsThatSayWhatToDo() {
    assertRefused(request("r", "   "), FailureCode.INVALID_REQUEST, "prompt is empty");
    assertRefused(
        request("r", "x".repeat(8_001)),
        FailureCode.INVALID_REQUEST,
        "prompt has 8001 characters, more than the limit of 8000");
    assertRefused(
        with(request("r", "p"), r -> r.setParameters(parameters(16, -0.5, 0, 1.0, null))),
        FailureCode.INVALID_REQUEST,
        "parameters.temperature is -0.5; it must be between 0 (greedy) and 5.0, as the HTTP API"
            + " allows");
    for (double temperature :
        new double[] {5.000001, 1e16, Double.POSITIVE_INFINITY, Double.NaN, -1e-300}) {
      assertRefused(
          with(request("r", "p"), r -> r.setParameters(parameters(16, temperature, 0, 1.0, null))),
          FailureCode.INVALID_REQUEST,
          "parameters.temperature is " + temperature + "; it must be between 0 (greedy) and 5.0");
    }
    assertRefused(
        with(request("r", "p"), r -> r.setParameters(parameters(5000, 1.0, 0, 1.0, null))),
        FailureCode.INVALID_REQUEST,
        "parameters.maxTokens is 5000; it must be between 1 and 1024 (the limit is"
            + " GENGUARD_GENERATOR_MAX_OUTPUT_TOKENS)");
    assertRefused(
        with(request("r", "p"), r -> r.setParameters(parameters(0, 1.0, 0, 1.0, null))),
        FailureCode.INVALID_REQUEST,
        "parameters.maxTokens is 0");
    assertRefused(
        with(request("r", "p"), r -> r.setParameters(parameters(5, 1.0, -1, 1.0, null))),
        FailureCode.INVALID_REQUEST,
        "parameters.topK is -1");
    assertRefused(
        with(request("r", "p"), r -> r.setParameters(parameters(5, 1.0, 0, 0.0, null))),
        FailureCode.INVALID_REQUEST,
        "parameters.topP is 0.0; it must be in (0, 1]");
    assertRefused(
        with(
            request("r", "p"),
            r -> r.setAttributes(java.util.Map.of("context", "é".repeat(32_766)))),
        FailureCode.INVALID_REQUEST,
        "attributes total 65539 bytes (UTF-8, keys and values), more than the limit of 65536");
    assertRefused(
        with(request("r", "p"), r -> r.setBackend("vllm")),
        FailureCode.UNKNOWN_BACKEND,
        "backend 'vllm' is not available; known backends: [scripted]");
    assertRefused(
        with(request("r", "p"), r -> r.setBackend("djl")),
        FailureCode.UNKNOWN_BACKEND,
        "not configured on this generator (set GENGUARD_GENERATOR_DJL_MODEL_PATH)");
    assertRefused(
        with(request("r", "p"), r -> r.setModel("gpt-9")),
        FailureCode.UNKNOWN_BACKEND,
        "model 'gpt-9' is not served by backend 'scripted'");
    assertThat(backend.batches).as("no refused request reached the backend").isEmpty();
  }

  @Test
  void shouldAcceptTemperaturesFromGreedyToTheHttpApisBound() {
    for (double temperature : new double[] {0.0, 1.0, RequestValidator.MAX_TEMPERATURE}) {
      BatchProcessor.Result result =
          single(
              with(
                  request("r", "p"),
                  r -> r.setParameters(parameters(16, temperature, 0, 1.0, null))));

      assertThat(result.succeeded()).as("temperature %s", temperature).isTrue();
    }
  }

  @Test
  void shouldGiveEachRequestWithoutARequestIdItsOwnFailureEventId() {
    GenerationRequest first = with(request("", "p"), r -> r.setEventId("evt-first"));
    GenerationRequest second = with(request("", "p"), r -> r.setEventId("evt-second"));

    List<BatchProcessor.Result> results = processor.process(List.of(first, second));
    List<BatchProcessor.Result> replayed = processor.process(List.of(first));

    assertThat(results)
        .extracting(result -> result.failure().getReason())
        .allSatisfy(reason -> assertThat(reason).contains("requestId is empty"));
    String firstId = results.get(0).failure().getEventId();
    assertThat(results.get(1).failure().getEventId())
        .as("the audit records each refusal once, by event id")
        .isNotEqualTo(firstId);
    assertThat(replayed.get(0).failure().getEventId())
        .as("a replayed request gets the same failure event")
        .isEqualTo(firstId);
  }

  @Test
  void shouldRetryTransientFailuresWithExponentialBackoff() {
    backend.on(
        "flaky",
        fail(
            BackendException.transientFailure(
                FailureCode.BACKEND_UNAVAILABLE, "connection refused", null)),
        fail(
            BackendException.transientFailure(
                FailureCode.BACKEND_UNAVAILABLE, "connection refused", null)),
        text("finally"));

    BatchProcessor.Result result = single(request("r", "flaky"));

    assertThat(result.output().getText()).isEqualTo("finally");
    assertThat(sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void shouldWaitAtLeastWhatRetryAfterAsks() {
    backend.on(
        "busy",
        fail(
            BackendException.retryAfter(
                FailureCode.BACKEND_UNAVAILABLE, Duration.ofSeconds(2), "HTTP 429")),
        text("served"));

    assertThat(single(request("r", "busy")).succeeded()).isTrue();
    assertThat(sleeps).containsExactly(Duration.ofSeconds(2));
  }

  @Test
  void shouldGiveUpAfterTheConfiguredAttemptsWithAFailureEvent() {
    backend.on(
        "down",
        fail(
            BackendException.transientFailure(
                FailureCode.BACKEND_UNAVAILABLE, "connection refused to localhost:1", null)));

    GenerationFailure failure = single(request("r", "down")).failure();

    assertThat(failure.getCode()).isEqualTo("backend_unavailable");
    assertThat(failure.getReason())
        .contains("connection refused to localhost:1")
        .contains("gave up after 3 attempt(s)");
    assertThat(failure.getAttempts()).isEqualTo(3);
    assertThat(failure.getBackend()).isEqualTo("scripted");
  }

  @Test
  void shouldStopRetryingWhenTheRequestBudgetRunsOut() {
    backend.on(
        "slow-down",
        fail(
            BackendException.retryAfter(
                FailureCode.BACKEND_UNAVAILABLE, Duration.ofSeconds(60), "HTTP 503")));

    GenerationFailure failure = single(request("r", "slow-down")).failure();

    assertThat(failure.getCode()).isEqualTo("timeout");
    assertThat(failure.getReason()).contains("budget ran out");
    assertThat(sleeps).isEmpty();
  }

  @Test
  void shouldFailARequestWhoseOutputIsTooLargeToWrite() {
    backend.on("flood", text("word ".repeat(220_000)));

    GenerationFailure failure = single(request("r", "flood")).failure();

    assertThat(failure).as("an output over the event limit is never written").isNotNull();
    assertThat(failure.getCode()).isEqualTo("backend_error");
    assertThat(failure.getReason())
        .contains("1100000 characters")
        .contains("exceeds the event limit of 1000000 bytes")
        .contains("ask for fewer tokens");
  }

  @Test
  void shouldCutAHugeFailureReasonToSize() {
    backend.on(
        "verbose",
        fail(
            BackendException.permanent(
                FailureCode.BACKEND_ERROR, "HTTP 400: " + "x".repeat(2_000_000), null)));

    GenerationFailure failure = single(request("r", "verbose")).failure();

    assertThat(failure.getReason())
        .startsWith("HTTP 400: xxx")
        .hasSize(OutputAssembler.MAX_REASON_CHARS)
        .endsWith("... (cut from 2000010 characters)");
  }

  @Test
  void shouldTimeOutARequestWhoseServerAsksForAnEndlessWait() {
    backend.on(
        "forever",
        fail(
            BackendException.retryAfter(
                FailureCode.BACKEND_UNAVAILABLE, Duration.ofSeconds(Long.MAX_VALUE), "HTTP 429")));

    GenerationFailure failure = single(request("r", "forever")).failure();

    assertThat(failure.getCode()).isEqualTo("timeout");
    assertThat(failure.getReason()).contains("HTTP 429").contains("budget ran out");
    assertThat(sleeps).isEmpty();
  }

  @Test
  void shouldNeverShortenTheBackoffWhenDoublingAHugeConfiguredOneOverflows() {
    // The longest budget allowed is an hour, which such a backoff outlasts: the request fails once,
    // without a wait shortened to 0 by the doubling and without an exception out of process().
    Duration huge = Duration.ofMillis(1L << 62);
    BatchProcessor patient =
        processor(
            config().withRetries(GeneratorConfig.REQUEST_TIMEOUT_BOUND, 3, huge), backend, sleeps);
    backend.on(
        "flaky",
        fail(
            BackendException.transientFailure(
                FailureCode.BACKEND_UNAVAILABLE, "connection refused", null)));

    List<BatchProcessor.Result> results = patient.process(List.of(request("r", "flaky")));

    assertThat(results).singleElement().satisfies(r -> assertThat(r.succeeded()).isFalse());
    assertThat(results.get(0).failure().getReason()).contains("connection refused");
    assertThat(sleeps).as("no wait, since none fits the budget").isEmpty();
  }

  @Test
  void shouldRefuseOverlongBackendAndModelNamesWithoutEchoingThem() {
    GenerationFailure backendFailure =
        single(with(request("r", "p"), r -> r.setBackend("b".repeat(600_000)))).failure();
    GenerationFailure modelFailure =
        single(with(request("r", "p"), r -> r.setModel("m".repeat(600_000)))).failure();

    assertThat(backendFailure.getCode()).isEqualTo("invalid_request");
    assertThat(backendFailure.getReason())
        .isEqualTo(
            "backend has 600000 characters, more than the limit of 128; name one of the"
                + " generator's backends, or none for the default");
    assertThat(backendFailure.getBackend()).isNull();
    assertThat(modelFailure.getCode()).isEqualTo("invalid_request");
    assertThat(modelFailure.getReason())
        .startsWith("model has 600000 characters, more than the limit of 128");
    assertThat(backend.batches).isEmpty();
  }

  @Test
  void shouldRefuseARequestIdOverOneKibibyteNamingItsSize() {
    String longest = "é".repeat(512);
    String tooLong = longest + "x";

    GenerationFailure failure = single(request(tooLong, "p")).failure();

    assertThat(failure.getCode()).isEqualTo("invalid_request");
    assertThat(failure.getReason())
        .isEqualTo(
            "requestId has 1025 bytes (UTF-8), more than the limit of 1024; it keys every event"
                + " of the request, so use a short unique id such as a UUID");
    assertThat(failure.getRequestId())
        .as("echoed whole, so it still names the request")
        .isEqualTo(tooLong);
    assertThat(single(request(longest, "p")).succeeded()).as("1024 bytes are fine").isTrue();
    assertThat(backend.batches).hasSize(1);
  }

  @Test
  void shouldRefuseATenantIdThatBreaksTheTenantIdRule() {
    for (String tenantId : new String[] {"", "acme corp", "-acme", "a".repeat(65), "t\u00e9nant"}) {
      GenerationFailure failure =
          single(with(request("r", "p"), r -> r.setTenantId(tenantId))).failure();

      assertThat(failure).as("tenant '%s'", tenantId).isNotNull();
      assertThat(failure.getCode()).isEqualTo("invalid_request");
      assertThat(failure.getReason())
          .startsWith("tenantId ")
          .endsWith(
              "; it must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or"
                  + " digit");
    }
    assertThat(
            single(with(request("r", "p"), r -> r.setTenantId("acme corp"))).failure().getReason())
        .isEqualTo(
            "tenantId 'acme corp' is not valid; it must be 1-64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit");
    assertThat(
            single(with(request("r", "p"), r -> r.setTenantId("t".repeat(500_000))))
                .failure()
                .getReason())
        .startsWith("tenantId has 500000 characters;");
    assertThat(single(with(request("r", "p"), r -> r.setTenantId("Acme_2.eu"))).succeeded())
        .isTrue();
    assertThat(backend.batches).hasSize(1);
  }

  @Test
  void shouldSignAndStoreTheSameTextWhenTheBackendReturnsLoneSurrogates() {
    backend.on("broken", text("a\uD800b \uDC00 pair \uD83D\uDE00 end\uD83D"));

    GenerationOutput output = single(request("r", "broken")).output();
    GenerationOutput stored =
        Topics.GENERATION_OUTPUTS.codec().decode(Topics.GENERATION_OUTPUTS.codec().encode(output));

    assertThat(output.getText()).isEqualTo("a\uFFFDb \uFFFD pair \uD83D\uDE00 end\uFFFD");
    assertThat(stored.getText()).as("what readers get back").isEqualTo(output.getText());
    assertThat(
            new ManifestVerifier(KEYS.verification())
                .verify(
                    stored.getText(),
                    stored.getTenantId(),
                    stored.getManifest().getCanonicalJson(),
                    stored.getManifest().getSignature(),
                    stored.getManifest().getKeyId()))
        .isEqualTo(ManifestStatus.VALID);
  }

  @Test
  void shouldNotRetryPermanentFailures() {
    backend.on(
        "garbage",
        fail(BackendException.permanent(FailureCode.BACKEND_ERROR, "response is not JSON", null)));

    GenerationFailure failure = single(request("r", "garbage")).failure();

    assertThat(failure.getCode()).isEqualTo("backend_error");
    assertThat(failure.getAttempts()).isEqualTo(1);
  }

  @Test
  void shouldKeepServingOtherRequestsWhenOneFailsOrTheBackendThrows() {
    WorkerFixtures.ScriptedBackend oneAtATime = new WorkerFixtures.ScriptedBackend();
    oneAtATime.maxBatch = 1;
    BatchProcessor separate = processor(config(), oneAtATime, sleeps);

    List<BatchProcessor.Result> results =
        separate.process(
            List.of(
                request("a", "abc"),
                request("b", "explode"),
                request("c", ""),
                request("d", "xyz")));

    assertThat(results)
        .extracting(BatchProcessor.Result::succeeded)
        .containsExactly(true, false, false, true);
    assertThat(results.get(1).failure().getReason())
        .as("the exception's text (a path here) goes to the log only, under the id given")
        .matches("backend scripted failed \\(error id [0-9a-f]{8}; the generator log has .*")
        .doesNotContain("/secret")
        .doesNotContain("model crashed");
    assertThat(results.get(3).output().getText()).isEqualTo("zyx");
  }

  @Test
  void shouldSendBackendSizedBatches() {
    backend.maxBatch = 2;
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      requests.add(request("r" + i, "p" + i));
    }

    processor.process(requests);

    assertThat(backend.batches).extracting(List::size).containsExactly(2, 2, 1);
  }

  @Test
  void shouldStartEachRequestsBudgetWhenTheBackendIsFirstAskedForIt() {
    MovingClock clock = new MovingClock(WorkerFixtures.NOW);
    Duration budget = config().requestTimeout();
    List<Duration> left = new ArrayList<>();
    WorkerFixtures.ScriptedBackend slow = new WorkerFixtures.ScriptedBackend();
    for (String prompt : List.of("a", "b", "c")) {
      slow.on(
          prompt,
          request -> {
            left.add(Duration.between(clock.instant(), request.deadline()));
            clock.advance(budget.multipliedBy(2).dividedBy(5)); // each call takes 40% of a budget
            return BackendOutcome.of(WorkerFixtures.ScriptedBackend.generation("ok"));
          });
    }
    slow.maxBatch = 1;
    BatchProcessor served =
        new BatchProcessor(
            config(),
            new BackendRegistry(List.of(slow), "scripted", Map.of()),
            new OutputAssembler(new ManifestSigner(KEYS.signing()), 65.0, 300.0),
            new GeneratorMetrics(new SimpleMeterRegistry()),
            clock,
            sleeps::add);

    served.process(List.of(request("r0", "a"), request("r1", "b"), request("r2", "c")));

    assertThat(left)
        .as("the third request is not left 20% of its budget by the two sent before it")
        .containsExactly(budget, budget, budget);
  }

  @Test
  void shouldReportACallInsideItsBackendPastTheBoundAsHungWithoutEndingIt() {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    BackendCallWatch watch = new BackendCallWatch(Duration.ofMinutes(5), nanos::get);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    GeneratorMetrics metrics = new GeneratorMetrics(registry);
    metrics.hungCalls(watch, "scripted");
    List<java.util.Optional<BackendCallWatch.Hung>> seen = new ArrayList<>();
    List<Double> gauge = new ArrayList<>();
    backend.on(
        "a forward pass that takes long",
        request -> {
          nanos.addAndGet(Duration.ofMinutes(5).toNanos());
          seen.add(watch.longestHung()); // at the bound: not yet hung
          nanos.addAndGet(Duration.ofSeconds(1).toNanos());
          seen.add(watch.longestHung());
          gauge.add(hungGauge(registry));
          return BackendOutcome.of(WorkerFixtures.ScriptedBackend.generation("late but fine"));
        });
    BatchProcessor watched =
        new BatchProcessor(
            config(),
            new BackendRegistry(List.of(backend), "scripted", Map.of()),
            new OutputAssembler(new ManifestSigner(KEYS.signing()), 65.0, 300.0),
            metrics,
            WorkerFixtures.CLOCK,
            sleeps::add,
            watch);

    List<BatchProcessor.Result> results =
        watched.process(
            List.of(request("r1", "a forward pass that takes long"), request("r2", "quick")));

    assertThat(seen.get(0)).isEmpty();
    assertThat(seen.get(1))
        .contains(
            new BackendCallWatch.Hung(
                Thread.currentThread().getName(), "scripted", 2, Duration.ofSeconds(301)));
    assertThat(gauge).containsExactly(1.0);
    assertThat(results)
        .as("the watch ends nothing: the call's results are used as they come")
        .allMatch(BatchProcessor.Result::succeeded);
    assertThat(watch.longestHung()).as("the call returned").isEmpty();
    assertThat(hungGauge(registry)).isZero();
  }

  @Test
  void shouldForgetACallThatThrew() {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    BackendCallWatch watch = new BackendCallWatch(Duration.ofMinutes(5), nanos::get);
    BatchProcessor watched =
        new BatchProcessor(
            config(),
            new BackendRegistry(List.of(backend), "scripted", Map.of()),
            new OutputAssembler(new ManifestSigner(KEYS.signing()), 65.0, 300.0),
            new GeneratorMetrics(new SimpleMeterRegistry()),
            WorkerFixtures.CLOCK,
            sleeps::add,
            watch);

    assertThat(watched.process(List.of(request("r1", "explode"))).get(0).succeeded()).isFalse();
    nanos.addAndGet(Duration.ofHours(1).toNanos());

    assertThat(watch.longestHung()).isEmpty();
  }

  private static double hungGauge(SimpleMeterRegistry registry) {
    return registry.get(GeneratorMetrics.HUNG_CALLS).tag("backend", "scripted").gauge().value();
  }

  private BatchProcessor.Result single(GenerationRequest request) {
    List<BatchProcessor.Result> results = processor.process(List.of(request));
    assertThat(results).hasSize(1);
    return results.get(0);
  }

  private void assertRefused(GenerationRequest request, FailureCode code, String reason) {
    GenerationFailure failure = single(request).failure();
    assertThat(failure).as("failure for %s", request.getPrompt()).isNotNull();
    assertThat(failure.getCode()).isEqualTo(code.code());
    assertThat(failure.getReason()).contains(reason);
    assertThat(failure.getEventId()).isEqualTo(OutputAssembler.failureEventId("r"));
  }

  private static GenerationRequest with(
      GenerationRequest request, Consumer<GenerationRequest> change) {
    GenerationRequest copy = GenerationRequest.newBuilder(request).build();
    change.accept(copy);
    return copy;
  }
}
