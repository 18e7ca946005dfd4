package io.genguard.provenance.manifest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a generator states about one output: the SHA-256 of the exact text, who made it and how.
 * Serialised by {@link #toCanonicalJson()} (RFC 8785 style, see {@link CanonicalJson}); the seed is
 * a decimal string because a 64-bit seed has no exact JSON number, and the time is ISO-8601 UTC
 * with millisecond precision.
 *
 * @param watermark the sampling-time watermark, or null when the backend could not embed one
 */
public record ProvenanceManifest(
    String requestId,
    String outputId,
    String textSha256,
    String modelName,
    String modelVersion,
    String backend,
    Sampling sampling,
    Instant generatedAt,
    Watermark watermark,
    String signingKeyId) {

  /** Version tag of this manifest layout, the first thing a verifier checks. */
  public static final String FORMAT = "genguard.provenance.v1";

  private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;

  public ProvenanceManifest {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(outputId, "outputId");
    Objects.requireNonNull(textSha256, "textSha256");
    Objects.requireNonNull(modelName, "modelName");
    Objects.requireNonNull(modelVersion, "modelVersion");
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(sampling, "sampling");
    Objects.requireNonNull(generatedAt, "generatedAt");
    Objects.requireNonNull(signingKeyId, "signingKeyId");
    generatedAt = generatedAt.truncatedTo(ChronoUnit.MILLIS);
  }

  /** The sampling parameters used; seed null when the backend does not take one. */
  public record Sampling(int maxTokens, double temperature, int topK, double topP, Long seed) {}

  /** The watermark embedded at sampling time. */
  public record Watermark(
      String scheme, String keyId, double gamma, double delta, int contextWidth) {}

  /** Hex SHA-256 of the UTF-8 bytes of {@code text}, the form {@link #textSha256()} takes. */
  public static String sha256Hex(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  /** The manifest as a JSON value tree (maps, strings, numbers) for {@link CanonicalJson}. */
  public Map<String, Object> toJsonTree() {
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("name", modelName);
    model.put("version", modelVersion);
    model.put("backend", backend);

    Map<String, Object> samplingTree = new LinkedHashMap<>();
    samplingTree.put("maxTokens", sampling.maxTokens());
    samplingTree.put("temperature", sampling.temperature());
    samplingTree.put("topK", sampling.topK());
    samplingTree.put("topP", sampling.topP());
    samplingTree.put("seed", sampling.seed() == null ? null : Long.toString(sampling.seed()));

    Map<String, Object> watermarkTree = null;
    if (watermark != null) {
      watermarkTree = new LinkedHashMap<>();
      watermarkTree.put("scheme", watermark.scheme());
      watermarkTree.put("keyId", watermark.keyId());
      watermarkTree.put("gamma", watermark.gamma());
      watermarkTree.put("delta", watermark.delta());
      watermarkTree.put("contextWidth", watermark.contextWidth());
    }

    Map<String, Object> tree = new LinkedHashMap<>();
    tree.put("format", FORMAT);
    tree.put("requestId", requestId);
    tree.put("outputId", outputId);
    tree.put("text", Map.of("sha256", textSha256));
    tree.put("model", model);
    tree.put("sampling", samplingTree);
    tree.put("generatedAt", TIME.format(generatedAt));
    tree.put("watermark", watermarkTree);
    tree.put("signingKeyId", signingKeyId);
    return tree;
  }

  public String toCanonicalJson() {
    return CanonicalJson.write(toJsonTree());
  }
}
