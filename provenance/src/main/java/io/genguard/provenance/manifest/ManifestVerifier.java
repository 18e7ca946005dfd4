package io.genguard.provenance.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.provenance.CanonicalBase64;
import io.genguard.provenance.KeyEntries;
import io.genguard.provenance.text.LoneSurrogates;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Verifies a signed provenance manifest against the output it claims to describe: its text and its
 * tenant. VALID only if the signature is a valid Ed25519 signature by a known key over the exact
 * JSON bytes, the JSON is in canonical form, holds exactly the members of the {@value
 * ProvenanceManifest#FORMAT_V2} or the {@value ProvenanceManifest#FORMAT_V1} layout with values
 * read without loss (see {@link ProvenanceManifest#fromJsonTree}) and names that same key, the
 * SHA-256 of the text equals the manifest's and, for a v2 manifest, its {@code tenantId} is the
 * output's tenant. Any edit to the text or the manifest therefore yields INVALID, and a VALID
 * manifest re-serialises to exactly the signed bytes. A v2 manifest signed for another tenant is
 * INVALID with {@link ManifestVerification#signedForAnotherTenant()} set: a genuine output
 * re-published under another tenant. A v1 manifest names no tenant and verifies under any, as it
 * did before v2. The signature must be in canonical base64 ({@link CanonicalBase64}). A key id the
 * verifier does not know is INVALID with {@link ManifestVerification#keyUnknown()} set, so that
 * callers can tell a missing or removed key from an altered manifest. A key retired with a
 * not-after date ({@link VerificationKeyRing}) verifies only manifests whose signed {@code
 * generatedAt} is not later than that date; a later one is INVALID with {@link
 * ManifestVerification#signedAfterNotAfter()} set. A v1 manifest whose signed {@code generatedAt}
 * is later than the ring's v1 cut-off ({@link VerificationKeyRing#V1_NOT_AFTER_VARIABLE}) is
 * INVALID, the reason naming the layout. Thread-safe.
 */
public final class ManifestVerifier {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Longest tenant id quoted in a reason, in characters. */
  static final int MAX_QUOTED_CHARS = 64;

  private final VerificationKeyRing keys;

  public ManifestVerifier(VerificationKeyRing keys) {
    this.keys = keys;
  }

  /**
   * The status of an output's manifest: ABSENT when any of the three manifest fields is null.
   *
   * @param text the output text as it will be published
   * @param tenantId the tenant the output is published under, which a v2 manifest must name (a v1
   *     manifest names none)
   */
  public ManifestStatus verify(
      String text, String tenantId, String canonicalJson, String signature, String keyId) {
    return inspect(text, tenantId, canonicalJson, signature, keyId).status();
  }

  public ManifestStatus verify(String text, String tenantId, SignedProvenance manifest) {
    return manifest == null
        ? ManifestStatus.ABSENT
        : verify(text, tenantId, manifest.canonicalJson(), manifest.signature(), manifest.keyId());
  }

  /** Like {@link #verify} with the reason and, when the signature held, the parsed manifest. */
  public ManifestVerification inspect(
      String text, String tenantId, String canonicalJson, String signature, String keyId) {
    if (canonicalJson == null || signature == null || keyId == null) {
      return new ManifestVerification(
          ManifestStatus.ABSENT, "the output carries no manifest", null);
    }
    Optional<PublicKey> publicKey = keys.find(keyId);
    if (publicKey.isEmpty()) {
      return new ManifestVerification(ManifestStatus.INVALID, unknownKey(keyId), null, true);
    }
    if (LoneSurrogates.first(canonicalJson) >= 0) {
      // getBytes(UTF_8) would turn a lone surrogate into '?': another string, same signed bytes.
      return invalid("manifest JSON is not well-formed Unicode (lone surrogate)");
    }
    byte[] signatureBytes;
    try {
      // Only the signer's encoding: a lenient decoder would take up to 16 strings per signature.
      signatureBytes = CanonicalBase64.decode(signature);
    } catch (IllegalArgumentException e) {
      return invalid("signature is " + e.getMessage());
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
      // Throws for values canonical JSON cannot hold (1e400, integers beyond 2^53 that are no
      // double's canonical digits, surrogates).
      canonical = CanonicalJson.write(tree);
    } catch (JsonProcessingException e) {
      return invalid("manifest is not valid JSON: " + e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      return invalid("manifest JSON holds an unsupported value: " + e.getMessage());
    }
    ProvenanceManifest manifest;
    try {
      // Before the canonical-form check, so that 1e3 where an integer belongs is named as such.
      manifest = ProvenanceManifest.fromJsonTree(tree);
    } catch (IllegalArgumentException e) {
      return invalid(
          "manifest does not have the "
              + ProvenanceManifest.FORMAT_V2
              + " or the "
              + ProvenanceManifest.FORMAT_V1
              + " layout: "
              + e.getMessage());
    }
    if (!canonicalJson.equals(canonical)) {
      return invalid("manifest JSON is not in canonical form");
    }
    if (!manifest.toCanonicalJson().equals(canonicalJson)) {
      // Cannot happen while fromJsonTree reads every member strictly; kept so that a member added
      // to the layout but read loosely fails here instead of verifying what was not signed.
      return invalid("manifest JSON holds values that its parsed fields do not reproduce");
    }
    if (!manifest.signingKeyId().equals(keyId)) {
      return invalid(
          "manifest names signing key '"
              + manifest.signingKeyId()
              + "' but carries key id '"
              + keyId
              + "'");
    }
    Optional<Instant> notAfter = keys.notAfter(keyId);
    if (notAfter.isPresent() && manifest.generatedAt().isAfter(notAfter.get())) {
      return new ManifestVerification(
          ManifestStatus.INVALID,
          "signed with key '"
              + keyId
              + "' after its not-after date "
              + notAfter.get()
              + " (the manifest states it was generated at "
              + manifest.generatedAt()
              + "): the key was retired then, and nothing it signs later is trusted (a leaked"
              + " retired key, or a generator still signing with it)",
          null,
          false,
          true,
          false);
    }
    Optional<Instant> v1NotAfter = keys.v1NotAfter();
    if (manifest.tenantId() == null
        && v1NotAfter.isPresent()
        && manifest.generatedAt().isAfter(v1NotAfter.get())) {
      return new ManifestVerification(
          ManifestStatus.INVALID,
          "a "
              + ProvenanceManifest.FORMAT_V1
              + " manifest (it does not bind the output's tenant) stating it was generated at "
              + manifest.generatedAt()
              + ", after "
              + v1NotAfter.get()
              + " ("
              + VerificationKeyRing.V1_NOT_AFTER_VARIABLE
              + "): v1 manifests signed later are no longer trusted, generators sign "
              + ProvenanceManifest.FORMAT_V2,
          null,
          false,
          true,
          false);
    }
    if (text == null) {
      return invalid("there is no text to check the manifest against");
    }
    if (LoneSurrogates.first(text) >= 0) {
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
    if (manifest.tenantId() != null && !manifest.tenantId().equals(tenantId)) {
      if (tenantId == null) {
        return invalid("there is no tenant to check the manifest's tenant against");
      }
      return new ManifestVerification(
          ManifestStatus.INVALID,
          "the tenant does not match: the manifest was signed for tenant "
              + quote(manifest.tenantId())
              + ", the output is under tenant "
              + quote(tenantId)
              + " (a genuine output re-published under another tenant)",
          null,
          false,
          false,
          true);
    }
    return new ManifestVerification(
        ManifestStatus.VALID, "signature and text hash verified", manifest);
  }

  /**
   * Why a manifest under an unknown key id is INVALID: which id (an id no key can have is not
   * repeated, only its length), which ids are known, and what to configure if the key is ours.
   */
  private String unknownKey(String keyId) {
    String named =
        KeyEntries.isValidId(keyId)
            ? "key id '" + keyId + "'"
            : "a key id that no key can have (" + keyId.length() + " characters)";
    return "signed with "
        + named
        + ", which this verifier does not know (known: "
        // Sorted: the ring's own order differs from one JVM to the next, and verdicts quote this.
        + (keys.ids().isEmpty() ? "none" : new TreeSet<>(keys.ids()).toString())
        + "): a signing key not yet configured here, or one removed; if the generator signs with it,"
        + " add its public key to "
        + VerificationKeyRing.KEYS_VARIABLE
        + " (see the key rotation order in docs/OPERATIONS.md)";
  }

  /**
   * A tenant id in quotes for a reason, cut to {@value #MAX_QUOTED_CHARS} characters (saying how
   * long it was), lone surrogates replaced: the output's tenant id is whatever the topic carried.
   */
  static String quote(String value) {
    String repaired = LoneSurrogates.replaced(value);
    if (repaired.length() <= MAX_QUOTED_CHARS) {
      return "\"" + repaired + "\"";
    }
    int end = MAX_QUOTED_CHARS;
    if (Character.isHighSurrogate(repaired.charAt(end - 1))) {
      end--; // never split a surrogate pair
    }
    return "\"" + repaired.substring(0, end) + "...\" (" + repaired.length() + " characters)";
  }

  private static ManifestVerification invalid(String reason) {
    return new ManifestVerification(ManifestStatus.INVALID, reason, null);
  }

  /**
   * Jackson tree to plain values, numbers as Long (integral within +-2^53) or Double (any other,
   * whole numbers beyond +-2^53 included: see {@link #wholeDouble}), for re-canonicalising.
   */
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
      if (node.canConvertToLong()
          && node.longValue() >= -CanonicalJson.MAX_SAFE_INTEGER
          && node.longValue() <= CanonicalJson.MAX_SAFE_INTEGER) {
        return node.longValue();
      }
      return wholeDouble(node.bigIntegerValue());
    }
    if (node.isNumber()) {
      return node.doubleValue();
    }
    throw new IllegalArgumentException("unsupported JSON value: " + node.getNodeType());
  }

  /**
   * A number written without fraction or exponent beyond +-2^53 as the double it stands for. RFC
   * 8785 writes every double below 1e21 in plain digits, so a signer writes a temperature of 1e16
   * as {@code 10000000000000000}: a double, which {@link ProvenanceManifest#fromJsonTree} still
   * refuses where an integer belongs. Only the digits canonical JSON writes for that double are
   * taken: its shortest round-trip digits, which are its exact value for 1e16 or 1e20 but not for
   * 2^60 ({@code 1152921504606847000}, 24 more than 2^60), so reading back only exact values would
   * still refuse some signed manifests. Other digits, such as {@code 9007199254740993} (2^53 + 1,
   * which no double holds), are not canonical JSON and are refused here.
   *
   * @throws IllegalArgumentException for digits that are not the canonical form of a double
   */
  private static Double wholeDouble(BigInteger written) {
    double value = new BigDecimal(written).doubleValue();
    if (Double.isFinite(value) && CanonicalJson.formatNumber(value).equals(written.toString())) {
      return value;
    }
    throw new IllegalArgumentException(
        "integer "
            + written
            + " is outside +-2^53 and is not how canonical JSON writes any number (no double has"
            + " exactly these digits)");
  }
}
