package io.genguard.provenance.manifest;

import io.genguard.provenance.CanonicalBase64;
import io.genguard.provenance.KeyEntries;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Ed25519 public keys by key id, for verifying manifests. Environment: {@value
 * #KEYS_VARIABLE}{@code =id1:base64(32-byte public key),...}.
 *
 * <p>A manifest verification key may carry a not-after instant, {@code
 * id:base64:notAfter=2026-12-31T00:00:00Z} ({@link KeyEntries}): a retired signing key. {@link
 * ManifestVerifier} then calls a manifest under it INVALID when the time it signed ({@code
 * generatedAt}) is later; manifests signed up to that instant stay VALID. Whoever holds the seed
 * writes that time, so it catches a generator still signing with the retired key, not a holder of a
 * leaked seed who writes an earlier time. Other users of the ring ({@link #verifies}, the audit
 * anchors) parse it without not-after dates ({@link #parse(String, String)}).
 */
public final class VerificationKeyRing {
  public static final String KEYS_VARIABLE = "GENGUARD_VERIFICATION_KEYS";

  /**
   * Ids of signing keys no verifier trusts, comma-separated, whatever {@link #KEYS_VARIABLE} or a
   * {@code verification-keys} file lists: a compromised key stays refused even where a copy of an
   * old key file still holds it (since the forty-first session).
   */
  public static final String REVOKED_VARIABLE = "GENGUARD_REVOKED_SIGNING_KEYS";

  /**
   * An ISO-8601 instant after which a {@value ProvenanceManifest#FORMAT_V1} manifest, which does
   * not bind the output's tenant, is no longer trusted: one whose signed {@code generatedAt} is
   * later is INVALID (since the forty-third session). Unset: v1 manifests verify as before. Set it
   * once every generator signs {@value ProvenanceManifest#FORMAT_V2}; a time before any output
   * refuses every v1 manifest.
   */
  public static final String V1_NOT_AFTER_VARIABLE = "GENGUARD_PROVENANCE_V1_NOT_AFTER";

  /** DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410); the raw key follows. */
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final Map<String, PublicKey> keys;
  private final Map<String, Instant> notAfter;
  private final Instant v1NotAfter;

  public VerificationKeyRing(Map<String, PublicKey> keys) {
    this(keys, Map.of());
  }

  /**
   * @param notAfter for some of the keys' ids, the instant after which that key signs nothing
   *     trusted
   */
  public VerificationKeyRing(Map<String, PublicKey> keys, Map<String, Instant> notAfter) {
    this(keys, notAfter, null);
  }

  private VerificationKeyRing(
      Map<String, PublicKey> keys, Map<String, Instant> notAfter, Instant v1NotAfter) {
    for (String id : notAfter.keySet()) {
      if (!keys.containsKey(id)) {
        throw new IllegalArgumentException(
            "A not-after date is given for verification key id '" + id + "', which is not a key");
      }
    }
    this.keys = Map.copyOf(new LinkedHashMap<>(keys));
    this.notAfter = Map.copyOf(notAfter);
    this.v1NotAfter = v1NotAfter;
  }

  /**
   * This ring, trusting a {@value ProvenanceManifest#FORMAT_V1} manifest only when it states it was
   * generated at or before {@code instant} ({@link #V1_NOT_AFTER_VARIABLE}); null: any v1 manifest.
   */
  public VerificationKeyRing withV1NotAfter(Instant instant) {
    return new VerificationKeyRing(keys, notAfter, instant);
  }

  /** The instant after which a v1 manifest is not trusted, if there is one. */
  public Optional<Instant> v1NotAfter() {
    return Optional.ofNullable(v1NotAfter);
  }

  /**
   * The instant of {@link #V1_NOT_AFTER_VARIABLE}, or null when it is unset or blank.
   *
   * @throws IllegalArgumentException when it is not an ISO-8601 instant, naming the variable
   */
  public static Instant v1NotAfterFromEnvironment(Map<String, String> environment) {
    String value = environment.get(V1_NOT_AFTER_VARIABLE);
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(value.strip());
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(
          V1_NOT_AFTER_VARIABLE
              + "='"
              + value
              + "' is not an ISO-8601 instant such as 2026-12-31T00:00:00Z",
          e);
    }
  }

  /**
   * Parses {@code id:base64} entries of raw 32-byte Ed25519 public keys, refusing a not-after date.
   */
  public static VerificationKeyRing parse(String entries, String what) {
    return parse(entries, what, false);
  }

  /**
   * Parses {@code id:base64} entries of raw 32-byte Ed25519 public keys, each followed by {@code
   * :notAfter=INSTANT} where {@code notAfterAllowed} (manifest verification keys).
   */
  public static VerificationKeyRing parse(String entries, String what, boolean notAfterAllowed) {
    Map<String, PublicKey> keys = new LinkedHashMap<>();
    Map<String, Instant> notAfter = new LinkedHashMap<>();
    for (KeyEntries.Entry entry : KeyEntries.parse(entries, what, notAfterAllowed)) {
      keys.put(entry.id(), publicKeyFromRaw(entry.id(), entry.bytes()));
      if (entry.notAfter() != null) {
        notAfter.put(entry.id(), entry.notAfter());
      }
    }
    return new VerificationKeyRing(keys, notAfter);
  }

  /** The ring from {@value #KEYS_VARIABLE}, if set; its entries may carry a not-after date. */
  public static Optional<VerificationKeyRing> fromEnvironment(Map<String, String> environment) {
    String entries = environment.get(KEYS_VARIABLE);
    if (entries == null || entries.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(parse(entries, KEYS_VARIABLE, true));
  }

  /**
   * Both rings' keys; on a shared id the keys must be equal, and the earlier not-after date of the
   * two applies (one given in either ring applies), as for the v1 cut-off.
   */
  public VerificationKeyRing with(VerificationKeyRing other) {
    Map<String, PublicKey> merged = new LinkedHashMap<>(keys);
    other.keys.forEach(
        (id, key) -> {
          PublicKey existing = merged.putIfAbsent(id, key);
          if (existing != null && !Arrays.equals(existing.getEncoded(), key.getEncoded())) {
            throw new IllegalArgumentException(
                "Verification key id '" + id + "' is configured twice with different public keys");
          }
        });
    Map<String, Instant> mergedNotAfter = new LinkedHashMap<>(notAfter);
    other.notAfter.forEach(
        (id, instant) -> mergedNotAfter.merge(id, instant, (a, b) -> a.isBefore(b) ? a : b));
    Instant v1 =
        v1NotAfter == null || other.v1NotAfter == null
            ? (v1NotAfter == null ? other.v1NotAfter : v1NotAfter)
            : (v1NotAfter.isBefore(other.v1NotAfter) ? v1NotAfter : other.v1NotAfter);
    return new VerificationKeyRing(merged, mergedNotAfter, v1);
  }

  /** This ring without the keys of {@code ids} (those it holds; the others are ignored). */
  public VerificationKeyRing without(Set<String> ids) {
    Map<String, PublicKey> kept = new LinkedHashMap<>(keys);
    Map<String, Instant> keptNotAfter = new LinkedHashMap<>(notAfter);
    kept.keySet().removeAll(ids);
    keptNotAfter.keySet().removeAll(ids);
    return new VerificationKeyRing(kept, keptNotAfter, v1NotAfter);
  }

  /**
   * Whether {@code signatureBase64} is an Ed25519 signature of {@code message} by the key {@code
   * keyId}, in canonical base64 ({@link CanonicalBase64}); false for an unknown key or a malformed
   * signature. Not-after dates do not apply here (the message has no time this ring could read).
   */
  public boolean verifies(String keyId, byte[] message, String signatureBase64) {
    PublicKey key = keyId == null ? null : keys.get(keyId);
    if (key == null || signatureBase64 == null) {
      return false;
    }
    byte[] signature;
    try {
      signature = CanonicalBase64.decode(signatureBase64);
    } catch (IllegalArgumentException e) {
      return false;
    }
    return signatureValid(key, message, signature);
  }

  /** Whether {@code signature} is an Ed25519 signature of {@code message} by {@code key}. */
  static boolean signatureValid(PublicKey key, byte[] message, byte[] signature) {
    try {
      java.security.Signature verifier = java.security.Signature.getInstance("Ed25519");
      verifier.initVerify(key);
      verifier.update(message);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      // Malformed signatures surface as SignatureException: not valid.
      return false;
    }
  }

  public Optional<PublicKey> find(String keyId) {
    return Optional.ofNullable(keyId == null ? null : keys.get(keyId));
  }

  public Set<String> ids() {
    return keys.keySet();
  }

  /** The instant after which the key {@code keyId} signs nothing trusted, if it has one. */
  public Optional<Instant> notAfter(String keyId) {
    return Optional.ofNullable(keyId == null ? null : notAfter.get(keyId));
  }

  /**
   * Entries in the form {@link #parse} reads (public keys only, safe to share), with their
   * not-after dates.
   */
  public String toConfigEntries() {
    StringBuilder out = new StringBuilder();
    keys.forEach(
        (id, key) -> {
          out.append(id).append(':').append(Base64.getEncoder().encodeToString(rawPublicKey(key)));
          if (notAfter.containsKey(id)) {
            out.append(':').append(KeyEntries.NOT_AFTER).append(notAfter.get(id));
          }
          out.append('\n');
        });
    return out.toString();
  }

  @Override
  public String toString() {
    return "VerificationKeyRing[ids="
        + keys.keySet()
        + (notAfter.isEmpty() ? "" : ", notAfter=" + new TreeMap<>(notAfter))
        + (v1NotAfter == null ? "" : ", v1NotAfter=" + v1NotAfter)
        + "]";
  }

  static PublicKey publicKeyFromRaw(String id, byte[] raw) {
    if (raw.length != 32) {
      throw new IllegalArgumentException(
          "Verification key '"
              + id
              + "' has "
              + raw.length
              + " bytes; an Ed25519 public key has 32");
    }
    String problem = Ed25519Points.problem(raw);
    if (problem != null) {
      throw new IllegalArgumentException(
          "Verification key '" + id + "' is not a usable Ed25519 public key: " + problem);
    }
    byte[] encoded = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + raw.length);
    System.arraycopy(raw, 0, encoded, X509_PREFIX.length, raw.length);
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "Verification key '" + id + "' is not a valid Ed25519 public key", e);
    }
  }

  static byte[] rawPublicKey(PublicKey key) {
    byte[] encoded = key.getEncoded();
    return Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length);
  }
}
