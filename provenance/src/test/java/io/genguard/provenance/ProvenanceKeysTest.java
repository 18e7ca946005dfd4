package io.genguard.provenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.provenance.manifest.ManifestSigner;
import io.genguard.provenance.manifest.ManifestStatus;
import io.genguard.provenance.manifest.ManifestVerifier;
import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.provenance.manifest.SignedProvenance;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceKeysTest {
  private static final String SECRET_A = Base64.getEncoder().encodeToString(new byte[32]);
  private static final String SECRET_B =
      Base64.getEncoder().encodeToString("another-thirty-two-byte-secret!!".getBytes());

  @TempDir Path keyDirectory;

  @Test
  void shouldReadKeyRingsFromTheEnvironment() {
    Map<String, String> environment =
        Map.of(
            "GENGUARD_WATERMARK_KEYS",
            "old:" + SECRET_A + ", new:" + SECRET_B,
            "GENGUARD_SIGNING_KEYS",
            SigningKey.generate("s1").toConfigEntry());

    ProvenanceKeys keys = ProvenanceKeys.fromEnvironmentOrDirectory(environment, keyDirectory);

    assertThat(keys.watermark().ids()).containsExactly("old", "new");
    assertThat(keys.watermark().active().id()).as("the last listed key embeds").isEqualTo("new");
    assertThat(keys.signing().active().id()).isEqualTo("s1");
    assertThat(keys.verification().ids()).containsExactly("s1");
    assertThat(keyDirectory).isEmptyDirectory();
  }

  @Test
  void shouldHonourAnExplicitActiveKey() {
    WatermarkKeyRing ring =
        WatermarkKeyRing.fromEnvironment(
                Map.of(
                    "GENGUARD_WATERMARK_KEYS",
                    "old:" + SECRET_A + ",new:" + SECRET_B,
                    "GENGUARD_WATERMARK_ACTIVE_KEY",
                    "old"))
            .orElseThrow();

    assertThat(ring.active().id()).isEqualTo("old");
  }

  @Test
  void shouldCreateKeyFilesOnceAndReuseThem() throws Exception {
    ProvenanceKeys first = ProvenanceKeys.loadOrCreate(keyDirectory);
    ProvenanceKeys second = ProvenanceKeys.loadOrCreate(keyDirectory);

    assertThat(second.watermark().active()).isEqualTo(first.watermark().active());
    SignedProvenance signed =
        new ManifestSigner(first.signing())
            .sign(
                new ProvenanceManifest(
                    "r",
                    "o",
                    ProvenanceManifest.sha256Hex("t"),
                    "m",
                    "1",
                    "builtin",
                    new ProvenanceManifest.Sampling(1, 1.0, 0, 1.0, null),
                    Instant.EPOCH,
                    null,
                    first.signing().active().id()));
    assertThat(new ManifestVerifier(second.verification()).verify("t", signed))
        .isEqualTo(ManifestStatus.VALID);
    assertThat(Files.getPosixFilePermissions(keyDirectory.resolve(ProvenanceKeys.SIGNING_FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
  }

  @Test
  void shouldAddConfiguredVerificationKeysToTheOwnSigningKeys() {
    SigningKey partner = SigningKey.generate("partner");

    ProvenanceKeys keys =
        ProvenanceKeys.fromEnvironmentOrDirectory(
            Map.of("GENGUARD_VERIFICATION_KEYS", "partner:" + partner.publicKeyBase64()),
            keyDirectory);

    assertThat(keys.verification().ids()).contains("partner", keys.signing().active().id());
  }

  @Test
  void shouldNeverPrintKeyMaterial() {
    ProvenanceKeys keys =
        ProvenanceKeys.fromEnvironmentOrDirectory(
            Map.of("GENGUARD_WATERMARK_KEYS", "k1:" + SECRET_B), keyDirectory);

    assertThat(keys.toString()).contains("k1").doesNotContain(SECRET_B);
    assertThat(keys.signing().active().toString())
        .doesNotContain(keys.signing().active().toConfigEntry().split(":")[1]);
  }

  @Test
  void shouldExplainBadKeyConfiguration() {
    assertThatThrownBy(() -> WatermarkKeyRing.parse("nocolon", null, "GENGUARD_WATERMARK_KEYS"))
        .hasMessageContaining("GENGUARD_WATERMARK_KEYS entry 1 has no key id");
    assertThatThrownBy(() -> WatermarkKeyRing.parse("k:%%%", null, "GENGUARD_WATERMARK_KEYS"))
        .hasMessageContaining("key id 'k' is not valid base64");
    assertThatThrownBy(() -> WatermarkKeyRing.parse("k:AAAA", null, "GENGUARD_WATERMARK_KEYS"))
        .hasMessageContaining("at least 16 are required");
    assertThatThrownBy(() -> WatermarkKeyRing.parse("k:" + SECRET_A, "other", "X"))
        .hasMessageContaining("Active watermark key id 'other' is not among the keys [k]");
    assertThatThrownBy(() -> WatermarkKeyRing.parse("k:" + SECRET_A + ",k:" + SECRET_B, null, "X"))
        .hasMessageContaining("lists key id 'k' twice");
    assertThatThrownBy(() -> new WatermarkKey("bad id!", new byte[32]))
        .hasMessageContaining("id 'bad id!' is not valid");
  }

  @Test
  void shouldRefuseSecretKeyFilesThatGroupOrOthersCanWrite() throws Exception {
    ProvenanceKeys.loadOrCreate(keyDirectory);
    Path signingFile = keyDirectory.resolve(ProvenanceKeys.SIGNING_FILE);
    Path watermarkFile = keyDirectory.resolve(ProvenanceKeys.WATERMARK_FILE);
    Path anchorFile = keyDirectory.resolve("anchor-signing-keys");
    ProvenanceKeys.signingKeysAt(anchorFile, "anchor-1");

    Files.setPosixFilePermissions(signingFile, PosixFilePermissions.fromString("rw--w----"));
    assertThatThrownBy(() -> ProvenanceKeys.loadOrCreate(keyDirectory))
        .hasMessageContaining(signingFile.toString())
        .hasMessageContaining("rw--w----")
        .hasMessageContaining("chmod 600");

    Files.setPosixFilePermissions(signingFile, PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(watermarkFile, PosixFilePermissions.fromString("rw-r--rw-"));
    assertThatThrownBy(() -> ProvenanceKeys.loadOrCreate(keyDirectory))
        .hasMessageContaining(watermarkFile.toString())
        .hasMessageContaining("rw-r--rw-");

    Files.setPosixFilePermissions(anchorFile, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThatThrownBy(() -> ProvenanceKeys.signingKeysAt(anchorFile, "anchor-1"))
        .hasMessageContaining(anchorFile.toString())
        .hasMessageContaining("rw-rw-rw-");
  }

  @Test
  void shouldLoadSecretKeyFilesOthersCanOnlyReadAsMountedSecretsAre() throws Exception {
    ProvenanceKeys created = ProvenanceKeys.loadOrCreate(keyDirectory);
    for (String file : new String[] {ProvenanceKeys.SIGNING_FILE, ProvenanceKeys.WATERMARK_FILE}) {
      // Docker secrets are mounted 0444, Kubernetes secret volumes 0644 by default.
      Files.setPosixFilePermissions(
          keyDirectory.resolve(file), PosixFilePermissions.fromString("r--r--r--"));
    }

    ProvenanceKeys loaded = ProvenanceKeys.loadOrCreate(keyDirectory);

    assertThat(loaded.signing().active().id()).isEqualTo(created.signing().active().id());
    assertThat(loaded.watermark().active()).isEqualTo(created.watermark().active());
  }
}
