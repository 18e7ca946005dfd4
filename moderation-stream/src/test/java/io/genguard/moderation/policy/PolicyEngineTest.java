package io.genguard.moderation.policy;

import static io.genguard.moderation.policy.PolicyFixtures.scores;
import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.events.v1.Decision;
import io.genguard.events.v1.ManifestStatus;
import io.genguard.events.v1.ProvenanceFindings;
import io.genguard.events.v1.WatermarkStatus;
import io.genguard.moderation.bias.BiasFindings;
import io.genguard.moderation.bias.PrejudiceFrames;
import io.genguard.moderation.policy.ModerationFindings.ScorerFailure;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.MinorSexualization;
import io.genguard.moderation.scoring.RuleMatch;
import io.genguard.moderation.scoring.SelfHarmPatterns;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.moderation.scoring.ThreatPatterns;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyEngineTest {
  private final PolicyEngine engine = PolicyEngine.of(PolicyFixtures.policy());

  @Test
  void shouldReleaseWhenEveryCategoryIsBelowItsReviewThreshold() {
    PolicyVerdict verdict =
        engine.decide(ModerationFindings.scored("t1", scores(0.05, Category.HARASSMENT, 0.45)));
    assertThat(verdict.decision()).isEqualTo(Decision.RELEASE);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.CLEAR);
              assertThat(reason.category()).isEqualTo("harassment");
              assertThat(reason.message()).contains("harassment 0.450 < 0.50");
            });
  }

  @Test
  void shouldNameTheCategoryClosestToItsOwnThresholdWhenReleasing() {
    // hate is 0.31 of its way to 0.50; sexual_minors, at 0.0, is a smaller gap (0.20) from its
    // lower threshold but no nearer to being held.
    List<VerdictReason> reasons =
        engine
            .decide(
                ModerationFindings.scored(
                    "t1", scores(0.0, Category.HATE, 0.157, Category.HARASSMENT, 0.10)))
            .reasons();
    assertThat(reasons).hasSize(1);
    assertThat(reasons.get(0).category()).isEqualTo("hate");
    assertThat(reasons.get(0).message()).contains("closest: hate 0.157 < 0.50");
  }

  @Test
  void shouldReviewWhenACategoryReachesItsReviewThreshold() {
    PolicyVerdict verdict =
        engine.decide(ModerationFindings.scored("t1", scores(0.01, Category.ILLICIT, 0.50)));
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.CATEGORY_REVIEW);
              assertThat(reason.category()).isEqualTo("illicit");
              assertThat(reason.score()).isEqualTo(0.50);
              assertThat(reason.threshold()).isEqualTo(0.50);
            });
  }

  @Test
  void shouldBlockWhenAnyCategoryExceedsBlockThreshold() {
    PolicyVerdict verdict =
        engine.decide(
            ModerationFindings.scored(
                "t1", scores(0.01, Category.HATE, 0.95, Category.VIOLENCE, 0.6)));
    assertThat(verdict.decision()).isEqualTo(Decision.BLOCK);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.CATEGORY_BLOCK, ReasonCodes.CATEGORY_REVIEW);
    assertThat(verdict.reasons().get(0).message())
        .isEqualTo("hate score 0.950 is at or above the BLOCK threshold 0.90");
  }

  @Test
  void shouldUseLowerBarsForSexualContentInvolvingMinors() {
    PolicyVerdict verdict =
        engine.decide(ModerationFindings.scored("t1", scores(0.01, Category.SEXUAL_MINORS, 0.61)));
    assertThat(verdict.decision()).isEqualTo(Decision.BLOCK);
  }

  @Test
  void shouldRecordThePolicyIdAndVersionThatDecided() {
    PolicyVerdict verdict = engine.decide(ModerationFindings.scored("anyone", scores(0.0)));
    assertThat(verdict.policyId()).isEqualTo("test-policy");
    assertThat(verdict.policyVersion()).isEqualTo("7");
  }

  @Test
  void shouldApplyATenantsOverridesAndKeepTheDefaultsItDoesNotOverride() {
    ModerationFindings violent =
        ModerationFindings.scored("strict", scores(0.0, Category.VIOLENCE, 0.25));
    PolicyVerdict strict = engine.decide(violent);
    assertThat(strict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(strict.policyId()).isEqualTo("test-policy:strict");
    assertThat(strict.reasons().get(0).threshold()).isEqualTo(0.20);
    // block for violence still comes from the default (0.90)
    assertThat(
            engine
                .decide(ModerationFindings.scored("strict", scores(0.0, Category.VIOLENCE, 0.89)))
                .decision())
        .isEqualTo(Decision.REVIEW);
    assertThat(
            engine
                .decide(ModerationFindings.scored("other", scores(0.0, Category.VIOLENCE, 0.25)))
                .decision())
        .isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldHoldTheTextWhenTheScorerFails() {
    ModerationFindings failed =
        ModerationFindings.builder("t1")
            .scorerFailure(
                new ScorerFailure(ScorerFailure.Kind.ERROR, "ONNX Runtime: out of memory"))
            .build();
    PolicyVerdict verdict = engine.decide(failed);
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.SCORER_ERROR);
              assertThat(reason.message()).contains("ONNX Runtime: out of memory");
            });
  }

  @Test
  void shouldBlockOnScorerTimeoutWhenThePolicySaysSo() {
    ModerationFindings timedOut =
        ModerationFindings.builder("t1")
            .scorerFailure(
                new ScorerFailure(ScorerFailure.Kind.TIMEOUT, "no answer within 2000 ms"))
            .build();
    assertThat(engine.decide(timedOut).decision()).isEqualTo(Decision.BLOCK);
  }

  @Test
  void shouldNeverReleaseATextThatHasNoScores() {
    ModerationFindings nothing = ModerationFindings.builder("t1").build();
    PolicyVerdict verdict = engine.decide(nothing);
    assertThat(verdict.decision()).isNotEqualTo(Decision.RELEASE);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.SCORER_ERROR);
  }

  @Test
  void shouldBlockAnOutputWhoseManifestWasTamperedWith() {
    PolicyVerdict verdict =
        engine.decide(withProvenance("t1", ManifestStatus.INVALID, WatermarkStatus.DETECTED));
    assertThat(verdict.decision()).isEqualTo(Decision.BLOCK);
    assertThat(verdict.reasons().get(0).code()).isEqualTo(ReasonCodes.MANIFEST_INVALID);
  }

  @Test
  void shouldReleaseWithoutManifestOrWatermarkUnlessTheTenantRequiresThem() {
    assertThat(
            engine
                .decide(withProvenance("t1", ManifestStatus.ABSENT, WatermarkStatus.NOT_DETECTED))
                .decision())
        .isEqualTo(Decision.RELEASE);
    PolicyVerdict strict =
        engine.decide(
            withProvenance("strict", ManifestStatus.ABSENT, WatermarkStatus.NOT_DETECTED));
    assertThat(strict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(strict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.MANIFEST_ABSENT, ReasonCodes.WATERMARK_NOT_DETECTED);
    assertThat(strict.reasons().get(1).message()).contains("not human-written");
  }

  @Test
  void shouldNotCallATextTooShortWhenItsScriptHasNoSpacesBetweenWords() {
    // A Chinese or Thai text of any length is one word per run between punctuation: the watermark
    // scores few pairs, and "too short" would be the wrong explanation.
    PolicyVerdict strict =
        engine.decide(withProvenance("strict", ManifestStatus.VALID, WatermarkStatus.TOO_SHORT));

    assertThat(strict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(strict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.WATERMARK_TOO_SHORT);
              assertThat(reason.message())
                  .contains("too few distinct word pairs")
                  .contains("120 scored")
                  .contains("a script without spaces between words (Chinese, Japanese, Thai)");
            });
  }

  @Test
  void shouldGiveTheCheckersCountsAndExplanationWhenATextIsTooShort() {
    ProvenanceFindings provenance =
        ProvenanceFindings.newBuilder()
            .setWatermark(WatermarkStatus.TOO_SHORT)
            .setTokensScored(18)
            .setManifest(ManifestStatus.VALID)
            .build();
    String why =
        "18 distinct word pairs among 3,600 tokens: the text repeats the same few words, and a"
            + " repeated word pair counts once";
    PolicyVerdict strict =
        engine.decide(
            ModerationFindings.builder("strict")
                .scores(scores(0.01))
                .provenance(provenance)
                .watermarkReason(why)
                .build());

    assertThat(strict.reasons())
        .singleElement()
        .satisfies(
            reason ->
                assertThat(reason.message())
                    .contains("too few distinct word pairs")
                    .contains(why)
                    .doesNotContain("short"));
  }

  /**
   * The fixtures' policy with {@code strict-short-ok}, which requires the watermark (BLOCK) but
   * releases texts too short to tell, and {@code echo-held}, which requires a valid manifest and
   * holds the echo backend's outputs.
   */
  private static final PolicyEngine PROVENANCE_RULES =
      PolicyEngine.of(
          PolicyLoader.parse(
              PolicyFixtures.POLICY
                  + "  strict-short-ok:\n"
                  + "    provenance:\n"
                  + "      watermarkNotDetected: BLOCK\n"
                  + "      watermarkTooShort: RELEASE\n"
                  + "  echo-held:\n"
                  + "    provenance: {manifestAbsent: REVIEW, manifestEchoed: REVIEW}\n"
                  + "  unrequired-short-held:\n"
                  + "    provenance:\n"
                  + "      watermarkNotDetected: RELEASE\n"
                  + "      watermarkTooShort: REVIEW\n",
              "provenance-rules.yaml"));

  /** A TOO_SHORT finding with a valid manifest, naming {@code backend}, repetitive or not. */
  private static ModerationFindings tooShort(String tenant, boolean repetitive) {
    ProvenanceFindings provenance =
        ProvenanceFindings.newBuilder()
            .setWatermark(WatermarkStatus.TOO_SHORT)
            .setTokensScored(18)
            .setManifest(ManifestStatus.VALID)
            .build();
    return ModerationFindings.builder(tenant)
        .scores(scores(0.01))
        .provenance(provenance)
        .watermarkReason(
            repetitive
                ? "18 distinct word pairs among 3,600 tokens: the text repeats the same few words, and"
                    + " a repeated word pair counts once"
                : "18 distinct word pairs among 19 tokens: the text is short")
        .backend("builtin")
        .watermarkRepetitive(repetitive)
        .build();
  }

  @Test
  void shouldNotReleaseALongTextThatRepeatsItselfAsTooShortWhereTheWatermarkIsRequired() {
    // README, "Reported by the fortieth session's reviews": watermarkTooShort: RELEASE with the
    // watermark required released an unwatermarked text of any length that repeats a few words.
    PolicyVerdict repeated = PROVENANCE_RULES.decide(tooShort("strict-short-ok", true));
    PolicyVerdict shortOne = PROVENANCE_RULES.decide(tooShort("strict-short-ok", false));

    assertThat(repeated.decision()).isEqualTo(Decision.REVIEW);
    assertThat(repeated.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.WATERMARK_REPETITIVE);
              assertThat(reason.message())
                  .contains("the text repeats a few words")
                  .contains("18 distinct word pairs among 3,600 tokens")
                  .contains("not released as one too short to tell");
            });
    assertThat(shortOne.decision())
        .as("a short text is still released as the policy says")
        .isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldNameALongRepetitiveTextApartAndFollowAStricterOrUnrequiredPolicy() {
    PolicyVerdict strict = PROVENANCE_RULES.decide(tooShort("strict", true));
    assertThat(strict.decision())
        .as("the default watermarkTooShort: REVIEW")
        .isEqualTo(Decision.REVIEW);
    assertThat(strict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.WATERMARK_REPETITIVE);
    assertThat(PROVENANCE_RULES.decide(tooShort("t1", true)).decision())
        .as("a policy that does not require the watermark releases it")
        .isEqualTo(Decision.RELEASE);
    PolicyVerdict blocked =
        PolicyEngine.of(
                PolicyLoader.parse(
                    PolicyFixtures.POLICY.replace(
                        "watermarkNotDetected: REVIEW",
                        "watermarkNotDetected: REVIEW\n      watermarkTooShort: BLOCK"),
                    "policy.yaml"))
            .decide(tooShort("strict", true));
    assertThat(blocked.decision()).isEqualTo(Decision.BLOCK);
  }

  @Test
  void shouldKeepTheTooShortReasonForARepetitiveTextWhereThePolicyDoesNotRequireTheWatermark() {
    // watermarkNotDetected: RELEASE with watermarkTooShort: REVIEW: the repetitive reason says
    // "this policy requires the watermark", and would change the reason of what such a policy
    // decided before (audit replay: DIFFERS).
    PolicyVerdict verdict = PROVENANCE_RULES.decide(tooShort("unrequired-short-held", true));

    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.WATERMARK_TOO_SHORT);
  }

  /** Findings with the given manifest status, of an output that names {@code backend}. */
  private static ModerationFindings ofBackend(
      String tenant, ManifestStatus manifest, String backend) {
    ProvenanceFindings provenance =
        ProvenanceFindings.newBuilder()
            .setWatermark(WatermarkStatus.NOT_DETECTED)
            .setZScore(0.4)
            .setPValue(0.34)
            .setTokensScored(120)
            .setManifest(manifest)
            .build();
    return ModerationFindings.builder(tenant)
        .scores(scores(0.01))
        .provenance(provenance)
        .backend(backend)
        .build();
  }

  @Test
  void shouldHoldAnEchoedOutputWithAValidManifestWhereThePolicySaysSoAndNameTheBackend() {
    PolicyVerdict echoed =
        PROVENANCE_RULES.decide(ofBackend("echo-held", ManifestStatus.VALID, "echo"));

    assertThat(echoed.decision()).isEqualTo(Decision.REVIEW);
    assertThat(echoed.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.MANIFEST_ECHOED);
              assertThat(reason.decision()).isEqualTo(Decision.REVIEW);
              assertThat(reason.message())
                  .contains("names the \"echo\" backend")
                  .contains("the request's prompt, signed as it came");
            });
    assertThat(PROVENANCE_RULES.decide(ofBackend("echo-held", ManifestStatus.VALID, "builtin")))
        .as("a generated output with a valid manifest")
        .extracting(PolicyVerdict::decision)
        .isEqualTo(Decision.RELEASE);
    assertThat(
            PROVENANCE_RULES
                .decide(ofBackend("echo-held", ManifestStatus.ABSENT, "echo"))
                .reasons())
        .as("without a valid manifest the backend's name is unsigned: the manifest rule decides")
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.MANIFEST_ABSENT);
    assertThat(PROVENANCE_RULES.decide(ofBackend("t1", ManifestStatus.VALID, "echo")).reasons())
        .as("left out, manifestEchoed is RELEASE and adds no reason: verdicts as before")
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.CLEAR);
  }

  @Test
  void shouldBlockUnsafeContentAimedAtAMentionedGroup() {
    BiasFindings bias =
        new BiasFindings(List.of("religion:muslim"), List.of("religion:muslim"), 0.1);
    ModerationFindings findings =
        ModerationFindings.builder("t1").scores(scores(0.0, Category.HATE, 0.6)).bias(bias).build();
    PolicyVerdict verdict = engine.decide(findings);
    assertThat(verdict.decision()).isEqualTo(Decision.BLOCK);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.CATEGORY_REVIEW, ReasonCodes.BIAS_TARGETED);
    assertThat(verdict.reasons().get(1).message()).contains("aimed at religion:muslim");
  }

  @Test
  void shouldNotCallItTargetedBiasWhenTheContentIsBelowTheMinimumScore() {
    BiasFindings bias =
        new BiasFindings(List.of("religion:muslim"), List.of("religion:muslim"), 0.1);
    ModerationFindings findings =
        ModerationFindings.builder("t1").scores(scores(0.0, Category.HATE, 0.3)).bias(bias).build();
    assertThat(engine.decide(findings).decision()).isEqualTo(Decision.RELEASE);
  }

  @Test
  void shouldReviewAStrongImplicitStereotypeEvenWhenNoCategoryIsHigh() {
    BiasFindings bias = new BiasFindings(List.of("gender:women"), List.of(), 0.85);
    ModerationFindings findings =
        ModerationFindings.builder("t1").scores(scores(0.1)).bias(bias).build();
    PolicyVerdict verdict = engine.decide(findings);
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.BIAS_STEREOTYPE);
  }

  @Test
  void shouldGiveTextProblemsTheirOwnReasons() {
    TextScreening.Result screened = new TextScreening(100).screen("word ".repeat(50));
    ModerationFindings findings =
        ModerationFindings.builder("t1").scores(scores(0.0)).screening(screened.findings()).build();
    PolicyVerdict verdict = engine.decide(findings);
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .contains(ReasonCodes.TEXT_TRUNCATED);
  }

  @Test
  void shouldReviewTextThatDisguisesItsWords() {
    TextScreening.Result screened = TextScreening.defaults().screen("a k\u0456nd w\u200Bord");
    PolicyVerdict verdict =
        engine.decide(
            ModerationFindings.builder("t1")
                .scores(scores(0.0))
                .screening(screened.findings())
                .build());
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .filteredOn(reason -> reason.code().equals(ReasonCodes.TEXT_OBFUSCATED))
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.decision()).isEqualTo(Decision.REVIEW);
              assertThat(reason.message()).contains("U+200B").contains("read as: kind, word");
            });
  }

  @Test
  void shouldReviewEmptyTextWithoutCallingItAScorerFailure() {
    TextScreening.Result screened = TextScreening.defaults().screen("   ");
    PolicyVerdict verdict =
        engine.decide(ModerationFindings.builder("t1").screening(screened.findings()).build());
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .extracting(VerdictReason::code)
        .containsExactly(ReasonCodes.TEXT_EMPTY);
  }

  @Test
  void shouldConvertReasonsToTheWireFormat() {
    PolicyVerdict verdict =
        engine.decide(ModerationFindings.scored("t1", scores(0.0, Category.SELF_HARM, 0.9)));
    var wire = verdict.avroReasons().get(0);
    assertThat(wire.getCode()).isEqualTo(ReasonCodes.CATEGORY_BLOCK);
    assertThat(wire.getDecision()).isEqualTo(Decision.BLOCK);
    assertThat(wire.getCategory()).isEqualTo("self_harm");
    assertThat(wire.getThreshold()).isEqualTo(0.85);
  }

  private static ModerationFindings withProvenance(
      String tenant, ManifestStatus manifest, WatermarkStatus watermark) {
    ProvenanceFindings provenance =
        ProvenanceFindings.newBuilder()
            .setWatermark(watermark)
            .setZScore(0.4)
            .setPValue(0.34)
            .setTokensScored(120)
            .setManifest(manifest)
            .build();
    return ModerationFindings.builder(tenant).scores(scores(0.01)).provenance(provenance).build();
  }

  @Test
  void shouldSendAThreatFoundByItsShapeToReviewWhateverTheScoresSay() {
    String text =
        "Thanks for dinner. If the package is late, I'm coming to the depot to shoot the driver.";
    List<RuleMatch> threats = ThreatPatterns.find(text);
    PolicyVerdict verdict = engine.decide(threatFindings("t1", threats));
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.THREAT_PATTERN);
              assertThat(reason.category()).isNull();
              assertThat(reason.score()).isNull();
              assertThat(reason.message())
                  .isEqualTo(
                      "a sentence states a threat of violence (threat pattern announced-violence"
                          + " on \"i am coming to the depot to shoot the driver\"): \"If the package"
                          + " is late, I'm coming to the depot to shoot the driver.\"");
            });
  }

  @Test
  void shouldCountTheOtherThreateningSentencesInOneReason() {
    List<RuleMatch> threats =
        ThreatPatterns.find("I will hurt you. You won't make it home alive. Watch the news.");
    assertThat(threats).hasSize(2);
    assertThat(engine.decide(threatFindings("t1", threats)).reasons())
        .singleElement()
        .satisfies(reason -> assertThat(reason.message()).endsWith(" (and 1 more sentence)"));
    List<RuleMatch> many = ThreatPatterns.find("I will hurt you. ".repeat(50));
    assertThat(engine.decide(threatFindings("t1", many)).reasons())
        .singleElement()
        .satisfies(
            reason -> assertThat(reason.message()).endsWith(" (and at least 19 more sentences)"));
  }

  @Test
  void shouldLetATenantBlockThreatsOrTurnTheRuleOff() {
    List<RuleMatch> threats = ThreatPatterns.find("I'll break both your legs.");
    assertThat(engine.decide(threatFindings("strict", threats)).decision())
        .isEqualTo(Decision.BLOCK);
    PolicyVerdict off = engine.decide(threatFindings("threats-off", threats));
    assertThat(off.decision()).isEqualTo(Decision.RELEASE);
    assertThat(off.reasons()).extracting(VerdictReason::code).containsExactly(ReasonCodes.CLEAR);
  }

  @Test
  void shouldNeverLetTheThreatRuleReleaseWhatTheScoresHold() {
    List<RuleMatch> threats = ThreatPatterns.find("I'll break both your legs.");
    ModerationFindings findings =
        ModerationFindings.builder("threats-off")
            .scores(scores(0.01, Category.VIOLENCE, 0.95))
            .rules(new RuleFindings(threats, List.of(), List.of(), List.of()))
            .build();
    assertThat(engine.decide(findings).decision()).isEqualTo(Decision.BLOCK);
  }

  @Test
  void shouldSendAChildDescribedInSexualTermsToReviewWhateverTheScoresSay() {
    List<RuleMatch> matches =
        MinorSexualization.find("Great pool party. She is such a sexy little girl.");
    PolicyVerdict verdict = engine.decide(minorFindings("t1", matches, 0.01));
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.MINOR_SEXUALIZED);
              assertThat(reason.category()).isNull();
              assertThat(reason.score()).isNull();
              assertThat(reason.message())
                  .isEqualTo(
                      "a sentence describes a minor in sexual terms (rule sexual-word-on-minor on"
                          + " \"sexy little girl\"): \"She is such a sexy little girl.\"");
            });
    List<RuleMatch> two = MinorSexualization.find("She's jailbait. The kids look so sexy.");
    assertThat(engine.decide(minorFindings("t1", two, 0.01)).reasons())
        .singleElement()
        .satisfies(reason -> assertThat(reason.message()).endsWith(" (and 1 more sentence)"));
  }

  @Test
  void shouldLetATenantBlockSexualizedMinorsOrTurnTheRuleOffButNeverReleaseWhatScoresHold() {
    List<RuleMatch> matches = MinorSexualization.find("What a sexy kid.");
    assertThat(engine.decide(minorFindings("minors-strict", matches, 0.01)).decision())
        .isEqualTo(Decision.BLOCK);
    PolicyVerdict off = engine.decide(minorFindings("minors-off", matches, 0.01));
    assertThat(off.decision()).isEqualTo(Decision.RELEASE);
    assertThat(off.reasons()).extracting(VerdictReason::code).containsExactly(ReasonCodes.CLEAR);
    assertThat(engine.decide(minorFindings("minors-off", matches, 0.95)).decision())
        .isEqualTo(Decision.BLOCK);
  }

  @Test
  void shouldSendAFramedPrejudiceToReviewWhereTheTenantTurnedTheRuleOn() {
    List<RuleMatch> matches =
        PrejudiceFrames.find("We met them once. No offense, but Mexicans are all lazy.");
    PolicyVerdict verdict = engine.decide(framedFindings("frames-on", matches));
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.PREJUDICE_FRAMED);
              assertThat(reason.message())
                  .isEqualTo(
                      "a sentence states a generalization about a group inside a frame that"
                          + " endorses it (frame concession on \"no offense but mexicans are\"):"
                          + " \"No offense, but Mexicans are all lazy.\"");
            });
    PolicyVerdict off = engine.decide(framedFindings("t1", matches));
    assertThat(off.decision()).isEqualTo(Decision.RELEASE);
    assertThat(off.reasons()).extracting(VerdictReason::code).containsExactly(ReasonCodes.CLEAR);
  }

  @Test
  void shouldSendSelfHarmFoundByItsShapeToReviewUnlessTheTenantTurnedTheRuleOff() {
    List<RuleMatch> matches =
        SelfHarmPatterns.find("Nice photos. Skip meals for three days and the dress will fit.");
    PolicyVerdict verdict = engine.decide(selfHarmFindings("t1", matches, 0.01));
    assertThat(verdict.decision()).isEqualTo(Decision.REVIEW);
    assertThat(verdict.reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.code()).isEqualTo(ReasonCodes.SELF_HARM_PATTERN);
              assertThat(reason.category()).isNull();
              assertThat(reason.score()).isNull();
              assertThat(reason.message())
                  .isEqualTo(
                      "a sentence urges, coaches, hides or announces self-harm, suicide or"
                          + " disordered eating (self-harm pattern eating-disorder-coaching on"
                          + " \"skip meals for three days\"): \"Skip meals for three days and the"
                          + " dress will fit.\"");
            });
    PolicyVerdict off = engine.decide(selfHarmFindings("self-harm-off", matches, 0.01));
    assertThat(off.decision()).isEqualTo(Decision.RELEASE);
    assertThat(off.reasons()).extracting(VerdictReason::code).containsExactly(ReasonCodes.CLEAR);
    // Off, the rule still releases nothing the self-harm score holds.
    assertThat(engine.decide(selfHarmFindings("self-harm-off", matches, 0.90)).decision())
        .isEqualTo(Decision.BLOCK);
  }

  private static ModerationFindings selfHarmFindings(
      String tenant, List<RuleMatch> matches, double selfHarm) {
    return ModerationFindings.builder(tenant)
        .scores(scores(0.01, Category.SELF_HARM, selfHarm))
        .rules(new RuleFindings(List.of(), List.of(), List.of(), matches))
        .build();
  }

  private static ModerationFindings framedFindings(String tenant, List<RuleMatch> matches) {
    return ModerationFindings.builder(tenant)
        .scores(scores(0.01, Category.HATE, 0.10))
        .rules(new RuleFindings(List.of(), List.of(), matches, List.of()))
        .build();
  }

  private static ModerationFindings minorFindings(
      String tenant, List<RuleMatch> matches, double sexualMinors) {
    return ModerationFindings.builder(tenant)
        .scores(scores(0.01, Category.SEXUAL_MINORS, sexualMinors))
        .rules(new RuleFindings(List.of(), matches, List.of(), List.of()))
        .build();
  }

  private static ModerationFindings threatFindings(String tenant, List<RuleMatch> threats) {
    return ModerationFindings.builder(tenant)
        .scores(scores(0.01, Category.VIOLENCE, 0.10))
        .rules(new RuleFindings(threats, List.of(), List.of(), List.of()))
        .build();
  }

  @Test
  void shouldWriteTheNumbersOfItsReasonsExactlyAsBefore() {
    // Reasons are built by concatenation, not String.format: these are the texts the formatter
    // wrote (Locale.ROOT, half-up rounding of the shortest decimal digits).
    PolicyVerdict clear =
        engine.decide(ModerationFindings.scored("t1", scores(0.0, Category.HATE, 0.1235)));
    assertThat(clear.reasons().get(0).message())
        .isEqualTo("every category is below its REVIEW threshold; closest: hate 0.124 < 0.50");
    PolicyVerdict review =
        engine.decide(ModerationFindings.scored("t1", scores(0.01, Category.ILLICIT, 0.5)));
    assertThat(review.reasons().get(0).message())
        .isEqualTo("illicit score 0.500 is at or above the REVIEW threshold 0.50 (BLOCK at 0.90)");
    ProvenanceFindings negative =
        ProvenanceFindings.newBuilder()
            .setWatermark(WatermarkStatus.NOT_DETECTED)
            .setZScore(-1.005)
            .setPValue(0.84)
            .setTokensScored(1234)
            .setManifest(ManifestStatus.VALID)
            .build();
    PolicyVerdict notDetected =
        engine.decide(
            ModerationFindings.builder("strict").scores(scores(0.01)).provenance(negative).build());
    assertThat(notDetected.reasons().get(0).message())
        .isEqualTo(
            "no generator watermark was detected (z = -1.01 over 1234 tokens); that means unknown"
                + " origin, not human-written, and this policy requires the watermark");
  }

  @Test
  void shouldWriteTheRuleAndBiasReasonsAsTheFormatterDid() {
    // Built by concatenation since the forty-eighth session; these are the templates the reasons
    // were formatted with (Locale.ROOT), on texts with quotes, percent signs and non-ASCII.
    for (int n = 1; n <= ThreatPatterns.MAX_MATCHES + 2; n++) {
      List<RuleMatch> matches = new java.util.ArrayList<>();
      for (int k = 0; k < n; k++) {
        matches.add(
            new RuleMatch("rule-" + k, "Say \"%d\" to M\u00FCller, 100% sure.", "say %s " + k));
      }
      String more =
          n == 1
              ? ""
              : String.format(
                  java.util.Locale.ROOT,
                  " (and %s%d more sentence%s)",
                  n >= ThreatPatterns.MAX_MATCHES ? "at least " : "",
                  n - 1,
                  n == 2 ? "" : "s");
      assertThat(engine.decide(threatFindings("t1", matches)).reasons())
          .singleElement()
          .extracting(VerdictReason::message)
          .isEqualTo(
              String.format(
                  java.util.Locale.ROOT,
                  "a sentence %s (%s %s on \"%s\"): \"%s\"%s",
                  "states a threat of violence",
                  "threat pattern",
                  "rule-0",
                  "say %s 0",
                  "Say \"%d\" to M\u00FCller, 100% sure.",
                  more));
    }
    List<String> groups = List.of("race_ethnicity:black", "religion:muslim");
    double[] hate = {0.6, 0.6125, 0.61249999, 0.7775, 0.9995, 0.99951, 1.0};
    double[] signal = {0.85, 0.8125, 0.87649999, 0.9995, 0.99951, 1.0, 0.9};
    for (int i = 0; i < hate.length; i++) {
      double score = hate[i];
      BiasFindings targeted = new BiasFindings(groups, groups, signal[i]);
      PolicyVerdict verdict =
          engine.decide(
              ModerationFindings.builder("t1")
                  .scores(scores(0.0, Category.HATE, score))
                  .bias(targeted)
                  .build());
      VerdictReason aimed = reason(verdict, ReasonCodes.BIAS_TARGETED);
      assertThat(aimed.message())
          .isEqualTo(
              String.format(
                  java.util.Locale.ROOT,
                  "%s content (score %.3f, targeted-bias threshold %.2f) is aimed at %s",
                  aimed.category(),
                  aimed.score(),
                  aimed.threshold(),
                  "race_ethnicity:black, religion:muslim"));
      VerdictReason stereotype = reason(verdict, ReasonCodes.BIAS_STEREOTYPE);
      assertThat(stereotype.message())
          .isEqualTo(
              String.format(
                  java.util.Locale.ROOT,
                  "implicit-stereotype signal %.3f is at or above %.2f for %s",
                  stereotype.score(),
                  stereotype.threshold(),
                  "race_ethnicity:black, religion:muslim"));
    }
  }

  private static VerdictReason reason(PolicyVerdict verdict, String code) {
    return verdict.reasons().stream()
        .filter(reason -> reason.code().equals(code))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + code + " reason in " + verdict.reasons()));
  }
}
