package io.genguard.provenance.manifest;

import java.nio.charset.StandardCharsets;

/** Signs provenance manifests with the active key of a {@link SigningKeyRing}. Thread-safe. */
public final class ManifestSigner {
  private final SigningKeyRing keys;

  public ManifestSigner(SigningKeyRing keys) {
    this.keys = keys;
  }

  /** The id the next manifest must name in {@link ProvenanceManifest#signingKeyId()}. */
  public String activeKeyId() {
    return keys.active().id();
  }

  /**
   * Canonicalises and signs the manifest.
   *
   * @throws IllegalArgumentException if the manifest names another signing key than the active one
   */
  public SignedProvenance sign(ProvenanceManifest manifest) {
    SigningKey key = keys.active();
    if (!manifest.signingKeyId().equals(key.id())) {
      throw new IllegalArgumentException(
          "Manifest names signing key '"
              + manifest.signingKeyId()
              + "' but the active signing key is '"
              + key.id()
              + "'");
    }
    String json = manifest.toCanonicalJson();
    return new SignedProvenance(json, key.sign(json.getBytes(StandardCharsets.UTF_8)), key.id());
  }
}
