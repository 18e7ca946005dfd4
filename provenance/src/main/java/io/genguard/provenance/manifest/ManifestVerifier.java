package io.genguard.provenance.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Verifies a signed provenance manifest against the text it claims to describe. VALID only if the
 * signature is a valid Ed25519 signature by a known key over the exact JSON bytes, the JSON is in
 * canonical form and names that same key, and the SHA-256 of the text equals the manifest's. Any
 * edit to the text or the manifest therefore yields INVALID. Thread-safe.
 */
public final class ManifestVerifier {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final VerificationKeyRing keys;

  public ManifestVerifier(VerificationKeyRing keys) {
    this.keys = keys;
  }

  /**
   * The status of an output's manifest: ABSENT when any of the three manifest fields is null.
   *
   * @param text the output text as it will be published
   */
  public ManifestStatus verify(String text, String canonicalJson, String signature, String keyId) {
    return inspect(text, canonicalJson, signature, keyId).status();
  }

  public ManifestStatus verify(String text, SignedProvenance manifest) {
    return manifest == null
        ? ManifestStatus.ABSENT
        : verify(text, manifest.canonicalJson(), manifest.signature(), manifest.keyId());
  }

  /** Like {@link #verify} with the reason and, when the signature held, the parsed manifest. */
  public ManifestVerification inspect(
      String text, String canonicalJson, String signature, String keyId) {
    if (canonicalJson == null || signature == null || keyId == null) {
      return new ManifestVerification(
          ManifestStatus.ABSENT, "the output carries no manifest", null);
    }
    Optional<PublicKey> publicKey = keys.find(keyId);
    if (publicKey.isEmpty()) {
      return invalid(
          "signed with key id '"
              + keyId
              + "', which this verifier does not know (known: "
              + keys.ids()
              + "); add its public key to "
              + VerificationKeyRing.KEYS_VARIABLE);
    }
    if (!wellFormed(canonicalJson)) {
      // getBytes(UTF_8) would turn a lone surrogate into '?': another string, same signed bytes.
      return invalid("manifest JSON is not well-formed Unicode (lone surrogate)");
    }
    byte[] signatureBytes;
    try {
      signatureBytes = Base64.getDecoder().decode(signature);
    } catch (IllegalArgumentException e) {
      return invalid("signature is not base64");
    }
    if (!VerificationKeyRing.signatureValid(
        publicKey.get(), canonicalJson.getBytes(StandardCharsets.UTF_8), signatureBytes)) {
      return invalid(
          "Ed25519 signature does not match the manifest JSON for key '"
              + keyId
              + "' (manifest altered, or signed by another key)");
    }
    Object tree;
    String canonical;
    try {
      tree = toTree(JSON.readTree(canonicalJson));
      // Throws for values canonical JSON cannot hold (1e400, integers beyond 2^53, surrogates).
      canonical = CanonicalJson.write(tree);
    } catch (JsonProcessingException e) {
      return invalid("manifest is not valid JSON: " + e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      return invalid("manifest JSON holds an unsupported value: " + e.getMessage());
    }
    if (!canonicalJson.equals(canonical)) {
      return invalid("manifest JSON is not in canonical form");
    }
    ProvenanceManifest manifest;
    try {
      manifest = parse(tree);
    } catch (RuntimeException e) {
      return invalid(
          "manifest does not have the " + ProvenanceManifest.FORMAT + " layout: " + e.getMessage());
    }
    if (!manifest.signingKeyId().equals(keyId)) {
      return invalid(
          "manifest names signing key '"
              + manifest.signingKeyId()
              + "' but carries key id '"
              + keyId
              + "'");
    }
    if (text == null) {
      return invalid("there is no text to check the manifest against");
    }
    if (!wellFormed(text)) {
      // Its UTF-8 bytes, and so its hash, would be those of a text with '?' in that place.
      return invalid("the text is not well-formed Unicode (lone surrogate)");
    }
    String actual = ProvenanceManifest.sha256Hex(text);
    if (!MessageDigest.isEqual(
        actual.getBytes(StandardCharsets.US_ASCII),
        manifest.textSha256().getBytes(StandardCharsets.US_ASCII))) {
      return invalid(
          "the text differs from the text the manifest was signed for (SHA-256 mismatch)");
    }
    return new ManifestVerification(
        ManifestStatus.VALID, "signature and text hash verified", manifest);
  }

  /** Whether {@code s} has no lone surrogate, i.e. has a UTF-8 form. */
  private static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static ManifestVerification invalid(String reason) {
    return new ManifestVerification(ManifestStatus.INVALID, reason, null);
  }

  /** Jackson tree to plain values, numbers as Long (integral) or Double, for re-canonicalising. */
  private static Object toTree(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        map.put(field.getKey(), toTree(field.getValue()));
      }
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(element -> list.add(toTree(element)));
      return list;
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isNull()) {
      return null;
    }
    if (node.isIntegralNumber()) {
      if (!node.canConvertToLong()) {
        throw new IllegalArgumentException("integer out of range: " + node);
      }
      return node.longValue();
    }
    if (node.isNumber()) {
      return node.doubleValue();
    }
    throw new IllegalArgumentException("unsupported JSON value: " + node.getNodeType());
  }

  @SuppressWarnings("unchecked")
  private static ProvenanceManifest parse(Object tree) {
    Map<String, Object> root = (Map<String, Object>) tree;
    if (!ProvenanceManifest.FORMAT.equals(root.get("format"))) {
      throw new IllegalArgumentException("format is " + root.get("format"));
    }
    Map<String, Object> text = (Map<String, Object>) required(root, "text");
    Map<String, Object> model = (Map<String, Object>) required(root, "model");
    Map<String, Object> sampling = (Map<String, Object>) required(root, "sampling");
    Map<String, Object> watermark = (Map<String, Object>) root.get("watermark");
    Object seed = sampling.get("seed");
    ProvenanceManifest.Watermark parsedWatermark =
        watermark == null
            ? null
            : new ProvenanceManifest.Watermark(
                (String) required(watermark, "scheme"),
                (String) required(watermark, "keyId"),
                number(watermark, "gamma").doubleValue(),
                number(watermark, "delta").doubleValue(),
                number(watermark, "contextWidth").intValue());
    Instant generatedAt;
    try {
      generatedAt = Instant.parse((String) required(root, "generatedAt"));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("generatedAt is not an ISO-8601 instant");
    }
    return new ProvenanceManifest(
        (String) required(root, "requestId"),
        (String) required(root, "outputId"),
        (String) required(text, "sha256"),
        (String) required(model, "name"),
        (String) required(model, "version"),
        (String) required(model, "backend"),
        new ProvenanceManifest.Sampling(
            number(sampling, "maxTokens").intValue(),
            number(sampling, "temperature").doubleValue(),
            number(sampling, "topK").intValue(),
            number(sampling, "topP").doubleValue(),
            seed == null ? null : Long.parseLong((String) seed)),
        generatedAt,
        parsedWatermark,
        (String) required(root, "signingKeyId"));
  }

  private static Object required(Map<String, Object> map, String field) {
    Object value = map.get(field);
    if (value == null) {
      throw new IllegalArgumentException("missing field '" + field + "'");
    }
    return value;
  }

  private static Number number(Map<String, Object> map, String field) {
    Object value = required(map, field);
    if (!(value instanceof Number number)) {
      throw new IllegalArgumentException("field '" + field + "' is not a number");
    }
    return number;
  }
}
