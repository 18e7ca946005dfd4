package io.genguard.provenance.manifest;

/**
 * The verdict on one manifest and why.
 *
 * @param manifest the parsed manifest when the signature held, else null
 * @param keyUnknown true when the manifest is INVALID only because this verifier holds no public
 *     key of the id it carries: a key not configured here yet (a rotation out of order), one
 *     removed (compromised), or an id made up by a forger. Nothing the manifest states is trusted,
 *     but it is not evidence that the text was altered either.
 */
public record ManifestVerification(
    ManifestStatus status, String reason, ProvenanceManifest manifest, boolean keyUnknown) {
  /** A verdict whose key was known (or that carries no manifest). */
  public ManifestVerification(ManifestStatus status, String reason, ProvenanceManifest manifest) {
    this(status, reason, manifest, false);
  }
}
