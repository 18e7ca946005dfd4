package io.genguard.moderation.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genguard.events.v1.Decision;
import io.genguard.moderation.scoring.Category;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLoaderTest {
  @Test
  void shouldLoadTheDefaultPolicyFromTheClasspath() {
    PolicySet set = PolicyLoader.loadDefault();
    assertThat(set.policyId()).isEqualTo("genguard-default");
    assertThat(set.defaultPolicy().categories()).containsOnlyKeys(Category.values());
    assertThat(set.defaultPolicy().failures().scorerError()).isNotEqualTo(Decision.RELEASE);
    assertThat(set.sha256()).hasSize(64);
  }

  @Test
  void shouldDigestTheFilesBytesSoThatSha256sumMatchesTheVerdicts(@TempDir Path dir)
      throws Exception {
    // Multi-byte characters and CRLF line ends: the digest is of the bytes as stored.
    String yaml =
        new String(
                PolicyLoader.class
                    .getResourceAsStream("/policies/default-policy.yaml")
                    .readAllBytes(),
                StandardCharsets.UTF_8)
            .replace("\n", "\r\n")
            .replaceFirst("#", "# Richtlinie für alle Mandanten, überprüft \u2713\r\n#");
    Path file = dir.resolve("policy.yaml");
    Files.write(file, yaml.getBytes(StandardCharsets.UTF_8));

    assertThat(PolicyLoader.load(file).sha256())
        .isEqualTo(
            HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
  }

  @Test
  void shouldRejectAThresholdAboveOneNamingItsLine() {
    String yaml =
        PolicyFixtures.POLICY.replace(
            "violence:      {review: 0.50, block: 0.90}",
            "violence:      {review: 0.50, block: 1.5}");
    assertInvalid(
        yaml, 9, "categories.violence.block is 1.5; thresholds are probabilities in 0..1");
  }

  @Test
  void shouldRejectAReviewThresholdAboveTheBlockThreshold() {
    String yaml =
        PolicyFixtures.POLICY.replace(
            "hate:          {review: 0.50, block: 0.90}",
            "hate:          {review: 0.95, block: 0.90}");
    assertInvalid(yaml, 5, "review threshold 0.95 is above block threshold 0.9");
  }

  @Test
  void shouldRejectAnUnknownKeyNamingItsLine() {
    String yaml = PolicyFixtures.POLICY.replace("  failures:\n", "  failurs:\n");
    assertInvalid(yaml, 12, "unknown key 'failurs' in default");
  }

  @Test
  void shouldRejectReleaseOnScorerErrorBecauseModerationFailsClosed() {
    String yaml = PolicyFixtures.POLICY.replace("scorerError: REVIEW", "scorerError: RELEASE");
    assertInvalid(yaml, 13, "fail closed");
  }

  @Test
  void shouldRejectReleaseOnScorerTimeoutInATenantSection() {
    String yaml = PolicyFixtures.POLICY + "    failures: {scorerTimeout: release}\n";
    assertInvalid(yaml, 34, "failures.scorerTimeout is RELEASE");
  }

  @Test
  void shouldRejectAnUnknownCategory() {
    String yaml = PolicyFixtures.POLICY.replace("illicit:", "illegal:");
    assertInvalid(yaml, 11, "Unknown category 'illegal'");
  }

  @Test
  void shouldRejectAPolicyThatLeavesACategoryWithoutThresholds() {
    String yaml =
        PolicyFixtures.POLICY.replace("    self_harm:     {review: 0.30, block: 0.85}\n", "");
    assertInvalid(yaml, 5, "categories has no thresholds for 'self_harm'");
  }

  @Test
  void shouldRejectAnUnknownDecision() {
    String yaml =
        PolicyFixtures.POLICY.replace("scorerTimeout: BLOCK", "scorerTimeout: QUARANTINE");
    assertInvalid(yaml, 14, "expected RELEASE, REVIEW or BLOCK");
  }

  @Test
  void shouldReadTheThreatRuleWithReviewAsItsDefault() {
    PolicySet set = PolicyFixtures.policy();
    assertThat(set.defaultPolicy().threats().decision()).isEqualTo(Decision.REVIEW);
    assertThat(set.forTenant("strict").threats().decision()).isEqualTo(Decision.BLOCK);
    assertThat(set.forTenant("threats-off").threats().decision()).isEqualTo(Decision.RELEASE);
    assertThat(PolicyLoader.loadDefault().defaultPolicy().threats().decision())
        .isEqualTo(Decision.REVIEW);
  }

  @Test
  void shouldRejectAnUnknownThreatDecisionOrKeyNamingItsLine() {
    String yaml = PolicyFixtures.POLICY.replace("decision: BLOCK", "decision: ESCALATE");
    assertInvalid(yaml, 23, "threats.decision is 'ESCALATE'; expected RELEASE, REVIEW or BLOCK");
    String unknown =
        PolicyFixtures.POLICY.replace("{decision: RELEASE}", "{decision: RELEASE, level: 3}");
    assertInvalid(unknown, 25, "unknown key 'level' in threats");
  }

  @Test
  void shouldReadTheObfuscationScreeningWithReviewAsItsDefault() {
    assertThat(PolicyFixtures.policy().defaultPolicy().screening().obfuscated())
        .isEqualTo(Decision.REVIEW);
    assertThat(PolicyLoader.loadDefault().defaultPolicy().screening().obfuscated())
        .isEqualTo(Decision.REVIEW);
    PolicySet strict =
        PolicyLoader.parse(
            PolicyFixtures.POLICY + "  disguise-strict:\n    screening: {obfuscated: BLOCK}\n",
            "policy.yaml");
    assertThat(strict.forTenant("disguise-strict").screening().obfuscated())
        .isEqualTo(Decision.BLOCK);
    assertThat(strict.forTenant("disguise-strict").screening().unsupportedLanguage())
        .isEqualTo(Decision.REVIEW);
  }

  @Test
  void shouldReadTheSexualizedMinorsRuleWithReviewAsItsDefault() {
    PolicySet set = PolicyFixtures.policy();
    assertThat(set.defaultPolicy().sexualizedMinors().decision()).isEqualTo(Decision.REVIEW);
    assertThat(set.forTenant("minors-strict").sexualizedMinors().decision())
        .isEqualTo(Decision.BLOCK);
    assertThat(set.forTenant("minors-off").sexualizedMinors().decision())
        .isEqualTo(Decision.RELEASE);
    assertThat(set.forTenant("minors-off").threats().decision()).isEqualTo(Decision.REVIEW);
    assertThat(PolicyLoader.loadDefault().defaultPolicy().sexualizedMinors().decision())
        .isEqualTo(Decision.REVIEW);
    Policy kids = PolicyLoader.loadDefault().forTenant("kids-edu");
    assertThat(kids.sexualizedMinors().decision()).isEqualTo(Decision.BLOCK);
    assertThat(kids.threats().decision()).isEqualTo(Decision.BLOCK);
    String unknown =
        PolicyFixtures.POLICY.replace(
            "sexualizedMinors: {decision: BLOCK}", "sexualizedMinors: {decision: BLOCK, age: 3}");
    assertInvalid(unknown, 27, "unknown key 'age' in sexualizedMinors");
    String bad =
        PolicyFixtures.POLICY.replace(
            "sexualizedMinors: {decision: RELEASE}", "sexualizedMinors: {decision: MAYBE}");
    assertInvalid(
        bad, 29, "sexualizedMinors.decision is 'MAYBE'; expected RELEASE, REVIEW or BLOCK");
  }

  @Test
  void shouldReadThePrejudiceFrameRuleOffUnlessATenantTurnsItOn() {
    PolicySet set = PolicyFixtures.policy();
    assertThat(set.defaultPolicy().framedPrejudice().decision()).isEqualTo(Decision.RELEASE);
    assertThat(set.forTenant("frames-on").framedPrejudice().decision()).isEqualTo(Decision.REVIEW);
    PolicySet shipped = PolicyLoader.loadDefault();
    assertThat(shipped.defaultPolicy().framedPrejudice().decision()).isEqualTo(Decision.RELEASE);
    assertThat(shipped.forTenant("kids-edu").framedPrejudice().decision())
        .isEqualTo(Decision.REVIEW);
    String bad =
        PolicyFixtures.POLICY.replace(
            "framedPrejudice: {decision: REVIEW}", "framedPrejudice: {decision: SOMETIMES}");
    assertThatThrownBy(() -> PolicyLoader.parse(bad, "frames.yaml"))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessageContaining(
            "framedPrejudice.decision is 'SOMETIMES'; expected RELEASE, REVIEW or BLOCK");
  }

  @Test
  void shouldReadTheSelfHarmRuleWithReviewAsItsDefault() {
    PolicySet set = PolicyFixtures.policy();
    assertThat(set.defaultPolicy().selfHarm().decision()).isEqualTo(Decision.REVIEW);
    assertThat(set.forTenant("self-harm-off").selfHarm().decision()).isEqualTo(Decision.RELEASE);
    assertThat(set.forTenant("self-harm-off").threats().decision()).isEqualTo(Decision.REVIEW);
    PolicySet shipped = PolicyLoader.loadDefault();
    assertThat(shipped.defaultPolicy().selfHarm().decision()).isEqualTo(Decision.REVIEW);
    assertThat(shipped.forTenant("kids-edu").selfHarm().decision()).isEqualTo(Decision.BLOCK);
    String bad =
        PolicyFixtures.POLICY.replace(
            "selfHarm: {decision: RELEASE}", "selfHarm: {decision: WARN}");
    assertInvalid(bad, 33, "selfHarm.decision is 'WARN'; expected RELEASE, REVIEW or BLOCK");
  }

  @Test
  void shouldHoldUncheckedWatermarksAsStrictlyAsMissingOnesWhereTheWatermarkIsRequired() {
    PolicySet set = PolicyFixtures.policy();
    assertThat(set.defaultPolicy().provenance())
        .as("not required: nothing about the watermark holds an output")
        .isEqualTo(
            new Policy.Provenance(
                Decision.BLOCK,
                Decision.RELEASE,
                Decision.RELEASE,
                Decision.RELEASE,
                Decision.RELEASE));
    assertThat(set.forTenant("strict").provenance())
        .as("required (REVIEW): unchecked as strictly, too short to tell goes to REVIEW")
        .isEqualTo(
            new Policy.Provenance(
                Decision.BLOCK,
                Decision.REVIEW,
                Decision.REVIEW,
                Decision.REVIEW,
                Decision.REVIEW));
    PolicySet explicit =
        PolicyLoader.parse(
            PolicyFixtures.POLICY.replace(
                "watermarkNotDetected: REVIEW",
                "watermarkNotDetected: REVIEW\n      watermarkNotChecked: BLOCK\n"
                    + "      watermarkTooShort: RELEASE"),
            "policy.yaml");
    assertThat(explicit.forTenant("strict").provenance().watermarkNotChecked())
        .isEqualTo(Decision.BLOCK);
    assertThat(explicit.forTenant("strict").provenance().watermarkTooShort())
        .isEqualTo(Decision.RELEASE);
    assertThat(PolicyLoader.loadDefault().forTenant("kids-edu").provenance().watermarkNotChecked())
        .isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldHoldAManifestUnderAnUnknownKeyAsAnInvalidOneUnlessThePolicySaysOtherwise() {
    PolicySet shipped = PolicyLoader.loadDefault();
    assertThat(shipped.defaultPolicy().provenance().manifestUnknownKey())
        .as("left out: the stricter of manifestInvalid (BLOCK) and manifestAbsent")
        .isEqualTo(Decision.BLOCK);
    assertThat(shipped.forTenant("kids-edu").provenance().manifestUnknownKey())
        .isEqualTo(Decision.BLOCK);
    PolicySet rotating =
        PolicyLoader.parse(
            PolicyFixtures.POLICY.replace(
                "manifestAbsent: REVIEW",
                "manifestAbsent: REVIEW\n      manifestUnknownKey: REVIEW"),
            "policy.yaml");
    assertThat(rotating.forTenant("strict").provenance().manifestUnknownKey())
        .isEqualTo(Decision.REVIEW);
    assertThat(rotating.forTenant("strict").provenance().manifestInvalid())
        .isEqualTo(Decision.BLOCK);
    PolicySet reviewed =
        PolicyLoader.parse(
            PolicyFixtures.POLICY.replace(
                "manifestAbsent: REVIEW", "manifestAbsent: REVIEW\n      manifestInvalid: REVIEW"),
            "policy.yaml");
    assertThat(reviewed.forTenant("strict").provenance().manifestUnknownKey())
        .as("left out, the stricter of manifestInvalid and manifestAbsent")
        .isEqualTo(Decision.REVIEW);
  }

  @Test
  void shouldRejectAnInvalidManifestLessStrictThanAMissingOneNamingItsLine() {
    String yaml =
        PolicyFixtures.POLICY.replace(
            "manifestAbsent: REVIEW", "manifestAbsent: REVIEW\n      manifestInvalid: RELEASE");
    assertInvalid(
        yaml,
        21,
        "provenance.manifestInvalid is RELEASE but manifestAbsent is REVIEW in tenant 'strict'; a"
            + " tampered or forged manifest proves no more than none");
  }

  @Test
  void shouldRejectAnUnknownKeyLessStrictThanAMissingManifestNamingItsLine() {
    String yaml =
        PolicyFixtures.POLICY.replace(
            "manifestAbsent: REVIEW", "manifestAbsent: REVIEW\n      manifestUnknownKey: RELEASE");
    assertInvalid(
        yaml,
        21,
        "provenance.manifestUnknownKey is RELEASE but manifestAbsent is REVIEW in tenant"
            + " 'strict'; a manifest under a signing key this job does not know proves no more than"
            + " none");
  }

  @Test
  void shouldReadWhatAnEchoedOutputCallsForAndReleaseItWhenLeftOut() {
    PolicySet shipped = PolicyLoader.loadDefault();
    assertThat(shipped.defaultPolicy().provenance().manifestEchoed())
        .as("left out: an echoed output is judged like any other, as before the key existed")
        .isEqualTo(Decision.RELEASE);
    assertThat(shipped.forTenant("kids-edu").provenance().manifestEchoed())
        .isEqualTo(Decision.RELEASE);
    PolicySet held =
        PolicyLoader.parse(
            PolicyFixtures.POLICY.replace(
                "manifestAbsent: REVIEW", "manifestAbsent: REVIEW\n      manifestEchoed: REVIEW"),
            "policy.yaml");
    assertThat(held.forTenant("strict").provenance().manifestEchoed()).isEqualTo(Decision.REVIEW);
    assertThat(held.defaultPolicy().provenance().manifestEchoed()).isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldRejectAnEchoedOutputHeldMoreStrictlyThanAMissingManifestNamingItsLine() {
    String yaml =
        PolicyFixtures.POLICY.replace(
            "manifestAbsent: REVIEW", "manifestAbsent: REVIEW\n      manifestEchoed: BLOCK");
    assertInvalid(
        yaml,
        21,
        "provenance.manifestEchoed is BLOCK but manifestAbsent is REVIEW in tenant 'strict'; only"
            + " a valid manifest shows that an output came from the echo backend");
    assertInvalid(
        PolicyFixtures.POLICY.replace(
            "  failures:\n", "  provenance: {manifestEchoed: REVIEW}\n  failures:\n"),
        12,
        "provenance.manifestEchoed is REVIEW but manifestAbsent is RELEASE in default;");
  }

  @Test
  void shouldRejectAnUncheckedWatermarkLessStrictThanAMissingOneNamingItsLine() {
    String yaml =
        PolicyFixtures.POLICY.replace(
            "watermarkNotDetected: REVIEW",
            "watermarkNotDetected: REVIEW\n      watermarkNotChecked: RELEASE");
    assertInvalid(
        yaml,
        22,
        "provenance.watermarkNotChecked is RELEASE but watermarkNotDetected is REVIEW in tenant"
            + " 'strict'; a watermark that cannot be checked");
  }

  @Test
  void shouldRejectReleaseForATruncatedOrInvalidTextBecauseModerationFailsClosed() {
    String truncated =
        PolicyFixtures.POLICY.replace(
            "  failures:\n", "  screening: {empty: RELEASE, truncated: RELEASE}\n  failures:\n");
    assertInvalid(
        truncated,
        12,
        "screening.truncated is RELEASE in default; only the first 20000 characters of such a text"
            + " are scored and checked by the rules, so the rest would be released unread; use"
            + " REVIEW or BLOCK");
    String invalid =
        PolicyFixtures.POLICY.replace(
            "    threats:\n      decision: BLOCK\n",
            "    threats:\n      decision: BLOCK\n    screening:\n      invalidUtf8: RELEASE\n");
    assertInvalid(invalid, 25, "screening.invalidUtf8 is RELEASE in tenant 'strict'");
    PolicySet allowed =
        PolicyLoader.parse(
            PolicyFixtures.POLICY.replace(
                "  failures:\n",
                "  screening: {empty: RELEASE, unsupportedLanguage: RELEASE, truncated: BLOCK}\n"
                    + "  failures:\n"),
            "policy.yaml");
    assertThat(allowed.defaultPolicy().screening())
        .isEqualTo(
            new Policy.Screening(
                Decision.RELEASE,
                Decision.BLOCK,
                Decision.REVIEW,
                Decision.RELEASE,
                Decision.REVIEW));
  }

  @Test
  void shouldRejectBrokenYamlWithTheParsersLine() {
    String yaml = "policyId: x\nversion: \"1\"\ndefault:\n  categories: {hate: [\n";
    assertThatThrownBy(() -> PolicyLoader.parse(yaml, "broken.yaml"))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessageContaining("Invalid policy broken.yaml at line")
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void shouldRefuseAPolicyLargerThanTheLimitBeforeParsingIt(@TempDir Path dir) throws Exception {
    // One line just over the limit: the YAML parser would scan all of it before refusing it (a 30
    // MB line took three minutes), and say so in other words.
    String oneLine = "policyId: " + "x".repeat(PolicyLoader.MAX_POLICY_BYTES) + "\n";
    assertThatThrownBy(() -> PolicyLoader.parse(oneLine, "huge.yaml"))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessage(
            "Invalid policy huge.yaml: the policy is larger than 3145728 characters, the most"
                + " accepted");

    // A file is read only up to the limit.
    String valid = PolicyLoader.defaultText();
    String padding = "# " + "p".repeat(97) + "\n";
    StringBuilder atLimit = new StringBuilder(valid);
    while (atLimit.length() + padding.length() <= PolicyLoader.MAX_POLICY_BYTES) {
      atLimit.append(padding);
    }
    atLimit.append("#".repeat(PolicyLoader.MAX_POLICY_BYTES - atLimit.length()));
    Path largest = dir.resolve("largest.yaml");
    Files.writeString(largest, atLimit, StandardCharsets.US_ASCII);
    assertThat(Files.size(largest)).isEqualTo(PolicyLoader.MAX_POLICY_BYTES);
    assertThat(PolicyLoader.load(largest).policyId())
        .as("the limit itself")
        .isEqualTo("genguard-default");

    Path over = dir.resolve("over.yaml");
    Files.writeString(over, atLimit + "#", StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> PolicyLoader.load(over))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessage(
            "Invalid policy "
                + over
                + ": the policy is larger than 3145728 bytes, the most accepted");
  }

  @Test
  void shouldRefuseAFileThatIsNotUtf8OrCannotBeRead(@TempDir Path dir) throws Exception {
    Path latin1 = dir.resolve("latin1.yaml");
    Files.write(
        latin1,
        PolicyLoader.defaultText()
            .replaceFirst("#", "# f\u00fcr")
            .getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> PolicyLoader.load(latin1))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessage("Invalid policy " + latin1 + ": the file is not valid UTF-8");
    assertThatThrownBy(() -> PolicyLoader.load(dir.resolve("absent.yaml")))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessageContaining("cannot read the file");
  }

  @Test
  void shouldRejectADuplicateKey() {
    String yaml =
        PolicyFixtures.POLICY.replace("version: \"7\"\n", "version: \"7\"\nversion: \"8\"\n");
    assertInvalid(yaml, 3, "duplicate key 'version' (first at line 2)");
  }

  @Test
  void shouldRejectAMissingVersion() {
    String yaml = PolicyFixtures.POLICY.replace("version: \"7\"\n", "");
    assertInvalid(yaml, 1, "missing required key 'version'");
  }

  private static void assertInvalid(String yaml, int line, String reason) {
    ThrowingCallable parse = () -> PolicyLoader.parse(yaml, "policy.yaml");
    assertThatThrownBy(parse)
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e -> {
              assertThat(e.line()).as(e.getMessage()).isEqualTo(line);
              assertThat(e.reason()).contains(reason);
              assertThat(e.getMessage()).startsWith("Invalid policy policy.yaml at line " + line);
            });
  }
}
