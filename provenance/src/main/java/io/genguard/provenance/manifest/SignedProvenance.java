package io.genguard.provenance.manifest;

/**
 * A manifest as it travels: its canonical JSON, the base64 Ed25519 signature over the JSON's UTF-8
 * bytes, and the id of the signing key (the Avro {@code SignedManifest} carries the same three).
 */
public record SignedProvenance(String canonicalJson, String signature, String keyId) {}
