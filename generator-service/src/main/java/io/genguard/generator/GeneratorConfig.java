package io.genguard.generator;

import io.genguard.generator.openai.OpenAiCompatibleBackend;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.watermark.WatermarkDetector;
import io.genguard.provenance.watermark.WatermarkParameters;
import io.genguard.settings.KnownSettings;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Everything the generator service is configured with: defaults, then an optional properties file
 * ({@value #CONFIG_FILE_VARIABLE}), then environment variables, all named {@code
 * GENGUARD_GENERATOR_*} (see the README for the list). Keys for the watermark and the manifest
 * signature come from {@link ProvenanceKeys}: the environment if set, else key files in {@link
 * #keyDirectory()}. {@link #toString()} never shows the API key or key material.
 *
 * @param workers worker threads, each a Kafka consumer and a transactional producer
 * @param instanceId distinguishes processes: transactional ids are {@code
 *     genguard-generator-<instanceId>-<worker>}; must be unique per running process and stable
 *     across its restarts, so a restarted worker fences its predecessor's open transaction
 * @param consumerGroup the consumer group over gen.requests
 * @param maxBatchSize at most this many requests per micro-batch (and per transaction)
 * @param maxBatchWait how long a worker waits to fill a batch once it holds a first request
 * @param requestTimeout time budget of one request inside the backend, retries included
 * @param maxAttempts attempts per request for transient backend errors (1 = no retry)
 * @param retryBackoff first retry delay, doubled per attempt up to {@code maxRetryBackoff}
 * @param maxPromptCharacters longer prompts are refused with a failure event
 * @param maxOutputTokens requests for more tokens are refused with a failure event
 * @param defaultBackend backend of requests that name none: builtin, djl or openai
 * @param echoEnabled offer the {@code echo} backend (the prompt back as the output, signed); off,
 *     its requests fail {@code unknown_backend} like those of any backend not configured
 * @param cacheDirectory where the built-in model is trained to once and loaded from
 * @param keyDirectory where provenance key files live when keys are not in the environment
 * @param keys explicit keys (shared with moderation in one process), or null to resolve them
 * @param builtinOrder n-gram order of the built-in model (2..4)
 * @param builtinMinimumCount words seen fewer times in the corpus map to unknown
 * @param djlModelPath directory (or file) of a TorchScript causal LM, or null: no DJL backend
 * @param djlDevice auto (GPU if DJL finds one), cpu or gpu
 * @param djlMaxBatchSize requests per forward pass of the DJL backend
 * @param djlMaxContextTokens the DJL model sees at most this many trailing tokens
 * @param openAiBaseUrl base URL of an OpenAI-compatible server (up to, not including, /v1), or
 *     null: no HTTP backend
 * @param openAiApiKey bearer token (visible ASCII only, see {@link
 *     OpenAiCompatibleBackend#apiKeyProblem}), or null
 * @param openAiModel model name sent when a request names none
 * @param openAiModels the other model names a request may ask the {@code openai} backend for (the
 *     default model is always allowed): empty for none, {@value #ANY_MODEL} alone for any name. A
 *     request for another model fails {@code unknown_backend} without a call to the server
 * @param openAiChat use /v1/chat/completions instead of /v1/completions
 * @param openAiTimeout HTTP timeout of one call
 * @param watermarkEnabled embed the watermark where a backend has logits
 * @param watermark gamma, delta and context width of the watermark
 * @param cpuWatts assumed power draw of a CPU generating, for the energy estimate
 * @param gpuWatts assumed power draw of a GPU generating
 * @param routing which requests this pool answers, when pools split the backends between them
 * @param hungCall how long a worker may be inside one backend call before the generator reports it
 *     hung (not ready, unhealthy); null for {@link #hungCallBound()}'s default
 */
public record GeneratorConfig(
    int workers,
    String instanceId,
    String consumerGroup,
    int maxBatchSize,
    Duration maxBatchWait,
    Duration requestTimeout,
    int maxAttempts,
    Duration retryBackoff,
    Duration maxRetryBackoff,
    int maxPromptCharacters,
    int maxOutputTokens,
    String defaultBackend,
    boolean echoEnabled,
    Path cacheDirectory,
    Path keyDirectory,
    ProvenanceKeys keys,
    int builtinOrder,
    int builtinMinimumCount,
    Path djlModelPath,
    String djlDevice,
    int djlMaxBatchSize,
    int djlMaxContextTokens,
    URI openAiBaseUrl,
    String openAiApiKey,
    String openAiModel,
    Set<String> openAiModels,
    boolean openAiChat,
    Duration openAiTimeout,
    boolean watermarkEnabled,
    WatermarkParameters watermark,
    double cpuWatts,
    double gpuWatts,
    PoolRouting routing,
    Duration hungCall) {

  public static final String PREFIX = "GENGUARD_GENERATOR_";
  public static final String CONFIG_FILE_VARIABLE = PREFIX + "CONFIG_FILE";

  /** The consumer group of the main worker pool. */
  public static final String DEFAULT_CONSUMER_GROUP = "genguard-generator";

  public static final String BACKEND_BUILTIN = "builtin";
  public static final String BACKEND_DJL = "djl";
  public static final String BACKEND_OPENAI = "openai";
  public static final String BACKEND_ECHO = "echo";

  /**
   * The value of {@code OPENAI_MODELS} that lets requests name any model (what every deployment did
   * before the forty-first session): the server alone then decides what it serves.
   */
  public static final String ANY_MODEL = "*";

  /**
   * Longest {@code BATCH_WAIT_MS}: a request may wait this long for company before its generation
   * starts, so a longer wait is a misconfiguration, not a tuning; it also keeps the worker's
   * fill-deadline arithmetic (now + wait) far from overflowing.
   */
  public static final Duration MAX_BATCH_WAIT_BOUND = Duration.ofMinutes(1);

  /**
   * Longest {@code REQUEST_TIMEOUT_MS}: a generation that may take more than an hour is a
   * misconfiguration. The worker's poll interval is this times the batch size (at most 1,024),
   * which stays far from overflowing a long.
   */
  public static final Duration REQUEST_TIMEOUT_BOUND = Duration.ofHours(1);

  /** Longest {@code HUNG_CALL_MS}: past a day a hung call is not detected in any useful sense. */
  public static final Duration HUNG_CALL_BOUND = Duration.ofDays(1);

  /**
   * The least default of {@code HUNG_CALL_MS}: 10 times the default request budget (30 s) and 5
   * times the default {@code OPENAI_TIMEOUT_MS} (60 s).
   */
  public static final Duration HUNG_CALL_DEFAULT = Duration.ofMinutes(5);

  /**
   * How long a worker may be inside one backend call before it counts as hung: {@code
   * HUNG_CALL_MS}, or by default the larger of {@link #HUNG_CALL_DEFAULT} and twice {@code
   * REQUEST_TIMEOUT_MS}. A legitimate call ends within the request budget and one step past it
   * (every backend stops at the requests' deadline, the HTTP backend's calls are bounded by it).
   */
  public Duration hungCallBound() {
    if (hungCall != null) {
      return hungCall;
    }
    Duration twice = requestTimeout.multipliedBy(2);
    return twice.compareTo(HUNG_CALL_DEFAULT) > 0 ? twice : HUNG_CALL_DEFAULT;
  }

  /**
   * Largest {@code MAX_PROMPT_CHARS}. The prompt travels in the request event, whose limit is
   * 1,000,000 bytes: 200,000 characters are at most 600,000 bytes of UTF-8, which leaves room for
   * the ids and the 64 KiB of attributes. It also bounds the DJL backend's prompt at 200,000
   * tokens.
   */
  public static final int MAX_PROMPT_CHARS_BOUND = 200_000;

  /**
   * Largest {@code MAX_OUTPUT_TOKENS}. 32,768 tokens of text are typically 130-250 KB, far under
   * the 1,000,000-byte event limit of the output (a pathological text that is not is still refused
   * per request); and the DJL backend holds prompt plus output tokens in one int array per request.
   */
  public static final int MAX_OUTPUT_TOKENS_BOUND = 32_768;

  /** Largest {@code DJL_MAX_BATCH}: a micro-batch holds at most 1,024 requests anyway. */
  public static final int DJL_MAX_BATCH_BOUND = 1_024;

  /**
   * Largest {@code DJL_MAX_CONTEXT}, in tokens: 128 Ki, the longest context of common open models.
   * DJL's {@code NDManager.create(long[][])} sizes its buffer as an int number of bytes, so a full
   * batch's int64 input, {@link #DJL_MAX_BATCH_BOUND} rows of this width, must stay under 2 GiB:
   * here it is at most 1 GiB.
   */
  public static final int DJL_MAX_CONTEXT_BOUND = 131_072;

  /**
   * Smallest {@code WATERMARK_DELTA} while the watermark is on. A green bias of delta raises a
   * token's chance of being green from gamma to at most gamma e^delta / (1 - gamma + gamma
   * e^delta), reached by text sampled from a uniform distribution (Kirchenbauer et al. 2023,
   * Theorem 4.2); the detector ({@link io.genguard.provenance.watermark.WatermarkDetector}) calls
   * text watermarked from z = 4 over at least 25 scored tokens. At gamma 0.25 even that best case
   * then needs 60 tokens at delta 1, 274 at 0.5 and 8,126 at 0.1, and a real model's text, with
   * less entropy to move, several times more; at 0 nothing is embedded. Below this, outputs would
   * sign a watermark the detector cannot see, and a tenant that requires one would have them all
   * held.
   */
  public static final double MIN_WATERMARK_DELTA = 1.0;

  public GeneratorConfig {
    require(workers >= 1 && workers <= 64, "WORKERS", workers, "between 1 and 64");
    Objects.requireNonNull(instanceId, "instanceId");
    require(!consumerGroup.isBlank(), "CONSUMER_GROUP", consumerGroup, "not blank");
    Objects.requireNonNull(routing, "routing");
    require(
        maxBatchSize >= 1 && maxBatchSize <= 1024,
        "BATCH_SIZE",
        maxBatchSize,
        "between 1 and 1024");
    require(
        !maxBatchWait.isNegative() && maxBatchWait.compareTo(MAX_BATCH_WAIT_BOUND) <= 0,
        "BATCH_WAIT_MS",
        maxBatchWait.toMillis(),
        "between 0 and " + MAX_BATCH_WAIT_BOUND.toMillis());
    require(
        requestTimeout.toMillis() >= 1 && requestTimeout.compareTo(REQUEST_TIMEOUT_BOUND) <= 0,
        "REQUEST_TIMEOUT_MS",
        requestTimeout.toMillis(),
        "between 1 and " + REQUEST_TIMEOUT_BOUND.toMillis());
    require(maxAttempts >= 1 && maxAttempts <= 20, "MAX_ATTEMPTS", maxAttempts, "between 1 and 20");
    require(!retryBackoff.isNegative(), "RETRY_BACKOFF_MS", retryBackoff, ">= 0");
    require(
        maxRetryBackoff.compareTo(retryBackoff) >= 0,
        "MAX_RETRY_BACKOFF_MS",
        maxRetryBackoff,
        ">= RETRY_BACKOFF_MS");
    require(
        maxPromptCharacters >= 1 && maxPromptCharacters <= MAX_PROMPT_CHARS_BOUND,
        "MAX_PROMPT_CHARS",
        maxPromptCharacters,
        "between 1 and " + MAX_PROMPT_CHARS_BOUND);
    require(
        maxOutputTokens >= 1 && maxOutputTokens <= MAX_OUTPUT_TOKENS_BOUND,
        "MAX_OUTPUT_TOKENS",
        maxOutputTokens,
        "between 1 and " + MAX_OUTPUT_TOKENS_BOUND);
    require(
        Set.of(BACKEND_BUILTIN, BACKEND_DJL, BACKEND_OPENAI).contains(defaultBackend),
        "DEFAULT_BACKEND",
        defaultBackend,
        "one of builtin, djl, openai");
    Objects.requireNonNull(cacheDirectory, "cacheDirectory");
    Objects.requireNonNull(keyDirectory, "keyDirectory");
    require(builtinOrder >= 2 && builtinOrder <= 4, "BUILTIN_ORDER", builtinOrder, "2, 3 or 4");
    require(builtinMinimumCount >= 1, "BUILTIN_MIN_COUNT", builtinMinimumCount, ">= 1");
    require(
        Set.of("auto", "cpu", "gpu").contains(djlDevice),
        "DJL_DEVICE",
        djlDevice,
        "auto, cpu or gpu");
    require(
        djlMaxBatchSize >= 1 && djlMaxBatchSize <= DJL_MAX_BATCH_BOUND,
        "DJL_MAX_BATCH",
        djlMaxBatchSize,
        "between 1 and " + DJL_MAX_BATCH_BOUND);
    require(
        djlMaxContextTokens >= 1 && djlMaxContextTokens <= DJL_MAX_CONTEXT_BOUND,
        "DJL_MAX_CONTEXT",
        djlMaxContextTokens,
        "between 1 and " + DJL_MAX_CONTEXT_BOUND);
    require(!openAiModel.isBlank(), "OPENAI_MODEL", openAiModel, "not blank");
    openAiModels = Set.copyOf(openAiModels);
    require(
        !openAiModels.contains(ANY_MODEL) || openAiModels.size() == 1,
        "OPENAI_MODELS",
        new TreeSet<>(openAiModels),
        ANY_MODEL + " alone (any model) or a list of model names, not both");
    for (String name : openAiModels) {
      require(
          !name.isBlank() && name.length() <= 128 && name.equals(name.strip()),
          "OPENAI_MODELS",
          new TreeSet<>(openAiModels),
          "model names of 1 to 128 characters, separated by commas");
    }
    String apiKeyProblem =
        openAiApiKey == null ? null : OpenAiCompatibleBackend.apiKeyProblem(openAiApiKey);
    if (apiKeyProblem != null) {
      // Not through require(): its message shows the value.
      throw new IllegalArgumentException(
          Keys.OPENAI_API_KEY + " " + apiKeyProblem + " (its value is not shown)");
    }
    require(openAiTimeout.toMillis() >= 1, "OPENAI_TIMEOUT_MS", openAiTimeout, ">= 1 ms");
    Objects.requireNonNull(watermark, "watermark");
    require(
        !watermarkEnabled || watermark.delta() >= MIN_WATERMARK_DELTA,
        "WATERMARK_DELTA",
        watermark.delta(),
        "at least "
            + MIN_WATERMARK_DELTA
            + " while "
            + Keys.WATERMARK_ENABLED
            + " is true: "
            + watermarkStrength(watermark)
            + "; set a larger delta (the default is "
            + WatermarkParameters.DEFAULTS.delta()
            + "), or "
            + Keys.WATERMARK_ENABLED
            + "=false to sign outputs without a watermark");
    require(cpuWatts >= 0 && Double.isFinite(cpuWatts), "CPU_WATTS", cpuWatts, "a number >= 0");
    require(gpuWatts >= 0 && Double.isFinite(gpuWatts), "GPU_WATTS", gpuWatts, "a number >= 0");
    require(
        hungCall == null
            || (hungCall.compareTo(requestTimeout) > 0 && hungCall.compareTo(HUNG_CALL_BOUND) <= 0),
        "HUNG_CALL_MS",
        hungCall == null ? null : hungCall.toMillis(),
        "more than REQUEST_TIMEOUT_MS ("
            + requestTimeout.toMillis()
            + ": a call may legitimately last that long) and at most "
            + HUNG_CALL_BOUND.toMillis());
  }

  /** Defaults for a local run whose state lives under {@code dataDir}. */
  public static GeneratorConfig defaults(Path dataDir) {
    return new GeneratorConfig(
        1,
        "local",
        DEFAULT_CONSUMER_GROUP,
        8,
        Duration.ofMillis(50),
        Duration.ofSeconds(30),
        3,
        Duration.ofMillis(200),
        Duration.ofSeconds(5),
        8_000,
        1_024,
        BACKEND_BUILTIN,
        true,
        dataDir.resolve("generator-cache"),
        dataDir.resolve("provenance-keys"),
        null,
        3,
        2,
        null,
        "auto",
        8,
        512,
        null,
        null,
        "default",
        Set.of(),
        false,
        Duration.ofSeconds(60),
        true,
        WatermarkParameters.DEFAULTS,
        65.0,
        300.0,
        PoolRouting.ALL,
        null);
  }

  /**
   * Defaults, overridden by the properties file named in {@value #CONFIG_FILE_VARIABLE} (same key
   * names), overridden by {@code GENGUARD_GENERATOR_*} variables that are not empty. Unknown {@code
   * GENGUARD_GENERATOR_*} names are an error, so a typo cannot silently fall back to a default.
   * Provenance keys come from {@code GENGUARD_WATERMARK_KEYS} / {@code GENGUARD_SIGNING_KEYS} if
   * set, else from key files under the key directory.
   */
  public static GeneratorConfig fromEnvironment(Map<String, String> env, Path dataDir) {
    Map<String, String> values = new LinkedHashMap<>();
    String file = env.get(CONFIG_FILE_VARIABLE);
    if (file != null && !file.isBlank()) {
      values.putAll(readProperties(Path.of(file)));
    }
    env.forEach(
        (name, value) -> {
          // An empty variable is unset (compose passes ${KEY:-} for every key it knows): it must
          // not hide what the file says, and empty reads as the default anyway.
          // A Kubernetes Service named genguard-generator gives every pod service-link variables
          // under this prefix (GENGUARD_GENERATOR_SERVICE_HOST, ...): not settings.
          if (name.startsWith(PREFIX)
              && !name.equals(CONFIG_FILE_VARIABLE)
              && !KnownSettings.isServiceLink(name, value)) {
            if (!value.isBlank() || !values.containsKey(name)) {
              values.put(name, value);
            }
          }
        });
    Set<String> unknown = new TreeSet<>(values.keySet());
    unknown.removeAll(Keys.ALL);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "Unknown generator setting(s) "
              + unknown
              + "; known settings are "
              + new TreeSet<>(Keys.ALL));
    }
    Settings s = new Settings(values);
    GeneratorConfig d = defaults(dataDir);
    Path keyDirectory = s.path(Keys.KEY_DIR, d.keyDirectory());
    Map<String, String> keyEnvironment = new HashMap<>();
    env.forEach(
        (name, value) -> {
          if (name.startsWith("GENGUARD_WATERMARK_")
              || name.startsWith("GENGUARD_SIGNING_")
              || name.startsWith("GENGUARD_VERIFICATION_")
              || name.equals("GENGUARD_REVOKED_SIGNING_KEYS")) {
            keyEnvironment.put(name, value);
          }
        });
    ProvenanceKeys keys =
        keyEnvironment.isEmpty()
            ? null
            : ProvenanceKeys.fromEnvironmentOrDirectory(keyEnvironment, keyDirectory);
    return new GeneratorConfig(
        s.integer(Keys.WORKERS, d.workers()),
        s.string(Keys.INSTANCE_ID, d.instanceId()),
        s.string(Keys.CONSUMER_GROUP, d.consumerGroup()),
        s.integer(Keys.BATCH_SIZE, d.maxBatchSize()),
        s.millis(Keys.BATCH_WAIT_MS, d.maxBatchWait()),
        s.millis(Keys.REQUEST_TIMEOUT_MS, d.requestTimeout()),
        s.integer(Keys.MAX_ATTEMPTS, d.maxAttempts()),
        s.millis(Keys.RETRY_BACKOFF_MS, d.retryBackoff()),
        s.millis(Keys.MAX_RETRY_BACKOFF_MS, d.maxRetryBackoff()),
        s.integer(Keys.MAX_PROMPT_CHARS, d.maxPromptCharacters()),
        s.integer(Keys.MAX_OUTPUT_TOKENS, d.maxOutputTokens()),
        s.string(Keys.DEFAULT_BACKEND, d.defaultBackend()),
        s.bool(Keys.ECHO_ENABLED, d.echoEnabled()),
        s.path(Keys.CACHE_DIR, d.cacheDirectory()),
        keyDirectory,
        keys,
        s.integer(Keys.BUILTIN_ORDER, d.builtinOrder()),
        s.integer(Keys.BUILTIN_MIN_COUNT, d.builtinMinimumCount()),
        s.path(Keys.DJL_MODEL_PATH, null),
        s.string(Keys.DJL_DEVICE, d.djlDevice()),
        s.integer(Keys.DJL_MAX_BATCH, d.djlMaxBatchSize()),
        s.integer(Keys.DJL_MAX_CONTEXT, d.djlMaxContextTokens()),
        s.uri(Keys.OPENAI_BASE_URL),
        s.string(Keys.OPENAI_API_KEY, null),
        s.string(Keys.OPENAI_MODEL, d.openAiModel()),
        modelList(s.string(Keys.OPENAI_MODELS, null)),
        s.choice(Keys.OPENAI_API, "completions", "chat"),
        s.millis(Keys.OPENAI_TIMEOUT_MS, d.openAiTimeout()),
        s.bool(Keys.WATERMARK_ENABLED, d.watermarkEnabled()),
        watermark(s, d.watermark()),
        s.decimal(Keys.CPU_WATTS, d.cpuWatts()),
        s.decimal(Keys.GPU_WATTS, d.gpuWatts()),
        PoolRouting.parse(s.string(Keys.ONLY_BACKENDS, null), s.string(Keys.LEAVE_BACKENDS, null)),
        s.millis(Keys.HUNG_CALL_MS, null));
  }

  /** The same configuration with {@code count} worker threads. */
  public GeneratorConfig withWorkers(int count) {
    return copyWith(copy -> copy.workers = count);
  }

  /** The same configuration answering the requests {@code newRouting} gives this pool. */
  public GeneratorConfig withRouting(PoolRouting newRouting) {
    return copyWith(copy -> copy.routing = newRouting);
  }

  /** The same configuration with explicit provenance keys (e.g. shared with moderation). */
  public GeneratorConfig withKeys(ProvenanceKeys explicitKeys) {
    return copyWith(copy -> copy.keys = explicitKeys);
  }

  /** The same configuration with another micro-batch size and wait. */
  public GeneratorConfig withBatching(int size, Duration wait) {
    return copyWith(
        copy -> {
          copy.maxBatchSize = size;
          copy.maxBatchWait = wait;
        });
  }

  /** The same configuration with another instance id (one per process sharing a cluster). */
  public GeneratorConfig withInstanceId(String id) {
    return copyWith(copy -> copy.instanceId = id);
  }

  /** The same configuration in another consumer group (tests isolate themselves this way). */
  public GeneratorConfig withConsumerGroup(String group) {
    return copyWith(copy -> copy.consumerGroup = group);
  }

  /**
   * The same configuration with another per-request timeout and retry policy; the longest backoff
   * grows to {@code backoff} where it was shorter.
   */
  public GeneratorConfig withRetries(Duration timeout, int attempts, Duration backoff) {
    return copyWith(
        copy -> {
          copy.requestTimeout = timeout;
          copy.maxAttempts = attempts;
          copy.retryBackoff = backoff;
          copy.maxRetryBackoff = maxRetryBackoff.compareTo(backoff) < 0 ? backoff : maxRetryBackoff;
        });
  }

  /** The same configuration with a DJL model. */
  public GeneratorConfig withDjlModel(Path modelPath, String device) {
    return copyWith(
        copy -> {
          copy.djlModelPath = modelPath;
          copy.djlDevice = device;
        });
  }

  /** The same configuration with an OpenAI-compatible server. */
  public GeneratorConfig withOpenAi(
      URI baseUrl, String apiKey, String model, boolean chat, Duration timeout) {
    return copyWith(
        copy -> {
          copy.openAiBaseUrl = baseUrl;
          copy.openAiApiKey = apiKey;
          copy.openAiModel = model;
          copy.openAiChat = chat;
          copy.openAiTimeout = timeout;
        });
  }

  /** The same configuration with another default backend. */
  public GeneratorConfig withDefaultBackend(String backend) {
    return copyWith(copy -> copy.defaultBackend = backend);
  }

  /** The same configuration with other model names allowed to the {@code openai} backend. */
  public GeneratorConfig withOpenAiModels(Set<String> models) {
    return copyWith(copy -> copy.openAiModels = models);
  }

  /** The same configuration with the {@code echo} backend offered or not. */
  public GeneratorConfig withEchoEnabled(boolean enabled) {
    return copyWith(copy -> copy.echoEnabled = enabled);
  }

  /** The same configuration with {@code bound} as its {@code HUNG_CALL_MS}. */
  public GeneratorConfig withHungCallBound(Duration bound) {
    return copyWith(copy -> copy.hungCall = bound);
  }

  /**
   * A copy of this configuration with what {@code change} sets on it, checked again by the
   * canonical constructor. Every {@code with...} method goes through here, so {@link Copy} is the
   * one place besides the record header that lists every field.
   */
  private GeneratorConfig copyWith(Consumer<Copy> change) {
    Copy copy = new Copy(this);
    change.accept(copy);
    return copy.build();
  }

  /** The fields of a configuration, open to change until {@link #build} makes one of them again. */
  private static final class Copy {
    int workers;
    String instanceId;
    String consumerGroup;
    int maxBatchSize;
    Duration maxBatchWait;
    Duration requestTimeout;
    int maxAttempts;
    Duration retryBackoff;
    Duration maxRetryBackoff;
    int maxPromptCharacters;
    int maxOutputTokens;
    String defaultBackend;
    boolean echoEnabled;
    Path cacheDirectory;
    Path keyDirectory;
    ProvenanceKeys keys;
    int builtinOrder;
    int builtinMinimumCount;
    Path djlModelPath;
    String djlDevice;
    int djlMaxBatchSize;
    int djlMaxContextTokens;
    URI openAiBaseUrl;
    String openAiApiKey;
    String openAiModel;
    Set<String> openAiModels;
    boolean openAiChat;
    Duration openAiTimeout;
    boolean watermarkEnabled;
    WatermarkParameters watermark;
    double cpuWatts;
    double gpuWatts;
    PoolRouting routing;
    Duration hungCall;

    Copy(GeneratorConfig config) {
      workers = config.workers;
      instanceId = config.instanceId;
      consumerGroup = config.consumerGroup;
      maxBatchSize = config.maxBatchSize;
      maxBatchWait = config.maxBatchWait;
      requestTimeout = config.requestTimeout;
      maxAttempts = config.maxAttempts;
      retryBackoff = config.retryBackoff;
      maxRetryBackoff = config.maxRetryBackoff;
      maxPromptCharacters = config.maxPromptCharacters;
      maxOutputTokens = config.maxOutputTokens;
      defaultBackend = config.defaultBackend;
      echoEnabled = config.echoEnabled;
      cacheDirectory = config.cacheDirectory;
      keyDirectory = config.keyDirectory;
      keys = config.keys;
      builtinOrder = config.builtinOrder;
      builtinMinimumCount = config.builtinMinimumCount;
      djlModelPath = config.djlModelPath;
      djlDevice = config.djlDevice;
      djlMaxBatchSize = config.djlMaxBatchSize;
      djlMaxContextTokens = config.djlMaxContextTokens;
      openAiBaseUrl = config.openAiBaseUrl;
      openAiApiKey = config.openAiApiKey;
      openAiModel = config.openAiModel;
      openAiModels = config.openAiModels;
      openAiChat = config.openAiChat;
      openAiTimeout = config.openAiTimeout;
      watermarkEnabled = config.watermarkEnabled;
      watermark = config.watermark;
      cpuWatts = config.cpuWatts;
      gpuWatts = config.gpuWatts;
      routing = config.routing;
      hungCall = config.hungCall;
    }

    GeneratorConfig build() {
      return new GeneratorConfig(
          workers,
          instanceId,
          consumerGroup,
          maxBatchSize,
          maxBatchWait,
          requestTimeout,
          maxAttempts,
          retryBackoff,
          maxRetryBackoff,
          maxPromptCharacters,
          maxOutputTokens,
          defaultBackend,
          echoEnabled,
          cacheDirectory,
          keyDirectory,
          keys,
          builtinOrder,
          builtinMinimumCount,
          djlModelPath,
          djlDevice,
          djlMaxBatchSize,
          djlMaxContextTokens,
          openAiBaseUrl,
          openAiApiKey,
          openAiModel,
          openAiModels,
          openAiChat,
          openAiTimeout,
          watermarkEnabled,
          watermark,
          cpuWatts,
          gpuWatts,
          routing,
          hungCall);
    }
  }

  /**
   * Whether the {@code openai} backend may send {@code model}: the default model, a listed one, or
   * any where the list is {@value #ANY_MODEL}.
   */
  public boolean openAiModelAllowed(String model) {
    return model != null
        && (model.equals(openAiModel)
            || openAiModels.contains(model)
            || openAiModels.contains(ANY_MODEL));
  }

  /** The model names of {@code OPENAI_MODELS} (comma-separated; null or blank for none). */
  private static Set<String> modelList(String value) {
    Set<String> names = new TreeSet<>();
    if (value != null) {
      for (String name : value.split(",")) {
        if (!name.strip().isEmpty()) {
          names.add(name.strip());
        }
      }
    }
    return names;
  }

  /** The keys to use: the explicit ones, else the environment-or-directory resolution. */
  public ProvenanceKeys resolveKeys() {
    return keys != null ? keys : ProvenanceKeys.loadOrCreate(keyDirectory);
  }

  @Override
  public String toString() {
    return "GeneratorConfig[workers="
        + workers
        + ", instanceId="
        + instanceId
        + ", consumerGroup="
        + consumerGroup
        + ", maxBatchSize="
        + maxBatchSize
        + ", maxBatchWait="
        + maxBatchWait
        + ", requestTimeout="
        + requestTimeout
        + ", maxAttempts="
        + maxAttempts
        + ", retryBackoff="
        + retryBackoff
        + ", maxRetryBackoff="
        + maxRetryBackoff
        + ", maxPromptCharacters="
        + maxPromptCharacters
        + ", maxOutputTokens="
        + maxOutputTokens
        + ", defaultBackend="
        + defaultBackend
        + ", echoEnabled="
        + echoEnabled
        + ", cacheDirectory="
        + cacheDirectory
        + ", keyDirectory="
        + keyDirectory
        + ", keys="
        + keys
        + ", builtinOrder="
        + builtinOrder
        + ", builtinMinimumCount="
        + builtinMinimumCount
        + ", djlModelPath="
        + djlModelPath
        + ", djlDevice="
        + djlDevice
        + ", djlMaxBatchSize="
        + djlMaxBatchSize
        + ", djlMaxContextTokens="
        + djlMaxContextTokens
        + ", openAiBaseUrl="
        + openAiBaseUrl
        + ", openAiApiKey="
        + (openAiApiKey == null ? "none" : "<redacted>")
        + ", openAiModel="
        + openAiModel
        + ", openAiModels="
        + new TreeSet<>(openAiModels)
        + ", openAiChat="
        + openAiChat
        + ", openAiTimeout="
        + openAiTimeout
        + ", watermarkEnabled="
        + watermarkEnabled
        + ", watermark="
        + watermark
        + ", cpuWatts="
        + cpuWatts
        + ", gpuWatts="
        + gpuWatts
        + ", routing="
        + routing
        + ", hungCallBound="
        + hungCallBound()
        + "]";
  }

  /** The names of every setting, as environment variables and properties-file keys. */
  public static final class Keys {
    public static final String WORKERS = PREFIX + "WORKERS";
    public static final String INSTANCE_ID = PREFIX + "INSTANCE_ID";
    public static final String CONSUMER_GROUP = PREFIX + "CONSUMER_GROUP";
    public static final String BATCH_SIZE = PREFIX + "BATCH_SIZE";
    public static final String BATCH_WAIT_MS = PREFIX + "BATCH_WAIT_MS";
    public static final String REQUEST_TIMEOUT_MS = PREFIX + "REQUEST_TIMEOUT_MS";
    public static final String MAX_ATTEMPTS = PREFIX + "MAX_ATTEMPTS";
    public static final String RETRY_BACKOFF_MS = PREFIX + "RETRY_BACKOFF_MS";
    public static final String MAX_RETRY_BACKOFF_MS = PREFIX + "MAX_RETRY_BACKOFF_MS";
    public static final String MAX_PROMPT_CHARS = PREFIX + "MAX_PROMPT_CHARS";
    public static final String MAX_OUTPUT_TOKENS = PREFIX + "MAX_OUTPUT_TOKENS";
    public static final String DEFAULT_BACKEND = PREFIX + "DEFAULT_BACKEND";
    public static final String ECHO_ENABLED = PREFIX + "ECHO_ENABLED";
    public static final String CACHE_DIR = PREFIX + "CACHE_DIR";
    public static final String KEY_DIR = PREFIX + "KEY_DIR";
    public static final String BUILTIN_ORDER = PREFIX + "BUILTIN_ORDER";
    public static final String BUILTIN_MIN_COUNT = PREFIX + "BUILTIN_MIN_COUNT";
    public static final String DJL_MODEL_PATH = PREFIX + "DJL_MODEL_PATH";
    public static final String DJL_DEVICE = PREFIX + "DJL_DEVICE";
    public static final String DJL_MAX_BATCH = PREFIX + "DJL_MAX_BATCH";
    public static final String DJL_MAX_CONTEXT = PREFIX + "DJL_MAX_CONTEXT";
    public static final String OPENAI_BASE_URL = PREFIX + "OPENAI_BASE_URL";
    public static final String OPENAI_API_KEY = PREFIX + "OPENAI_API_KEY";
    public static final String OPENAI_MODEL = PREFIX + "OPENAI_MODEL";
    public static final String OPENAI_MODELS = PREFIX + "OPENAI_MODELS";
    public static final String OPENAI_API = PREFIX + "OPENAI_API";
    public static final String OPENAI_TIMEOUT_MS = PREFIX + "OPENAI_TIMEOUT_MS";
    public static final String WATERMARK_ENABLED = PREFIX + "WATERMARK_ENABLED";
    public static final String WATERMARK_GAMMA = PREFIX + "WATERMARK_GAMMA";
    public static final String WATERMARK_DELTA = PREFIX + "WATERMARK_DELTA";
    public static final String WATERMARK_CONTEXT_WIDTH = PREFIX + "WATERMARK_CONTEXT_WIDTH";
    public static final String CPU_WATTS = PREFIX + "CPU_WATTS";
    public static final String GPU_WATTS = PREFIX + "GPU_WATTS";
    public static final String ONLY_BACKENDS = PREFIX + "ONLY_BACKENDS";
    public static final String LEAVE_BACKENDS = PREFIX + "LEAVE_BACKENDS";
    public static final String HUNG_CALL_MS = PREFIX + "HUNG_CALL_MS";

    public static final Set<String> ALL =
        Set.of(
            WORKERS,
            INSTANCE_ID,
            CONSUMER_GROUP,
            BATCH_SIZE,
            BATCH_WAIT_MS,
            REQUEST_TIMEOUT_MS,
            MAX_ATTEMPTS,
            RETRY_BACKOFF_MS,
            MAX_RETRY_BACKOFF_MS,
            MAX_PROMPT_CHARS,
            MAX_OUTPUT_TOKENS,
            DEFAULT_BACKEND,
            ECHO_ENABLED,
            CACHE_DIR,
            KEY_DIR,
            BUILTIN_ORDER,
            BUILTIN_MIN_COUNT,
            DJL_MODEL_PATH,
            DJL_DEVICE,
            DJL_MAX_BATCH,
            DJL_MAX_CONTEXT,
            OPENAI_BASE_URL,
            OPENAI_API_KEY,
            OPENAI_MODEL,
            OPENAI_MODELS,
            OPENAI_API,
            OPENAI_TIMEOUT_MS,
            WATERMARK_ENABLED,
            WATERMARK_GAMMA,
            WATERMARK_DELTA,
            WATERMARK_CONTEXT_WIDTH,
            CPU_WATTS,
            GPU_WATTS,
            ONLY_BACKENDS,
            LEAVE_BACKENDS,
            HUNG_CALL_MS);

    private Keys() {}
  }

  /**
   * What a watermark of these parameters lets the detector see, at best: the tokens that text
   * sampled from a uniform distribution needs before its green share reaches the detector's z
   * threshold (see {@link #MIN_WATERMARK_DELTA}).
   */
  private static String watermarkStrength(WatermarkParameters watermark) {
    double gamma = watermark.gamma();
    if (watermark.delta() == 0.0) {
      return "at 0 nothing is embedded, yet every output would sign a watermark";
    }
    double boost = Math.exp(watermark.delta());
    double green = gamma * boost / (1 - gamma + gamma * boost);
    double perToken = (green - gamma) / Math.sqrt(gamma * (1 - gamma));
    long tokens = (long) Math.ceil(Math.pow(WatermarkDetector.DEFAULT_Z_THRESHOLD / perToken, 2));
    return "at "
        + watermark.delta()
        + " with gamma "
        + gamma
        + " even text sampled from a uniform distribution needs "
        + tokens
        + " tokens before the detector sees the watermark (z = "
        + WatermarkDetector.DEFAULT_Z_THRESHOLD
        + "), a real model's text more";
  }

  private static void require(boolean ok, String key, Object value, String expectation) {
    if (!ok) {
      throw new IllegalArgumentException(
          PREFIX + key + " is " + value + "; it must be " + expectation);
    }
  }

  private static Map<String, String> readProperties(Path file) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Could not read generator config file "
              + file
              + " (named by "
              + CONFIG_FILE_VARIABLE
              + ")",
          e);
    }
    Map<String, String> values = new LinkedHashMap<>();
    properties.forEach(
        (key, value) -> values.put(key.toString().strip(), value.toString().strip()));
    return values;
  }

  /** Typed reads with error messages naming the setting. */
  /**
   * The watermark parameters from their three settings. A value no watermark can have (a negative
   * delta, a gamma of 1, a context of 9 tokens) is refused naming the setting that gave it, which
   * the parameters' own check cannot know.
   */
  private static WatermarkParameters watermark(Settings s, WatermarkParameters defaults) {
    double gamma = s.decimal(Keys.WATERMARK_GAMMA, defaults.gamma());
    double delta = s.decimal(Keys.WATERMARK_DELTA, defaults.delta());
    int contextWidth = s.integer(Keys.WATERMARK_CONTEXT_WIDTH, defaults.contextWidth());
    // Each value beside the defaults, so the error names the setting at fault.
    refuseNaming(
        Keys.WATERMARK_GAMMA,
        gamma,
        () -> new WatermarkParameters(gamma, defaults.delta(), defaults.contextWidth()));
    refuseNaming(
        Keys.WATERMARK_DELTA,
        delta,
        () -> new WatermarkParameters(defaults.gamma(), delta, defaults.contextWidth()));
    refuseNaming(
        Keys.WATERMARK_CONTEXT_WIDTH,
        contextWidth,
        () -> new WatermarkParameters(defaults.gamma(), defaults.delta(), contextWidth));
    return new WatermarkParameters(gamma, delta, contextWidth);
  }

  private static void refuseNaming(String key, Object value, Runnable check) {
    try {
      check.run();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + " is " + value + "; " + e.getMessage(), e);
    }
  }

  private record Settings(Map<String, String> values) {
    String string(String key, String fallback) {
      String value = values.get(key);
      return value == null || value.isBlank() ? fallback : value.strip();
    }

    int integer(String key, int fallback) {
      String value = string(key, null);
      if (value == null) {
        return fallback;
      }
      try {
        return Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " is '" + value + "'; it must be a whole number");
      }
    }

    double decimal(String key, double fallback) {
      String value = string(key, null);
      if (value == null) {
        return fallback;
      }
      try {
        return Double.parseDouble(value);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " is '" + value + "'; it must be a number");
      }
    }

    Duration millis(String key, Duration fallback) {
      String value = string(key, null);
      if (value == null) {
        return fallback;
      }
      try {
        return Duration.ofMillis(Long.parseLong(value));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            key + " is '" + value + "'; it must be milliseconds (a whole number)");
      }
    }

    boolean bool(String key, boolean fallback) {
      String value = string(key, null);
      if (value == null) {
        return fallback;
      }
      if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(value);
      }
      throw new IllegalArgumentException(key + " is '" + value + "'; it must be true or false");
    }

    Path path(String key, Path fallback) {
      String value = string(key, null);
      return value == null ? fallback : Path.of(value);
    }

    URI uri(String key) {
      String value = string(key, null);
      if (value == null) {
        return null;
      }
      URI uri;
      try {
        uri = URI.create(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
      } catch (IllegalArgumentException e) {
        uri = null;
      }
      if (uri == null
          || uri.getScheme() == null
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        throw new IllegalArgumentException(
            key + " is '" + value + "'; it must be an http(s) URL such as http://localhost:8000");
      }
      if (uri.getRawUserInfo() != null) {
        // Never echoed: it would show the secret, and every failure reason names the endpoint.
        throw new IllegalArgumentException(
            key + " holds credentials; put the token in " + Keys.OPENAI_API_KEY + " instead");
      }
      String problem =
          uri.getHost() == null
              ? "it has no host"
              : uri.getRawQuery() != null || uri.getRawFragment() != null
                  ? "it has a query or fragment, and /v1/... is appended to it"
                  : uri.getRawPath() != null && uri.getRawPath().endsWith("/v1")
                      ? "it ends in /v1, which the generator appends itself (it would post to"
                          + " .../v1/v1/completions)"
                      : null;
      if (problem != null) {
        throw new IllegalArgumentException(
            key
                + " is '"
                + value
                + "'; "
                + problem
                + "; it must be the server root, such as http://localhost:8000");
      }
      return uri;
    }

    boolean choice(String key, String falseValue, String trueValue) {
      String value = string(key, falseValue);
      if (value.equals(falseValue)) {
        return false;
      }
      if (value.equals(trueValue)) {
        return true;
      }
      throw new IllegalArgumentException(
          key + " is '" + value + "'; it must be " + falseValue + " or " + trueValue);
    }
  }
}
