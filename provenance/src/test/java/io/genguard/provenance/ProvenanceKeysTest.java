package io.genguard.provenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.genguard.provenance.manifest.ManifestSigner;
import io.genguard.provenance.manifest.ManifestStatus;
import io.genguard.provenance.manifest.ManifestVerification;
import io.genguard.provenance.manifest.ManifestVerifier;
import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.provenance.manifest.SignedProvenance;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.provenance.watermark.WatermarkKey;
import io.genguard.provenance.watermark.WatermarkKeyRing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceKeysTest {
  private static final String TENANT = "tenant-a";

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
                    TENANT,
                    ProvenanceManifest.sha256Hex("t"),
                    "m",
                    "1",
                    "builtin",
                    new ProvenanceManifest.Sampling(1, 1.0, 0, 1.0, null),
                    Instant.EPOCH,
                    null,
                    first.signing().active().id()));
    assertThat(new ManifestVerifier(second.verification()).verify("t", TENANT, signed))
        .isEqualTo(ManifestStatus.VALID);
    assertThat(Files.getPosixFilePermissions(keyDirectory.resolve(ProvenanceKeys.SIGNING_FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
  }

  /**
   * A start killed while it created the key files leaves a temporary one (keys in it); the next
   * start that creates that file removes it, and creates each key file owner-only, leaving nothing
   * else. Before the forty-fifth session such a {@code signing-keys<random>.new} stayed for good.
   */
  @Test
  void shouldRemoveATemporaryKeyFileAKilledStartLeftAndCreateTheKeyFilesOwnerOnly()
      throws Exception {
    Path left = keyDirectory.resolve("." + ProvenanceKeys.SIGNING_FILE + ".4194303-5eed.partial");
    Files.writeString(left, "sign-local-1:" + SECRET_A + "\n");
    Files.setLastModifiedTime(left, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

    ProvenanceKeys keys = ProvenanceKeys.loadOrCreate(keyDirectory);
    keys.publishVerificationKeys(keyDirectory);

    assertThat(left).as("left by the killed start, no writer holds it").doesNotExist();
    assertThat(keys.signing().active().id()).isEqualTo("sign-local-1");
    try (var files = Files.list(keyDirectory)) {
      assertThat(files.map(file -> file.getFileName().toString()))
          .containsExactlyInAnyOrder(
              ProvenanceKeys.SIGNING_FILE,
              ProvenanceKeys.WATERMARK_FILE,
              ProvenanceKeys.VERIFICATION_FILE);
    }
    for (String file :
        new String[] {
          ProvenanceKeys.SIGNING_FILE,
          ProvenanceKeys.WATERMARK_FILE,
          ProvenanceKeys.VERIFICATION_FILE
        }) {
      assertThat(Files.getPosixFilePermissions(keyDirectory.resolve(file)))
          .as(file)
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }
    assertThat(ProvenanceKeys.loadOrCreate(keyDirectory).verification().toConfigEntries())
        .as("created once")
        .isEqualTo(keys.verification().toConfigEntries());
  }

  /**
   * The forty-fourth session's temporary key files ({@code FILE<digits>.new}, from {@code
   * Files.createTempFile}) that a killed start left: the next start removes those over a minute old
   * (open in no process), even when the key files exist already; a young one and names that only
   * look like them stay. Before, they stayed for good, keys in them.
   */
  @Test
  void shouldRemoveTheTemporaryKeyFilesOfAnEarlierVersionThatAreOverAMinuteOld() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux: /proc shows what is open");
    ProvenanceKeys keys = ProvenanceKeys.loadOrCreate(keyDirectory);
    keys.publishVerificationKeys(keyDirectory);
    FileTime anHourAgo = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
    List<String> left =
        List.of(
            ProvenanceKeys.SIGNING_FILE + "1234567890.new",
            ProvenanceKeys.WATERMARK_FILE + "18446744073709551615.new",
            ProvenanceKeys.VERIFICATION_FILE + "42.new");
    List<String> kept =
        List.of(
            ProvenanceKeys.SIGNING_FILE + "12a.new",
            ProvenanceKeys.SIGNING_FILE + ".new",
            "other-keys1.new",
            ProvenanceKeys.SIGNING_FILE + "1.new.bak");
    for (String name : concat(left, kept)) {
      Files.writeString(keyDirectory.resolve(name), "sign-local-1:" + SECRET_A + "\n");
      Files.setLastModifiedTime(keyDirectory.resolve(name), anHourAgo);
    }
    String young = ProvenanceKeys.SIGNING_FILE + "43.new";
    Files.writeString(keyDirectory.resolve(young), "sign-local-1:" + SECRET_A + "\n");

    ProvenanceKeys again = ProvenanceKeys.loadOrCreate(keyDirectory);
    again.publishVerificationKeys(keyDirectory);

    assertThat(again.verification().toConfigEntries())
        .isEqualTo(keys.verification().toConfigEntries());
    try (var files = Files.list(keyDirectory)) {
      assertThat(files.map(file -> file.getFileName().toString()))
          .containsExactlyInAnyOrderElementsOf(
              concat(
                  kept,
                  List.of(
                      young,
                      ProvenanceKeys.SIGNING_FILE,
                      ProvenanceKeys.WATERMARK_FILE,
                      ProvenanceKeys.VERIFICATION_FILE)));
    }
  }

  private static List<String> concat(List<String> first, List<String> second) {
    List<String> all = new ArrayList<>(first);
    all.addAll(second);
    return all;
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
  void shouldTakeTheV1CutOffFromTheEnvironmentAndSaySo() {
    Map<String, String> environment =
        Map.of("GENGUARD_PROVENANCE_V1_NOT_AFTER", "2026-12-06T00:00:00Z");

    assertThat(ProvenanceKeys.forVerifier(environment, keyDirectory).verification().v1NotAfter())
        .contains(java.time.Instant.parse("2026-12-06T00:00:00Z"));
    assertThat(ProvenanceKeys.forVerifier(Map.of(), keyDirectory).verification().v1NotAfter())
        .as("unset: v1 manifests verify as before")
        .isEmpty();
    assertThat(ProvenanceKeys.describeVerifierTrust(environment, keyDirectory))
        .contains(
            "genguard.provenance.v1 manifests only if generated at or before"
                + " 2026-12-06T00:00:00Z (GENGUARD_PROVENANCE_V1_NOT_AFTER)");
    assertThatThrownBy(
            () ->
                ProvenanceKeys.forVerifier(
                    Map.of("GENGUARD_PROVENANCE_V1_NOT_AFTER", "next week"), keyDirectory))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_PROVENANCE_V1_NOT_AFTER='next week' is not an ISO-8601");
  }

  @Test
  void shouldNeitherCreateNorTrustASigningKeyInAVerifier() throws Exception {
    // A key directory holding a signing-keys file: what a verifier's directory held when verifiers
    // made a signing key of their own, or one a signer shares.
    ProvenanceKeys signer = ProvenanceKeys.loadOrCreate(keyDirectory);
    SigningKeyRing fromFile =
        SigningKeyRing.parse(
            Files.readString(keyDirectory.resolve(ProvenanceKeys.SIGNING_FILE)), null, "file");
    SigningKey partner = SigningKey.generate("partner");

    ProvenanceKeys verifier =
        ProvenanceKeys.forVerifier(
            Map.of(
                "GENGUARD_SIGNING_KEYS",
                SigningKey.generate("env-signer").toConfigEntry(),
                "GENGUARD_VERIFICATION_KEYS",
                "partner:" + partner.publicKeyBase64()),
            keyDirectory);

    assertThat(verifier.signing()).isNull();
    assertThat(verifier.verification().ids()).containsExactly("partner");
    assertThat(verifier.watermark().active()).isEqualTo(signer.watermark().active());
    ManifestVerification forged =
        verify(verifier, signedWith(fromFile), "the seed read from " + ProvenanceKeys.SIGNING_FILE);
    assertThat(forged.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(forged.keyUnknown()).isTrue();
    assertThat(verify(verifier, signedWith(SigningKeyRing.of(partner)), "partner").status())
        .isEqualTo(ManifestStatus.VALID);

    Path empty = keyDirectory.resolve("verifier-only");
    ProvenanceKeys fresh = ProvenanceKeys.forVerifier(Map.of(), empty);
    assertThat(fresh.verification().ids()).isEmpty();
    assertThat(empty.resolve(ProvenanceKeys.SIGNING_FILE)).doesNotExist();
    assertThatThrownBy(() -> fresh.publishVerificationKeys(empty))
        .hasMessageContaining("no signing keys to publish");
  }

  @Test
  void shouldHoldNoWatermarkKeyInAVerifierWithoutOneConfiguredAndCreateNoKeyFile() {
    // A TaskManager or audit service started without GENGUARD_WATERMARK_KEYS on an empty key
    // directory: it used to write a random watermark key there and call every output NOT_DETECTED
    // under a key no generator uses.
    Path directory = keyDirectory.resolve("verifier-only");
    ProvenanceKeys verifier = ProvenanceKeys.forVerifier(Map.of(), directory);

    assertThat(directory.resolve(ProvenanceKeys.WATERMARK_FILE)).doesNotExist();
    assertThat(directory).doesNotExist();
    assertThat(verifier.watermark().isEmpty()).isTrue();
    assertThat(verifier.watermark().ids()).isEmpty();
    assertThat(verifier.watermark().notConfigured())
        .hasValue(
            "GENGUARD_WATERMARK_KEYS is not set and "
                + directory.resolve(ProvenanceKeys.WATERMARK_FILE).toAbsolutePath()
                + " does not exist; give this verifier the generators' watermark keys there");
    assertThatThrownBy(() -> verifier.watermark().active())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("GENGUARD_WATERMARK_KEYS is not set");
    // The environment's keys, or the file a signer writes (the embedded stack loads its signer's
    // keys first), are read as before; a signer still creates its keys.
    ProvenanceKeys fromEnvironment =
        ProvenanceKeys.forVerifier(Map.of("GENGUARD_WATERMARK_KEYS", "k1:" + SECRET_B), directory);
    assertThat(fromEnvironment.watermark().ids()).containsExactly("k1");
    assertThat(directory).doesNotExist();
    ProvenanceKeys created = ProvenanceKeys.loadOrCreate(directory);
    assertThat(directory.resolve(ProvenanceKeys.WATERMARK_FILE)).exists();
    assertThat(ProvenanceKeys.forVerifier(Map.of(), directory).watermark().active())
        .isEqualTo(created.watermark().active());
  }

  @Test
  void shouldReadANotAfterDateOnAVerificationKeyFromTheEnvironmentOrTheFile() throws Exception {
    SigningKey old = SigningKey.generate("sign-old");
    SigningKey current = SigningKey.generate("sign-new");
    String retired = "sign-old:" + old.publicKeyBase64() + ":notAfter=2026-12-31T00:00:00Z";

    ProvenanceKeys verifier =
        ProvenanceKeys.forVerifier(
            Map.of(
                "GENGUARD_VERIFICATION_KEYS", retired + ", sign-new:" + current.publicKeyBase64()),
            keyDirectory);

    assertThat(verifier.verification().ids()).containsExactlyInAnyOrder("sign-old", "sign-new");
    assertThat(verifier.verification().notAfter("sign-old"))
        .hasValue(Instant.parse("2026-12-31T00:00:00Z"));
    assertThat(verifier.verification().notAfter("sign-new")).isEmpty();
    assertThat(verifier.verification().toConfigEntries()).contains(retired + "\n");
    assertThat(verifier.verification().toString())
        .contains("notAfter={sign-old=2026-12-31T00:00:00Z}");

    // The old form stays valid; a date in the file and none in the variable: the date applies,
    // and of two dates the earlier.
    Path file = keyDirectory.resolve(ProvenanceKeys.VERIFICATION_FILE);
    Files.writeString(file, retired + "\n");
    ProvenanceKeys both =
        ProvenanceKeys.forVerifier(
            Map.of("GENGUARD_VERIFICATION_KEYS", "sign-old:" + old.publicKeyBase64()),
            keyDirectory);
    assertThat(both.verification().notAfter("sign-old"))
        .hasValue(Instant.parse("2026-12-31T00:00:00Z"));
    ProvenanceKeys earlier =
        ProvenanceKeys.forVerifier(
            Map.of(
                "GENGUARD_VERIFICATION_KEYS",
                "sign-old:" + old.publicKeyBase64() + ":notAfter=2026-06-30T12:00:00Z"),
            keyDirectory);
    assertThat(earlier.verification().notAfter("sign-old"))
        .hasValue(Instant.parse("2026-06-30T12:00:00Z"));
    // A signer adds the configured date to its own key's public half.
    ProvenanceKeys signer =
        ProvenanceKeys.fromEnvironmentOrDirectory(
            Map.of(
                "GENGUARD_SIGNING_KEYS",
                old.toConfigEntry(),
                "GENGUARD_VERIFICATION_KEYS",
                retired),
            keyDirectory);
    assertThat(signer.verification().notAfter("sign-old"))
        .hasValue(Instant.parse("2026-12-31T00:00:00Z"));
  }

  @Test
  void shouldExplainABadNotAfterDateNamingWhereAndTheKeyIdButNeverTheKey() throws Exception {
    String publicKey = SigningKey.generate("sign-old").publicKeyBase64();

    assertThatThrownBy(
            () ->
                ProvenanceKeys.forVerifier(
                    Map.of(
                        "GENGUARD_VERIFICATION_KEYS",
                        "sign-old:" + publicKey + ":notAfter=2026-13-01T00:00:00Z"),
                    keyDirectory))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "GENGUARD_VERIFICATION_KEYS entry for key id 'sign-old' has notAfter='2026-13-01T00:00:00Z',"
                + " which is not an ISO-8601 UTC instant such as 2026-12-31T00:00:00Z");
    Path file = keyDirectory.resolve(ProvenanceKeys.VERIFICATION_FILE);
    Files.writeString(file, "sign-old:" + publicKey + ":notAfter=31.12.2026\n");
    assertThatThrownBy(() -> ProvenanceKeys.forVerifier(Map.of(), keyDirectory))
        .hasMessageStartingWith(file + " entry for key id 'sign-old' has notAfter='31.12.2026'")
        .message()
        .doesNotContain(publicKey);
    assertThatThrownBy(
            () ->
                VerificationKeyRing.fromEnvironment(
                    Map.of("GENGUARD_VERIFICATION_KEYS", "sign-old:" + publicKey + ":" + SECRET_B)))
        .hasMessage(
            "GENGUARD_VERIFICATION_KEYS entry for key id 'sign-old' has something other than"
                + " notAfter=INSTANT after its key; expected"
                + " id:base64[:notAfter=2026-12-31T00:00:00Z]")
        .message()
        .doesNotContain(publicKey)
        .doesNotContain(SECRET_B);
    // Only manifest verification keys take a date: not secret keys, nor the audit anchors' keys.
    assertThatThrownBy(
            () ->
                WatermarkKeyRing.parse(
                    "k:" + SECRET_B + ":notAfter=2026-12-31T00:00:00Z",
                    null,
                    "GENGUARD_WATERMARK_KEYS"))
        .hasMessage(
            "GENGUARD_WATERMARK_KEYS entry for key id 'k' has a not-after date, which only"
                + " manifest verification keys take; expected id:base64")
        .message()
        .doesNotContain(SECRET_B);
    assertThatThrownBy(
            () ->
                VerificationKeyRing.parse(
                    "a-1:" + publicKey + ":notAfter=2026-12-31T00:00:00Z", "--anchor-keys keys"))
        .hasMessageStartingWith("--anchor-keys keys entry for key id 'a-1' has a not-after date");
  }

  @Test
  void shouldTrustTheSigningKeysASignerPublishedInTheKeyDirectoryAndNoLongerTheDroppedOnes()
      throws Exception {
    ProvenanceKeys signer = ProvenanceKeys.loadOrCreate(keyDirectory);
    Path published = signer.publishVerificationKeys(keyDirectory);

    ProvenanceKeys verifier = ProvenanceKeys.forVerifier(Map.of(), keyDirectory);

    assertThat(published).isEqualTo(keyDirectory.resolve(ProvenanceKeys.VERIFICATION_FILE));
    assertThat(Files.readString(published)).doesNotContain(signer.signing().toConfigEntries());
    assertThat(Files.getPosixFilePermissions(published))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(verifier.verification().ids()).containsExactly("sign-local-1");
    SignedProvenance old = signedWith(signer.signing());
    assertThat(verify(verifier, old, "published").status()).isEqualTo(ManifestStatus.VALID);

    // Rotation: a new line in the signing-keys file, published again at the signer's next start.
    SigningKey next = SigningKey.generate("sign-local-2");
    Path signingFile = keyDirectory.resolve(ProvenanceKeys.SIGNING_FILE);
    Files.writeString(signingFile, Files.readString(signingFile) + next.toConfigEntry() + "\n");
    ProvenanceKeys.loadOrCreate(keyDirectory).publishVerificationKeys(keyDirectory);
    ProvenanceKeys rotated = ProvenanceKeys.forVerifier(Map.of(), keyDirectory);
    assertThat(verify(rotated, old, "before the rotation").status())
        .isEqualTo(ManifestStatus.VALID);
    assertThat(verify(rotated, signedWith(SigningKeyRing.of(next)), "after").status())
        .isEqualTo(ManifestStatus.VALID);

    // A compromised key dropped from the signing keys is dropped from the published ones.
    Files.writeString(signingFile, next.toConfigEntry() + "\n");
    ProvenanceKeys.loadOrCreate(keyDirectory).publishVerificationKeys(keyDirectory);
    ManifestVerification dropped =
        verify(ProvenanceKeys.forVerifier(Map.of(), keyDirectory), old, "dropped key");
    assertThat(dropped.keyUnknown()).isTrue();
  }

  @Test
  void shouldRefuseAPublishedVerificationKeyFileThatOthersCanWrite() throws Exception {
    Path published =
        ProvenanceKeys.loadOrCreate(keyDirectory).publishVerificationKeys(keyDirectory);
    Files.setPosixFilePermissions(published, PosixFilePermissions.fromString("rw-rw-rw-"));

    assertThatThrownBy(() -> ProvenanceKeys.forVerifier(Map.of(), keyDirectory))
        .hasMessageContaining(published.toString())
        .hasMessageContaining("chmod 600");
  }

  /**
   * The forty-first session's provenance review: taking a compromised key out of
   * GENGUARD_VERIFICATION_KEYS left it trusted where the key directory's verification-keys file (a
   * copy of the embedded stack's, say) still listed it. GENGUARD_REVOKED_SIGNING_KEYS wins over
   * both sources, and the start log names each trusted key's source.
   */
  @Test
  void shouldRefuseARevokedKeyWhicheverSourceListsItAndNameEachTrustedKeysSource()
      throws Exception {
    SigningKey compromised = SigningKey.generate("sign-old");
    SigningKey next = SigningKey.generate("sign-new");
    Files.writeString(
        keyDirectory.resolve(ProvenanceKeys.VERIFICATION_FILE),
        "sign-old:" + compromised.publicKeyBase64() + "\n");
    SignedProvenance forged = signedWith(SigningKeyRing.of(compromised));
    Map<String, String> removedFromTheVariable =
        Map.of("GENGUARD_VERIFICATION_KEYS", "sign-new:" + next.publicKeyBase64());

    // Removed from the variable only: still trusted through the file, and the log says so.
    assertThat(
            verify(
                    ProvenanceKeys.forVerifier(removedFromTheVariable, keyDirectory),
                    forged,
                    "removed from the variable")
                .status())
        .isEqualTo(ManifestStatus.VALID);
    assertThat(ProvenanceKeys.describeVerifierTrust(removedFromTheVariable, keyDirectory))
        .contains("sign-old (verification-keys)", "sign-new (GENGUARD_VERIFICATION_KEYS)");

    Map<String, String> revoked =
        Map.of(
            "GENGUARD_VERIFICATION_KEYS",
            "sign-new:" + next.publicKeyBase64() + ",sign-old:" + compromised.publicKeyBase64(),
            "GENGUARD_REVOKED_SIGNING_KEYS",
            "sign-old, sign-older");
    ProvenanceKeys verifier = ProvenanceKeys.forVerifier(revoked, keyDirectory);
    assertThat(verifier.verification().ids()).containsExactly("sign-new");
    ManifestVerification refused = verify(verifier, forged, "revoked");
    assertThat(refused.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(refused.keyUnknown()).isTrue();
    assertThat(verify(verifier, signedWith(SigningKeyRing.of(next)), "kept").status())
        .isEqualTo(ManifestStatus.VALID);
    assertThat(ProvenanceKeys.describeVerifierTrust(revoked, keyDirectory))
        .contains("trusted: sign-new (GENGUARD_VERIFICATION_KEYS)")
        .contains(
            "refused, listed in GENGUARD_REVOKED_SIGNING_KEYS: sign-old (in verification-keys and"
                + " GENGUARD_VERIFICATION_KEYS)")
        .doesNotContain("sign-older")
        .doesNotContain(compromised.publicKeyBase64());

    // A key, not an id, is refused rather than read as nothing revoked.
    assertThatThrownBy(
            () ->
                ProvenanceKeys.forVerifier(
                    Map.of(
                        "GENGUARD_REVOKED_SIGNING_KEYS",
                        "sign-old:" + compromised.publicKeyBase64()),
                    keyDirectory))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GENGUARD_REVOKED_SIGNING_KEYS")
        .hasMessageContaining("not a key id");
  }

  private static SignedProvenance signedWith(SigningKeyRing keys) {
    return new ManifestSigner(keys)
        .sign(
            new ProvenanceManifest(
                "r",
                "o",
                TENANT,
                ProvenanceManifest.sha256Hex("t"),
                "m",
                "1",
                "builtin",
                new ProvenanceManifest.Sampling(1, 1.0, 0, 1.0, null),
                Instant.EPOCH,
                null,
                keys.active().id()));
  }

  private static ManifestVerification verify(
      ProvenanceKeys keys, SignedProvenance signed, String what) {
    ManifestVerification verification =
        new ManifestVerifier(keys.verification())
            .inspect("t", TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());
    assertThat(verification.status()).as(what).isNotEqualTo(ManifestStatus.ABSENT);
    return verification;
  }

  @Test
  void shouldRefuseToSignWithARevokedKeyAndLeaveRevokedKeysOutOfTheSignersTrust() {
    SigningKey compromised = SigningKey.generate("sign-old");
    SigningKey next = SigningKey.generate("sign-new");
    String both = compromised.toConfigEntry() + "," + next.toConfigEntry();
    assertThatThrownBy(
            () ->
                ProvenanceKeys.fromEnvironmentOrDirectory(
                    Map.of(
                        "GENGUARD_SIGNING_KEYS", both,
                        "GENGUARD_SIGNING_ACTIVE_KEY", "sign-old",
                        "GENGUARD_REVOKED_SIGNING_KEYS", "sign-old"),
                    keyDirectory))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("The active signing key 'sign-old' is listed in")
        .hasMessageContaining("GENGUARD_SIGNING_ACTIVE_KEY");

    ProvenanceKeys rotated =
        ProvenanceKeys.fromEnvironmentOrDirectory(
            Map.of(
                "GENGUARD_SIGNING_KEYS", both,
                "GENGUARD_SIGNING_ACTIVE_KEY", "sign-new",
                "GENGUARD_REVOKED_SIGNING_KEYS", "sign-old"),
            keyDirectory);
    assertThat(rotated.signing().active().id()).isEqualTo("sign-new");
    assertThat(rotated.verification().ids()).containsExactly("sign-new");
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
    String unpadded = SECRET_B.substring(0, SECRET_B.indexOf('='));
    assertThatThrownBy(
            () -> WatermarkKeyRing.parse("k:" + unpadded, null, "GENGUARD_WATERMARK_KEYS"))
        .hasMessageStartingWith(
            "GENGUARD_WATERMARK_KEYS entry for key id 'k' is not in canonical base64 form")
        .hasMessageContaining("padded with '='")
        .message()
        .doesNotContain(unpadded);
    String publicKey = SigningKey.fromSeed("partner", new byte[32]).publicKeyBase64();
    // 32 bytes take 43 characters and '='; the last character's 2 low bits are unused, so setting
    // one keeps the bytes.
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char last = publicKey.charAt(publicKey.length() - 2);
    String altered =
        publicKey.substring(0, publicKey.length() - 2)
            + alphabet.charAt(alphabet.indexOf(last) | 1)
            + "=";
    assertThat(altered).isNotEqualTo(publicKey);
    assertThat(Base64.getDecoder().decode(altered))
        .isEqualTo(Base64.getDecoder().decode(publicKey));
    assertThatThrownBy(
            () -> VerificationKeyRing.parse("partner:" + altered, "GENGUARD_VERIFICATION_KEYS"))
        .hasMessageStartingWith(
            "GENGUARD_VERIFICATION_KEYS entry for key id 'partner' is not in canonical base64");
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
