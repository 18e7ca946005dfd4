package io.genguard.provenance.manifest;

/** Whether an output's provenance manifest holds up. */
public enum ManifestStatus {
  /** Signed by a known key, unmodified, and about exactly this text. */
  VALID,
  /** Present but not trustworthy: tampered text or manifest, unknown or wrong key, malformed. */
  INVALID,
  /** The output carries no manifest. */
  ABSENT
}
