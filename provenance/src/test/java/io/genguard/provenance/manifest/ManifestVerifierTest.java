package io.genguard.provenance.manifest;

import static io.genguard.provenance.manifest.ManifestFixtures.KEY_2024;
import static io.genguard.provenance.manifest.ManifestFixtures.KEY_2025;
import static io.genguard.provenance.manifest.ManifestFixtures.TENANT;
import static io.genguard.provenance.manifest.ManifestFixtures.TEXT;
import static io.genguard.provenance.manifest.ManifestFixtures.manifestFor;
import static io.genguard.provenance.manifest.ManifestFixtures.manifestV1For;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ManifestVerifierTest {
  private final ManifestSigner signer = new ManifestSigner(SigningKeyRing.of(KEY_2024));
  private final ManifestVerifier verifier =
      new ManifestVerifier(SigningKeyRing.of(KEY_2024).verificationKeys());

  private final SignedProvenance signed = signer.sign(manifestFor(TEXT, "sign-2024"));

  @Test
  void shouldVerifyAnUntouchedManifestAndText() {
    ManifestVerification verification =
        verifier.inspect(TEXT, TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());

    assertThat(verification.status()).isEqualTo(ManifestStatus.VALID);
    assertThat(verification.manifest()).isEqualTo(manifestFor(TEXT, "sign-2024"));
  }

  @Test
  void shouldRejectAnyEditToTheText() {
    for (String edited :
        new String[] {
          TEXT + " ", TEXT.replace("vote", "veto"), TEXT.substring(1), TEXT.toLowerCase()
        }) {
      ManifestVerification verification =
          verifier.inspect(
              edited, TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());
      assertThat(verification.status()).as(edited).isEqualTo(ManifestStatus.INVALID);
      assertThat(verification.reason()).contains("SHA-256 mismatch");
    }
  }

  @Test
  void shouldRejectAnyEditToTheManifest() {
    String json = signed.canonicalJson();
    for (int i = 0; i < json.length(); i++) {
      char replacement = json.charAt(i) == 'x' ? 'y' : 'x';
      String edited = json.substring(0, i) + replacement + json.substring(i + 1);
      assertThat(verifier.verify(TEXT, TENANT, edited, signed.signature(), signed.keyId()))
          .as("edit at %d", i)
          .isEqualTo(ManifestStatus.INVALID);
    }
  }

  @Test
  void shouldRejectATamperedSignature() {
    byte[] signature = Base64.getDecoder().decode(signed.signature());
    signature[10] ^= 1;

    assertThat(
            verifier.verify(
                TEXT,
                TENANT,
                signed.canonicalJson(),
                Base64.getEncoder().encodeToString(signature),
                signed.keyId()))
        .isEqualTo(ManifestStatus.INVALID);
    assertThat(verifier.verify(TEXT, TENANT, signed.canonicalJson(), "not base64!", signed.keyId()))
        .isEqualTo(ManifestStatus.INVALID);
  }

  @Test
  void shouldRejectASignatureByAnotherKeyUnderTheSameId() {
    SigningKey impostor = SigningKey.fromSeed("sign-2024", ManifestFixtures.seed('z'));
    SignedProvenance forged =
        new ManifestSigner(SigningKeyRing.of(impostor)).sign(manifestFor(TEXT, "sign-2024"));

    ManifestVerification verification =
        verifier.inspect(TEXT, TENANT, forged.canonicalJson(), forged.signature(), forged.keyId());

    assertThat(verification.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(verification.reason()).contains("signature does not match");
  }

  @Test
  void shouldRejectAnUnknownKeyIdNamingWhatToConfigure() {
    SignedProvenance other =
        new ManifestSigner(SigningKeyRing.of(KEY_2025)).sign(manifestFor(TEXT, "sign-2025"));

    ManifestVerification verification =
        verifier.inspect(TEXT, TENANT, other.canonicalJson(), other.signature(), other.keyId());

    assertThat(verification.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(verification.keyUnknown()).isTrue();
    assertThat(verification.reason())
        .startsWith(
            "signed with key id 'sign-2025', which this verifier does not know (known:"
                + " [sign-2024]): a signing key not yet configured here, or one removed")
        .contains("add its public key to GENGUARD_VERIFICATION_KEYS")
        .doesNotContain("altered");
  }

  @Test
  void shouldTellAnUnknownKeyFromATamperedManifestUnderAKnownOne() {
    ManifestVerification tampered =
        verifier.inspect(
            TEXT + " ", TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());
    ManifestVerification empty =
        new ManifestVerifier(new VerificationKeyRing(Map.of()))
            .inspect(TEXT, TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());
    ManifestVerification hostileId =
        verifier.inspect(
            TEXT, TENANT, signed.canonicalJson(), signed.signature(), "x\n".repeat(5000));

    assertThat(tampered.keyUnknown()).isFalse();
    assertThat(
            verifier.inspect(
                TEXT, TENANT, signed.canonicalJson(), signed.signature(), signed.keyId()))
        .extracting(ManifestVerification::keyUnknown)
        .isEqualTo(false);
    assertThat(empty.keyUnknown()).isTrue();
    assertThat(empty.reason()).contains("(known: none)");
    assertThat(hostileId.keyUnknown()).isTrue();
    assertThat(hostileId.reason())
        .startsWith("signed with a key id that no key can have (10000 characters)")
        .doesNotContain("\n");
  }

  @Test
  void shouldAcceptOnlyTheSignersBase64OfTheSignature() {
    String original = signed.signature();
    assertThat(original).endsWith("==");
    String body = original.substring(0, original.length() - 3);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    byte[] message = signed.canonicalJson().getBytes(StandardCharsets.UTF_8);
    VerificationKeyRing ring = SigningKeyRing.of(KEY_2024).verificationKeys();
    int variants = 0;
    for (char last : alphabet.toCharArray()) {
      for (String padding : new String[] {"==", ""}) {
        String variant = body + last + padding;
        if (variant.equals(original)
            || !java.util.Arrays.equals(
                Base64.getDecoder().decode(variant), Base64.getDecoder().decode(original))) {
          continue; // the signer's own, or other bytes
        }
        variants++;
        ManifestVerification verification =
            verifier.inspect(TEXT, TENANT, signed.canonicalJson(), variant, signed.keyId());
        assertThat(verification.status()).as(variant).isEqualTo(ManifestStatus.INVALID);
        assertThat(verification.reason())
            .as(variant)
            .startsWith("signature is not in canonical base64 form");
        assertThat(ring.verifies("sign-2024", message, variant)).as(variant).isFalse();
      }
    }
    assertThat(variants)
        .as("unused bits and dropped padding the JDK decoder accepts")
        .isEqualTo(31);
    assertThat(verifier.verify(TEXT, TENANT, signed)).isEqualTo(ManifestStatus.VALID);
    assertThat(ring.verifies("sign-2024", message, original)).isTrue();
  }

  @Test
  void shouldRejectValidlySignedJsonThatIsNotCanonical() throws Exception {
    String spaced = signed.canonicalJson().replace(",", ", ");
    Signature signature = Signature.getInstance("Ed25519");
    signature.initSign(KEY_2024.privateKey());
    signature.update(spaced.getBytes(StandardCharsets.UTF_8));
    String signatureBase64 = Base64.getEncoder().encodeToString(signature.sign());

    ManifestVerification verification =
        verifier.inspect(TEXT, TENANT, spaced, signatureBase64, "sign-2024");

    assertThat(verification.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(verification.reason()).contains("canonical");
  }

  @Test
  void shouldReportAbsentWhenThereIsNoManifest() {
    assertThat(verifier.verify(TEXT, TENANT, null, null, null)).isEqualTo(ManifestStatus.ABSENT);
    assertThat(verifier.verify(TEXT, TENANT, (SignedProvenance) null))
        .isEqualTo(ManifestStatus.ABSENT);
  }

  @Test
  void shouldKeepManifestsSignedBeforeARotationVerifiable() {
    SigningKeyRing rotated = SigningKeyRing.of(KEY_2024).rotateTo(KEY_2025);
    ManifestVerifier afterRotation = new ManifestVerifier(rotated.verificationKeys());
    SignedProvenance newer = new ManifestSigner(rotated).sign(manifestFor(TEXT, "sign-2025"));

    assertThat(afterRotation.verify(TEXT, TENANT, signed)).isEqualTo(ManifestStatus.VALID);
    assertThat(afterRotation.verify(TEXT, TENANT, newer)).isEqualTo(ManifestStatus.VALID);
  }

  @Test
  void shouldVerifyWithPublicKeysPublishedThroughConfiguration() {
    VerificationKeyRing published =
        VerificationKeyRing.parse("sign-2024:" + KEY_2024.publicKeyBase64(), "test");

    assertThat(new ManifestVerifier(published).verify(TEXT, TENANT, signed))
        .isEqualTo(ManifestStatus.VALID);
  }

  @Test
  void shouldProduceTheSameBytesForTheSameManifest() {
    assertThat(signer.sign(manifestFor(TEXT, "sign-2024"))).isEqualTo(signed);
    assertThat(signed.canonicalJson())
        .startsWith(
            "{\"format\":\"genguard.provenance.v2\",\"generatedAt\":\"2025-03-01T12:00:00.123Z\"")
        .contains("\"signingKeyId\":\"sign-2024\",\"tenantId\":\"tenant-a\",\"text\":")
        .contains("\"seed\":\"-1234567890123456789\"")
        .contains("\"temperature\":0.7");
  }

  /**
   * {@code manifestV1For(TEXT, "sign-2024")} as the signer of the forty-first session wrote and
   * signed it (Ed25519 signatures are deterministic): a v1 manifest already stored or in flight.
   */
  private static final String STORED_V1_JSON =
      "{\"format\":\"genguard.provenance.v1\",\"generatedAt\":\"2025-03-01T12:00:00.123Z\","
          + "\"model\":{\"backend\":\"builtin\",\"name\":\"europarl-kn3\",\"version\":\"1.0.0\"},"
          + "\"outputId\":\"out-1\",\"requestId\":\"req-1\",\"sampling\":{\"maxTokens\":64,"
          + "\"seed\":\"-1234567890123456789\",\"temperature\":0.7,\"topK\":40,\"topP\":0.95},"
          + "\"signingKeyId\":\"sign-2024\",\"text\":{\"sha256\":"
          + "\"f959a16b857a7a9bdedb570ea51e710621857dab0c942a4996c1e9d38d3e86d7\"},"
          + "\"watermark\":{\"contextWidth\":1,\"delta\":2,\"gamma\":0.25,\"keyId\":\"wm-1\","
          + "\"scheme\":\"kgw-hmac-sha256-word-v1\"}}";

  private static final String STORED_V1_SIGNATURE =
      "rFoyt/1z8uHjP3E4VZKjOKSuBL+hNtm2wuF9AZUwkuOU46omH+sqG0kzibgY9HYw6udxkjhneR+mJZaTkm8pCQ==";

  @Test
  void shouldSignTheTenantInTheV2LayoutAndReadItBack() {
    ManifestVerification verification =
        verifier.inspect(TEXT, TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());

    assertThat(verification.status()).as(verification.reason()).isEqualTo(ManifestStatus.VALID);
    assertThat(verification.manifest().format()).isEqualTo(ProvenanceManifest.FORMAT_V2);
    assertThat(verification.manifest().tenantId()).isEqualTo(TENANT);
    assertThat(verification.manifest().toCanonicalJson()).isEqualTo(signed.canonicalJson());
    assertThat(verification.signedForAnotherTenant()).isFalse();
  }

  @Test
  void shouldFindAV2ManifestUnderAnotherTenantInvalidNamingBothTenants() {
    // A genuine output re-published under another tenant: same text, same signed manifest.
    ManifestVerification verification =
        verifier.inspect(
            TEXT, "tenant-b", signed.canonicalJson(), signed.signature(), signed.keyId());

    assertThat(verification.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(verification.signedForAnotherTenant()).isTrue();
    assertThat(verification.keyUnknown()).isFalse();
    assertThat(verification.manifest()).as("nothing it states is trusted").isNull();
    assertThat(verification.reason())
        .isEqualTo(
            "the tenant does not match: the manifest was signed for tenant \"tenant-a\", the"
                + " output is under tenant \"tenant-b\" (a genuine output re-published under"
                + " another tenant)");
    assertThat(verifier.verify(TEXT, "tenant-b", signed)).isEqualTo(ManifestStatus.INVALID);
    assertThat(verifier.verify(TEXT, "Tenant-A", signed)).isEqualTo(ManifestStatus.INVALID);
    assertThat(verifier.verify(TEXT, null, signed)).isEqualTo(ManifestStatus.INVALID);
    String huge = "t".repeat(100_000);
    assertThat(
            verifier
                .inspect(TEXT, huge, signed.canonicalJson(), signed.signature(), "sign-2024")
                .reason())
        .contains(
            "\"" + "t".repeat(ManifestVerifier.MAX_QUOTED_CHARS) + "...\" (100000 characters)")
        .hasSizeLessThan(400);
  }

  @Test
  void shouldStillVerifyAStoredV1ManifestUnderAnyTenant() {
    assertThat(signer.sign(manifestV1For(TEXT, "sign-2024")).canonicalJson())
        .isEqualTo(STORED_V1_JSON);
    for (String tenant : new String[] {TENANT, "tenant-b"}) {
      ManifestVerification verification =
          verifier.inspect(TEXT, tenant, STORED_V1_JSON, STORED_V1_SIGNATURE, "sign-2024");

      assertThat(verification.status()).as(verification.reason()).isEqualTo(ManifestStatus.VALID);
      assertThat(verification.manifest()).isEqualTo(manifestV1For(TEXT, "sign-2024"));
      assertThat(verification.manifest().format()).isEqualTo(ProvenanceManifest.FORMAT_V1);
      assertThat(verification.manifest().tenantId()).isNull();
      assertThat(verification.manifest().toCanonicalJson()).isEqualTo(STORED_V1_JSON);
    }
    assertThat(
            verifier.verify(TEXT + " ", TENANT, STORED_V1_JSON, STORED_V1_SIGNATURE, "sign-2024"))
        .isEqualTo(ManifestStatus.INVALID);
  }

  @Test
  void shouldRefuseAV1ManifestGeneratedAfterTheV1CutOffNamingTheLayout() {
    // The stored v1 manifest states 2025-03-01T12:00:00.123Z.
    VerificationKeyRing ring = SigningKeyRing.of(KEY_2024).verificationKeys();
    ManifestVerifier cutBefore =
        new ManifestVerifier(ring.withV1NotAfter(Instant.parse("2025-03-01T12:00:00Z")));
    ManifestVerifier cutAt =
        new ManifestVerifier(ring.withV1NotAfter(Instant.parse("2025-03-01T12:00:00.123Z")));

    ManifestVerification refused =
        cutBefore.inspect(TEXT, TENANT, STORED_V1_JSON, STORED_V1_SIGNATURE, "sign-2024");

    assertThat(refused.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(refused.signedAfterNotAfter()).as("its reason is passed on").isTrue();
    assertThat(refused.reason())
        .isEqualTo(
            "a genguard.provenance.v1 manifest (it does not bind the output's tenant) stating it"
                + " was generated at 2025-03-01T12:00:00.123Z, after 2025-03-01T12:00:00Z"
                + " (GENGUARD_PROVENANCE_V1_NOT_AFTER): v1 manifests signed later are no longer"
                + " trusted, generators sign genguard.provenance.v2");
    assertThat(
            cutAt.inspect(TEXT, TENANT, STORED_V1_JSON, STORED_V1_SIGNATURE, "sign-2024").status())
        .as("signed at the cut-off itself")
        .isEqualTo(ManifestStatus.VALID);
    assertThat(inspect(cutBefore, signed).status())
        .as("a v2 manifest is not held to the v1 cut-off")
        .isEqualTo(ManifestStatus.VALID);
    assertThat(
            new ManifestVerifier(
                    ring.withV1NotAfter(Instant.parse("2025-03-01T12:00:00Z"))
                        .with(ring.withV1NotAfter(Instant.parse("2026-01-01T00:00:00Z")))
                        .without(java.util.Set.of("other")))
                .verify(TEXT, TENANT, STORED_V1_JSON, STORED_V1_SIGNATURE, "sign-2024"))
        .as("merged rings keep the earlier cut-off")
        .isEqualTo(ManifestStatus.INVALID);
  }

  @Test
  void shouldHoldEachLayoutToItsOwnMembers() {
    // A tenant signed into a v1 manifest is no member of v1; a v2 one without it is incomplete.
    assertInvalidNaming(
        "unknown member 'tenantId' (genguard.provenance.v1 has no extension members",
        signedV1Tree(tree -> tree.put("tenantId", TENANT)));
    assertInvalidNaming("missing member 'tenantId'", signedTree(tree -> tree.remove("tenantId")));
    assertInvalidNaming(
        "member 'tenantId' must be a string", signedTree(tree -> tree.put("tenantId", null)));
    assertInvalidNaming(
        "member 'tenantId' must be a string", signedTree(tree -> tree.put("tenantId", 7)));
    assertInvalidNaming(
        "member 'format' is the string \"genguard.provenance.v3\", not"
            + " \"genguard.provenance.v2\" or \"genguard.provenance.v1\"",
        signedTree(tree -> tree.put("format", "genguard.provenance.v3")));
  }

  @Test
  void shouldDeriveTheRfc8032PublicKeyFromTheSeed() {
    // RFC 8032 section 7.1, TEST 1.
    byte[] seed =
        java.util.HexFormat.of()
            .parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    SigningKey key = SigningKey.fromSeed("rfc", seed);

    assertThat(
            java.util.HexFormat.of().formatHex(Base64.getDecoder().decode(key.publicKeyBase64())))
        .isEqualTo("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    assertThat(key.toString()).doesNotContain(Base64.getEncoder().encodeToString(seed));
  }

  @Test
  void shouldRejectATextThatDiffersOnlyByALoneSurrogate() {
    String text = "Is this the vote?";
    SignedProvenance manifest = signer.sign(manifestFor(text, "sign-2024"));
    // UTF-8 encoding turns the lone surrogate into '?': same bytes, same hash, different text.
    String altered = "Is this the vote\uD800";

    ManifestVerification verification =
        verifier.inspect(
            altered, TENANT, manifest.canonicalJson(), manifest.signature(), manifest.keyId());

    assertThat(verifier.verify(text, TENANT, manifest)).isEqualTo(ManifestStatus.VALID);
    assertThat(verification.status()).isEqualTo(ManifestStatus.INVALID);
  }

  @Test
  void shouldAnswerInvalidInsteadOfThrowingForManifestJsonItCannotRecanonicalise() {
    String json = signed.canonicalJson();
    String[] hostile = {
      // A lone surrogate encodes as '?', so a manifest holding '?' lends it its signature.
      json.replace("\"req-1\"", "\"req\uD800\""),
      json.replace("\"maxTokens\":64", "\"maxTokens\":1e400"),
      json.replace("\"maxTokens\":64", "\"maxTokens\":1152921504606846976"),
    };
    String[] signedAs = {
      json.replace("\"req-1\"", "\"req?\""), hostile[1], hostile[2],
    };
    for (int i = 0; i < hostile.length; i++) {
      String signature = KEY_2024.sign(signedAs[i].getBytes(StandardCharsets.UTF_8));

      assertThat(verifier.verify(TEXT, TENANT, hostile[i], signature, "sign-2024"))
          .as(hostile[i])
          .isEqualTo(ManifestStatus.INVALID);
    }
  }

  @Test
  void shouldRefuseVerificationKeysOfSmallOrderOrOffTheCurve() {
    java.util.HexFormat hex = java.util.HexFormat.of();
    String[] unusable = {
      "0100000000000000000000000000000000000000000000000000000000000000", // identity
      "0000000000000000000000000000000000000000000000000000000000000000", // order 4
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
      "0200000000000000000000000000000000000000000000000000000000000000", // no curve point
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
    };
    for (String key : unusable) {
      String entry = "partner:" + Base64.getEncoder().encodeToString(hex.parseHex(key));

      assertThatThrownBy(() -> VerificationKeyRing.parse(entry, "GENGUARD_VERIFICATION_KEYS"))
          .as(key)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("partner");
    }
    assertThat(
            VerificationKeyRing.parse(
                    "rfc8032:"
                        + Base64.getEncoder()
                            .encodeToString(
                                hex.parseHex(
                                    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")),
                    "test")
                .ids())
        .containsExactly("rfc8032");
  }

  @Test
  void shouldRejectSignedIntegerMembersThatAreNotExactIntegersInRangeNamingTheMember() {
    String json = signed.canonicalJson();
    String[][] memberAndManifest = {
      // The parser used to read 64.5 as 64 and 2^32 as 0, and to accept both as VALID.
      {"sampling.maxTokens", signedTree(tree -> member(tree, "sampling").put("maxTokens", 64.5))},
      {"sampling.maxTokens", json.replace("\"maxTokens\":64", "\"maxTokens\":1e3")},
      {"sampling.maxTokens", json.replace("\"maxTokens\":64", "\"maxTokens\":64.0")},
      {"sampling.topK", signedTree(tree -> member(tree, "sampling").put("topK", "40"))},
      {"sampling.topK", signedTree(tree -> member(tree, "sampling").put("topK", true))},
      {
        "watermark.contextWidth",
        signedTree(tree -> member(tree, "watermark").put("contextWidth", 1L << 32))
      },
      {
        "watermark.contextWidth",
        signedTree(tree -> member(tree, "watermark").put("contextWidth", 1.5))
      },
    };
    for (String[] testCase : memberAndManifest) {
      assertInvalidNaming(testCase[0], testCase[1]);
    }
  }

  @Test
  void shouldRejectSignedUnknownMembersNamingThem() {
    assertInvalidNaming("'comment'", signedTree(tree -> tree.put("comment", "trust me")));
    assertInvalidNaming(
        "'sampling.minTokens'", signedTree(tree -> member(tree, "sampling").put("minTokens", 1)));
    assertInvalidNaming(
        "'watermark.salt'", signedTree(tree -> member(tree, "watermark").put("salt", "x")));
    assertInvalidNaming(
        "'model.license'", signedTree(tree -> member(tree, "model").put("license", "none")));
    assertInvalidNaming(
        "'text.sha1'",
        signedTree(
            tree ->
                tree.put(
                    "text", Map.of("sha256", ProvenanceManifest.sha256Hex(TEXT), "sha1", "00"))));
  }

  @Test
  void shouldRejectSignedMembersOfTheWrongTypeOrFormNamingThem() {
    assertInvalidNaming("requestId", signedTree(tree -> tree.put("requestId", 7)));
    assertInvalidNaming("model", signedTree(tree -> tree.put("model", "europarl-kn3")));
    assertInvalidNaming(
        "sampling.temperature",
        signedTree(tree -> member(tree, "sampling").put("temperature", "0.7")));
    assertInvalidNaming("'watermark'", signedTree(tree -> tree.remove("watermark")));
    // Long.parseLong reads both as 42, and Instant.parse keeps microseconds the manifest drops.
    assertInvalidNaming(
        "sampling.seed", signedTree(tree -> member(tree, "sampling").put("seed", "0042")));
    assertInvalidNaming(
        "sampling.seed", signedTree(tree -> member(tree, "sampling").put("seed", "+42")));
    assertInvalidNaming(
        "generatedAt", signedTree(tree -> tree.put("generatedAt", "2025-03-01T12:00:00.123456Z")));
    assertInvalidNaming(
        "generatedAt",
        signedTree(tree -> tree.put("generatedAt", "2025-03-01T13:00:00.123+01:00")));
  }

  @Test
  void shouldVerifyEveryManifestTheSignerWritesAndReturnExactlyWhatWasSigned() {
    ProvenanceManifest plain =
        new ProvenanceManifest(
            "req-2",
            "out-2",
            null,
            ProvenanceManifest.sha256Hex(TEXT),
            "echo",
            "0",
            "echo",
            new ProvenanceManifest.Sampling(0, 1.0, 0, 1.0, null),
            ManifestFixtures.GENERATED_AT.truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
            null,
            "sign-2024");
    for (ProvenanceManifest manifest :
        new ProvenanceManifest[] {plain, manifestFor(TEXT, "sign-2024")}) {
      SignedProvenance signedManifest = signer.sign(manifest);

      ManifestVerification verification =
          verifier.inspect(
              TEXT,
              TENANT,
              signedManifest.canonicalJson(),
              signedManifest.signature(),
              "sign-2024");

      assertThat(verification.status()).as(verification.reason()).isEqualTo(ManifestStatus.VALID);
      assertThat(verification.manifest()).isEqualTo(manifest);
      assertThat(verification.manifest().toCanonicalJson())
          .isEqualTo(signedManifest.canonicalJson());
    }
  }

  @Test
  void shouldVerifyManifestsWhoseTemperatureIsAWholeNumberBeyond2To53() {
    // RFC 8785 writes these in plain digits (1e16 as 10000000000000000); read back as integers,
    // they were refused beyond +-2^53 and a benign output was blocked as tampered with. 2^60 is
    // written 1152921504606847000, which is not its exact value.
    for (double temperature : new double[] {0x1p53, 1e16, 1e20, 0x1p60, 9.999999999999999e20}) {
      ProvenanceManifest fixture = manifestFor(TEXT, "sign-2024");
      ProvenanceManifest manifest =
          new ProvenanceManifest(
              fixture.requestId(),
              fixture.outputId(),
              fixture.tenantId(),
              fixture.textSha256(),
              fixture.modelName(),
              fixture.modelVersion(),
              fixture.backend(),
              new ProvenanceManifest.Sampling(64, temperature, 40, 0.95, 7L),
              fixture.generatedAt(),
              fixture.watermark(),
              fixture.signingKeyId());
      SignedProvenance signedManifest = signer.sign(manifest);

      ManifestVerification verification =
          verifier.inspect(
              TEXT,
              TENANT,
              signedManifest.canonicalJson(),
              signedManifest.signature(),
              "sign-2024");

      assertThat(signedManifest.canonicalJson()).doesNotContain("e+");
      assertThat(verification.status())
          .as("%s: %s", signedManifest.canonicalJson(), verification.reason())
          .isEqualTo(ManifestStatus.VALID);
      assertThat(verification.manifest()).isEqualTo(manifest);
    }
  }

  @Test
  void shouldStillRejectWholeNumbersBeyond2To53WhereAnIntegerBelongsOrThatNoDoubleHolds() {
    String json = signed.canonicalJson();
    // A double, but maxTokens takes only an integer in int range.
    assertInvalidNaming(
        "sampling.maxTokens", json.replace("\"maxTokens\":64", "\"maxTokens\":10000000000000000"));
    // 2^53 + 1: no double holds it, so it is no canonical JSON number.
    assertInvalidNaming(
        "9007199254740993",
        json.replace("\"temperature\":0.7", "\"temperature\":9007199254740993"));
    // 2^60 in exact digits: canonical JSON writes that double 1152921504606847000.
    assertInvalidNaming(
        "1152921504606846976",
        json.replace("\"temperature\":0.7", "\"temperature\":1152921504606846976"));
  }

  @Test
  void shouldTrustARetiredKeyOnlyForManifestsSignedUpToItsNotAfterDate() {
    // sign-2024 retired at the fixture manifest's signed generatedAt (2025-03-01T12:00:00.123Z).
    VerificationKeyRing keys =
        VerificationKeyRing.parse(
            "sign-2024:"
                + KEY_2024.publicKeyBase64()
                + ":notAfter="
                + ManifestFixtures.GENERATED_AT
                + ",sign-2025:"
                + KEY_2025.publicKeyBase64(),
            "GENGUARD_VERIFICATION_KEYS",
            true);
    ManifestVerifier retiring = new ManifestVerifier(keys);

    SignedProvenance before = signedAt(KEY_2024, ManifestFixtures.GENERATED_AT.minusSeconds(86400));
    SignedProvenance at = signedAt(KEY_2024, ManifestFixtures.GENERATED_AT);
    SignedProvenance after = signedAt(KEY_2024, ManifestFixtures.GENERATED_AT.plusMillis(1));
    SignedProvenance successor = signedAt(KEY_2025, ManifestFixtures.GENERATED_AT.plusSeconds(60));

    assertThat(inspect(retiring, before).status()).isEqualTo(ManifestStatus.VALID);
    assertThat(inspect(retiring, at).status())
        .as("not after: the instant itself is still in force")
        .isEqualTo(ManifestStatus.VALID);
    assertThat(inspect(retiring, successor).status()).isEqualTo(ManifestStatus.VALID);
    ManifestVerification late = inspect(retiring, after);
    assertThat(late.status()).isEqualTo(ManifestStatus.INVALID);
    assertThat(late.signedAfterNotAfter()).isTrue();
    assertThat(late.keyUnknown()).isFalse();
    assertThat(late.manifest()).as("nothing it states is trusted").isNull();
    assertThat(late.reason())
        .isEqualTo(
            "signed with key 'sign-2024' after its not-after date 2025-03-01T12:00:00.123Z (the"
                + " manifest states it was generated at 2025-03-01T12:00:00.124Z): the key was"
                + " retired then, and nothing it signs later is trusted (a leaked retired key, or"
                + " a generator still signing with it)");
    assertThat(inspect(verifier, after).status())
        .as("the same manifest under the key without a date")
        .isEqualTo(ManifestStatus.VALID);
  }

  private static SignedProvenance signedAt(SigningKey key, java.time.Instant generatedAt) {
    ProvenanceManifest fixture = manifestFor(TEXT, key.id());
    return new ManifestSigner(SigningKeyRing.of(key))
        .sign(
            new ProvenanceManifest(
                fixture.requestId(),
                fixture.outputId(),
                fixture.tenantId(),
                fixture.textSha256(),
                fixture.modelName(),
                fixture.modelVersion(),
                fixture.backend(),
                fixture.sampling(),
                generatedAt,
                fixture.watermark(),
                fixture.signingKeyId()));
  }

  private static ManifestVerification inspect(ManifestVerifier verifier, SignedProvenance signed) {
    return verifier.inspect(
        TEXT, TENANT, signed.canonicalJson(), signed.signature(), signed.keyId());
  }

  /** The fixture manifest's JSON tree after {@code edit}, canonicalised. */
  private static String signedTree(Consumer<Map<String, Object>> edit) {
    Map<String, Object> tree = manifestFor(TEXT, "sign-2024").toJsonTree();
    edit.accept(tree);
    return CanonicalJson.write(tree);
  }

  /** The fixture manifest in the v1 layout after {@code edit}, canonicalised. */
  private static String signedV1Tree(Consumer<Map<String, Object>> edit) {
    Map<String, Object> tree = manifestV1For(TEXT, "sign-2024").toJsonTree();
    edit.accept(tree);
    return CanonicalJson.write(tree);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> member(Map<String, Object> tree, String name) {
    return (Map<String, Object>) tree.get(name);
  }

  /**
   * Signs {@code json} with the trusted key and expects INVALID with a reason naming {@code
   * member}.
   */
  private void assertInvalidNaming(String member, String json) {
    String signature = KEY_2024.sign(json.getBytes(StandardCharsets.UTF_8));

    ManifestVerification verification =
        verifier.inspect(TEXT, TENANT, json, signature, "sign-2024");

    assertThat(verification.status()).as(json).isEqualTo(ManifestStatus.INVALID);
    assertThat(verification.reason()).as(json).contains(member);
  }
}
