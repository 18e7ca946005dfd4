package io.genguard.provenance.manifest;

/**
 * The verdict on one manifest and why.
 *
 * @param manifest the parsed manifest when the signature held, else null
 * @param keyUnknown true when the manifest is INVALID only because this verifier holds no public
 *     key of the id it carries: a key not configured here yet (a rotation out of order), one
 *     removed (compromised), or an id made up by a forger. Nothing the manifest states is trusted,
 *     but it is not evidence that the text was altered either.
 * @param signedAfterNotAfter true when the manifest is INVALID because it states a time after its
 *     key's not-after date ({@link VerificationKeyRing}): signed by a retired key, whose reason
 *     names the key and both instants; or a {@value ProvenanceManifest#FORMAT_V1} manifest stating
 *     a time after the v1 cut-off ({@link VerificationKeyRing#V1_NOT_AFTER_VARIABLE}), whose reason
 *     names the layout and both instants
 * @param signedForAnotherTenant true when the manifest is INVALID only because it is a {@value
 *     ProvenanceManifest#FORMAT_V2} manifest signed for another tenant than the output's: a genuine
 *     output re-published under another tenant, whose reason names both tenants
 */
public record ManifestVerification(
    ManifestStatus status,
    String reason,
    ProvenanceManifest manifest,
    boolean keyUnknown,
    boolean signedAfterNotAfter,
    boolean signedForAnotherTenant) {
  /** A verdict whose key was known (or that carries no manifest). */
  public ManifestVerification(ManifestStatus status, String reason, ProvenanceManifest manifest) {
    this(status, reason, manifest, false, false, false);
  }

  /** A verdict whose key was known and in force, or not known ({@code keyUnknown}). */
  public ManifestVerification(
      ManifestStatus status, String reason, ProvenanceManifest manifest, boolean keyUnknown) {
    this(status, reason, manifest, keyUnknown, false, false);
  }
}
