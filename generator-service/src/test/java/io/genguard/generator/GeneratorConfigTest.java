package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.SigningKey;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorConfigTest {
  @TempDir Path dataDir;

  @Test
  void shouldDefaultToOneBuiltinWorkerWithStateUnderTheDataDirectory() {
    GeneratorConfig config = GeneratorConfig.defaults(dataDir);

    assertThat(config.workers()).isEqualTo(1);
    assertThat(config.defaultBackend()).isEqualTo("builtin");
    assertThat(config.cacheDirectory()).isEqualTo(dataDir.resolve("generator-cache"));
    assertThat(config.keyDirectory()).isEqualTo(dataDir.resolve("provenance-keys"));
    assertThat(config.watermark().gamma()).isEqualTo(0.25);
    assertThat(config.watermark().delta()).isEqualTo(2.0);
    assertThat(config.withWorkers(4).workers()).isEqualTo(4);
  }

  @Test
  void shouldChangeOnlyWhatEachWithMethodNamesAndKeepEveryOtherSetting() throws Exception {
    GeneratorConfig base = GeneratorConfig.defaults(dataDir);

    assertChangesOnly(base, base.withWorkers(4), "workers");
    assertChangesOnly(base, base.withRouting(PoolRouting.parse("djl", null)), "routing");
    assertChangesOnly(base, base.withKeys(ProvenanceKeys.ephemeral()), "keys");
    assertChangesOnly(
        base, base.withBatching(16, Duration.ofMillis(80)), "maxBatchSize", "maxBatchWait");
    assertChangesOnly(base, base.withInstanceId("pool-b"), "instanceId");
    assertChangesOnly(base, base.withConsumerGroup("it-group"), "consumerGroup");
    assertChangesOnly(
        base,
        base.withRetries(Duration.ofSeconds(10), 5, Duration.ofMillis(300)),
        "requestTimeout",
        "maxAttempts",
        "retryBackoff");
    assertChangesOnly(
        base,
        base.withRetries(Duration.ofSeconds(10), 5, Duration.ofSeconds(9)),
        "requestTimeout",
        "maxAttempts",
        "retryBackoff",
        "maxRetryBackoff");
    assertChangesOnly(
        base, base.withDjlModel(dataDir.resolve("model"), "cpu"), "djlModelPath", "djlDevice");
    assertChangesOnly(
        base,
        base.withOpenAi(
            URI.create("http://localhost:8000"), "sk-test", "tiny", true, Duration.ofSeconds(5)),
        "openAiBaseUrl",
        "openAiApiKey",
        "openAiModel",
        "openAiChat",
        "openAiTimeout");
    assertChangesOnly(base, base.withDefaultBackend("djl"), "defaultBackend");
    assertChangesOnly(base, base.withOpenAiModels(Set.of("tiny")), "openAiModels");
    assertChangesOnly(base, base.withEchoEnabled(false), "echoEnabled");
    assertChangesOnly(base, base.withHungCallBound(Duration.ofMinutes(7)), "hungCall");
  }

  /** {@code changed} differs from {@code base} in the fields {@code names} and in no other. */
  private static void assertChangesOnly(
      GeneratorConfig base, GeneratorConfig changed, String... names) throws Exception {
    for (RecordComponent component : GeneratorConfig.class.getRecordComponents()) {
      Object before = component.getAccessor().invoke(base);
      Object after = component.getAccessor().invoke(changed);
      if (Set.of(names).contains(component.getName())) {
        assertThat(after).as(component.getName()).isNotEqualTo(before);
      } else {
        assertThat(after).as(component.getName()).isEqualTo(before);
      }
    }
  }

  @Test
  void shouldBoundABackendCallWellAboveTheRequestBudget() {
    assertThat(GeneratorConfig.defaults(dataDir).hungCallBound())
        .as("10 times the default 30 s budget")
        .isEqualTo(Duration.ofMinutes(5));
    assertThat(
            GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_REQUEST_TIMEOUT_MS", "600000"), dataDir)
                .hungCallBound())
        .as("twice a budget above 150 s")
        .isEqualTo(Duration.ofMinutes(20));
    assertThat(
            GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_HUNG_CALL_MS", "900000"), dataDir)
                .hungCallBound())
        .isEqualTo(Duration.ofMinutes(15));
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_HUNG_CALL_MS", "30000"), dataDir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_GENERATOR_HUNG_CALL_MS is 30000")
        .hasMessageContaining("more than REQUEST_TIMEOUT_MS (30000");
  }

  @Test
  void shouldReadEveryKindOfSettingFromTheEnvironment() {
    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_WORKERS", "3",
                "GENGUARD_GENERATOR_BATCH_WAIT_MS", "25",
                "GENGUARD_GENERATOR_OPENAI_BASE_URL", "http://localhost:8000/",
                "GENGUARD_GENERATOR_OPENAI_API", "chat",
                "GENGUARD_GENERATOR_WATERMARK_GAMMA", "0.5",
                "GENGUARD_GENERATOR_WATERMARK_ENABLED", "false",
                "PATH", "/usr/bin"),
            dataDir);

    assertThat(config.workers()).isEqualTo(3);
    assertThat(config.maxBatchWait()).isEqualTo(Duration.ofMillis(25));
    assertThat(config.openAiBaseUrl()).isEqualTo(URI.create("http://localhost:8000"));
    assertThat(config.openAiChat()).isTrue();
    assertThat(config.watermark().gamma()).isEqualTo(0.5);
    assertThat(config.watermarkEnabled()).isFalse();
  }

  /**
   * The openai backend sends the default model and the listed ones only; unset, the default model
   * alone (before the forty-first session, any name a tenant wrote).
   */
  @Test
  void shouldAllowTheOpenAiBackendOnlyTheDefaultAndTheListedModels() {
    GeneratorConfig unset =
        GeneratorConfig.fromEnvironment(
            Map.of("GENGUARD_GENERATOR_OPENAI_MODEL", "llama-3-8b"), dataDir);
    assertThat(unset.openAiModels()).isEmpty();
    assertThat(unset.openAiModelAllowed("llama-3-8b")).isTrue();
    assertThat(unset.openAiModelAllowed("gpt-4-32k")).isFalse();
    assertThat(unset.openAiModelAllowed(null)).isFalse();

    GeneratorConfig listed =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_OPENAI_MODEL", "llama-3-8b",
                "GENGUARD_GENERATOR_OPENAI_MODELS", " llama-3-70b, ,mistral-7b "),
            dataDir);
    assertThat(listed.openAiModels()).containsExactlyInAnyOrder("llama-3-70b", "mistral-7b");
    assertThat(listed.openAiModelAllowed("llama-3-8b")).as("the default, always").isTrue();
    assertThat(listed.openAiModelAllowed("mistral-7b")).isTrue();
    assertThat(listed.openAiModelAllowed("gpt-4-32k")).isFalse();
    assertThat(listed.toString()).contains("openAiModels=[llama-3-70b, mistral-7b]");

    GeneratorConfig any =
        GeneratorConfig.fromEnvironment(Map.of("GENGUARD_GENERATOR_OPENAI_MODELS", "*"), dataDir);
    assertThat(any.openAiModelAllowed("gpt-4-32k")).isTrue();

    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_OPENAI_MODELS", "*,llama-3-70b"), dataDir))
        .hasMessageContaining("GENGUARD_GENERATOR_OPENAI_MODELS is [*, llama-3-70b]")
        .hasMessageContaining("* alone (any model) or a list of model names, not both");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_OPENAI_MODELS", "m" + "x".repeat(128)), dataDir))
        .hasMessageContaining("model names of 1 to 128 characters");
  }

  @Test
  void shouldOfferTheEchoBackendUnlessItIsTurnedOff() {
    assertThat(GeneratorConfig.defaults(dataDir).echoEnabled())
        .as("the local stack and the demo use it")
        .isTrue();
    assertThat(GeneratorConfig.fromEnvironment(Map.of(), dataDir).echoEnabled()).isTrue();
    assertThat(
            GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_ECHO_ENABLED", "false"), dataDir)
                .echoEnabled())
        .isFalse();
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_ECHO_ENABLED", "no"), dataDir))
        .hasMessageContaining("GENGUARD_GENERATOR_ECHO_ENABLED is 'no'; it must be true or false");
  }

  @Test
  void shouldLetTheEnvironmentOverrideTheConfigFile() throws Exception {
    Path file = dataDir.resolve("generator.properties");
    Files.writeString(file, "GENGUARD_GENERATOR_WORKERS=2\nGENGUARD_GENERATOR_BATCH_SIZE=16\n");

    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_CONFIG_FILE",
                file.toString(),
                "GENGUARD_GENERATOR_WORKERS",
                "5"),
            dataDir);

    assertThat(config.workers()).isEqualTo(5);
    assertThat(config.maxBatchSize()).isEqualTo(16);

    // An empty variable (compose passes ${KEY:-} for every key it knows) leaves the file's value.
    GeneratorConfig empty =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_CONFIG_FILE",
                file.toString(),
                "GENGUARD_GENERATOR_BATCH_SIZE",
                "",
                "GENGUARD_GENERATOR_WORKERS",
                " "),
            dataDir);
    assertThat(empty.maxBatchSize()).isEqualTo(16);
    assertThat(empty.workers()).isEqualTo(2);
  }

  @Test
  void shouldTakeProvenanceKeysFromTheEnvironment() {
    String watermarkSecret = Base64.getEncoder().encodeToString(new byte[32]);
    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_WATERMARK_KEYS",
                "wm-2025:" + watermarkSecret,
                "GENGUARD_SIGNING_KEYS",
                SigningKey.generate("sign-2025").toConfigEntry()),
            dataDir);

    assertThat(config.resolveKeys().watermark().active().id()).isEqualTo("wm-2025");
    assertThat(config.resolveKeys().signing().active().id()).isEqualTo("sign-2025");
    assertThat(config.toString()).doesNotContain(watermarkSecret);
  }

  @Test
  void shouldRefuseToStartSigningWithARevokedKey() {
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of(
                        "GENGUARD_SIGNING_KEYS",
                        SigningKey.generate("sign-2025").toConfigEntry(),
                        "GENGUARD_REVOKED_SIGNING_KEYS",
                        "sign-2025"),
                    dataDir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("The active signing key 'sign-2025' is listed in");
  }

  @Test
  void shouldLeaveKubernetesServiceLinksOfAServiceNamedGenguardGeneratorAlone() {
    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_SERVICE_HOST", "10.0.0.9",
                "GENGUARD_GENERATOR_SERVICE_PORT", "9464",
                "GENGUARD_GENERATOR_PORT", "tcp://10.0.0.9:9464",
                "GENGUARD_GENERATOR_PORT_9464_TCP_ADDR", "10.0.0.9",
                "GENGUARD_GENERATOR_WORKERS", "3"),
            dataDir);

    assertThat(config.workers()).isEqualTo(3);
  }

  @Test
  void shouldRejectTyposAndBadValuesNamingTheSetting() {
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(Map.of("GENGUARD_GENERATOR_WORKER", "2"), dataDir))
        .hasMessageContaining("Unknown generator setting(s) [GENGUARD_GENERATOR_WORKER]");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_WORKERS", "two"), dataDir))
        .hasMessageContaining("GENGUARD_GENERATOR_WORKERS is 'two'; it must be a whole number");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(Map.of("GENGUARD_GENERATOR_WORKERS", "0"), dataDir))
        .hasMessageContaining("GENGUARD_GENERATOR_WORKERS is 0; it must be between 1 and 64");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_DEFAULT_BACKEND", "gpt"), dataDir))
        .hasMessageContaining("one of builtin, djl, openai");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_OPENAI_BASE_URL", "localhost:8000"), dataDir))
        .hasMessageContaining("must be an http(s) URL");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_WATERMARK_GAMMA", "1.5"), dataDir))
        .hasMessageContaining("gamma must be in (0, 1)");
  }

  @Test
  void shouldRefuseAWatermarkTooWeakForTheDetectorToSeeWhileTheWatermarkIsOn() {
    // Delta 0 was accepted: every output signed a watermark with nothing in it, and a tenant that
    // requires the watermark had every long output held as WATERMARK_NOT_DETECTED.
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_WATERMARK_DELTA", "0"), dataDir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "GENGUARD_GENERATOR_WATERMARK_DELTA is 0.0; it must be at least 1.0 while"
                + " GENGUARD_GENERATOR_WATERMARK_ENABLED is true: at 0 nothing is embedded")
        .hasMessageEndingWith(
            "or GENGUARD_GENERATOR_WATERMARK_ENABLED=false to sign outputs without a watermark");
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_WATERMARK_DELTA", "0.5"), dataDir))
        .hasMessageContaining(
            "at 0.5 with gamma 0.25 even text sampled from a uniform distribution needs 274 tokens"
                + " before the detector sees the watermark (z = 4.0)");

    assertThat(
            GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_WATERMARK_DELTA", "1"), dataDir)
                .watermark()
                .delta())
        .isEqualTo(GeneratorConfig.MIN_WATERMARK_DELTA);
    GeneratorConfig off =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_WATERMARK_DELTA", "0",
                "GENGUARD_GENERATOR_WATERMARK_ENABLED", "false"),
            dataDir);
    assertThat(off.watermarkEnabled()).as("no watermark, none claimed").isFalse();
  }

  @Test
  void shouldRefuseWatermarkParametersNoWatermarkCanHaveNamingTheSetting() {
    // A negative delta was refused as "Watermark delta must be a finite logit bias >= 0", naming
    // no setting.
    Map<String, String> expected =
        Map.of(
            "GENGUARD_GENERATOR_WATERMARK_DELTA", "-1",
            "GENGUARD_GENERATOR_WATERMARK_GAMMA", "1",
            "GENGUARD_GENERATOR_WATERMARK_CONTEXT_WIDTH", "9");
    expected.forEach(
        (key, value) ->
            assertThatThrownBy(() -> GeneratorConfig.fromEnvironment(Map.of(key, value), dataDir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(key + " is ")
                .hasMessageContaining("must be"));
  }

  @Test
  void shouldRefuseSizesPastTheirBoundNamingTheKeyTheValueAndTheBound() {
    Map<String, Integer> bounds =
        Map.of(
            "GENGUARD_GENERATOR_MAX_OUTPUT_TOKENS", 32_768,
            "GENGUARD_GENERATOR_MAX_PROMPT_CHARS", 200_000,
            "GENGUARD_GENERATOR_DJL_MAX_BATCH", 1_024,
            "GENGUARD_GENERATOR_DJL_MAX_CONTEXT", 131_072,
            "GENGUARD_GENERATOR_BATCH_WAIT_MS", 60_000,
            "GENGUARD_GENERATOR_REQUEST_TIMEOUT_MS", 3_600_000);
    bounds.forEach(
        (key, bound) -> {
          assertThat(GeneratorConfig.fromEnvironment(Map.of(key, bound.toString()), dataDir))
              .as("%s at its bound", key)
              .isNotNull();
          for (String tooMuch : new String[] {Integer.toString(bound + 1), "2147483647"}) {
            assertThatThrownBy(() -> GeneratorConfig.fromEnvironment(Map.of(key, tooMuch), dataDir))
                .as("%s=%s", key, tooMuch)
                .hasMessageContaining(key + " is " + tooMuch + "; it must be between ")
                .hasMessageContaining(" and " + bound);
          }
        });
    assertThatThrownBy(
            () ->
                GeneratorConfig.fromEnvironment(
                    Map.of("GENGUARD_GENERATOR_BATCH_WAIT_MS", Long.toString(Long.MAX_VALUE)),
                    dataDir))
        .hasMessageContaining(
            "GENGUARD_GENERATOR_BATCH_WAIT_MS is 9223372036854775807; it must be between 0 and"
                + " 60000");
  }

  @Test
  void shouldRejectAnOpenAiBaseUrlTheBackendCannotCallOrWouldLeak() {
    assertThatThrownBy(() -> openAiBaseUrl("http:/llm.internal"))
        .hasMessageContaining("GENGUARD_GENERATOR_OPENAI_BASE_URL is 'http:/llm.internal'")
        .hasMessageContaining("it has no host");
    assertThatThrownBy(() -> openAiBaseUrl("http://llm.internal:8000/?tenant=a"))
        .hasMessageContaining("it has a query or fragment");
    assertThatThrownBy(() -> openAiBaseUrl("https://user:sk-secret@llm.internal"))
        .hasMessageContaining("holds credentials")
        .hasMessageContaining("GENGUARD_GENERATOR_OPENAI_API_KEY")
        .hasMessageNotContaining("sk-secret");
  }

  /** OpenAI SDKs document the base URL with /v1; taken as it is, every call went to /v1/v1/. */
  @Test
  void shouldRefuseAnOpenAiBaseUrlEndingInV1NamingTheSetting() {
    for (String url : List.of("http://vllm:8000/v1", "http://vllm:8000/v1/", "https://gw/llm/v1")) {
      assertThatThrownBy(() -> openAiBaseUrl(url))
          .hasMessageContaining("GENGUARD_GENERATOR_OPENAI_BASE_URL is '" + url + "'")
          .hasMessageContaining("it ends in /v1");
    }
    assertThat(openAiBaseUrl("https://gw/llm").openAiBaseUrl().toString())
        .isEqualTo("https://gw/llm");
  }

  private GeneratorConfig openAiBaseUrl(String url) {
    return GeneratorConfig.fromEnvironment(
        Map.of("GENGUARD_GENERATOR_OPENAI_BASE_URL", url), dataDir);
  }

  @Test
  void shouldRefuseAnApiKeyThatCannotBeSentWithoutShowingIt() {
    // A newline inside (strip() trims only the ends) and a typographic hyphen from a copy and
    // paste: the JDK refuses both in a header, and its error quotes the header, key included.
    for (String key : List.of("sk-abc\nTOPSECRET", "sk-live-TOPSECRET\u2010abc")) {
      assertThatThrownBy(
              () ->
                  GeneratorConfig.fromEnvironment(
                      Map.of(
                          "GENGUARD_GENERATOR_OPENAI_BASE_URL",
                          "https://llm.internal",
                          "GENGUARD_GENERATOR_OPENAI_API_KEY",
                          key),
                      dataDir))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("GENGUARD_GENERATOR_OPENAI_API_KEY has ")
          .hasMessageContaining("visible ASCII only")
          .hasMessageContaining("its value is not shown")
          .hasMessageNotContaining("TOPSECRET")
          .hasMessageNotContaining(key);
    }
    assertThatThrownBy(
            () ->
                GeneratorConfig.defaults(dataDir)
                    .withOpenAi(
                        URI.create("https://llm.internal"),
                        "sk-TOPSECRET \u00a0",
                        "m",
                        false,
                        Duration.ofSeconds(5)))
        .hasMessageContaining("GENGUARD_GENERATOR_OPENAI_API_KEY has a space character U+0020")
        .hasMessageNotContaining("TOPSECRET");
  }

  @Test
  void shouldNeverPrintTheApiKey() {
    GeneratorConfig config =
        GeneratorConfig.fromEnvironment(
            Map.of(
                "GENGUARD_GENERATOR_OPENAI_BASE_URL",
                "https://llm.internal",
                "GENGUARD_GENERATOR_OPENAI_API_KEY",
                "sk-secret-123"),
            dataDir);

    assertThat(config.openAiApiKey()).isEqualTo("sk-secret-123");
    assertThat(config.toString())
        .doesNotContain("sk-secret-123")
        .contains("openAiApiKey=<redacted>");
  }
}
