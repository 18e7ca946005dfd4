package io.genguard.generator.worker;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.generator.GeneratorConfig;
import io.genguard.generator.backend.FailureCode;
import io.genguard.generator.backend.GenerationBackend;
import io.genguard.generator.backend.SamplingSettings;
import io.genguard.schemas.CarriedAttributes;
import io.genguard.schemas.DeadLetters;
import io.genguard.schemas.TenantIds;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * Checks a request before any backend sees it and resolves its backend, model and seed. Every
 * refusal names the field, what is wrong and what to do.
 */
public final class RequestValidator {
  /**
   * Most bytes a request's attributes may have. The API allows 32 of at most 320 bytes each; this
   * bounds what other producers write to gen.requests, since every later event of the request
   * carries them.
   */
  public static final int MAX_ATTRIBUTE_BYTES = 64 * 1024;

  /**
   * Longest backend or model name, in characters. Both are repeated in the output, its manifest and
   * the failure, so an unbounded one could make those too large to write.
   */
  public static final int MAX_NAME_CHARS = 128;

  /**
   * Most bytes (UTF-8) a request id may have. It keys every event of the request, and the release
   * gate dead-letters ids longer than this ({@link DeadLetters#MAX_KEY_BYTES}, the same bound), so
   * a longer one would only fail further on. Its failure still echoes it whole: a cut id would no
   * longer name the request, and could name another one.
   */
  public static final int MAX_REQUEST_ID_BYTES = DeadLetters.MAX_KEY_BYTES;

  /**
   * Highest sampling temperature: the bound the HTTP API and campaign specs already hold, for
   * requests other producers write. Higher only flattens the distribution towards noise, and a
   * temperature from 2^53 up is written in the signed manifest as a whole number, which older
   * verifiers refuse (the output would be blocked as tampered with).
   */
  public static final double MAX_TEMPERATURE = 5.0;

  private final GeneratorConfig config;
  private final BackendRegistry backends;

  public RequestValidator(GeneratorConfig config, BackendRegistry backends) {
    this.config = config;
    this.backends = backends;
  }

  /** A request ready for its backend. */
  public record Accepted(
      GenerationRequest request,
      GenerationBackend backend,
      String model,
      SamplingSettings sampling) {}

  /** A request refused before generation. */
  public record Refused(
      GenerationRequest request, FailureCode code, String reason, String backend) {}

  /** Exactly one of accepted or refused is present. */
  public record Verdict(Optional<Accepted> accepted, Optional<Refused> refused) {
    static Verdict accept(Accepted accepted) {
      return new Verdict(Optional.of(accepted), Optional.empty());
    }

    static Verdict refuse(
        GenerationRequest request, FailureCode code, String reason, String backend) {
      return new Verdict(
          Optional.empty(), Optional.of(new Refused(request, code, reason, backend)));
    }
  }

  public Verdict check(GenerationRequest request) {
    for (String field : new String[] {"backend", "model"}) {
      String name = field.equals("backend") ? request.getBackend() : request.getModel();
      if (name != null && name.length() > MAX_NAME_CHARS) {
        // The name itself is left out of the failure: it is what would not fit.
        return Verdict.refuse(
            request,
            FailureCode.INVALID_REQUEST,
            field
                + " has "
                + name.length()
                + " characters, more than the limit of "
                + MAX_NAME_CHARS
                + "; name one of the generator's "
                + field
                + "s, or none for the default",
            field.equals("backend")
                ? null
                : request.getBackend() == null ? backends.defaultBackend() : request.getBackend());
      }
    }
    String backendName =
        request.getBackend() == null ? backends.defaultBackend() : request.getBackend();
    if (request.getRequestId() == null || request.getRequestId().isBlank()) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "requestId is empty; every request needs a unique id (it keys all its events)",
          backendName);
    }
    int requestIdBytes = request.getRequestId().getBytes(StandardCharsets.UTF_8).length;
    if (requestIdBytes > MAX_REQUEST_ID_BYTES) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "requestId has "
              + requestIdBytes
              + " bytes (UTF-8), more than the limit of "
              + MAX_REQUEST_ID_BYTES
              + "; it keys every event of the request, so use a short unique id such as a UUID",
          backendName);
    }
    String tenantId = request.getTenantId();
    if (!TenantIds.isValid(tenantId)) {
      // Quoted only when short: the rule allows 64 characters, and the failure carries it anyway.
      String shown =
          tenantId == null
              ? "is missing"
              : tenantId.length() <= 64
                  ? "'" + tenantId + "' is not valid"
                  : "has " + tenantId.length() + " characters";
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "tenantId " + shown + "; it must be " + TenantIds.RULE,
          backendName);
    }
    String prompt = request.getPrompt();
    if (prompt == null || prompt.isBlank()) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "prompt is empty; send the text to continue in GenerationRequest.prompt",
          backendName);
    }
    if (prompt.length() > config.maxPromptCharacters()) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "prompt has "
              + prompt.length()
              + " characters, more than the limit of "
              + config.maxPromptCharacters()
              + "; shorten it (the limit is "
              + GeneratorConfig.Keys.MAX_PROMPT_CHARS
              + ")",
          backendName);
    }
    SamplingParameters parameters = request.getParameters();
    if (parameters.getMaxTokens() < 1 || parameters.getMaxTokens() > config.maxOutputTokens()) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "parameters.maxTokens is "
              + parameters.getMaxTokens()
              + "; it must be between 1 and "
              + config.maxOutputTokens()
              + " (the limit is "
              + GeneratorConfig.Keys.MAX_OUTPUT_TOKENS
              + ")",
          backendName);
    }
    double temperature = parameters.getTemperature();
    if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "parameters.temperature is "
              + temperature
              + "; it must be between 0 (greedy) and "
              + MAX_TEMPERATURE
              + ", as the HTTP API allows",
          backendName);
    }
    if (parameters.getTopK() < 0) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "parameters.topK is " + parameters.getTopK() + "; it must be >= 0 (0 disables top-k)",
          backendName);
    }
    double topP = parameters.getTopP();
    if (!(topP > 0 && topP <= 1)) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "parameters.topP is " + topP + "; it must be in (0, 1] (1 disables nucleus sampling)",
          backendName);
    }
    long attributeBytes = CarriedAttributes.bytes(request.getAttributes());
    if (attributeBytes > MAX_ATTRIBUTE_BYTES) {
      return Verdict.refuse(
          request,
          FailureCode.INVALID_REQUEST,
          "attributes total "
              + attributeBytes
              + " bytes (UTF-8, keys and values), more than the limit of "
              + MAX_ATTRIBUTE_BYTES
              + "; they travel with the output, the verdict and the gate outcome, so keep them to"
              + " identifiers and put large context elsewhere",
          backendName);
    }
    Optional<GenerationBackend> backend = backends.find(backendName);
    if (backend.isEmpty()) {
      String hint =
          backends
              .settingToEnable(backendName)
              .map(setting -> "; it is not configured on this generator (set " + setting + ")")
              .orElse("; known backends: " + backends.names());
      return Verdict.refuse(
          request,
          FailureCode.UNKNOWN_BACKEND,
          "backend '" + backendName + "' is not available" + hint,
          backendName);
    }
    String model = request.getModel() == null ? backend.get().defaultModel() : request.getModel();
    if (!backend.get().serves(model)) {
      return Verdict.refuse(
          request,
          FailureCode.UNKNOWN_BACKEND,
          "model '"
              + model
              + "' is not served by backend '"
              + backendName
              + "' on this generator (its default model is '"
              + backend.get().defaultModel()
              + "'); leave model empty for the default, or ask the operator which models it"
              + " allows",
          backendName);
    }
    long seed =
        parameters.getSeed() != null ? parameters.getSeed() : derivedSeed(request.getRequestId());
    return Verdict.accept(
        new Accepted(
            request,
            backend.get(),
            model,
            new SamplingSettings(
                parameters.getMaxTokens(), temperature, parameters.getTopK(), topP, seed)));
  }

  /**
   * The seed of a request that sent none: from its id, so re-processing after a crash samples the
   * same text (first 8 bytes of SHA-256 of "genguard-seed", NUL, the request id).
   */
  public static long derivedSeed(String requestId) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update("genguard-seed\u0000".getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest.digest(requestId.getBytes(StandardCharsets.UTF_8))).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
