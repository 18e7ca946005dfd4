package io.genguard.moderation.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.GenerationOutput;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ModelRef;
import io.genguard.events.v1.ModerationVerdict;
import io.genguard.events.v1.Reason;
import io.genguard.events.v1.SignedManifest;
import io.genguard.events.v1.WatermarkInfo;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.moderation.bias.BiasAnalyzer;
import io.genguard.moderation.fixtures.Events;
import io.genguard.moderation.policy.PolicyEngine;
import io.genguard.moderation.policy.PolicyLoader;
import io.genguard.moderation.policy.PolicySet;
import io.genguard.moderation.policy.ReasonCodes;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.provenance.ProvenanceKeys;
import io.genguard.provenance.manifest.ManifestSigner;
import io.genguard.provenance.manifest.ProvenanceManifest;
import io.genguard.provenance.manifest.SignedProvenance;
import io.genguard.provenance.manifest.SigningKey;
import io.genguard.provenance.manifest.SigningKeyRing;
import io.genguard.provenance.manifest.VerificationKeyRing;
import io.genguard.provenance.watermark.WatermarkParameters;
import io.genguard.schemas.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceCheckerTest {
  private static final String TEXT = "The committee met on Tuesday to discuss the budget.";
  private static final ProvenanceKeys KEYS = ProvenanceKeys.ephemeral();
  private final ProvenanceChecker checker = new ProvenanceChecker(KEYS);

  /**
   * The output with a manifest signed for it, its members taken from the event as the generator's
   * OutputAssembler fills both from the same values.
   */
  private static GenerationOutput signed(GenerationOutput output) {
    return signed(output, KEYS.signing(), null);
  }

  /** The output with a manifest {@code keys} signed for it, stating {@code watermark}. */
  static GenerationOutput signed(
      GenerationOutput output, SigningKeyRing keys, ProvenanceManifest.Watermark watermark) {
    return signed(output, output.getTenantId(), keys, watermark);
  }

  /**
   * The output with a manifest {@code keys} signed for it for {@code tenantId}: the v2 layout, or
   * with a null tenant the v1 layout generators signed before the forty-second session.
   */
  static GenerationOutput signed(
      GenerationOutput output,
      String tenantId,
      SigningKeyRing keys,
      ProvenanceManifest.Watermark watermark) {
    var parameters = output.getParameters();
    ManifestSigner signer = new ManifestSigner(keys);
    ProvenanceManifest manifest =
        new ProvenanceManifest(
            output.getRequestId(),
            output.getOutputId(),
            tenantId,
            ProvenanceManifest.sha256Hex(output.getText()),
            output.getModel().getName(),
            output.getModel().getVersion(),
            output.getModel().getBackend(),
            new ProvenanceManifest.Sampling(
                parameters.getMaxTokens(),
                parameters.getTemperature(),
                parameters.getTopK(),
                parameters.getTopP(),
                parameters.getSeed()),
            output.getGeneratedAt(),
            watermark,
            signer.activeKeyId());
    SignedProvenance signature = signer.sign(manifest);
    return GenerationOutput.newBuilder(output)
        .setManifest(
            SignedManifest.newBuilder()
                .setCanonicalJson(signature.canonicalJson())
                .setSignature(signature.signature())
                .setKeyId(signature.keyId())
                .build())
        .build();
  }

  /** {@code victim} carrying {@code source}'s manifest, as a forger would copy it. */
  private static GenerationOutput withManifestOf(GenerationOutput victim, GenerationOutput source) {
    return GenerationOutput.newBuilder(victim).setManifest(source.getManifest()).build();
  }

  @Test
  void shouldSayALongTextThatRepeatsItselfRepeatsItselfNotThatItIsShort() {
    // The forty-first session's provenance review: one 88-character sentence 200 times is 3,600
    // tokens but 18 distinct word pairs, TOO_SHORT with a reason that called it short.
    String sentence =
        "The committee will meet again next week to discuss the budget and the new proposals. ";
    GenerationOutput repeated = Events.output("r-1", sentence.repeat(200));
    GenerationOutput shortOne = Events.output("r-2", "Yes, we will.");

    ProvenanceChecker.Checked long_ = checker.inspect(repeated, repeated.getText());
    ProvenanceChecker.Checked short_ = checker.inspect(shortOne, shortOne.getText());

    assertThat(long_.findings().getWatermark()).isEqualTo(WatermarkStatus.TOO_SHORT);
    assertThat(long_.watermarkReason())
        .startsWith(
            long_.findings().getTokensScored() + " distinct word pairs among 3,200 tokens: ")
        .contains("repeats the same few words")
        .doesNotContain("short");
    assertThat(short_.findings().getWatermark()).isEqualTo(WatermarkStatus.TOO_SHORT);
    assertThat(short_.watermarkReason())
        .startsWith("4 distinct word pairs among 5 tokens: ")
        .contains("the text is short");
  }

  @Test
  void shouldFindTheManifestSignedForThisOutputValidAlsoAfterTheTopicRoundTrip() {
    GenerationOutput output = signed(Events.output("r-1", TEXT));
    GenerationOutput read =
        Topics.GENERATION_OUTPUTS.codec().decode(Topics.GENERATION_OUTPUTS.codec().encode(output));

    for (GenerationOutput event : List.of(output, read)) {
      ProvenanceChecker.Checked checked = checker.inspect(event, event.getText());
      assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.VALID);
      assertThat(checked.manifestReason()).isNull();
    }
  }

  @Test
  void shouldFindAValidManifestCopiedOntoAnotherOutputOfTheSameTextInvalidNamingTheIds() {
    GenerationOutput original = signed(Events.output("r-1", TEXT));
    GenerationOutput copy = withManifestOf(Events.output("r-2", TEXT), original);

    ProvenanceChecker.Checked checked = checker.inspect(copy, copy.getText());

    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(checked.manifestReason())
        .isEqualTo(
            "it was signed for another output (requestId \"r-1\" in the manifest, \"r-2\" in the"
                + " event; outputId \"out-r-1\" in the manifest, \"out-r-2\" in the event)");
    assertThat(checker.check(copy, copy.getText()).getManifest()).isEqualTo(ManifestStatus.INVALID);
  }

  @Test
  void shouldFindAManifestOfAnotherModelInvalidNamingTheFieldThatDiffers() {
    GenerationOutput output = signed(Events.output("r-1", TEXT));
    ModelRef model = output.getModel();
    Map<String, ModelRef> others =
        Map.of(
            "model.name \"test-model\" in the manifest, \"other-model\" in the event",
            ModelRef.newBuilder(model).setName("other-model").build(),
            "model.version \"1\" in the manifest, \"2\" in the event",
            ModelRef.newBuilder(model).setVersion("2").build(),
            "model.backend \"builtin\" in the manifest, \"openai\" in the event",
            ModelRef.newBuilder(model).setBackend("openai").build());
    others.forEach(
        (difference, other) -> {
          GenerationOutput moved = GenerationOutput.newBuilder(output).setModel(other).build();
          ProvenanceChecker.Checked checked = checker.inspect(moved, moved.getText());
          assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
          assertThat(checked.manifestReason())
              .isEqualTo("it was signed for another output (" + difference + ")");
        });
  }

  @Test
  void shouldCutAHugeIdInTheReason() {
    String huge = "r".repeat(100_000);
    GenerationOutput original = signed(Events.output(huge, TEXT));
    GenerationOutput copy = withManifestOf(Events.output("r-2", TEXT), original);

    String reason = checker.inspect(copy, copy.getText()).manifestReason();

    assertThat(reason)
        .contains("requestId \"" + "r".repeat(ProvenanceChecker.MAX_QUOTED_CHARS) + "...\"")
        .contains("(100000 characters) in the manifest, \"r-2\" in the event")
        .contains("(100004 characters) in the manifest, \"out-r-2\" in the event");
    assertThat(reason.length()).isLessThan(500);
  }

  @Test
  void shouldNotSplitASurrogatePairOrQuoteALoneSurrogateWhenCutting() {
    String emoji = "\uD83D\uDE00";
    String cut =
        ProvenanceChecker.quote("x".repeat(ProvenanceChecker.MAX_QUOTED_CHARS - 1) + emoji);
    assertThat(cut).startsWith("\"" + "x".repeat(ProvenanceChecker.MAX_QUOTED_CHARS - 1) + "...\"");
    assertThat(ProvenanceChecker.quote("a\uD800b")).isEqualTo("\"a\uFFFDb\"");
    assertThat(ProvenanceChecker.quote(null)).isEqualTo("none");
  }

  @Test
  void shouldKeepTheSignatureReasonForAManifestWhoseTextWasChanged() {
    GenerationOutput output = signed(Events.output("r-1", TEXT));
    GenerationOutput edited = GenerationOutput.newBuilder(output).setText(TEXT + " Not.").build();

    ProvenanceChecker.Checked checked = checker.inspect(edited, edited.getText());

    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(checked.manifestReason()).isNull();
    assertThat(checked.manifestKeyUnknown()).isFalse();
  }

  @Test
  void shouldCallAManifestUnderAKeyThisJobDoesNotKnowSoAndNotTampering() {
    // The generator rotated to a new key before this job was given its public half.
    GenerationOutput output =
        signed(
            Events.output("r-1", TEXT),
            SigningKeyRing.of(SigningKey.generate("sign-2026-12")),
            null);

    ProvenanceChecker.Checked checked = checker.inspect(output, output.getText());
    List<ModerationVerdict> verdicts =
        moderatorUnder(PolicyLoader.loadDefault()).moderate(List.of(output));

    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(checked.manifestKeyUnknown()).isTrue();
    assertThat(checked.manifestReason())
        .contains("key id 'sign-2026-12', which this verifier does not know (known: [")
        .contains("GENGUARD_VERIFICATION_KEYS");
    ModerationVerdict verdict = verdicts.get(0);
    assertThat(verdict.getDecision()).as("fail closed by default").isEqualTo(Decision.BLOCK);
    assertThat(verdict.getReasons())
        .extracting(Reason::getCode)
        .contains(ReasonCodes.MANIFEST_UNKNOWN_KEY)
        .doesNotContain(ReasonCodes.MANIFEST_INVALID);
    Reason reason =
        verdict.getReasons().stream()
            .filter(r -> r.getCode().equals(ReasonCodes.MANIFEST_UNKNOWN_KEY))
            .findFirst()
            .orElseThrow();
    assertThat(reason.getMessage())
        .startsWith(
            "the provenance manifest cannot be verified here: signed with key id 'sign-2026-12'")
        .contains("add its public key to GENGUARD_VERIFICATION_KEYS")
        .contains("no sign that the text was altered")
        .doesNotContain("was altered:");

    // A policy may hold such outputs for a person while a new key is rolled out.
    PolicySet rotating =
        PolicyLoader.parse(
            PolicyLoader.defaultText()
                .replace(
                    "manifestInvalid: BLOCK",
                    "manifestInvalid: BLOCK\n    manifestUnknownKey: REVIEW"),
            "rotating.yaml");
    assertThat(moderatorUnder(rotating).moderate(List.of(output)).get(0).getDecision())
        .isEqualTo(Decision.REVIEW);
    GenerationOutput tampered =
        GenerationOutput.newBuilder(signed(Events.output("r-2", TEXT)))
            .setText(TEXT + " Not.")
            .build();
    assertThat(moderatorUnder(rotating).moderate(List.of(tampered)).get(0).getDecision())
        .as("a manifest that does not verify under a known key is still blocked")
        .isEqualTo(Decision.BLOCK);
  }

  @Test
  void shouldLookForTheWatermarkTheValidManifestSignedAndReportAClaimThatDiffers() {
    String text = ContentModeratorTest.BENIGN;
    String heldKey = KEYS.watermark().active().id();
    ProvenanceManifest.Watermark signedWatermark =
        new ProvenanceManifest.Watermark(WatermarkParameters.SCHEME, heldKey, 0.25, 2.0, 1);
    GenerationOutput output =
        GenerationOutput.newBuilder(
                signed(Events.output("r-1", text), KEYS.signing(), signedWatermark))
            .setWatermark(
                WatermarkInfo.newBuilder()
                    .setScheme(WatermarkParameters.SCHEME)
                    .setKeyId("wm-forged")
                    .setGamma(0.5)
                    .setDelta(2.0)
                    .setContextWidth(1)
                    .build())
            .build();

    ProvenanceChecker.Checked checked = checker.inspect(output, text);
    ModerationVerdict verdict =
        moderatorUnder(PolicyLoader.loadDefault()).moderate(List.of(output)).get(0);

    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.VALID);
    assertThat(checked.findings().getWatermark())
        .as("looked for with the signed key, which this job holds, not the claimed one")
        .isEqualTo(WatermarkStatus.NOT_DETECTED);
    assertThat(checked.findings().getTokensScored()).isPositive();
    assertThat(checked.watermarkReason()).isNull();
    assertThat(checked.watermarkClaimMismatch())
        .isEqualTo(
            "keyId \""
                + heldKey
                + "\" in the manifest, \"wm-forged\" in the event; gamma 0.25 in the manifest,"
                + " 0.5 in the event");
    assertThat(verdict.getDecision()).isEqualTo(Decision.RELEASE);
    assertThat(verdict.getReasons())
        .filteredOn(reason -> reason.getCode().equals(ReasonCodes.WATERMARK_CLAIM_MISMATCH))
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.getDecision()).isEqualTo(Decision.RELEASE);
              assertThat(reason.getMessage())
                  .startsWith(
                      "the output's watermark claim differs from its signed manifest (keyId \"")
                  .contains("the watermark was looked for as the signed manifest states");
            });

    // A claim the manifest does not make at all, and one it makes that the event drops.
    GenerationOutput unsigned =
        GenerationOutput.newBuilder(signed(Events.output("r-2", text)))
            .setWatermark(output.getWatermark())
            .build();
    assertThat(checker.inspect(unsigned, text).watermarkClaimMismatch())
        .isEqualTo(
            "the event claims watermark key \"wm-forged\" of scheme \""
                + WatermarkParameters.SCHEME
                + "\", the manifest states that no watermark was embedded");
    GenerationOutput dropped = GenerationOutput.newBuilder(output).setWatermark(null).build();
    ProvenanceChecker.Checked droppedChecked = checker.inspect(dropped, text);
    assertThat(droppedChecked.watermarkClaimMismatch())
        .isEqualTo(
            "the manifest states watermark key \"" + heldKey + "\", the event claims no watermark");
    assertThat(droppedChecked.findings().getTokensScored()).isPositive();

    // A claim equal to the signed one is no mismatch, and without a valid manifest the claim is
    // all there is.
    GenerationOutput agreeing =
        GenerationOutput.newBuilder(output)
            .setWatermark(
                WatermarkInfo.newBuilder(output.getWatermark())
                    .setKeyId(heldKey)
                    .setGamma(0.25)
                    .build())
            .build();
    assertThat(checker.inspect(agreeing, text).watermarkClaimMismatch()).isNull();
    GenerationOutput edited = GenerationOutput.newBuilder(output).setText(text + " Yes.").build();
    ProvenanceChecker.Checked editedChecked = checker.inspect(edited, edited.getText());
    assertThat(editedChecked.watermarkClaimMismatch()).isNull();
    assertThat(editedChecked.findings().getWatermark()).isEqualTo(WatermarkStatus.NOT_CHECKED);
    assertThat(editedChecked.watermarkReason())
        .isEqualTo("the output claims watermark key \"wm-forged\", which this job does not hold");
  }

  @Test
  void shouldSayTheWatermarkWasNotCheckedWhenThisJobHoldsNoWatermarkKey(@TempDir Path directory) {
    // A TaskManager started without GENGUARD_WATERMARK_KEYS on an empty key directory: it used to
    // make a random watermark key of its own and call every output NOT_DETECTED under it.
    Path keyDirectory = directory.resolve("keys");
    ProvenanceKeys verifier =
        ProvenanceKeys.forVerifier(
            Map.of("GENGUARD_VERIFICATION_KEYS", KEYS.verification().toConfigEntries()),
            keyDirectory);
    ProvenanceChecker withoutKey = new ProvenanceChecker(verifier);
    String text = ContentModeratorTest.BENIGN;
    String heldByTheGenerator = KEYS.watermark().active().id();
    String noKey =
        "this job holds no watermark key (GENGUARD_WATERMARK_KEYS is not set and "
            + keyDirectory.resolve("watermark-keys").toAbsolutePath()
            + " does not exist; give this verifier the generators' watermark keys there)";
    GenerationOutput signedWatermark =
        signed(
            Events.output("r-1", text),
            KEYS.signing(),
            new ProvenanceManifest.Watermark(
                WatermarkParameters.SCHEME, heldByTheGenerator, 0.25, 2.0, 1));
    GenerationOutput claimed =
        GenerationOutput.newBuilder(Events.output("r-2", text))
            .setWatermark(
                WatermarkInfo.newBuilder()
                    .setScheme(WatermarkParameters.SCHEME)
                    .setKeyId(heldByTheGenerator)
                    .setGamma(0.25)
                    .setDelta(2.0)
                    .setContextWidth(1)
                    .build())
            .build();
    GenerationOutput unclaimed = Events.output("r-3", text);

    Map<GenerationOutput, String> reasons =
        Map.of(
            signedWatermark,
            "the signed manifest names watermark key \"" + heldByTheGenerator + "\", and " + noKey,
            claimed,
            "the output claims watermark key \"" + heldByTheGenerator + "\", and " + noKey,
            unclaimed,
            "the output claims no watermark of scheme "
                + WatermarkParameters.SCHEME
                + " and "
                + noKey);
    reasons.forEach(
        (output, reason) -> {
          ProvenanceChecker.Checked checked = withoutKey.inspect(output, text);
          assertThat(checked.findings().getWatermark())
              .as(output.getRequestId())
              .isEqualTo(WatermarkStatus.NOT_CHECKED);
          assertThat(checked.findings().getTokensScored()).isZero();
          assertThat(checked.watermarkReason()).as(output.getRequestId()).isEqualTo(reason);
          assertThat(checker.inspect(output, text).findings().getWatermark())
              .as("with the key: looked for")
              .isEqualTo(WatermarkStatus.NOT_DETECTED);
        });
    assertThat(keyDirectory).doesNotExist();

    // A policy that requires the watermark holds such an output, saying what to configure.
    PolicySet requiring =
        PolicyLoader.parse(
            PolicyLoader.defaultText()
                .replace("watermarkNotDetected: RELEASE", "watermarkNotDetected: REVIEW"),
            "requiring.yaml");
    ModerationVerdict verdict =
        moderatorUnder(requiring, withoutKey).moderate(List.of(signedWatermark)).get(0);
    assertThat(verdict.getDecision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.getReasons())
        .filteredOn(reason -> reason.getCode().equals(ReasonCodes.WATERMARK_NOT_CHECKED))
        .singleElement()
        .extracting(Reason::getMessage)
        .asString()
        .startsWith("the generator watermark could not be checked: the signed manifest names")
        .contains("GENGUARD_WATERMARK_KEYS is not set");
  }

  @Test
  void shouldFindAManifestSignedAfterItsKeysNotAfterDateInvalidSayingSo() {
    // The generators' key was retired a second before this output's signed time.
    String retiredKey = KEYS.signing().active().id();
    ProvenanceChecker retiring =
        new ProvenanceChecker(
            new ProvenanceKeys(
                KEYS.watermark(),
                null,
                VerificationKeyRing.parse(
                    KEYS.verification().toConfigEntries().strip()
                        + ":notAfter="
                        + Events.NOW.minusSeconds(1),
                    "GENGUARD_VERIFICATION_KEYS",
                    true)));
    GenerationOutput output = signed(Events.output("r-1", TEXT));

    ProvenanceChecker.Checked checked = retiring.inspect(output, output.getText());
    ModerationVerdict verdict =
        moderatorUnder(PolicyLoader.loadDefault(), retiring).moderate(List.of(output)).get(0);

    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(checked.manifestKeyUnknown()).isFalse();
    String reason =
        "signed with key '"
            + retiredKey
            + "' after its not-after date 2026-11-25T09:59:59Z (the manifest states it was"
            + " generated at 2026-11-25T10:00:00Z): the key was retired then, and nothing it signs"
            + " later is trusted (a leaked retired key, or a generator still signing with it)";
    assertThat(checked.manifestReason()).isEqualTo(reason);
    assertThat(verdict.getDecision()).as("the built-in manifestInvalid").isEqualTo(Decision.BLOCK);
    assertThat(verdict.getReasons())
        .filteredOn(r -> r.getCode().equals(ReasonCodes.MANIFEST_INVALID))
        .singleElement()
        .extracting(Reason::getMessage)
        .isEqualTo("the provenance manifest does not verify: " + reason);

    // Signed at the not-after instant itself: still in force.
    ProvenanceChecker atTheDate =
        new ProvenanceChecker(
            new ProvenanceKeys(
                KEYS.watermark(),
                null,
                VerificationKeyRing.parse(
                    KEYS.verification().toConfigEntries().strip() + ":notAfter=" + Events.NOW,
                    "GENGUARD_VERIFICATION_KEYS",
                    true)));
    assertThat(atTheDate.inspect(output, output.getText()).findings().getManifest())
        .isEqualTo(ManifestStatus.VALID);
  }

  private ContentModerator moderatorUnder(PolicySet policy) {
    return moderatorUnder(policy, checker);
  }

  private static ContentModerator moderatorUnder(PolicySet policy, ProvenanceChecker checker) {
    return new ContentModerator(
        () -> ContentModeratorTest.constantScorer(0.01),
        PolicyEngine.of(policy),
        TextScreening.defaults(),
        BiasAnalyzer.loadDefault(),
        checker,
        Map.of("test", "1"),
        Duration.ofSeconds(5),
        Clock.fixed(Events.NOW, ZoneOffset.UTC));
  }

  @Test
  void shouldBlockTheOutputACopiedManifestWasMovedOntoAndSayWhichIdsDiffer() {
    GenerationOutput original = signed(Events.output("r-1", TEXT));
    GenerationOutput copy = withManifestOf(Events.output("r-2", TEXT), original);
    ContentModerator moderator =
        new ContentModerator(
            () -> ContentModeratorTest.constantScorer(0.01),
            PolicyEngine.of(PolicyLoader.loadDefault()),
            TextScreening.defaults(),
            BiasAnalyzer.loadDefault(),
            checker,
            Map.of("test", "1"),
            Duration.ofSeconds(5),
            Clock.fixed(Events.NOW, ZoneOffset.UTC));

    List<ModerationVerdict> verdicts = moderator.moderate(List.of(original, copy));

    assertThat(verdicts.get(0).getDecision()).isEqualTo(Decision.RELEASE);
    assertThat(verdicts.get(0).getProvenance().getManifest()).isEqualTo(ManifestStatus.VALID);
    ModerationVerdict moved = verdicts.get(1);
    assertThat(moved.getProvenance().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(moved.getDecision())
        .as("the built-in policy's manifestInvalid")
        .isEqualTo(Decision.BLOCK);
    assertThat(moved.getReasons())
        .filteredOn(reason -> reason.getCode().equals(ReasonCodes.MANIFEST_INVALID))
        .singleElement()
        .extracting(Reason::getMessage)
        .isEqualTo(
            "the provenance manifest does not verify: it was signed for another output (requestId"
                + " \"r-1\" in the manifest, \"r-2\" in the event; outputId \"out-r-1\" in the"
                + " manifest, \"out-r-2\" in the event)");
  }

  @Test
  void shouldBlockAGenuineOutputRePublishedUnderAnotherTenantSayingTheTenantDoesNotMatch() {
    // Someone who can write gen.outputs re-publishes acme's output, manifest and all, under
    // globex: judged under globex's policy, it kept a VALID manifest while v1 named no tenant.
    GenerationOutput original = signed(Events.output("r-1", TEXT));
    GenerationOutput copy = GenerationOutput.newBuilder(original).setTenantId("globex").build();

    ProvenanceChecker.Checked checked = checker.inspect(copy, copy.getText());
    List<ModerationVerdict> verdicts =
        moderatorUnder(PolicyLoader.loadDefault()).moderate(List.of(original, copy));

    String reason =
        "the tenant does not match: the manifest was signed for tenant \"acme\", the output is"
            + " under tenant \"globex\" (a genuine output re-published under another tenant)";
    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(checked.manifestKeyUnknown()).isFalse();
    assertThat(checked.manifestReason()).isEqualTo(reason);
    assertThat(verdicts.get(0).getProvenance().getManifest()).isEqualTo(ManifestStatus.VALID);
    assertThat(verdicts.get(0).getDecision()).isEqualTo(Decision.RELEASE);
    ModerationVerdict republished = verdicts.get(1);
    assertThat(republished.getTenantId()).isEqualTo("globex");
    assertThat(republished.getProvenance().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(republished.getDecision())
        .as("the built-in policy's manifestInvalid")
        .isEqualTo(Decision.BLOCK);
    assertThat(republished.getReasons())
        .filteredOn(r -> r.getCode().equals(ReasonCodes.MANIFEST_INVALID))
        .singleElement()
        .extracting(Reason::getMessage)
        .isEqualTo("the provenance manifest does not verify: " + reason);
  }

  @Test
  void shouldStillFindAManifestSignedInTheV1LayoutValid() {
    // Outputs signed before the forty-second session, stored or in flight, verify as before; v1
    // names no tenant, so it cannot tell a copy under another tenant (README, weak list).
    GenerationOutput old = signed(Events.output("r-1", TEXT), null, KEYS.signing(), null);

    assertThat(old.getManifest().getCanonicalJson())
        .startsWith("{\"format\":\"" + ProvenanceManifest.FORMAT_V1 + "\"")
        .doesNotContain("tenantId");
    ProvenanceChecker.Checked checked = checker.inspect(old, old.getText());
    assertThat(checked.findings().getManifest()).isEqualTo(ManifestStatus.VALID);
    assertThat(checked.manifestReason()).isNull();
    GenerationOutput copy = GenerationOutput.newBuilder(old).setTenantId("globex").build();
    assertThat(checker.check(copy, copy.getText()).getManifest()).isEqualTo(ManifestStatus.VALID);
  }

  @Test
  void shouldBlockAV1ManifestGeneratedAfterTheV1CutOffSayingWhy() {
    // GENGUARD_PROVENANCE_V1_NOT_AFTER: once every generator signs v2, a v1 manifest stating a
    // later time (a generator not upgraded, or a copy that v1 cannot tie to its tenant) is INVALID.
    GenerationOutput old = signed(Events.output("r-1", TEXT), null, KEYS.signing(), null);
    ProvenanceKeys cutOff =
        new ProvenanceKeys(
            KEYS.watermark(), null, KEYS.verification().withV1NotAfter(Events.NOW.minusSeconds(1)));
    ProvenanceChecker checked = new ProvenanceChecker(cutOff);

    ProvenanceChecker.Checked v1 = checked.inspect(old, old.getText());
    assertThat(v1.findings().getManifest()).isEqualTo(ManifestStatus.INVALID);
    assertThat(v1.manifestReason())
        .startsWith("a " + ProvenanceManifest.FORMAT_V1 + " manifest")
        .contains("GENGUARD_PROVENANCE_V1_NOT_AFTER");
    GenerationOutput current = signed(Events.output("r-2", TEXT));
    assertThat(checked.check(current, current.getText()).getManifest())
        .as("v2 is not held to it")
        .isEqualTo(ManifestStatus.VALID);
    ProvenanceKeys later =
        new ProvenanceKeys(KEYS.watermark(), null, KEYS.verification().withV1NotAfter(Events.NOW));
    assertThat(new ProvenanceChecker(later).check(old, old.getText()).getManifest())
        .as("generated at the cut-off")
        .isEqualTo(ManifestStatus.VALID);
  }
}
