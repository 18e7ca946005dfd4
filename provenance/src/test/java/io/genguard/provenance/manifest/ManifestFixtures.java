package io.genguard.provenance.manifest;

import java.time.Instant;
import java.util.Arrays;

/** Named keys and a manifest for a known text, with a fixed clock. */
final class ManifestFixtures {
  static final Instant GENERATED_AT = Instant.parse("2025-03-01T12:00:00.123Z");
  static final String TEXT = "The Commission has taken note of the vote. I thank the rapporteur.";
  static final String TENANT = "tenant-a";

  static final SigningKey KEY_2024 = SigningKey.fromSeed("sign-2024", seed('a'));
  static final SigningKey KEY_2025 = SigningKey.fromSeed("sign-2025", seed('b'));

  private ManifestFixtures() {}

  /** A {@value ProvenanceManifest#FORMAT_V2} manifest for {@link #TENANT}, as generators sign. */
  static ProvenanceManifest manifestFor(String text, String signingKeyId) {
    return manifestFor(text, TENANT, signingKeyId);
  }

  /** The same manifest in the {@value ProvenanceManifest#FORMAT_V1} layout, without a tenant. */
  static ProvenanceManifest manifestV1For(String text, String signingKeyId) {
    return manifestFor(text, null, signingKeyId);
  }

  private static ProvenanceManifest manifestFor(String text, String tenantId, String signingKeyId) {
    return new ProvenanceManifest(
        "req-1",
        "out-1",
        tenantId,
        ProvenanceManifest.sha256Hex(text),
        "europarl-kn3",
        "1.0.0",
        "builtin",
        new ProvenanceManifest.Sampling(64, 0.7, 40, 0.95, -1234567890123456789L),
        GENERATED_AT,
        new ProvenanceManifest.Watermark("kgw-hmac-sha256-word-v1", "wm-1", 0.25, 2.0, 1),
        signingKeyId);
  }

  static byte[] seed(char fill) {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) fill);
    return seed;
  }
}
