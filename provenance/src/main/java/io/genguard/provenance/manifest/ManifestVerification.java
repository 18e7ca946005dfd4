package io.genguard.provenance.manifest;

/**
 * The verdict on one manifest and why.
 *
 * @param manifest the parsed manifest when the signature held, else null
 */
public record ManifestVerification(
    ManifestStatus status, String reason, ProvenanceManifest manifest) {}
