package io.genguard.provenance.manifest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a generator states about one output: the SHA-256 of the exact text, the tenant it was made
 * for, who made it and how. Serialised by {@link #toCanonicalJson()} (RFC 8785 style, see {@link
 * CanonicalJson}); the seed is a decimal string because a 64-bit seed has no exact JSON number, and
 * the time is ISO-8601 UTC with millisecond precision.
 *
 * <p>Two layouts: {@value #FORMAT_V2}, which generators sign since the forty-second session, binds
 * the output's tenant ({@code tenantId}); {@value #FORMAT_V1}, signed before, has no tenant, and is
 * read so that manifests already stored or in flight still verify. A manifest with a tenant id is
 * v2, one without is v1: {@link #format()}.
 *
 * @param tenantId the tenant the output was generated for (v2), or null for a v1 manifest, which
 *     does not name one
 * @param watermark the sampling-time watermark, or null when the backend could not embed one
 */
public record ProvenanceManifest(
    String requestId,
    String outputId,
    String tenantId,
    String textSha256,
    String modelName,
    String modelVersion,
    String backend,
    Sampling sampling,
    Instant generatedAt,
    Watermark watermark,
    String signingKeyId) {

  /**
   * Version tag of the first manifest layout, without the tenant, the first thing a verifier
   * checks. Signed until the forty-second session; still verified.
   */
  public static final String FORMAT_V1 = "genguard.provenance.v1";

  /** Version tag of the layout generators sign: v1 and the output's {@code tenantId}. */
  public static final String FORMAT_V2 = "genguard.provenance.v2";

  private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;

  // The members of each object of the layouts, exactly those toJsonTree writes.
  private static final List<String> ROOT_MEMBERS_V1 =
      List.of(
          "format",
          "requestId",
          "outputId",
          "text",
          "model",
          "sampling",
          "generatedAt",
          "watermark",
          "signingKeyId");
  private static final List<String> ROOT_MEMBERS_V2 =
      List.of(
          "format",
          "requestId",
          "outputId",
          "tenantId",
          "text",
          "model",
          "sampling",
          "generatedAt",
          "watermark",
          "signingKeyId");
  private static final List<String> TEXT_MEMBERS = List.of("sha256");
  private static final List<String> MODEL_MEMBERS = List.of("name", "version", "backend");
  private static final List<String> SAMPLING_MEMBERS =
      List.of("maxTokens", "temperature", "topK", "topP", "seed");
  private static final List<String> WATERMARK_MEMBERS =
      List.of("scheme", "keyId", "gamma", "delta", "contextWidth");

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

  /** The layout this manifest is written in: {@value #FORMAT_V2} with a tenant, else v1. */
  public String format() {
    return tenantId == null ? FORMAT_V1 : FORMAT_V2;
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
    tree.put("format", format());
    tree.put("requestId", requestId);
    tree.put("outputId", outputId);
    if (tenantId != null) {
      tree.put("tenantId", tenantId);
    }
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

  /**
   * Reads the manifest back from a JSON value tree (maps, strings, booleans, null, numbers as Long
   * or Integer when written as an integer, else Double), strictly, so that {@link #toJsonTree()}
   * writes back exactly what was read: every member of the layout its {@code format} names present
   * ({@code watermark} and {@code sampling.seed} may be null; {@code tenantId} only in v2, where it
   * is a string), no other member, integers written as integers and within int range, the seed and
   * the time in the form this class writes them. Neither layout has an extension point: a member no
   * verifier reads would still be signed, and trusted by whoever reads the JSON itself; a v1
   * manifest holding a {@code tenantId} is refused as such a member.
   *
   * @throws IllegalArgumentException naming the member that does not fit the layout
   */
  static ProvenanceManifest fromJsonTree(Object tree) {
    if (!(tree instanceof Map<?, ?> root)) {
      throw new IllegalArgumentException(
          "the manifest must be a JSON object, not " + describe(tree));
    }
    Object format = root.get("format");
    if (!FORMAT_V1.equals(format) && !FORMAT_V2.equals(format)) {
      throw new IllegalArgumentException(
          "member 'format' is "
              + describe(format)
              + ", not \""
              + FORMAT_V2
              + "\" or \""
              + FORMAT_V1
              + "\"");
    }
    boolean v2 = FORMAT_V2.equals(format);
    Members manifest =
        Members.of((String) format, "", root, v2 ? ROOT_MEMBERS_V2 : ROOT_MEMBERS_V1);
    Members text = manifest.object("text", TEXT_MEMBERS);
    Members model = manifest.object("model", MODEL_MEMBERS);
    Members sampling = manifest.object("sampling", SAMPLING_MEMBERS);
    Members watermark =
        manifest.get("watermark") == null ? null : manifest.object("watermark", WATERMARK_MEMBERS);
    return new ProvenanceManifest(
        manifest.string("requestId"),
        manifest.string("outputId"),
        v2 ? manifest.string("tenantId") : null,
        text.string("sha256"),
        model.string("name"),
        model.string("version"),
        model.string("backend"),
        new Sampling(
            sampling.integer("maxTokens"),
            sampling.number("temperature"),
            sampling.integer("topK"),
            sampling.number("topP"),
            sampling.get("seed") == null ? null : sampling.seed("seed")),
        manifest.instant("generatedAt"),
        watermark == null
            ? null
            : new Watermark(
                watermark.string("scheme"),
                watermark.string("keyId"),
                watermark.number("gamma"),
                watermark.number("delta"),
                watermark.integer("contextWidth")),
        manifest.string("signingKeyId"));
  }

  /** A JSON value as an error message shows it. */
  private static String describe(Object value) {
    if (value instanceof String string) {
      return "the string \"" + string + "\"";
    }
    if (value instanceof Map<?, ?>) {
      return "an object";
    }
    if (value instanceof List<?>) {
      return "an array";
    }
    return String.valueOf(value); // null, true, false, 64, 64.5, 1000.0 (written 1e3)
  }

  /**
   * One JSON object of the layout {@code format}; errors name its members by path, e.g.
   * sampling.topK.
   */
  private record Members(String format, String prefix, Map<?, ?> values) {

    /**
     * The object {@code values} at {@code path} ("" for the root), holding exactly {@code layout}.
     */
    static Members of(String format, String path, Map<?, ?> values, List<String> layout) {
      String prefix = path.isEmpty() ? "" : path + ".";
      for (Object name : values.keySet()) {
        if (!layout.contains(name)) {
          throw new IllegalArgumentException(
              "unknown member '"
                  + prefix
                  + name
                  + "' ("
                  + format
                  + " has no extension members; "
                  + (path.isEmpty() ? "the manifest" : path)
                  + " holds only "
                  + layout
                  + ")");
        }
      }
      for (String name : layout) {
        if (!values.containsKey(name)) {
          throw new IllegalArgumentException("missing member '" + prefix + name + "'");
        }
      }
      return new Members(format, prefix, values);
    }

    Object get(String name) {
      return values.get(name);
    }

    Members object(String name, List<String> layout) {
      if (!(get(name) instanceof Map<?, ?> object)) {
        throw mustBe(name, "an object");
      }
      return of(format, prefix + name, object, layout);
    }

    String string(String name) {
      if (!(get(name) instanceof String string)) {
        throw mustBe(name, "a string");
      }
      return string;
    }

    double number(String name) {
      if (!(get(name) instanceof Number number)) {
        throw mustBe(name, "a number");
      }
      return number.doubleValue();
    }

    /**
     * Only a JSON integer (no fraction, no exponent) in int range, which the parser reads exactly.
     */
    int integer(String name) {
      if (!(get(name) instanceof Number number)
          || !(number instanceof Long || number instanceof Integer)
          || number.longValue() < Integer.MIN_VALUE
          || number.longValue() > Integer.MAX_VALUE) {
        throw mustBe(
            name,
            "an integer from "
                + Integer.MIN_VALUE
                + " to "
                + Integer.MAX_VALUE
                + " written without fraction or exponent");
      }
      return number.intValue();
    }

    /** A 64-bit integer as a decimal string, exactly as {@link Long#toString} writes it. */
    long seed(String name) {
      String written = string(name);
      try {
        long seed = Long.parseLong(written);
        if (Long.toString(seed).equals(written)) {
          return seed;
        }
      } catch (NumberFormatException e) {
        // Reported below.
      }
      throw mustBe(
          name, "a 64-bit integer in a string, in plain decimal (no '+', no leading zeros)");
    }

    /** An ISO-8601 UTC instant to the millisecond, exactly as {@link #TIME} writes it. */
    Instant instant(String name) {
      String written = string(name);
      try {
        Instant instant = Instant.parse(written);
        String canonical = TIME.format(instant.truncatedTo(ChronoUnit.MILLIS));
        if (canonical.equals(written)) {
          return instant;
        }
        throw mustBe(name, "written as " + canonical + " (ISO-8601 UTC, milliseconds at most)");
      } catch (DateTimeParseException e) {
        throw mustBe(name, "an ISO-8601 UTC instant such as 2025-03-01T12:00:00.123Z");
      }
    }

    private IllegalArgumentException mustBe(String name, String expected) {
      return new IllegalArgumentException(
          "member '" + prefix + name + "' must be " + expected + ", not " + describe(get(name)));
    }
  }
}
